"""spattn: Python bindings of the sparse-attention runtime library (cffi, ABI mode).

The library is loaded from $SPATTN_LIBRARY (full path of libspattn.so) when set, else from a
libspattn.so* copied next to this package, else from the system's library path.

    import spattn
    with spattn.Config.parse("sparse_attention_config: {algorithm: skip_softmax, "
                             "target_sparsity: 0.5}") as config, \\
         spattn.Model.open("checkpoints/wan", config) as model:
        p = model.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        print(p.enabled, p.threshold_scale_factor)
"""
from ._cdef import CONSTANTS
from ._lib import Error, Status, ffi, lib, library_path
from ._handles import (Config, DsaConfig, LayerParams, Model, RocketConfig, SkipSoftmaxConfig)
from ._attention import attention_forward, attention_reference, torch_attention

__all__ = ["CONSTANTS", "Config", "DsaConfig", "Error", "LayerParams", "Model", "RocketConfig",
           "SkipSoftmaxConfig", "Status", "attention_forward", "attention_reference",
           "torch_attention", "version", "library_path", "ffi", "lib"]

__version__ = "%d.%d.%d" % (CONSTANTS["SPATTN_VERSION_MAJOR"], CONSTANTS["SPATTN_VERSION_MINOR"],
                            CONSTANTS["SPATTN_VERSION_PATCH"])


def version():
    """Version string of the loaded library ("0.1.0")."""
    return ffi.string(lib.spattn_version_string()).decode()

# Index-sparse attention and DSA on PyTorch tensors.
from ._attention import torch_dsa_layer, torch_sparse_attention  # noqa: E402

__all__ += ["torch_dsa_layer", "torch_sparse_attention"]
