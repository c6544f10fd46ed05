"""Attention forward: raw pointers (device or host) and a PyTorch tensor helper."""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ._enums import Dtype, KtCacheDtype, VsaDirection
from ._lib import Error, Status, check, ffi, lib
from ._handles import Config, DsaConfig, LayerParams, RocketConfig

Buffer = Union[int, Any, None]  # an address, an object with the buffer protocol, or None (NULL)
Tensor = Any  # a torch.Tensor (torch is imported only where a helper needs it)
Strides = Optional[Sequence[int]]


def _pointer(x: Buffer, ctype: str, keep: List[Any], output: Optional[str] = None) -> Any:
    """None -> NULL; int -> that address; a buffer (bytearray, array, memoryview, numpy
    array) -> its data. An output (named by `output`) refuses a read-only buffer such as bytes
    with a TypeError."""
    if x is None:
        return ffi.NULL
    if isinstance(x, int):
        return ffi.cast(ctype, x)
    try:
        buf = ffi.from_buffer(x, require_writable=output is not None)
    except BufferError:
        raise TypeError("%s is an output: it must be a writable buffer (bytearray, array.array, ...), "
                        "not a read-only %s" % (output, type(x).__name__)) from None
    keep.append(buf)
    return ffi.cast(ctype, buf)


def _bshd(seqlen: int, heads: int, head_dim: int) -> Tuple[int, int, int]:
    return (seqlen * heads * head_dim, heads * head_dim, head_dim)


def _build_args(q: Buffer, k: Buffer, v: Buffer, out: Buffer, dtype: Union[Dtype, str], batch: int,
                num_heads: int, head_dim: int, seqlen_q: int, seqlen_kv: Optional[int],
                num_kv_heads: Optional[int], q_strides: Strides, k_strides: Strides, v_strides: Strides,
                out_strides: Strides, cu_seqlens_q: Buffer, cu_seqlens_kv: Buffer, softmax_scale: float,
                causal: bool, layer: Optional[LayerParams], threshold_scale_factor: float, lse: Buffer,
                tile_counters: Buffer, total_q: int, total_kv: int, skip_seqlen_kv: int) -> Tuple[Any, List[Any]]:
    c_dtype = Dtype.coerce(dtype, "dtype").c_value
    seqlen_kv = seqlen_q if seqlen_kv is None else seqlen_kv
    num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
    keep = []
    a = ffi.new("spattn_attention_args *")
    a.struct_size = ffi.sizeof("spattn_attention_args")
    a.dtype = c_dtype
    a.batch, a.num_heads, a.num_kv_heads, a.head_dim = batch, num_heads, num_kv_heads, head_dim
    a.seqlen_q, a.seqlen_kv = seqlen_q, seqlen_kv
    a.q = _pointer(q, "const void *", keep)
    a.k = _pointer(k, "const void *", keep)
    a.v = _pointer(v, "const void *", keep)
    a.out = _pointer(out, "void *", keep, output="out")
    a.q_strides = list(q_strides or _bshd(seqlen_q, num_heads, head_dim))
    a.k_strides = list(k_strides or _bshd(seqlen_kv, num_kv_heads, head_dim))
    a.v_strides = list(v_strides or _bshd(seqlen_kv, num_kv_heads, head_dim))
    a.out_strides = list(out_strides or _bshd(seqlen_q, num_heads, head_dim))
    a.cu_seqlens_q = _pointer(cu_seqlens_q, "const int32_t *", keep)
    a.cu_seqlens_kv = _pointer(cu_seqlens_kv, "const int32_t *", keep)
    a.softmax_scale = softmax_scale
    a.causal = int(bool(causal))
    if layer is not None:
        c_layer = layer.to_c() if isinstance(layer, LayerParams) else layer
        keep.append(c_layer)
        a.layer_params = c_layer
    a.threshold_scale_factor = threshold_scale_factor
    a.lse = _pointer(lse, "float *", keep, output="lse")
    a.tile_counters = _pointer(tile_counters, "unsigned long long *", keep, output="tile_counters")
    a.total_q, a.total_kv = total_q, total_kv
    a.skip_seqlen_kv = skip_seqlen_kv
    return a, keep


def attention_forward(q: Buffer, k: Buffer, v: Buffer, out: Buffer, *, dtype: Union[Dtype, str], batch: int,
                      num_heads: int, head_dim: int, seqlen_q: int, seqlen_kv: Optional[int] = None,
                      num_kv_heads: Optional[int] = None, q_strides: Strides = None,
                      k_strides: Strides = None, v_strides: Strides = None, out_strides: Strides = None,
                      cu_seqlens_q: Buffer = None, cu_seqlens_kv: Buffer = None,
                      softmax_scale: float = 0.0, causal: bool = False,
                      layer: Optional[LayerParams] = None, threshold_scale_factor: float = 0.0,
                      lse: Buffer = None, tile_counters: Buffer = None, total_q: int = 0,
                      total_kv: int = 0, skip_seqlen_kv: int = 0, stream: Optional[int] = 0) -> None:
    """spattn_attention_forward on device pointers given as ints (q, k, v, out, cu_seqlens_*,
    lse, tile_counters), strides in elements as 3-tuples (batch, token, head; default BSHD
    contiguous), `stream` a cudaStream_t as an int (0: default stream). `layer` is a
    LayerParams from Model.lookup (its threshold then applies) or None (threshold_scale_factor
    applies; 0 is dense). dtype: Dtype.BFLOAT16 or Dtype.FLOAT16 (or their spellings). Packed batches (cu_seqlens_*) may
    give total_q/total_kv, the token totals, which lets the Hopper kernel take them.
    skip_seqlen_kv > 0: the key count of lambda = threshold / L for every sequence (a
    sequence-parallel shard gives the global length). Asynchronous."""
    a, keep = _build_args(q, k, v, out, dtype, batch, num_heads, head_dim, seqlen_q, seqlen_kv,
                          num_kv_heads, q_strides, k_strides, v_strides, out_strides, cu_seqlens_q,
                          cu_seqlens_kv, softmax_scale, causal, layer, threshold_scale_factor, lse,
                          tile_counters, total_q, total_kv, skip_seqlen_kv)
    check(lib.spattn_attention_forward(a, ffi.cast("void *", stream or 0)))
    del keep


def attention_reference(q: Buffer, k: Buffer, v: Buffer, out: Buffer, *, dtype: Union[Dtype, str],
                        batch: int, num_heads: int, head_dim: int, seqlen_q: int,
                        seqlen_kv: Optional[int] = None, num_kv_heads: Optional[int] = None,
                        q_strides: Strides = None, k_strides: Strides = None, v_strides: Strides = None,
                        out_strides: Strides = None, cu_seqlens_q: Buffer = None,
                        cu_seqlens_kv: Buffer = None, softmax_scale: float = 0.0, causal: bool = False,
                        layer: Optional[LayerParams] = None, threshold_scale_factor: float = 0.0,
                        lse: Buffer = None, tile_counters: Buffer = None, total_q: int = 0,
                        total_kv: int = 0, skip_seqlen_kv: int = 0) -> None:
    """spattn_attention_reference: the CPU version of attention_forward on host memory. Each
    of q, k, v, out, lse (float32), tile_counters (two uint64) and cu_seqlens_* (int32) is a
    buffer (bytearray, array.array, memoryview, numpy array) or an address. The outputs (out,
    lse, tile_counters) must be writable: TypeError for bytes or another read-only buffer."""
    a, keep = _build_args(q, k, v, out, dtype, batch, num_heads, head_dim, seqlen_q, seqlen_kv,
                          num_kv_heads, q_strides, k_strides, v_strides, out_strides, cu_seqlens_q,
                          cu_seqlens_kv, softmax_scale, causal, layer, threshold_scale_factor, lse,
                          tile_counters, total_q, total_kv, skip_seqlen_kv)
    check(lib.spattn_attention_reference(a))
    del keep


