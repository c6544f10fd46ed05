// libFuzzer target for the checkpoint folder reader, through spattn_model_open:
// the input describes a folder, which is built in a scratch directory and
// opened (without and with a user config), then every component is looked up.
// It reaches model_index.json, component folders, symlinks (inside, escaping,
// looping, absolute, Hugging Face cache snapshots), FIFOs and odd names.
//
// Input: a text archive of entries, each starting with a line
//   "== file PATH", "== dir PATH", "== link PATH -> TARGET", "== fifo PATH"
// or "== open PATH" (the folder to open; default the root), a file's bytes
// following its line up to the next "\n== ". PATHs are relative; entries with
// an absolute path or a ".." element are dropped (the harness never writes
// outside its scratch root). In TARGET, "$OUTSIDE" names a sibling folder of
// the root that holds a complete, valid checkpoint with a marker coefficient.
//
// Properties beyond "no crash, no leak, no UB, no hang": a failure returns a
// documented status with a message and no model; success gives 1 to
// SPATTN_MAX_COMPONENTS named components, JSON, and lookups that fail only
// with a message; and when the opened folder lies inside the root, nothing
// of the outside checkpoint (its marker) ever shows up in the model.
#include <spattn/spattn.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kMarker = "outside_marker_q7z";

std::string g_base, g_root, g_outside;

void write_file(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  (void)std::remove(path);
  return 0;
}

void remove_tree(const std::string& path) { nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

// The scratch base once per process: base/outside, a valid checkpoint whose
// formula names the marker coefficient, and base/root, rebuilt per input.
void set_up() {
  if (!g_base.empty()) return;
  char tmpl[] = "/tmp/spattn_fuzz_folder_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  g_base = tmpl;
  g_root = g_base + "/root";
  g_outside = g_base + "/outside";
  mkdir(g_outside.c_str(), 0700);
  const std::string config = std::string(R"J({"sparse_attention_config": {"algorithm": "skip_softmax",
    "threshold_scale_factor": {"formula": "a * exp()J") + kMarker + R"J( * target_sparsity)",
    "coefficients": {"a": 1.0, ")J" + kMarker + R"J(": 2.0}}, "target_sparsity": 0.5}})J";
  write_file(g_outside + "/config.json", config);
  mkdir((g_outside + "/transformer").c_str(), 0700);
  write_file(g_outside + "/transformer/config.json", config);
  write_file(g_outside + "/model_index.json", R"({"_class_name": "X", "transformer": ["diffusers", "T"]})");
  std::atexit([] { remove_tree(g_base); });
}

// A relative path without "." or ".." elements, or "" when unusable.
std::string safe_relative(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) return "";
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view element = path.substr(start, end - start);
    if (element == ".." || element == ".") return "";
    start = end + 1;
  }
  return std::string(path);
}

// Creates the parent folders of `relative` below the root.
void make_parents(const std::string& relative) {
  for (size_t slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', slash + 1)) {
    mkdir((g_root + "/" + relative.substr(0, slash)).c_str(), 0700);
  }
}

std::string replace_outside(std::string target) {
  const std::string key = "$OUTSIDE";
  for (size_t at = target.find(key); at != std::string::npos; at = target.find(key, at + g_outside.size()))
    target.replace(at, key.size(), g_outside);
  return target;
}

// Builds the folder; returns the path to open.
std::string build(std::string_view input) {
  remove_tree(g_root);
  mkdir(g_root.c_str(), 0700);
  std::string open = g_root;
  std::string_view rest = input;
  if (rest.substr(0, 3) == "== ") rest.remove_prefix(3);
  else return open;  // no entry: an empty folder
  while (!rest.empty()) {
    const size_t next = rest.find("\n== ");
    std::string_view entry = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 4);
    const size_t eol = entry.find('\n');
    const std::string_view header = entry.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? std::string_view() : entry.substr(eol + 1);
    const size_t space = header.find(' ');
    if (space == std::string_view::npos) continue;
    const std::string_view kind = header.substr(0, space);
    std::string_view arg = header.substr(space + 1);
    if (kind == "link") {
      const size_t arrow = arg.find(" -> ");
      if (arrow == std::string_view::npos) continue;
      const std::string path = safe_relative(arg.substr(0, arrow));
      if (path.empty()) continue;
      make_parents(path);
      (void)symlink(replace_outside(std::string(arg.substr(arrow + 4))).c_str(), (g_root + "/" + path).c_str());
      continue;
    }
    const std::string path = safe_relative(arg);
    if (path.empty()) continue;
    if (kind == "open") {
      open = g_root + "/" + path;
      continue;
    }
    make_parents(path);
    const std::string full = g_root + "/" + path;
    if (kind == "file") write_file(full, body);
    if (kind == "dir") mkdir(full.c_str(), 0700);
    if (kind == "fifo") mkfifo(full.c_str(), 0600);
  }
  return open;
}

