//! Safe Rust interface of libspattn: parse a sparse-attention config, open a checkpoint, look up
//! the parameters of each attention layer, and launch the attention kernel.
//!
//! Handles (`Config`, `Model`) free their C object on `Drop`. They are immutable after creation,
//! which the C API promises makes them safe to share between threads (`Send + Sync`). Every
//! failure is an [`Error`] with the C status and the library's message.
//!
//! ```no_run
//! let config = spattn::Config::parse("sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}",
//!                                    spattn::Format::Auto)?;
//! let model = spattn::Model::open("checkpoints/wan", Some(&config))?;
//! drop(config); // the model keeps what it needs
//! let p = model.lookup(Some("transformer"), "blocks.3.attn1", spattn::Phase::Prefill, Some(0.5))?;
//! println!("enabled={} threshold={}", p.enabled, p.threshold_scale_factor);
//! # Ok::<(), spattn::Error>(())
//! ```
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr::NonNull;
use std::str::FromStr;

pub use spattn_sys as sys;

/// Declares a Rust enum mirroring a C enum of the header: one variant per value (the C
/// constant's suffix in PascalCase), `Other(u32)` for a value newer than these bindings,
/// conversions from and to the C value, and `Display`/`FromStr` with the spelling used
/// everywhere in spattn (the constant's lowercase suffix: `SPATTN_SOURCE_FORMULA` ->
/// "formula"). `tests/vocabulary.rs` checks every enum against the header.
macro_rules! c_enum {
    ($(#[$doc:meta])* $name:ident: $c_type:ident { $($variant:ident = $constant:ident => $spelling:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[doc = concat!("`", stringify!($constant), "`: \"", $spelling, "\"")] $variant,)+
            /// A C value these bindings do not know (a newer library).
            Other(u32),
        }

        impl $name {
            /// The C enum this mirrors.
            pub const C_NAME: &'static str = stringify!($c_type);
            /// Every known value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The C value.
            pub fn raw(self) -> sys::$c_type {
                match self {
                    $($name::$variant => sys::$constant,)+
                    $name::Other(value) => value as sys::$c_type,
                }
            }

            /// The spelling used in JSON, on the command line and in every binding.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                    $name::Other(_) => "other",
                }
            }
        }

        impl From<sys::$c_type> for $name {
            #[allow(unreachable_patterns)]
            fn from(value: sys::$c_type) -> Self {
                match value {
                    $(sys::$constant => $name::$variant,)+
                    other => $name::Other(other as u32),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Other(value) => write!(f, "other({})", value),
                    known => f.pad(known.as_str()),
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(text: &str) -> Result<Self> {
                match text {
                    $($spelling => Ok($name::$variant),)+
                    _ => Err(Error::new(ErrorKind::InvalidArgument, format!(
                        "{}: {:?} is not one of {}", stringify!($name), text,
                        [$($spelling),+].join(", ")))),
                }
            }
        }
    };
}

c_enum! {
    /// The status of a failed call (`spattn_status`).
    ErrorKind: spattn_status {
        Ok = SPATTN_OK => "ok",
        InvalidArgument = SPATTN_ERR_INVALID_ARGUMENT => "invalid_argument",
        OutOfMemory = SPATTN_ERR_OUT_OF_MEMORY => "out_of_memory",
        Io = SPATTN_ERR_IO => "io",
        Syntax = SPATTN_ERR_SYNTAX => "syntax",
        UnknownKey = SPATTN_ERR_UNKNOWN_KEY => "unknown_key",
        Type = SPATTN_ERR_TYPE => "type",
        OutOfRange = SPATTN_ERR_OUT_OF_RANGE => "out_of_range",
        DuplicateKey = SPATTN_ERR_DUPLICATE_KEY => "duplicate_key",
        Limit = SPATTN_ERR_LIMIT => "limit",
        MissingKey = SPATTN_ERR_MISSING_KEY => "missing_key",
        Formula = SPATTN_ERR_FORMULA => "formula",
        CalibrationMissing = SPATTN_ERR_CALIBRATION_MISSING => "calibration_missing",
        Checkpoint = SPATTN_ERR_CHECKPOINT => "checkpoint",
        UnsafePath = SPATTN_ERR_UNSAFE_PATH => "unsafe_path",
        NotFound = SPATTN_ERR_NOT_FOUND => "not_found",
        Unsupported = SPATTN_ERR_UNSUPPORTED => "unsupported",
        Cuda = SPATTN_ERR_CUDA => "cuda",
        WrongAlgorithm = SPATTN_ERR_WRONG_ALGORITHM => "wrong_algorithm",
        Internal = SPATTN_ERR_INTERNAL => "internal",
    }
}