def _torch_strides(t: Any, layout: str, name: str) -> Tuple[int, int, int]:
    if t.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "%s: the head dimension must be contiguous" % name)
    s = t.stride()
    return (s[0], s[1], s[2]) if layout == "bshd" else (s[0], s[2], s[1])


def torch_attention(q: Any, k: Any, v: Any, out: Any = None, *, layout: str = "bshd",
                    layer: Optional[LayerParams] = None, threshold_scale_factor: float = 0.0,
                    causal: bool = False, softmax_scale: float = 0.0, lse: Any = None,
                    tile_counters: Any = None, skip_seqlen_kv: int = 0, stream: Any = None) -> Any:
    """Runs spattn_attention_forward on PyTorch CUDA tensors and returns `out`.

    layout "bshd": tensors are [batch, seq, heads, head_dim]; "bhsd": [batch, heads, seq,
    head_dim] (what scaled_dot_product_attention takes). Any strides with a contiguous head
    dimension. dtype bfloat16 or float16. `tile_counters`: an int64 CUDA tensor of 2 elements
    (visited, skipped) that the kernel adds to. `lse`: float32 [batch, heads, seq] (for
    torch_merge). skip_seqlen_kv > 0: lambda's key count (a sequence-parallel shard gives the
    global length). Runs on torch.cuda.current_stream() unless `stream` (a torch.cuda.Stream or
    an int) is given."""
    import torch  # imported here so that the package works without torch

    if layout not in ("bshd", "bhsd"):
        raise Error(Status.INVALID_ARGUMENT, "layout must be 'bshd' or 'bhsd'")
    dtypes = {torch.bfloat16: Dtype.BFLOAT16, torch.float16: Dtype.FLOAT16}
    if q.dtype not in dtypes or k.dtype != q.dtype or v.dtype != q.dtype:
        raise Error(Status.INVALID_ARGUMENT, "q, k, v must all be bfloat16 or all float16")
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.dim() != 4 or not t.is_cuda:
            raise Error(Status.INVALID_ARGUMENT, "%s must be a 4-d CUDA tensor" % name)
    if out is None:
        out = torch.empty_like(q)
    seq_axis, head_axis = (1, 2) if layout == "bshd" else (2, 1)
    stream = _torch_stream(stream, q.device)
    if lse is not None and (lse.dtype != torch.float32 or not lse.is_contiguous()):
        raise Error(Status.INVALID_ARGUMENT, "lse must be a contiguous float32 tensor")
    if tile_counters is not None and (tile_counters.dtype != torch.int64 or tile_counters.numel() < 2):
        raise Error(Status.INVALID_ARGUMENT, "tile_counters must be an int64 tensor of 2")
    attention_forward(
        q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(), dtype=dtypes[q.dtype],
        batch=q.shape[0], num_heads=q.shape[head_axis], num_kv_heads=k.shape[head_axis],
        head_dim=q.shape[3], seqlen_q=q.shape[seq_axis], seqlen_kv=k.shape[seq_axis],
        q_strides=_torch_strides(q, layout, "q"), k_strides=_torch_strides(k, layout, "k"),
        v_strides=_torch_strides(v, layout, "v"), out_strides=_torch_strides(out, layout, "out"),
        softmax_scale=softmax_scale, causal=causal, layer=layer,
        threshold_scale_factor=threshold_scale_factor,
        lse=None if lse is None else lse.data_ptr(),
        tile_counters=None if tile_counters is None else tile_counters.data_ptr(), skip_seqlen_kv=skip_seqlen_kv,
        stream=stream)
    return out


# ---------------------------------------------------------------------------
# Video Sparse Attention (spattn_vsa_*; semantics at spattn_vsa_args in spattn.h)

Shape3 = Sequence[int]  # (frames, height, width)


def _vsa_args(q: Buffer, k: Buffer, v: Buffer, gate: Buffer, out: Buffer, dtype: Union[Dtype, str],
              batch: int, num_heads: int, head_dim: int, grid: Shape3, cube_shape: Shape3, sparsity: float,
              num_kv_heads: Optional[int], q_strides: Strides, k_strides: Strides, v_strides: Strides,
              gate_strides: Strides, out_strides: Strides, softmax_scale: float, lse: Buffer,
              selected_cubes: Buffer, workspace: Buffer, workspace_size: int) -> Tuple[Any, List[Any]]:
    num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
    keep: List[Any] = []
    a = ffi.new("spattn_vsa_args *")
    a.struct_size = ffi.sizeof("spattn_vsa_args")
    a.dtype = Dtype.coerce(dtype, "dtype").c_value
    a.batch, a.num_heads, a.num_kv_heads, a.head_dim = batch, num_heads, num_kv_heads, head_dim
    a.grid = list(grid)
    a.cube_shape = list(cube_shape)
    a.sparsity = sparsity
    a.q = _pointer(q, "const void *", keep)
    a.k = _pointer(k, "const void *", keep)
    a.v = _pointer(v, "const void *", keep)
    a.gate = _pointer(gate, "const void *", keep)
    a.out = _pointer(out, "void *", keep, output="out")
    geometry = vsa_geometry(grid, cube_shape, sparsity)
    tokens = geometry["padded_tokens"]
    a.q_strides = list(q_strides or _bshd(tokens, num_heads, head_dim))
    a.k_strides = list(k_strides or _bshd(tokens, num_kv_heads, head_dim))
    a.v_strides = list(v_strides or _bshd(tokens, num_kv_heads, head_dim))
    a.gate_strides = list(gate_strides or _bshd(tokens, num_heads, head_dim))
    a.out_strides = list(out_strides or _bshd(tokens, num_heads, head_dim))
    a.softmax_scale = softmax_scale
    a.lse = _pointer(lse, "float *", keep, output="lse")
    a.selected_cubes = _pointer(selected_cubes, "int32_t *", keep, output="selected_cubes")
    a.workspace = _pointer(workspace, "void *", keep, output="workspace")
    a.workspace_size = workspace_size
    return a, keep


def vsa_geometry(grid: Shape3, cube_shape: Shape3 = (4, 4, 4), sparsity: float = 0.9) -> Dict[str, Any]:
    """spattn_vsa_get_geometry: {"cubes": (n_t, n_h, n_w), "num_cubes", "cube_volume",
    "padded_tokens" (the token extent of cube order), "kept_cubes"} for a latent grid of
    (frames, height, width) tokens."""
    a = ffi.new("spattn_vsa_args *")
    a.struct_size = ffi.sizeof("spattn_vsa_args")
    a.dtype = lib.SPATTN_DTYPE_BFLOAT16
    a.batch = a.num_heads = a.num_kv_heads = 1
    a.head_dim = 64
    a.grid = list(grid)
    a.cube_shape = list(cube_shape)
    a.sparsity = sparsity
    g = ffi.new("spattn_vsa_geometry *")
    g.struct_size = ffi.sizeof("spattn_vsa_geometry")
    check(lib.spattn_vsa_get_geometry(a, g))
    return {"cubes": tuple(g.cubes), "num_cubes": g.num_cubes, "cube_volume": g.cube_volume,
            "padded_tokens": g.padded_tokens, "kept_cubes": g.kept_cubes}


