"""Config and Model: the two opaque handles of the C API, with their accessors."""
import dataclasses
import json
import math
import os
from typing import Any, Dict, List, Optional, Tuple, Union

from ._cdef import CONSTANTS
from ._enums import (Algorithm, DisabledReason, Format, IndexerKDtype, KtCacheDtype, Phase, PhaseKey,
                     Source, Status)
from ._lib import Error, check, closed_error, ffi, lib, path_bytes, take_string, text_or_none, utf8

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def _new_struct(ctype: str) -> Any:
    s = ffi.new(ctype + " *")
    s.struct_size = ffi.sizeof(ctype)
    return s


class _Handle:
    """An owned C handle: freed by close(), by `with`, or by the garbage collector."""

    _destroy: Any = None
    _kind = "handle"

    def __init__(self, ptr: Any) -> None:
        self._ptr = ffi.gc(ptr, type(self)._destroy)

    def close(self) -> None:
        """Destroys the C handle now. Idempotent; later use raises Error."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    @property
    def closed(self) -> bool:
        """True once close() ran."""
        return self._ptr is None

    def _handle(self) -> Any:
        if self._ptr is None:
            raise closed_error(self._kind)
        return self._ptr

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclasses.dataclass(frozen=True)
class PhaseValues:
    """A value for each phase (spattn_phase_values); a scalar in a config sets both."""

    prefill: float
    decode: float

    @classmethod
    def from_c(cls, values: Any) -> "PhaseValues":
        """From a spattn_phase_values struct."""
        return cls(prefill=values.prefill, decode=values.decode)


@dataclasses.dataclass(frozen=True)
class SkipSoftmaxConfig:
    """skip_softmax settings of a user config, with the Model Optimizer extras (N:M sparse
    softmax, NVFP4 P quantization); None where a setting is not given."""

    threshold_scale_factor: Optional[PhaseValues] = None
    target_sparsity: Optional[PhaseValues] = None
    disabled_until_timestep: Optional[float] = None
    sparsity_n: int = 0
    sparsity_m: int = 0
    num_sink_tokens: int = 0
    dense_window_size: int = 0
    quantize_p: bool = False


@dataclasses.dataclass(frozen=True)
class RocketConfig:
    """rocket (RocketKV) settings of a user config; TensorRT-LLM's defaults where not given."""

    window_size: int
    kernel_size: int
    topr: float
    topk: int
    prompt_budget: int
    page_size: int
    kt_cache_dtype: KtCacheDtype
    seq_len_threshold: Optional[int] = None


def _unset_if_zero(v: int) -> Optional[int]:
    return v if v > 0 else None  # 0 means unset in the C struct


@dataclasses.dataclass(frozen=True)
class DsaConfig:
    """dsa (DeepSeek Sparse Attention) settings of a user config; None where not given. The
    fields after seq_len_threshold are TensorRT-LLM's kernel-selection switches, kept so its
    option files are understood (TensorRT-LLM's defaults)."""

    index_n_heads: Optional[int] = None
    index_head_dim: Optional[int] = None
    index_topk: Optional[int] = None
    indexer_max_chunk_size: Optional[int] = None
    skip_indexer_for_short_seqs: bool = True
    enable_heuristic_topk: bool = False
    seq_len_threshold: Optional[int] = None
    use_cute_dsl_topk: bool = False
    use_cute_dsl_paged_mqa_logits: bool = False
    q_split_threshold: int = 8192              # negative: never split
    indexer_rope_interleave: bool = False
    use_self_sampling_topk: bool = True
    use_gvr_emission: bool = False
    indexer_k_dtype: IndexerKDtype = IndexerKDtype.FP8
    index_share_for_mtp_iteration: Optional[bool] = None  # None: the model's own value

    @classmethod
    def from_c(cls, d: Any) -> "DsaConfig":
        """From a spattn_dsa_config struct (cdata)."""
        share = d.index_share_for_mtp_iteration
        return cls(
            index_n_heads=_unset_if_zero(d.index_n_heads), index_head_dim=_unset_if_zero(d.index_head_dim),
            index_topk=_unset_if_zero(d.index_topk),
            indexer_max_chunk_size=_unset_if_zero(d.indexer_max_chunk_size),
            skip_indexer_for_short_seqs=bool(d.skip_indexer_for_short_seqs),
            enable_heuristic_topk=bool(d.enable_heuristic_topk),
            seq_len_threshold=_unset_if_zero(d.seq_len_threshold),
            use_cute_dsl_topk=bool(d.use_cute_dsl_topk),
            use_cute_dsl_paged_mqa_logits=bool(d.use_cute_dsl_paged_mqa_logits),
            q_split_threshold=d.q_split_threshold, indexer_rope_interleave=bool(d.indexer_rope_interleave),
            use_self_sampling_topk=bool(d.use_self_sampling_topk), use_gvr_emission=bool(d.use_gvr_emission),
            indexer_k_dtype=IndexerKDtype.from_c(d.indexer_k_dtype),
            index_share_for_mtp_iteration=None if share < 0 else bool(share))

    def to_c(self) -> Any:
        """A new spattn_dsa_config struct (cdata) with these values."""
        d = _new_struct("spattn_dsa_config")
        for name in ("index_n_heads", "index_head_dim", "index_topk", "indexer_max_chunk_size",
                     "seq_len_threshold"):
            setattr(d, name, getattr(self, name) or 0)
        for name in ("skip_indexer_for_short_seqs", "enable_heuristic_topk", "use_cute_dsl_topk",
                     "use_cute_dsl_paged_mqa_logits", "indexer_rope_interleave", "use_self_sampling_topk",
                     "use_gvr_emission"):
            setattr(d, name, int(bool(getattr(self, name))))
        d.q_split_threshold = self.q_split_threshold
        d.indexer_k_dtype = IndexerKDtype.coerce(self.indexer_k_dtype, "indexer_k_dtype").c_value
        share = self.index_share_for_mtp_iteration
        d.index_share_for_mtp_iteration = -1 if share is None else int(bool(share))
        return d


