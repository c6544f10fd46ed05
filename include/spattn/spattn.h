/*
 * spattn: sparse-attention runtime library. The one public header.
 *
 * Pure C99. No CUDA header is included: a CUDA stream is passed as `void *`
 * (a `cudaStream_t`, NULL meaning the legacy default stream).
 *
 * Conventions, for every function below unless its comment says otherwise:
 *  - Fallible calls return spattn_status. On failure, spattn_last_error()
 *    returns a message for the calling thread naming what was wrong and where
 *    (key path such as `sparse_attention_config.target_sparsity.prefill`,
 *    file, line and column where known). Output parameters are left untouched
 *    (handles: set to NULL) on failure.
 *  - Handles are opaque, created by *_parse / *_open and released by
 *    *_destroy, which accepts NULL. A handle is immutable after creation, so
 *    any number of threads may use it concurrently; it must not be destroyed
 *    while another thread still uses it.
 *  - Strings returned as `const char *` are owned by the handle that returned
 *    them and stay valid until it is destroyed. Strings returned through a
 *    `char **` out-parameter are owned by the caller and freed with
 *    spattn_free().
 *  - Extensible structs start with `uint32_t struct_size`, which the caller
 *    sets to sizeof(the struct) before the call. Fields are only ever
 *    appended, so a caller built against an older header keeps working.
 *  - No call writes to stdout/stderr, aborts, exits, or lets a C++
 *    exception escape.
 *
 * Input limits (untrusted YAML/JSON/checkpoint input beyond them is refused
 * with SPATTN_ERR_LIMIT): see SPATTN_MAX_* below.
 */
#ifndef SPATTN_SPATTN_H
#define SPATTN_SPATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(SPATTN_BUILDING_LIBRARY)
#    define SPATTN_API __declspec(dllexport)
#  else
#    define SPATTN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SPATTN_API __attribute__((visibility("default")))
#else
#  define SPATTN_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define SPATTN_VERSION_MAJOR 0
#define SPATTN_VERSION_MINOR 1
#define SPATTN_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable with spattn_version(). */
#define SPATTN_VERSION_NUMBER \
  (SPATTN_VERSION_MAJOR * 10000 + SPATTN_VERSION_MINOR * 100 + SPATTN_VERSION_PATCH)

/* Version of the library loaded at run time, encoded as SPATTN_VERSION_NUMBER.
 * A program built against major M should refuse a library whose
 * spattn_version() / 10000 differs from M. Thread-safe. */
SPATTN_API uint32_t spattn_version(void);

/* The same version as a static string, "MAJOR.MINOR.PATCH". Thread-safe. */
SPATTN_API const char *spattn_version_string(void);

/* ------------------------------------------------------------------------ */
/* Limits on untrusted input                                                */
/* ------------------------------------------------------------------------ */

/* Largest user config text (YAML or JSON), in bytes. */
#define SPATTN_MAX_CONFIG_BYTES (1u << 20)
/* Largest checkpoint JSON file (config.json, model_index.json), in bytes. */
#define SPATTN_MAX_CHECKPOINT_FILE_BYTES (16u << 20)
/* Deepest nesting of mappings/sequences in any YAML/JSON document. */
#define SPATTN_MAX_NESTING_DEPTH 64
/* Most values (scalars, mappings, sequences) in one document, YAML alias
 * expansions included. */
#define SPATTN_MAX_DOCUMENT_NODES 200000
/* Longest calibration formula, in bytes, and deepest nesting of it. */
#define SPATTN_MAX_FORMULA_BYTES 4096
#define SPATTN_MAX_FORMULA_DEPTH 64
/* Most components in one diffusers checkpoint. */
#define SPATTN_MAX_COMPONENTS 64

/* ------------------------------------------------------------------------ */
/* Status and errors                                                        */
/* ------------------------------------------------------------------------ */

