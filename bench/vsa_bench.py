#!/usr/bin/env python3
"""Benchmark of Video Sparse Attention (spattn_vsa_forward) against our dense kernel and
PyTorch SDPA (cuDNN, flash) on the device, through ctypes on torch tensors (bf16, d128).

Shapes (latent tokens after the VAE and the 2x2 patchify of Wan 2.1, 81 frames):
  - 720p, 5 s: 21 x 45 x 80 = 75,600 tokens, 40 heads (the issue's Wan-like shape);
  - 480p, 5 s: 21 x 30 x 52 = 32,760 tokens, 40 heads.
4x4x4 cubes (ragged in frames: 21 = 5 * 4 + 1; and in height at 720p), sparsity 0.5, 0.8, 0.9.

For each shape: our dense kernel and SDPA on the raster-order tensors; VSA on cube-order
tensors (gathered once by spattn_vsa_relayout, which is timed separately): the whole
forward pass, then each stage alone on the workspace the earlier ones filled (means,
scores, selection, coarse attention, fine stage), their shares of the stage sum, and the
fine stage's TFLOP/s on the blocks it computes: 4 * 64 * 64 * kept * cubes * heads * 128
(pad slots of ragged cubes included, as the kernel computes them). A sanity check per
shape: VSA at sparsity 0 with a zero gate is dense attention; its output (scattered back
to raster order) must match our dense output.

Inputs: bench/attention_bench.py's "peaked" generator (positional locality) for q, k, v;
gate uniform in [0, 1).
"""
import argparse
import ctypes
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_bench import Spattn, peaked_inputs, sdpa_time, time_ms  # noqa: E402

DTYPE_BF16 = 2
TO_CUBES, TO_RASTER = 0, 1
STAGES = (("means", 1), ("scores", 2), ("select", 4), ("coarse", 8), ("fine", 16))


class VsaArgs(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("dtype", ctypes.c_int32),
        ("batch", ctypes.c_int32),
        ("num_heads", ctypes.c_int32),
        ("num_kv_heads", ctypes.c_int32),
        ("head_dim", ctypes.c_int32),
        ("grid", ctypes.c_int32 * 3),
        ("cube_shape", ctypes.c_int32 * 3),
        ("sparsity", ctypes.c_double),
        ("layer_params", ctypes.c_void_p),
        ("q", ctypes.c_void_p),
        ("k", ctypes.c_void_p),
        ("v", ctypes.c_void_p),
        ("gate", ctypes.c_void_p),
        ("out", ctypes.c_void_p),
        ("q_strides", ctypes.c_int64 * 3),
        ("k_strides", ctypes.c_int64 * 3),
        ("v_strides", ctypes.c_int64 * 3),
        ("gate_strides", ctypes.c_int64 * 3),
        ("out_strides", ctypes.c_int64 * 3),
        ("softmax_scale", ctypes.c_float),
        ("reserved0", ctypes.c_int32),
        ("lse", ctypes.c_void_p),
        ("selected_cubes", ctypes.c_void_p),
        ("workspace", ctypes.c_void_p),
        ("workspace_size", ctypes.c_size_t),
    ]


class LayoutArgs(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("dtype", ctypes.c_int32),
        ("direction", ctypes.c_int32),
        ("batch", ctypes.c_int32),
        ("num_heads", ctypes.c_int32),
        ("head_dim", ctypes.c_int32),
        ("grid", ctypes.c_int32 * 3),
        ("cube_shape", ctypes.c_int32 * 3),
        ("src", ctypes.c_void_p),
        ("dst", ctypes.c_void_p),
        ("src_strides", ctypes.c_int64 * 3),
        ("dst_strides", ctypes.c_int64 * 3),
    ]


