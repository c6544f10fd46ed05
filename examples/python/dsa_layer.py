#!/usr/bin/env python3
"""A DeepSeek Sparse Attention layer with random weights, run through spattn with PyTorch
tensors, checked against a dense PyTorch model of the same computation (GPU machine).

    SPATTN_LIBRARY=build/libspattn.so python3 examples/python/dsa_layer.py [--quick]

The layer follows DeepSeek V3.2's inference code, on random projections of random hidden
states: the lightning indexer (index_n_heads x index_head_dim, FP8 queries with their
per-row scale folded into the head weights, FP8 keys with a scale per token) scores every
earlier token; each query keeps its index_topk best; MLA in absorbed form (576-dim queries
and latent keys, values = the first 512 dims) attends over them. For a prefill (one causal
sequence) and a decode step (several sequences, one query each), spattn.torch_dsa_layer's
output is compared with the dense model: the same scores computed in float32 by PyTorch,
softmax(q k^T * scale + mask) v with mask = -inf outside the selection. Checks:
  - spattn's selection is a top-k of the model's scores: every selected key scores at least
    the model's k-th best minus a float32-sized margin (ties and near-ties may pick either);
  - with the selection as the mask, the outputs agree to a relative L2 error below 1e-2
    (bf16 inputs and outputs, fp32 accumulation in both);
  - dense attention without the mask differs by much more (the selection matters).
Exits 1 when a check fails.
"""
import argparse
import math
import os
import sys

import torch

try:
    import spattn
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import spattn

REL_L2 = 1e-2
FP8 = torch.float8_e4m3fn


def quantize_rows(x):
    """FP8 E4M3 with one float scale per row (last dim), as act_quant with block = row."""
    amax = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-4)
    scale = amax / 448.0
    return (x / scale).to(FP8), scale.squeeze(-1)


class RandomDsaLayer:
    def __init__(self, dim=1024, heads=16, index_heads=16, index_dim=128, seed=0):
        g = torch.Generator(device="cuda").manual_seed(seed)
        r = lambda *s: torch.randn(*s, device="cuda", generator=g) / math.sqrt(s[0])
        self.heads, self.index_heads, self.index_dim = heads, index_heads, index_dim
        self.wq = r(dim, heads * 576)
        self.wkv = r(dim, 576)
        self.wq_index = r(dim, index_heads * index_dim)
        self.wk_index = r(dim, index_dim)
        self.w_weights = r(dim, index_heads)
        self.softmax_scale = 192 ** -0.5

    def project(self, x):
        """x: [batch, seq, dim] hidden states -> every input of the layer."""
        b, s, _ = x.shape
        q = (x @ self.wq).view(b, s, self.heads, 576).to(torch.bfloat16)
        kv = (x @ self.wkv).view(b, s, 1, 576).to(torch.bfloat16)
        qi = (x @ self.wq_index).view(b, s, self.index_heads, self.index_dim)
        qi8, q_scale = quantize_rows(qi)
        ki8, k_scale = quantize_rows((x @ self.wk_index).view(b, s, 1, self.index_dim))
        weights = (x @ self.w_weights) * self.index_heads ** -0.5 * q_scale * self.index_dim ** -0.5
        return q, kv, qi8, weights.float().contiguous(), ki8, k_scale.view(b, s).contiguous()


def model_scores(qi8, weights, ki8, k_scale, lq):
    """float32 I[b, i, s] = k_scale[s] * sum_h w[i, h] relu(q[i, h] . k[s]) over the causal
    prefix (-inf elsewhere), and the same sum with |w| (the scale of its rounding errors)."""
    q = qi8.float()  # [b, lq, h, d]
    k = ki8.float()[:, :, 0]  # [b, lk, d]
    dots = torch.einsum("bihd,bsd->bihs", q, k).clamp(min=0)
    scores = torch.einsum("bihs,bih->bis", dots, weights) * k_scale[:, None, :]
    magnitude = torch.einsum("bihs,bih->bis", dots, weights.abs()) * k_scale[:, None, :]
    lk = k.shape[1]
    i = torch.arange(lq, device="cuda")[:, None]
    s = torch.arange(lk, device="cuda")[None, :]
    return scores.masked_fill(s > i + lk - lq, float("-inf")), magnitude