bool inside_root(const std::string& path) {
  char resolved[PATH_MAX], root[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr || realpath(g_root.c_str(), root) == nullptr) return false;
  const size_t n = std::strlen(root);
  return std::strncmp(resolved, root, n) == 0 && (resolved[n] == '\0' || resolved[n] == '/');
}

bool documented_open_error(spattn_status s) {
  switch (s) {
    case SPATTN_ERR_IO: case SPATTN_ERR_NOT_FOUND: case SPATTN_ERR_SYNTAX: case SPATTN_ERR_TYPE:
    case SPATTN_ERR_UNKNOWN_KEY: case SPATTN_ERR_OUT_OF_RANGE: case SPATTN_ERR_DUPLICATE_KEY:
    case SPATTN_ERR_LIMIT: case SPATTN_ERR_FORMULA: case SPATTN_ERR_CHECKPOINT: case SPATTN_ERR_UNSAFE_PATH:
    case SPATTN_ERR_CALIBRATION_MISSING: case SPATTN_ERR_MISSING_KEY:
      return true;
    default:
      return false;
  }
}

void open_and_check(const std::string& folder, const spattn_config* user, bool check_marker) {
  spattn_model* model = reinterpret_cast<spattn_model*>(0x1);
  const spattn_status status = spattn_model_open(folder.c_str(), user, &model);
  if (status != SPATTN_OK) {
    if (model != nullptr || spattn_last_error()[0] == '\0' || !documented_open_error(status)) {
      std::fprintf(stderr, "spattn_model_open: status %d, model %p, message \"%s\"\n", int(status),
                   static_cast<void*>(model), spattn_last_error());
      std::abort();
    }
    return;
  }
  const size_t count = spattn_model_component_count(model);
  if (model == nullptr || count == 0 || count > SPATTN_MAX_COMPONENTS) std::abort();
  char* json = nullptr;
  if (spattn_model_to_json(model, &json) != SPATTN_OK || json == nullptr) std::abort();
  if (check_marker && std::strstr(json, kMarker) != nullptr) {
    std::fprintf(stderr, "the model's JSON holds the outside file's marker: read outside the checkpoint\n");
    std::abort();
  }
  spattn_free(json);
  for (size_t i = 0; i < count; ++i) {
    const char* name = spattn_model_component_name(model, i);
    if (name == nullptr) std::abort();
    for (size_t p = 0; p < spattn_model_ignore_count(model, i); ++p)
      if (spattn_model_ignore_pattern(model, i, p) == nullptr) std::abort();
    for (const char* layer : {"blocks.0.attn1", "model.layers.3.self_attn"}) {
      for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
        spattn_layer_params params{};
        params.struct_size = sizeof params;
        const spattn_status s = spattn_model_lookup(model, name, layer, phase, 0.5, &params);
        if (s != SPATTN_OK && (s == SPATTN_ERR_INTERNAL || spattn_last_error()[0] == '\0')) std::abort();
      }
    }
  }
  spattn_model_destroy(model);
}

spattn_config* user_config() {
  static spattn_config* config = [] {
    const char text[] = "algorithm: skip_softmax\ntarget_sparsity: 0.7\n";
    spattn_config* c = nullptr;
    if (spattn_config_parse(text, sizeof text - 1, SPATTN_FORMAT_YAML, &c) != SPATTN_OK) std::abort();
    return c;
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  set_up();
  const std::string folder = build(std::string_view(reinterpret_cast<const char*>(data), size));
  // The marker proves a read outside only when the input does not spell it itself.
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool check_marker = inside_root(folder) && input.find(kMarker) == std::string_view::npos;
  open_and_check(folder, nullptr, check_marker);
  open_and_check(folder, user_config(), check_marker);
  return 0;
}