class Geometry(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("cubes", ctypes.c_int32 * 3),
        ("num_cubes", ctypes.c_int32),
        ("cube_volume", ctypes.c_int32),
        ("kept_cubes", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("padded_tokens", ctypes.c_int64),
    ]


assert ctypes.sizeof(VsaArgs) == 264, ctypes.sizeof(VsaArgs)
assert ctypes.sizeof(LayoutArgs) == 112, ctypes.sizeof(LayoutArgs)
assert ctypes.sizeof(Geometry) == 40, ctypes.sizeof(Geometry)


class Vsa:
    def __init__(self, lib, grid, cube=(4, 4, 4), heads=40, dim=128):
        self.lib, self.grid, self.cube, self.heads, self.dim = lib, grid, cube, heads, dim
        for name, argtypes in (("spattn_vsa_forward", [ctypes.POINTER(VsaArgs), ctypes.c_void_p]),
                               ("spattn_vsa_workspace_size", [ctypes.POINTER(VsaArgs), ctypes.POINTER(ctypes.c_size_t)]),
                               ("spattn_vsa_get_geometry", [ctypes.POINTER(VsaArgs), ctypes.POINTER(Geometry)]),
                               ("spattn_vsa_relayout", [ctypes.POINTER(LayoutArgs), ctypes.c_void_p]),
                               ("spattn_bench_vsa_forward_stages",
                                [ctypes.POINTER(VsaArgs), ctypes.c_void_p, ctypes.c_uint])):
            getattr(lib, name).argtypes = argtypes
            getattr(lib, name).restype = ctypes.c_int

    def check(self, status, what):
        if status != 0:
            self.lib.spattn_last_error.restype = ctypes.c_char_p
            raise RuntimeError(f"{what} returned {status}: {self.lib.spattn_last_error().decode()}")

    @staticmethod
    def stream():
        return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)

    def args(self, sparsity, q=None, k=None, v=None, gate=None, out=None, selected=None, ws=None):
        a = VsaArgs()
        a.struct_size = ctypes.sizeof(VsaArgs)
        a.dtype = DTYPE_BF16
        a.batch, a.num_heads, a.num_kv_heads, a.head_dim = 1, self.heads, self.heads, self.dim
        a.grid[:] = list(self.grid)
        a.cube_shape[:] = list(self.cube)
        a.sparsity = sparsity
        for name, t in (("q", q), ("k", k), ("v", v), ("gate", gate), ("out", out)):
            if t is not None:
                setattr(a, name, t.data_ptr())
                getattr(a, name + "_strides")[:] = list(t.stride()[:3])
        a.selected_cubes = selected.data_ptr() if selected is not None else None
        if ws is not None:
            a.workspace, a.workspace_size = ws.data_ptr(), ws.numel()
        return a

    def geometry(self, sparsity):
        g = Geometry()
        g.struct_size = ctypes.sizeof(Geometry)
        self.check(self.lib.spattn_vsa_get_geometry(ctypes.byref(self.args(sparsity)), ctypes.byref(g)),
                   "spattn_vsa_get_geometry")
        return g

    def workspace(self, sparsity):
        n = ctypes.c_size_t()
        self.check(self.lib.spattn_vsa_workspace_size(ctypes.byref(self.args(sparsity)), ctypes.byref(n)),
                   "spattn_vsa_workspace_size")
        return torch.empty(n.value, dtype=torch.uint8, device="cuda")

    def relayout(self, src, dst, direction):
        a = LayoutArgs()
        a.struct_size = ctypes.sizeof(LayoutArgs)
        a.dtype, a.direction = DTYPE_BF16, direction
        a.batch, a.num_heads, a.head_dim = src.shape[0], src.shape[2], src.shape[3]
        a.grid[:] = list(self.grid)
        a.cube_shape[:] = list(self.cube)
        a.src, a.dst = src.data_ptr(), dst.data_ptr()
        a.src_strides[:] = list(src.stride()[:3])
        a.dst_strides[:] = list(dst.stride()[:3])
        self.check(self.lib.spattn_vsa_relayout(ctypes.byref(a), self.stream()), "spattn_vsa_relayout")

    def forward(self, a, stages=None):
        if stages is None:
            self.check(self.lib.spattn_vsa_forward(ctypes.byref(a), self.stream()), "spattn_vsa_forward")
        else:
            self.check(self.lib.spattn_bench_vsa_forward_stages(ctypes.byref(a), self.stream(), stages),
                       "spattn_bench_vsa_forward_stages")