def vsa_workspace_size(*, dtype: Union[Dtype, str], batch: int, num_heads: int, head_dim: int, grid: Shape3,
                       cube_shape: Shape3 = (4, 4, 4), sparsity: float = 0.9,
                       num_kv_heads: Optional[int] = None) -> int:
    """spattn_vsa_workspace_size: bytes of device scratch memory vsa_forward needs."""
    a, keep = _vsa_args(None, None, None, None, None, dtype, batch, num_heads, head_dim, grid, cube_shape,
                        sparsity, num_kv_heads, None, None, None, None, None, 0.0, None, None, None, 0)
    size = ffi.new("size_t *")
    check(lib.spattn_vsa_workspace_size(a, size))
    del keep
    return size[0]


def vsa_forward(q: Buffer, k: Buffer, v: Buffer, gate: Buffer, out: Buffer, *, dtype: Union[Dtype, str],
                batch: int, num_heads: int, head_dim: int, grid: Shape3, cube_shape: Shape3 = (4, 4, 4),
                sparsity: float = 0.9, num_kv_heads: Optional[int] = None, q_strides: Strides = None,
                k_strides: Strides = None, v_strides: Strides = None, gate_strides: Strides = None,
                out_strides: Strides = None, softmax_scale: float = 0.0, lse: Buffer = None,
                selected_cubes: Buffer = None, workspace: Buffer = None, workspace_size: int = 0,
                stream: Optional[int] = 0) -> None:
    """spattn_vsa_forward on device pointers given as ints; q, k, v, gate (None: gate 1), out in
    cube order [batch][padded_tokens][heads][head_dim] (default strides BSHD contiguous).
    workspace: a device pointer of at least vsa_workspace_size() bytes, 256-byte aligned.
    Asynchronous on `stream` (a cudaStream_t as an int)."""
    a, keep = _vsa_args(q, k, v, gate, out, dtype, batch, num_heads, head_dim, grid, cube_shape, sparsity,
                        num_kv_heads, q_strides, k_strides, v_strides, gate_strides, out_strides, softmax_scale,
                        lse, selected_cubes, workspace, workspace_size)
    check(lib.spattn_vsa_forward(a, ffi.cast("void *", stream or 0)))
    del keep


def vsa_reference(q: Buffer, k: Buffer, v: Buffer, gate: Buffer, out: Buffer, *, dtype: Union[Dtype, str],
                  batch: int, num_heads: int, head_dim: int, grid: Shape3, cube_shape: Shape3 = (4, 4, 4),
                  sparsity: float = 0.9, num_kv_heads: Optional[int] = None, q_strides: Strides = None,
                  k_strides: Strides = None, v_strides: Strides = None, gate_strides: Strides = None,
                  out_strides: Strides = None, softmax_scale: float = 0.0, lse: Buffer = None,
                  selected_cubes: Buffer = None) -> None:
    """spattn_vsa_reference: the CPU version of vsa_forward on host buffers (or addresses);
    any cube shape."""
    a, keep = _vsa_args(q, k, v, gate, out, dtype, batch, num_heads, head_dim, grid, cube_shape, sparsity,
                        num_kv_heads, q_strides, k_strides, v_strides, gate_strides, out_strides, softmax_scale,
                        lse, selected_cubes, None, 0)
    check(lib.spattn_vsa_reference(a))
    del keep


def _layout_args(src: Buffer, dst: Buffer, direction: Union[VsaDirection, str], dtype: Union[Dtype, str],
                 batch: int, num_heads: int, head_dim: int, grid: Shape3, cube_shape: Shape3,
                 src_strides: Strides, dst_strides: Strides) -> Tuple[Any, List[Any]]:
    direction = VsaDirection.coerce(direction, "direction")
    keep: List[Any] = []
    a = ffi.new("spattn_vsa_layout_args *")
    a.struct_size = ffi.sizeof("spattn_vsa_layout_args")
    a.dtype, a.direction = Dtype.coerce(dtype, "dtype").c_value, direction.c_value
    a.batch, a.num_heads, a.head_dim = batch, num_heads, head_dim
    a.grid, a.cube_shape = list(grid), list(cube_shape)
    raster = grid[0] * grid[1] * grid[2]
    cubes = vsa_geometry(grid, cube_shape, 0.0)["padded_tokens"]
    src_tokens, dst_tokens = (raster, cubes) if direction is VsaDirection.VSA_TO_CUBES else (cubes, raster)
    a.src = _pointer(src, "const void *", keep)
    a.dst = _pointer(dst, "void *", keep, output="dst")
    a.src_strides = list(src_strides or _bshd(src_tokens, num_heads, head_dim))
    a.dst_strides = list(dst_strides or _bshd(dst_tokens, num_heads, head_dim))
    return a, keep


def vsa_relayout(src: Buffer, dst: Buffer, direction: Union[VsaDirection, str], *, dtype: Union[Dtype, str],
                 batch: int, num_heads: int, head_dim: int, grid: Shape3, cube_shape: Shape3 = (4, 4, 4),
                 src_strides: Strides = None, dst_strides: Strides = None, stream: Optional[int] = 0) -> None:
    """spattn_vsa_relayout on device pointers given as ints, asynchronous on `stream`:
    VsaDirection.VSA_TO_CUBES gathers a [batch][tokens][heads][head_dim] tensor in raster order
    into cube order (pad slots 0), VSA_TO_RASTER scatters it back (default strides: contiguous)."""
    a, keep = _layout_args(src, dst, direction, dtype, batch, num_heads, head_dim, grid, cube_shape,
                           src_strides, dst_strides)
    check(lib.spattn_vsa_relayout(a, ffi.cast("void *", stream or 0)))
    del keep


def vsa_relayout_reference(src: Buffer, dst: Buffer, direction: Union[VsaDirection, str], *,
                           dtype: Union[Dtype, str], batch: int, num_heads: int, head_dim: int, grid: Shape3,
                           cube_shape: Shape3 = (4, 4, 4), src_strides: Strides = None,
                           dst_strides: Strides = None) -> None:
    """spattn_vsa_relayout_reference: vsa_relayout on host buffers (or addresses), synchronously."""
    a, keep = _layout_args(src, dst, direction, dtype, batch, num_heads, head_dim, grid, cube_shape,
                           src_strides, dst_strides)
    check(lib.spattn_vsa_relayout_reference(a))
    del keep


