#!/usr/bin/env python3
"""Benchmark of spattn_attention_decode against PyTorch SDPA (flash, cuDNN).

One query per sequence (a decode step), head dim 128, bf16 queries; K/V in a
contiguous cache or a paged one (page 16 or 64, pages shuffled), bf16 or FP8
E4M3 (per-tensor scale). For each row: our time, the GB/s of K/V bytes the
step needs (dense: all of K and V; with skipping: all of K plus the V of the
kept tiles, the bytes actually needed), its share of the H200's 4.8 TB/s,
and, for bf16, PyTorch's flash and cuDNN back ends on the same data
(enable_gqa=True; a back end that refuses it gets K/V expanded to every query
head, and the row says so). Skip rows use thresholds found by bisection on
tile counters to give about 50% and 70% skipped tiles.

Inputs ("peaked", the decode form of attention_bench.py's): per KV head, 16
random frequencies w_f (wavelengths 256..8192 tokens), features
phi(i) = [cos(w_f i), sin(w_f i)] / 4 projected into head_dim; key j is
a phi(j) P + noise, the query of a sequence of length L is a phi(L) P +
noise, so attention peaks on recent keys; the first 16 keys are sinks. Peak
scaled logit 10, noise std 0.5 per element.

Timing: CUDA events around a CUDA graph of 10 launches, median of repeats;
every row rotates over enough copies of its cache to exceed the 60 MB L2.
"""
import argparse
import ctypes
import math
import statistics
import sys

import torch
import torch.nn.functional as F

HBM = 4.8e12
DTYPE_BF16, DTYPE_FP8 = 2, 3


class KvCache(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32), ("layout", ctypes.c_int32), ("dtype", ctypes.c_int32),
        ("num_kv_heads", ctypes.c_int32), ("head_dim", ctypes.c_int32), ("head_dim_v", ctypes.c_int32),
        ("k", ctypes.c_void_p), ("v", ctypes.c_void_p),
        ("k_strides", ctypes.c_int64 * 3), ("v_strides", ctypes.c_int64 * 3),
        ("k_scale", ctypes.c_float), ("v_scale", ctypes.c_float),
        ("seqlens_kv", ctypes.c_void_p), ("max_seqlen_kv", ctypes.c_int32),
        ("page_size", ctypes.c_int32), ("num_pages", ctypes.c_int32),
        ("block_table", ctypes.c_void_p), ("max_pages_per_seq", ctypes.c_int32),
    ]


class DecodeArgs(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("batch", ctypes.c_int32),
        ("num_heads", ctypes.c_int32), ("seqlen_q", ctypes.c_int32),
        ("q", ctypes.c_void_p), ("q_strides", ctypes.c_int64 * 3),
        ("out", ctypes.c_void_p), ("out_strides", ctypes.c_int64 * 3),
        ("kv_cache", ctypes.c_void_p), ("softmax_scale", ctypes.c_float), ("causal", ctypes.c_int32),
        ("layer_params", ctypes.c_void_p), ("threshold_scale_factor", ctypes.c_float),
        ("skip_seqlen_kv", ctypes.c_int32), ("lse", ctypes.c_void_p), ("tile_counters", ctypes.c_void_p),
        ("workspace", ctypes.c_void_p), ("workspace_size", ctypes.c_size_t), ("num_splits", ctypes.c_int32),
    ]


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        for name in ("spattn_attention_decode",):
            getattr(self.lib, name).argtypes = [ctypes.POINTER(DecodeArgs), ctypes.c_void_p]
            getattr(self.lib, name).restype = ctypes.c_int
        self.lib.spattn_decode_workspace_size.argtypes = [ctypes.POINTER(DecodeArgs), ctypes.POINTER(ctypes.c_size_t)]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: spattn status {status}")


