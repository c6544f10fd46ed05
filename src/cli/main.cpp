// The spattn command-line tool, built on the public C API (and the one
// table of enum names the library's JSON uses, src/core/enum_names).
//   spattn inspect CHECKPOINT [--config FILE|-] [--phase prefill|decode]
//                  [--timestep T] [--json] [LAYER ...]
//   spattn validate CONFIG|-
//   spattn version | --version
#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "core/enum_names.hpp"

namespace {

const char* const kUsage =
    "usage: spattn inspect CHECKPOINT [--config FILE|-] [--phase prefill|decode]\n"
    "                      [--timestep T] [--json] [LAYER ...]\n"
    "       spattn validate CONFIG|-\n"
    "       spattn version | --version\n"
    "       spattn --help\n";

const char* const kHelp =
    "\n"
    "spattn inspect prints how a checkpoint's sparse-attention calibration and a\n"
    "user config resolve, per component, layer and phase.\n"
    "\n"
    "  CHECKPOINT       a folder with config.json, or a diffusers folder with\n"
    "                   model_index.json and <component>/config.json (a Hugging\n"
    "                   Face cache snapshot works too)\n"
    "  --config FILE    user config (YAML or JSON; `-` reads it from stdin).\n"
    "                   Without it: the checkpoint's own calibration, applied as\n"
    "                   TensorRT-LLM applies an empty skip_softmax config\n"
    "  --phase P        only `prefill` or only `decode` (default: both for an LLM,\n"
    "                   prefill for a diffusers checkpoint, which has no decode)\n"
    "  --timestep T     normalized denoising timestep in [0, 1] (1 = start);\n"
    "                   default: none, the disabled_until_timestep cutoff is not applied\n"
    "  --json           print spattn_model_to_json, the CUDA-graph phase keys and\n"
    "                   the rows as one JSON object\n"
    "  LAYER            module names to resolve. `component:layer` picks one\n"
    "                   component (`transformer:blocks.0.attn1`); a full name\n"
    "                   `transformer.blocks.0.attn1` goes to the component it\n"
    "                   starts with; any other name is resolved in every component.\n"
    "Options take their value as `--opt VALUE` or `--opt=VALUE`.\n"
    "\n"
    "Without LAYERs, each component gets one row for its ordinary layers (`*`)\n"
    "and one row per checkpoint ignore pattern. Words in the table and the JSON\n"
    "are the lowercase suffixes of the C constants (SPATTN_DISABLED_IGNORED:\n"
    "ignored). THRESHOLD and SOURCE show `-` where skip-softmax is off.\n"
    "\n"
    "spattn validate parses a user config and prints its canonical JSON, or the\n"
    "error.\n"
    "\n"
    "Exit status: 0 success; 1 a library error (`spattn: STATUS: message`), also\n"
    "when a row of the table shows an error; 2 bad usage.\n";

struct Options {
  const char* checkpoint = nullptr;
  const char* config = nullptr;
  bool phase_given = false;
  spattn_phase phase = SPATTN_PHASE_PREFILL;
  double timestep = SPATTN_NO_TIMESTEP;
  bool json = false;
  std::vector<std::string> layers;
};

struct Row {
  std::string component;
  std::string layer;
  spattn_phase phase = SPATTN_PHASE_PREFILL;
  spattn_status status = SPATTN_OK;
  std::string error;
  spattn_layer_params params{};
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "spattn: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int library_error(spattn_status status) {
  std::fprintf(stderr, "spattn: %s: %s\n", spattn_status_string(status), spattn_last_error());
  return 1;
}

// A name from the shared table; "?" for a value outside its enum.
std::string name_of(const char* name) { return name != nullptr ? name : "?"; }

// Parses the config at `path`, `-` being stdin.
spattn_status parse_config(const char* path, spattn_config** config) {
  if (std::strcmp(path, "-") != 0) return spattn_config_parse_file(path, SPATTN_FORMAT_AUTO, config);
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return spattn_config_parse(text.data(), text.size(), SPATTN_FORMAT_AUTO, config);
}

// Splits `--opt=value`; `value` is the next argument otherwise.
struct Argument {
  std::string name;
  const char* inline_value = nullptr;
};

Argument split(const char* arg) {
  const char* equals = std::strchr(arg, '=');
  if (std::strncmp(arg, "--", 2) != 0 || equals == nullptr) return Argument{arg, nullptr};
  return Argument{std::string(arg, size_t(equals - arg)), equals + 1};
}

int parse_timestep(const char* text, Options& options) {
  char* end = nullptr;
  double t = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(t >= 0.0 && t <= 1.0)) {
    return usage_error(std::string("--timestep: '") + text +
                       "' is not a number in [0, 1] (leave --timestep out for no timestep)");
  }
  options.timestep = t;
  return 0;
}