def torch_vsa(q: Tensor, k: Tensor, v: Tensor, gate: Optional[Tensor] = None, *, grid: Shape3,
              cube_shape: Shape3 = (4, 4, 4), sparsity: float = 0.9, layer: Optional[LayerParams] = None,
              layout: str = "bshd", token_order: str = "raster", softmax_scale: float = 0.0,
              selected_cubes: Optional[Tensor] = None, workspace: Optional[Tensor] = None,
              stream: Any = None) -> Tensor:
    """Video Sparse Attention on PyTorch CUDA tensors; returns the output (a new tensor).

    layout "bshd": [batch, tokens, heads, head_dim]; "bhsd": [batch, heads, tokens, head_dim].
    token_order "raster": tokens in the latent grid's raster order (frame, row, column); q, k,
    v and gate are gathered into cube order, the output scattered back (temporaries allocated
    here). "cubes": tensors already in cube order with padded_tokens tokens (vsa_geometry).
    grid: (frames, height, width) in tokens. `layer`: an object with vsa_sparsity and
    vsa_cube_shape (a looked-up layer) that replaces sparsity and cube_shape. gate: like q, or
    None (gate 1). selected_cubes: an int32 CUDA tensor of batch * heads * num_cubes *
    kept_cubes elements that receives the selection. workspace: a uint8 CUDA tensor of at least
    vsa_workspace_size() bytes (None: allocated here). Runs on torch.cuda.current_stream()
    unless `stream` is given."""
    import torch  # imported here so that the package works without torch

    if layout not in ("bshd", "bhsd") or token_order not in ("raster", "cubes"):
        raise Error(Status.INVALID_ARGUMENT,
                    "layout must be 'bshd' or 'bhsd', token_order 'raster' or 'cubes'")
    if layer is not None:
        sparsity, cube_shape = layer.vsa_sparsity, tuple(layer.vsa_cube_shape)
    dtypes = {torch.bfloat16: "bfloat16", torch.float16: "float16"}
    tensors = [("q", q), ("k", k), ("v", v)] + ([("gate", gate)] if gate is not None else [])
    for name, t in tensors:
        if t.dim() != 4 or not t.is_cuda or t.dtype != q.dtype or t.dtype not in dtypes:
            raise Error(Status.INVALID_ARGUMENT,
                        "%s must be a 4-d CUDA tensor, bfloat16 or float16 like q" % name)
    seq_axis, head_axis = (1, 2) if layout == "bshd" else (2, 1)
    batch, heads, kv_heads, dim = q.shape[0], q.shape[head_axis], k.shape[head_axis], q.shape[3]
    dtype = dtypes[q.dtype]
    geometry = vsa_geometry(grid, cube_shape, sparsity)
    stream = _torch_stream(stream, q.device)
    strides = lambda t, name: _torch_strides(t, layout, name)  # noqa: E731

    def to_cubes(t, name):
        if token_order == "cubes":
            return t
        c = torch.empty(batch, geometry["padded_tokens"], t.shape[head_axis], dim, dtype=t.dtype, device=t.device)
        vsa_relayout(t.data_ptr(), c.data_ptr(), VsaDirection.VSA_TO_CUBES, dtype=dtype, batch=batch, num_heads=t.shape[head_axis],
                     head_dim=dim, grid=grid, cube_shape=cube_shape, src_strides=strides(t, name),
                     dst_strides=c.stride()[:3], stream=stream)
        return c

    qc, kc, vc = to_cubes(q, "q"), to_cubes(k, "k"), to_cubes(v, "v")
    gc = to_cubes(gate, "gate") if gate is not None else None
    cube_layout = "bshd" if token_order == "raster" else layout
    cs = lambda t, name: _torch_strides(t, cube_layout, name)  # noqa: E731
    oc = torch.empty_like(qc)
    if workspace is None:
        workspace = torch.empty(vsa_workspace_size(dtype=dtype, batch=batch, num_heads=heads, head_dim=dim,
                                                   grid=grid, cube_shape=cube_shape, sparsity=sparsity,
                                                   num_kv_heads=kv_heads),
                                dtype=torch.uint8, device=q.device)
    vsa_forward(qc.data_ptr(), kc.data_ptr(), vc.data_ptr(), None if gc is None else gc.data_ptr(), oc.data_ptr(),
                dtype=dtype, batch=batch, num_heads=heads, head_dim=dim, grid=grid, cube_shape=cube_shape,
                sparsity=sparsity, num_kv_heads=kv_heads, q_strides=cs(qc, "q"), k_strides=cs(kc, "k"),
                v_strides=cs(vc, "v"), gate_strides=None if gc is None else cs(gc, "gate"),
                out_strides=cs(oc, "out"), softmax_scale=softmax_scale,
                selected_cubes=None if selected_cubes is None else selected_cubes.data_ptr(),
                workspace=workspace.data_ptr(), workspace_size=workspace.numel(), stream=stream)
    if token_order == "cubes":
        return oc
    out = torch.empty_like(q)
    vsa_relayout(oc.data_ptr(), out.data_ptr(), VsaDirection.VSA_TO_RASTER, dtype=dtype, batch=batch, num_heads=heads,
                 head_dim=dim, grid=grid, cube_shape=cube_shape, src_strides=oc.stride()[:3],
                 dst_strides=strides(out, "out"), stream=stream)
    return out


# Index-sparse attention and DeepSeek Sparse Attention on PyTorch tensors.

def _torch_code(t: Tensor, name: str, allow_fp8: bool = False) -> int:
    """The spattn_dtype of a tensor's dtype (bf16, fp16, or FP8 E4M3 where allowed)."""
    import torch

    codes = {torch.bfloat16: lib.SPATTN_DTYPE_BFLOAT16, torch.float16: lib.SPATTN_DTYPE_FLOAT16}
    if allow_fp8 and hasattr(torch, "float8_e4m3fn"):
        codes[torch.float8_e4m3fn] = lib.SPATTN_DTYPE_FLOAT8_E4M3
    if t.dtype not in codes:
        raise Error(Status.INVALID_ARGUMENT, "%s: dtype %s is not one of %s"
                    % (name, t.dtype, ", ".join(str(d) for d in codes)))
    return codes[t.dtype]


def _torch_stream(stream: Any, device: Any) -> int:
    """The cudaStream_t (an int) of `stream`: a torch.cuda.Stream, an int, or None (the
    current stream of `device`)."""
    import torch

    if stream is None:
        return torch.cuda.current_stream(device).cuda_stream
    return stream if isinstance(stream, int) else stream.cuda_stream


def _torch_kv_cache(k, v, seqlens_kv, block_table, head_dim_v, k_scale, v_scale, name):
    """A spattn_kv_cache over tensors: contiguous k/v [batch, max_seqlen_kv, kv_heads, dim] or,
    with block_table (int32 [batch, max_pages]), page pools [num_pages, page_size, kv_heads,
    dim]. v None: the values are the first head_dim_v dims of k (MLA: 576 -> 512)."""
    import torch

    if k.dim() != 4 or not k.is_cuda or k.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "%s: k must be a 4-d CUDA tensor with contiguous rows" % name)
    if seqlens_kv is None or seqlens_kv.dtype != torch.int32 or not seqlens_kv.is_cuda:
        raise Error(Status.INVALID_ARGUMENT, "%s: seqlens_kv must be an int32 CUDA tensor" % name)
    vv = k if v is None else v
    if vv.dim() != 4 or not vv.is_cuda or vv.stride(-1) != 1 or vv.dtype != k.dtype:
        raise Error(Status.INVALID_ARGUMENT, "%s: v must be a 4-d CUDA tensor of k's dtype with contiguous rows" % name)
    if head_dim_v is None:
        head_dim_v = 512 if (v is None and k.shape[3] == 576) else vv.shape[3]
    c = ffi.new("spattn_kv_cache *")
    c.struct_size = ffi.sizeof("spattn_kv_cache")
    c.dtype = _torch_code(k, name + ": k", allow_fp8=True)
    c.num_kv_heads, c.head_dim, c.head_dim_v = k.shape[2], k.shape[3], head_dim_v
    c.k, c.v = ffi.cast("const void *", k.data_ptr()), ffi.cast("const void *", vv.data_ptr())
    c.k_strides = list(k.stride()[:3])
    c.v_strides = list(vv.stride()[:3])
    c.k_scale, c.v_scale = k_scale, v_scale
    c.seqlens_kv = ffi.cast("const int32_t *", seqlens_kv.data_ptr())
    if block_table is None:
        c.layout = lib.SPATTN_KV_LAYOUT_CONTIGUOUS
        c.max_seqlen_kv = k.shape[1]
    else:
        if block_table.dtype != torch.int32 or block_table.dim() != 2 or block_table.stride(1) != 1 or \
                not block_table.is_cuda:
            raise Error(Status.INVALID_ARGUMENT,
                        "%s: block_table must be an int32 [batch, max_pages] tensor, rows contiguous" % name)
        c.layout = lib.SPATTN_KV_LAYOUT_PAGED
        c.page_size, c.num_pages = k.shape[1], k.shape[0]
        c.block_table = ffi.cast("const int32_t *", block_table.data_ptr())
        c.max_pages_per_seq = block_table.stride(0)
        c.max_seqlen_kv = block_table.shape[1] * k.shape[1]
    return c