c_enum! {
    /// Severity of a log message (`spattn_log_level`).
    LogLevel: spattn_log_level {
        Debug = SPATTN_LOG_DEBUG => "debug",
        Info = SPATTN_LOG_INFO => "info",
        Warning = SPATTN_LOG_WARNING => "warning",
        Error = SPATTN_LOG_ERROR => "error",
    }
}

c_enum! {
    /// The configured algorithm (`spattn_algorithm`).
    Algorithm: spattn_algorithm {
        None = SPATTN_ALGORITHM_NONE => "none",
        SkipSoftmax = SPATTN_ALGORITHM_SKIP_SOFTMAX => "skip_softmax",
        Rocket = SPATTN_ALGORITHM_ROCKET => "rocket",
        Dsa = SPATTN_ALGORITHM_DSA => "dsa",
        Vsa = SPATTN_ALGORITHM_VSA => "vsa",
    }
}

c_enum! {
    /// Prefill (context; diffusion steps) or decode (generation) (`spattn_phase`).
    Phase: spattn_phase {
        Prefill = SPATTN_PHASE_PREFILL => "prefill",
        Decode = SPATTN_PHASE_DECODE => "decode",
    }
}

c_enum! {
    /// Text format of a config (`spattn_format`).
    Format: spattn_format {
        Auto = SPATTN_FORMAT_AUTO => "auto",
        Json = SPATTN_FORMAT_JSON => "json",
        Yaml = SPATTN_FORMAT_YAML => "yaml",
    }
}

c_enum! {
    /// Element type of RocketKV's KT cache (`spattn_kt_cache_dtype`).
    KtCacheDtype: spattn_kt_cache_dtype {
        Float8E5m2 = SPATTN_KT_CACHE_FLOAT8_E5M2 => "float8_e5m2",
        Bfloat16 = SPATTN_KT_CACHE_BFLOAT16 => "bfloat16",
    }
}

c_enum! {
    /// The DSA indexer's K cache format (`spattn_indexer_k_dtype`).
    IndexerKDtype: spattn_indexer_k_dtype {
        Fp8 = SPATTN_INDEXER_K_FP8 => "fp8",
        Fp4 = SPATTN_INDEXER_K_FP4 => "fp4",
    }
}

c_enum! {
    /// Where a resolved value came from (`spattn_source`).
    Source: spattn_source {
        None = SPATTN_SOURCE_NONE => "none",
        User = SPATTN_SOURCE_USER => "user",
        Checkpoint = SPATTN_SOURCE_CHECKPOINT => "checkpoint",
        Formula = SPATTN_SOURCE_FORMULA => "formula",
    }
}

c_enum! {
    /// Why skip-softmax is off for a layer (`spattn_disabled_reason`; `Not`: it is enabled).
    DisabledReason: spattn_disabled_reason {
        Not = SPATTN_DISABLED_NOT => "not",
        NotConfigured = SPATTN_DISABLED_NOT_CONFIGURED => "not_configured",
        Ignored = SPATTN_DISABLED_IGNORED => "ignored",
        Timestep = SPATTN_DISABLED_TIMESTEP => "timestep",
        NotTarget = SPATTN_DISABLED_NOT_TARGET => "not_target",
        ZeroThreshold = SPATTN_DISABLED_ZERO_THRESHOLD => "zero_threshold",
    }
}

c_enum! {
    /// The sparse-attention phase of a lookup, part of a CUDA-graph cache key (`spattn_phase_key`).
    PhaseKey: spattn_phase_key {
        Dense = SPATTN_PHASE_KEY_DENSE => "dense",
        Sparse = SPATTN_PHASE_KEY_SPARSE => "sparse",
    }
}

c_enum! {
    /// Element type of tensors and caches (`spattn_dtype`).
    Dtype: spattn_dtype {
        Float16 = SPATTN_DTYPE_FLOAT16 => "float16",
        Bfloat16 = SPATTN_DTYPE_BFLOAT16 => "bfloat16",
        Float8E4m3 = SPATTN_DTYPE_FLOAT8_E4M3 => "float8_e4m3",
        Float32 = SPATTN_DTYPE_FLOAT32 => "float32",
    }
}

c_enum! {
    /// How a KV cache is laid out (`spattn_kv_layout`).
    KvLayout: spattn_kv_layout {
        Contiguous = SPATTN_KV_LAYOUT_CONTIGUOUS => "contiguous",
        Paged = SPATTN_KV_LAYOUT_PAGED => "paged",
    }
}

c_enum! {
    /// Direction of a VSA relayout (`spattn_vsa_direction`): raster order to cube order, or back.
    VsaDirection: spattn_vsa_direction {
        VsaToCubes = SPATTN_VSA_TO_CUBES => "vsa_to_cubes",
        VsaToRaster = SPATTN_VSA_TO_RASTER => "vsa_to_raster",
    }
}

