#!/usr/bin/env python3
"""RocketKV on one attention layer with random weights, through the spattn torch helpers.

A batch of two prompts (5000 and 1500 tokens; the second is shorter than the
budget and keeps every token) goes through the layer's projections and RoPE;
the keys and values fill a KV cache and the caller's dense prefill runs
(PyTorch SDPA). Then RocketKV's context phase (spattn_rocket_context)
compresses the cache to the prompt budget in place and builds the KT cache,
and 32 decode steps follow (spattn_rocket_decode): each appends the new
token's key and value, and spattn updates the KT cache, selects the pages and
attends to them.

Every phase is checked against a PyTorch model of the same rule (spattn.h,
"RocketKV"), in float64: the kept positions and the KT cache bytes after the
context phase, and at every step the KT cache, the selected tokens and the
output. Selections must agree exactly, except where the model's own scores
at the cut are closer than 1e-4 (relative), where float32 rounding may
decide either way (counted and reported). The output is compared with the
model's attention over spattn's selected tokens (relative L2 error below
2^-6: bf16 probabilities and output).

usage: SPATTN_LIBRARY=/path/to/libspattn.so python3 examples/python/rocket_layer.py
"""
import math
import sys

import torch

import spattn

HIDDEN, HEADS, KV_HEADS, DIM = 2048, 16, 4, 128
GROUP = HEADS // KV_HEADS
PROMPTS = [5000, 1500]
STEPS = 32
CONFIG = """sparse_attention_config:
  algorithm: rocket
  prompt_budget: 2048
  window_size: 32
  kernel_size: 63
  topk: 64
  page_size: 4
  topr: 96
  kt_cache_dtype: float8_e5m2
"""
NEAR_TIE = 1e-4

failures = []
near_ties = 0


def fail(message):
    failures.append(message)
    print("FAIL:", message, flush=True)


def rope(x, positions):
    """Rotary embedding (theta 10000, halves rotated) of x [..., tokens, heads, DIM] at `positions`."""
    half = DIM // 2
    freq = 10000.0 ** (-torch.arange(half, device=x.device, dtype=torch.float64) / half)
    angle = positions.to(torch.float64)[:, None] * freq[None, :]
    cos, sin = angle.cos()[:, None, :], angle.sin()[:, None, :]
    a, b = x[..., :half].double(), x[..., half:].double()
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1).to(x.dtype)


class Layer:
    def __init__(self, gen):
        s = 1.0 / math.sqrt(HIDDEN)
        self.wq = (torch.randn(HIDDEN, HEADS * DIM, device="cuda", generator=gen) * s).bfloat16()
        self.wk = (torch.randn(HIDDEN, KV_HEADS * DIM, device="cuda", generator=gen) * s).bfloat16()
        self.wv = (torch.randn(HIDDEN, KV_HEADS * DIM, device="cuda", generator=gen) * s).bfloat16()

    def qkv(self, x, positions):
        """x [tokens, HIDDEN] -> q [tokens, HEADS, DIM], k, v [tokens, KV_HEADS, DIM] (bf16, RoPE on q, k)."""
        q = (x @ self.wq).view(-1, HEADS, DIM)
        k = (x @ self.wk).view(-1, KV_HEADS, DIM)
        v = (x @ self.wv).view(-1, KV_HEADS, DIM)
        return rope(q, positions), rope(k, positions), v


def top_k_ascending(scores, k):
    """The k best of a float64 vector (ties: lower index first), in increasing order, and the relative gap
    at the cut (inf when nothing is cut off)."""
    order = torch.sort(scores, descending=True, stable=True).indices
    k = min(k, scores.numel())
    gap = math.inf
    if k < scores.numel():
        a, b = scores[order[k - 1]].item(), scores[order[k]].item()
        gap = (a - b) / max(abs(a), 1e-300)
    return torch.sort(order[:k]).values, gap


def same_selection(got, want, gap, what):
    global near_ties
    if torch.equal(got, want):
        return
    if gap < NEAR_TIE:
        near_ties += 1
        return
    fail(f"{what}: selection differs ({(got != want).sum().item()} positions) with a clear cut (gap {gap:.2e})")


