"""spattn: Python bindings of the sparse-attention runtime library (cffi, ABI mode).

The library is loaded from $SPATTN_LIBRARY (full path of libspattn.so) when set, else from the
copy a wheel bundles next to this package, else from the system's library path
(libspattn.so.0).

    import spattn
    with spattn.Config.parse("sparse_attention_config: {algorithm: skip_softmax, "
                             "target_sparsity: 0.5}") as config, \\
         spattn.Model.open("checkpoints/wan", config) as model:
        p = model.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        print(p.enabled, p.threshold_scale_factor, p.disabled_reason)

Values of closed sets are enums (spattn.Phase.PREFILL, spattn.DisabledReason.IGNORED) whose
values are the spellings used everywhere in spattn ("prefill", "ignored"): a member equals its
spelling, and functions take either.
"""
from ._cdef import CONSTANTS
from ._enums import (Algorithm, DisabledReason, Dtype, Format, IndexerKDtype, KtCacheDtype, KvLayout,
                     LogLevel, Phase, PhaseKey, Source, Status, VsaDirection)
from ._lib import Error, ffi, lib, library_path
from ._handles import (Config, DsaConfig, LayerParams, Model, PhaseValues, RocketConfig,
                       SkipSoftmaxConfig, VsaConfig)
from ._attention import (attention_forward, attention_reference, torch_attention,
                         torch_decode, torch_merge,
                         torch_dsa_layer, torch_sparse_attention,
                         torch_rocket_context, torch_rocket_decode,
                         torch_vsa, vsa_forward, vsa_geometry, vsa_reference, vsa_relayout,
                         vsa_relayout_reference, vsa_workspace_size)

__all__ = ["CONSTANTS", "Algorithm", "Config", "DisabledReason", "DsaConfig", "Dtype", "Error",
           "Format", "IndexerKDtype", "KtCacheDtype", "KvLayout", "LayerParams", "LogLevel", "Model",
           "Phase", "PhaseKey", "PhaseValues", "RocketConfig", "SkipSoftmaxConfig", "Source", "Status",
           "VsaConfig", "VsaDirection",
           "attention_forward", "attention_reference", "torch_attention",
           "torch_decode", "torch_merge",
           "torch_dsa_layer", "torch_sparse_attention",
           "torch_rocket_context", "torch_rocket_decode",
           "torch_vsa", "vsa_forward", "vsa_geometry", "vsa_reference", "vsa_relayout",
           "vsa_relayout_reference", "vsa_workspace_size",
           "version", "library_path", "ffi", "lib"]

__version__ = "%d.%d.%d" % (CONSTANTS["SPATTN_VERSION_MAJOR"], CONSTANTS["SPATTN_VERSION_MINOR"],
                            CONSTANTS["SPATTN_VERSION_PATCH"])


def version() -> str:
    """Version string of the loaded library ("0.1.0")."""
    return ffi.string(lib.spattn_version_string()).decode()


for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "spattn"  # repr and pickle name them spattn.X
del _name, _obj
