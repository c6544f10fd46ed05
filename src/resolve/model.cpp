#include "resolve/model.hpp"

#include <cstring>

#include "checkpoint/checkpoint_folder.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "value/json_writer.hpp"

namespace spattn {

Model::Model(const std::string& checkpoint_dir, const SparseConfig* user) : directory_(checkpoint_dir) {
  if (user != nullptr) user_ = *user;
  for (ComponentDocument& document : read_checkpoint_folder(checkpoint_dir)) {
    components_.push_back(resolve_component(std::move(document.name), document.config, document.origin,
                                            user_ ? &*user_ : nullptr));
  }
  require_some_target_resolved();
  for (const ResolvedComponent& component : components_) log_component(component);
}

// One INFO line per component with what an ordinary layer gets in each
// phase; a WARNING for each phase whose requested target cannot be mapped.
void Model::log_component(const ResolvedComponent& component) const {
  std::string line = directory_ + ": component '" + component.name + "': ";
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    const ResolvedPhase& resolved = component.phases[phase];
    line += phase == SPATTN_PHASE_PREFILL ? "prefill " : ", decode ";
    if (resolved.status != SPATTN_OK) {
      line += "unresolved";
      log(SPATTN_LOG_WARNING, resolved.error);
    } else if (resolved.params.enabled) {
      line += "threshold_scale_factor " + format_number(resolved.params.threshold_scale_factor);
    } else {
      line += std::string(spattn_algorithm_name(resolved.params.algorithm)) + " (skip-softmax off)";
    }
  }
  log(SPATTN_LOG_INFO, line);
}

void Model::require_some_target_resolved() const {
  bool requested = false;
  for (const ResolvedComponent& component : components_) {
    if (component.user_target_resolved) return;
    requested = requested || component.user_target_requested;
  }
  if (!requested || components_.empty()) return;
  const ResolvedComponent& first = components_.front();
  const ResolvedPhase& failed = first.phases[first.phases[0].status != SPATTN_OK ? 0 : 1];
  if (components_.size() == 1) fail(failed.status, failed.error);
  fail(SPATTN_ERR_CALIBRATION_MISSING,
       directory_ + ": the user config asks for target_sparsity, but none of the " +
           std::to_string(components_.size()) + " components has a calibration formula to map it; " +
           failed.error);
}

const ResolvedComponent& Model::component(const char* name) const {
  const char* wanted = name == nullptr ? "" : name;
  for (const ResolvedComponent& component : components_) {
    if (std::strcmp(component.name.c_str(), wanted) == 0) return component;
  }
  std::string known;
  for (const ResolvedComponent& component : components_) {
    known += (known.empty() ? "'" : ", '") + component.name + "'";
  }
  fail(SPATTN_ERR_NOT_FOUND, directory_ + ": no component '" + wanted + "'; the components are: " + known);
}

}  // namespace spattn
