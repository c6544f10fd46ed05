/* spattn_layer_params keeps the layout it was first published with (LP64:
 * 4-byte enums and int32_t, 8-byte aligned doubles): every field at its
 * offset, the three former padding holes filled by reserved0..2 so that the
 * published part has no hole left, and lookups write 0 into them.
 * The offsets below are that first layout, written down by hand. */
#include <spattn/spattn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct field {
  const char *name;
  size_t offset, size, published_offset;
};

#define FIELD(f, published) \
  { #f, offsetof(spattn_layer_params, f), sizeof(((spattn_layer_params *)0)->f), published }

static const struct field fields[] = {
    FIELD(struct_size, 0),
    FIELD(algorithm, 4),
    FIELD(enabled, 8),
    FIELD(disabled_reason, 12),
    FIELD(phase_key, 16),
    FIELD(reserved0, 20),
    FIELD(threshold_scale_factor, 24),
    FIELD(threshold_source, 32),
    FIELD(reserved1, 36),
    FIELD(target_sparsity, 40),
    FIELD(target_source, 48),
    FIELD(reserved2, 52),
    FIELD(disabled_until_timestep, 56),
    FIELD(timestep_source, 64),
    FIELD(sparsity_n, 68),
    FIELD(sparsity_m, 72),
    FIELD(num_sink_tokens, 76),
    FIELD(dense_window_size, 80),
    FIELD(quantize_p, 84),
};
/* End of the first published layout: sizeof was 88. Appended fields go after. */
#define PUBLISHED_END 88u

int main(int argc, char **argv) {
  size_t i, end = 0;
  int failures = 0;
  spattn_model *model = NULL;
  spattn_layer_params params;

  for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (fields[i].offset != fields[i].published_offset) {
      printf("FAIL: %s at offset %zu, published at %zu\n", fields[i].name, fields[i].offset,
             fields[i].published_offset);
      failures++;
    }
    if (fields[i].offset != end) {
      printf("FAIL: %zu bytes of padding before %s\n", fields[i].offset - end, fields[i].name);
      failures++;
    }
    end = fields[i].offset + fields[i].size;
  }
  if (end != PUBLISHED_END || sizeof(spattn_layer_params) < PUBLISHED_END) {
    printf("FAIL: published fields end at %zu, sizeof is %zu (want end %u)\n", end,
           sizeof(spattn_layer_params), PUBLISHED_END);
    failures++;
  }

  /* A lookup writes 0 into the reserved fields, whatever was there. */
  if (argc != 2 || spattn_model_open(argv[1], NULL, &model) != SPATTN_OK) {
    printf("FAIL: usage: %s WAN_MINI_CHECKPOINT (%s)\n", argv[0], spattn_last_error());
    return 1;
  }
  memset(&params, 0xA5, sizeof params);
  params.struct_size = sizeof params;
  if (spattn_model_lookup(model, "transformer", "blocks.3.attn1", SPATTN_PHASE_PREFILL, 0.5, &params) !=
          SPATTN_OK ||
      params.reserved0 != 0 || params.reserved1 != 0 || params.reserved2 != 0) {
    printf("FAIL: lookup left reserved fields %d %d %d (%s)\n", (int)params.reserved0, (int)params.reserved1,
           (int)params.reserved2, spattn_last_error());
    failures++;
  }
  spattn_model_destroy(model);
  printf("spattn_layer_params layout: %s (%zu fields, sizeof %zu)\n", failures ? "FAILED" : "ok",
         sizeof fields / sizeof fields[0], sizeof(spattn_layer_params));
  return failures ? 1 : 0;
}