/// A failed spattn call: what kind of failure and the library's message (naming file,
/// line:column and key path where known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    /// The status' C name, e.g. "SPATTN_ERR_TYPE".
    pub fn status_name(&self) -> &'static str {
        // The C function returns a static string for every value.
        unsafe { static_str(sys::spattn_status_string(self.kind.raw())).unwrap_or("SPATTN_ERR_UNKNOWN_STATUS") }
    }

    fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status_name(), self.message)
    }
}

impl std::error::Error for Error {}

/// The result of a spattn call.
pub type Result<T> = std::result::Result<T, Error>;

fn check(status: sys::spattn_status) -> Result<()> {
    if status == sys::SPATTN_OK {
        return Ok(());
    }
    let message = unsafe { CStr::from_ptr(sys::spattn_last_error()) }.to_string_lossy().into_owned();
    Err(Error::new(status.into(), message))
}

unsafe fn static_str(ptr: *const c_char) -> Option<&'static str> {
    if ptr.is_null() {
        None
    } else {
        CStr::from_ptr(ptr).to_str().ok()
    }
}

/// Copies a string the caller owns (a `char **` result) and frees it with spattn_free.
unsafe fn take_string(ptr: *mut c_char) -> String {
    let text = CStr::from_ptr(ptr).to_string_lossy().into_owned();
    sys::spattn_free(ptr as *mut c_void);
    text
}

fn c_string(text: &str, what: &str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::new(ErrorKind::InvalidArgument, format!("{} contains a NUL byte", what)))
}

fn c_path(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(ErrorKind::InvalidArgument, "path contains a NUL byte"))
}

/// Version of the loaded library, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    unsafe { static_str(sys::spattn_version_string()).unwrap_or("") }
}

/// A value per phase; a scalar in the input sets both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseValues {
    pub prefill: f64,
    pub decode: f64,
}

impl From<sys::spattn_phase_values> for PhaseValues {
    fn from(v: sys::spattn_phase_values) -> Self {
        PhaseValues { prefill: v.prefill, decode: v.decode }
    }
}



/// skip_softmax settings of a user config (with the Model Optimizer extras).
#[derive(Clone, Debug, PartialEq)]
pub struct SkipSoftmaxConfig {
    pub threshold_scale_factor: Option<PhaseValues>,
    pub target_sparsity: Option<PhaseValues>,
    pub disabled_until_timestep: Option<f64>,
    pub sparsity_n: i32,
    pub sparsity_m: i32,
    pub num_sink_tokens: i32,
    pub dense_window_size: i32,
    pub quantize_p: bool,
}

/// rocket (RocketKV) settings of a user config; TensorRT-LLM's defaults where not given.
#[derive(Clone, Debug, PartialEq)]
pub struct RocketConfig {
    pub window_size: i32,
    pub kernel_size: i32,
    pub topr: f64,
    pub topk: i32,
    pub prompt_budget: i32,
    pub page_size: i32,
    pub kt_cache_dtype: KtCacheDtype,
    pub seq_len_threshold: Option<i32>,
}

impl RocketConfig {
    /// The C struct (`spattn_rocket_config`) for `RocketContextArgs::config` / `RocketDecodeArgs::config`.
    pub fn to_raw(&self) -> sys::spattn_rocket_config {
        let mut r: sys::spattn_rocket_config = new_struct();
        r.window_size = self.window_size;
        r.kernel_size = self.kernel_size;
        r.topr = self.topr;
        r.topk = self.topk;
        r.prompt_budget = self.prompt_budget;
        r.page_size = self.page_size;
        r.kt_cache_dtype = self.kt_cache_dtype.raw();
        r.has_seq_len_threshold = self.seq_len_threshold.is_some() as i32;
        r.seq_len_threshold = self.seq_len_threshold.unwrap_or(0);
        r
    }
}

/// dsa (DeepSeek Sparse Attention) settings of a user config. The fields after
/// `seq_len_threshold` are TensorRT-LLM's kernel-selection switches, kept so its option files
/// are understood (TensorRT-LLM's defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsaConfig {
    pub index_n_heads: Option<i32>,
    pub index_head_dim: Option<i32>,
    pub index_topk: Option<i32>,
    pub indexer_max_chunk_size: Option<i32>,
    pub skip_indexer_for_short_seqs: bool,
    pub enable_heuristic_topk: bool,
    pub seq_len_threshold: Option<i32>,
    pub use_cute_dsl_topk: bool,
    pub use_cute_dsl_paged_mqa_logits: bool,
    /// Negative: never split.
    pub q_split_threshold: i32,
    pub indexer_rope_interleave: bool,
    pub use_self_sampling_topk: bool,
    pub use_gvr_emission: bool,
    pub indexer_k_dtype: IndexerKDtype,
    /// `None`: the model's own value.
    pub index_share_for_mtp_iteration: Option<bool>,
}