# ---------------------------------------------------------------------------
# Decode (spattn_attention_decode) on a KV cache of PyTorch tensors.

def torch_decode(q: Tensor, k_cache: Tensor, v_cache: Tensor, seqlens_kv: Tensor, *,
                 block_table: Optional[Tensor] = None, max_seqlen_kv: Optional[int] = None,
                 k_scale: float = 0.0, v_scale: float = 0.0, out: Optional[Tensor] = None,
                 layer: Optional[LayerParams] = None, threshold_scale_factor: float = 0.0,
                 skip_seqlen_kv: int = 0, causal: bool = False, softmax_scale: float = 0.0,
                 lse: Optional[Tensor] = None, tile_counters: Optional[Tensor] = None, num_splits: int = 0,
                 workspace: Optional[Tensor] = None, stream: Any = None) -> Tensor:
    """One decode step (spattn_attention_decode) on PyTorch CUDA tensors; returns `out`.

    q: [batch, seqlen_q, heads, head_dim] bf16/fp16 (1 <= seqlen_q <= 16: the last seqlen_q
    positions of each sequence). The KV cache: k_cache/v_cache contiguous [batch, max_seqlen,
    kv_heads, head_dim] or, with block_table (int32 [batch, max_pages], rows contiguous), page
    pools [num_pages, page_size, kv_heads, head_dim] (page_size 16, 32, 64 or 128); in q's dtype,
    or torch.float8_e4m3fn with per-tensor k_scale/v_scale (value = stored * scale; 0 means 1).
    seqlens_kv: int32 [batch], the keys of each sequence (read on the device). max_seqlen_kv
    bounds them (default: what the cache or block table holds); the split count depends on it.
    Skip-softmax: `layer` (a decode-phase Model.lookup; its threshold applies) or
    threshold_scale_factor (0: dense); skip_seqlen_kv > 0 gives lambda's key count (sequence-
    parallel shards). causal: bottom-right aligned. lse: float32 [batch, heads, seqlen_q];
    tile_counters: int64 [2] (visited, skipped), added to. The workspace (split scratch) is
    allocated here unless given (a uint8 CUDA tensor, e.g. for CUDA-graph capture). Runs on
    torch.cuda.current_stream() unless `stream` (a torch.cuda.Stream or an int) is given."""
    import torch

    if tile_counters is not None and (tile_counters.dtype != torch.int64 or tile_counters.numel() < 2
                                      or not tile_counters.is_cuda):
        raise Error(Status.INVALID_ARGUMENT, "tile_counters must be an int64 CUDA tensor of 2")
    keep: List[Any] = []
    a, out = _torch_cache_args("spattn_decode_args", q, k_cache, v_cache, out, seqlens_kv, block_table, None,
                               softmax_scale, k_scale, v_scale, lse, num_splits, keep)
    if max_seqlen_kv is not None:
        a.kv_cache.max_seqlen_kv = max_seqlen_kv
    a.causal = int(bool(causal))
    if layer is not None:
        c_layer = layer.to_c() if isinstance(layer, LayerParams) else layer
        keep.append(c_layer)
        a.layer_params = c_layer
    a.threshold_scale_factor = threshold_scale_factor
    a.skip_seqlen_kv = skip_seqlen_kv
    a.tile_counters = (ffi.cast("unsigned long long *", tile_counters.data_ptr()) if tile_counters is not None
                       else ffi.NULL)
    workspace = _torch_workspace(lib.spattn_decode_workspace_size, a, workspace, q.device)
    check(lib.spattn_attention_decode(a, ffi.cast("void *", _torch_stream(stream, q.device))))
    _keep_until_done(workspace, stream)
    del keep
    return out


def torch_merge(parts: Sequence[Tensor], lses: Sequence[Tensor], out: Optional[Tensor] = None, *,
                lse: Optional[Tensor] = None, stream: Any = None) -> Tensor:
    """Combines partial attention results over disjoint key sets (KV splits, sequence-parallel
    shards) by their log-sum-exp (spattn_attention_merge); returns `out`.

    parts: 1 to 32 CUDA tensors [batch, seq, heads, head_dim] of one dtype (float32, bf16 or
    fp16) and the same strides, head dimension contiguous; lses: their float32 LSEs, contiguous
    [batch, heads, seq] (what torch_attention and torch_decode write). out: like parts[0]
    (allocated when None), float32, bf16 or fp16; lse: optional float32 [batch, heads, seq]
    for the merged LSE. A part whose LSE is -inf contributes nothing. Runs on
    torch.cuda.current_stream() unless `stream` is given."""
    import torch

    codes = {torch.float32: Dtype.FLOAT32, torch.bfloat16: Dtype.BFLOAT16, torch.float16: Dtype.FLOAT16}
    if len(parts) != len(lses) or not parts:
        raise Error(Status.INVALID_ARGUMENT, "torch_merge takes one LSE per part and at least one part")
    first = parts[0]
    for name, t in [("parts[%d]" % i, p) for i, p in enumerate(parts)] + ([("out", out)] if out is not None else []):
        if t.dim() != 4 or not t.is_cuda or t.stride(-1) != 1 or t.dtype not in codes or t.shape != first.shape:
            raise Error(Status.INVALID_ARGUMENT, "%s must be a 4-d float32/bf16/fp16 CUDA tensor shaped like parts[0] "
                                                 "with a contiguous head dimension" % name)
        if name != "out" and (t.dtype != first.dtype or t.stride() != first.stride()):
            raise Error(Status.INVALID_ARGUMENT, "%s must have parts[0]'s dtype and strides" % name)
    batch, seq, heads, dim = first.shape
    for name, t in [("lses[%d]" % i, x) for i, x in enumerate(lses)] + ([("lse", lse)] if lse is not None else []):
        if t.dtype != torch.float32 or not t.is_contiguous() or not t.is_cuda or t.numel() != batch * heads * seq:
            raise Error(Status.INVALID_ARGUMENT, "%s must be a contiguous float32 CUDA tensor [batch, heads, seq]" % name)
    if out is None:
        out = torch.empty_like(first)
    part_ptrs = ffi.new("const void *[]", [ffi.cast("const void *", p.data_ptr()) for p in parts])
    lse_ptrs = ffi.new("const float *[]", [ffi.cast("const float *", x.data_ptr()) for x in lses])
    a = ffi.new("spattn_merge_args *")
    a.struct_size = ffi.sizeof("spattn_merge_args")
    a.num_parts, a.batch, a.seqlen, a.num_heads, a.head_dim = len(parts), batch, seq, heads, dim
    a.parts_dtype = codes[first.dtype].c_value
    a.parts, a.part_lse = part_ptrs, lse_ptrs
    a.part_strides = list(first.stride()[:3])
    a.out_dtype = codes[out.dtype].c_value
    a.out = ffi.cast("void *", out.data_ptr())
    a.out_strides = list(out.stride()[:3])
    a.lse = ffi.cast("float *", lse.data_ptr()) if lse is not None else ffi.NULL
    check(lib.spattn_attention_merge(a, ffi.cast("void *", _torch_stream(stream, first.device))))
    return out