// Parses the arguments after `inspect`; returns 0 or the exit status of a usage error.
int parse_options(int argc, char** argv, Options& options) {
  for (int i = 0; i < argc; ++i) {
    Argument arg = split(argv[i]);
    auto value = [&]() -> const char* {
      if (arg.inline_value != nullptr) return arg.inline_value;
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg.name == "--config") {
      if (!(options.config = value())) return usage_error("--config needs a FILE (or - for stdin)");
    } else if (arg.name == "--phase") {
      const char* phase = value();
      if (phase == nullptr) return usage_error("--phase needs prefill or decode");
      if (std::strcmp(phase, "prefill") == 0) options.phase = SPATTN_PHASE_PREFILL;
      else if (std::strcmp(phase, "decode") == 0) options.phase = SPATTN_PHASE_DECODE;
      else return usage_error(std::string("--phase: '") + phase + "' is not prefill or decode");
      options.phase_given = true;
    } else if (arg.name == "--timestep") {
      const char* text = value();
      if (text == nullptr) return usage_error("--timestep needs a number T in [0, 1]");
      if (int usage = parse_timestep(text, options)) return usage;
    } else if (arg.name == "--json" && arg.inline_value == nullptr) {
      options.json = true;
    } else if (arg.name.size() > 1 && arg.name[0] == '-') {
      return usage_error("unknown option '" + std::string(argv[i]) + "'");
    } else if (options.checkpoint == nullptr) {
      options.checkpoint = argv[i];
    } else {
      options.layers.push_back(argv[i]);
    }
  }
  if (options.checkpoint == nullptr) return usage_error("inspect needs a CHECKPOINT folder");
  return 0;
}