impl DsaConfig {
    /// The C struct (`spattn_dsa_config`) for `DsaLayerArgs::config`.
    pub fn to_raw(&self) -> sys::spattn_dsa_config {
        let mut d: sys::spattn_dsa_config = new_struct();
        d.index_n_heads = self.index_n_heads.unwrap_or(0);
        d.index_head_dim = self.index_head_dim.unwrap_or(0);
        d.index_topk = self.index_topk.unwrap_or(0);
        d.indexer_max_chunk_size = self.indexer_max_chunk_size.unwrap_or(0);
        d.skip_indexer_for_short_seqs = self.skip_indexer_for_short_seqs as i32;
        d.enable_heuristic_topk = self.enable_heuristic_topk as i32;
        d.seq_len_threshold = self.seq_len_threshold.unwrap_or(0);
        d.use_cute_dsl_topk = self.use_cute_dsl_topk as i32;
        d.use_cute_dsl_paged_mqa_logits = self.use_cute_dsl_paged_mqa_logits as i32;
        d.q_split_threshold = self.q_split_threshold;
        d.indexer_rope_interleave = self.indexer_rope_interleave as i32;
        d.use_self_sampling_topk = self.use_self_sampling_topk as i32;
        d.use_gvr_emission = self.use_gvr_emission as i32;
        d.indexer_k_dtype = self.indexer_k_dtype.raw();
        d.index_share_for_mtp_iteration = self.index_share_for_mtp_iteration.map_or(-1, |v| v as i32);
        d
    }
}

/// vsa (Video Sparse Attention) settings of a user config (defaults where not given).
#[derive(Clone, Debug, PartialEq)]
pub struct VsaConfig {
    /// Fraction of KV cubes each query cube drops, in [0, 1).
    pub vsa_sparsity: f64,
    /// Cube frames, height, width in latent tokens.
    pub cube_shape: [i32; 3],
    pub disabled_until_timestep: Option<f64>,
}

/// A parsed user sparse-attention config (`spattn_config`).
pub struct Config {
    ptr: NonNull<sys::spattn_config>,
}

// The C API: handles are immutable after creation and safe to use from many threads.
unsafe impl Send for Config {}
unsafe impl Sync for Config {}

