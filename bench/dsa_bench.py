#!/usr/bin/env python3
"""Benchmark of DeepSeek Sparse Attention: spattn_sparse_attention, spattn_dsa_indexer,
spattn_topk and spattn_dsa_layer, through ctypes on torch tensors (H200 peaks: bf16 dense
989 TFLOP/s, FP8 dense 1979 TFLOP/s, HBM 4.8 TB/s).

Tables:
  1. index-sparse attention, prefill (one causal sequence of S queries, topk 2048):
     MLA absorbed (128 heads, 576/512) and GQA 32/8 d128; TFLOP/s counted on the
     selected keys (2 * heads * keys * (D + DV) per query; a query whose prefix is
     shorter than topk counts its prefix);
  2. index-sparse attention, decode (batch B, one query per sequence, L_kv keys in a paged
     cache of 64-token pages, shuffled): time, TFLOP/s, and GB/s of the bytes gathered
     (each selected key row once, plus q, out) against HBM;
  3. the lightning indexer (FP8, 64 heads x 128, per-key scales), prefill and decode:
     TFLOP/s (2 * heads * D per causal (query, key) pair) against the FP8 peak;
  4. top-k of the indexer's scores (index_topk 2048);
  5. the whole DSA layer (indexer + top-k + sparse attention) against PyTorch SDPA dense
     attention of the same sequence on the cuDNN back end: MLA's prefill-time dense form
     (128 heads, q/k 192, v 128) for the MLA layer, GQA 32/8 d128 for the GQA layer.

Lists: for query i (causal prefix P = i + 1), the first min(P, topk) keys if P <= topk,
else one key per stratum of width P / topk (key_j in [j P / topk, (j + 1) P / topk)),
increasing: what a top-k writes, spread over the whole prefix.

usage: dsa_bench.py --lib build/bench/libspattn_attention_bench.so [--quick]
"""
import argparse
import ctypes
import math
import sys
import types

import torch
import torch.nn.functional as F

from attention_bench import time_ms  # the same timing as the attention benchmark

BF16, FP8 = 2, 3
PEAK_BF16, PEAK_FP8, PEAK_HBM = 989e12, 1979e12, 4.8e12


class KvCache(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("layout", ctypes.c_int32), ("dtype", ctypes.c_int32),
                ("num_kv_heads", ctypes.c_int32), ("head_dim", ctypes.c_int32), ("head_dim_v", ctypes.c_int32),
                ("k", ctypes.c_void_p), ("v", ctypes.c_void_p), ("k_strides", ctypes.c_int64 * 3),
                ("v_strides", ctypes.c_int64 * 3), ("k_scale", ctypes.c_float), ("v_scale", ctypes.c_float),
                ("seqlens_kv", ctypes.c_void_p), ("max_seqlen_kv", ctypes.c_int32), ("page_size", ctypes.c_int32),
                ("num_pages", ctypes.c_int32), ("block_table", ctypes.c_void_p),
                ("max_pages_per_seq", ctypes.c_int32)]


class SparseArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32),
                ("num_heads", ctypes.c_int32), ("seqlen_q", ctypes.c_int32), ("cu_seqlens_q", ctypes.c_void_p),
                ("q", ctypes.c_void_p), ("q_strides", ctypes.c_int64 * 3), ("out", ctypes.c_void_p),
                ("out_strides", ctypes.c_int64 * 3), ("kv_cache", ctypes.c_void_p), ("indices", ctypes.c_void_p),
                ("index_strides", ctypes.c_int64 * 3), ("topk", ctypes.c_int32), ("causal", ctypes.c_int32),
                ("softmax_scale", ctypes.c_float), ("lse", ctypes.c_void_p), ("workspace", ctypes.c_void_p),
                ("workspace_size", ctypes.c_size_t), ("num_splits", ctypes.c_int32)]


class TopkArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("num_rows", ctypes.c_int32), ("num_cols", ctypes.c_int32),
                ("scores", ctypes.c_void_p), ("score_row_stride", ctypes.c_int64), ("lengths", ctypes.c_void_p),
                ("k", ctypes.c_int32), ("indices", ctypes.c_void_p), ("index_row_stride", ctypes.c_int64)]


class IndexerArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("q_dtype", ctypes.c_int32), ("batch", ctypes.c_int32),
                ("seqlen_q", ctypes.c_int32), ("cu_seqlens_q", ctypes.c_void_p), ("num_heads", ctypes.c_int32),
                ("q", ctypes.c_void_p), ("q_strides", ctypes.c_int64 * 3), ("weights", ctypes.c_void_p),
                ("weight_strides", ctypes.c_int64 * 2), ("k_cache", ctypes.c_void_p),
                ("k_token_scales", ctypes.c_void_p), ("k_token_scale_strides", ctypes.c_int64 * 2),
                ("logits", ctypes.c_void_p), ("logits_row_stride", ctypes.c_int64)]


class DsaConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("index_n_heads", ctypes.c_int32),
                ("index_head_dim", ctypes.c_int32), ("index_topk", ctypes.c_int32),
                ("indexer_max_chunk_size", ctypes.c_int32), ("skip_indexer_for_short_seqs", ctypes.c_int32),
                ("enable_heuristic_topk", ctypes.c_int32), ("seq_len_threshold", ctypes.c_int32)]


class LayerArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config", ctypes.c_void_p), ("indexer", ctypes.c_void_p),
                ("attention", ctypes.c_void_p), ("index_topk", ctypes.c_int32), ("indices", ctypes.c_void_p),
                ("workspace", ctypes.c_void_p), ("workspace_size", ctypes.c_size_t)]


def sized(cls):
    s = cls()
    s.struct_size = ctypes.sizeof(cls)
    return s


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        for name in ("spattn_sparse_attention", "spattn_topk", "spattn_dsa_indexer", "spattn_dsa_layer"):
            getattr(self.lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            getattr(self.lib, name).restype = ctypes.c_int
        for name in ("spattn_sparse_attention_workspace_size", "spattn_dsa_layer_workspace_size"):
            getattr(self.lib, name).argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
            getattr(self.lib, name).restype = ctypes.c_int
        self.lib.spattn_sparse_attention_num_splits.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32)]
        self.lib.spattn_sparse_attention_num_splits.restype = ctypes.c_int
        self.lib.spattn_last_error.restype = ctypes.c_char_p
        self.lib.spattn_bench_sparse_attention_path.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        self.lib.spattn_bench_sparse_attention_path.restype = ctypes.c_int

    def sparse_path(self, args, path):
        """spattn_sparse_attention with the kernel forced: 1 mma.sync, 2 sm_90a."""
        stream = torch.cuda.current_stream().cuda_stream
        status = self.lib.spattn_bench_sparse_attention_path(ctypes.addressof(args), ctypes.c_void_p(stream), path)
        if status != 0:
            raise RuntimeError(f"sparse path {path}: status {status}: {self.lib.spattn_last_error().decode()}")

    def call(self, name, args):
        stream = torch.cuda.current_stream().cuda_stream
        status = getattr(self.lib, name)(ctypes.addressof(args), ctypes.c_void_p(stream))
        if status != 0:
            raise RuntimeError(f"{name}: status {status}: {self.lib.spattn_last_error().decode()}")

    def workspace(self, name, args):
        n = ctypes.c_size_t(0)
        status = getattr(self.lib, name)(ctypes.addressof(args), ctypes.byref(n))
        if status != 0:
            raise RuntimeError(f"{name}: status {status}: {self.lib.spattn_last_error().decode()}")
        return torch.empty(max(n.value, 256), dtype=torch.uint8, device="cuda")


# ---------------------------------------------------------------------------
# Inputs.

def strided_lists(prefix, topk, gen):
    """[rows, topk] int32 increasing keys spread over each row's prefix (see the module doc)."""
    rows = prefix.numel()
    j = torch.arange(topk, device="cuda", dtype=torch.float64)
    p = prefix.to(torch.float64)[:, None]
    width = p / topk
    u = torch.rand(rows, topk, device="cuda", dtype=torch.float64, generator=gen)
    keys = torch.floor(j[None] * width + u * width).to(torch.int64)
    keys = torch.minimum(keys, prefix[:, None].to(torch.int64) - 1)
    short = (prefix <= topk)[:, None]
    dense = torch.where(j[None] < p, j[None].to(torch.int64), torch.full_like(keys, -1))
    return torch.where(short, dense, keys).to(torch.int32).contiguous()