def _torch_cache_args(ctype: str, q: Tensor, k: Tensor, v: Optional[Tensor], out: Optional[Tensor],
                      seqlens_kv: Tensor, block_table: Optional[Tensor], head_dim_v: Optional[int],
                      softmax_scale: float, k_scale: float, v_scale: float, lse: Optional[Tensor], num_splits: int,
                      keep: List[Any]) -> Tuple[Any, Tensor]:
    """A `ctype` (spattn_decode_args or spattn_sparse_attention_args, which share these fields)
    for queries q [batch, seq, heads, dim] against a KV cache of tensors (_torch_kv_cache), with
    `out` (allocated when None) and the optional float32 lse [batch, heads, seq]. Returns
    (args, out); the structs the args point to are appended to `keep`."""
    import torch

    if q.dim() != 4 or not q.is_cuda or q.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "q must be a 4-d CUDA tensor [batch, seq, heads, dim] with a "
                                             "contiguous head dimension")
    if lse is not None and (lse.dtype != torch.float32 or not lse.is_contiguous() or not lse.is_cuda):
        raise Error(Status.INVALID_ARGUMENT, "lse must be a contiguous float32 CUDA tensor [batch, heads, seq]")
    kv = _torch_kv_cache(k, v, seqlens_kv, block_table, head_dim_v, k_scale, v_scale, "kv cache")
    keep.append(kv)
    if out is None:
        out = torch.empty(q.shape[0], q.shape[1], q.shape[2], kv.head_dim_v, dtype=q.dtype, device=q.device)
    if out.dim() != 4 or out.dtype != q.dtype or out.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "out must be a 4-d tensor of q's dtype with a contiguous head dimension")
    a = ffi.new(ctype + " *")
    a.struct_size = ffi.sizeof(ctype)
    a.dtype = _torch_code(q, "q")
    a.batch, a.seqlen_q, a.num_heads = q.shape[0], q.shape[1], q.shape[2]
    a.q = ffi.cast("const void *", q.data_ptr())
    a.q_strides = list(q.stride()[:3])
    a.out = ffi.cast("void *", out.data_ptr())
    a.out_strides = list(out.stride()[:3])
    a.kv_cache = kv
    a.softmax_scale = softmax_scale
    a.lse = ffi.cast("float *", lse.data_ptr()) if lse is not None else ffi.NULL
    a.num_splits = num_splits
    return a, out


def torch_sparse_attention(q: Tensor, k: Tensor, v: Optional[Tensor], indices: Tensor, *, seqlens_kv: Tensor,
                           block_table: Optional[Tensor] = None, out: Optional[Tensor] = None,
                           head_dim_v: Optional[int] = None, softmax_scale: float = 0.0, causal: bool = False,
                           k_scale: float = 0.0, v_scale: float = 0.0, lse: Optional[Tensor] = None,
                           num_splits: int = 0, workspace: Optional[Tensor] = None, stream: Any = None) -> Tensor:
    """spattn_sparse_attention on PyTorch CUDA tensors; returns `out` [batch, seq, heads, head_dim_v].

    q: [batch, seq, heads, dim] bf16/fp16. k, v: the KV cache, contiguous [batch, max_seqlen_kv,
    kv_heads, dim] or page pools [num_pages, page_size, kv_heads, dim] with `block_table`, in q's
    dtype or torch.float8_e4m3fn (with k_scale/v_scale); v None for MLA (values = the first 512 of
    the 576 dims of k). seqlens_kv: int32 [batch]. indices: int32 key positions (-1: empty),
    [batch, seq, topk] (a list per query token, shared by every KV head: DSA) or
    [batch, seq, kv_heads, topk] with any strides, 0 sharing a list (RocketKV: expand a
    [batch, 1, kv_heads, topk] tensor over seq). The workspace is allocated here unless given
    (a uint8 CUDA tensor); pass one to capture the call in a CUDA graph."""
    import torch

    keep = []
    a, out = _torch_cache_args("spattn_sparse_attention_args", q, k, v, out, seqlens_kv, block_table, head_dim_v,
                               softmax_scale, k_scale, v_scale, lse, num_splits, keep)
    if indices.dtype != torch.int32 or indices.dim() not in (3, 4) or indices.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT,
                    "indices must be int32 [batch, seq, topk] or [batch, seq, kv_heads, topk] with contiguous lists")
    s = indices.stride()
    a.indices = ffi.cast("const int32_t *", indices.data_ptr())
    a.index_strides = [s[0], s[1], 0 if indices.dim() == 3 else s[2]]
    a.topk = indices.shape[-1]
    a.causal = int(bool(causal))
    size = ffi.new("size_t *")
    check(lib.spattn_sparse_attention_workspace_size(a, size))
    if workspace is None:
        workspace = torch.empty(max(size[0], 16), dtype=torch.uint8, device=q.device)
    a.workspace = ffi.cast("void *", workspace.data_ptr())
    a.workspace_size = workspace.numel()
    check(lib.spattn_sparse_attention(a, ffi.cast("void *", _torch_stream(stream, q.device))))
    del keep
    return out


