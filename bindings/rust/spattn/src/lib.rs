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

/// dsa (DeepSeek Sparse Attention) settings of a user config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsaConfig {
    pub index_n_heads: Option<i32>,
    pub index_head_dim: Option<i32>,
    pub index_topk: Option<i32>,
    pub indexer_max_chunk_size: Option<i32>,
    pub skip_indexer_for_short_seqs: bool,
    pub enable_heuristic_topk: bool,
    pub seq_len_threshold: Option<i32>,
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
        let mut s: sys::spattn_skip_softmax_config = unsafe { std::mem::zeroed() };
        s.struct_size = std::mem::size_of::<sys::spattn_skip_softmax_config>() as u32;
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
        let mut r: sys::spattn_rocket_config = unsafe { std::mem::zeroed() };
        r.struct_size = std::mem::size_of::<sys::spattn_rocket_config>() as u32;
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
        let mut d: sys::spattn_dsa_config = unsafe { std::mem::zeroed() };
        d.struct_size = std::mem::size_of::<sys::spattn_dsa_config>() as u32;
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
        let mut out: sys::spattn_layer_params = unsafe { std::mem::zeroed() };
        out.struct_size = std::mem::size_of::<sys::spattn_layer_params>() as u32;
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

/// Arguments of one attention forward pass: the C struct with `struct_size` set and everything
/// else zero (dense, no optional outputs). Fill in dtype, shapes, pointers and strides.
pub fn attention_args() -> sys::spattn_attention_args {
    let mut a: sys::spattn_attention_args = unsafe { std::mem::zeroed() };
    a.struct_size = std::mem::size_of::<sys::spattn_attention_args>() as u32;
    a
}

/// Launches `spattn_attention_forward` on `stream` (a `cudaStream_t`; null: default stream).
///
/// # Safety
/// Every pointer in `args` must be a valid device pointer for the shapes and strides given (and
/// `layer_params`, when set, a valid host pointer), alive until the stream has run the kernel.
pub unsafe fn attention_forward(args: &sys::spattn_attention_args, stream: *mut c_void) -> Result<()> {
    check(sys::spattn_attention_forward(args, stream))
}

/// The CPU reference of the same pass, synchronously, on host pointers.
///
/// # Safety
/// Every pointer in `args` must be a valid host pointer for the shapes and strides given.
pub unsafe fn attention_reference(args: &sys::spattn_attention_args) -> Result<()> {
    check(sys::spattn_attention_reference(args))
}
