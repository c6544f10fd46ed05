"""Config and Model: the two opaque handles of the C API, with their accessors."""
import dataclasses
import json
import math
import os

from ._cdef import CONSTANTS
from ._lib import Error, Status, check, closed_error, ffi, lib, take_string, text_or_none, _enum_names

FORMATS = _enum_names("spattn_format", "SPATTN_FORMAT_")
ALGORITHMS = _enum_names("spattn_algorithm", "SPATTN_ALGORITHM_")
PHASES = _enum_names("spattn_phase", "SPATTN_PHASE_")
SOURCES = _enum_names("spattn_source", "SPATTN_SOURCE_")
DISABLED_REASONS = _enum_names("spattn_disabled_reason", "SPATTN_DISABLED_")
PHASE_KEYS = _enum_names("spattn_phase_key", "SPATTN_PHASE_KEY_")
KT_CACHE_DTYPES = _enum_names("spattn_kt_cache_dtype", "SPATTN_KT_CACHE_")


def _value_of(names, key, what):
    for value, name in names.items():
        if name == key:
            return value
    raise Error(Status.SPATTN_ERR_INVALID_ARGUMENT,
                "%s %r is not one of %s" % (what, key, ", ".join(sorted(names.values()))))


def _phases(values):
    return {"prefill": values.prefill, "decode": values.decode}


def _new_struct(ctype):
    s = ffi.new(ctype + " *")
    s.struct_size = ffi.sizeof(ctype)
    return s


class _Handle:
    """An owned C handle: freed by close(), by `with`, or by the garbage collector."""

    _destroy = None
    _kind = "handle"

    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, type(self)._destroy)

    def close(self):
        """Destroys the C handle now. Idempotent; later use raises Error."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    @property
    def closed(self):
        return self._ptr is None

    def _handle(self):
        if self._ptr is None:
            raise closed_error(self._kind)
        return self._ptr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclasses.dataclass(frozen=True)
class SkipSoftmaxConfig:
    threshold_scale_factor: dict = None   # {"prefill": x, "decode": y} or None
    target_sparsity: dict = None
    disabled_until_timestep: float = None
    sparsity_n: int = 0
    sparsity_m: int = 0
    num_sink_tokens: int = 0
    dense_window_size: int = 0
    quantize_p: bool = False


@dataclasses.dataclass(frozen=True)
class RocketConfig:
    window_size: int
    kernel_size: int
    topr: float
    topk: int
    prompt_budget: int
    page_size: int
    kt_cache_dtype: str
    seq_len_threshold: int = None


@dataclasses.dataclass(frozen=True)
class DsaConfig:
    index_n_heads: int = None
    index_head_dim: int = None
    index_topk: int = None
    indexer_max_chunk_size: int = None
    skip_indexer_for_short_seqs: bool = True
    enable_heuristic_topk: bool = False
    seq_len_threshold: int = None


class Config(_Handle):
    """A parsed user sparse-attention config (spattn_config)."""

    _destroy = lib.spattn_config_destroy
    _kind = "config"

    @classmethod
    def parse(cls, text, format="auto"):
        """Parses YAML or JSON text (str or bytes); format is "auto", "json" or "yaml"."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        out = ffi.new("spattn_config **")
        check(lib.spattn_config_parse(data, len(data), _value_of(FORMATS, format, "format"), out))
        return cls(out[0])

    @classmethod
    def from_file(cls, path, format="auto"):
        out = ffi.new("spattn_config **")
        check(lib.spattn_config_parse_file(os.fsencode(path), _value_of(FORMATS, format, "format"), out))
        return cls(out[0])

    @property
    def algorithm(self):
        """"skip_softmax", "rocket", "dsa" or "none"."""
        return ALGORITHMS.get(lib.spattn_config_algorithm(self._handle()), "unknown")

    @property
    def backend(self):
        """The VisualGen attention_config.backend, or None."""
        return text_or_none(lib.spattn_config_backend(self._handle()))

    def to_json(self):
        out = ffi.new("char **")
        check(lib.spattn_config_to_json(self._handle(), out))
        return take_string(out)

    def to_dict(self):
        return json.loads(self.to_json())

    def skip_softmax(self):
        s = _new_struct("spattn_skip_softmax_config")
        check(lib.spattn_config_skip_softmax(self._handle(), s))
        return SkipSoftmaxConfig(
            threshold_scale_factor=_phases(s.threshold_scale_factor) if s.has_threshold_scale_factor else None,
            target_sparsity=_phases(s.target_sparsity) if s.has_target_sparsity else None,
            disabled_until_timestep=s.disabled_until_timestep if s.has_disabled_until_timestep else None,
            sparsity_n=s.sparsity_n, sparsity_m=s.sparsity_m, num_sink_tokens=s.num_sink_tokens,
            dense_window_size=s.dense_window_size, quantize_p=bool(s.quantize_p))

    def rocket(self):
        r = _new_struct("spattn_rocket_config")
        check(lib.spattn_config_rocket(self._handle(), r))
        return RocketConfig(
            window_size=r.window_size, kernel_size=r.kernel_size, topr=r.topr, topk=r.topk,
            prompt_budget=r.prompt_budget, page_size=r.page_size,
            kt_cache_dtype=KT_CACHE_DTYPES.get(r.kt_cache_dtype, "unknown"),
            seq_len_threshold=r.seq_len_threshold if r.has_seq_len_threshold else None)

    def dsa(self):
        d = _new_struct("spattn_dsa_config")
        check(lib.spattn_config_dsa(self._handle(), d))
        unset = lambda v: v if v > 0 else None  # noqa: E731  (0 means unset in the C struct)
        return DsaConfig(
            index_n_heads=unset(d.index_n_heads), index_head_dim=unset(d.index_head_dim),
            index_topk=unset(d.index_topk), indexer_max_chunk_size=unset(d.indexer_max_chunk_size),
            skip_indexer_for_short_seqs=bool(d.skip_indexer_for_short_seqs),
            enable_heuristic_topk=bool(d.enable_heuristic_topk),
            seq_len_threshold=unset(d.seq_len_threshold))


