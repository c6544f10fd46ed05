#!/usr/bin/env python3
"""A diffusion-style attention layer run through spattn with PyTorch tensors (GPU machine).

    SPATTN_LIBRARY=build/libspattn.so python3 examples/python/torch_attention.py [--quick]

For each case, q/k/v are bf16 CUDA tensors with a positional component (video tokens attend
mostly to nearby tokens, so skip-softmax has tiles to skip). spattn's output is compared with
torch.nn.functional.scaled_dot_product_attention (bf16 flash path):
  - dense (threshold 0, BSHD and BHSD strides, head dim 128 and 64): relative L2 error must be
    below 2e-2 (both are bf16 flash attentions: a few bf16 ulps apart);
  - sparse, with the threshold looked up in the sample checkpoint (wan-mini, transformer,
    blocks.3.attn1, user target 0.5, timestep 0.5): the first 256 queries of head 0 must match
    spattn's CPU reference of the same algorithm (same tiles and skip rule) within 2e-2, at least
    one tile must be skipped, and the error against dense SDPA (the price of sparsity) is reported.
Achieved sparsity comes from the kernel's tile counters. Exits 1 when any check fails.
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

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DENSE_REL_L2 = 2e-2
REFERENCE_REL_L2 = 2e-2
REFERENCE_QUERIES = 256  # a multiple of SPATTN_SKIP_TILE_QUERIES: the same skip decisions as the full run


def make_qkv(batch, heads, seq, dim, seed=0):
    """[batch, seq, heads, dim] bf16: noise plus a smooth positional part shared by q and k."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    pos = torch.arange(seq, device="cuda", dtype=torch.float32) / seq
    freqs = torch.arange(1, dim // 4 + 1, device="cuda", dtype=torch.float32) * math.pi
    pe = torch.cat([torch.sin(pos[:, None] * freqs), torch.cos(pos[:, None] * freqs)], dim=1)  # [seq, dim/2]
    out = []
    for _ in range(3):
        t = torch.randn(batch, seq, heads, dim, device="cuda", generator=g)
        out.append(t)
    q, k, v = out
    q[..., : dim // 2] += 1.5 * pe[None, :, None, :]
    k[..., : dim // 2] += 1.5 * pe[None, :, None, :]
    return q.bfloat16(), k.bfloat16(), v.bfloat16()


def rel_l2(a, b):
    a, b = a.float(), b.float()
    return ((a - b).norm() / b.norm()).item()


def time_ms(fn, iters=5):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(iters):
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def sdpa_bshd(q, k, v):
    return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)


def cpu_reference_slice(q, k, v, layer):
    """spattn's CPU reference for batch 0, head 0, the first REFERENCE_QUERIES queries."""
    qh = q[0:1, :REFERENCE_QUERIES, 0:1, :].contiguous().cpu()
    kh = k[0:1, :, 0:1, :].contiguous().cpu()
    vh = v[0:1, :, 0:1, :].contiguous().cpu()
    out = torch.empty_like(qh)
    counters = torch.zeros(2, dtype=torch.int64)
    spattn.attention_reference(qh.data_ptr(), kh.data_ptr(), vh.data_ptr(), out.data_ptr(),
                               dtype="bfloat16", batch=1, num_heads=1, head_dim=q.shape[3],
                               seqlen_q=REFERENCE_QUERIES, seqlen_kv=k.shape[1], layer=layer,
                               tile_counters=counters.data_ptr())
    return out, counters


def run_case(name, batch, heads, seq, dim, layout="bshd", layer=None):
    q, k, v = make_qkv(batch, heads, seq, dim)
    counters = torch.zeros(2, dtype=torch.int64, device="cuda")
    if layout == "bshd":
        args = (q, k, v)
    else:  # [B, H, S, D] views of the same memory (non-contiguous, head dim contiguous)
        args = (q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    out = spattn.torch_attention(*args, layout=layout, layer=layer, tile_counters=counters)
    torch.cuda.synchronize()
    if layout == "bhsd":
        out = out.transpose(1, 2)
    ref = sdpa_bshd(q, k, v)
    err = rel_l2(out, ref)
    visited, skipped = (int(x) for x in counters.tolist())
    sparsity = skipped / visited if visited else float("nan")
    ms = time_ms(lambda: spattn.torch_attention(*args, layout=layout, layer=layer))
    ms_sdpa = time_ms(lambda: sdpa_bshd(q, k, v))
    finite = bool(torch.isfinite(out.float()).all().item())
    notes = []
    if layer is None or not layer.enabled:
        ok = finite and err < DENSE_REL_L2 and skipped == 0
        notes.append("vs SDPA < %.0e" % DENSE_REL_L2)
    else:
        ref_out, ref_counters = cpu_reference_slice(q, k, v, layer)
        err_ref = rel_l2(out[0:1, :REFERENCE_QUERIES, 0:1, :].cpu(), ref_out)
        ok = finite and err_ref < REFERENCE_REL_L2 and skipped > 0
        notes.append("vs CPU reference %.2e (ref skipped %d/%d tiles)" % (
            err_ref, int(ref_counters[1]), int(ref_counters[0])))
    threshold = 0.0 if layer is None else layer.threshold_scale_factor
    return dict(name=name, shape="%dx%dx%dx%d" % (batch, seq, heads, dim), layout=layout,
                threshold=threshold, lam=threshold / seq, sparsity=sparsity, err=err, ms=ms,
                ms_sdpa=ms_sdpa, ok=ok, notes="; ".join(notes))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 4096-token cases")
    parser.add_argument("--checkpoint", default=os.path.join(REPO, "examples", "checkpoints", "wan-mini"))
    parser.add_argument("--config", default=os.path.join(REPO, "examples", "configs", "visualgen_target.yaml"))
    parser.add_argument("--timestep", type=float, default=0.5)
    opts = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    print("spattn %s (%s), torch %s, %s" % (spattn.version(), spattn.library_path, torch.__version__,
                                            torch.cuda.get_device_name()))
    with spattn.Config.from_file(opts.config) as config, spattn.Model.open(opts.checkpoint, config) as model:
        layer = model.lookup("transformer", "blocks.3.attn1", "prefill", opts.timestep)
        ignored = model.lookup("transformer", "blocks.0.attn1", "prefill", opts.timestep)
    print("lookup transformer/blocks.3.attn1 at t=%g: enabled=%s threshold_scale_factor=%.6g (%s)"
          % (opts.timestep, layer.enabled, layer.threshold_scale_factor, layer.phase_key))
    if not layer.enabled or ignored.enabled:
        print("FAIL: unexpected lookup result", file=sys.stderr)
        return 1

    cases = [
        ("dense", 2, 24, 4096, 128, "bshd", None),
        ("dense", 2, 24, 4096, 128, "bhsd", None),
        ("dense", 2, 24, 4096, 64, "bshd", None),
        ("ignored layer", 2, 24, 4096, 128, "bshd", ignored),
        ("lookup", 2, 24, 4096, 128, "bshd", layer),
        ("lookup", 2, 24, 4096, 64, "bshd", layer),
    ]
    if not opts.quick:  # Wan 2.1 480p length (21 x 30 x 52 latent tokens), where lambda < 1
        cases += [("dense", 2, 12, 32760, 128, "bshd", None), ("lookup", 2, 12, 32760, 128, "bshd", layer)]
    rows = []
    for case in cases:
        try:
            rows.append(run_case(*case))
        except spattn.Error as e:
            rows.append(dict(name=case[0], shape="%dx%dx%dx%d" % (case[1], case[3], case[2], case[4]),
                             layout=case[5], threshold=float("nan"), lam=float("nan"), sparsity=float("nan"),
                             err=float("nan"), ms=float("nan"), ms_sdpa=float("nan"), ok=False, notes=str(e)))
    header = "%-14s %-18s %-5s %10s %7s %9s %10s %9s %9s  %-4s %s" % (
        "case", "BxSxHxD", "lay", "threshold", "lambda", "sparsity", "relL2/SDPA", "spattn ms", "SDPA ms", "ok", "check")
    print(header)
    print("-" * len(header))
    for r in rows:
        print("%-14s %-18s %-5s %10.4g %7.3f %8.1f%% %10.2e %9.3f %9.3f  %-4s %s" % (
            r["name"], r["shape"], r["layout"], r["threshold"], r["lam"], 100 * r["sparsity"], r["err"],
            r["ms"], r["ms_sdpa"], "ok" if r["ok"] else "FAIL", r["notes"]))
    failed = sum(not r["ok"] for r in rows)
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
