#include "resolve/layer_names.hpp"

#include <cstring>

namespace spattn {
namespace {

const std::string_view kOrigMod = "._orig_mod.";

bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

size_t layer_index_position(std::string_view name, size_t* length) {
  if (is_digits(name)) {
    *length = name.size();
    return 0;
  }
  const std::string_view element = "layers.";
  for (size_t at = name.find(element); at != std::string_view::npos; at = name.find(element, at + 1)) {
    if (at != 0 && name[at - 1] != '.') continue;
    const size_t start = at + element.size();
    const size_t end = std::min(name.find('.', start), name.size());
    if (is_digits(name.substr(start, end - start))) {
      *length = end - start;
      return start;
    }
  }
  return std::string_view::npos;
}

LayerNames::LayerNames(std::string_view component, std::string_view layer) {
  // Every name stored is at most component + '.' + layer, or an index name
  // of at most 24 characters plus the index.
  const size_t needed = kMaxNames * (component.size() + layer.size() + 32);
  if (needed <= sizeof stack_) {
    data_ = stack_;
    capacity_ = sizeof stack_;
  } else {
    heap_.resize(needed);
    data_ = &heap_[0];
    capacity_ = needed;
  }
  // The name with every "._orig_mod." replaced by ".".
  char* stripped_start = data_ + used_;
  for (size_t i = 0; i < layer.size();) {
    if (layer.compare(i, kOrigMod.size(), kOrigMod) == 0) {
      data_[used_++] = '.';
      i += kOrigMod.size();
    } else {
      data_[used_++] = layer[i++];
    }
  }
  const std::string_view stripped(stripped_start, size_t(data_ + used_ - stripped_start));
  const std::string_view bases[2] = {layer, stripped};
  const size_t base_count = stripped == layer ? 1 : 2;
  for (size_t b = 0; b < base_count; ++b) {
    if (component.empty()) add(bases[b]);
    else add_component_forms(component, bases[b]);
  }
  if (!component.empty()) return;
  size_t length = 0;
  const size_t at = layer_index_position(stripped, &length);
  if (at == std::string_view::npos) return;
  const std::string_view index = stripped.substr(at, length);
  for (std::string_view prefix : {"model.layers.", "layers."}) {
    for (std::string_view suffix : {".self_attn", ".attention"}) add(store({prefix, index, suffix}));
  }
}

std::string_view LayerNames::store(std::initializer_list<std::string_view> parts) {
  char* start = data_ + used_;
  for (std::string_view part : parts) {
    std::memcpy(data_ + used_, part.data(), part.size());
    used_ += part.size();
  }
  return std::string_view(start, size_t(data_ + used_ - start));
}

void LayerNames::add(std::string_view name) {
  for (size_t i = 0; i < count_; ++i) {
    if (names_[i] == name) return;
  }
  names_[count_++] = name;
}

void LayerNames::add_component_forms(std::string_view component, std::string_view name) {
  const bool is_full = name.size() > component.size() && name[component.size()] == '.' &&
                       name.compare(0, component.size(), component) == 0;
  if (is_full) {
    add(name);
    add(name.substr(component.size() + 1));
  } else {
    add(store({component, ".", name}));
    add(name);
  }
}

}  // namespace spattn
