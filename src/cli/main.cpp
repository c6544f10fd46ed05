// The spattn command-line tool, built only on the public C API.
//   spattn version
//   spattn inspect CHECKPOINT [--config FILE] [--phase prefill|decode]
//                  [--timestep T] [--json] [LAYER ...]
#include <spattn/spattn.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>
#include <vector>

namespace {

const char* const kUsage =
    "usage: spattn version\n"
    "       spattn inspect CHECKPOINT [--config FILE] [--phase prefill|decode]\n"
    "                      [--timestep T] [--json] [LAYER ...]\n"
    "       spattn --help\n";

const char* const kHelp =
    "\n"
    "spattn inspect prints how a checkpoint's sparse-attention calibration and a\n"
    "user config resolve, per component, layer and phase.\n"
    "\n"
    "  CHECKPOINT       a folder with config.json, or a diffusers folder with\n"
    "                   model_index.json and <component>/config.json\n"
    "  --config FILE    user config (YAML or JSON); without it the checkpoint's\n"
    "                   own defaults apply\n"
    "  --phase P        only `prefill` or only `decode` (default: both)\n"
    "  --timestep T     normalized denoising timestep in [0, 1] (1 = start);\n"
    "                   default: none, the disabled_until_timestep cutoff is not applied\n"
    "  --json           print spattn_model_to_json and the rows as one JSON object\n"
    "  LAYER            module names to resolve. `component:layer` picks one\n"
    "                   component (`transformer:blocks.0.attn1`); a full name\n"
    "                   `transformer.blocks.0.attn1` goes to the component it\n"
    "                   starts with; any other name is resolved in every component.\n"
    "\n"
    "Without LAYERs, each component gets one row for its ordinary layers (`*`)\n"
    "and one row per checkpoint ignore pattern.\n"
    "Exit status: 0 success, 1 library error (`spattn: STATUS: message`), 2 bad usage.\n";

struct Options {
  const char* checkpoint = nullptr;
  const char* config = nullptr;
  std::vector<spattn_phase> phases{SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE};
  double timestep = SPATTN_NO_TIMESTEP;
  bool json = false;
  std::vector<std::string> layers;
};

struct Row {
  std::string component;
  std::string layer;
  spattn_phase phase;
  spattn_status status;
  std::string error;
  spattn_layer_params params;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "spattn: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int library_error(spattn_status status) {
  std::fprintf(stderr, "spattn: %s: %s\n", spattn_status_string(status), spattn_last_error());
  return 1;
}

// Parses the arguments after `inspect`; returns 0 or the exit status of a usage error.
int parse_options(int argc, char** argv, Options& options) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--config") {
      if (!(options.config = value())) return usage_error("--config needs a FILE");
    } else if (arg == "--phase") {
      const char* phase = value();
      if (phase == nullptr) return usage_error("--phase needs prefill or decode");
      if (std::strcmp(phase, "prefill") == 0) options.phases = {SPATTN_PHASE_PREFILL};
      else if (std::strcmp(phase, "decode") == 0) options.phases = {SPATTN_PHASE_DECODE};
      else return usage_error(std::string("--phase: '") + phase + "' is not prefill or decode");
    } else if (arg == "--timestep") {
      const char* text = value();
      if (text == nullptr) return usage_error("--timestep needs a number T");
      char* end = nullptr;
      options.timestep = std::strtod(text, &end);
      if (end == text || *end != '\0') return usage_error(std::string("--timestep: '") + text + "' is not a number");
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else if (options.checkpoint == nullptr) {
      options.checkpoint = argv[i];
    } else {
      options.layers.push_back(arg);
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

bool is_component(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& known : names) {
    if (known == name) return true;
  }
  return false;
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
  size_t colon = argument.find(':');
  if (colon != std::string::npos && is_component(components, argument.substr(0, colon))) {
    rows.push_back(Row{argument.substr(0, colon), argument.substr(colon + 1), SPATTN_PHASE_PREFILL, SPATTN_OK, "", {}});
    return rows;
  }
  if (colon != std::string::npos && argument.find('.') > colon) {
    rows.push_back(Row{argument.substr(0, colon), argument.substr(colon + 1), SPATTN_PHASE_PREFILL, SPATTN_OK, "", {}});
    return rows;  // an unknown component: the lookup reports it
  }
  std::string owner;
  for (const auto& name : components) {
    if (!name.empty() && argument.compare(0, name.size() + 1, name + ".") == 0 && name.size() > owner.size()) owner = name;
  }
  for (const auto& name : components) {
    if (owner.empty() || name == owner) rows.push_back(Row{name, argument, SPATTN_PHASE_PREFILL, SPATTN_OK, "", {}});
  }
  return rows;
}

// The rows to print: the given layers, or `*` plus the ignore patterns.
bool build_rows(const spattn_model* model, const Options& options, std::vector<Row>& rows) {
  std::vector<std::string> components = component_names(model);
  std::vector<Row> targets;
  if (!options.layers.empty()) {
    for (const auto& layer : options.layers) {
      for (Row& row : rows_for_argument(components, layer)) targets.push_back(row);
    }
  } else {
    for (size_t c = 0; c < components.size(); ++c) {
      // "" stands for an ordinary layer: only a pattern matching every name
      // (such as `*`) matches it, and then every layer is ignored indeed.
      targets.push_back(Row{components[c], "", SPATTN_PHASE_PREFILL, SPATTN_OK, "", {}});
      for (size_t p = 0; p < spattn_model_ignore_count(model, c); ++p) {
        targets.push_back(Row{components[c], spattn_model_ignore_pattern(model, c, p), SPATTN_PHASE_PREFILL, SPATTN_OK, "", {}});
      }
    }
  }
  for (const Row& target : targets) {
    for (spattn_phase phase : options.phases) {
      Row row = target;
      row.phase = phase;
      if (!look_up(model, options, row)) return false;
      // A pattern with a set (`blocks.[01].attn1`) does not match its own
      // text; the row shows what every layer it matches gets.
      bool pattern_row = options.layers.empty() && !row.layer.empty();
      if (pattern_row && row.status == SPATTN_OK && row.params.algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX) {
        row.params.enabled = 0;
        row.params.disabled_reason = SPATTN_DISABLED_IGNORED;
        row.params.threshold_scale_factor = 0.0;
        row.params.phase_key = SPATTN_PHASE_KEY_DENSE;
      }
      rows.push_back(row);
    }
  }
  return true;
}

std::string number(double value) {
  if (std::isnan(value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

const char* source_name(spattn_source source) {
  switch (source) {
    case SPATTN_SOURCE_USER: return "user";
    case SPATTN_SOURCE_CHECKPOINT: return "checkpoint";
    case SPATTN_SOURCE_FORMULA: return "formula";
    default: return "-";
  }
}

std::string with_source(double value, spattn_source source) {
  if (std::isnan(value)) return "-";
  return number(value) + " (" + source_name(source) + ")";
}

std::string enabled_text(const Row& row) {
  if (row.status != SPATTN_OK) return "error";
  switch (row.params.disabled_reason) {
    case SPATTN_DISABLED_NOT: return "yes";
    case SPATTN_DISABLED_IGNORED: return "no (ignored)";
    case SPATTN_DISABLED_TIMESTEP: return "no (timestep)";
    default:
      if (row.params.algorithm == SPATTN_ALGORITHM_ROCKET || row.params.algorithm == SPATTN_ALGORITHM_DSA) {
        return std::string("no (") + spattn_algorithm_name(row.params.algorithm) + ")";
      }
      return "no (not configured)";
  }
}

std::vector<std::string> cells(const Row& row) {
  const spattn_layer_params& p = row.params;
  std::string component = row.component.empty() ? "-" : row.component;
  std::string layer = row.layer.empty() ? "*" : row.layer;
  std::string phase = row.phase == SPATTN_PHASE_DECODE ? "decode" : "prefill";
  if (row.status != SPATTN_OK) return {component, layer, phase, "error", "-", "-", "-", "-", "-"};
  return {component, layer, phase, enabled_text(row), number(p.threshold_scale_factor),
          source_name(p.threshold_source), with_source(p.target_sparsity, p.target_source),
          with_source(p.disabled_until_timestep, p.timestep_source),
          p.phase_key == SPATTN_PHASE_KEY_SPARSE ? "sparse" : "dense"};
}

void print_table(const Options& options, const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> table{
      {"COMPONENT", "LAYER", "PHASE", "ENABLED", "THRESHOLD", "SOURCE", "TARGET", "CUTOFF", "KEY"}};
  for (const Row& row : rows) table.push_back(cells(row));
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::printf("checkpoint: %s\n", options.checkpoint);
  std::printf("config:     %s\n", options.config != nullptr ? options.config : "(none: checkpoint defaults)");
  std::printf("timestep:   %s\n\n", options.timestep < 0 ? "(none)" : number(options.timestep).c_str());
  for (const auto& line : table) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    std::printf("%s\n", text.c_str());
  }
  std::vector<std::string> reported;  // one message per component and phase
  for (const Row& row : rows) {
    std::string key = row.component + (row.phase == SPATTN_PHASE_DECODE ? ":decode" : ":prefill");
    if (row.status == SPATTN_OK || is_component(reported, key)) continue;
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

std::string json_row(const Row& row) {
  const spattn_layer_params& p = row.params;
  std::string out = "{\"component\": " + json_string(row.component) + ", \"layer\": " +
                    json_string(row.layer.empty() ? "*" : row.layer) + ", \"phase\": \"" +
                    (row.phase == SPATTN_PHASE_DECODE ? "decode" : "prefill") + "\"";
  if (row.status != SPATTN_OK) {
    return out + ", \"error\": {\"status\": " + json_string(spattn_status_string(row.status)) +
           ", \"message\": " + json_string(row.error) + "}}";
  }
  out += ", \"algorithm\": " + json_string(spattn_algorithm_name(p.algorithm));
  out += std::string(", \"enabled\": ") + (p.enabled ? "true" : "false");
  out += ", \"status\": " + json_string(enabled_text(row));
  out += ", \"threshold_scale_factor\": " + json_number(p.threshold_scale_factor);
  out += ", \"threshold_source\": " + json_string(source_name(p.threshold_source));
  out += ", \"target_sparsity\": " + json_number(p.target_sparsity);
  out += ", \"target_source\": " + json_string(source_name(p.target_source));
  out += ", \"disabled_until_timestep\": " + json_number(p.disabled_until_timestep);
  out += ", \"timestep_source\": " + json_string(source_name(p.timestep_source));
  out += std::string(", \"phase_key\": \"") + (p.phase_key == SPATTN_PHASE_KEY_SPARSE ? "sparse" : "dense") + "\"";
  return out + "}";
}

int print_json(const spattn_model* model, const std::vector<Row>& rows, double timestep) {
  char* text = nullptr;
  spattn_status status = spattn_model_to_json(model, &text);
  if (status != SPATTN_OK) return library_error(status);
  std::printf("{\n\"model\": %s,\n\"timestep\": %s,\n\"rows\": [\n", text, timestep < 0 ? "null" : json_number(timestep).c_str());
  spattn_free(text);
  for (size_t i = 0; i < rows.size(); ++i) std::printf("  %s%s\n", json_row(rows[i]).c_str(), i + 1 < rows.size() ? "," : "");
  std::printf("]\n}\n");
  return 0;
}

int inspect(int argc, char** argv) {
  Options options;
  if (int usage = parse_options(argc, argv, options)) return usage;
  spattn_config* config = nullptr;
  if (options.config != nullptr) {
    spattn_status status = spattn_config_parse_file(options.config, SPATTN_FORMAT_AUTO, &config);
    if (status != SPATTN_OK) return library_error(status);
  }
  spattn_model* model = nullptr;
  spattn_status status = spattn_model_open(options.checkpoint, config, &model);
  spattn_config_destroy(config);
  if (status != SPATTN_OK) return library_error(status);
  std::vector<Row> rows;
  int exit_code = 1;
  if (build_rows(model, options, rows)) {
    exit_code = 0;
    if (options.json) exit_code = print_json(model, rows, options.timestep);
    else print_table(options, rows);
  }
  spattn_model_destroy(model);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command");
  std::string command = argv[1];
  if (command == "version") {
    std::printf("spattn %s\n", spattn_version_string());
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::printf("%s%s", kUsage, kHelp);
    return 0;
  }
  if (command == "inspect") {
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
        std::printf("%s%s", kUsage, kHelp);
        return 0;
      }
    }
    return inspect(argc - 2, argv + 2);
  }
  return usage_error("unknown command '" + command + "'");
}