def torch_dsa_layer(q: Tensor, k: Tensor, v: Optional[Tensor], index_q: Tensor, index_weights: Tensor,
                    index_k: Tensor, *, seqlens_kv: Tensor, config: Optional[DsaConfig] = None, index_topk: int = 0,
                    index_k_scales: Optional[Tensor] = None, block_table: Optional[Tensor] = None,
                    index_block_table: Optional[Tensor] = None, out: Optional[Tensor] = None,
                    head_dim_v: Optional[int] = None, softmax_scale: float = 0.0, k_scale: float = 0.0,
                    v_scale: float = 0.0, index_k_scale: float = 0.0, lse: Optional[Tensor] = None,
                    return_indices: bool = False, workspace: Optional[Tensor] = None,
                    stream: Any = None) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """spattn_dsa_layer on PyTorch CUDA tensors: the lightning indexer, the top-index_topk keys
    of each query token's causal prefix, and index-sparse attention over them. Returns `out`, or
    (out, indices) with return_indices (int32 [batch, seq, index_topk], -1 in empty slots).

    q, k, v, block_table, head_dim_v, softmax_scale, k_scale, v_scale: as torch_sparse_attention
    (the queries of each sequence are the last `seq` of its seqlens_kv keys). index_q: [batch,
    seq, index_n_heads, index_head_dim] float8_e4m3fn, bf16 or fp16; index_weights: float32
    [batch, seq, index_n_heads] (scales of q folded in); index_k: the indexer's keys,
    [batch, max_seqlen_kv, 1, index_head_dim] or page pools with index_block_table, with
    index_k_scales float32 [batch, max_seqlen_kv] (or [num_pages, page_size]) per key.
    `config`: a spattn.DsaConfig (index_topk, skip_indexer_for_short_seqs, ...) or None;
    index_topk > 0 overrides its index_topk."""
    import torch

    keep = []
    a, out = _torch_cache_args("spattn_sparse_attention_args", q, k, v, out, seqlens_kv, block_table, head_dim_v,
                               softmax_scale, k_scale, v_scale, lse, 0, keep)
    a.indices = ffi.NULL
    ix = ffi.new("spattn_dsa_indexer_args *")
    ix.struct_size = ffi.sizeof("spattn_dsa_indexer_args")
    ix.q_dtype = _torch_code(index_q, "index_q", allow_fp8=True)
    ix.batch, ix.seqlen_q, ix.num_heads = index_q.shape[0], index_q.shape[1], index_q.shape[2]
    ix.q = ffi.cast("const void *", index_q.data_ptr())
    ix.q_strides = list(index_q.stride()[:3])
    if index_weights.dtype != torch.float32 or index_weights.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "index_weights must be float32 with contiguous heads")
    ix.weights = ffi.cast("const float *", index_weights.data_ptr())
    ix.weight_strides = list(index_weights.stride()[:2])
    kc = _torch_kv_cache(index_k, None, seqlens_kv, index_block_table, index_k.shape[3], index_k_scale, 0.0,
                         "indexer keys")
    keep.append(kc)
    ix.k_cache = kc
    if index_k_scales is not None:
        if index_k_scales.dtype != torch.float32:
            raise Error(Status.INVALID_ARGUMENT, "index_k_scales must be float32")
        ix.k_token_scales = ffi.cast("const float *", index_k_scales.data_ptr())
        ix.k_token_scale_strides = list(index_k_scales.stride()[:2])
    cfg = (config or DsaConfig()).to_c()
    la = ffi.new("spattn_dsa_layer_args *")
    la.struct_size = ffi.sizeof("spattn_dsa_layer_args")
    la.config, la.indexer, la.attention = cfg, ix, a
    la.index_topk = index_topk
    topk = index_topk or cfg.index_topk
    indices = None
    if return_indices:
        indices = torch.full((q.shape[0], q.shape[1], max(topk, 1)), -1, dtype=torch.int32, device=q.device)
        la.indices = ffi.cast("int32_t *", indices.data_ptr())
    size = ffi.new("size_t *")
    check(lib.spattn_dsa_layer_workspace_size(la, size))
    if workspace is None:
        workspace = torch.empty(max(size[0], 256), dtype=torch.uint8, device=q.device)
    la.workspace = ffi.cast("void *", workspace.data_ptr())
    la.workspace_size = workspace.numel()
    check(lib.spattn_dsa_layer(la, ffi.cast("void *", _torch_stream(stream, q.device))))
    del keep
    return (out, indices) if return_indices else out


# ---------------------------------------------------------------------------
# RocketKV (spattn_rocket_context / spattn_rocket_decode) on PyTorch tensors.

def _rocket_config_struct(config: Union[Config, RocketConfig], keep: List[Any]) -> Any:
    """A spattn_rocket_config from a spattn.Config (its rocket section) or a spattn.RocketConfig."""
    c = ffi.new("spattn_rocket_config *")
    c.struct_size = ffi.sizeof("spattn_rocket_config")
    if isinstance(config, Config):
        check(lib.spattn_config_rocket(config._handle(), c))
    else:
        c.window_size, c.kernel_size, c.topr = config.window_size, config.kernel_size, config.topr
        c.topk, c.prompt_budget, c.page_size = config.topk, config.prompt_budget, config.page_size
        c.kt_cache_dtype = KtCacheDtype.coerce(config.kt_cache_dtype, "kt_cache_dtype").c_value
        if config.seq_len_threshold is not None:
            c.has_seq_len_threshold, c.seq_len_threshold = 1, config.seq_len_threshold
    keep.append(c)
    return c


def _check_int32(t: Optional[Tensor], name: str) -> None:
    import torch

    if t is not None and (t.dtype != torch.int32 or not t.is_contiguous() or not t.is_cuda):
        raise Error(Status.INVALID_ARGUMENT, "%s must be a contiguous int32 CUDA tensor" % name)


def _torch_kt_cache(kt_cache: Tensor, kt_block_table: Optional[Tensor], keep: List[Any]) -> Any:
    """spattn_kt_cache of a PyTorch tensor: contiguous [batch, max_entries, kv_heads, 2 * head_dim], or a
    paged pool [num_blocks, entries_per_block, kv_heads, 2 * head_dim] with kt_block_table [batch,
    max_blocks] (int32); bfloat16, or float8_e5m2 (or uint8 holding E5M2 bytes)."""
    import torch

    e5m2 = [torch.uint8] + ([torch.float8_e5m2] if hasattr(torch, "float8_e5m2") else [])
    if kt_cache.dim() != 4 or not kt_cache.is_cuda or kt_cache.stride(-1) != 1 or \
            kt_cache.dtype not in e5m2 + [torch.bfloat16]:
        raise Error(Status.INVALID_ARGUMENT,
                    "kt_cache must be a 4-d float8_e5m2/uint8/bfloat16 CUDA tensor with contiguous rows")
    _check_int32(kt_block_table, "kt_block_table")
    c = ffi.new("spattn_kt_cache *")
    c.struct_size = ffi.sizeof("spattn_kt_cache")
    c.layout = lib.SPATTN_KV_LAYOUT_PAGED if kt_block_table is not None else lib.SPATTN_KV_LAYOUT_CONTIGUOUS
    c.dtype = lib.SPATTN_KT_CACHE_BFLOAT16 if kt_cache.dtype == torch.bfloat16 else lib.SPATTN_KT_CACHE_FLOAT8_E5M2
    c.num_kv_heads, c.head_dim = kt_cache.shape[2], kt_cache.shape[3] // 2
    c.data = ffi.cast("void *", kt_cache.data_ptr())
    c.strides = list(kt_cache.stride()[:3])
    if kt_block_table is not None:
        c.entries_per_block, c.num_blocks = kt_cache.shape[1], kt_cache.shape[0]
        c.block_table = ffi.cast("const int32_t *", kt_block_table.data_ptr())
        c.max_blocks_per_seq = kt_block_table.shape[1]
        c.max_entries = kt_block_table.shape[1] * kt_cache.shape[1]
    else:
        c.max_entries = kt_cache.shape[1]
    keep.append(c)
    return c


def _torch_workspace(query: Any, args: Any, workspace: Optional[Tensor], device: Any) -> Tensor:
    """Sets args.workspace/workspace_size from `workspace` (a uint8 CUDA tensor), or from one
    allocated here of the size `query` (a spattn_*_workspace_size function) asks for."""
    import torch

    n = ffi.new("size_t *")
    check(query(args, n))
    if workspace is None:
        workspace = torch.empty(max(n[0], 16), dtype=torch.uint8, device=device)
    elif workspace.numel() * workspace.element_size() < n[0]:
        raise Error(Status.INVALID_ARGUMENT,
                    "workspace holds %d bytes; this call needs %d" % (workspace.numel() * workspace.element_size(), n[0]))
    args.workspace = ffi.cast("void *", workspace.data_ptr())
    args.workspace_size = workspace.numel() * workspace.element_size()
    return workspace


