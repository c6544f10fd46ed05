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

pub use spattn_sys as sys;

/// A failed spattn call: the C status (`sys::SPATTN_ERR_*`) and the library's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub status: sys::spattn_status,
    pub message: String,
}

impl Error {
    /// The status' name, e.g. "SPATTN_ERR_TYPE".
    pub fn status_name(&self) -> &'static str {
        // The C function returns a static string for every value.
        unsafe { static_str(sys::spattn_status_string(self.status)).unwrap_or("SPATTN_ERR_UNKNOWN_STATUS") }
    }

    fn new(status: sys::spattn_status, message: impl Into<String>) -> Error {
        Error { status, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status_name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(status: sys::spattn_status) -> Result<()> {
    if status == sys::SPATTN_OK {
        return Ok(());
    }
    let message = unsafe { CStr::from_ptr(sys::spattn_last_error()) }.to_string_lossy().into_owned();
    Err(Error::new(status, message))
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
    CString::new(text).map_err(|_| Error::new(sys::SPATTN_ERR_INVALID_ARGUMENT, format!("{} contains a NUL byte", what)))
}

fn c_path(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(sys::SPATTN_ERR_INVALID_ARGUMENT, "path contains a NUL byte"))
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    Json,
    Yaml,
}

impl Format {
    fn raw(self) -> sys::spattn_format {
        match self {
            Format::Auto => sys::SPATTN_FORMAT_AUTO,
            Format::Json => sys::SPATTN_FORMAT_JSON,
            Format::Yaml => sys::SPATTN_FORMAT_YAML,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Prefill,
    Decode,
}

impl Phase {
    fn raw(self) -> sys::spattn_phase {
        match self {
            Phase::Prefill => sys::SPATTN_PHASE_PREFILL,
            Phase::Decode => sys::SPATTN_PHASE_DECODE,
        }
    }
}

/// The configured algorithm; `Other` for a value newer than these bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    None,
    SkipSoftmax,
    Rocket,
    Dsa,
    Other(u32),
}

impl From<sys::spattn_algorithm> for Algorithm {
    fn from(v: sys::spattn_algorithm) -> Self {
        match v {
            sys::SPATTN_ALGORITHM_NONE => Algorithm::None,
            sys::SPATTN_ALGORITHM_SKIP_SOFTMAX => Algorithm::SkipSoftmax,
            sys::SPATTN_ALGORITHM_ROCKET => Algorithm::Rocket,
            sys::SPATTN_ALGORITHM_DSA => Algorithm::Dsa,
            other => Algorithm::Other(other as u32),
        }
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
    pub fn rocket(&self) -> Result<sys::spattn_rocket_config> {
        let mut r: sys::spattn_rocket_config = unsafe { std::mem::zeroed() };
        r.struct_size = std::mem::size_of::<sys::spattn_rocket_config>() as u32;
        check(unsafe { sys::spattn_config_rocket(self.ptr.as_ptr(), &mut r) })?;
        Ok(r)
    }

    /// The dsa settings (0: unset for the optional positive integers).
    pub fn dsa(&self) -> Result<sys::spattn_dsa_config> {
        let mut d: sys::spattn_dsa_config = unsafe { std::mem::zeroed() };
        d.struct_size = std::mem::size_of::<sys::spattn_dsa_config>() as u32;
        check(unsafe { sys::spattn_config_dsa(self.ptr.as_ptr(), &mut d) })?;
        Ok(d)
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

/// Where a resolved value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    None,
    User,
    Checkpoint,
    Formula,
    Other(u32),
}

impl From<sys::spattn_source> for Source {
    fn from(v: sys::spattn_source) -> Self {
        match v {
            sys::SPATTN_SOURCE_NONE => Source::None,
            sys::SPATTN_SOURCE_USER => Source::User,
            sys::SPATTN_SOURCE_CHECKPOINT => Source::Checkpoint,
            sys::SPATTN_SOURCE_FORMULA => Source::Formula,
            other => Source::Other(other as u32),
        }
    }
}

/// Why skip-softmax is off for a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisabledReason {
    NotDisabled,
    NotConfigured,
    Ignored,
    Timestep,
    Other(u32),
}

impl From<sys::spattn_disabled_reason> for DisabledReason {
    fn from(v: sys::spattn_disabled_reason) -> Self {
        match v {
            sys::SPATTN_DISABLED_NOT => DisabledReason::NotDisabled,
            sys::SPATTN_DISABLED_NOT_CONFIGURED => DisabledReason::NotConfigured,
            sys::SPATTN_DISABLED_IGNORED => DisabledReason::Ignored,
            sys::SPATTN_DISABLED_TIMESTEP => DisabledReason::Timestep,
            other => DisabledReason::Other(other as u32),
        }
    }
}

/// The resolved parameters of one attention layer. `raw` is the C struct to hand to the kernel
/// (`AttentionArgs::layer_params`).
#[derive(Clone, Copy, Debug)]
pub struct LayerParams {
    pub algorithm: Algorithm,
    pub enabled: bool,
    pub disabled_reason: DisabledReason,
    /// false: dense (threshold 0), true: sparse. Part of a CUDA-graph cache key.
    pub sparse_phase_key: bool,
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
            sparse_phase_key: p.phase_key == sys::SPATTN_PHASE_KEY_SPARSE,
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