def contiguous_cache(seq, heads, dim, batch=1, fp8=False, gen=None, v=True):
    """[batch, seq, heads, dim] K (and V unless MLA) in bf16 (or FP8)."""
    dtype = torch.float8_e4m3fn if fp8 else torch.bfloat16
    k = torch.randn(batch, seq, heads, dim, device="cuda", generator=gen).to(dtype)
    vv = torch.randn(batch, seq, heads, dim, device="cuda", generator=gen).to(dtype) if v else None
    return k, vv


def fill_cache(c, k, v, seqlens, max_len):
    c.k = k.data_ptr()
    c.v = (v if v is not None else k).data_ptr()
    c.k_strides[:] = list(k.stride()[:3])
    c.v_strides[:] = list((v if v is not None else k).stride()[:3])
    c.seqlens_kv = seqlens.data_ptr()
    c.max_seqlen_kv = max_len


# ---------------------------------------------------------------------------
# 1-2. Index-sparse attention.

def sparse_args(q, out, cache, lists, topk, causal, scale):
    a = sized(SparseArgs)
    a.dtype = BF16
    a.batch, a.seqlen_q, a.num_heads = q.shape[0], q.shape[1], q.shape[2]
    a.q, a.out = q.data_ptr(), out.data_ptr()
    a.q_strides[:] = list(q.stride()[:3])
    a.out_strides[:] = list(out.stride()[:3])
    a.kv_cache = ctypes.addressof(cache)
    if lists is not None:
        a.indices = lists.data_ptr()
        a.index_strides[:] = [lists.stride(0), lists.stride(1), 0]
    a.topk, a.causal, a.softmax_scale = topk, 1 if causal else 0, scale
    return a


def prefill_problem(seq, mla, gen):
    """One prefill sequence of index-sparse attention: bf16 queries, the output and a contiguous
    cache (MLA's latent one, or GQA 32/8 d128), with the tensors the descriptor points into."""
    heads, kv_heads, dim, dim_v = (128, 1, 576, 512) if mla else (32, 8, 128, 128)
    p = types.SimpleNamespace(heads=heads, dim=dim, dim_v=dim_v)
    p.q = (torch.randn(1, seq, heads, dim, device="cuda", generator=gen) * 0.5).to(torch.bfloat16)
    p.out = torch.empty(1, seq, heads, dim_v, device="cuda", dtype=torch.bfloat16)
    p.k, p.v = contiguous_cache(seq, kv_heads, dim, gen=gen, v=not mla)
    p.seqlens = torch.tensor([seq], dtype=torch.int32, device="cuda")
    p.cache = sized(KvCache)
    p.cache.dtype, p.cache.num_kv_heads, p.cache.head_dim = BF16, kv_heads, dim
    p.cache.head_dim_v = dim_v if mla else 0
    fill_cache(p.cache, p.k, p.v, p.seqlens, seq)
    return p


def bench_sparse_prefill(lib, seq, mla, topk=2048):
    gen = torch.Generator(device="cuda").manual_seed(seq)
    p = prefill_problem(seq, mla, gen)
    prefix = torch.arange(1, seq + 1, device="cuda", dtype=torch.int32)
    lists = strided_lists(prefix, topk, gen).view(1, seq, topk)
    a = sparse_args(p.q, p.out, p.cache, lists[0], topk, True, 1.0 / math.sqrt(192))
    a.index_strides[:] = [0, topk, 0]
    ws = lib.workspace("spattn_sparse_attention_workspace_size", a)
    a.workspace, a.workspace_size = ws.data_ptr(), ws.numel()
    ms = time_ms(lambda: lib.call("spattn_sparse_attention", a))
    keys = torch.clamp(prefix, max=topk).to(torch.float64).sum().item()
    fl = 2.0 * p.heads * keys * (p.dim + p.dim_v)
    name = f"{'MLA 128h 576/512' if mla else 'GQA 32/8 d128'} prefill S={seq // 1024}k topk {topk}"
    mma = ""
    if mla:  # the mma.sync kernel forced, and its distance to the dispatcher's (sm_90a) output
        ref = p.out.float().clone()
        mma_ms = time_ms(lambda: lib.sparse_path(a, 1))
        err = ((p.out.float() - ref).norm() / ref.norm()).item()
        mma = f"{mma_ms:.2f} ({fl / mma_ms / 1e9:.0f}), rel.err {err:.1e}"
        del ref
    print(f"| {name} | {ms:.2f} | {fl / ms / 1e9:.0f} | {100 * fl / ms / 1e9 / (PEAK_BF16 / 1e12):.0f}% | {mma} |",
          flush=True)
    del p, lists, ws
    torch.cuda.empty_cache()


