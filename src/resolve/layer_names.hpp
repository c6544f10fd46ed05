// The names an ignore pattern is matched against for one layer, as
// TensorRT-LLM builds them: the name as given and with torch.compile's
// `._orig_mod.` removed; for a diffusers component the full and the
// component-relative form of each; for an LLM layer of index N also
// model.layers.N.self_attn, model.layers.N.attention, layers.N.self_attn and
// layers.N.attention. Built without allocating for names under 200 bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace spattn {

class LayerNames {
 public:
  // `component` is "" for a plain (LLM) checkpoint.
  LayerNames(std::string_view component, std::string_view layer);
  LayerNames(const LayerNames&) = delete;
  LayerNames& operator=(const LayerNames&) = delete;

  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const { return names_[i]; }

 private:
  // Appends the concatenation of `parts` to the storage and returns it.
  std::string_view store(std::initializer_list<std::string_view> parts);
  void add(std::string_view name);
  void add_component_forms(std::string_view component, std::string_view name);

  static constexpr size_t kMaxNames = 8;
  char stack_[1536];
  std::string heap_;  // used, reserved once, when the names do not fit on the stack
  char* data_;
  size_t capacity_;
  size_t used_ = 0;
  std::string_view names_[kMaxNames];
  size_t count_ = 0;
};

// The layer index N of `...layers.N...` (the first `layers` path element
// followed by a numeric one), or of a name that is just digits; npos when
// there is none. Digit runs too long for a size_t are not an index.
size_t layer_index_position(std::string_view name, size_t* length);

}  // namespace spattn