def run_shape(lib, dense_lib, name, grid, heads, dim, sparsities, peers):
    seq = grid[0] * grid[1] * grid[2]
    vsa = Vsa(lib, grid, heads=heads, dim=dim)
    geo = vsa.geometry(0.9)
    P, C = geo.padded_tokens, geo.num_cubes
    print(f"== {name}: {grid[0]}x{grid[1]}x{grid[2]} = {seq} tokens, {heads} heads, d{dim}; "
          f"{C} cubes of 4x4x4 ({P} padded slots)", flush=True)
    q, k, v = peaked_inputs(seq, heads, heads, dim, seed=seq)
    gate = torch.rand(1, seq, heads, dim, device="cuda").to(torch.bfloat16)
    out = torch.empty_like(q)
    dense_flops = 4.0 * seq * seq * heads * dim
    row = {"name": name, "seq": seq, "cubes": C}
    row["dense_ms"] = time_ms(lambda: dense_lib.forward(q, k, v, out, False, 0.0))
    dense_lib.forward(q, k, v, out, False, 0.0)
    dense_out = out.float().clone()
    for backend in ("cudnn", "flash") if peers else ():
        ms, ref = sdpa_time(backend, q, k, v, False, 1)
        row[backend + "_ms"] = ms
        del ref
        torch.cuda.empty_cache()

    # Cube order: one gather per tensor (timed once), the output scattered back.
    cube = lambda t: torch.empty(1, P, t.shape[2], dim, dtype=t.dtype, device="cuda")
    qc, kc, vc, gc = cube(q), cube(k), cube(v), cube(gate)
    row["gather_ms"] = time_ms(lambda: vsa.relayout(q, qc, TO_CUBES))
    for src, dst in ((k, kc), (v, vc), (gate, gc)):
        vsa.relayout(src, dst, TO_CUBES)
    oc = torch.empty_like(qc)
    row["scatter_ms"] = time_ms(lambda: vsa.relayout(oc, out, TO_RASTER))

    # Sanity: sparsity 0 and a zero gate is dense attention over every token.
    zero_gate = torch.zeros_like(gc)
    ws = vsa.workspace(0.0)
    vsa.forward(vsa.args(0.0, qc, kc, vc, zero_gate, oc, ws=ws))
    vsa.relayout(oc, out, TO_RASTER)
    torch.cuda.synchronize()
    row["dense_check"] = ((out.float() - dense_out).norm() / dense_out.norm()).item()
    del ws, zero_gate
    torch.cuda.empty_cache()

    row["vsa"] = []
    for s in sparsities:
        g = vsa.geometry(s)
        ws = vsa.workspace(s)
        a = vsa.args(s, qc, kc, vc, gc, oc, ws=ws)
        total = time_ms(lambda: vsa.forward(a))
        vsa.forward(a)
        stage_ms = {}
        for stage, bit in STAGES:
            stage_ms[stage] = time_ms(lambda: vsa.forward(a, bit))
        fine_flops = 4.0 * 64 * 64 * g.kept_cubes * C * heads * dim
        row["vsa"].append({"sparsity": s, "kept": g.kept_cubes, "ms": total, "stages": stage_ms,
                           "fine_tflops": fine_flops / stage_ms["fine"] / 1e9,
                           "dense_tflops": dense_flops / row["dense_ms"] / 1e9})
        print(f"  sparsity {s}: {total:.3f} ms ({row['dense_ms'] / total:.2f}x our dense), fine "
              f"{stage_ms['fine']:.3f} ms", flush=True)
        del ws
        torch.cuda.empty_cache()
    del q, k, v, gate, out, qc, kc, vc, gc, oc, dense_out
    torch.cuda.empty_cache()
    return row


def print_tables(rows):
    print("\n| shape | our dense ms (TFLOP/s) | cuDNN ms | flash ms | gather (1 tensor) ms | scatter ms | "
          "sparsity 0 vs our dense rel.err |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        fl = 4.0 * r["seq"] ** 2 * 40 * 128
        peer = lambda b: "n/a" if r.get(b + "_ms") is None else f"{r[b + '_ms']:.2f}"
        print(f"| {r['name']} | {r['dense_ms']:.2f} ({fl / r['dense_ms'] / 1e9:.0f}) | {peer('cudnn')} | "
              f"{peer('flash')} | {r['gather_ms']:.3f} | {r['scatter_ms']:.3f} | {r['dense_check']:.1e} |")
    print("\n| shape | sparsity | kept / cubes | VSA ms | vs our dense | vs cuDNN | fine ms | fine TFLOP/s "
          "(selected blocks) | fine / our dense TFLOP/s | means / scores / select / coarse / fine share |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for x in r["vsa"]:
            st = x["stages"]
            tot = sum(st.values())
            shares = " / ".join(f"{100 * st[n] / tot:.1f}%" for n, _ in STAGES)
            cud = "n/a" if r.get("cudnn_ms") is None else f"{r['cudnn_ms'] / x['ms']:.2f}x"
            print(f"| {r['name']} | {x['sparsity']} | {x['kept']} / {r['cubes']} | {x['ms']:.2f} | "
                  f"{r['dense_ms'] / x['ms']:.2f}x | {cud} | {st['fine']:.2f} | {x['fine_tflops']:.0f} | "
                  f"{x['fine_tflops'] / x['dense_tflops']:.0%} | {shares} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True, help="libspattn_attention_bench.so")
    ap.add_argument("--quick", action="store_true", help="the 480p shape only")
    ap.add_argument("--no-peers", action="store_true", help="no cuDNN / flash timings")
    args = ap.parse_args()
    torch.manual_seed(0)
    dense = Spattn(args.lib)
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    shapes = [("480p 5 s", (21, 30, 52))]
    if not args.quick:
        shapes.append(("720p 5 s (Wan-like)", (21, 45, 80)))
    rows = []
    for name, grid in shapes:
        rows.append(run_shape(dense.lib, dense, name, grid, 40, 128, (0.5, 0.8, 0.9), not args.no_peers))
    print("\n### VSA")
    print_tables(rows)
    bad = [r for r in rows if not r["dense_check"] < 2e-2]
    if bad:
        print("FAILED: VSA at sparsity 0 does not match dense attention:", [r["name"] for r in bad])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