def paged_cache(batch, seq, heads, dim, page, gen, v=True):
    pages_per_seq = seq // page
    num_pages = batch * pages_per_seq
    perm = torch.randperm(num_pages, device="cuda", generator=gen).to(torch.int32)
    table = perm.view(batch, pages_per_seq).contiguous()
    k = torch.randn(num_pages, page, heads, dim, device="cuda", generator=gen).to(torch.bfloat16)
    vv = torch.randn(num_pages, page, heads, dim, device="cuda", generator=gen).to(torch.bfloat16) if v else None
    return k, vv, table


def bench_sparse_decode(lib, batch, seq, mla, topk=2048, page=64, splits=0):
    gen = torch.Generator(device="cuda").manual_seed(batch * 7 + seq)
    heads, kv_heads, dim, dim_v = (128, 1, 576, 512) if mla else (32, 8, 128, 128)
    k, v, table = paged_cache(batch, seq, kv_heads, dim, page, gen, v=not mla)
    seqlens = torch.full((batch,), seq, dtype=torch.int32, device="cuda")
    cache = sized(KvCache)
    cache.layout, cache.dtype, cache.num_kv_heads, cache.head_dim = 1, BF16, kv_heads, dim
    cache.head_dim_v = dim_v if mla else 0
    fill_cache(cache, k, v, seqlens, seq)
    cache.page_size, cache.num_pages = page, k.shape[0]
    cache.block_table, cache.max_pages_per_seq = table.data_ptr(), table.shape[1]
    q = (torch.randn(batch, 1, heads, dim, device="cuda", generator=gen) * 0.5).to(torch.bfloat16)
    out = torch.empty(batch, 1, heads, dim_v, device="cuda", dtype=torch.bfloat16)
    prefix = torch.full((batch,), seq, device="cuda", dtype=torch.int32)
    lists = strided_lists(prefix, topk, gen)
    a = sparse_args(q, out, cache, lists, topk, False, 1.0 / math.sqrt(192))
    a.index_strides[:] = [topk, topk, 0]
    a.num_splits = splits
    used = ctypes.c_int32()
    if lib.lib.spattn_sparse_attention_num_splits(ctypes.addressof(a), ctypes.byref(used)) != 0:
        raise RuntimeError(f"spattn_sparse_attention_num_splits: {lib.lib.spattn_last_error().decode()}")
    ws = lib.workspace("spattn_sparse_attention_workspace_size", a)
    a.workspace, a.workspace_size = ws.data_ptr(), ws.numel()
    ms = time_ms(lambda: lib.call("spattn_sparse_attention", a))
    fl = 2.0 * batch * heads * topk * (dim + dim_v)
    row_bytes = kv_heads * dim * 2 * (1 if mla else 2)
    moved = batch * (topk * row_bytes + heads * (dim + dim_v) * 2 + topk * 4)
    name = f"{'MLA' if mla else 'GQA 32/8'} decode B={batch} L={seq // 1024}k, {used.value} splits"
    print(f"| {name} | {ms * 1000:.1f} | {fl / ms / 1e9:.0f} | {moved / ms / 1e6:.0f} | "
          f"{100 * moved / ms / 1e-3 / PEAK_HBM:.0f}% |", flush=True)
    del k, v, table, q, out, lists, ws
    torch.cuda.empty_cache()


# ---------------------------------------------------------------------------
# 3-4. Indexer and top-k.