/* Stable numeric values: new codes are appended, none is renumbered. */
typedef enum spattn_status {
  SPATTN_OK = 0,
  SPATTN_ERR_INVALID_ARGUMENT = 1,   /* NULL pointer, bad struct_size, bad enum */
  SPATTN_ERR_OUT_OF_MEMORY = 2,
  SPATTN_ERR_IO = 3,                 /* a file could not be opened or read */
  SPATTN_ERR_SYNTAX = 4,             /* malformed YAML/JSON text */
  SPATTN_ERR_UNKNOWN_KEY = 5,        /* a key the schema does not have */
  SPATTN_ERR_TYPE = 6,               /* a value of the wrong type */
  SPATTN_ERR_OUT_OF_RANGE = 7,       /* a value outside its allowed range or set */
  SPATTN_ERR_DUPLICATE_KEY = 8,      /* the same key twice in one mapping */
  SPATTN_ERR_LIMIT = 9,              /* input too large or too deeply nested */
  SPATTN_ERR_MISSING_KEY = 10,       /* a required key is absent */
  SPATTN_ERR_FORMULA = 11,           /* calibration formula does not parse or evaluate */
  SPATTN_ERR_CALIBRATION_MISSING = 12, /* target_sparsity requested, no formula to map it */
  SPATTN_ERR_CHECKPOINT = 13,        /* checkpoint folder structurally invalid */
  SPATTN_ERR_UNSAFE_PATH = 14,       /* a checkpoint path escapes its folder */
  SPATTN_ERR_NOT_FOUND = 15,         /* no such component / file */
  SPATTN_ERR_UNSUPPORTED = 16,       /* valid request this build or device cannot run */
  SPATTN_ERR_CUDA = 17,              /* the CUDA runtime reported an error */
  SPATTN_ERR_WRONG_ALGORITHM = 18,   /* accessor for an algorithm the config is not */
  SPATTN_ERR_INTERNAL = 19,
  SPATTN_STATUS_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_status;

/* Static, human-readable name of a status ("SPATTN_ERR_TYPE"); never NULL,
 * "SPATTN_ERR_UNKNOWN_STATUS" for values outside the enum. Thread-safe. */
SPATTN_API const char *spattn_status_string(spattn_status status);

/* Message of the last failed call on the calling thread ("" if none). Valid
 * until the next spattn call on the same thread. Successful calls do not
 * clear it. Thread-local: threads never see each other's messages. */
SPATTN_API const char *spattn_last_error(void);

/* Releases a string or buffer the library handed to the caller through a
 * `char **` out-parameter. Accepts NULL. */
SPATTN_API void spattn_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum spattn_log_level {
  SPATTN_LOG_DEBUG = 0,
  SPATTN_LOG_INFO = 1,
  SPATTN_LOG_WARNING = 2,
  SPATTN_LOG_ERROR = 3,
  SPATTN_LOG_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_log_level;

/* Called synchronously, possibly from several threads at once; `message` is
 * valid only during the call. */
typedef void (*spattn_log_fn)(spattn_log_level level, const char *message, void *user_data);

/* Installs (or, with fn == NULL, removes) the process-wide log callback;
 * messages below min_level are dropped. Without a callback the library is
 * silent. Set it before other threads use the library: this is the one
 * piece of process-wide state, and swapping it while other threads log is
 * safe but may deliver a message to the previous callback. */
SPATTN_API spattn_status spattn_set_log_callback(spattn_log_fn fn, spattn_log_level min_level,
                                                 void *user_data);

/* ------------------------------------------------------------------------ */
/* Enumerations shared by configs, lookups and kernels                       */
/* ------------------------------------------------------------------------ */

typedef enum spattn_algorithm {
  SPATTN_ALGORITHM_NONE = 0, /* dense attention: nothing configured */
  SPATTN_ALGORITHM_SKIP_SOFTMAX = 1,
  SPATTN_ALGORITHM_ROCKET = 2,
  SPATTN_ALGORITHM_DSA = 3,
  SPATTN_ALGORITHM_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_algorithm;

/* Static name ("skip_softmax", "rocket", "dsa", "none"); NULL if unknown. */
SPATTN_API const char *spattn_algorithm_name(spattn_algorithm algorithm);

typedef enum spattn_phase {
  SPATTN_PHASE_PREFILL = 0, /* context phase; diffusion denoising steps use this */
  SPATTN_PHASE_DECODE = 1, /* generation phase */
  SPATTN_PHASE_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_phase;

/* A value for each phase. A scalar in the input sets both. */
typedef struct spattn_phase_values {
  double prefill;
  double decode;
} spattn_phase_values;

/* ------------------------------------------------------------------------ */
/* User config                                                              */
/* ------------------------------------------------------------------------ */

typedef struct spattn_config spattn_config;

typedef enum spattn_format {
  SPATTN_FORMAT_AUTO = 0, /* JSON if the first non-blank byte is '{', else YAML;
                             for files, the .json/.yaml/.yml extension decides first */
  SPATTN_FORMAT_JSON = 1,
  SPATTN_FORMAT_YAML = 2,
  SPATTN_FORMAT_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_format;

/* Parses a sparse-attention config. Accepted roots (same schema in both formats):
 *   sparse_attention_config: {algorithm: ..., ...}             (LLM form)
 *   attention_config: {backend: ..., sparse_attention_config: {...}} (VisualGen form)
 *   {algorithm: ..., ...}                                      (the algorithm object)
 * Other top-level keys (kv_cache_config, ...) beside sparse_attention_config
 * are ignored, as in an `--extra_llm_api_options` file; every key inside the
 * algorithm object must be known.
 * `text` need not be NUL-terminated; `length` is its size in bytes.
 * Errors: SPATTN_ERR_SYNTAX, _UNKNOWN_KEY, _TYPE, _OUT_OF_RANGE,
 * _DUPLICATE_KEY, _MISSING_KEY, _LIMIT, _INVALID_ARGUMENT. */
SPATTN_API spattn_status spattn_config_parse(const char *text, size_t length, spattn_format format,
                                             spattn_config **out_config);

/* As spattn_config_parse, reading the file at `path` (UTF-8). Messages name
 * the file. Errors also: SPATTN_ERR_IO. */
SPATTN_API spattn_status spattn_config_parse_file(const char *path, spattn_format format,
                                                  spattn_config **out_config);

/* Releases a config. Accepts NULL. */
SPATTN_API void spattn_config_destroy(spattn_config *config);

/* The configured algorithm (SPATTN_ALGORITHM_NONE for a NULL config). */
SPATTN_API spattn_algorithm spattn_config_algorithm(const spattn_config *config);

/* The VisualGen `attention_config.backend` string ("TRTLLM", ...), or NULL
 * when the config had no backend. Owned by the config. */
SPATTN_API const char *spattn_config_backend(const spattn_config *config);

/* Canonical JSON of what was understood: always the LLM-form root
 * {"sparse_attention_config": {...}} (plus "backend" inside an
 * "attention_config" root when one was given), keys in a fixed order,
 * per-phase values always written as {"prefill": x, "decode": y}, absent
 * optional fields omitted, numbers printed so that they read back exactly.
 * Parsing the result gives an equal config. Free with spattn_free(). */
SPATTN_API spattn_status spattn_config_to_json(const spattn_config *config, char **out_json);

/* skip_softmax, with the Model Optimizer extras (N:M sparse softmax and
 * NVFP4 P quantization), which may also be used with no threshold at all. */
typedef struct spattn_skip_softmax_config {
  uint32_t struct_size;
  int32_t has_threshold_scale_factor; /* 1 when set; value below */
  spattn_phase_values threshold_scale_factor; /* > 0 */
  int32_t has_target_sparsity;
  spattn_phase_values target_sparsity;        /* in [0, 1] */
  int32_t has_disabled_until_timestep;
  double disabled_until_timestep;             /* in [0, 1] */
  /* N:M sparse softmax: keep the n largest of every m consecutive scores.
   * 0/0 when off; otherwise m is 4 or 8 and 1 <= n < m. */
  int32_t sparsity_n;
  int32_t sparsity_m;
  int32_t num_sink_tokens;   /* first keys kept dense (N:M only), >= 0 */
  int32_t dense_window_size; /* keys ending at the diagonal kept dense (N:M only), >= 0 */
  int32_t quantize_p;        /* 1: round P to NVFP4 (E2M1, 16-element blocks) */
  /* (exact rules: spattn_layer_params) */
} spattn_skip_softmax_config;

/* Fills `out` (set out->struct_size first). SPATTN_ERR_WRONG_ALGORITHM if
 * the config is not skip_softmax. */
SPATTN_API spattn_status spattn_config_skip_softmax(const spattn_config *config,
                                                    spattn_skip_softmax_config *out);

/* rocket (RocketKV). Fields not given in the input keep the TensorRT-LLM
 * defaults shown; has_seq_len_threshold tells whether that optional was set. */
typedef enum spattn_kt_cache_dtype {
  SPATTN_KT_CACHE_FLOAT8_E5M2 = 0,
  SPATTN_KT_CACHE_BFLOAT16 = 1,
  SPATTN_KT_CACHE_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_kt_cache_dtype;

typedef struct spattn_rocket_config {
  uint32_t struct_size;
  int32_t window_size;    /* 32,  > 0 */
  int32_t kernel_size;    /* 63,  > 0 */
  double topr;            /* 128, > 0 (an integer count, or a fraction < 1) */
  int32_t topk;           /* 64,  > 0 */
  int32_t prompt_budget;  /* 2048, > 0 */
  int32_t page_size;      /* 4,   > 0 */
  spattn_kt_cache_dtype kt_cache_dtype; /* float8_e5m2 */
  int32_t has_seq_len_threshold;
  int32_t seq_len_threshold; /* > 0 */
} spattn_rocket_config;

SPATTN_API spattn_status spattn_config_rocket(const spattn_config *config,
                                              spattn_rocket_config *out);

/* dsa (DeepSeek Sparse Attention). 0 means "not set" for the optional
 * positive integers. */
typedef struct spattn_dsa_config {
  uint32_t struct_size;
  int32_t index_n_heads;          /* > 0, or 0: unset */
  int32_t index_head_dim;         /* > 0, or 0: unset */
  int32_t index_topk;             /* > 0, or 0: unset */
  int32_t indexer_max_chunk_size; /* > 0, or 0: unset */
  int32_t skip_indexer_for_short_seqs; /* default 1 */
  int32_t enable_heuristic_topk;       /* default 0 */
  int32_t seq_len_threshold;      /* > 0, or 0: unset */
} spattn_dsa_config;

SPATTN_API spattn_status spattn_config_dsa(const spattn_config *config, spattn_dsa_config *out);

/* ------------------------------------------------------------------------ */
/* Model: checkpoint calibration + user config, resolved per layer           */
/* ------------------------------------------------------------------------ */

typedef struct spattn_model spattn_model;

/* Opens a checkpoint folder: either one with `config.json` (one component,
 * named ""), or a diffusers folder with `model_index.json` whose components
 * (`transformer`, `transformer_2`, ...) each have their own
 * `<name>/config.json` (components without one, such as a tokenizer, are
 * skipped; components without sparse metadata are kept, uncalibrated).
 * `user_config` may be NULL: the checkpoint's own defaults then apply. The
 * model copies what it needs from it; the config may be destroyed after.
 * Everything is validated and every formula is compiled and evaluated here,
 * so lookups cannot fail on bad input data.
 * Errors: SPATTN_ERR_IO, _NOT_FOUND, _SYNTAX, _TYPE, _UNKNOWN_KEY,
 * _OUT_OF_RANGE, _DUPLICATE_KEY, _LIMIT, _FORMULA, _CHECKPOINT (two
 * skip_softmax groups, ...), _UNSAFE_PATH (a component escaping the folder,
 * symlinks included), _CALIBRATION_MISSING (target_sparsity requested and no
 * component has a formula for it). */
SPATTN_API spattn_status spattn_model_open(const char *checkpoint_dir,
                                           const spattn_config *user_config,
                                           spattn_model **out_model);

SPATTN_API void spattn_model_destroy(spattn_model *model);

/* Number of components (1 for a plain checkpoint). */
SPATTN_API size_t spattn_model_component_count(const spattn_model *model);

/* Name of component `index` ("" for a plain checkpoint), NULL if out of
 * range. Owned by the model. */
SPATTN_API const char *spattn_model_component_name(const spattn_model *model, size_t index);

/* The checkpoint's ignore patterns of a component, NULL if out of range. */
SPATTN_API size_t spattn_model_ignore_count(const spattn_model *model, size_t component_index);
SPATTN_API const char *spattn_model_ignore_pattern(const spattn_model *model,
                                                   size_t component_index, size_t pattern_index);

typedef enum spattn_source {
  SPATTN_SOURCE_NONE = 0,       /* not set anywhere */
  SPATTN_SOURCE_USER = 1,       /* from the user config */
  SPATTN_SOURCE_CHECKPOINT = 2, /* from the checkpoint's calibration metadata */
  SPATTN_SOURCE_FORMULA = 3, /* threshold computed by the checkpoint formula */
  SPATTN_SOURCE_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_source;

/* Why skip-softmax is off for a layer (enabled == 0). */
typedef enum spattn_disabled_reason {
  SPATTN_DISABLED_NOT = 0,           /* it is enabled */
  SPATTN_DISABLED_NOT_CONFIGURED = 1, /* no skip_softmax config, or no threshold/target anywhere */
  SPATTN_DISABLED_IGNORED = 2,       /* layer matches a checkpoint ignore pattern */
  SPATTN_DISABLED_TIMESTEP = 3, /* timestep >= disabled_until_timestep */
  SPATTN_DISABLED_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_disabled_reason;

/* The sparse-attention phase of a lookup, for CUDA-graph cache keys: a graph
 * captured under one key must not be replayed under another. */
typedef enum spattn_phase_key {
  SPATTN_PHASE_KEY_DENSE = 0,  /* no sparsity: skip-softmax off, no N:M */
  SPATTN_PHASE_KEY_SPARSE = 1, /* skip-softmax or N:M sparse softmax on */
  SPATTN_PHASE_KEY_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_phase_key;

/* No timestep: pass this (any negative value) for LLMs; the
 * disabled_until_timestep cutoff then does not apply. */
#define SPATTN_NO_TIMESTEP (-1.0)

/* The parameters of one attention layer, as spattn_model_lookup resolves
 * them and as spattn_attention_forward / spattn_attention_reference consume
 * them (args.layer_params). `enabled` and `threshold_scale_factor` drive the
 * skip rule (see spattn_attention_args). The Model Optimizer extras
 * (sparsity_n ... quantize_p) are applied whenever they are set, whatever
 * `enabled` says; a launch refuses out-of-range values
 * (SPATTN_ERR_INVALID_ARGUMENT naming the field). A lookup clears N:M
 * (sparsity_n, sparsity_m, num_sink_tokens, dense_window_size) where it
 * disables skip-softmax for a layer an ignore pattern matches or for a
 * timestep at or above the cutoff: such a layer or step runs with no
 * sparsity of any kind. quantize_p, a quantization, stays as configured.
 *
 * N:M sparse softmax (sparsity_n / sparsity_m; 0 / 0: off; otherwise
 * sparsity_m is 4 or 8 and 1 <= sparsity_n < sparsity_m): keys are grouped by
 * sparsity_m from the first key of each sequence (groups start at key indices
 * that are multiples of m); in every group each query row keeps its n largest
 * scores and sets the others to -inf before the softmax. Scores are the raw
 * float32 logits q.k (a positive softmax scale does not change their order);
 * a score outranks another when it is larger, or equal at a lower key index,
 * so exactly n survive (Model Optimizer does the same for m = 4; for m = 8 it
 * keeps every score equal to the n-th largest). Masked keys (causal, or past
 * the end of a sequence) count as -inf and so rank last. Kept whatever their
 * rank: the first num_sink_tokens keys (>= 0) of the sequence, and the
 * dense_window_size (>= 0) keys ending at the row's diagonal: with the
 * bottom-right alignment, query i of a sequence of Lq queries and Lk keys has
 * diagonal key d = i + Lk - Lq (also without causal masking) and keeps keys
 * j with d - dense_window_size < j <= d (keys after the diagonal are never in
 * the window, as in Model Optimizer's "recent tokens"). These are decided per
 * query row and key; Model Optimizer decides them per tile pair of its
 * autotuned tile sizes, which makes its dense region depend on those sizes.
 * Row sums, outputs and LSE are over the surviving keys.
 *
 * NVFP4 P quantization (quantize_p = 1): as in Model Optimizer's flash
 * kernel, the unnormalized probabilities of each processed key tile of
 * SPATTN_SKIP_TILE_KEYS keys, p = exp(s - m) with m the row's running
 * maximum including that tile (so 0 <= p <= 1), are rounded before P.V, in
 * blocks of 16 consecutive keys of a row (blocks start at key indices that
 * are multiples of 16): with a the block's largest p, the block scale is
 * E4M3(448 a) / 2688, E4M3 the nearest FP8 E4M3 value (round to nearest even,
 * saturating at 448; 2688 = 6 * 448 is P's per-tensor global scale for its
 * amax bound 1), and each p becomes E2M1(p / scale) * scale, E2M1 the nearest
 * of {0, 0.5, 1, 1.5, 2, 3, 4, 6} (ties to the even one: 0, 1, 2, 4;
 * saturating at 6); a block whose scale rounds to 0 becomes 0. The row sums
 * (softmax denominator and LSE) take p unrounded. Because m is the running
 * maximum, the rounding depends on the tiling, which is fixed by
 * SPATTN_SKIP_TILE_KEYS.
 *
 * Both extras combine with each other (pruned keys have p = 0 in their
 * block) and with the skip rule, which is unchanged: it compares each row's
 * tile maximum with its running maximum, and N:M pruning never removes a
 * group's largest score, so that maximum is the same before and after
 * pruning. A skipped tile contributes nothing; a kept tile is pruned, then
 * rounded. */
typedef struct spattn_layer_params {
  uint32_t struct_size;
  spattn_algorithm algorithm;
  int32_t enabled;                  /* skip-softmax active: launch with threshold below */
  spattn_disabled_reason disabled_reason;
  spattn_phase_key phase_key;
  double threshold_scale_factor;    /* what the kernel consumes; 0 when not enabled */
  spattn_source threshold_source;   /* USER (given directly) or FORMULA */
  double target_sparsity;           /* the target mapped through the formula, or NaN */
  spattn_source target_source;      /* USER, CHECKPOINT or NONE */
  double disabled_until_timestep;   /* the cutoff in force, or NaN for none */
  spattn_source timestep_source;    /* USER, CHECKPOINT or NONE */
  int32_t sparsity_n;               /* N:M sparse softmax, 0/0 when off */
  int32_t sparsity_m;
  int32_t num_sink_tokens;
  int32_t dense_window_size;
  int32_t quantize_p;
} spattn_layer_params;

/* Resolves the parameters of one attention layer. `component` is a
 * component name (NULL or "" for a plain checkpoint); `layer_name` the
 * module name, either full (`transformer.blocks.0.attn1`) or
 * component-relative (`blocks.0.attn1`): ignore patterns are fnmatch-matched
 * against both. `timestep` is the normalized denoising timestep in [0, 1]
 * (1 at the start of denoising), or SPATTN_NO_TIMESTEP.
 * Lock-free read of immutable data: safe from any number of threads.
 * Errors: SPATTN_ERR_INVALID_ARGUMENT (NULLs, struct_size, phase, timestep
 * above 1 or NaN), SPATTN_ERR_NOT_FOUND (no such component),
 * SPATTN_ERR_CALIBRATION_MISSING (a target was requested and this component
 * has no formula). */
SPATTN_API spattn_status spattn_model_lookup(const spattn_model *model, const char *component,
                                             const char *layer_name, spattn_phase phase,
                                             double timestep, spattn_layer_params *out);

/* The resolved table as JSON: per component, the calibration (formula,
 * coefficients, targets, cutoff, ignore list) and the resolved parameters
 * for each phase. Free with spattn_free(). */
SPATTN_API spattn_status spattn_model_to_json(const spattn_model *model, char **out_json);

/* ------------------------------------------------------------------------ */
/* Attention forward (skip-softmax / BLASST flash attention)                 */
/* ------------------------------------------------------------------------ */

typedef enum spattn_dtype {
  SPATTN_DTYPE_FLOAT16 = 1,
  SPATTN_DTYPE_BFLOAT16 = 2,
  SPATTN_DTYPE_FLOAT8_E4M3 = 3, /* KV caches only: OCP FP8 E4M3 (max 448), with a float scale */
  SPATTN_DTYPE_FLOAT32 = 4,     /* partial outputs of spattn_attention_merge */
  SPATTN_DTYPE_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_dtype;

/* KV caches. */

typedef enum spattn_kv_layout {
  /* k/v [batch][max_seqlen_kv][num_kv_heads][head_dim] by strides {batch, token, head} */
  SPATTN_KV_LAYOUT_CONTIGUOUS = 0,
  /* page pools k/v [num_pages][page_size][num_kv_heads][head_dim] by strides
   * {page, token in page, head}; token j of sequence b lives in page
   * block_table[b * max_pages_per_seq + j / page_size] at slot j % page_size */
  SPATTN_KV_LAYOUT_PAGED = 1,
  SPATTN_KV_LAYOUT_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_kv_layout;

/* Where an attention call reads its keys and values: the caller's KV cache,
 * contiguous or paged, in device memory. Everything that changes from one
 * step to the next (seqlens_kv, block_table) is read by the kernels on the
 * device, so a launch captured in a CUDA graph stays valid when they change.
 * Strides are in elements; the head dimension is contiguous.
 *
 * Values: bf16/fp16 (the queries' dtype), or SPATTN_DTYPE_FLOAT8_E4M3, whose
 * dequantized value is stored * k_scale (keys) or stored * v_scale (values),
 * one float scale per tensor (0 means 1; 16-bit caches take 0 or 1). E4M3 NaN
 * bytes (0x7F, 0xFF) are not values; the result is undefined where one is read.
 *
 * Kernels need k, v 16-byte aligned and strides that keep every row 16-byte
 * aligned (multiples of 8 elements for 16-bit caches, of 16 for FP8).
 *
 * Device-side values the host cannot check: a seqlens_kv[b] above
 * max_seqlen_kv is read as max_seqlen_kv and a negative one as 0; a key whose
 * block_table entry is outside [0, num_pages) is masked (it takes no part in
 * the softmax). The CPU references, which can read them, refuse both with
 * SPATTN_ERR_INVALID_ARGUMENT naming the sequence and the entry. */
typedef struct spattn_kv_cache {
  uint32_t struct_size;
  spattn_kv_layout layout;
  spattn_dtype dtype;          /* FLOAT16, BFLOAT16 or FLOAT8_E4M3 */
  int32_t num_kv_heads;
  int32_t head_dim;            /* of the keys: 64 or 128 */
  int32_t head_dim_v;          /* of the values; 0: head_dim */
  const void *k;
  const void *v;
  int64_t k_strides[3];        /* contiguous: batch, token, head; paged: page, slot, head */
  int64_t v_strides[3];
  float k_scale;               /* FP8 dequantization scales (0: 1) */
  float v_scale;
  const int32_t *seqlens_kv;   /* device [batch]: keys of each sequence; NULL: all max_seqlen_kv */
  int32_t max_seqlen_kv;       /* host: bound of every seqlens_kv[b]; sizes the launch */
  /* Paged only (ignored for contiguous caches): */
  int32_t page_size;           /* 16, 32, 64 or 128 tokens */
  int32_t num_pages;           /* pages in each pool */
  const int32_t *block_table;  /* device [batch][max_pages_per_seq] page ids */
  int32_t max_pages_per_seq;   /* >= ceil(max_seqlen_kv / page_size) */
} spattn_kv_cache;

/* KV tile size of the skip decisions, and query tile size they apply to. */
#define SPATTN_SKIP_TILE_KEYS 128
#define SPATTN_SKIP_TILE_QUERIES 128

/* One attention forward pass. Strides are in elements; the head dimension
 * is contiguous. With cu_seqlens_q == NULL every sequence has seqlen_q
 * queries and seqlen_kv keys and the batch stride is used. With
 * cu_seqlens_q/cu_seqlens_kv (batch + 1 int32 offsets each, in the same
 * memory as q) sequences are packed along the token axis, the batch stride
 * is ignored, and seqlen_q/seqlen_kv are the longest sequence lengths.
 *
 * Layouts: BSHD is strides {S*H*D, H*D, D}; BHSD is {H*S*D, D, S*D}.
 * Causal masking is aligned to the bottom right (query i of a sequence with
 * Lq queries and Lk keys sees keys j <= i + Lk - Lq). A query that sees no
 * key (causal with Lq > Lk, or an empty packed sequence) gets a zero output
 * row and an LSE of -inf. spattn_attention_forward also needs q, k, v, out
 * 16-byte aligned and every stride a multiple of 8 elements
 * (SPATTN_ERR_INVALID_ARGUMENT otherwise); the CPU reference does not.
 *
 * Skip rule (per SPATTN_SKIP_TILE_QUERIES query rows x SPATTN_SKIP_TILE_KEYS
 * keys, tiles taken in increasing key order): with lambda =
 * threshold_scale_factor / Lk, a key tile is skipped when for every row r of
 * the query tile exp(rowmax_tile(r) - m_running(r)) < lambda, on
 * softmax-scaled logits. A skipped tile adds nothing to the output.
 * threshold 0 gives exact dense attention. */
typedef struct spattn_attention_args {
  uint32_t struct_size;
  spattn_dtype dtype;
  int32_t batch;
  int32_t num_heads;       /* query heads */
  int32_t num_kv_heads;    /* divides num_heads (GQA/MQA) */
  int32_t head_dim;        /* 64 or 128 */
  int32_t seqlen_q;
  int32_t seqlen_kv;
  const void *q;           /* [batch][seqlen_q][num_heads][head_dim] by strides */
  const void *k;           /* [batch][seqlen_kv][num_kv_heads][head_dim] by strides */
  const void *v;
  void *out;               /* same shape and dtype as q */
  int64_t q_strides[3];    /* batch, token, head */
  int64_t k_strides[3];
  int64_t v_strides[3];
  int64_t out_strides[3];
  const int32_t *cu_seqlens_q;  /* NULL: fixed lengths */
  const int32_t *cu_seqlens_kv;
  float softmax_scale;     /* 0: 1/sqrt(head_dim) */
  int32_t causal;
  /* Skip threshold: taken from `layer_params` when it is not NULL (0 when
   * that layer is not enabled), else from `threshold_scale_factor`.
   * layer_params also carries N:M sparse softmax and NVFP4 P quantization
   * (see spattn_layer_params); without it neither runs. */
  const spattn_layer_params *layer_params;
  float threshold_scale_factor;
  /* Optional float32 log-sum-exp of the scaled logits (natural log):
   * fixed lengths: [batch][num_heads][seqlen_q]; packed: [num_heads][total_q]. */
  float *lse;
  /* Optional two counters, added to atomically: [0] key tiles visited,
   * [1] of them skipped (per query tile and head). */
  unsigned long long *tile_counters;
  /* Packed batches: the total numbers of query and key tokens, that is
   * cu_seqlens_q[batch] and cu_seqlens_kv[batch], which the host cannot read
   * without a synchronization. They bound the Hopper kernel's bulk tensor
   * copies; 0 (unknown; also what a caller with an older, smaller struct_size
   * gets) runs packed batches on the portable kernel. A wrong nonzero value is
   * a wrong tensor size: results are undefined. Ignored for fixed lengths. */
  int32_t total_q;
  int32_t total_kv;
  /* Chunked prefill over a cached prefix (appended in 0.2): when not NULL, K
   * and V come from this cache (see spattn_kv_cache) and k, v, k_strides,
   * v_strides, num_kv_heads and seqlen_kv above are ignored; each sequence's
   * key count is kv_cache->seqlens_kv[b] (read on the device), its queries
   * the last ones of it (bottom-right). Fixed-length queries or packed
   * queries (cu_seqlens_q, with cu_seqlens_kv NULL). Runs on the portable
   * mma.sync kernel; the Hopper kernel does not read caches yet. */
  const spattn_kv_cache *kv_cache;
  /* > 0: the key count L_kv of lambda = threshold / L_kv for every sequence,
   * instead of each sequence's own: a sequence-parallel caller whose call
   * sees a shard of the keys gives the global length, so every shard skips
   * by the same lambda (appended in 0.2). 0: each sequence's own. */
  int32_t skip_seqlen_kv;
} spattn_attention_args;

/* Launches the forward pass on `stream` (a cudaStream_t; NULL: default
 * stream). Device pointers throughout. Asynchronous, allocates nothing,
 * capturable in a CUDA graph. Arguments are checked before anything is
 * launched. N:M sparse softmax and NVFP4 P quantization (layer_params; their
 * exact rules are documented at spattn_layer_params) run on both kernels
 * (the sm_90a one on Hopper, the portable mma.sync one elsewhere). Errors: SPATTN_ERR_INVALID_ARGUMENT (including
 * layer_params fields out of range), SPATTN_ERR_UNSUPPORTED (head_dim; batch
 * or num_heads above 65535; built without CUDA; no device), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_attention_forward(const spattn_attention_args *args, void *stream);

/* The CPU reference of the same algorithm (same tiles, same skip decisions,
 * same N:M and NVFP4 P rules), on host pointers, synchronously. Slow; for tests and for checking a
 * kernel. Same errors, minus CUDA ones. */
SPATTN_API spattn_status spattn_attention_reference(const spattn_attention_args *args);

/* ------------------------------------------------------------------------ */
/* Decode: few queries per sequence against a KV cache                       */
/* ------------------------------------------------------------------------ */

/* Longest query run per sequence of one decode step (speculative decoding,
 * multi-token prediction). */
#define SPATTN_DECODE_MAX_QUERIES 16
/* Most partial results spattn_attention_merge combines at once. */
#define SPATTN_MERGE_MAX_PARTS 32

/* One decode step of attention: each sequence b has seqlen_q new queries (the
 * last seqlen_q positions of its kv_cache->seqlens_kv[b] keys) for each of
 * num_heads query heads.
 *
 * Rows and the skip rule. The query heads of one KV head (the GQA group of
 * num_heads / num_kv_heads heads) and the step's queries form the rows of one
 * tile, so each key and value is read once for all of them; a group of more
 * than 128 rows is cut into tiles of 128 (row = query * group + head in the
 * group). Keys are visited in tiles of SPATTN_SKIP_TILE_KEYS from key 0. With
 * lambda = threshold_scale_factor / L (L: skip_seqlen_kv when > 0, else the
 * sequence's key count), a key tile is skipped when every row of the tile has
 * exp(tile_max - running_max) < lambda on softmax-scaled logits; a skipped
 * tile's values are never read. Skipping is off when lambda >= 1 (as in
 * TensorRT-LLM's decode kernel, which skips only when the sequence is longer
 * than the threshold).
 *
 * Splits (flash-decoding). The keys of a sequence may be cut into splits,
 * each a run of whole key tiles processed by its own CTA with its own running
 * maximum, whose first tile is never skipped; the splits are merged by their
 * log-sum-exp. The number of splits is a documented function of the shape
 * only, never of the device, so results and skip decisions are reproducible
 * and the CPU reference makes the same ones (spattn_decode_num_splits).
 *
 * Causal: query i of the step (0-based, of seqlen_q) sees keys
 * j <= i + L_kv - seqlen_q. A row that sees no key gets zeros and LSE -inf. */
typedef struct spattn_decode_args {
  uint32_t struct_size;
  spattn_dtype dtype;          /* q and out: FLOAT16 or BFLOAT16 */
  int32_t batch;
  int32_t num_heads;           /* a multiple of kv_cache->num_kv_heads */
  int32_t seqlen_q;            /* 1 .. SPATTN_DECODE_MAX_QUERIES */
  const void *q;               /* [batch][seqlen_q][num_heads][head_dim] by q_strides */
  int64_t q_strides[3];        /* batch, token, head */
  void *out;                   /* [batch][seqlen_q][num_heads][head_dim_v] by out_strides */
  int64_t out_strides[3];
  const spattn_kv_cache *kv_cache;
  float softmax_scale;         /* 0: 1/sqrt(head_dim) */
  int32_t causal;              /* 0 or 1 */
  /* Skip threshold, as in spattn_attention_args (layer_params wins; its
   * threshold for SPATTN_PHASE_DECODE). N:M and NVFP4 P do not apply to
   * decode and are refused when set. */
  const spattn_layer_params *layer_params;
  float threshold_scale_factor;
  int32_t skip_seqlen_kv;      /* > 0: L of lambda for every sequence (sequence-parallel shards) */
  float *lse;                  /* optional float32 [batch][num_heads][seqlen_q], natural log */
  unsigned long long *tile_counters; /* optional [2]: key tiles visited, skipped (per row tile) */
  /* Scratch for the splits, from spattn_decode_workspace_size (device memory,
   * 16-byte aligned; may be NULL when that size is 0). */
  void *workspace;
  size_t workspace_size;
  int32_t num_splits;          /* 0: spattn_decode_num_splits; else this many (1 .. 1024) */
} spattn_decode_args;

/* The number of splits a decode call with these args uses: num_splits when
 * it is > 0, else, with T = ceil(max_seqlen_kv / SPATTN_SKIP_TILE_KEYS) key
 * tiles and C = batch * num_kv_heads * ceil(rows / 128) tiles of rows,
 * min(T, ceil(256 / C)) (at least 1). Every split but the last has
 * ceil(T / splits) tiles. */
SPATTN_API spattn_status spattn_decode_num_splits(const spattn_decode_args *args, int32_t *out_splits);

/* Bytes of device workspace spattn_attention_decode needs for these args (0
 * when there is a single split). Depends on the shape and num_splits only. */
SPATTN_API spattn_status spattn_decode_workspace_size(const spattn_decode_args *args, size_t *out_bytes);

/* Launches one decode step on `stream`. Asynchronous, allocates nothing,
 * capturable in a CUDA graph (seqlens_kv and block_table may change between
 * replays; the shape, pointers and max_seqlen_kv may not). Errors:
 * SPATTN_ERR_INVALID_ARGUMENT (a field out of range, misaligned pointers or
 * strides, workspace too small; the message names the field),
 * SPATTN_ERR_UNSUPPORTED (head_dim, dtype pairs; built without CUDA; no
 * device), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_attention_decode(const spattn_decode_args *args, void *stream);

/* The CPU reference of the same step (same tiles, splits and skip decisions),
 * on host pointers (the cache, block table and seqlens too), synchronously.
 * workspace is not used. */
SPATTN_API spattn_status spattn_attention_decode_reference(const spattn_decode_args *args);

/* ------------------------------------------------------------------------ */
/* Merging partial attention by log-sum-exp                                  */
/* ------------------------------------------------------------------------ */

/* Combines num_parts partial attention results over disjoint key sets (KV
 * splits, sequence-parallel shards) into one: with lse = log(sum_p
 * exp(lse_p)), out = sum_p exp(lse_p - lse) * out_p. A part whose LSE is
 * -inf contributes nothing; a row with every LSE -inf gets zeros and -inf. */
typedef struct spattn_merge_args {
  uint32_t struct_size;
  int32_t num_parts;           /* 1 .. SPATTN_MERGE_MAX_PARTS */
  int32_t batch;
  int32_t seqlen;              /* query tokens per sequence */
  int32_t num_heads;
  int32_t head_dim;            /* 1 .. 1024 */
  spattn_dtype parts_dtype;    /* FLOAT32, FLOAT16 or BFLOAT16 */
  /* Host arrays of num_parts pointers to [batch][seqlen][num_heads][head_dim]
   * by part_strides, and to LSEs [batch][num_heads][seqlen] (natural log, the
   * layout spattn_attention_forward and spattn_attention_decode write). */
  const void *const *parts;
  int64_t part_strides[3];     /* batch, token, head */
  const float *const *part_lse;
  spattn_dtype out_dtype;      /* FLOAT32, FLOAT16 or BFLOAT16 */
  void *out;
  int64_t out_strides[3];
  float *lse;                  /* optional merged LSE [batch][num_heads][seqlen] */
} spattn_merge_args;

/* Launches the merge on `stream`: asynchronous, capturable. Errors as
 * spattn_attention_decode. */
SPATTN_API spattn_status spattn_attention_merge(const spattn_merge_args *args, void *stream);

/* The CPU version, on host pointers. */
SPATTN_API spattn_status spattn_attention_merge_reference(const spattn_merge_args *args);

/* ------------------------------------------------------------------------ */
/* Index-sparse attention (DSA, RocketKV)                                    */
/* ------------------------------------------------------------------------ */

/* Longest index list (entries per query) spattn_sparse_attention takes. */
#define SPATTN_SPARSE_MAX_TOPK 4096

/* Attention over listed keys only: each query row attends to the KV positions
 * its index list names, read through the caller's KV cache (spattn_kv_cache,
 * contiguous or paged, 16-bit or FP8 E4M3). One kernel serves DeepSeek Sparse
 * Attention (a list per query token, shared by all its heads) and RocketKV's
 * generation phase (a list per sequence and KV head, shared by the queries of
 * the step and the query heads of that KV head).
 *
 * Lists. The list of query token i of sequence b for KV head g is the topk
 * int32 entries at
 *   indices + b * index_strides[0] + t * index_strides[1] + g * index_strides[2]
 * with t = i for fixed lengths and t = cu_seqlens_q[b] + i (the packed token
 * index) for packed queries; a stride of 0 shares one list (strides in
 * elements; the entries of one list are contiguous). An entry is a key
 * position in [0, L_kv) of the sequence (L_kv = kv_cache->seqlens_kv[b]),
 * mapped through the block table for paged caches (not a page * page_size +
 * slot address as in FlashMLA); -1 is an empty slot.
 *
 * What a row attends to: the SET of valid entries of its list. Entries are
 * ignored when they are -1, when they are out of range (< -1 or >= L_kv), when
 * causal is 1 and the key lies after the query's diagonal (query i of a
 * sequence with L_q queries sees keys j <= i + L_kv - L_q), or when the key's
 * block_table page is outside [0, num_pages); a position listed twice counts
 * once. The order of a list does not matter (the kernel works through it in
 * increasing key order; a list that is already increasing, as spattn_topk
 * writes them, is not reordered). The GPU cannot fail on device data, so it
 * ignores the bad entries as said; the CPU reference refuses out-of-range and
 * duplicate entries with SPATTN_ERR_INVALID_ARGUMENT naming the sequence,
 * token, KV head and slot. A row with no valid entry gets zeros and an LSE of
 * -inf.
 *
 * Shapes. GQA: kv_cache->head_dim 64 or 128 and head_dim_v equal to it; q is
 * [tokens][num_heads][head_dim], out [tokens][num_heads][head_dim]. The query
 * heads of KV head g are g * group .. (g + 1) * group - 1 (group = num_heads /
 * num_kv_heads); each listed key and value row is read once for all the rows
 * that share the list. MLA in absorbed form (DeepSeek V3.2): num_kv_heads 1,
 * head_dim 576, head_dim_v 512, and the values are the first 512 dims of the
 * keys (kv_cache->v == kv_cache->k with the same strides): q
 * [tokens][num_heads][576], out [tokens][num_heads][512].
 *
 * Splits. A list may be cut into splits of whole runs of
 * SPATTN_SPARSE_SPLIT_KEYS entries, each processed by its own CTA and merged
 * by log-sum-exp through the workspace (decode-sized problems, where there
 * are few lists). The number of splits depends on the shape only
 * (spattn_sparse_attention_num_splits); results do not depend on it beyond
 * rounding. */
#define SPATTN_SPARSE_SPLIT_KEYS 64

typedef struct spattn_sparse_attention_args {
  uint32_t struct_size;
  spattn_dtype dtype;            /* q and out: FLOAT16 or BFLOAT16 */
  int32_t batch;                 /* 1 .. 65535 */
  int32_t num_heads;             /* query heads, a multiple of kv_cache->num_kv_heads */
  int32_t seqlen_q;              /* queries per sequence (fixed), or the longest (packed) */
  const int32_t *cu_seqlens_q;   /* device [batch + 1] packed query offsets, or NULL: fixed lengths */
  const void *q;                 /* [batch][seqlen_q][num_heads][head_dim] by q_strides */
  int64_t q_strides[3];          /* batch, token, head (packed: batch ignored, token = packed index) */
  void *out;                     /* [batch][seqlen_q][num_heads][head_dim_v] by out_strides */
  int64_t out_strides[3];
  const spattn_kv_cache *kv_cache;
  const int32_t *indices;        /* device lists, see above */
  int64_t index_strides[3];      /* batch, query token, KV head; 0 shares a list */
  int32_t topk;                  /* entries per list: 1 .. SPATTN_SPARSE_MAX_TOPK */
  int32_t causal;                /* 1: entries after a query's diagonal are ignored */
  float softmax_scale;           /* 0: 1/sqrt(kv_cache->head_dim) */
  float *lse;                    /* optional float32 natural-log LSE: fixed [batch][num_heads][seqlen_q];
                                    packed [num_heads][total queries] */
  void *workspace;               /* device scratch of spattn_sparse_attention_workspace_size bytes,
                                    16-byte aligned; may be NULL when that is 0 */
  size_t workspace_size;
  int32_t num_splits;            /* 0: automatic; else this many (1 .. 64) */
} spattn_sparse_attention_args;

/* The splits of a call: num_splits when > 0; else, with T =
 * ceil(topk / SPATTN_SPARSE_SPLIT_KEYS) runs and C the CTAs of one split (one
 * per list and tile of up to 64 rows: rows are the group's query heads, times
 * the step's queries when lists are shared across query tokens), min(T,
 * ceil(256 / C)), at least 1, at most 64. Every split but the last has
 * ceil(T / splits) runs. */
SPATTN_API spattn_status spattn_sparse_attention_num_splits(const spattn_sparse_attention_args *args,
                                                            int32_t *out_splits);

/* Bytes of device workspace spattn_sparse_attention needs (0 with one split). */
SPATTN_API spattn_status spattn_sparse_attention_workspace_size(const spattn_sparse_attention_args *args,
                                                                size_t *out_bytes);

/* Launches the index-sparse attention on `stream`: asynchronous, allocates
 * nothing, capturable in a CUDA graph (indices, seqlens_kv, block_table and
 * cu_seqlens_q are read on the device and may change between replays).
 * Errors: SPATTN_ERR_INVALID_ARGUMENT (naming the field), SPATTN_ERR_UNSUPPORTED
 * (head dims, built without CUDA, no device), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_sparse_attention(const spattn_sparse_attention_args *args, void *stream);

/* The CPU reference (float64 softmax over the same sets), on host pointers,
 * synchronously; refuses out-of-range and duplicate entries (see above). */
SPATTN_API spattn_status spattn_sparse_attention_reference(const spattn_sparse_attention_args *args);

/* ------------------------------------------------------------------------ */
/* Top-k selection                                                           */
/* ------------------------------------------------------------------------ */

/* Per row r of a float score matrix, the indices of its k largest scores
 * among its first L_r = lengths[r] columns (clamped to [0, num_cols]; all
 * num_cols when lengths is NULL). A score outranks another when it is larger,
 * or equal (+0 and -0 are equal) at a lower column, so the selection is
 * unique. Scores of -inf and NaN are never selected (they mark masked
 * entries). The min(k, candidates) selected columns are written in
 * increasing column order to indices[r * index_row_stride + 0 ..], and the
 * remaining slots up to k get -1. The same rule picks DSA's index_topk keys
 * per query token and RocketKV's pages. */
typedef struct spattn_topk_args {
  uint32_t struct_size;
  int32_t num_rows;            /* >= 0 */
  int32_t num_cols;            /* host bound of every row's length, >= 0 */
  const float *scores;         /* device [num_rows][>= num_cols] by score_row_stride */
  int64_t score_row_stride;    /* elements, >= num_cols */
  const int32_t *lengths;      /* optional device [num_rows] */
  int32_t k;                   /* >= 1 */
  int32_t *indices;            /* device [num_rows][>= k] by index_row_stride */
  int64_t index_row_stride;    /* elements, >= k */
} spattn_topk_args;

/* Launches the selection on `stream` (asynchronous, no workspace, capturable). */
SPATTN_API spattn_status spattn_topk(const spattn_topk_args *args, void *stream);

/* The CPU version, on host pointers. */
SPATTN_API spattn_status spattn_topk_reference(const spattn_topk_args *args);

/* ------------------------------------------------------------------------ */
/* DSA lightning indexer                                                     */
/* ------------------------------------------------------------------------ */

/* The lightning indexer of DeepSeek V3.2: for query token t (query i of
 * sequence b) and key s of the indexer's key cache,
 *   I[t][s] = k_token_scale[s] * k_scale * sum_h w[t][h] * ReLU(q[t][h] . k[s])
 * over the causal prefix s <= i + L_kv - L_q (L_kv = k_cache->seqlens_kv[b],
 * bottom-right alignment); q . k is the dot product of the stored values (FP8
 * E4M3 or 16-bit), w is float32 and folds in whatever scales the model applies
 * to q (V3.2: its FP8 quantization scale, the softmax scale and
 * index_n_heads^-0.5). Logits row r (r = b * seqlen_q + i for fixed lengths,
 * the packed token index for packed queries) gets I[t][s] in columns
 * s < prefix length and -inf in the others up to k_cache->max_seqlen_kv, so
 * spattn_topk can select from the rows as they are. The indexer's key cache
 * uses spattn_kv_cache with num_kv_heads 1 and head_dim = index_head_dim (64
 * or 128): FP8 E4M3 with an optional float scale per key (k_token_scales),
 * or 16-bit (the queries' dtype); its v, v_strides and v_scale are not read
 * (set v = k). q FP8 E4M3 needs FP8 keys; 16-bit queries take either. */
typedef struct spattn_dsa_indexer_args {
  uint32_t struct_size;
  spattn_dtype q_dtype;          /* FLOAT8_E4M3, BFLOAT16 or FLOAT16 */
  int32_t batch;                 /* 1 .. 65535 */
  int32_t seqlen_q;              /* queries per sequence (fixed), or the longest (packed) */
  const int32_t *cu_seqlens_q;   /* device [batch + 1], or NULL: fixed lengths */
  int32_t num_heads;             /* index_n_heads: 1 .. 128 */
  const void *q;                 /* [batch][seqlen_q][num_heads][head_dim] by q_strides */
  int64_t q_strides[3];          /* batch, token, head */
  const float *weights;          /* [batch][seqlen_q][num_heads] by weight_strides, heads contiguous */
  int64_t weight_strides[2];     /* batch, token */
  const spattn_kv_cache *k_cache;
  const float *k_token_scales;   /* optional: contiguous [batch][token] / paged [page][slot] by
                                    k_token_scale_strides (elements); NULL: 1 */
  int64_t k_token_scale_strides[2];
  float *logits;                 /* device [rows][>= k_cache->max_seqlen_kv] by logits_row_stride */
  int64_t logits_row_stride;
} spattn_dsa_indexer_args;

/* Launches the indexer on `stream` (asynchronous, no workspace, capturable). */
SPATTN_API spattn_status spattn_dsa_indexer(const spattn_dsa_indexer_args *args, void *stream);

/* The CPU reference: each score computed in float64 from the stored inputs
 * and rounded to float32 once (so inputs whose products and sums are exact in
 * float32 give exactly the kernel's scores). */
SPATTN_API spattn_status spattn_dsa_indexer_reference(const spattn_dsa_indexer_args *args);

/* ------------------------------------------------------------------------ */
/* A DSA layer in one call                                                   */
/* ------------------------------------------------------------------------ */

/* The indexer, the top-index_topk selection per query token and the
 * index-sparse attention over the selected keys, from the two pieces' args.
 * For each query token the layer selects (spattn_topk's rule) the index_topk
 * keys of largest indexer score in its causal prefix and attends to them.
 * With config->skip_indexer_for_short_seqs, a sequence whose L_kv is at most
 * index_topk selects all its prefix keys without running the indexer (the
 * same selection, barring NaN or -inf scores). The scores are computed in
 * chunks of queries through the workspace (config->indexer_max_chunk_size
 * query rows per chunk when set). enable_heuristic_topk and seq_len_threshold
 * do not change anything here: the selection is always exact. The keys of
 * the two caches are the same tokens; an index the attention cache does not
 * hold is ignored as in spattn_sparse_attention. */
typedef struct spattn_dsa_layer_args {
  uint32_t struct_size;
  const spattn_dsa_config *config;   /* index_topk; index_n_heads / index_head_dim checked when set */
  const spattn_dsa_indexer_args *indexer;  /* logits and logits_row_stride are not read */
  /* indices, index_strides, topk, causal, workspace, workspace_size are not
   * read: the layer's selection is per query token and causal. */
  const spattn_sparse_attention_args *attention;
  int32_t index_topk;                /* 0: config->index_topk; 1 .. SPATTN_SPARSE_MAX_TOPK */
  int32_t *indices;                  /* optional device [rows][index_topk] (rows as the indexer's
                                        logits rows): the selection is written there */
  void *workspace;                   /* device scratch of spattn_dsa_layer_workspace_size bytes */
  size_t workspace_size;
} spattn_dsa_layer_args;

SPATTN_API spattn_status spattn_dsa_layer_workspace_size(const spattn_dsa_layer_args *args, size_t *out_bytes);

/* Launches the layer on `stream`: asynchronous, allocates nothing, capturable.
 * Errors as the pieces, plus SPATTN_ERR_INVALID_ARGUMENT when the pieces
 * disagree (batch, seqlen_q, cu_seqlens_q) or the config's index shapes differ
 * from the indexer's. */
SPATTN_API spattn_status spattn_dsa_layer(const spattn_dsa_layer_args *args, void *stream);

/* The CPU reference of the layer (the pieces' references in sequence); the
 * workspace is not used. */
SPATTN_API spattn_status spattn_dsa_layer_reference(const spattn_dsa_layer_args *args);
/* RocketKV: prompt compression after prefill, KT cache, top-k page decode   */
/* ------------------------------------------------------------------------ */

/* RocketKV (arXiv 2502.14051, as TensorRT-LLM implements it) for one layer,
 * from its parsed config (spattn_config_rocket), in two phases on the
 * caller's KV cache (spattn_kv_cache). Notation: G = num_heads /
 * num_kv_heads (the GQA group), W = window_size, B = prompt_budget,
 * P = page_size, c = softmax_scale (0: 1/sqrt(head_dim)), L = a sequence's
 * key count kv_cache->seqlens_kv[b] (read on the device). Keys are
 * dequantized (FP8 caches: stored * k_scale). "Ties: lower first" means that
 * of equal values the one at the lower index is preferred.
 *
 * Context phase (once per sequence, after the caller's dense prefill wrote
 * its L tokens to the cache):
 *  1. Select. A sequence with L < B keeps every token. With L >= B, the
 *     prefix is positions [0, L - W) and the window [L - W, L). For each
 *     query head h of KV head g and window query i, the row
 *     s_j = c q_{h,i} . k_j over the prefix keys j is softmaxed over the
 *     prefix keys only; S_g[j] = sum over the G heads and W rows of the
 *     probabilities; pooled_g[j] = the maximum of S_g[t] over t in
 *     [j - floor(K/2), j - floor(K/2) + K - 1] within the prefix (K =
 *     kernel_size); the B - W prefix positions of largest pooled_g (ties:
 *     lower first), in increasing order, then the W window positions, are
 *     KV head g's B kept positions. kept_indices[b][g][t] is the t-th kept
 *     position (-1 past min(L, B)).
 *  2. Compact. Per KV head, the t-th kept token's key and value move to
 *     position t, in place (kv_cache->k and ->v must be writable device
 *     memory; the descriptor's const says what the attention calls do). The
 *     sequence's length becomes min(L, B) (written to seqlens_out when given;
 *     seqlens_out may be kv_cache->seqlens_kv itself).
 *  3. Build the KT cache. Entry e of KV head g holds the element-wise
 *     minimum and maximum of the keys [e P, min(e P + P, L')) of the compacted
 *     sequence (L' = min(L, B)), each rounded once to the KT dtype (round to
 *     nearest even; E5M2 saturates at +-57344 rather than overflowing).
 *
 * Decode step (one new query per sequence; the caller has appended the new
 * token's key and value to the cache, so L counts it):
 *  1. Update the KT cache: entry floor((L - 1) / P) becomes the min/max of
 *     its stored values and the new key (the new key alone when
 *     (L - 1) % P == 0), rounded again.
 *  2. Select. Per KV head g: the r dims d of largest sum over the group's
 *     heads of |q_{h,d}| (ties: lower first), r = topr when topr >= 1 (an
 *     integer), else max(1, floor(topr * head_dim)); every dim when
 *     r >= head_dim. For each head h and entry e < n = ceil(L / P):
 *     u_{h,e} = c * sum over those d of max(q_{h,d} kmin_{e,d}, q_{h,d} kmax_{e,d}),
 *     the bound of q . k over the entry's keys; softmax over e per head;
 *     the mean over the G heads; the min(topk, n) entries of largest mean
 *     (ties: lower first). selected_indices[b][g][...] lists the tokens of
 *     the selected entries in increasing order, -1 after them.
 *  3. Attend. Each query head attends to exactly its KV head's selected
 *     tokens (index-sparse attention), out and the optional LSE as in
 *     spattn_attention_decode.
 *
 * Where spattn differs from TensorRT-LLM's RocketKV (and why):
 *  - The page bound is the per-head bound above; TensorRT-LLM picks kmax or
 *    kmin per dim by the sign of the group's summed q_d, the same for every
 *    head (the two agree for G = 1 or when the heads agree in sign). The
 *    per-head form is the true upper bound RocketKV scores by.
 *  - q keeps its 16-bit value in the bound; TensorRT-LLM rounds q to the KT
 *    dtype (E5M2: 2 mantissa bits) first. Nothing is gained by the rounding.
 *  - Top-k is exact, ties lower first; TensorRT-LLM's decode top-k compares
 *    values rounded to fp16 and its prefill top-k leaves tie order open, so
 *    its selections are not reproducible across kernels.
 *  - A partial last page's KT entry covers its real tokens only;
 *    TensorRT-LLM's context kernel also takes the zeros of its masked lanes.
 *  - The attention reads exactly the selected tokens; TensorRT-LLM's sparse
 *    generation kernel reads every KV-cache block (tokens_per_block tokens)
 *    that holds a selected entry, so its result depends on the cache's block
 *    size. TensorRT-LLM keeps nothing else (no sink or recent tokens); nor
 *    does spattn.
 *  - Fractional topr is defined (TensorRT-LLM hands topr to torch.topk,
 *    which takes integers only). seq_len_threshold is not used (TensorRT-LLM
 *    uses it to choose CUDA graphs).
 *
 * Shapes: head_dim 64 or 128 (keys and values alike), page_size a power of
 * two in [1, 128], prompt_budget > window_size; the kernels pool at most
 * 1024 wide (kernel_size; the CPU reference takes any). Decode: topk *
 * page_size at most SPATTN_SPARSE_MAX_TOPK (the index-sparse attention's
 * longest list) and at most 128 query heads per KV head. */

/* The KT cache: per sequence, KV head and entry (P consecutive tokens), a row
 * of 2 * head_dim values, the entry's element-wise key minimum (first
 * head_dim) then maximum, in the config's kt_cache_dtype (bf16, or E5M2
 * bytes). Contiguous: [batch][max_entries][num_kv_heads][2 * head_dim] by
 * strides {batch, entry, head}; paged: a pool
 * [num_blocks][entries_per_block][num_kv_heads][2 * head_dim] by strides
 * {block, entry in block, head}, entry e of sequence b in block
 * block_table[b * max_blocks_per_seq + e / entries_per_block]. Strides in
 * elements; data and strides keep rows 16-byte aligned. Entries not yet
 * built hold anything. */
typedef struct spattn_kt_cache {
  uint32_t struct_size;
  spattn_kv_layout layout;
  spattn_kt_cache_dtype dtype;  /* must equal the config's kt_cache_dtype */
  int32_t num_kv_heads;         /* the KV cache's */
  int32_t head_dim;             /* the KV cache's */
  void *data;                   /* device memory, written by the calls below */
  int64_t strides[3];
  int32_t max_entries;          /* entries a sequence can hold: >= ceil(kv_cache->max_seqlen_kv / P) */
  /* Paged only (ignored for contiguous caches): */
  int32_t entries_per_block;    /* > 0 */
  int32_t num_blocks;
  const int32_t *block_table;   /* device [batch][max_blocks_per_seq] block ids */
  int32_t max_blocks_per_seq;   /* entries_per_block * max_blocks_per_seq >= max_entries */
} spattn_kt_cache;

/* The context phase of one layer for a batch of sequences. */
typedef struct spattn_rocket_context_args {
  uint32_t struct_size;
  const spattn_rocket_config *config;  /* from spattn_config_rocket */
  spattn_dtype dtype;          /* q_window: FLOAT16 or BFLOAT16 */
  int32_t batch;
  int32_t num_heads;           /* a multiple of kv_cache->num_kv_heads */
  /* The queries of each sequence's last window_size positions (row i is
   * position L - W + i): [batch][window_size][num_heads][head_dim] by
   * q_strides {batch, token, head}. Read only for sequences with L >= B. */
  const void *q_window;
  int64_t q_strides[3];
  const spattn_kv_cache *kv_cache;  /* compacted in place (see above) */
  const spattn_kt_cache *kt_cache;  /* built */
  float softmax_scale;         /* 0: 1/sqrt(head_dim) */
  int32_t *seqlens_out;        /* optional device [batch]: min(L, B) */
  /* Device [batch][num_kv_heads][prompt_budget]: the kept positions, written
   * by the selection, read by the compaction. Optional for
   * spattn_rocket_context (the workspace holds them when NULL); required by
   * the pieces spattn_rocket_context_select and _compact. */
  int32_t *kept_indices;
  void *workspace;             /* from spattn_rocket_context_workspace_size; 16-byte aligned */
  size_t workspace_size;
} spattn_rocket_context_args;

/* Bytes of device workspace spattn_rocket_context (and each of its pieces)
 * needs for these args; depends on the shape only. */
SPATTN_API spattn_status spattn_rocket_context_workspace_size(const spattn_rocket_context_args *args,
                                                             size_t *out_bytes);

/* The whole context phase (select, compact, build the KT cache) on `stream`:
 * asynchronous, allocates nothing, capturable. Errors:
 * SPATTN_ERR_INVALID_ARGUMENT (a field out of range, misaligned, workspace
 * too small; the message names the field), SPATTN_ERR_UNSUPPORTED (head_dim,
 * dtype; built without CUDA; no device), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_rocket_context(const spattn_rocket_context_args *args, void *stream);

/* The pieces of the context phase, each on its own, in this order (each
 * once): select writes kept_indices; compact reads them, moves the keys and
 * values and writes seqlens_out; build_kt reads the compacted cache (with
 * lengths min(kv_cache->seqlens_kv[b], B), so either the old or the updated
 * lengths will do). Same errors. */
SPATTN_API spattn_status spattn_rocket_context_select(const spattn_rocket_context_args *args, void *stream);
SPATTN_API spattn_status spattn_rocket_context_compact(const spattn_rocket_context_args *args, void *stream);
SPATTN_API spattn_status spattn_rocket_context_build_kt(const spattn_rocket_context_args *args, void *stream);

/* The CPU reference of the whole context phase, on host pointers (q, caches,
 * block tables, lengths, outputs), synchronously; the workspace is not used.
 * Same decisions as the kernels. */
SPATTN_API spattn_status spattn_rocket_context_reference(const spattn_rocket_context_args *args);

/* One decode step of one layer (one query per sequence). */
typedef struct spattn_rocket_decode_args {
  uint32_t struct_size;
  const spattn_rocket_config *config;  /* from spattn_config_rocket */
  spattn_dtype dtype;          /* q and out: FLOAT16 or BFLOAT16 */
  int32_t batch;
  int32_t num_heads;           /* a multiple of kv_cache->num_kv_heads */
  const void *q;               /* [batch][1][num_heads][head_dim] by q_strides {batch, token (unused), head} */
  int64_t q_strides[3];
  void *out;                   /* [batch][1][num_heads][head_dim] by out_strides */
  int64_t out_strides[3];
  const spattn_kv_cache *kv_cache;  /* holds the new token (L counts it) */
  const spattn_kt_cache *kt_cache;  /* updated with the new key */
  float softmax_scale;         /* 0: 1/sqrt(head_dim); the bound's c and the attention's */
  float *lse;                  /* optional float32 [batch][num_heads], natural log */
  /* Device [batch][num_kv_heads][topk * page_size]: the attended tokens,
   * written by the selection, read by the attention. Optional for
   * spattn_rocket_decode; required by spattn_rocket_decode_select and
   * _attend. */
  int32_t *selected_indices;
  void *workspace;             /* from spattn_rocket_decode_workspace_size; 16-byte aligned */
  size_t workspace_size;
} spattn_rocket_decode_args;

/* Bytes of device workspace spattn_rocket_decode (and each of its pieces)
 * needs for these args; depends on the shape only. */
SPATTN_API spattn_status spattn_rocket_decode_workspace_size(const spattn_rocket_decode_args *args,
                                                            size_t *out_bytes);

/* The whole decode step (update the KT cache, select, attend) on `stream`:
 * asynchronous, allocates nothing, capturable in a CUDA graph (lengths and
 * block tables may change between replays). Errors as
 * spattn_rocket_context. */
SPATTN_API spattn_status spattn_rocket_decode(const spattn_rocket_decode_args *args, void *stream);

/* The pieces of the decode step, each on its own, in this order (each once
 * per step). Same errors. */
SPATTN_API spattn_status spattn_rocket_decode_update_kt(const spattn_rocket_decode_args *args, void *stream);
SPATTN_API spattn_status spattn_rocket_decode_select(const spattn_rocket_decode_args *args, void *stream);
SPATTN_API spattn_status spattn_rocket_decode_attend(const spattn_rocket_decode_args *args, void *stream);

/* The CPU reference of the whole decode step, on host pointers,
 * synchronously; the workspace is not used. */
SPATTN_API spattn_status spattn_rocket_decode_reference(const spattn_rocket_decode_args *args);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPATTN_SPATTN_H */
