/* Opens a checkpoint (with an optional user config) and prints the resolved
 * skip-softmax parameters of a few attention layers of each component.
 *
 *   cc -std=c99 inspect_layers.c -I include -L build -lspattn -o inspect_layers
 *   LD_LIBRARY_PATH=build ./inspect_layers examples/checkpoints/wan-mini \
 *       examples/configs/visualgen_target.yaml 0.5
 */
#include <spattn/spattn.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const kDiffusionLayers[] = {"blocks.0.attn1", "blocks.3.attn1", "blocks.3.attn2",
                                               "blocks.39.attn1"};
static const char *const kLlmLayers[] = {"model.layers.0.self_attn", "model.layers.5.self_attn"};

static const char *reason_name(spattn_disabled_reason reason) {
  switch (reason) {
    case SPATTN_DISABLED_NOT: return "-";
    case SPATTN_DISABLED_NOT_CONFIGURED: return "not configured";
    case SPATTN_DISABLED_IGNORED: return "ignored";
    case SPATTN_DISABLED_TIMESTEP: return "timestep";
    case SPATTN_DISABLED_NOT_TARGET: return "not a target";
    case SPATTN_DISABLED_ZERO_THRESHOLD: return "zero threshold";
    case SPATTN_DISABLED_MAX_ENUM: break;
  }
  return "?";
}

int main(int argc, char **argv) {
  spattn_config *config = NULL;
  spattn_model *model = NULL;
  double timestep = SPATTN_NO_TIMESTEP;
  size_t c, i, count;

  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s CHECKPOINT [CONFIG [TIMESTEP]]\n", argv[0]);
    return 2;
  }
  if (argc >= 3 && spattn_config_parse_file(argv[2], SPATTN_FORMAT_AUTO, &config) != SPATTN_OK) {
    fprintf(stderr, "spattn: %s\n", spattn_last_error());
    return 1;
  }
  if (argc == 4) timestep = atof(argv[3]);
  if (spattn_model_open(argv[1], config, &model) != SPATTN_OK) {
    fprintf(stderr, "spattn: %s\n", spattn_last_error());
    spattn_config_destroy(config);
    return 1;
  }
  spattn_config_destroy(config); /* the model keeps what it needs */

  printf("spattn %s: %s\n", spattn_version_string(), argv[1]);
  printf("%-14s %-26s %-8s %-7s %14s  %s\n", "component", "layer", "phase", "enabled", "threshold",
         "disabled");
  count = spattn_model_component_count(model);
  for (c = 0; c < count; ++c) {
    const char *name = spattn_model_component_name(model, c);
    int plain = name[0] == '\0';
    const char *const *layers = plain ? kLlmLayers : kDiffusionLayers;
    size_t n = plain ? sizeof kLlmLayers / sizeof *kLlmLayers
                     : sizeof kDiffusionLayers / sizeof *kDiffusionLayers;
    for (i = 0; i < n; ++i) {
      spattn_phase phase;
      for (phase = SPATTN_PHASE_PREFILL; phase <= SPATTN_PHASE_DECODE; phase = (spattn_phase)(phase + 1)) {
        spattn_layer_params p = {0};
        p.struct_size = sizeof p;
        if (spattn_model_lookup(model, name, layers[i], phase, timestep, &p) != SPATTN_OK) {
          printf("%-14s %s\n", plain ? "-" : name, spattn_last_error());
          i = n; /* next component */
          break;
        }
        printf("%-14s %-26s %-8s %-7s %14.6f  %s\n", plain ? "-" : name, layers[i],
               phase == SPATTN_PHASE_PREFILL ? "prefill" : "decode", p.enabled ? "yes" : "no",
               p.threshold_scale_factor, reason_name(p.disabled_reason));
      }
    }
  }
  spattn_model_destroy(model);
  return 0;
}
