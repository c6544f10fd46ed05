/*
 * spattn: sparse-attention runtime library. The one public header.
 * SPDX-License-Identifier: Apache-2.0
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
 *    appended, so a caller built against an older header keeps working:
 *    every call accepts any struct_size from the struct's first published
 *    layout up and uses exactly the fields of the newest published layout
 *    that fits in struct_size (never part of a field). Input fields an
 *    older caller's struct lacks read as 0, and an appended field's 0 always
 *    means the behavior from before it existed; output fields it lacks are
 *    not written. Bytes past the library's own layout (a caller built
 *    against a newer header) are neither read nor written: check
 *    spattn_version() before relying on newer fields. A struct_size below
 *    the first layout is SPATTN_ERR_INVALID_ARGUMENT.
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
  SPATTN_ALGORITHM_VSA = 4, /* Video Sparse Attention (cube-sparse, video diffusion) */
  SPATTN_ALGORITHM_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_algorithm;

/* Static name: the lowercase suffix of the constant ("skip_softmax",
 * "rocket", "dsa", "vsa", "none"); NULL if unknown. Every enum value that the
 * library writes as text (spattn_model_to_json, spattn_config_to_json, the
 * `spattn` tool) is spelled this way: SPATTN_DISABLED_IGNORED is "ignored",
 * SPATTN_SOURCE_FORMULA "formula", SPATTN_PHASE_KEY_SPARSE "sparse". */
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
 * or attention_config are ignored, as in an `--extra_llm_api_options` file;
 * every key inside the algorithm object (and inside attention_config) must be
 * known: the fields of TensorRT-LLM's current config classes, with `null`
 * meaning "not set". `algorithm` is skip_softmax, rocket, dsa or vsa.
 *
 * LLM form and the algorithm object: a per-phase value {prefill, decode} may
 * give one phase only; the missing phase is off. VisualGen form (as
 * TensorRT-LLM's VisualGen validates it): values are scalars, algorithm is
 * skip_softmax or vsa, `backend` is one of VANILLA (the default when absent),
 * TRTLLM, FA4, CUTEDSL, TE; skip_softmax needs TRTLLM or CUTEDSL, vsa needs
 * CUTEDSL; `quant_attention_config` is checked against the backend's recipes
 * and cannot be combined with vsa. A config refused there is refused here
 * with the same reason (SPATTN_ERR_OUT_OF_RANGE naming the backend).
 *
 * YAML is read as PyYAML's safe loader reads it: YAML 1.1 booleans (yes/no,
 * on/off), merge keys (`<<: *anchor`), numbers too small for a double read as
 * 0; tags other than the core schema's (`!!python/...`, on scalars, mappings
 * or sequences) are refused. JSON also accepts Python's NaN / Infinity
 * literals (a field that is used must still be finite). Strings containing
 * U+0000 are refused in both formats. Messages give file:line:column.
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
 * when the config had no backend (VisualGen then uses VANILLA). Owned by the
 * config. */
SPATTN_API const char *spattn_config_backend(const spattn_config *config);

/* Canonical JSON of what was understood: the LLM-form root
 * {"sparse_attention_config": {...}}, or an {"attention_config": {...}} root
 * for a VisualGen-form config (with its backend when one was given), keys in
 * a fixed order, per-phase values written as {"prefill": x, "decode": y}
 * (a phase not given is left out), absent optional fields omitted, numbers
 * printed so that they read back exactly. Parsing the result gives an equal
 * config. Free with spattn_free(). */
SPATTN_API spattn_status spattn_config_to_json(const spattn_config *config, char **out_json);

/* skip_softmax, with the Model Optimizer extras (N:M sparse softmax and
 * NVFP4 P quantization), which may also be used with no threshold at all.
 * A per-phase value that gives one phase only leaves the other NaN: that
 * phase is off (a user value replaces the checkpoint's whole value). */
