// Helpers shared by the checkpoint / resolve / model API tests: temporary
// checkpoint folders built at test time, and small wrappers of the C API.
#pragma once

#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace spattn_test {

inline std::string examples_dir() { return std::string(SPATTN_SOURCE_DIR) + "/examples"; }
inline std::string wan_mini() { return examples_dir() + "/checkpoints/wan-mini"; }
inline std::string llm_mini() { return examples_dir() + "/checkpoints/llm-mini"; }

// A fresh folder under $TMPDIR, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "spattn-ckpt-XXXXXX").string();
    if (mkdtemp(&pattern[0]) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  // Writes `text` to `relative`, creating folders on the way.
  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }
  void mkdir(const std::string& relative) const {
    std::filesystem::create_directories(std::filesystem::path(path_) / relative);
  }
  void symlink(const std::string& target, const std::string& relative) const {
    std::filesystem::create_symlink(target, std::filesystem::path(path_) / relative);
  }

 private:
  std::string path_;
};

struct ModelDeleter {
  void operator()(spattn_model* model) const { spattn_model_destroy(model); }
};
using ModelPtr = std::unique_ptr<spattn_model, ModelDeleter>;

struct ConfigDeleter {
  void operator()(spattn_config* config) const { spattn_config_destroy(config); }
};
using ConfigPtr = std::unique_ptr<spattn_config, ConfigDeleter>;

inline ConfigPtr parse_config(const std::string& text) {
  spattn_config* config = nullptr;
  spattn_status status = spattn_config_parse(text.data(), text.size(), SPATTN_FORMAT_AUTO, &config);
  EXPECT_EQ(status, SPATTN_OK) << spattn_last_error();
  return ConfigPtr(config);
}

inline ConfigPtr config_file(const std::string& name) {
  spattn_config* config = nullptr;
  spattn_status status =
      spattn_config_parse_file((examples_dir() + "/configs/" + name).c_str(), SPATTN_FORMAT_AUTO, &config);
  EXPECT_EQ(status, SPATTN_OK) << spattn_last_error();
  return ConfigPtr(config);
}

inline ModelPtr open_model(const std::string& dir, const spattn_config* config = nullptr) {
  spattn_model* model = nullptr;
  spattn_status status = spattn_model_open(dir.c_str(), config, &model);
  EXPECT_EQ(status, SPATTN_OK) << spattn_last_error();
  return ModelPtr(model);
}

// Status of opening `dir`; `message` receives spattn_last_error().
inline spattn_status open_status(const std::string& dir, std::string* message = nullptr,
                                 const spattn_config* config = nullptr) {
  spattn_model* model = reinterpret_cast<spattn_model*>(0x1);
  spattn_status status = spattn_model_open(dir.c_str(), config, &model);
  if (message != nullptr) *message = spattn_last_error();
  if (status == SPATTN_OK) spattn_model_destroy(model);
  else EXPECT_EQ(model, nullptr);
  return status;
}

inline spattn_layer_params lookup(const spattn_model* model, const char* component, const char* layer,
                                  spattn_phase phase, double timestep = SPATTN_NO_TIMESTEP) {
  spattn_layer_params params{};
  params.struct_size = sizeof params;
  spattn_status status = spattn_model_lookup(model, component, layer, phase, timestep, &params);
  EXPECT_EQ(status, SPATTN_OK) << spattn_last_error();
  return params;
}

inline spattn_status lookup_status(const spattn_model* model, const char* component, const char* layer,
                                   spattn_phase phase, double timestep = SPATTN_NO_TIMESTEP,
                                   std::string* message = nullptr) {
  spattn_layer_params params{};
  params.struct_size = sizeof params;
  spattn_status status = spattn_model_lookup(model, component, layer, phase, timestep, &params);
  if (message != nullptr) *message = spattn_last_error();
  return status;
}

// Collects what the library logs at WARNING and above while it lives (the
// log callback is process-wide: one capture at a time).
class LogCapture {
 public:
  LogCapture() { EXPECT_EQ(spattn_set_log_callback(&LogCapture::collect, SPATTN_LOG_WARNING, this), SPATTN_OK); }
  ~LogCapture() { spattn_set_log_callback(nullptr, SPATTN_LOG_DEBUG, nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  const std::vector<std::string>& lines() const { return lines_; }
  // Whether some warning contains every one of `parts`.
  bool has(std::initializer_list<std::string> parts) const {
    for (const std::string& line : lines_) {
      bool all = true;
      for (const std::string& part : parts) all = all && line.find(part) != std::string::npos;
      if (all) return true;
    }
    return false;
  }
  std::string all() const {
    std::string out;
    for (const std::string& line : lines_) out += line + "\n";
    return out;
  }

 private:
  static void collect(spattn_log_level, const char* message, void* self) {
    static_cast<LogCapture*>(self)->lines_.emplace_back(message);
  }
  std::vector<std::string> lines_;
};

// A component config.json with one skip_softmax group made of `group_body`
// (the members after "algorithm").
inline std::string skip_softmax_config(const std::string& group_body) {
  return R"J({"hidden_size": 64, "sparse_attention_config": {"config_groups": {"group_0": {"algorithm": "skip_softmax")J" +
         (group_body.empty() ? std::string() : ", " + group_body) + "}}}}";
}

}  // namespace spattn_test