std::vector<std::string> component_names(const spattn_model* model) {
  std::vector<std::string> names;
  for (size_t i = 0; i < spattn_model_component_count(model); ++i) names.push_back(spattn_model_component_name(model, i));
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The phases to show: the one asked for; else both for an LLM, prefill for
// a diffusers checkpoint (its components are named; it has no decode).
std::vector<spattn_phase> phases_to_show(const Options& options, const std::vector<std::string>& components) {
  if (options.phase_given) return {options.phase};
  if (components.size() == 1 && components[0].empty()) return {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE};
  return {SPATTN_PHASE_PREFILL};
}

// Fills `row` by one lookup; false (with the status printed) on a fatal error.
bool look_up(const spattn_model* model, const Options& options, Row& row) {
  row.params = spattn_layer_params{};
  row.params.struct_size = sizeof(spattn_layer_params);
  row.status = spattn_model_lookup(model, row.component.c_str(), row.layer.c_str(), row.phase, options.timestep,
                                   &row.params);
  if (row.status == SPATTN_ERR_CALIBRATION_MISSING) {
    row.error = spattn_last_error();  // a property of that component: shown, not fatal
    return true;
  }
  if (row.status != SPATTN_OK) {
    library_error(row.status);
    return false;
  }
  return true;
}

// Rows for `layer` as given on the command line.
std::vector<Row> rows_for_argument(const std::vector<std::string>& components, const std::string& argument) {
  std::vector<Row> rows;
  auto row = [](const std::string& component, const std::string& layer) {
    Row r;
    r.component = component;
    r.layer = layer;
    return r;
  };
  size_t colon = argument.find(':');
  if (colon != std::string::npos && (contains(components, argument.substr(0, colon)) || argument.find('.') > colon)) {
    rows.push_back(row(argument.substr(0, colon), argument.substr(colon + 1)));  // an unknown one: the lookup says so
    return rows;
  }
  std::string owner;
  for (const auto& name : components) {
    if (!name.empty() && argument.compare(0, name.size() + 1, name + ".") == 0 && name.size() > owner.size()) owner = name;
  }
  for (const auto& name : components) {
    if (owner.empty() || name == owner) rows.push_back(row(name, argument));
  }
  return rows;
}

// What every layer an ignore pattern matches gets (a pattern with a set,
// `blocks.[01].attn1`, does not match its own text, so it is not looked up
// as a name): no sparsity of any kind.
void as_ignored(spattn_layer_params& p) {
  if (p.algorithm != SPATTN_ALGORITHM_SKIP_SOFTMAX && p.algorithm != SPATTN_ALGORITHM_VSA) return;
  p.enabled = 0;
  p.disabled_reason = SPATTN_DISABLED_IGNORED;
  p.phase_key = SPATTN_PHASE_KEY_DENSE;
  p.threshold_scale_factor = 0.0;
  p.sparsity_n = p.sparsity_m = p.num_sink_tokens = p.dense_window_size = 0;
  p.vsa_sparsity = 0.0;
  p.vsa_cube_shape[0] = p.vsa_cube_shape[1] = p.vsa_cube_shape[2] = 0;
}

// The rows to print: the given layers, or `*` plus the ignore patterns.
bool build_rows(const spattn_model* model, const Options& options, const std::vector<spattn_phase>& phases,
                std::vector<Row>& rows) {
  std::vector<std::string> components = component_names(model);
  std::vector<Row> targets;
  std::vector<bool> pattern_rows;
  if (!options.layers.empty()) {
    for (const auto& layer : options.layers) {
      for (Row& row : rows_for_argument(components, layer)) {
        targets.push_back(row);
        pattern_rows.push_back(false);
      }
    }
  } else {
    for (size_t c = 0; c < components.size(); ++c) {
      // "" stands for an ordinary layer: only a pattern matching every name
      // (such as `*`) matches it, and then every layer is ignored indeed.
      Row ordinary;
      ordinary.component = components[c];
      targets.push_back(ordinary);
      pattern_rows.push_back(false);
      for (size_t p = 0; p < spattn_model_ignore_count(model, c); ++p) {
        Row pattern = ordinary;
        pattern.layer = spattn_model_ignore_pattern(model, c, p);
        targets.push_back(pattern);
        pattern_rows.push_back(true);
      }
    }
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    for (spattn_phase phase : phases) {
      Row row = targets[t];
      row.phase = phase;
      if (!look_up(model, options, row)) return false;
      if (pattern_rows[t] && row.status == SPATTN_OK) as_ignored(row.params);
      rows.push_back(row);
    }
  }
  return true;
}

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

std::string with_source(double value, spattn_source source) {
  if (std::isnan(value)) return "-";
  return number(value) + " (" + name_of(spattn::source_name(source)) + ")";
}

// Skip-softmax's own columns apply to skip_softmax; VSA is on or off; the
// other algorithms run outside spattn's kernels.
bool has_enabled_column(const spattn_layer_params& p) {
  return p.algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX || p.algorithm == SPATTN_ALGORITHM_VSA ||
         p.algorithm == SPATTN_ALGORITHM_NONE;
}

std::string enabled_text(const spattn_layer_params& p) {
  if (!has_enabled_column(p)) return "-";
  if (p.enabled) return "yes";
  return "no (" + name_of(spattn::disabled_reason_name(p.disabled_reason)) + ")";
}

std::string detail_text(const spattn_layer_params& p) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (p.algorithm == SPATTN_ALGORITHM_VSA && p.enabled) {
    add("vsa_sparsity " + number(p.vsa_sparsity) + ", cube " + std::to_string(p.vsa_cube_shape[0]) + "x" +
        std::to_string(p.vsa_cube_shape[1]) + "x" + std::to_string(p.vsa_cube_shape[2]));
  }
  if (p.sparsity_m != 0) {
    add("n:m " + std::to_string(p.sparsity_n) + ":" + std::to_string(p.sparsity_m) + ", sinks " +
        std::to_string(p.num_sink_tokens) + ", window " + std::to_string(p.dense_window_size));
  }
  if (p.quantize_p) add("quantize_p");
  return out.empty() ? "-" : out;
}