impl Config {
    /// Parses YAML or JSON text.
    pub fn parse(text: &str, format: Format) -> Result<Config> {
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::spattn_config_parse(text.as_ptr() as *const c_char, text.len(), format.raw(), &mut out) })?;
        Ok(Config { ptr: NonNull::new(out).expect("spattn_config_parse returned OK and NULL") })
    }

    /// Parses a config file (the extension decides the format with `Format::Auto`).
    pub fn from_file(path: impl AsRef<Path>, format: Format) -> Result<Config> {
        let path = c_path(path.as_ref())?;
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::spattn_config_parse_file(path.as_ptr(), format.raw(), &mut out) })?;
        Ok(Config { ptr: NonNull::new(out).expect("spattn_config_parse_file returned OK and NULL") })
    }

    pub fn algorithm(&self) -> Algorithm {
        unsafe { sys::spattn_config_algorithm(self.ptr.as_ptr()) }.into()
    }

    /// The VisualGen `attention_config.backend`, if given.
    pub fn backend(&self) -> Option<&str> {
        let ptr = unsafe { sys::spattn_config_backend(self.ptr.as_ptr()) };
        if ptr.is_null() {
            return None;
        }
        // Owned by the config: valid as long as `self`.
        unsafe { CStr::from_ptr(ptr) }.to_str().ok()
    }

    /// Canonical JSON of what was understood.
    pub fn to_json(&self) -> Result<String> {
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::spattn_config_to_json(self.ptr.as_ptr(), &mut out) })?;
        Ok(unsafe { take_string(out) })
    }

    pub fn skip_softmax(&self) -> Result<SkipSoftmaxConfig> {
        let mut s: sys::spattn_skip_softmax_config = new_struct();
        check(unsafe { sys::spattn_config_skip_softmax(self.ptr.as_ptr(), &mut s) })?;
        Ok(SkipSoftmaxConfig {
            threshold_scale_factor: if s.has_threshold_scale_factor != 0 { Some(s.threshold_scale_factor.into()) } else { None },
            target_sparsity: if s.has_target_sparsity != 0 { Some(s.target_sparsity.into()) } else { None },
            disabled_until_timestep: if s.has_disabled_until_timestep != 0 { Some(s.disabled_until_timestep) } else { None },
            sparsity_n: s.sparsity_n,
            sparsity_m: s.sparsity_m,
            num_sink_tokens: s.num_sink_tokens,
            dense_window_size: s.dense_window_size,
            quantize_p: s.quantize_p != 0,
        })
    }

    /// The rocket settings (TensorRT-LLM defaults for fields not given).
    pub fn rocket(&self) -> Result<RocketConfig> {
        let mut r: sys::spattn_rocket_config = new_struct();
        check(unsafe { sys::spattn_config_rocket(self.ptr.as_ptr(), &mut r) })?;
        Ok(RocketConfig {
            window_size: r.window_size,
            kernel_size: r.kernel_size,
            topr: r.topr,
            topk: r.topk,
            prompt_budget: r.prompt_budget,
            page_size: r.page_size,
            kt_cache_dtype: r.kt_cache_dtype.into(),
            seq_len_threshold: if r.has_seq_len_threshold != 0 { Some(r.seq_len_threshold) } else { None },
        })
    }

    /// The dsa settings (`None` where not given).
    pub fn dsa(&self) -> Result<DsaConfig> {
        let mut d: sys::spattn_dsa_config = new_struct();
        check(unsafe { sys::spattn_config_dsa(self.ptr.as_ptr(), &mut d) })?;
        let set = |v: i32| if v > 0 { Some(v) } else { None }; // 0 means unset in the C struct
        Ok(DsaConfig {
            index_n_heads: set(d.index_n_heads),
            index_head_dim: set(d.index_head_dim),
            index_topk: set(d.index_topk),
            indexer_max_chunk_size: set(d.indexer_max_chunk_size),
            skip_indexer_for_short_seqs: d.skip_indexer_for_short_seqs != 0,
            enable_heuristic_topk: d.enable_heuristic_topk != 0,
            seq_len_threshold: set(d.seq_len_threshold),
            use_cute_dsl_topk: d.use_cute_dsl_topk != 0,
            use_cute_dsl_paged_mqa_logits: d.use_cute_dsl_paged_mqa_logits != 0,
            q_split_threshold: d.q_split_threshold,
            indexer_rope_interleave: d.indexer_rope_interleave != 0,
            use_self_sampling_topk: d.use_self_sampling_topk != 0,
            use_gvr_emission: d.use_gvr_emission != 0,
            indexer_k_dtype: d.indexer_k_dtype.into(),
            index_share_for_mtp_iteration: if d.index_share_for_mtp_iteration < 0 { None } else { Some(d.index_share_for_mtp_iteration != 0) },
        })
    }

    /// The vsa settings (defaults where not given).
    pub fn vsa(&self) -> Result<VsaConfig> {
        let mut v: sys::spattn_vsa_config = new_struct();
        check(unsafe { sys::spattn_config_vsa(self.ptr.as_ptr(), &mut v) })?;
        Ok(VsaConfig {
            vsa_sparsity: v.vsa_sparsity,
            cube_shape: v.cube_shape,
            disabled_until_timestep: if v.has_disabled_until_timestep != 0 { Some(v.disabled_until_timestep) } else { None },
        })
    }

    pub fn as_ptr(&self) -> *const sys::spattn_config {
        self.ptr.as_ptr()
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        unsafe { sys::spattn_config_destroy(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config").field("algorithm", &self.algorithm()).finish()
    }
}

/// The resolved parameters of one attention layer. `raw` is the C struct to hand to the kernel
/// (`AttentionArgs::layer_params`).
#[derive(Clone, Copy, Debug)]
pub struct LayerParams {
    pub algorithm: Algorithm,
    pub enabled: bool,
    pub disabled_reason: DisabledReason,
    /// Dense or sparse: part of a CUDA-graph cache key.
    pub phase_key: PhaseKey,
    pub threshold_scale_factor: f64,
    pub threshold_source: Source,
    pub target_sparsity: Option<f64>,
    pub target_source: Source,
    pub disabled_until_timestep: Option<f64>,
    pub timestep_source: Source,
    pub sparsity_n: i32,
    pub sparsity_m: i32,
    pub num_sink_tokens: i32,
    pub dense_window_size: i32,
    pub quantize_p: bool,
    /// VSA only (0 otherwise): the fraction of KV cubes dropped.
    pub vsa_sparsity: f64,
    /// VSA only (0s otherwise): cube frames, height, width in tokens.
    pub vsa_cube_shape: [i32; 3],
    pub raw: sys::spattn_layer_params,
}

fn not_nan(x: f64) -> Option<f64> {
    if x.is_nan() {
        None
    } else {
        Some(x)
    }
}

impl From<sys::spattn_layer_params> for LayerParams {
    fn from(p: sys::spattn_layer_params) -> Self {
        LayerParams {
            algorithm: p.algorithm.into(),
            enabled: p.enabled != 0,
            disabled_reason: p.disabled_reason.into(),
            phase_key: p.phase_key.into(),
            threshold_scale_factor: p.threshold_scale_factor,
            threshold_source: p.threshold_source.into(),
            target_sparsity: not_nan(p.target_sparsity),
            target_source: p.target_source.into(),
            disabled_until_timestep: not_nan(p.disabled_until_timestep),
            timestep_source: p.timestep_source.into(),
            sparsity_n: p.sparsity_n,
            sparsity_m: p.sparsity_m,
            num_sink_tokens: p.num_sink_tokens,
            dense_window_size: p.dense_window_size,
            quantize_p: p.quantize_p != 0,
            vsa_sparsity: p.vsa_sparsity,
            vsa_cube_shape: p.vsa_cube_shape,
            raw: p,
        }
    }
}

/// A checkpoint's calibration merged with a user config, resolved per layer (`spattn_model`).
pub struct Model {
    ptr: NonNull<sys::spattn_model>,
}

// The C API: handles are immutable after creation; lookups are lock-free reads from any thread.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Opens a checkpoint folder. The model copies what it needs from `config`, which may be
    /// dropped afterwards.
    pub fn open(path: impl AsRef<Path>, config: Option<&Config>) -> Result<Model> {
        let path = c_path(path.as_ref())?;
        let user = config.map_or(std::ptr::null(), |c| c.as_ptr());
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::spattn_model_open(path.as_ptr(), user, &mut out) })?;
        Ok(Model { ptr: NonNull::new(out).expect("spattn_model_open returned OK and NULL") })
    }

    /// Component names ("" for a plain checkpoint).
    pub fn components(&self) -> Vec<&str> {
        let count = unsafe { sys::spattn_model_component_count(self.ptr.as_ptr()) };
        (0..count)
            .map(|i| {
                let ptr = unsafe { sys::spattn_model_component_name(self.ptr.as_ptr(), i) };
                unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or("")
            })
            .collect()
    }

    /// The checkpoint's ignore patterns of component `index` (empty when out of range).
    pub fn ignore_patterns(&self, index: usize) -> Vec<&str> {
        let count = unsafe { sys::spattn_model_ignore_count(self.ptr.as_ptr(), index) };
        (0..count)
            .map(|j| {
                let ptr = unsafe { sys::spattn_model_ignore_pattern(self.ptr.as_ptr(), index, j) };
                unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or("")
            })
            .collect()
    }

    /// Resolves one layer. `component`: None for a plain checkpoint; `layer`: full or
    /// component-relative module name; `timestep`: normalized in [0, 1], None for LLMs.
    pub fn lookup(&self, component: Option<&str>, layer: &str, phase: Phase, timestep: Option<f64>) -> Result<LayerParams> {
        let component = match component {
            Some(c) => Some(c_string(c, "component")?),
            None => None,
        };
        let layer = c_string(layer, "layer name")?;
        let mut out: sys::spattn_layer_params = new_struct();
        check(unsafe {
            sys::spattn_model_lookup(
                self.ptr.as_ptr(),
                component.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                layer.as_ptr(),
                phase.raw(),
                timestep.unwrap_or(sys::SPATTN_NO_TIMESTEP),
                &mut out,
            )
        })?;
        Ok(out.into())
    }

    /// The CUDA-graph phase of a whole component at a timestep (`spattn_model_phase_key`):
    /// `Sparse` when its ordinary layers run sparse, else `Dense`; arguments as `lookup`.
    pub fn phase_key(&self, component: Option<&str>, phase: Phase, timestep: Option<f64>) -> Result<PhaseKey> {
        let component = match component {
            Some(c) => Some(c_string(c, "component")?),
            None => None,
        };
        let mut out: sys::spattn_phase_key = sys::SPATTN_PHASE_KEY_DENSE;
        check(unsafe {
            sys::spattn_model_phase_key(
                self.ptr.as_ptr(),
                component.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                phase.raw(),
                timestep.unwrap_or(sys::SPATTN_NO_TIMESTEP),
                &mut out,
            )
        })?;
        Ok(out.into())
    }

    /// The resolved table as JSON.
    pub fn to_json(&self) -> Result<String> {
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::spattn_model_to_json(self.ptr.as_ptr(), &mut out) })?;
        Ok(unsafe { take_string(out) })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::spattn_model_destroy(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model").field("components", &self.components()).finish()
    }
}

