#!/usr/bin/env python3
"""Benchmark of RocketKV (spattn_rocket_decode, spattn_rocket_context).

Drives libspattn.so through ctypes on torch tensors. Layer shape of an 8B
model: 32 query heads, 8 KV heads, head_dim 128, bf16; RocketKV from the
parsed config (prompt_budget 2048, topk 64, page_size 4, window 32,
kernel_size 63, topr 128, E5M2 KT cache). Caches are paged (64-token pages,
block table in order).

1. Decode step time at context C (8k, 32k, 128k) and batch 1..64:
   - ours dense: spattn_attention_decode over the C-token cache;
   - cuDNN: torch SDPA (CUDNN_ATTENTION back end) on the same keys (GQA
     through enable_gqa, else K/V heads repeated when that fits in memory);
   - RocketKV: spattn_rocket_decode on the compressed cache (the budget plus
     one new token: 2049 keys per sequence, whatever C was) and its KT cache;
     and each of its three pieces alone (update_kt, select, attend).
   Our calls are timed as CUDA graphs of 20 steps (as a serving engine runs
   decode), cuDNN as a torch CUDA graph of 20 calls; median of several
   replays, per step.
2. Context phase (select + compact + build the KT cache) after a prefill of C
   tokens, batch 1, against that prefill (spattn_attention_forward, causal,
   C queries): the phase's share of the prefill. The phase compacts in place,
   so the cache is restored (untimed) before each timed call.

usage: rocket_bench.py --lib build/src/library/libspattn.so [--quick] [--contexts 131072] [--batches 1,16]
"""
import argparse
import ctypes
import math
import statistics
import sys

import torch
import torch.nn.functional as F

DTYPE_BF16 = 2
LAYOUT_PAGED = 1
HEADS, KV_HEADS, DIM = 32, 8, 128
PAGE = 64  # KV-cache page size (tokens)
CONFIG_YAML = b"""sparse_attention_config:
  algorithm: rocket
  prompt_budget: 2048
  topk: 64
  page_size: 4
  window_size: 32
  kernel_size: 63
  topr: 128
  kt_cache_dtype: float8_e5m2
"""

I64x3 = ctypes.c_int64 * 3


class RocketConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("window_size", ctypes.c_int32),
                ("kernel_size", ctypes.c_int32), ("topr", ctypes.c_double), ("topk", ctypes.c_int32),
                ("prompt_budget", ctypes.c_int32), ("page_size", ctypes.c_int32),
                ("kt_cache_dtype", ctypes.c_int32), ("has_seq_len_threshold", ctypes.c_int32),
                ("seq_len_threshold", ctypes.c_int32)]


class KvCache(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("layout", ctypes.c_int32), ("dtype", ctypes.c_int32),
                ("num_kv_heads", ctypes.c_int32), ("head_dim", ctypes.c_int32), ("head_dim_v", ctypes.c_int32),
                ("k", ctypes.c_void_p), ("v", ctypes.c_void_p), ("k_strides", I64x3), ("v_strides", I64x3),
                ("k_scale", ctypes.c_float), ("v_scale", ctypes.c_float), ("seqlens_kv", ctypes.c_void_p),
                ("max_seqlen_kv", ctypes.c_int32), ("page_size", ctypes.c_int32), ("num_pages", ctypes.c_int32),
                ("block_table", ctypes.c_void_p), ("max_pages_per_seq", ctypes.c_int32)]


class KtCache(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("layout", ctypes.c_int32), ("dtype", ctypes.c_int32),
                ("num_kv_heads", ctypes.c_int32), ("head_dim", ctypes.c_int32), ("data", ctypes.c_void_p),
                ("strides", I64x3), ("max_entries", ctypes.c_int32), ("entries_per_block", ctypes.c_int32),
                ("num_blocks", ctypes.c_int32), ("block_table", ctypes.c_void_p),
                ("max_blocks_per_seq", ctypes.c_int32)]


class ContextArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config", ctypes.POINTER(RocketConfig)),
                ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32), ("num_heads", ctypes.c_int32),
                ("q_window", ctypes.c_void_p), ("q_strides", I64x3), ("kv_cache", ctypes.POINTER(KvCache)),
                ("kt_cache", ctypes.POINTER(KtCache)), ("softmax_scale", ctypes.c_float),
                ("seqlens_out", ctypes.c_void_p), ("kept_indices", ctypes.c_void_p),
                ("workspace", ctypes.c_void_p), ("workspace_size", ctypes.c_size_t)]


class RocketDecodeArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config", ctypes.POINTER(RocketConfig)),
                ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32), ("num_heads", ctypes.c_int32),
                ("q", ctypes.c_void_p), ("q_strides", I64x3), ("out", ctypes.c_void_p), ("out_strides", I64x3),
                ("kv_cache", ctypes.POINTER(KvCache)), ("kt_cache", ctypes.POINTER(KtCache)),
                ("softmax_scale", ctypes.c_float), ("lse", ctypes.c_void_p),
                ("selected_indices", ctypes.c_void_p), ("workspace", ctypes.c_void_p),
                ("workspace_size", ctypes.c_size_t)]


class DecodeArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32),
                ("num_heads", ctypes.c_int32), ("seqlen_q", ctypes.c_int32), ("q", ctypes.c_void_p),
                ("q_strides", I64x3), ("out", ctypes.c_void_p), ("out_strides", I64x3),
                ("kv_cache", ctypes.POINTER(KvCache)), ("softmax_scale", ctypes.c_float),
                ("causal", ctypes.c_int32), ("layer_params", ctypes.c_void_p),
                ("threshold_scale_factor", ctypes.c_float), ("skip_seqlen_kv", ctypes.c_int32),
                ("lse", ctypes.c_void_p), ("tile_counters", ctypes.c_void_p), ("workspace", ctypes.c_void_p),
                ("workspace_size", ctypes.c_size_t), ("num_splits", ctypes.c_int32)]


class AttentionArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32),
                ("num_heads", ctypes.c_int32), ("num_kv_heads", ctypes.c_int32), ("head_dim", ctypes.c_int32),
                ("seqlen_q", ctypes.c_int32), ("seqlen_kv", ctypes.c_int32), ("q", ctypes.c_void_p),
                ("k", ctypes.c_void_p), ("v", ctypes.c_void_p), ("out", ctypes.c_void_p),
                ("q_strides", I64x3), ("k_strides", I64x3), ("v_strides", I64x3), ("out_strides", I64x3),
                ("cu_seqlens_q", ctypes.c_void_p), ("cu_seqlens_kv", ctypes.c_void_p),
                ("softmax_scale", ctypes.c_float), ("causal", ctypes.c_int32), ("layer_params", ctypes.c_void_p),
                ("threshold_scale_factor", ctypes.c_float), ("lse", ctypes.c_void_p),
                ("tile_counters", ctypes.c_void_p), ("total_q", ctypes.c_int32), ("total_kv", ctypes.c_int32),
                ("kv_cache", ctypes.POINTER(KvCache)), ("skip_seqlen_kv", ctypes.c_int32)]


DECODE_PIECES = ("spattn_rocket_decode_update_kt", "spattn_rocket_decode_select", "spattn_rocket_decode_attend")


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        L = self.lib
        L.spattn_last_error.restype = ctypes.c_char_p
        for name in ("spattn_rocket_decode", "spattn_rocket_context", "spattn_attention_decode",
                     "spattn_attention_forward", "spattn_rocket_context_select", "spattn_rocket_context_compact",
                     "spattn_rocket_context_build_kt") + DECODE_PIECES:
            getattr(L, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            getattr(L, name).restype = ctypes.c_int
        for name in ("spattn_rocket_decode_workspace_size", "spattn_rocket_context_workspace_size",
                     "spattn_decode_workspace_size"):
            getattr(L, name).argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
            getattr(L, name).restype = ctypes.c_int
        L.spattn_config_parse.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_void_p)]
        L.spattn_config_rocket.argtypes = [ctypes.c_void_p, ctypes.POINTER(RocketConfig)]
        L.spattn_config_destroy.argtypes = [ctypes.c_void_p]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: status {status}: {self.lib.spattn_last_error().decode()}")

    def rocket_config(self):
        handle = ctypes.c_void_p()
        self.check(self.lib.spattn_config_parse(CONFIG_YAML, len(CONFIG_YAML), 2, ctypes.byref(handle)),
                   "spattn_config_parse")
        cfg = RocketConfig()
        cfg.struct_size = ctypes.sizeof(RocketConfig)
        self.check(self.lib.spattn_config_rocket(handle, ctypes.byref(cfg)), "spattn_config_rocket")
        self.lib.spattn_config_destroy(handle)
        return cfg

    def workspace(self, query, args):
        n = ctypes.c_size_t()
        self.check(getattr(self.lib, query)(ctypes.byref(args), ctypes.byref(n)), query)
        return torch.empty(max(16, n.value), dtype=torch.uint8, device="cuda"), n.value


def stream_ptr():
    return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)