std::vector<std::string> cells(const Row& row) {
  const spattn_layer_params& p = row.params;
  std::string component = row.component.empty() ? "-" : row.component;
  std::string layer = row.layer.empty() ? "*" : row.layer;
  std::string phase = name_of(spattn::phase_name(row.phase));
  if (row.status != SPATTN_OK) return {component, layer, phase, "-", "error", "-", "-", "-", "-", "-", "-"};
  // A threshold is shown where skip-softmax runs with it, or where it is 0.
  const bool threshold_shown = p.enabled || p.disabled_reason == SPATTN_DISABLED_ZERO_THRESHOLD;
  const bool skip_softmax = p.algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX;
  return {component,
          layer,
          phase,
          name_of(spattn::algorithm_name(p.algorithm)),
          enabled_text(p),
          skip_softmax && threshold_shown ? number(p.threshold_scale_factor) : "-",
          skip_softmax && threshold_shown ? name_of(spattn::source_name(p.threshold_source)) : "-",
          with_source(p.target_sparsity, p.target_source),
          with_source(p.disabled_until_timestep, p.timestep_source),
          name_of(spattn::phase_key_name(p.phase_key)),
          detail_text(p)};
}

// The user algorithm's own parameters, for algorithms whose layers the
// table cannot describe (rocket, dsa run outside spattn's kernels).
std::string parameters_text(const spattn_config* config) {
  char buffer[512];
  switch (spattn_config_algorithm(config)) {
    case SPATTN_ALGORITHM_ROCKET: {
      spattn_rocket_config r{};
      r.struct_size = sizeof r;
      if (spattn_config_rocket(config, &r) != SPATTN_OK) return "";
      std::snprintf(buffer, sizeof buffer,
                    "window_size %d, kernel_size %d, topr %g, topk %d, prompt_budget %d, page_size %d, "
                    "kt_cache_dtype %s%s",
                    r.window_size, r.kernel_size, r.topr, r.topk, r.prompt_budget, r.page_size,
                    name_of(spattn::kt_cache_dtype_name(r.kt_cache_dtype)).c_str(),
                    r.has_seq_len_threshold ? (", seq_len_threshold " + std::to_string(r.seq_len_threshold)).c_str() : "");
      return buffer;
    }
    case SPATTN_ALGORITHM_DSA: {
      spattn_dsa_config d{};
      d.struct_size = sizeof d;
      if (spattn_config_dsa(config, &d) != SPATTN_OK) return "";
      auto optional = [](int32_t v) { return v == 0 ? std::string("unset") : std::to_string(v); };
      std::snprintf(buffer, sizeof buffer,
                    "index_n_heads %s, index_head_dim %s, index_topk %s, indexer_max_chunk_size %s, "
                    "skip_indexer_for_short_seqs %d, enable_heuristic_topk %d, indexer_k_dtype %s, "
                    "q_split_threshold %d, seq_len_threshold %s",
                    optional(d.index_n_heads).c_str(), optional(d.index_head_dim).c_str(),
                    optional(d.index_topk).c_str(), optional(d.indexer_max_chunk_size).c_str(),
                    d.skip_indexer_for_short_seqs, d.enable_heuristic_topk,
                    name_of(spattn::indexer_k_dtype_name(d.indexer_k_dtype)).c_str(), d.q_split_threshold,
                    optional(d.seq_len_threshold).c_str());
      return buffer;
    }
    default: return "";
  }
}

std::string json_string(const std::string& text);

struct Report {
  const spattn_model* model;
  const spattn_config* config;
  std::vector<spattn_phase> phases;
  std::vector<Row> rows;
};

// Whether a component is a sparse-attention target (the others are always
// dense, SPATTN_DISABLED_NOT_TARGET).
bool is_target(const spattn_model* model, const std::string& component) {
  spattn_layer_params p{};
  p.struct_size = sizeof p;
  spattn_status status = spattn_model_lookup(model, component.c_str(), "", SPATTN_PHASE_PREFILL, SPATTN_NO_TIMESTEP, &p);
  return status != SPATTN_OK || p.disabled_reason != SPATTN_DISABLED_NOT_TARGET;
}

