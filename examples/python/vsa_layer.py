#!/usr/bin/env python3
"""A video attention layer with Video Sparse Attention through spattn (GPU machine).

    SPATTN_LIBRARY=build/libspattn.so python3 examples/python/vsa_layer.py

A random-weights DiT-style self-attention layer over a latent video of 6 x 16 x 24 tokens
(frames ragged for 4x4x4 cubes: 48 cubes, 24 of them half-filled), model width 512 = 4
heads x 128: q, k, v and the VSA gate are linear projections of the tokens (with RMS-normed
q and k, as Wan does), attention is spattn.torch_vsa in raster token order (the library
gathers into cube order and scatters back), then the output projection. Checked against a
PyTorch float64 model of VSA written here from the definition (cube means rounded to bf16,
coarse attention over the means rounded to bf16, top-k key cubes per query cube with ties
to the lower index, fine attention over the kept cubes, out = coarse * gate + fine):
  - the selection: at least 99% of the (head, query cube) rows equal (float64 scores can
    order near-ties differently from spattn's exact float32 ones);
  - the layer output: relative L2 error below 2e-2 (bf16 inputs, a bf16 P in the kernel);
and, for information, how far VSA moves the layer output from dense attention (SDPA).
Exits 1 when a check fails.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

try:
    import spattn
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import spattn

GRID = (6, 16, 24)
CUBE = (4, 4, 4)
HEADS, DIM = 4, 128
OUT_REL_L2 = 2e-2
SELECTION_AGREEMENT = 0.99


def rms_norm(x):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype)


class VideoAttention:
    """Random weights; tokens [batch, tokens, width] bf16 in raster order of GRID."""

    def __init__(self, width, seed):
        g = torch.Generator(device="cuda").manual_seed(seed)
        w = lambda: (torch.randn(width, width, device="cuda", generator=g) / math.sqrt(width)).bfloat16()  # noqa: E731
        self.wq, self.wk, self.wv, self.wg, self.wo = w(), w(), w(), w(), w()

    def project(self, x):
        split = lambda t: t.view(t.shape[0], t.shape[1], HEADS, DIM)  # noqa: E731
        q = split(rms_norm(x @ self.wq)) * 2.0  # peaked attention, as trained QK-normed models have
        k = split(rms_norm(x @ self.wk))
        return q, k, split(x @ self.wv), split(x @ self.wg)

    def output(self, attn):
        return attn.reshape(attn.shape[0], attn.shape[1], HEADS * DIM) @ self.wo


def make_tokens(batch, seed):
    """Noise plus a smooth function of (frame, row, column): neighbouring tokens look alike."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    t, h, w = torch.meshgrid(*(torch.arange(n, device="cuda", dtype=torch.float32) / n for n in GRID), indexing="ij")
    freqs = torch.randn(3, HEADS * DIM // 2, device="cuda", generator=g) * 6.0
    phase = t.reshape(-1, 1) * freqs[0] + h.reshape(-1, 1) * freqs[1] + w.reshape(-1, 1) * freqs[2]
    pos = torch.cat([torch.sin(phase), torch.cos(phase)], dim=1)
    x = pos[None] + 0.5 * torch.randn(batch, pos.shape[0], HEADS * DIM, device="cuda", generator=g)
    return x.bfloat16()


# ---------------------------------------------------------------------------
# The float64 model of VSA (raster-order tensors [batch, tokens, heads, dim]).

def cube_tokens():
    """Raster token indices of each cube's valid slots, cubes in raster order."""
    n = [-(-g // c) for g, c in zip(GRID, CUBE)]
    cubes = []
    for ct in range(n[0]):
        for ch in range(n[1]):
            for cw in range(n[2]):
                ts = range(ct * CUBE[0], min(GRID[0], (ct + 1) * CUBE[0]))
                hs = range(ch * CUBE[1], min(GRID[1], (ch + 1) * CUBE[1]))
                ws = range(cw * CUBE[2], min(GRID[2], (cw + 1) * CUBE[2]))
                cubes.append(torch.tensor([(t * GRID[1] + h) * GRID[2] + w for t in ts for h in hs for w in ws],
                                          device="cuda"))
    return cubes


def vsa_float64(q, k, v, gate, sparsity):
    """Returns (output, selection [batch, heads, cubes, kept])."""
    cubes = cube_tokens()
    C = len(cubes)
    kept = max(1, math.ceil((1 - sparsity) * C - 1e-6))
    q, k, v, gate = (x.double() for x in (q, k, v, gate))
    bf16 = lambda x: x.bfloat16().double()  # noqa: E731
    means = lambda x: torch.stack([bf16(x[:, idx].mean(dim=1)) for idx in cubes], dim=1)  # [B, C, H, D]  # noqa: E731
    qm, km, vm = means(q), means(k), means(v)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = torch.einsum("bihd,bjhd->bhij", qm, km)
    order = torch.sort(scores, dim=-1, descending=True, stable=True).indices  # ties: lower index first
    selection = torch.sort(order[..., :kept], dim=-1).values
    coarse = bf16(torch.einsum("bhij,bjhd->bihd", torch.softmax(scale * scores, dim=-1), vm))
    out = torch.empty_like(q)
    for i, idx in enumerate(cubes):
        for b in range(q.shape[0]):
            for h in range(q.shape[2]):
                keys = torch.cat([cubes[j] for j in selection[b, h, i].tolist()])
                p = torch.softmax(scale * q[b, idx, h] @ k[b, keys, h].T, dim=-1)
                out[b, idx, h] = coarse[b, i, h] * gate[b, idx, h] + p @ v[b, keys, h]
    return out, selection


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsity", type=float, default=0.75)
    opts = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    print("spattn %s (%s), torch %s, %s" % (spattn.version(), spattn.library_path, torch.__version__,
                                            torch.cuda.get_device_name()))
    geometry = spattn.vsa_geometry(GRID, CUBE, opts.sparsity)
    print("latent grid %s, cubes %s: %d cubes, %d kept per query cube, %d padded slots"
          % (GRID, CUBE, geometry["num_cubes"], geometry["kept_cubes"], geometry["padded_tokens"]))
    layer = VideoAttention(HEADS * DIM, seed=1)
    x = make_tokens(batch=2, seed=2)
    q, k, v, gate = layer.project(x)
    selected = torch.empty(2 * HEADS * geometry["num_cubes"] * geometry["kept_cubes"], dtype=torch.int32,
                           device="cuda")
    attn = spattn.torch_vsa(q, k, v, gate, grid=GRID, cube_shape=CUBE, sparsity=opts.sparsity,
                            selected_cubes=selected)
    y = layer.output(attn)
    torch.cuda.synchronize()

    want_attn, want_sel = vsa_float64(q, k, v, gate, opts.sparsity)
    y_want = layer.output(want_attn.bfloat16())
    agree = (selected.view_as(want_sel) == want_sel.int()).all(dim=-1).double().mean().item()
    err_attn, err_out = rel_l2(attn, want_attn), rel_l2(y, y_want)
    dense = F.scaled_dot_product_attention(*(t.transpose(1, 2) for t in (q, k, v))).transpose(1, 2)
    err_dense = rel_l2(y, layer.output(dense))
    finite = bool(torch.isfinite(y.float()).all().item())
    checks = [("selection rows equal to float64's", agree >= SELECTION_AGREEMENT, "%.2f%%" % (100 * agree)),
              ("attention output vs float64 (rel L2)", finite and err_attn < OUT_REL_L2, "%.2e" % err_attn),
              ("layer output vs float64 (rel L2)", finite and err_out < OUT_REL_L2, "%.2e" % err_out)]
    for name, ok, value in checks:
        print("%-40s %-10s %s" % (name, value, "ok" if ok else "FAIL"))
    print("%-40s %-10s (the price of sparsity %.2f; information only)"
          % ("layer output vs dense SDPA (rel L2)", "%.2e" % err_dense, opts.sparsity))
    failed = sum(not ok for _, ok, _ in checks)
    print("%d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