@dataclasses.dataclass(frozen=True)
class VsaConfig:
    """vsa (Video Sparse Attention) settings of a user config (defaults where not given)."""

    vsa_sparsity: float                 # fraction of KV cubes each query cube drops, in [0, 1)
    cube_shape: Tuple[int, int, int]    # frames, height, width in latent tokens
    disabled_until_timestep: Optional[float] = None


class Config(_Handle):
    """A parsed user sparse-attention config (spattn_config)."""

    _destroy = lib.spattn_config_destroy
    _kind = "config"

    @classmethod
    def parse(cls, text: Union[str, bytes], format: Union[Format, str] = Format.AUTO) -> "Config":
        """Parses YAML or JSON text (str, or UTF-8 bytes/bytearray/memoryview). TypeError for
        anything else, ValueError for an unknown format, Error for a config the library refuses."""
        if isinstance(text, str):
            data = text.encode("utf-8")
        elif isinstance(text, (bytes, bytearray, memoryview)):
            data = bytes(text)
        else:
            raise TypeError("config text must be str or bytes, not %s" % type(text).__name__)
        out = ffi.new("spattn_config **")
        check(lib.spattn_config_parse(data, len(data), Format.coerce(format, "format").c_value, out))
        return cls(out[0])

    @classmethod
    def from_file(cls, path: PathLike, format: Union[Format, str] = Format.AUTO) -> "Config":
        """Parses a config file; with Format.AUTO its extension (.json/.yaml/.yml) decides."""
        out = ffi.new("spattn_config **")
        check(lib.spattn_config_parse_file(path_bytes(path, "path"), Format.coerce(format, "format").c_value, out))
        return cls(out[0])

    @property
    def algorithm(self) -> Algorithm:
        """The configured algorithm (Algorithm.NONE when none)."""
        return Algorithm.from_c(lib.spattn_config_algorithm(self._handle()))

    @property
    def backend(self) -> Optional[str]:
        """The VisualGen attention_config.backend, or None."""
        return text_or_none(lib.spattn_config_backend(self._handle()))

    def to_json(self) -> str:
        """Canonical JSON of what was understood."""
        out = ffi.new("char **")
        check(lib.spattn_config_to_json(self._handle(), out))
        return take_string(out)

    def to_dict(self) -> Dict[str, Any]:
        """to_json(), parsed."""
        return json.loads(self.to_json())

    def skip_softmax(self) -> SkipSoftmaxConfig:
        """The skip_softmax settings; Error (Status.WRONG_ALGORITHM) for another algorithm."""
        s = _new_struct("spattn_skip_softmax_config")
        check(lib.spattn_config_skip_softmax(self._handle(), s))
        return SkipSoftmaxConfig(
            threshold_scale_factor=PhaseValues.from_c(s.threshold_scale_factor) if s.has_threshold_scale_factor else None,
            target_sparsity=PhaseValues.from_c(s.target_sparsity) if s.has_target_sparsity else None,
            disabled_until_timestep=s.disabled_until_timestep if s.has_disabled_until_timestep else None,
            sparsity_n=s.sparsity_n, sparsity_m=s.sparsity_m, num_sink_tokens=s.num_sink_tokens,
            dense_window_size=s.dense_window_size, quantize_p=bool(s.quantize_p))

    def rocket(self) -> RocketConfig:
        """The rocket settings; Error (Status.WRONG_ALGORITHM) for another algorithm."""
        r = _new_struct("spattn_rocket_config")
        check(lib.spattn_config_rocket(self._handle(), r))
        return RocketConfig(
            window_size=r.window_size, kernel_size=r.kernel_size, topr=r.topr, topk=r.topk,
            prompt_budget=r.prompt_budget, page_size=r.page_size,
            kt_cache_dtype=KtCacheDtype.from_c(r.kt_cache_dtype),
            seq_len_threshold=r.seq_len_threshold if r.has_seq_len_threshold else None)

    def dsa(self) -> DsaConfig:
        """The dsa settings; Error (Status.WRONG_ALGORITHM) for another algorithm."""
        d = _new_struct("spattn_dsa_config")
        check(lib.spattn_config_dsa(self._handle(), d))
        return DsaConfig.from_c(d)

    def vsa(self) -> VsaConfig:
        """The vsa settings; Error (Status.WRONG_ALGORITHM) for another algorithm."""
        v = _new_struct("spattn_vsa_config")
        check(lib.spattn_config_vsa(self._handle(), v))
        return VsaConfig(vsa_sparsity=v.vsa_sparsity, cube_shape=tuple(v.cube_shape),
                         disabled_until_timestep=v.disabled_until_timestep if v.has_disabled_until_timestep else None)

    def __repr__(self) -> str:
        if self.closed:
            return "<spattn.Config closed>"
        backend = self.backend
        return "<spattn.Config algorithm=%s%s>" % (self.algorithm, "" if backend is None else " backend=" + backend)