class PagedCache:
    """K/V pools [pages][PAGE][KV_HEADS][DIM] with pages handed out in order."""

    def __init__(self, batch, capacity, lengths, gen):
        self.pages_per_seq = math.ceil(capacity / PAGE)
        n = batch * self.pages_per_seq
        self.k = torch.randn(n, PAGE, KV_HEADS, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
        self.v = torch.randn(n, PAGE, KV_HEADS, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
        self.table = torch.arange(n, dtype=torch.int32, device="cuda").view(batch, self.pages_per_seq)
        self.seqlens = torch.tensor(lengths, dtype=torch.int32, device="cuda")
        self.desc = KvCache()
        d = self.desc
        d.struct_size = ctypes.sizeof(KvCache)
        d.layout, d.dtype, d.num_kv_heads, d.head_dim = LAYOUT_PAGED, DTYPE_BF16, KV_HEADS, DIM
        d.k, d.v = self.k.data_ptr(), self.v.data_ptr()
        d.k_strides = I64x3(*self.k.stride()[:3])
        d.v_strides = I64x3(*self.v.stride()[:3])
        d.seqlens_kv = self.seqlens.data_ptr()
        d.max_seqlen_kv = capacity
        d.page_size, d.num_pages = PAGE, n
        d.block_table = self.table.data_ptr()
        d.max_pages_per_seq = self.pages_per_seq

    def keys_bhsd(self, batch, length):
        """The first `length` keys and values of each sequence as contiguous [B, KV_HEADS, length, DIM]
        copies (what SDPA takes without copying inside the timed call)."""
        k = self.k.view(batch, -1, KV_HEADS, DIM)[:, :length].transpose(1, 2).contiguous()
        v = self.v.view(batch, -1, KV_HEADS, DIM)[:, :length].transpose(1, 2).contiguous()
        return k, v


def kt_cache(batch, capacity, cache, length, page):
    """A contiguous E5M2 KT cache [batch][entries][KV_HEADS][2 * DIM] holding the min/max of each page of the
    first `length` keys (as the context phase leaves it)."""
    entries = math.ceil(capacity / page)
    data = torch.zeros(batch, entries, KV_HEADS, 2 * DIM, dtype=torch.uint8, device="cuda")
    k = cache.k.view(batch, -1, KV_HEADS, DIM)[:, :length].float()
    n = length // page
    pages = k[:, :n * page].view(batch, n, page, KV_HEADS, DIM)
    kt = torch.cat([pages.amin(2), pages.amax(2)], dim=-1).to(torch.float8_e5m2)
    data[:, :n] = kt.view(torch.uint8)
    desc = KtCache()
    desc.struct_size = ctypes.sizeof(KtCache)
    desc.layout, desc.dtype, desc.num_kv_heads, desc.head_dim = 0, 0, KV_HEADS, DIM
    desc.data = data.data_ptr()
    desc.strides = I64x3(*data.stride()[:3])
    desc.max_entries = entries
    return data, desc


def graph_step_ms(launch, steps=20, replays=7):
    """Median per-step time of a CUDA graph of `steps` launches."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        launch()  # warm-up outside the capture
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(steps):
            launch()
    g.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(replays):
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / steps)
    del g
    return statistics.median(times)


def decode_row(lib, cfg, context, batch, gen):
    budget = cfg.prompt_budget
    q = torch.randn(batch, 1, HEADS, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
    out = torch.empty_like(q)
    row = {"context": context, "batch": batch}
    # ours dense over the full cache
    dense = PagedCache(batch, context, [context] * batch, gen)
    d = DecodeArgs()
    d.struct_size = ctypes.sizeof(DecodeArgs)
    d.dtype, d.batch, d.num_heads, d.seqlen_q = DTYPE_BF16, batch, HEADS, 1
    d.q, d.q_strides = q.data_ptr(), I64x3(*q.stride()[:3])
    d.out, d.out_strides = out.data_ptr(), I64x3(*out.stride()[:3])
    d.kv_cache = ctypes.pointer(dense.desc)
    d.causal = 1
    ws, n = lib.workspace("spattn_decode_workspace_size", d)
    d.workspace, d.workspace_size = ws.data_ptr(), n
    row["dense_ms"] = graph_step_ms(lambda: lib.check(lib.lib.spattn_attention_decode(ctypes.byref(d), stream_ptr()),
                                                      "spattn_attention_decode"))
    dense_out = out.float().clone()
    # cuDNN on the same keys
    kb, vb = dense.keys_bhsd(batch, context)
    qb = q.transpose(1, 2)
    row["cudnn_ms"] = None
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            try:
                fn = lambda: F.scaled_dot_product_attention(qb, kb, vb, enable_gqa=True)
                ref = fn()
            except Exception:
                if batch * context * HEADS * DIM * 4 > 40e9:
                    raise
                kr = kb.repeat_interleave(HEADS // KV_HEADS, dim=1)
                vr = vb.repeat_interleave(HEADS // KV_HEADS, dim=1)
                fn = lambda: F.scaled_dot_product_attention(qb, kr, vr)
                ref = fn()
            try:
                row["cudnn_ms"] = graph_step_ms(fn)
            except Exception:  # not capturable here: per-call timing (launch overhead included)
                row["cudnn_ms"] = events_ms(fn)
                row["cudnn_no_graph"] = True
            row["dense_vs_cudnn"] = ((dense_out - ref.transpose(1, 2).float()).norm() / ref.float().norm()).item()
    except Exception as e:
        print(f"  cuDNN unavailable at C={context} B={batch}: {str(e).splitlines()[0][:100]}", flush=True)
    del dense, kb, vb
    torch.cuda.empty_cache()
    # RocketKV on the compressed cache: budget keys plus the new one
    capacity = budget + 64
    comp = PagedCache(batch, capacity, [budget + 1] * batch, gen)
    kt_data, kt = kt_cache(batch, capacity, comp, budget, cfg.page_size)
    r = RocketDecodeArgs()
    r.struct_size = ctypes.sizeof(RocketDecodeArgs)
    r.config = ctypes.pointer(cfg)
    r.dtype, r.batch, r.num_heads = DTYPE_BF16, batch, HEADS
    r.q, r.q_strides = q.data_ptr(), I64x3(*q.stride()[:3])
    r.out, r.out_strides = out.data_ptr(), I64x3(*out.stride()[:3])
    r.kv_cache, r.kt_cache = ctypes.pointer(comp.desc), ctypes.pointer(kt)
    ws, n = lib.workspace("spattn_rocket_decode_workspace_size", r)
    r.workspace, r.workspace_size = ws.data_ptr(), n
    row["rocket_ms"] = graph_step_ms(lambda: lib.check(lib.lib.spattn_rocket_decode(ctypes.byref(r), stream_ptr()),
                                                       "spattn_rocket_decode"))
    row["speedup"] = row["dense_ms"] / row["rocket_ms"]
    # Each piece of the step alone, as a graph of 20 (where the step's time goes).
    row["pieces_us"] = [1e3 * graph_step_ms(lambda f=getattr(lib.lib, name): lib.check(f(ctypes.byref(r), stream_ptr()),
                                                                                      name))
                        for name in DECODE_PIECES]
    del comp, kt_data, ws
    torch.cuda.empty_cache()
    return row


def events_ms(fn, before=None, reps=5):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(reps + 1):
        if before is not None:
            before()
        start.record()
        fn()
        end.record()
        end.synchronize()
        if i > 0:
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def context_row(lib, cfg, context, gen):
    batch = 1
    cache = PagedCache(batch, context, [context], gen)
    k_backup, v_backup = cache.k.clone(), cache.v.clone()
    seqlens_backup = cache.seqlens.clone()
    q = torch.randn(batch, context, HEADS, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
    out = torch.empty_like(q)
    # the dense prefill: one sequence's pages are in order, so its pool reads as a
    # contiguous [C][KV_HEADS][DIM] tensor (the sm_90a kernel's input)
    a = AttentionArgs()
    a.struct_size = ctypes.sizeof(AttentionArgs)
    a.dtype, a.batch, a.num_heads, a.num_kv_heads, a.head_dim = DTYPE_BF16, batch, HEADS, KV_HEADS, DIM
    a.seqlen_q, a.seqlen_kv = context, context
    a.q, a.out = q.data_ptr(), out.data_ptr()
    a.k, a.v = cache.k.data_ptr(), cache.v.data_ptr()
    a.q_strides = a.out_strides = I64x3(*q.stride()[:3])
    a.k_strides = a.v_strides = I64x3(context * KV_HEADS * DIM, KV_HEADS * DIM, DIM)
    a.causal = 1
    prefill_ms = events_ms(lambda: lib.check(lib.lib.spattn_attention_forward(ctypes.byref(a), stream_ptr()),
                                             "spattn_attention_forward"), reps=3)
    # the context phase
    kt_data, kt = kt_cache(batch, context, cache, 0, cfg.page_size)
    window = q[:, context - cfg.window_size:]
    c = ContextArgs()
    c.struct_size = ctypes.sizeof(ContextArgs)
    c.config = ctypes.pointer(cfg)
    c.dtype, c.batch, c.num_heads = DTYPE_BF16, batch, HEADS
    c.q_window, c.q_strides = window.data_ptr(), I64x3(*window.stride()[:3])
    c.kv_cache, c.kt_cache = ctypes.pointer(cache.desc), ctypes.pointer(kt)
    c.seqlens_out = cache.seqlens.data_ptr()
    ws, n = lib.workspace("spattn_rocket_context_workspace_size", c)
    c.workspace, c.workspace_size = ws.data_ptr(), n

    def restore():
        cache.k.copy_(k_backup)
        cache.v.copy_(v_backup)
        cache.seqlens.copy_(seqlens_backup)

    rocket_ms = events_ms(lambda: lib.check(lib.lib.spattn_rocket_context(ctypes.byref(c), stream_ptr()),
                                            "spattn_rocket_context"), before=restore)
    # the pieces, each timed on its own (the earlier ones run untimed before it)
    kept = torch.empty(batch, KV_HEADS, cfg.prompt_budget, dtype=torch.int32, device="cuda")
    c.kept_indices = kept.data_ptr()
    piece = lambda name: lib.check(getattr(lib.lib, name)(ctypes.byref(c), stream_ptr()), name)  # noqa: E731
    pieces = {}
    order = ["spattn_rocket_context_select", "spattn_rocket_context_compact", "spattn_rocket_context_build_kt"]
    for i, name in enumerate(order):
        def before(i=i):
            restore()
            for earlier in order[:i]:
                piece(earlier)
        pieces[name.rsplit("_", 1)[-1] if i != 2 else "build_kt"] = events_ms(lambda name=name: piece(name),
                                                                               before=before)
    return {"context": context, "prefill_ms": prefill_ms, "rocket_ms": rocket_ms,
            "share": rocket_ms / prefill_ms, "workspace_mb": n / 1e6, "pieces": pieces}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True, help="libspattn.so")
    ap.add_argument("--quick", action="store_true", help="8k and 32k, batch 1 and 16 only")
    ap.add_argument("--contexts", help="comma list of context lengths (overrides the default set)")
    ap.add_argument("--batches", help="comma list of decode batch sizes (overrides the default set)")
    args = ap.parse_args()
    lib = Lib(args.lib)
    cfg = lib.rocket_config()
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    print(f"RocketKV: budget {cfg.prompt_budget}, topk {cfg.topk}, page {cfg.page_size}, window "
          f"{cfg.window_size}, kernel {cfg.kernel_size}, topr {cfg.topr:g}; layer {HEADS}/{KV_HEADS} heads, "
          f"d{DIM}, bf16, paged KV (page {PAGE})", flush=True)
    gen = torch.Generator(device="cuda")
    gen.manual_seed(0)
    contexts = [8192, 32768] if args.quick else [8192, 32768, 131072]
    batches = [1, 16] if args.quick else [1, 4, 16, 64]
    if args.contexts:
        contexts = [int(x) for x in args.contexts.split(",")]
    if args.batches:
        batches = [int(x) for x in args.batches.split(",")]
    print("\n### decode step (ms per step, CUDA graphs of 20 steps)")
    print("| context | batch | ours dense | cuDNN | RocketKV | dense / RocketKV | dense vs cuDNN rel.err | "
          "update_kt / select / attend us (each alone) |")
    print("|---|---|---|---|---|---|---|---|")
    for context in contexts:
        for batch in batches:
            r = decode_row(lib, cfg, context, batch, gen)
            cud = f"{r['cudnn_ms']:.4f}" if r["cudnn_ms"] is not None else "n/a"
            cud += " (no graph)" if r.get("cudnn_no_graph") else ""
            err = f"{r['dense_vs_cudnn']:.1e}" if "dense_vs_cudnn" in r else "n/a"
            pieces = " / ".join(f"{us:.1f}" for us in r["pieces_us"])
            print(f"| {context} | {batch} | {r['dense_ms']:.4f} | {cud} | {r['rocket_ms']:.4f} | "
                  f"{r['speedup']:.1f}x | {err} | {pieces} |", flush=True)
    print("\n### context phase after the prefill (batch 1)")
    print("| context | dense prefill ms | RocketKV context phase ms | share | select / compact / build_kt ms | "
          "workspace MB |")
    print("|---|---|---|---|---|---|")
    for context in contexts:
        r = context_row(lib, cfg, context, gen)
        pc = r["pieces"]
        print(f"| {context} | {r['prefill_ms']:.3f} | {r['rocket_ms']:.3f} | {100 * r['share']:.1f}% | "
              f"{pc['select']:.3f} / {pc['compact']:.3f} / {pc['build_kt']:.3f} | {r['workspace_mb']:.1f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