class Cache:
    """One copy of a KV cache (contiguous or paged, bf16 or FP8) and its descriptor."""

    def __init__(self, k, v, page, fp8, seed, shuffle=True):
        # k, v: [B, L, Hkv, D] bf16 contiguous.
        B, L, Hkv, D = k.shape
        self.k_scale = self.v_scale = 0.0
        if fp8:  # per sequence, to bound the float32 temporaries
            self.k_scale = float(k.abs().max()) / 448.0
            self.v_scale = float(v.abs().max()) / 448.0
            k8 = torch.empty(k.shape, dtype=torch.float8_e4m3fn, device="cuda")
            v8 = torch.empty_like(k8)
            for b in range(B):
                k8[b] = (k[b].float() / self.k_scale).to(torch.float8_e4m3fn)
                v8[b] = (v[b].float() / self.v_scale).to(torch.float8_e4m3fn)
            k, v = k8, v8
        self.seqlens = torch.full((B,), L, dtype=torch.int32, device="cuda")
        self.page = page
        if page:
            pages_per_seq = L // page
            n = B * pages_per_seq
            g = torch.Generator(device="cpu").manual_seed(seed)
            perm = (torch.randperm(n, generator=g) if shuffle else torch.arange(n)).to("cuda")
            self.table = perm.view(B, pages_per_seq).to(torch.int32).contiguous()
            pool_k = torch.empty((n, page, Hkv, D), dtype=k.dtype, device="cuda")
            pool_v = torch.empty_like(pool_k)
            pool_k[perm] = k.reshape(n, page, Hkv, D)
            pool_v[perm] = v.reshape(n, page, Hkv, D)
            self.k, self.v = pool_k, pool_v
        else:
            self.k, self.v = k.contiguous(), v.contiguous()
        c = KvCache()
        c.struct_size = ctypes.sizeof(KvCache)
        c.layout = 1 if page else 0
        c.dtype = DTYPE_FP8 if fp8 else DTYPE_BF16
        c.num_kv_heads, c.head_dim = Hkv, D
        c.k, c.v = self.k.data_ptr(), self.v.data_ptr()
        c.k_strides[:] = list(self.k.stride()[:3])
        c.v_strides[:] = list(self.v.stride()[:3])
        c.k_scale, c.v_scale = self.k_scale, self.v_scale
        c.seqlens_kv = self.seqlens.data_ptr()
        c.max_seqlen_kv = L
        if page:
            c.page_size, c.num_pages = page, B * (L // page)
            c.block_table, c.max_pages_per_seq = self.table.data_ptr(), L // page
        self.desc = c


def peaked(B, L, H, Hkv, D, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    nf, group = 16, H // Hkv
    lo, hi = math.log(2 * math.pi / 8192), math.log(2 * math.pi / 256)
    w = torch.exp(lo + (hi - lo) * torch.rand(Hkv, nf, device="cuda", generator=g))
    proj = torch.linalg.qr(torch.randn(Hkv, D, 2 * nf, device="cuda", generator=g))[0]
    a = math.sqrt(10.0 * math.sqrt(D))
    sink = math.sqrt(8.0 * math.sqrt(D))
    u = F.normalize(torch.randn(Hkv, D, device="cuda", generator=g), dim=-1)

    def base(pos):  # [P] -> [P, Hkv, D]
        ang = pos[:, None, None].float() * w[None]
        phi = torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1) / math.sqrt(nf)
        return torch.einsum("phf,hdf->phd", phi, proj)

    kb = a * base(torch.arange(L, device="cuda"))
    k = torch.empty((B, L, Hkv, D), dtype=torch.bfloat16, device="cuda")
    v = torch.empty_like(k)
    for b in range(B):  # per sequence, to bound the float32 temporaries
        kk = kb + 0.5 * torch.randn(L, Hkv, D, device="cuda", generator=g)
        kk[:16] += sink * u
        k[b] = kk.to(torch.bfloat16)
        v[b] = torch.randn(L, Hkv, D, device="cuda", generator=g).to(torch.bfloat16)
    qb = (a * base(torch.tensor([L], device="cuda")) + sink * u).repeat_interleave(group, dim=1)  # [1, H, D]
    q = (qb + 0.5 * torch.randn(B, H, D, device="cuda", generator=g)).to(torch.bfloat16)
    return q.unsqueeze(1).contiguous(), k, v  # q [B, 1, H, D]


def graph_time_ms(step, copies, launches=10, repeats=9):
    """Median time of one launch: a CUDA graph of `launches` launches cycling over the copies."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for i in range(copies):
            step(i)
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for i in range(launches):
            step(i % copies)
    g.replay()
    torch.cuda.synchronize()
    times = []
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(repeats):
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / launches)
    return statistics.median(times)


class Row:
    def __init__(self, lib, B, L, H, Hkv, page, fp8, seed=0, shuffle=True, splits=0):
        self.lib, self.B, self.L, self.H, self.Hkv, self.page, self.fp8 = lib, B, L, H, Hkv, page, fp8
        D = 128
        self.q, k, v = peaked(B, L, H, Hkv, D, seed)
        self.kv_bytes = 2 * B * L * Hkv * D * (1 if fp8 else 2)
        self.copies = max(1, min(8, math.ceil(256e6 / self.kv_bytes)))
        self.caches = [Cache(k, v, page, fp8, seed + i, shuffle) for i in range(self.copies)]
        self.k_ref, self.v_ref = (k, v) if not fp8 else (None, None)
        self.out = torch.empty_like(self.q)
        self.counters = torch.zeros(2, dtype=torch.int64, device="cuda")
        self.args = []
        for c in self.caches:
            a = DecodeArgs()
            a.struct_size = ctypes.sizeof(DecodeArgs)
            a.dtype, a.batch, a.num_heads, a.seqlen_q = DTYPE_BF16, B, H, 1
            a.q, a.out = self.q.data_ptr(), self.out.data_ptr()
            a.q_strides[:] = list(self.q.stride()[:3])
            a.out_strides[:] = list(self.out.stride()[:3])
            a.kv_cache = ctypes.addressof(c.desc)
            a.causal = 1
            a.num_splits = splits  # 0: the automatic rule
            self.args.append(a)
        size = ctypes.c_size_t()
        lib.check(lib.lib.spattn_decode_workspace_size(ctypes.byref(self.args[0]), ctypes.byref(size)), "workspace")
        self.workspace = torch.empty(max(size.value, 16), dtype=torch.uint8, device="cuda")
        for a in self.args:
            a.workspace, a.workspace_size = self.workspace.data_ptr(), size.value

    def run(self, i, threshold, counters=False):
        a = self.args[i]
        a.threshold_scale_factor = threshold
        a.tile_counters = self.counters.data_ptr() if counters else None
        self.lib.check(self.lib.lib.spattn_attention_decode(ctypes.byref(a), ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)), "decode")

    def skipped_fraction(self, threshold):
        self.counters.zero_()
        self.run(0, threshold, counters=True)
        torch.cuda.synchronize()
        visited, skipped = self.counters.tolist()
        return skipped / max(visited, 1)

    def time(self, threshold):
        return graph_time_ms(lambda i: self.run(i, threshold), self.copies)

    def needed_bytes(self, skipped):
        return self.kv_bytes * (1.0 - 0.5 * skipped)


def find_threshold(row, target):
    lo, hi = 0.0, 0.999 * row.L  # lambda < 1: skipping is off from threshold L on
    for _ in range(11):
        mid = 0.5 * (lo + hi) if lo > 0 else hi / 64
        lo_next = row.skipped_fraction(mid) < target
        if lo_next:
            lo = mid
        else:
            hi = mid
    return hi


def sdpa_ms(backend, row):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    be = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[backend]
    q = row.q.transpose(1, 2)
    k, v = row.k_ref.transpose(1, 2), row.v_ref.transpose(1, 2)
    note = "gqa"
    try:
        with sdpa_kernel(be):
            F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        fn = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    except RuntimeError:
        group = row.H // row.Hkv
        ke, ve = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        note = "expanded"
        fn = lambda: F.scaled_dot_product_attention(q, ke, ve)
    with sdpa_kernel(be):
        try:
            return graph_time_ms(lambda i: fn(), 1), note
        except RuntimeError as e:
            return float("nan"), f"n/a ({str(e)[:40]})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--profile", help="B,L,page,fp8,threshold: one row, three launches, for Nsight Compute")
    ap.add_argument("--row", action="append", default=[],
                    help="B,L,H,page,fp8[,ordered][,splits=N]: time this row dense only (repeatable); "
                         "ordered: pages in order; splits: args.num_splits")
    args = ap.parse_args()
    lib = Lib(args.lib)
    if args.row:
        for spec in args.row:
            f = spec.split(",")
            B, L, H, page, fp8 = int(f[0]), int(f[1]), int(f[2]), int(f[3]), bool(int(f[4]))
            ordered = "ordered" in f[5:]
            splits = [int(x[7:]) for x in f[5:] if x.startswith("splits=")] or [0]
            row = Row(lib, B, L, H, 8, page, fp8, shuffle=not ordered, splits=splits[0])
            ms = row.time(0.0)
            gbs = row.kv_bytes / (ms * 1e-3) / 1e9
            print(f"| {spec} | {row.kv_bytes / 1e6:.0f} MB | {ms:.4f} ms | {gbs:.0f} GB/s | {gbs * 1e9 / HBM * 100:.0f}% |", flush=True)
            del row
            torch.cuda.empty_cache()
        return 0
    if args.profile:
        B, L, page, fp8, thr = args.profile.split(",")
        row = Row(lib, int(B), int(L), 32, 8, int(page), bool(int(fp8)))
        for _ in range(3):
            row.run(0, float(thr))
        torch.cuda.synchronize()
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    shapes = [(1, 4096), (1, 32768), (1, 131072), (8, 4096), (8, 32768), (8, 131072),
              (64, 4096), (64, 32768), (64, 131072), (256, 4096), (256, 32768)]
    if args.quick:
        shapes = [(1, 131072), (16, 32768), (64, 8192)]
    lines = ["| heads | layout | kv | batch x L | K/V MB | mode | skipped | ms | GB/s needed | HBM share | flash ms | cuDNN ms | ours vs cuDNN |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    thresholds = {}
    configs = [(32, 8, 0, False, True), (32, 8, 64, False, False), (32, 8, 16, False, False),
               (32, 8, 0, True, True), (32, 8, 64, True, False), (64, 8, 0, False, True)]
    if args.quick:
        configs = [(32, 8, 0, False, True), (32, 8, 64, False, False), (32, 8, 0, True, True),
                   (32, 8, 64, True, False)]
    for H, Hkv, page, fp8, skips in configs:
        for B, L in shapes:
            try:
                row = Row(lib, B, L, H, Hkv, page, fp8)
            except torch.cuda.OutOfMemoryError:
                continue
            layout = f"paged {page}" if page else "contiguous"
            kv = "fp8" if fp8 else "bf16"
            flash = cudnn = (float("nan"), "")
            if not fp8 and page == 0:
                flash, cudnn = sdpa_ms("flash", row), sdpa_ms("cudnn", row)
            if not fp8 and page == 0 and row.kv_bytes < 1e9:
                # correctness against float32 SDPA on this row (dense)
                row.run(0, 0.0)
                from torch.nn.attention import SDPBackend, sdpa_kernel
                with sdpa_kernel(SDPBackend.MATH):
                    ref = F.scaled_dot_product_attention(row.q.transpose(1, 2).float(), row.k_ref.transpose(1, 2).float(),
                                                         row.v_ref.transpose(1, 2).float(), enable_gqa=True)
                err = (row.out.float() - ref.transpose(1, 2)).abs().max().item()
                print(f"# {H}/{Hkv} {B}x{L}: max |ours - float32 SDPA| = {err:.2e}", flush=True)
            modes = [("dense", 0.0)]
            if skips:
                for target in (0.5, 0.7):  # the row's own threshold: splits differ with the batch
                    thr = find_threshold(row, target)
                    modes.append((f"skip~{int(target * 100)}% (thr {thr:.1f})", thr))
            dense_ms = None
            for mode, thr in modes:
                skipped = row.skipped_fraction(thr) if thr > 0 else 0.0
                ms = row.time(thr)
                dense_ms = dense_ms or ms
                gbs = row.needed_bytes(skipped) / (ms * 1e-3) / 1e9
                speed = f"{cudnn[0] / ms:.2f}x" if cudnn[0] == cudnn[0] else ""
                if thr > 0:
                    speed = f"{dense_ms / ms:.2f}x of our dense"
                lines.append(f"| {H}/{Hkv} | {layout} | {kv} | {B} x {L} | {row.kv_bytes / 1e6:.0f} | {mode} | "
                             f"{skipped:.2f} | {ms:.4f} | {gbs:.0f} | {gbs * 1e9 / HBM * 100:.0f}% | "
                             f"{flash[0]:.4f} {flash[1] if thr == 0 else ''} | {cudnn[0]:.4f} {cudnn[1] if thr == 0 else ''} | {speed} |")
                print(lines[-1], flush=True)
            del row
            torch.cuda.empty_cache()
    print("\n### decode, all rows")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