def indexer_inputs(batch, seq_q, seq_kv, gen, heads=64, dim=128):
    q = torch.randn(batch, seq_q, heads, dim, device="cuda", generator=gen).to(torch.float8_e4m3fn)
    w = torch.randn(batch, seq_q, heads, device="cuda", generator=gen) * (heads ** -0.5)
    k = torch.randn(batch, seq_kv, 1, dim, device="cuda", generator=gen).to(torch.float8_e4m3fn)
    scales = torch.rand(batch, seq_kv, device="cuda", generator=gen) + 0.5
    seqlens = torch.full((batch,), seq_kv, dtype=torch.int32, device="cuda")
    cache = sized(KvCache)
    cache.dtype, cache.num_kv_heads, cache.head_dim = FP8, 1, dim
    fill_cache(cache, k, None, seqlens, seq_kv)
    a = sized(IndexerArgs)
    a.q_dtype, a.batch, a.seqlen_q, a.num_heads = FP8, batch, seq_q, heads
    a.q = q.data_ptr()
    a.q_strides[:] = list(q.stride()[:3])
    a.weights = w.data_ptr()
    a.weight_strides[:] = [w.stride(0), w.stride(1)]
    a.k_cache = ctypes.addressof(cache)
    a.k_token_scales = scales.data_ptr()
    a.k_token_scale_strides[:] = [scales.stride(0), scales.stride(1)]
    return a, (q, w, k, scales, seqlens, cache)


def bench_indexer(lib, batch, seq_q, seq_kv, topk=2048):
    gen = torch.Generator(device="cuda").manual_seed(seq_q + seq_kv)
    a, keep = indexer_inputs(batch, seq_q, seq_kv, gen)
    stride = (seq_kv + 3) // 4 * 4
    logits = torch.empty(batch * seq_q, stride, device="cuda", dtype=torch.float32)
    a.logits, a.logits_row_stride = logits.data_ptr(), stride
    ms = time_ms(lambda: lib.call("spattn_dsa_indexer", a))
    pairs = batch * sum(min(seq_kv, i + seq_kv - seq_q + 1) for i in range(seq_q)) if seq_q <= 64 else \
        batch * (seq_q * (seq_kv - seq_q) + seq_q * (seq_q + 1) / 2)
    fl = 2.0 * 64 * 128 * pairs
    t = sized(TopkArgs)
    t.num_rows, t.num_cols = batch * seq_q, seq_kv
    t.scores, t.score_row_stride = logits.data_ptr(), stride
    t.k = topk
    out = torch.empty(batch * seq_q, topk, device="cuda", dtype=torch.int32)
    t.indices, t.index_row_stride = out.data_ptr(), topk
    tk_ms = time_ms(lambda: lib.call("spattn_topk", t))
    name = f"B={batch} q={seq_q} kv={seq_kv // 1024}k"
    print(f"| {name} | {ms:.3f} | {fl / ms / 1e9:.0f} | {100 * fl / ms / 1e9 / (PEAK_FP8 / 1e12):.0f}% | "
          f"{tk_ms:.3f} |", flush=True)
    del logits, out, keep
    torch.cuda.empty_cache()


# ---------------------------------------------------------------------------
# 5. The whole layer against dense cuDNN.

def sdpa_ms(q, k, v):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    try:
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
            fn()
            return time_ms(fn)
    except Exception as e:
        print(f"  cuDNN unavailable: {str(e).splitlines()[0][:100]}", flush=True)
        return None