// ---- Kernels: the C argument structs and thin wrappers of the launches and CPU references.
//
// The argument structs are the C ones (`sys::spattn_*_args`, `sys::spattn_kv_cache`, ...): make
// one with `new_struct()` (every field zero: NULL pointers, dense, no optional outputs; and
// `struct_size` set), fill in what the call needs, and pass it to the wrapper. The wrappers
// turn the status into a `Result`; their semantics are the header's. They are `unsafe` because
// the structs hold raw pointers that the library dereferences.

/// A struct of the header that starts with `struct_size` (an extensible struct).
pub trait Extensible: Sized {
    /// All fields zero, `struct_size` the size of the layout these bindings know.
    fn new_zeroed() -> Self;
}

macro_rules! extensible {
    ($($t:ident),+ $(,)?) => {
        $(impl Extensible for sys::$t {
            fn new_zeroed() -> Self {
                // Every field of these structs is an integer, a float, an enum or a pointer: all
                // zeros is a valid value of each.
                let mut s: Self = unsafe { std::mem::zeroed() };
                s.struct_size = std::mem::size_of::<Self>() as u32;
                s
            }
        })+
    };
}

extensible!(spattn_skip_softmax_config, spattn_rocket_config, spattn_dsa_config, spattn_vsa_config,
            spattn_layer_params, spattn_attention_args, spattn_kv_cache, spattn_decode_args, spattn_merge_args,
            spattn_vsa_layout_args, spattn_vsa_geometry, spattn_vsa_args, spattn_sparse_attention_args,
            spattn_topk_args, spattn_dsa_indexer_args, spattn_dsa_layer_args, spattn_kt_cache,
            spattn_rocket_context_args, spattn_rocket_decode_args);