def _nan_to_none(x: float) -> Optional[float]:
    return None if math.isnan(x) else x


@dataclasses.dataclass(frozen=True)
class LayerParams:
    """The resolved parameters of one attention layer (spattn_layer_params)."""

    algorithm: Algorithm
    enabled: bool
    disabled_reason: DisabledReason
    phase_key: PhaseKey                 # part of a CUDA-graph cache key
    threshold_scale_factor: float
    threshold_source: Source
    target_sparsity: Optional[float]    # None when no target
    target_source: Source
    disabled_until_timestep: Optional[float]  # None when no cutoff
    timestep_source: Source
    sparsity_n: int
    sparsity_m: int
    num_sink_tokens: int
    dense_window_size: int
    quantize_p: bool
    vsa_sparsity: float = 0.0                        # VSA only: fraction of KV cubes dropped
    vsa_cube_shape: Tuple[int, int, int] = (0, 0, 0)  # VSA only: cube frames, height, width

    def to_c(self) -> Any:
        """A new spattn_layer_params struct (cdata) with these values."""
        p = _new_struct("spattn_layer_params")
        p.algorithm = Algorithm.coerce(self.algorithm, "algorithm").c_value
        p.enabled = int(self.enabled)
        p.disabled_reason = DisabledReason.coerce(self.disabled_reason, "disabled_reason").c_value
        p.phase_key = PhaseKey.coerce(self.phase_key, "phase_key").c_value
        p.threshold_scale_factor = self.threshold_scale_factor
        p.threshold_source = Source.coerce(self.threshold_source, "threshold_source").c_value
        p.target_sparsity = math.nan if self.target_sparsity is None else self.target_sparsity
        p.target_source = Source.coerce(self.target_source, "target_source").c_value
        p.disabled_until_timestep = (math.nan if self.disabled_until_timestep is None
                                     else self.disabled_until_timestep)
        p.timestep_source = Source.coerce(self.timestep_source, "timestep_source").c_value
        p.sparsity_n, p.sparsity_m = self.sparsity_n, self.sparsity_m
        p.num_sink_tokens, p.dense_window_size = self.num_sink_tokens, self.dense_window_size
        p.quantize_p = int(self.quantize_p)
        p.vsa_sparsity, p.vsa_cube_shape = self.vsa_sparsity, list(self.vsa_cube_shape)
        return p

    @classmethod
    def from_c(cls, p: Any) -> "LayerParams":
        """From a spattn_layer_params struct (cdata)."""
        return cls(
            algorithm=Algorithm.from_c(p.algorithm), enabled=bool(p.enabled),
            disabled_reason=DisabledReason.from_c(p.disabled_reason),
            phase_key=PhaseKey.from_c(p.phase_key),
            threshold_scale_factor=p.threshold_scale_factor,
            threshold_source=Source.from_c(p.threshold_source),
            target_sparsity=_nan_to_none(p.target_sparsity),
            target_source=Source.from_c(p.target_source),
            disabled_until_timestep=_nan_to_none(p.disabled_until_timestep),
            timestep_source=Source.from_c(p.timestep_source),
            sparsity_n=p.sparsity_n, sparsity_m=p.sparsity_m, num_sink_tokens=p.num_sink_tokens,
            dense_window_size=p.dense_window_size, quantize_p=bool(p.quantize_p),
            vsa_sparsity=p.vsa_sparsity, vsa_cube_shape=tuple(p.vsa_cube_shape))