def bench_layer(lib, seq, mla, topk=2048):
    gen = torch.Generator(device="cuda").manual_seed(seq + 1)
    ia, keep = indexer_inputs(1, seq, seq, gen)
    p = prefill_problem(seq, mla, gen)
    aa = sparse_args(p.q, p.out, p.cache, None, 0, True, 1.0 / math.sqrt(192))  # the layer fills the lists
    cfg = sized(DsaConfig)
    cfg.index_n_heads, cfg.index_head_dim, cfg.index_topk, cfg.skip_indexer_for_short_seqs = 64, 128, topk, 1
    la = sized(LayerArgs)
    la.config, la.indexer, la.attention = ctypes.addressof(cfg), ctypes.addressof(ia), ctypes.addressof(aa)
    ws = lib.workspace("spattn_dsa_layer_workspace_size", la)
    la.workspace, la.workspace_size = ws.data_ptr(), ws.numel()
    ms = time_ms(lambda: lib.call("spattn_dsa_layer", la))
    del ws
    torch.cuda.empty_cache()
    # The dense peer: MLA prefill's MHA form (q/k 192, v 128, 128 heads), or GQA with K/V expanded.
    dheads, dqk, dvd = (128, 192, 128) if mla else (32, 128, 128)
    dq = torch.randn(1, dheads, seq, dqk, device="cuda", dtype=torch.bfloat16, generator=gen)
    dk = torch.randn(1, dheads, seq, dqk, device="cuda", dtype=torch.bfloat16, generator=gen)
    dv = torch.randn(1, dheads, seq, dvd, device="cuda", dtype=torch.bfloat16, generator=gen)
    peer = "cuDNN MHA 128h 192/128" if mla else "cuDNN GQA 32/8 d128 (K/V expanded)"
    dense = sdpa_ms(dq, dk, dv)
    name = f"{'MLA' if mla else 'GQA 32/8 d128'} layer S={seq // 1024}k"
    ratio = f"{dense / ms:.2f}x" if dense else "n/a"
    print(f"| {name} | {ms:.2f} | {peer} | {dense if dense is None else round(dense, 2)} | {ratio} |", flush=True)
    del dq, dk, dv, p, keep
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="comma list of tables to run: prefill,decode,indexer,layer")
    ap.add_argument("--seqs", help="comma list of sequence lengths of the prefill and layer tables")
    ap.add_argument("--mla-only", action="store_true", help="prefill, decode and layer tables: the MLA rows only")
    ap.add_argument("--decode-splits", default="0",
                    help="decode table: comma list of num_splits to time each row with (0: the automatic rule)")
    args = ap.parse_args()
    lib = Lib(args.lib)
    only = set(args.only.split(",")) if args.only else {"prefill", "decode", "indexer", "layer"}
    print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    seqs = [4096, 16384] if args.quick else [4096, 16384, 65536]
    if args.seqs:
        seqs = [int(x) for x in args.seqs.split(",")]
    shapes = (True,) if args.mla_only else (True, False)
    if "prefill" in only:
        print("\n### index-sparse attention, prefill (dispatcher: sm_90a kernel for MLA)\n\n"
              "| shape | ms | TFLOP/s (selected) | of bf16 peak | mma.sync kernel ms (TFLOP/s) |\n|---|---|---|---|---|")
        for mla in shapes:
            for s in seqs:
                bench_sparse_prefill(lib, s, mla)
    if "decode" in only:
        print("\n### index-sparse attention, decode (paged, 64-token pages)\n\n"
              "| shape | us | TFLOP/s | GB/s gathered | of HBM |\n|---|---|---|---|---|")
        for mla in shapes:
            for batch in ((1, 32) if args.quick else (1, 8, 32, 128)):
                for seq in ((32768,) if args.quick else (32768, 131072)):
                    kv_bytes = batch * seq * (576 * 2 if mla else 8 * 128 * 4)
                    if kv_bytes > 40e9:
                        continue
                    for splits in (int(x) for x in args.decode_splits.split(",")):
                        bench_sparse_decode(lib, batch, seq, mla, splits=splits)
    if "indexer" in only:
        print("\n### lightning indexer (FP8, 64 heads x 128) and top-2048\n\n"
              "| shape | indexer ms | TFLOP/s | of FP8 peak | top-k ms |\n|---|---|---|---|---|")
        for s in ([4096, 16384] if args.quick else [4096, 16384, 32768, 65536]):
            bench_indexer(lib, 1, s, s)
        for batch, kv in ((1, 32768), (32, 32768), (8, 131072)):
            bench_indexer(lib, batch, 1, kv)
    if "layer" in only:
        print("\n### whole DSA layer vs dense cuDNN attention (causal)\n\n"
              "| layer | ms | dense peer | dense ms | speedup |\n|---|---|---|---|---|")
        for mla in shapes:
            for s in seqs:
                bench_layer(lib, s, mla)


if __name__ == "__main__":
    sys.exit(main())