// CUDA-graph phase keys of the whole target components at the timestep.
std::vector<std::string> graph_keys(const Options& options, const Report& report, bool json) {
  std::vector<std::string> keys;
  for (const std::string& component : component_names(report.model)) {
    if (!is_target(report.model, component)) continue;
    for (spattn_phase phase : report.phases) {
      spattn_phase_key key = SPATTN_PHASE_KEY_DENSE;
      spattn_status status = spattn_model_phase_key(report.model, component.c_str(), phase, options.timestep, &key);
      std::string shown = status == SPATTN_OK ? name_of(spattn::phase_key_name(key)) : "error";
      std::string phase_text = name_of(spattn::phase_name(phase));
      if (json) {
        keys.push_back("{\"component\": " + json_string(component) + ", \"phase\": \"" + phase_text + "\", \"phase_key\": " +
                       (status == SPATTN_OK ? "\"" + shown + "\"" : std::string("null")) + "}");
      } else {
        std::string name = component + (report.phases.size() > 1 ? (component.empty() ? "" : " ") + phase_text : "");
        keys.push_back((name.empty() ? "-" : name) + " " + shown);
      }
    }
  }
  return keys;
}

void print_table(const Options& options, const Report& report) {
  std::vector<std::vector<std::string>> table{{"COMPONENT", "LAYER", "PHASE", "ALGORITHM", "ENABLED", "THRESHOLD",
                                               "SOURCE", "TARGET", "CUTOFF", "KEY", "DETAIL"}};
  for (const Row& row : report.rows) table.push_back(cells(row));
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::printf("checkpoint: %s\n", options.checkpoint);
  if (options.config == nullptr) {
    std::printf("config:     (none) the checkpoint's own calibration, applied as TensorRT-LLM applies\n"
                "            an empty skip_softmax config\n");
  } else {
    const char* backend = spattn_config_backend(report.config);
    std::printf("config:     %s (algorithm %s%s%s)\n", std::strcmp(options.config, "-") == 0 ? "<stdin>" : options.config,
                name_of(spattn::algorithm_name(spattn_config_algorithm(report.config))).c_str(),
                backend != nullptr ? ", backend " : "", backend != nullptr ? backend : "");
    std::string parameters = parameters_text(report.config);
    if (!parameters.empty()) {
      std::printf("parameters: %s (run outside spattn's kernels; the table shows no layer of it)\n", parameters.c_str());
    }
  }
  std::printf("timestep:   %s\n", options.timestep < 0 ? "(none) the disabled_until_timestep cutoff is not applied"
                                                        : number(options.timestep).c_str());
  std::string keys;
  for (const std::string& key : graph_keys(options, report, false)) keys += (keys.empty() ? "" : ", ") + key;
  std::printf("graph key:  %s\n\n", keys.c_str());
  for (const auto& line : table) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    std::printf("%s\n", text.c_str());
  }
  std::vector<std::string> reported;  // one message per component and phase
  for (const Row& row : report.rows) {
    std::string key = row.component + ":" + name_of(spattn::phase_name(row.phase));
    if (row.status == SPATTN_OK || contains(reported, key)) continue;
    if (reported.empty()) std::printf("\nerrors:\n");
    reported.push_back(key);
    std::printf("  %s: %s: %s\n", row.component.empty() ? "-" : row.component.c_str(),
                spattn_status_string(row.status), row.error.c_str());
  }
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (std::isnan(value)) return "null";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string json_name(const char* name) { return name != nullptr ? json_string(name) : "null"; }

