#!/usr/bin/env python3
"""Launches the attention forward pass once per threshold on the benchmark's
"peaked" inputs, for a profiler (ncu) to record: see bench/profile_sm90.sh.
Prints the skipped-tile fraction of each launch."""
import argparse
import sys

import torch

from attention_bench import Spattn, peaked_inputs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seq", type=int, default=16384)
    ap.add_argument("--heads", type=int, default=40)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.0])
    args = ap.parse_args()
    lib = Spattn(args.lib)
    q, k, v = peaked_inputs(args.seq, args.heads, args.heads, args.dim, seed=args.seq + args.dim)
    out = torch.empty_like(q)
    counters = torch.zeros(2, dtype=torch.int64, device="cuda")
    for thr in args.thresholds:
        counters.zero_()
        lib.forward(q, k, v, out, False, thr, counters)
        torch.cuda.synchronize()
        c = counters.tolist()
        print(f"threshold {thr:g}: {c[1]}/{c[0]} tiles skipped ({c[1] / max(c[0], 1):.1%})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