def model_attention(q, kv, scale, keep):
    """Dense attention with -inf outside `keep` ([b, lq, lk] bool): [b, lq, heads, 512]."""
    logits = torch.einsum("bihd,bsd->bhis", q.float(), kv.float()[:, :, 0]) * scale
    logits = logits.masked_fill(~keep[:, None], float("-inf"))
    p = torch.softmax(logits, dim=-1).nan_to_num(0.0)
    return torch.einsum("bhis,bsd->bihd", p, kv.float()[:, :, 0, :512])


def run_case(name, layer, batch, lq, lk, topk):
    g = torch.Generator(device="cuda").manual_seed(lq * 31 + lk)
    x = torch.randn(batch, lk, 1024, device="cuda", generator=g)
    q_all, kv, qi8_all, w_all, ki8, k_scale = layer.project(x)
    # The queries are the last lq tokens of each sequence; the caches hold all lk.
    q, qi8, w = q_all[:, -lq:].contiguous(), qi8_all[:, -lq:].contiguous(), w_all[:, -lq:].contiguous()
    seqlens = torch.full((batch,), lk, dtype=torch.int32, device="cuda")
    config = spattn.DsaConfig(index_n_heads=layer.index_heads, index_head_dim=layer.index_dim, index_topk=topk)
    out, sel = spattn.torch_dsa_layer(q, kv, None, qi8, w, ki8, seqlens_kv=seqlens, config=config,
                                      index_k_scales=k_scale, softmax_scale=layer.softmax_scale,
                                      return_indices=True)
    torch.cuda.synchronize()
    ok = True
    scores, magnitude = model_scores(qi8, w, ki8, k_scale, lq)  # [b, lq, lk]
    valid = sel >= 0
    # Empty slots (-1) go to a spare column lk that is dropped afterwards.
    keep = torch.zeros(batch, lq, lk + 1, dtype=torch.bool, device="cuda")
    keep.scatter_(2, torch.where(valid, sel, lk).long(), True)
    keep = keep[..., :lk]
    # A top-k: as many keys as min(topk, prefix), each at least the k-th best minus a margin.
    prefix = torch.clamp(torch.arange(lq, device="cuda") + lk - lq + 1, max=lk)
    want_count = torch.clamp(prefix, max=topk)[None].expand(batch, lq)
    if not torch.equal(valid.sum(-1), want_count):
        print(f"  FAIL {name}: selection sizes differ from min(topk, prefix)")
        ok = False
    kth = scores.topk(topk, dim=-1).values[..., -1:] if lk >= topk else torch.full_like(scores[..., :1], -1e30)
    # fp32 sums of 128-term dot products and of the heads, in two orders: a few 1e-5 of the
    # magnitude each way.
    margin = 1e-4 * magnitude.amax(-1, keepdim=True) + 1e-6
    picked = torch.where(keep, scores, torch.full_like(scores, float("inf")))
    worst = (picked - (kth.nan_to_num(-1e30) - margin)).amin().item()
    if worst < 0:
        print(f"  FAIL {name}: a selected key scores below the k-th best ({worst:.3g})")
        ok = False
    want = model_attention(q, kv, layer.softmax_scale, keep)
    err = ((out.float() - want).norm() / want.norm()).item()
    dense = model_attention(q, kv, layer.softmax_scale, scores > float("-inf"))
    dense_err = ((dense - want).norm() / want.norm()).item()
    print(f"  {name}: rel L2 vs masked dense model {err:.2e} (limit {REL_L2}); "
          f"dense without the mask differs by {dense_err:.2e}")
    if not err < REL_L2:
        print(f"  FAIL {name}: output error {err:.3g}")
        ok = False
    if lk > topk and not dense_err > 10 * err:
        print(f"  FAIL {name}: the selection changes too little for the check to mean anything")
        ok = False
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 1
    print("spattn", spattn.version(), "from", spattn.library_path, "| torch", torch.__version__,
          torch.cuda.get_device_name())
    torch.backends.cuda.matmul.allow_tf32 = False  # the model in true float32
    layer = RandomDsaLayer()
    ok = True
    ok &= run_case("prefill S=1024 topk 128", layer, 1, 1024, 1024, 128)
    ok &= run_case("decode B=4 L=3000 topk 256", layer, 4, 1, 3000, 256)
    if not args.quick:
        ok &= run_case("MTP decode B=2 q=2 L=700 topk 512", layer, 2, 2, 700, 512)
        ok &= run_case("short sequences (indexer skipped) L=100 topk 128", layer, 3, 1, 100, 128)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
