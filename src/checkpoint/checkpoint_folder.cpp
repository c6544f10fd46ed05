#include "checkpoint/checkpoint_folder.hpp"

#include <spattn/spattn.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>
#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"
#include "value/document.hpp"

namespace spattn {
namespace {

// realpath(3), or nothing when some element of the path does not exist.
std::optional<std::string> real_path(const std::string& path, const std::string& shown) {
  std::unique_ptr<char, decltype(&std::free)> resolved(realpath(path.c_str(), nullptr), &std::free);
  if (resolved) return std::string(resolved.get());
  if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
  fail(SPATTN_ERR_IO, shown + ": cannot resolve path: " + std::strerror(errno));
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// An open file descriptor, closed with its owner.
class OpenFd {
 public:
  explicit OpenFd(int fd) : fd_(fd) {}
  ~OpenFd() {
    if (fd_ >= 0) close(fd_);
  }
  OpenFd(const OpenFd&) = delete;
  OpenFd& operator=(const OpenFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Whether `path` is `base` or below it.
bool is_inside(const std::string& path, const std::string& base) {
  if (base == "/") return true;
  return path == base || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
                          path[base.size()] == '/');
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The checkpoint folder as a confined root: every path below is resolved
// (symlinks followed) and must stay inside it; files are then read through
// the folder's open descriptor along the resolved path (read_below). A
// Hugging Face cache snapshot, `<repo>/snapshots/<revision>`, has a second
// root: its files are symlinks to `<repo>/blobs/<hash>`.
class Folder {
 public:
  explicit Folder(const std::string& directory)
      : shown_(without_trailing_slashes(directory)), root_(resolve_root(shown_)), root_fd_(open_root(root_, shown_)),
        blobs_(snapshot_blobs(root_)), blobs_fd_(blobs_.empty() ? -1 : open_root(blobs_, shown_)) {}

  // How `relative` is named in messages.
  std::string shown(const std::string& relative) const { return shown_ + "/" + relative; }

  // The resolved path of `relative`, nothing when it does not exist;
  // SPATTN_ERR_UNSAFE_PATH when it resolves outside the folder.
  std::optional<std::string> resolve(const std::string& relative) const {
    std::optional<std::string> resolved = real_path(root_ + "/" + relative, shown(relative));
    if (resolved && !is_inside(*resolved, root_) && !(blobs_fd_.get() >= 0 && is_inside(*resolved, blobs_))) {
      fail(SPATTN_ERR_UNSAFE_PATH, shown(relative) + ": resolves to '" + *resolved +
                                       "', outside the checkpoint folder '" + root_ + "'" +
                                       (blobs_.empty() ? "" : " and its snapshot's blobs '" + blobs_ + "'"));
    }
    return resolved;
  }

  // A JSON mapping read from the resolved path `resolved` of `relative`.
  Value read_json(const std::string& relative, const std::string& resolved) const {
    const bool in_root = is_inside(resolved, root_);
    const std::string& base = in_root ? root_ : blobs_;
    if (resolved == base) {  // e.g. transformer/config.json -> ..
      fail(SPATTN_ERR_IO, shown(relative) + ": resolves to the folder '" + resolved + "', not a JSON file");
    }
    const std::string below = base == "/" ? resolved.substr(1) : resolved.substr(base.size() + 1);
    std::string text = read_below((in_root ? root_fd_ : blobs_fd_).get(), below, shown(relative),
                                  SPATTN_MAX_CHECKPOINT_FILE_BYTES);
    Value value = parse_json(text, shown(relative), SPATTN_MAX_CHECKPOINT_FILE_BYTES);
    if (!value.is_object()) {
      fail(SPATTN_ERR_TYPE, shown(relative) + ": expected a JSON object at the top level, got " +
                                kind_description(value.kind));
    }
    return value;
  }

  const std::string& shown_root() const { return shown_; }

 private:
  // `<repo>/blobs` when `root` is `<repo>/snapshots/<revision>` and that
  // folder exists and is no symlink; else "".
  static std::string snapshot_blobs(const std::string& root) {
    const std::string snapshots = parent_of(root);
    if (base_name(snapshots) != "snapshots") return "";
    const std::string blobs = parent_of(snapshots) + "/blobs";
    std::optional<std::string> resolved = real_path(blobs, blobs);
    return resolved && *resolved == blobs && is_directory(blobs) ? blobs : "";
  }

  static std::string resolve_root(const std::string& shown) {
    std::optional<std::string> root = real_path(shown, shown);
    if (!root) fail(SPATTN_ERR_NOT_FOUND, shown + ": checkpoint folder does not exist");
    if (!is_directory(*root)) fail(SPATTN_ERR_IO, shown + ": checkpoint path is not a folder");
    return *root;
  }
  static int open_root(const std::string& root, const std::string& shown) {
    const int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail(SPATTN_ERR_IO, shown + ": cannot open the checkpoint folder: " + std::strerror(errno));
    return fd;
  }

  std::string shown_;
  std::string root_;
  OpenFd root_fd_;
  std::string blobs_;
  OpenFd blobs_fd_;
};

// A model_index.json entry naming a component: a list with something other
// than nulls in it (["diffusers", "WanTransformer3DModel"], not [null, null]).
bool names_component(const std::string& key, const Value& value) {
  if ((!key.empty() && key[0] == '_') || value.kind != Value::Kind::Array) return false;
  for (const Value& item : value.items) {
    if (item.kind != Value::Kind::Null) return true;
  }
  return false;
}

bool has_sparse_config(const Value& config) {
  const Value* sparse = config.find("sparse_attention_config");
  return sparse != nullptr && sparse->kind != Value::Kind::Null;
}

// A denoiser: its config.json must be there and is read strictly.
ComponentDocument read_denoiser(const Folder& folder, const std::string& name) {
  const std::string relative = name + "/config.json";
  std::optional<std::string> directory = folder.resolve(name);
  std::optional<std::string> config = directory && is_directory(*directory) ? folder.resolve(relative) : std::nullopt;
  if (!config) {
    fail(SPATTN_ERR_CHECKPOINT, folder.shown("model_index.json") + ": lists the denoiser '" + name + "', but " +
                                    folder.shown(relative) + " does not exist");
  }
  return ComponentDocument{name, folder.shown(relative), true, folder.read_json(relative, *config)};
}

// Another component: a target when its config.json carries a
// sparse_attention_config. A config.json that cannot be read makes it a
// dense component, logged; a path escaping the folder is still refused.
ComponentDocument read_other(const Folder& folder, const std::string& name) {
  const std::string relative = name + "/config.json";
  try {
    std::optional<std::string> directory = folder.resolve(name);
    std::optional<std::string> config = directory && is_directory(*directory) ? folder.resolve(relative) : std::nullopt;
    if (!config) return ComponentDocument{name, "", false, Value()};
    Value value = folder.read_json(relative, *config);
    if (!has_sparse_config(value)) return ComponentDocument{name, folder.shown(relative), false, Value()};
    return ComponentDocument{name, folder.shown(relative), true, std::move(value)};
  } catch (const Error& e) {
    if (e.status() == SPATTN_ERR_UNSAFE_PATH) throw;
    log(SPATTN_LOG_WARNING, std::string(e.what()) + " (component '" + name +
                                "' is not a denoiser: listed as dense, not read)");
    return ComponentDocument{name, "", false, Value()};
  }
}

std::vector<ComponentDocument> read_diffusers(const Folder& folder, const std::string& index_path) {
  Value index = folder.read_json("model_index.json", index_path);
  std::vector<ComponentDocument> components;
  for (const auto& member : index.members) {
    const std::string& name = member.first;
    if (!names_component(name, member.second)) continue;
    if (!is_safe_component_name(name)) {
      fail(SPATTN_ERR_UNSAFE_PATH, folder.shown("model_index.json") + ": component name '" + name +
                                       "' is not a single folder name (letters, digits, '_', '.', '-'; "
                                       "not '.' or '..')");
    }
    if (components.size() >= SPATTN_MAX_COMPONENTS) {
      fail(SPATTN_ERR_LIMIT, folder.shown("model_index.json") + ": more than " +
                                 std::to_string(SPATTN_MAX_COMPONENTS) + " components (SPATTN_MAX_COMPONENTS)");
    }
    if (is_known_non_target(name)) {
      components.push_back(ComponentDocument{name, "", false, Value()});
    } else if (is_denoiser_name(name)) {
      components.push_back(read_denoiser(folder, name));
    } else {
      components.push_back(read_other(folder, name));
    }
  }
  if (components.empty()) {
    fail(SPATTN_ERR_CHECKPOINT, folder.shown("model_index.json") + ": names no component");
  }
  return components;
}

}  // namespace

std::string read_below(int folder_fd, const std::string& relative, const std::string& shown, size_t max_bytes) {
  // Each element is opened relative to the one before it with O_NOFOLLOW:
  // a symlink anywhere along the way fails (ELOOP; ENOTDIR for one that
  // names a folder), and O_NONBLOCK keeps a FIFO from blocking the open.
  std::vector<std::string> elements;
  size_t start = 0;
  while (start <= relative.size()) {
    const size_t slash = std::min(relative.find('/', start), relative.size());
    elements.push_back(relative.substr(start, slash - start));
    start = slash + 1;
  }
  int dir = folder_fd;
  std::optional<OpenFd> held;  // the folder opened last (the caller's is not closed here)
  for (size_t i = 0; i < elements.size(); ++i) {
    const std::string& element = elements[i];
    if (element.empty() || element == "." || element == "..") {
      fail(SPATTN_ERR_UNSAFE_PATH, shown + ": path element '" + element + "' of '" + relative +
                                       "' is not a plain name");
    }
    const bool last = i + 1 == elements.size();
    const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
    const int fd = openat(dir, element.c_str(), flags);
    if (fd < 0) {
      const int error = errno;
      struct stat info {};
      const bool is_link = fstatat(dir, element.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode);
      if (is_link) {
        fail(SPATTN_ERR_UNSAFE_PATH, shown + ": '" + element + "' became a symlink after the path was "
                                             "checked; not followed");
      }
      fail(SPATTN_ERR_IO, shown + ": cannot open '" + element + "': " + std::strerror(error));
    }
    held.emplace(fd);
    dir = fd;
  }
  return read_open_file(dir, shown, max_bytes);
}

bool is_denoiser_name(const std::string& name) {
  if (name == "transformer" || name == "unet") return true;
  const std::string prefix = "transformer_";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(name.begin() + long(prefix.size()), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_known_non_target(const std::string& name) {
  static const char* const kPrefixes[] = {"text_encoder",    "vae",          "tokenizer",
                                          "scheduler",       "image_encoder", "image_processor",
                                          "feature_extractor", "safety_checker"};
  for (const char* prefix : kPrefixes) {
    if (name.compare(0, std::strlen(prefix), prefix) == 0) return true;
  }
  return false;
}

bool is_safe_component_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<ComponentDocument> read_checkpoint_folder(const std::string& directory) {
  Folder folder(directory);
  if (std::optional<std::string> index = folder.resolve("model_index.json")) {
    return read_diffusers(folder, *index);
  }
  if (std::optional<std::string> config = folder.resolve("config.json")) {
    std::vector<ComponentDocument> components;
    components.push_back(ComponentDocument{"", folder.shown("config.json"), true, folder.read_json("config.json", *config)});
    return components;
  }
  fail(SPATTN_ERR_NOT_FOUND, folder.shown_root() +
                                 ": checkpoint folder has neither model_index.json nor config.json");
}

}  // namespace spattn