def model_kept(q_window, keys, cfg, scale):
    """The context rule for one sequence and KV head: q_window [W, GROUP, DIM], keys [L, DIM] (float64)."""
    W, B = cfg.window_size, cfg.prompt_budget
    L = keys.shape[0]
    if L < B:
        return torch.arange(L, device=keys.device), math.inf
    prefix = L - W
    logits = scale * torch.einsum("whd,jd->whj", q_window, keys[:prefix])
    sums = torch.softmax(logits, dim=-1).sum(dim=(0, 1))
    pooled = torch.nn.functional.max_pool1d(sums[None, None], cfg.kernel_size, stride=1,
                                            padding=cfg.kernel_size // 2)[0, 0, :prefix]
    top, gap = top_k_ascending(pooled, B - W)
    return torch.cat([top, torch.arange(prefix, L, device=keys.device)]), gap


def kt_entries(keys, page):
    """Min and max of each page of keys [L, DIM] (float64), as E5M2 bytes [entries, 2 * DIM]."""
    n = math.ceil(keys.shape[0] / page)
    padded = torch.full((n * page, DIM), math.nan, dtype=torch.float64, device=keys.device)
    padded[:keys.shape[0]] = keys
    pages = padded.view(n, page, DIM)
    lo = torch.where(pages.isnan(), math.inf, pages).amin(1)
    hi = torch.where(pages.isnan(), -math.inf, pages).amax(1)
    return torch.cat([lo, hi], dim=-1).float().to(torch.float8_e5m2).view(torch.uint8)


def model_step(q, keys, kt_row_values, cfg, scale, topr):
    """The decode rule for one sequence and KV head: q [GROUP, DIM], keys [L, DIM] (float64, the new key
    last), KT values [entries, 2 * DIM] (float64, updated). Returns the selected tokens and the gap."""
    L = keys.shape[0]
    mass = q.abs().sum(0)
    dims, _ = top_k_ascending(mass, topr)
    qm = torch.zeros_like(q)
    qm[:, dims] = q[:, dims]
    lo, hi = kt_row_values[:, :DIM], kt_row_values[:, DIM:]
    bound = scale * torch.maximum(qm[:, None, :] * lo[None], qm[:, None, :] * hi[None]).sum(-1)  # [GROUP, n]
    mean = torch.softmax(bound, dim=-1).mean(0)
    top, gap = top_k_ascending(mean, cfg.topk)
    tokens = (top[:, None] * cfg.page_size + torch.arange(cfg.page_size, device=q.device)[None]).flatten()
    return tokens[tokens < L], gap


def main():
    torch.manual_seed(0)
    gen = torch.Generator(device="cuda")
    gen.manual_seed(0)
    with spattn.Config.parse(CONFIG) as config:
        cfg = config.rocket()
        layer = Layer(gen)
        scale = 1.0 / math.sqrt(DIM)
        batch, capacity = len(PROMPTS), max(PROMPTS) + STEPS
        k_cache = torch.zeros(batch, capacity, KV_HEADS, DIM, dtype=torch.bfloat16, device="cuda")
        v_cache = torch.zeros_like(k_cache)
        kt_cache = torch.zeros(batch, math.ceil(capacity / cfg.page_size), KV_HEADS, 2 * DIM, dtype=torch.uint8,
                               device="cuda")
        seqlens = torch.tensor(PROMPTS, dtype=torch.int32, device="cuda")
        # Prefill: projections, the cache, the caller's dense attention.
        q_window = torch.zeros(batch, cfg.window_size, HEADS, DIM, dtype=torch.bfloat16, device="cuda")
        for b, L in enumerate(PROMPTS):
            x = torch.randn(L, HIDDEN, device="cuda", generator=gen).bfloat16()
            q, k, v = layer.qkv(x, torch.arange(L, device="cuda"))
            k_cache[b, :L], v_cache[b, :L] = k, v
            torch.nn.functional.scaled_dot_product_attention(
                q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], is_causal=True,
                enable_gqa=True)
            if L >= cfg.window_size:
                q_window[b] = q[L - cfg.window_size:]
        original = k_cache.double().clone()
        kept = spattn.torch_rocket_context(q_window, k_cache, v_cache, kt_cache, seqlens, config, seqlens_out=seqlens)
        torch.cuda.synchronize()
        for b, L in enumerate(PROMPTS):
            L2 = min(L, cfg.prompt_budget)
            if seqlens[b].item() != L2:
                fail(f"sequence {b}: length {seqlens[b].item()} after the context phase, want {L2}")
            for g in range(KV_HEADS):
                qw = q_window[b, :, g * GROUP:(g + 1) * GROUP].double()
                want, gap = model_kept(qw, original[b, :L, g], cfg, scale)
                same_selection(kept[b, g, :L2].long(), want, gap, f"kept positions, sequence {b}, KV head {g}")
                got = kept[b, g, :L2].long()
                if not torch.equal(k_cache[b, :L2, g].double(), original[b, got, g]):
                    fail(f"sequence {b}, KV head {g}: the compacted keys are not the kept ones")
                want_kt = kt_entries(k_cache[b, :L2, g].double(), cfg.page_size)
                if not torch.equal(kt_cache[b, :want_kt.shape[0], g], want_kt):
                    fail(f"sequence {b}, KV head {g}: KT cache after the context phase")
        print(f"context phase: kept {cfg.prompt_budget} of {PROMPTS[0]} tokens (and all {PROMPTS[1]} of the "
              f"short prompt), KT cache built", flush=True)
        # Decode.
        topr = int(cfg.topr) if cfg.topr >= 1 else max(1, int(cfg.topr * DIM))
        worst = 0.0
        for step in range(STEPS):
            x = torch.randn(batch, HIDDEN, device="cuda", generator=gen).bfloat16()
            positions = torch.tensor(PROMPTS, device="cuda") + step
            q = torch.empty(batch, 1, HEADS, DIM, dtype=torch.bfloat16, device="cuda")
            for b in range(batch):
                qb, kb, vb = layer.qkv(x[b:b + 1], positions[b:b + 1])
                slot = seqlens[b].item()
                k_cache[b, slot], v_cache[b, slot] = kb[0], vb[0]
                q[b, 0] = qb[0]
            seqlens += 1
            kt_before = kt_cache.clone()
            out, selected = spattn.torch_rocket_decode(q, k_cache, v_cache, kt_cache, seqlens, config)
            torch.cuda.synchronize()
            for b in range(batch):
                L = seqlens[b].item()
                e = (L - 1) // cfg.page_size
                for g in range(KV_HEADS):
                    keys = k_cache[b, :L, g].double()
                    # KT update: the new key's entry widened (fresh when it starts a page)
                    lohi = kt_before[b, e, g].view(torch.float8_e5m2).double()
                    new = keys[L - 1]
                    if (L - 1) % cfg.page_size == 0:
                        lohi = torch.cat([new, new])
                    else:
                        lohi = torch.cat([torch.minimum(lohi[:DIM], new), torch.maximum(lohi[DIM:], new)])
                    if not torch.equal(kt_cache[b, e, g], lohi.float().to(torch.float8_e5m2).view(torch.uint8)):
                        fail(f"step {step}, sequence {b}, KV head {g}: KT update")
                    n = math.ceil(L / cfg.page_size)
                    kt_values = kt_cache[b, :n, g].view(torch.float8_e5m2).double()
                    qg = q[b, 0, g * GROUP:(g + 1) * GROUP].double()
                    want, gap = model_step(qg, keys, kt_values, cfg, scale, topr)
                    got = selected[b, g][selected[b, g] >= 0].long()
                    same_selection(got, want, gap, f"step {step}, sequence {b}, KV head {g}")
                    # attention over spattn's selection
                    p = torch.softmax(scale * qg @ keys[got].T, dim=-1)
                    ref = p @ v_cache[b, got, g].double()
                    err = ((out[b, 0, g * GROUP:(g + 1) * GROUP].double() - ref).norm() / ref.norm()).item()
                    worst = max(worst, err)
                    if err > 2.0 ** -6:
                        fail(f"step {step}, sequence {b}, KV head {g}: output rel. error {err:.2e}")
        print(f"{STEPS} decode steps: worst output rel. L2 error {worst:.2e}; selections decided by near ties: "
              f"{near_ties}", flush=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
