#include "resolve/model.hpp"

#include <cstring>

#include "checkpoint/checkpoint_folder.hpp"
#include "core/error.hpp"
#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "value/json_writer.hpp"

namespace spattn {

Model::Model(const std::string& checkpoint_dir, const SparseConfig* user) : directory_(checkpoint_dir) {
  if (user != nullptr) user_ = *user;
  for (ComponentDocument& document : read_checkpoint_folder(checkpoint_dir)) {
    if (!document.target) {
      components_.push_back(dense_component(std::move(document.name)));
      continue;
    }
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
  if (!component.target) {
    log(SPATTN_LOG_INFO, line + "not a sparse-attention target (dense)");
    return;
  }
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    const ResolvedPhase& resolved = component.phases[phase];
    line += phase == SPATTN_PHASE_PREFILL ? "prefill " : ", decode ";
    if (resolved.status != SPATTN_OK) {
      line += "unresolved";
      log(SPATTN_LOG_WARNING, resolved.error);
    } else if (resolved.params.algorithm == SPATTN_ALGORITHM_VSA) {
      line += "vsa_sparsity " + format_number(resolved.params.vsa_sparsity);
    } else if (resolved.params.enabled) {
      line += "threshold_scale_factor " + format_number(resolved.params.threshold_scale_factor);
    } else {
      line += std::string(algorithm_name(resolved.params.algorithm)) + " (skip-softmax off: " +
              disabled_reason_name(resolved.params.disabled_reason) + ")";
    }
  }
  log(SPATTN_LOG_INFO, line);
}

void Model::require_some_target_resolved() const {
  const ResolvedComponent* first_failed = nullptr;
  size_t targets = 0;
  for (const ResolvedComponent& component : components_) {
    if (!component.target) continue;
    ++targets;
    if (component.user_target_resolved) return;
    if (component.user_target_requested && first_failed == nullptr) first_failed = &component;
  }
  if (first_failed == nullptr) return;
  const ResolvedPhase& failed = first_failed->phases[first_failed->phases[0].status != SPATTN_OK ? 0 : 1];
  if (targets == 1) fail(failed.status, failed.error);
  fail(SPATTN_ERR_CALIBRATION_MISSING,
       user_->skip_softmax.target_location + ": the user config asks for target_sparsity, but none of the " +
           std::to_string(targets) + " target components of " + directory_ +
           " has a calibration formula to map it; " + failed.error);
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