def _nan_to_none(x):
    return None if math.isnan(x) else x


@dataclasses.dataclass(frozen=True)
class LayerParams:
    """The resolved parameters of one attention layer (spattn_layer_params)."""
    algorithm: str
    enabled: bool
    disabled_reason: str        # "not", "not_configured", "ignored", "timestep"
    phase_key: str              # "dense" or "sparse": part of a CUDA-graph cache key
    threshold_scale_factor: float
    threshold_source: str       # "none", "user", "checkpoint", "formula"
    target_sparsity: float      # None when no target
    target_source: str
    disabled_until_timestep: float  # None when no cutoff
    timestep_source: str
    sparsity_n: int
    sparsity_m: int
    num_sink_tokens: int
    dense_window_size: int
    quantize_p: bool

    def to_c(self):
        """A new spattn_layer_params struct (cdata) with these values."""
        p = _new_struct("spattn_layer_params")
        p.algorithm = _value_of(ALGORITHMS, self.algorithm, "algorithm")
        p.enabled = int(self.enabled)
        p.disabled_reason = _value_of(DISABLED_REASONS, self.disabled_reason, "disabled_reason")
        p.phase_key = _value_of(PHASE_KEYS, self.phase_key, "phase_key")
        p.threshold_scale_factor = self.threshold_scale_factor
        p.threshold_source = _value_of(SOURCES, self.threshold_source, "source")
        p.target_sparsity = math.nan if self.target_sparsity is None else self.target_sparsity
        p.target_source = _value_of(SOURCES, self.target_source, "source")
        p.disabled_until_timestep = (math.nan if self.disabled_until_timestep is None
                                     else self.disabled_until_timestep)
        p.timestep_source = _value_of(SOURCES, self.timestep_source, "source")
        p.sparsity_n, p.sparsity_m = self.sparsity_n, self.sparsity_m
        p.num_sink_tokens, p.dense_window_size = self.num_sink_tokens, self.dense_window_size
        p.quantize_p = int(self.quantize_p)
        return p

    @classmethod
    def from_c(cls, p):
        return cls(
            algorithm=ALGORITHMS.get(p.algorithm, "unknown"), enabled=bool(p.enabled),
            disabled_reason=DISABLED_REASONS.get(p.disabled_reason, "unknown"),
            phase_key=PHASE_KEYS.get(p.phase_key, "unknown"),
            threshold_scale_factor=p.threshold_scale_factor,
            threshold_source=SOURCES.get(p.threshold_source, "unknown"),
            target_sparsity=_nan_to_none(p.target_sparsity),
            target_source=SOURCES.get(p.target_source, "unknown"),
            disabled_until_timestep=_nan_to_none(p.disabled_until_timestep),
            timestep_source=SOURCES.get(p.timestep_source, "unknown"),
            sparsity_n=p.sparsity_n, sparsity_m=p.sparsity_m, num_sink_tokens=p.num_sink_tokens,
            dense_window_size=p.dense_window_size, quantize_p=bool(p.quantize_p))


class Model(_Handle):
    """A checkpoint's calibration merged with a user config, resolved per layer (spattn_model)."""

    _destroy = lib.spattn_model_destroy
    _kind = "model"

    @classmethod
    def open(cls, path, config=None):
        """Opens a checkpoint folder; `config` is a Config or None (checkpoint defaults).
        The model copies what it needs: the config may be closed afterwards."""
        user = ffi.NULL if config is None else config._handle()
        out = ffi.new("spattn_model **")
        check(lib.spattn_model_open(os.fsencode(path), user, out))
        return cls(out[0])

    @property
    def components(self):
        """Component names (["" ] for a plain checkpoint)."""
        m = self._handle()
        return [ffi.string(lib.spattn_model_component_name(m, i)).decode("utf-8")
                for i in range(lib.spattn_model_component_count(m))]

    def ignore_patterns(self, component=""):
        m = self._handle()
        names = self.components
        if component not in names:
            raise Error(Status.SPATTN_ERR_NOT_FOUND, "no component %r" % component)
        index = names.index(component)
        return [ffi.string(lib.spattn_model_ignore_pattern(m, index, j)).decode("utf-8")
                for j in range(lib.spattn_model_ignore_count(m, index))]

    def lookup(self, component, layer, phase="prefill", timestep=None):
        """Resolves one layer. component: a name ("" or None for a plain checkpoint);
        layer: full or component-relative module name; timestep in [0, 1] or None."""
        out = _new_struct("spattn_layer_params")
        check(lib.spattn_model_lookup(
            self._handle(), ffi.NULL if component is None else component.encode("utf-8"),
            layer.encode("utf-8"), _value_of(PHASES, phase, "phase"),
            CONSTANTS["SPATTN_NO_TIMESTEP"] if timestep is None else float(timestep), out))
        return LayerParams.from_c(out)

    def to_json(self):
        out = ffi.new("char **")
        check(lib.spattn_model_to_json(self._handle(), out))
        return take_string(out)

    def to_dict(self):
        return json.loads(self.to_json())