typedef struct spattn_skip_softmax_config {
  uint32_t struct_size;
  int32_t has_threshold_scale_factor; /* 1 when set; value below */
  spattn_phase_values threshold_scale_factor; /* >= 0; 0 (or NaN: not given) = off */
  int32_t has_target_sparsity;
  spattn_phase_values target_sparsity;        /* in [0, 1]; NaN: not given */
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

/* The DSA indexer's K cache format (TensorRT-LLM `indexer_k_dtype`). */
typedef enum spattn_indexer_k_dtype {
  SPATTN_INDEXER_K_FP8 = 0, /* "fp8": FP8 E4M3 with a float32 scale per 128 */
  SPATTN_INDEXER_K_FP4 = 1, /* "fp4": FP4 E2M1 with a UE8M0 scale per 32; needs index_head_dim 128 */
  SPATTN_INDEXER_K_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_indexer_k_dtype;

/* dsa (DeepSeek Sparse Attention). 0 means "not set" for the optional
 * positive integers. The fields after seq_len_threshold are TensorRT-LLM's
 * kernel-selection switches, kept so its option files are understood; their
 * defaults are TensorRT-LLM's. */
typedef struct spattn_dsa_config {
  uint32_t struct_size;
  int32_t index_n_heads;          /* > 0, or 0: unset */
  int32_t index_head_dim;         /* > 0, or 0: unset */
  int32_t index_topk;             /* > 0, or 0: unset */
  int32_t indexer_max_chunk_size; /* > 0, or 0: unset */
  int32_t skip_indexer_for_short_seqs; /* default 1 */
  int32_t enable_heuristic_topk;       /* default 0 */
  int32_t seq_len_threshold;      /* > 0, or 0: unset */
  int32_t use_cute_dsl_topk;             /* default 0 */
  int32_t use_cute_dsl_paged_mqa_logits; /* default 0 */
  int32_t q_split_threshold;             /* default 8192; negative: never split */
  int32_t indexer_rope_interleave;       /* default 0 */
  int32_t use_self_sampling_topk;        /* default 1 */
  int32_t use_gvr_emission;              /* default 0 */
  spattn_indexer_k_dtype indexer_k_dtype; /* default fp8 */
  int32_t index_share_for_mtp_iteration; /* -1: unset (the model's own value), 0, 1 */
} spattn_dsa_config;

SPATTN_API spattn_status spattn_config_dsa(const spattn_config *config, spattn_dsa_config *out);

/* vsa (Video Sparse Attention, arXiv 2505.13389). Keys: `vsa_sparsity`
 * (TensorRT-LLM's name; FastVideo's `VSA_sparsity` is accepted too), the
 * fraction of KV cubes each query cube drops, in [0, 1), default 0.9 (each
 * query cube keeps the top ceil((1 - vsa_sparsity) x cubes) KV cubes;
 * TensorRT-LLM also accepts 1.0, which would keep none); `block_size_3d`
 * (Model Optimizer's name; FastVideo's `tile_size` is accepted too), the cube
 * shape [frames, height, width] in latent tokens, each in [1, 64], default
 * [4, 4, 4]; `disabled_until_timestep` as for skip_softmax. Model
 * Optimizer's `top_k_ratio` is refused: it keeps floor(ratio x cubes) cubes,
 * not the same count; write vsa_sparsity = 1 - top_k_ratio. */
typedef struct spattn_vsa_config {
  uint32_t struct_size;
  double vsa_sparsity;        /* [0, 1), default 0.9 */
  int32_t cube_shape[3];      /* frames, height, width in tokens, default 4, 4, 4 */
  int32_t has_disabled_until_timestep;
  double disabled_until_timestep; /* in [0, 1] */
} spattn_vsa_config;

/* Fills `out`; SPATTN_ERR_WRONG_ALGORITHM if the config is not vsa. */
SPATTN_API spattn_status spattn_config_vsa(const spattn_config *config, spattn_vsa_config *out);

/* ------------------------------------------------------------------------ */
/* Model: checkpoint calibration + user config, resolved per layer           */
/* ------------------------------------------------------------------------ */

typedef struct spattn_model spattn_model;

/* Opens a checkpoint folder: either one with `config.json` (an LLM: one
 * component, named ""), or a diffusers folder with `model_index.json`, whose
 * entries naming a component (a list that is not all nulls, key not starting
 * with '_') are the components, in that order.
 *
 * Sparse-attention targets are the denoisers (`transformer`, `transformer_<N>`,
 * `unet`), whose `<name>/config.json` must exist, and any other component
 * whose `<name>/config.json` carries a `sparse_attention_config`. Text
 * encoders, VAEs, tokenizers, schedulers, image encoders/processors, feature
 * extractors and safety checkers (names starting with text_encoder, vae,
 * tokenizer, scheduler, image_encoder, image_processor, feature_extractor,
 * safety_checker) are not targets: they are listed, always dense
 * (SPATTN_DISABLED_NOT_TARGET), and their files are not read. Another
 * component's config.json that cannot be read is logged and the component
 * listed as dense.
 *
 * A Hugging Face cache snapshot opens: when the folder is
 * `<repo>/snapshots/<revision>`, its files may be symlinks into
 * `<repo>/blobs/`. Any other path that leaves the folder is refused
 * (SPATTN_ERR_UNSAFE_PATH), symlinks included.
 *
 * Calibration (a target's `sparse_attention_config`, Model Optimizer /
 * TensorRT-LLM format): the skip-softmax group is the group in
 * `config_groups` whose `algorithm` (or, without one, Model Optimizer's
 * `sparse_algo`) is `skip_softmax` or `softmax_skip`, or the flat form
 * (skip-softmax fields directly in `sparse_attention_config`, no
 * config_groups); two such groups are SPATTN_ERR_CHECKPOINT. Its keys:
 * `threshold_scale_factor: {formula, ...}` (or, in older Model Optimizer
 * exports, the same beside `config_groups`), `target_sparsity`,
 * `disabled_until_timestep`, `ignore`, and Model Optimizer's `targets`
 * (module class names; every attention layer of a target is a candidate) and
 * `initial_disabled_steps` (a step count, not a timestep: logged, not
 * applied). Coefficients of a phase: its `prefill`/`decode` block, else
 * `coefficients`, else the keys beside `formula`. A per-phase value may give
 * one phase only. Diffusion components use the prefill entry of per-phase
 * values in both phases. `ignore` patterns come from the group and from
 * `sparse_attention_config.ignore`. Unknown keys are logged as warnings (an
 * exporter may add fields), never silently dropped. The formula follows
 * numexpr (`+ - * / ** %`, unary minus, comparisons, `& | ~`,
 * `where(c, a, b)`, numexpr's functions, `pow`, `min`, `max`), is evaluated
 * in float64 by the library's own parser, and must use `target_sparsity`.
 *
 * Each part of the calibration is checked when it is used: a user
 * `threshold_scale_factor` needs no formula, so a broken or missing formula,
 * target or coefficient block does not block it (the defect is logged).
 * A part that is used and broken fails here; a user target_sparsity that no
 * target component can map is SPATTN_ERR_CALIBRATION_MISSING (naming the
 * user config); a component that cannot map it keeps the error for its
 * lookups. `user_config` may be NULL: the checkpoint's own calibration then
 * applies as TensorRT-LLM applies it for an empty skip_softmax config. The
 * model copies what it needs; the config may be destroyed after.
 * Errors: SPATTN_ERR_IO, _NOT_FOUND, _SYNTAX, _TYPE, _OUT_OF_RANGE,
 * _DUPLICATE_KEY, _LIMIT, _FORMULA, _CHECKPOINT, _UNSAFE_PATH,
 * _CALIBRATION_MISSING. */
SPATTN_API spattn_status spattn_model_open(const char *checkpoint_dir,
                                           const spattn_config *user_config,
                                           spattn_model **out_model);

SPATTN_API void spattn_model_destroy(spattn_model *model);

/* Number of components (1 for a plain checkpoint). */
SPATTN_API size_t spattn_model_component_count(const spattn_model *model);

/* Name of component `index` ("" for a plain checkpoint), NULL if out of
 * range. Owned by the model. */
SPATTN_API const char *spattn_model_component_name(const spattn_model *model, size_t index);

/* The checkpoint's ignore patterns that apply to a component under the
 * user config's algorithm: for skip_softmax (and no user config) those of
 * sparse_attention_config.ignore, then the skip-softmax group's; for vsa
 * only sparse_attention_config.ignore; for the others none. NULL if out of
 * range. */
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
  SPATTN_DISABLED_NOT_CONFIGURED = 1, /* no skip_softmax config, or no threshold/target for this phase */
  SPATTN_DISABLED_IGNORED = 2,       /* layer matches a checkpoint ignore pattern */
  SPATTN_DISABLED_TIMESTEP = 3, /* timestep >= disabled_until_timestep */
  SPATTN_DISABLED_NOT_TARGET = 4, /* component is not a sparse-attention target (text encoder, VAE, ...) */
  SPATTN_DISABLED_ZERO_THRESHOLD = 5, /* the phase's threshold is 0 (user 0, or a formula result <= 0) */
  SPATTN_DISABLED_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_disabled_reason;

/* The sparse-attention phase of a lookup, for CUDA-graph cache keys: a graph
 * captured under one key must not be replayed under another. */
typedef enum spattn_phase_key {
  SPATTN_PHASE_KEY_DENSE = 0,  /* no sparsity: skip-softmax off, no N:M, no VSA */
  SPATTN_PHASE_KEY_SPARSE = 1, /* skip-softmax, N:M sparse softmax or VSA on */
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
 * VSA (algorithm SPATTN_ALGORITHM_VSA): `enabled` is 1 and phase_key SPARSE
 * where VSA runs; vsa_sparsity and vsa_cube_shape are its parameters (0 for
 * a layer an ignore pattern matches, a step before the cutoff, and every
 * other algorithm). The skip-softmax fields stay at their "off" values.
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
 * rounded.
 *
 * reserved0..2 fill what were padding holes (the layout is the same): lookups
 * write 0 there, and launches ignore them. */
typedef struct spattn_layer_params {
  uint32_t struct_size;
  spattn_algorithm algorithm;
  int32_t enabled;                  /* skip-softmax active (launch with the threshold below), or VSA active */
  spattn_disabled_reason disabled_reason;
  spattn_phase_key phase_key;
  int32_t reserved0;                /* padding made explicit: 0 */
  double threshold_scale_factor;    /* what the kernel consumes; 0 when not enabled */
  spattn_source threshold_source;   /* USER (given directly), FORMULA, or NONE */
  int32_t reserved1;                /* padding made explicit: 0 */
  double target_sparsity;           /* the target mapped through the formula, or NaN */
  spattn_source target_source;      /* USER, CHECKPOINT or NONE */
  int32_t reserved2;                /* padding made explicit: 0 */
  double disabled_until_timestep;   /* the cutoff in force, or NaN for none */
  spattn_source timestep_source;    /* USER, CHECKPOINT or NONE */
  int32_t sparsity_n;               /* N:M sparse softmax, 0/0 when off */
  int32_t sparsity_m;
  int32_t num_sink_tokens;
  int32_t dense_window_size;
  int32_t quantize_p;
  double vsa_sparsity;        /* VSA: fraction of KV cubes dropped, in [0, 1); 0 when not VSA */
  int32_t vsa_cube_shape[3];  /* VSA: cube frames, height, width in tokens; 0s when not VSA */
} spattn_layer_params;

/* Resolves the parameters of one attention layer. `component` is a
 * component name (NULL or "" for a plain checkpoint); `layer_name` the
 * module name. Ignore patterns are fnmatch-matched (case-sensitive, `*`
 * crossing dots) against the name as given and with every `._orig_mod.`
 * (torch.compile's wrapper) replaced by `.`; for a diffusers component
 * against both the full (`transformer.blocks.0.attn1`) and the
 * component-relative (`blocks.0.attn1`) form; for a plain (LLM) checkpoint,
 * when the name holds a layer index N (`...layers.N...`, or just `N`), also
 * against the four names TensorRT-LLM builds for it: `model.layers.N.self_attn`,
 * `model.layers.N.attention`, `layers.N.self_attn`, `layers.N.attention`.
 * `timestep` is the normalized denoising timestep in [0, 1] (1 at the start
 * of denoising), or SPATTN_NO_TIMESTEP.
 * Lock-free read of immutable data: safe from any number of threads.
 * Errors: SPATTN_ERR_INVALID_ARGUMENT (NULLs, struct_size, phase, timestep
 * above 1 or NaN), SPATTN_ERR_NOT_FOUND (no such component),
 * SPATTN_ERR_CALIBRATION_MISSING (a target was requested and this component
 * has no formula). */
SPATTN_API spattn_status spattn_model_lookup(const spattn_model *model, const char *component,
                                             const char *layer_name, spattn_phase phase,
                                             double timestep, spattn_layer_params *out);

/* The CUDA-graph phase of a whole component at a timestep: SPARSE when its
 * ordinary layers run sparse in `phase` at `timestep` (skip-softmax with a
 * threshold > 0, N:M, or VSA, and the timestep below the cutoff), else
 * DENSE. The same for every layer of the component, so one key per step
 * suffices for a graph of the whole denoiser; a layer an ignore pattern
 * matches is dense on both sides of the cutoff (its own key, from
 * spattn_model_lookup, is always DENSE). A component that is not a target
 * is always DENSE. Arguments and errors as spattn_model_lookup. */
SPATTN_API spattn_status spattn_model_phase_key(const spattn_model *model, const char *component,
                                                spattn_phase phase, double timestep,
                                                spattn_phase_key *out_key);

/* The resolved table as JSON: per component, whether it is a target, the
 * calibration (formula, coefficients per phase, targets, cutoff, ignore
 * list) and the resolved parameters for each phase, with enum values spelled
 * as spattn_algorithm_name says. Free with spattn_free(). */
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
  /* k/v [batch][max_seqlen_kv][num_kv_heads][head_dim] by strides (batch, token, head) */
  SPATTN_KV_LAYOUT_CONTIGUOUS = 0,
  /* page pools k/v [num_pages][page_size][num_kv_heads][head_dim] by strides
   * (page, token in page, head); token j of sequence b lives in page
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

/* The number of splits a decode call with these args uses. With
 * T = ceil(max_seqlen_kv / SPATTN_SKIP_TILE_KEYS) key tiles and
 * C = batch * num_kv_heads * ceil(rows / 128) tiles of rows, the asked number
 * is num_splits when it is > 0, else min(ceil(T / 4), ceil(W / C)) with
 * W = 256 for an FP8 cache with rows <= 16, else 128 (about one wave of the
 * kernel on a 132-SM GPU, with at least 4 tiles per split so that skipping
 * has tiles to skip); it is clamped to [1, max(T, 1)], each split gets
 * ceil(T / asked) tiles (the last one what remains), and the result is the
 * number of splits that then hold tiles. */
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

/* Video Sparse Attention (VSA, arXiv 2505.13389)                            */
/* ------------------------------------------------------------------------ */

/* Token layout. A latent video of grid[0] frames x grid[1] rows x grid[2]
 * columns of tokens is, in RASTER order, token (t * grid[1] + h) * grid[2] + w.
 * It is cut into cubes of cube_shape[0] x cube_shape[1] x cube_shape[2]
 * tokens: n[a] = ceil(grid[a] / cube_shape[a]) cubes along each axis,
 * num_cubes = n[0] * n[1] * n[2], cube (ct, ch, cw) having index
 * (ct * n[1] + ch) * n[2] + cw. The cubes on the far edge of an axis that
 * cube_shape[a] does not divide are RAGGED: they hold only
 * e[a] = grid[a] - (n[a] - 1) * cube_shape[a] tokens along that axis.
 *
 * CUBE order stores every cube in volume = cube_shape[0] * [1] * [2] slots,
 * padded_tokens = num_cubes * volume in all: cube c occupies slots
 * [c * volume, (c + 1) * volume). Its valid tokens, valid(c) = the product
 * of its extents, come first, in raster order inside the cube (frame, then
 * row, then column); slots valid(c) ... volume - 1 are PAD slots. (This is
 * FastVideo's and Model Optimizer's padded tile layout.)
 *
 * spattn_vsa_relayout moves tensors between the two orders (gather: raster
 * to cube order, writing 0 to every pad slot; scatter: back, pad slots
 * dropped). spattn_vsa_forward takes q, k, v, gate and out in cube order.
 *
 * Pad slots: never read for the cube means, masked as keys (probability
 * exactly 0) and as queries; spattn_vsa_forward writes 0 to pad rows of out
 * and -inf to their LSE. The kernel's P.V product still reads the pad rows
 * of v, so they must hold finite values (0 x inf is NaN): zeros, as the
 * gather writes them. The CPU reference never reads pad slots. */

typedef enum spattn_vsa_direction {
  SPATTN_VSA_TO_CUBES = 0,  /* gather: raster order -> cube order (pad slots 0) */
  SPATTN_VSA_TO_RASTER = 1, /* scatter: cube order -> raster order */
  SPATTN_VSA_DIRECTION_MAX_ENUM = 0x7FFFFFFF /* not a value: keeps the enum 32 bits wide for the ABI */
} spattn_vsa_direction;

/* One relayout of a [batch][tokens][num_heads][head_dim] tensor (element
 * strides {batch, token, head}; the head dimension contiguous). src has
 * grid[0]*grid[1]*grid[2] tokens in raster order (TO_CUBES) or padded_tokens
 * in cube order (TO_RASTER); dst the other. src and dst must not overlap. */
typedef struct spattn_vsa_layout_args {
  uint32_t struct_size;
  spattn_dtype dtype;
  spattn_vsa_direction direction;
  int32_t batch;
  int32_t num_heads;       /* heads of this tensor (num_kv_heads for k and v) */
  int32_t head_dim;        /* > 0; the kernel needs a multiple of 8 */
  int32_t grid[3];         /* latent frames, height, width in tokens, each > 0 */
  int32_t cube_shape[3];   /* cube frames, height, width in tokens, each > 0 */
  const void *src;
  void *dst;
  int64_t src_strides[3];  /* batch, token, head */
  int64_t dst_strides[3];
} spattn_vsa_layout_args;

/* Launches the relayout on `stream` (a cudaStream_t; NULL: default stream);
 * asynchronous, allocates nothing, capturable. Needs src/dst 16-byte aligned
 * and strides and head_dim multiples of 8. Errors: SPATTN_ERR_INVALID_ARGUMENT,
 * SPATTN_ERR_UNSUPPORTED (built without CUDA, no device), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_vsa_relayout(const spattn_vsa_layout_args *args, void *stream);

/* The same on host pointers, synchronously (no alignment requirement). */
SPATTN_API spattn_status spattn_vsa_relayout_reference(const spattn_vsa_layout_args *args);

/* The geometry a VSA problem implies (see spattn_vsa_get_geometry()). */
typedef struct spattn_vsa_geometry {
  uint32_t struct_size;
  int32_t cubes[3];        /* n[0], n[1], n[2]: cubes along frames, height, width */
  int32_t num_cubes;
  int32_t cube_volume;     /* slots per cube */
  int32_t kept_cubes;      /* KV cubes each query cube attends to in the fine stage */
  int32_t reserved0;       /* padding made explicit: 0 */
  int64_t padded_tokens;   /* num_cubes * cube_volume: the token extent of cube order */
} spattn_vsa_geometry;

/* VSA forward. With C = num_cubes, every (batch, head):
 *  1. Cube means of q, k, v over each cube's valid tokens: the float32 sum
 *     of the tokens in slot order (each addition rounded), divided by
 *     valid(c) (IEEE division), rounded to dtype (as FastVideo does). k and
 *     v means per KV head (num_kv_heads divides num_heads: GQA).
 *  2. Coarse stage: attention of the C query-cube means over the C key-cube
 *     means (softmax_scale, no mask); row i of its output is broadcast to
 *     every token of query cube i. It runs on the library's dense attention
 *     kernel, so it is rounded to dtype.
 *  3. Selection: score(i, j) = the float32 dot product of the query mean of
 *     cube i and the key mean of cube j, accumulated with fused
 *     multiply-adds in increasing dimension order from 0 (so it is the same
 *     number on every device). Query cube i keeps the kept_cubes key cubes of
 *     largest score; a score outranks another when it is larger, or equal
 *     (-0 equals +0) at a lower cube index, so exactly kept_cubes are kept
 *     and the CPU and GPU agree. kept_cubes = max(1, C - floor(sparsity * C
 *     + 1e-6)): ceil((1 - sparsity) * C), with products within 1e-6 of an
 *     integer taken as that integer (0.7 * 10 is 7 however it rounds).
 *     (NaN scores rank unspecified.)
 *  4. Fine stage: each query token attends, token by token, to the valid
 *     tokens of its cube's kept key cubes (softmax_scale; the softmax over
 *     those keys only). Its log-sum-exp (natural log, scaled logits) goes to
 *     lse.
 *  5. out = coarse * gate + fine, elementwise (gate NULL: 1).
 * Where spattn differs from FastVideo / Model Optimizer: means are summed in
 * float32 then rounded (FastVideo: the same, then a bf16 matmul whose order
 * the hardware chooses, so its selection can differ by ties and near-ties);
 * kept_cubes rounds up (Model Optimizer: max(1, int(ratio * C)), rounding
 * down); cubes of any shape whose volume is 64 run on the GPU (FastVideo: 64
 * or 256 slots).
 *
 * Tensors (device pointers for spattn_vsa_forward, host for the reference)
 * are [batch][padded_tokens][heads][head_dim] in cube order, by element
 * strides {batch, token, head}, the head dimension contiguous. */
typedef struct spattn_vsa_args {
  uint32_t struct_size;
  spattn_dtype dtype;
  int32_t batch;
  int32_t num_heads;        /* query heads */
  int32_t num_kv_heads;     /* divides num_heads */
  int32_t head_dim;         /* 64 or 128 */
  int32_t grid[3];          /* latent frames, height, width in tokens */
  /* Cube shape and sparsity: from layer_params (its vsa_cube_shape and
   * vsa_sparsity) when layer_params is not NULL, else these two. */
  int32_t cube_shape[3];    /* each > 0; the GPU needs a volume of 64 */
  double sparsity;          /* vsa_sparsity, in [0, 1) */
  const spattn_layer_params *layer_params;
  const void *q;            /* num_heads heads */
  const void *k;            /* num_kv_heads heads */
  const void *v;
  const void *gate;         /* like q, or NULL (gate 1) */
  void *out;                /* like q */
  int64_t q_strides[3];
  int64_t k_strides[3];
  int64_t v_strides[3];
  int64_t gate_strides[3];  /* ignored when gate is NULL */
  int64_t out_strides[3];
  float softmax_scale;      /* both stages; 0: 1/sqrt(head_dim) */
  int32_t reserved0;        /* padding made explicit: 0 */
  /* Optional: the fine stage's float32 LSE, [batch][num_heads][padded_tokens]. */
  float *lse;
  /* Optional: the selection, int32 [batch][num_heads][num_cubes][kept_cubes],
   * each row the kept key-cube indices in increasing order. */
  int32_t *selected_cubes;
  /* spattn_vsa_forward only: scratch memory of at least
   * spattn_vsa_workspace_size() bytes, 256-byte aligned; ignored by the
   * reference. */
  void *workspace;
  size_t workspace_size;
} spattn_vsa_args;

/* Fills `out` (set out->struct_size first) from args' grid, cube shape and
 * sparsity (or layer_params); no tensor is read. Errors:
 * SPATTN_ERR_INVALID_ARGUMENT. */
SPATTN_API spattn_status spattn_vsa_get_geometry(const spattn_vsa_args *args, spattn_vsa_geometry *out);

/* Bytes of workspace spattn_vsa_forward needs for args' shapes (pointers are
 * not read): the cube means, the coarse output, the score matrix
 * (batch * num_heads * num_cubes^2 floats) and the selection. */
SPATTN_API spattn_status spattn_vsa_workspace_size(const spattn_vsa_args *args, size_t *out_size);

/* Launches the VSA forward pass on `stream` (a cudaStream_t; NULL: default
 * stream): asynchronous, allocates nothing, capturable in a CUDA graph (the
 * selection lives in device memory). Needs an sm_90 (Hopper) device, a cube
 * volume of 64, 16-byte aligned tensors and strides multiples of 8.
 * Errors: SPATTN_ERR_INVALID_ARGUMENT, SPATTN_ERR_UNSUPPORTED (head_dim,
 * cube volume, device, built without CUDA), SPATTN_ERR_CUDA. */
SPATTN_API spattn_status spattn_vsa_forward(const spattn_vsa_args *args, void *stream);

/* The CPU reference of the same computation on host pointers,
 * synchronously: the same means, scores and selection bit for bit; the
 * attention in double (the coarse output rounded to dtype as on the GPU).
 * Any cube shape. Slow; for tests. */
SPATTN_API spattn_status spattn_vsa_reference(const spattn_vsa_args *args);

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

/* ------------------------------------------------------------------------ */
/* Function-pointer types, for hosts that load the library with dlopen       */
/* ------------------------------------------------------------------------ */

/* One PFN_<function> per exported function above, with its exact signature:
 *   PFN_spattn_version version;
 *   *(void **)&version = dlsym(lib, "spattn_version");
 * A new function gets its typedef here too (a test in tests/abi fails
 * until it has one with the same signature). */
typedef uint32_t (*PFN_spattn_version)(void);
typedef const char *(*PFN_spattn_version_string)(void);
typedef const char *(*PFN_spattn_status_string)(spattn_status status);
typedef const char *(*PFN_spattn_last_error)(void);
typedef void (*PFN_spattn_free)(void *ptr);
typedef spattn_status (*PFN_spattn_set_log_callback)(spattn_log_fn fn, spattn_log_level min_level, void *user_data);
typedef const char *(*PFN_spattn_algorithm_name)(spattn_algorithm algorithm);
typedef spattn_status (*PFN_spattn_config_parse)(const char *text, size_t length, spattn_format format, spattn_config **out_config);
typedef spattn_status (*PFN_spattn_config_parse_file)(const char *path, spattn_format format, spattn_config **out_config);
typedef void (*PFN_spattn_config_destroy)(spattn_config *config);
typedef spattn_algorithm (*PFN_spattn_config_algorithm)(const spattn_config *config);
typedef const char *(*PFN_spattn_config_backend)(const spattn_config *config);
typedef spattn_status (*PFN_spattn_config_to_json)(const spattn_config *config, char **out_json);
typedef spattn_status (*PFN_spattn_config_skip_softmax)(const spattn_config *config, spattn_skip_softmax_config *out);
typedef spattn_status (*PFN_spattn_config_rocket)(const spattn_config *config, spattn_rocket_config *out);
typedef spattn_status (*PFN_spattn_config_dsa)(const spattn_config *config, spattn_dsa_config *out);
typedef spattn_status (*PFN_spattn_model_open)(const char *checkpoint_dir, const spattn_config *user_config, spattn_model **out_model);
typedef void (*PFN_spattn_model_destroy)(spattn_model *model);
typedef size_t (*PFN_spattn_model_component_count)(const spattn_model *model);
typedef const char *(*PFN_spattn_model_component_name)(const spattn_model *model, size_t index);
typedef size_t (*PFN_spattn_model_ignore_count)(const spattn_model *model, size_t component_index);
typedef const char *(*PFN_spattn_model_ignore_pattern)(const spattn_model *model, size_t component_index, size_t pattern_index);
typedef spattn_status (*PFN_spattn_model_lookup)(const spattn_model *model, const char *component, const char *layer_name, spattn_phase phase, double timestep, spattn_layer_params *out);
typedef spattn_status (*PFN_spattn_model_to_json)(const spattn_model *model, char **out_json);
typedef spattn_status (*PFN_spattn_attention_forward)(const spattn_attention_args *args, void *stream);
typedef spattn_status (*PFN_spattn_attention_reference)(const spattn_attention_args *args);
typedef spattn_status (*PFN_spattn_decode_num_splits)(const spattn_decode_args *args, int32_t *out_splits);
typedef spattn_status (*PFN_spattn_decode_workspace_size)(const spattn_decode_args *args, size_t *out_bytes);
typedef spattn_status (*PFN_spattn_attention_decode)(const spattn_decode_args *args, void *stream);
typedef spattn_status (*PFN_spattn_attention_decode_reference)(const spattn_decode_args *args);
typedef spattn_status (*PFN_spattn_attention_merge)(const spattn_merge_args *args, void *stream);
typedef spattn_status (*PFN_spattn_attention_merge_reference)(const spattn_merge_args *args);
typedef spattn_status (*PFN_spattn_config_vsa)(const spattn_config *config, spattn_vsa_config *out);
typedef spattn_status (*PFN_spattn_vsa_relayout)(const spattn_vsa_layout_args *args, void *stream);
typedef spattn_status (*PFN_spattn_vsa_relayout_reference)(const spattn_vsa_layout_args *args);
typedef spattn_status (*PFN_spattn_vsa_get_geometry)(const spattn_vsa_args *args, spattn_vsa_geometry *out);
typedef spattn_status (*PFN_spattn_vsa_workspace_size)(const spattn_vsa_args *args, size_t *out_size);
typedef spattn_status (*PFN_spattn_vsa_forward)(const spattn_vsa_args *args, void *stream);
typedef spattn_status (*PFN_spattn_vsa_reference)(const spattn_vsa_args *args);
typedef spattn_status (*PFN_spattn_model_phase_key)(const spattn_model *model, const char *component, spattn_phase phase, double timestep, spattn_phase_key *out_key);
typedef spattn_status (*PFN_spattn_sparse_attention_num_splits)(const spattn_sparse_attention_args *args, int32_t *out_splits);
typedef spattn_status (*PFN_spattn_sparse_attention_workspace_size)(const spattn_sparse_attention_args *args, size_t *out_bytes);
typedef spattn_status (*PFN_spattn_sparse_attention)(const spattn_sparse_attention_args *args, void *stream);
typedef spattn_status (*PFN_spattn_sparse_attention_reference)(const spattn_sparse_attention_args *args);
typedef spattn_status (*PFN_spattn_topk)(const spattn_topk_args *args, void *stream);
typedef spattn_status (*PFN_spattn_topk_reference)(const spattn_topk_args *args);
typedef spattn_status (*PFN_spattn_dsa_indexer)(const spattn_dsa_indexer_args *args, void *stream);
typedef spattn_status (*PFN_spattn_dsa_indexer_reference)(const spattn_dsa_indexer_args *args);
typedef spattn_status (*PFN_spattn_dsa_layer_workspace_size)(const spattn_dsa_layer_args *args, size_t *out_bytes);
typedef spattn_status (*PFN_spattn_dsa_layer)(const spattn_dsa_layer_args *args, void *stream);
typedef spattn_status (*PFN_spattn_dsa_layer_reference)(const spattn_dsa_layer_args *args);
typedef spattn_status (*PFN_spattn_rocket_context_workspace_size)(const spattn_rocket_context_args *args, size_t *out_bytes);
typedef spattn_status (*PFN_spattn_rocket_context)(const spattn_rocket_context_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_context_select)(const spattn_rocket_context_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_context_compact)(const spattn_rocket_context_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_context_build_kt)(const spattn_rocket_context_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_context_reference)(const spattn_rocket_context_args *args);
typedef spattn_status (*PFN_spattn_rocket_decode_workspace_size)(const spattn_rocket_decode_args *args, size_t *out_bytes);
typedef spattn_status (*PFN_spattn_rocket_decode)(const spattn_rocket_decode_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_decode_update_kt)(const spattn_rocket_decode_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_decode_select)(const spattn_rocket_decode_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_decode_attend)(const spattn_rocket_decode_args *args, void *stream);
typedef spattn_status (*PFN_spattn_rocket_decode_reference)(const spattn_rocket_decode_args *args);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPATTN_SPATTN_H */