/// A header struct with every field zero and `struct_size` set:
/// `let mut a: sys::spattn_decode_args = spattn::new_struct();`.
pub fn new_struct<T: Extensible>() -> T {
    T::new_zeroed()
}

/// Arguments of one attention forward pass: `new_struct::<sys::spattn_attention_args>()`.
pub fn attention_args() -> sys::spattn_attention_args {
    new_struct()
}

/// Launches on the caller's CUDA stream: `NAME = spattn_function(args type);`.
macro_rules! launches {
    ($($(#[$doc:meta])* $name:ident = $c:ident($args:ident);)+) => {
        $(
            $(#[$doc])*
            ///
            /// `stream` is a `cudaStream_t` (null: the default stream); the call is asynchronous.
            ///
            /// # Safety
            /// Every pointer in `args` and in the structs it points to must be valid for the
            /// shapes and strides given (device memory for tensors, caches and tables; host memory
            /// for the argument structs) and stay valid until the stream has run the work.
            pub unsafe fn $name(args: &sys::$args, stream: *mut c_void) -> Result<()> {
                check(sys::$c(args, stream))
            }
        )+
    };
}

/// Synchronous calls on host memory (the CPU references): `NAME = spattn_function(args type);`.
macro_rules! host_calls {
    ($($(#[$doc:meta])* $name:ident = $c:ident($args:ident);)+) => {
        $(
            $(#[$doc])*
            ///
            /// # Safety
            /// Every pointer in `args` and in the structs it points to must be a valid host
            /// pointer for the shapes and strides given.
            pub unsafe fn $name(args: &sys::$args) -> Result<()> {
                check(sys::$c(args))
            }
        )+
    };
}

/// Queries of a shape: `NAME = spattn_function(args type) -> out type;`.
macro_rules! queries {
    ($($(#[$doc:meta])* $name:ident = $c:ident($args:ident) -> $out:ty;)+) => {
        $(
            $(#[$doc])*
            ///
            /// # Safety
            /// The argument structs `args` points to (caches, configs, layer parameters) must be
            /// valid host pointers; tensors are not read.
            pub unsafe fn $name(args: &sys::$args) -> Result<$out> {
                let mut out: $out = Default::default();
                check(sys::$c(args, &mut out))?;
                Ok(out)
            }
        )+
    };
}

launches! {
    /// The attention forward pass (`spattn_attention_forward`).
    attention_forward = spattn_attention_forward(spattn_attention_args);
    /// One decode step on a KV cache (`spattn_attention_decode`).
    attention_decode = spattn_attention_decode(spattn_decode_args);
    /// Merges partial results by their log-sum-exp (`spattn_attention_merge`).
    attention_merge = spattn_attention_merge(spattn_merge_args);
    /// Moves a tensor between raster and VSA cube order (`spattn_vsa_relayout`).
    vsa_relayout = spattn_vsa_relayout(spattn_vsa_layout_args);
    /// Video Sparse Attention (`spattn_vsa_forward`).
    vsa_forward = spattn_vsa_forward(spattn_vsa_args);
    /// Index-sparse attention over listed keys (`spattn_sparse_attention`).
    sparse_attention = spattn_sparse_attention(spattn_sparse_attention_args);
    /// Top-k selection per row (`spattn_topk`).
    topk = spattn_topk(spattn_topk_args);
    /// The DSA lightning indexer (`spattn_dsa_indexer`).
    dsa_indexer = spattn_dsa_indexer(spattn_dsa_indexer_args);
    /// A DSA layer: indexer, top-k and index-sparse attention (`spattn_dsa_layer`).
    dsa_layer = spattn_dsa_layer(spattn_dsa_layer_args);
    /// RocketKV's context phase: select, compact, build the KT cache (`spattn_rocket_context`).
    rocket_context = spattn_rocket_context(spattn_rocket_context_args);
    /// The selection piece of the context phase (`spattn_rocket_context_select`).
    rocket_context_select = spattn_rocket_context_select(spattn_rocket_context_args);
    /// The compaction piece of the context phase (`spattn_rocket_context_compact`).
    rocket_context_compact = spattn_rocket_context_compact(spattn_rocket_context_args);
    /// The KT-cache piece of the context phase (`spattn_rocket_context_build_kt`).
    rocket_context_build_kt = spattn_rocket_context_build_kt(spattn_rocket_context_args);
    /// One RocketKV decode step: update the KT cache, select, attend (`spattn_rocket_decode`).
    rocket_decode = spattn_rocket_decode(spattn_rocket_decode_args);
    /// The KT-cache update piece of a decode step (`spattn_rocket_decode_update_kt`).
    rocket_decode_update_kt = spattn_rocket_decode_update_kt(spattn_rocket_decode_args);
    /// The selection piece of a decode step (`spattn_rocket_decode_select`).
    rocket_decode_select = spattn_rocket_decode_select(spattn_rocket_decode_args);
    /// The attention piece of a decode step (`spattn_rocket_decode_attend`).
    rocket_decode_attend = spattn_rocket_decode_attend(spattn_rocket_decode_args);
}

host_calls! {
    /// The CPU reference of `attention_forward`.
    attention_reference = spattn_attention_reference(spattn_attention_args);
    /// The CPU reference of `attention_decode` (same tiles, splits and skip decisions).
    attention_decode_reference = spattn_attention_decode_reference(spattn_decode_args);
    /// The CPU version of `attention_merge`.
    attention_merge_reference = spattn_attention_merge_reference(spattn_merge_args);
    /// The CPU version of `vsa_relayout`.
    vsa_relayout_reference = spattn_vsa_relayout_reference(spattn_vsa_layout_args);
    /// The CPU reference of `vsa_forward` (any cube shape).
    vsa_reference = spattn_vsa_reference(spattn_vsa_args);
    /// The CPU reference of `sparse_attention` (refuses out-of-range and duplicate entries).
    sparse_attention_reference = spattn_sparse_attention_reference(spattn_sparse_attention_args);
    /// The CPU version of `topk`.
    topk_reference = spattn_topk_reference(spattn_topk_args);
    /// The CPU reference of `dsa_indexer`.
    dsa_indexer_reference = spattn_dsa_indexer_reference(spattn_dsa_indexer_args);
    /// The CPU reference of `dsa_layer`.
    dsa_layer_reference = spattn_dsa_layer_reference(spattn_dsa_layer_args);
    /// The CPU reference of `rocket_context` (compacts the host cache in place).
    rocket_context_reference = spattn_rocket_context_reference(spattn_rocket_context_args);
    /// The CPU reference of `rocket_decode`.
    rocket_decode_reference = spattn_rocket_decode_reference(spattn_rocket_decode_args);
}

queries! {
    /// The number of splits a decode call with these args uses (`spattn_decode_num_splits`).
    decode_num_splits = spattn_decode_num_splits(spattn_decode_args) -> i32;
    /// Bytes of device workspace `attention_decode` needs (0 with one split).
    decode_workspace_size = spattn_decode_workspace_size(spattn_decode_args) -> usize;
    /// The number of splits of an index-sparse attention call.
    sparse_attention_num_splits = spattn_sparse_attention_num_splits(spattn_sparse_attention_args) -> i32;
    /// Bytes of device workspace `sparse_attention` needs (0 with one split).
    sparse_attention_workspace_size = spattn_sparse_attention_workspace_size(spattn_sparse_attention_args) -> usize;
    /// Bytes of device workspace `vsa_forward` needs.
    vsa_workspace_size = spattn_vsa_workspace_size(spattn_vsa_args) -> usize;
    /// Bytes of device workspace `dsa_layer` needs.
    dsa_layer_workspace_size = spattn_dsa_layer_workspace_size(spattn_dsa_layer_args) -> usize;
    /// Bytes of device workspace `rocket_context` (and each of its pieces) needs.
    rocket_context_workspace_size = spattn_rocket_context_workspace_size(spattn_rocket_context_args) -> usize;
    /// Bytes of device workspace `rocket_decode` (and each of its pieces) needs.
    rocket_decode_workspace_size = spattn_rocket_decode_workspace_size(spattn_rocket_decode_args) -> usize;
}

/// The geometry of a VSA problem (`spattn_vsa_get_geometry`): cubes per axis, cube count and
/// volume, kept cubes, padded token count.
///
/// # Safety
/// `args.layer_params`, when set, must be a valid host pointer; tensors are not read.
pub unsafe fn vsa_geometry(args: &sys::spattn_vsa_args) -> Result<sys::spattn_vsa_geometry> {
    let mut out: sys::spattn_vsa_geometry = new_struct();
    check(sys::spattn_vsa_get_geometry(args, &mut out))?;
    Ok(out)
}