// A row: component, layer, phase, then the fields of spattn_layer_params
// under the names spattn_model_to_json gives them.
std::string json_row(const Row& row) {
  const spattn_layer_params& p = row.params;
  std::string out = "{\"component\": " + json_string(row.component) + ", \"layer\": " +
                    json_string(row.layer.empty() ? "*" : row.layer) + ", \"phase\": " +
                    json_name(spattn::phase_name(row.phase));
  if (row.status != SPATTN_OK) {
    return out + ", \"error\": {\"status\": " + json_string(spattn_status_string(row.status)) +
           ", \"message\": " + json_string(row.error) + "}}";
  }
  out += ", \"algorithm\": " + json_name(spattn::algorithm_name(p.algorithm));
  out += std::string(", \"enabled\": ") + (p.enabled ? "true" : "false");
  out += ", \"disabled_reason\": " + json_name(spattn::disabled_reason_name(p.disabled_reason));
  out += ", \"phase_key\": " + json_name(spattn::phase_key_name(p.phase_key));
  out += ", \"threshold_scale_factor\": " + json_number(p.threshold_scale_factor);
  out += ", \"threshold_source\": " + json_name(spattn::source_name(p.threshold_source));
  out += ", \"target_sparsity\": " + json_number(p.target_sparsity);
  out += ", \"target_source\": " + json_name(spattn::source_name(p.target_source));
  out += ", \"disabled_until_timestep\": " + json_number(p.disabled_until_timestep);
  out += ", \"timestep_source\": " + json_name(spattn::source_name(p.timestep_source));
  out += ", \"sparsity_n\": " + std::to_string(p.sparsity_n) + ", \"sparsity_m\": " + std::to_string(p.sparsity_m);
  out += ", \"num_sink_tokens\": " + std::to_string(p.num_sink_tokens);
  out += ", \"dense_window_size\": " + std::to_string(p.dense_window_size);
  out += std::string(", \"quantize_p\": ") + (p.quantize_p ? "true" : "false");
  out += ", \"vsa_sparsity\": " + json_number(p.vsa_sparsity);
  out += ", \"vsa_cube_shape\": [" + std::to_string(p.vsa_cube_shape[0]) + ", " + std::to_string(p.vsa_cube_shape[1]) +
         ", " + std::to_string(p.vsa_cube_shape[2]) + "]";
  return out + "}";
}

int print_json(const Options& options, const Report& report) {
  char* text = nullptr;
  spattn_status status = spattn_model_to_json(report.model, &text);
  if (status != SPATTN_OK) return library_error(status);
  std::printf("{\n\"model\": %s,\n\"timestep\": %s,\n\"graph_keys\": [", text,
              options.timestep < 0 ? "null" : json_number(options.timestep).c_str());
  spattn_free(text);
  std::vector<std::string> keys = graph_keys(options, report, true);
  for (size_t i = 0; i < keys.size(); ++i) std::printf("%s%s", i ? ", " : "", keys[i].c_str());
  std::printf("],\n\"rows\": [\n");
  for (size_t i = 0; i < report.rows.size(); ++i) {
    std::printf("  %s%s\n", json_row(report.rows[i]).c_str(), i + 1 < report.rows.size() ? "," : "");
  }
  std::printf("]\n}\n");
  return 0;
}

int inspect(int argc, char** argv) {
  Options options;
  if (int usage = parse_options(argc, argv, options)) return usage;
  spattn_config* config = nullptr;
  if (options.config != nullptr) {
    spattn_status status = parse_config(options.config, &config);
    if (status != SPATTN_OK) return library_error(status);
  }
  spattn_model* model = nullptr;
  spattn_status status = spattn_model_open(options.checkpoint, config, &model);
  if (status != SPATTN_OK) {
    spattn_config_destroy(config);
    return library_error(status);
  }
  Report report{model, config, phases_to_show(options, component_names(model)), {}};
  int exit_code = 1;
  if (build_rows(model, options, report.phases, report.rows)) {
    exit_code = options.json ? print_json(options, report) : (print_table(options, report), 0);
    for (const Row& row : report.rows) {
      if (row.status != SPATTN_OK) exit_code = 1;
    }
  }
  spattn_model_destroy(model);
  spattn_config_destroy(config);
  return exit_code;
}

int validate(int argc, char** argv) {
  if (argc != 1) return usage_error("validate needs exactly one CONFIG (a file, or - for stdin)");
  spattn_config* config = nullptr;
  spattn_status status = parse_config(argv[0], &config);
  if (status != SPATTN_OK) return library_error(status);
  char* json = nullptr;
  status = spattn_config_to_json(config, &json);
  spattn_config_destroy(config);
  if (status != SPATTN_OK) return library_error(status);
  std::printf("%s\n", json);
  spattn_free(json);
  return 0;
}

bool asks_for_help(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command");
  std::string command = argv[1];
  if (command == "version" || command == "--version" || command == "-V") {
    std::printf("spattn %s\n", spattn_version_string());
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help" ||
      ((command == "inspect" || command == "validate") && asks_for_help(argc - 2, argv + 2))) {
    std::printf("%s%s", kUsage, kHelp);
    return 0;
  }
  if (command == "inspect") return inspect(argc - 2, argv + 2);
  if (command == "validate") return validate(argc - 2, argv + 2);
  return usage_error("unknown command '" + command + "'");
}