def _keep_until_done(tensor: Tensor, stream: Any) -> None:
    """A temporary tensor used by a call on `stream` (a torch.cuda.Stream) is not reused before the call ends."""
    if stream is not None and not isinstance(stream, int):
        tensor.record_stream(stream)


def torch_rocket_context(q_window: Tensor, k_cache: Tensor, v_cache: Tensor, kt_cache: Tensor, seqlens: Tensor,
                         config: Union[Config, RocketConfig], *, block_table: Optional[Tensor] = None,
                         kt_block_table: Optional[Tensor] = None, softmax_scale: float = 0.0, k_scale: float = 0.0,
                         v_scale: float = 0.0, seqlens_out: Optional[Tensor] = None,
                         kept_indices: Optional[Tensor] = None, workspace: Optional[Tensor] = None,
                         stream: Any = None) -> Tensor:
    """RocketKV's context phase (spattn_rocket_context) after the caller's dense prefill: selects each
    sequence's kept tokens, compacts k_cache/v_cache IN PLACE and builds kt_cache.

    q_window: [batch, window_size, num_heads, head_dim] (bf16/fp16), the queries of each sequence's
    last window_size positions. k_cache/v_cache: contiguous [batch, max_seqlen, kv_heads, head_dim] or
    page pools [num_pages, page_size, kv_heads, head_dim] with block_table (int32 [batch, max_pages]),
    in q's dtype or float8_e4m3fn with k_scale/v_scale; seqlens: int32 [batch]. kt_cache/kt_block_table:
    see _torch_kt_cache. config: spattn.Config or spattn.RocketConfig.
    seqlens_out (int32 [batch], may be `seqlens` itself) gets min(L, prompt_budget); kept_indices
    (int32 [batch, kv_heads, prompt_budget]) the kept positions. workspace: a uint8 CUDA tensor of at
    least spattn_rocket_context_workspace_size bytes (allocated when None). Asynchronous on `stream`
    (default: the current stream). Returns kept_indices (allocated when None)."""
    import torch

    if q_window.dim() != 4 or q_window.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "q_window must be a 4-d tensor with a contiguous head dimension")
    keep = []
    cfg = _rocket_config_struct(config, keep)
    if kept_indices is None:
        kept_indices = torch.empty(q_window.shape[0], k_cache.shape[2], cfg.prompt_budget, dtype=torch.int32,
                                   device=q_window.device)
    _check_int32(kept_indices, "kept_indices")
    _check_int32(seqlens_out, "seqlens_out")
    a = ffi.new("spattn_rocket_context_args *")
    a.struct_size = ffi.sizeof("spattn_rocket_context_args")
    a.config = cfg
    a.dtype = _torch_code(q_window, "q_window")
    a.batch, a.num_heads = q_window.shape[0], q_window.shape[2]
    a.q_window = ffi.cast("const void *", q_window.data_ptr())
    a.q_strides = list(q_window.stride()[:3])
    kv = _torch_kv_cache(k_cache, v_cache, seqlens, block_table, None, k_scale, v_scale, "kv cache")
    keep.append(kv)
    a.kv_cache = kv
    a.kt_cache = _torch_kt_cache(kt_cache, kt_block_table, keep)
    a.softmax_scale = softmax_scale
    a.seqlens_out = ffi.cast("int32_t *", seqlens_out.data_ptr()) if seqlens_out is not None else ffi.NULL
    a.kept_indices = ffi.cast("int32_t *", kept_indices.data_ptr())
    workspace = _torch_workspace(lib.spattn_rocket_context_workspace_size, a, workspace, q_window.device)
    check(lib.spattn_rocket_context(a, ffi.cast("void *", _torch_stream(stream, q_window.device))))
    _keep_until_done(workspace, stream)
    del keep
    return kept_indices


def torch_rocket_decode(q: Tensor, k_cache: Tensor, v_cache: Tensor, kt_cache: Tensor, seqlens: Tensor,
                        config: Union[Config, RocketConfig], out: Optional[Tensor] = None, *,
                        block_table: Optional[Tensor] = None, kt_block_table: Optional[Tensor] = None,
                        softmax_scale: float = 0.0, k_scale: float = 0.0, v_scale: float = 0.0,
                        lse: Optional[Tensor] = None, selected_indices: Optional[Tensor] = None,
                        workspace: Optional[Tensor] = None, stream: Any = None) -> Tuple[Tensor, Tensor]:
    """One RocketKV decode step (spattn_rocket_decode): updates kt_cache with each sequence's new key
    (already appended to the cache: seqlens count it), selects the pages and attends to them.

    q: [batch, 1, num_heads, head_dim] (bf16/fp16); out likewise (allocated when None); lse: float32
    [batch, num_heads] (optional); selected_indices: int32 [batch, kv_heads, topk * page_size] (the
    attended tokens, -1 padded; allocated when None). Caches and config as torch_rocket_context.
    Returns (out, selected_indices)."""
    import torch

    if q.dim() != 4 or q.stride(-1) != 1:
        raise Error(Status.INVALID_ARGUMENT, "q must be a 4-d tensor with a contiguous head dimension")
    keep = []
    cfg = _rocket_config_struct(config, keep)
    if out is None:
        out = torch.empty_like(q)
    if selected_indices is None:
        selected_indices = torch.empty(q.shape[0], k_cache.shape[2], cfg.topk * cfg.page_size, dtype=torch.int32,
                                       device=q.device)
    _check_int32(selected_indices, "selected_indices")
    if lse is not None and (lse.dtype != torch.float32 or not lse.is_contiguous()):
        raise Error(Status.INVALID_ARGUMENT, "lse must be a contiguous float32 tensor")
    a = ffi.new("spattn_rocket_decode_args *")
    a.struct_size = ffi.sizeof("spattn_rocket_decode_args")
    a.config = cfg
    a.dtype = _torch_code(q, "q")
    a.batch, a.num_heads = q.shape[0], q.shape[2]
    a.q = ffi.cast("const void *", q.data_ptr())
    a.q_strides = list(q.stride()[:3])
    a.out = ffi.cast("void *", out.data_ptr())
    a.out_strides = list(out.stride()[:3])
    kv = _torch_kv_cache(k_cache, v_cache, seqlens, block_table, None, k_scale, v_scale, "kv cache")
    keep.append(kv)
    a.kv_cache = kv
    a.kt_cache = _torch_kt_cache(kt_cache, kt_block_table, keep)
    a.softmax_scale = softmax_scale
    a.lse = ffi.cast("float *", lse.data_ptr()) if lse is not None else ffi.NULL
    a.selected_indices = ffi.cast("int32_t *", selected_indices.data_ptr())
    workspace = _torch_workspace(lib.spattn_rocket_decode_workspace_size, a, workspace, q.device)
    check(lib.spattn_rocket_decode(a, ffi.cast("void *", _torch_stream(stream, q.device))))
    _keep_until_done(workspace, stream)
    del keep
    return out, selected_indices