class Model(_Handle):
    """A checkpoint's calibration merged with a user config, resolved per layer (spattn_model)."""

    _destroy = lib.spattn_model_destroy
    _kind = "model"

    @classmethod
    def open(cls, path: PathLike, config: Optional[Config] = None) -> "Model":
        """Opens a checkpoint folder; `config` is a Config or None (checkpoint defaults).
        The model copies what it needs: the config may be closed afterwards."""
        if config is not None and not isinstance(config, Config):
            raise TypeError("config must be a spattn.Config or None, not %s" % type(config).__name__)
        user = ffi.NULL if config is None else config._handle()
        out = ffi.new("spattn_model **")
        check(lib.spattn_model_open(path_bytes(path, "path"), user, out))
        return cls(out[0])

    @property
    def components(self) -> List[str]:
        """Component names ([""] for a plain checkpoint)."""
        m = self._handle()
        return [ffi.string(lib.spattn_model_component_name(m, i)).decode("utf-8")
                for i in range(lib.spattn_model_component_count(m))]

    def ignore_patterns(self, component: str = "") -> List[str]:
        """The checkpoint's ignore patterns of a component; Error (Status.NOT_FOUND) when there
        is no such component."""
        m = self._handle()
        names = self.components
        if component not in names:
            raise Error(Status.NOT_FOUND, "no component %r" % component)
        index = names.index(component)
        return [ffi.string(lib.spattn_model_ignore_pattern(m, index, j)).decode("utf-8")
                for j in range(lib.spattn_model_ignore_count(m, index))]

    def lookup(self, component: Optional[str], layer: str, phase: Union[Phase, str] = Phase.PREFILL,
               timestep: Optional[float] = None) -> LayerParams:
        """Resolves one layer. component: a name ("" or None for a plain checkpoint);
        layer: full or component-relative module name; timestep in [0, 1] or None."""
        c_component = ffi.NULL if component is None else utf8(component, "component")
        c_layer = utf8(layer, "layer")
        c_phase = Phase.coerce(phase, "phase").c_value
        c_timestep = CONSTANTS["SPATTN_NO_TIMESTEP"] if timestep is None else float(timestep)
        out = _new_struct("spattn_layer_params")
        check(lib.spattn_model_lookup(self._handle(), c_component, c_layer, c_phase, c_timestep, out))
        return LayerParams.from_c(out)

    def phase_key(self, component: Optional[str], phase: Union[Phase, str] = Phase.PREFILL,
                  timestep: Optional[float] = None) -> PhaseKey:
        """The CUDA-graph phase of a whole component at a timestep (spattn_model_phase_key):
        SPARSE when its ordinary layers run sparse, else DENSE; arguments as lookup()."""
        c_component = ffi.NULL if component is None else utf8(component, "component")
        c_phase = Phase.coerce(phase, "phase").c_value
        c_timestep = CONSTANTS["SPATTN_NO_TIMESTEP"] if timestep is None else float(timestep)
        out = ffi.new("spattn_phase_key *")
        check(lib.spattn_model_phase_key(self._handle(), c_component, c_phase, c_timestep, out))
        return PhaseKey.from_c(out[0])

    def to_json(self) -> str:
        """The resolved table as JSON."""
        out = ffi.new("char **")
        check(lib.spattn_model_to_json(self._handle(), out))
        return take_string(out)

    def to_dict(self) -> Dict[str, Any]:
        """to_json(), parsed."""
        return json.loads(self.to_json())

    def __repr__(self) -> str:
        return "<spattn.Model closed>" if self.closed else "<spattn.Model components=%r>" % self.components
