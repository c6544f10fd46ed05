#!/usr/bin/env python3
"""Decode attention on a paged KV cache built from PyTorch tensors, checked against PyTorch SDPA
(GPU machine).

    SPATTN_LIBRARY=build/libspattn.so python3 examples/python/decode_attention.py

Each case writes the keys and values of a batch of sequences of very different lengths (not
multiples of the page) into page pools [num_pages, page_size, kv_heads, head_dim] whose pages
are handed out in shuffled order (a block table of int32 page ids, -1 past each sequence's last
page; spare pages and the slots past each sequence's end hold large finite noise that a wrong
mask would pick up), then runs one decode step with spattn.torch_decode: 1 query per sequence,
or 4 (speculative decoding, causal, bottom-right aligned). KV caches are bf16, fp16, or FP8
E4M3 with per-tensor scales; one case is a contiguous cache, one has an empty sequence.

The reference is torch.nn.functional.scaled_dot_product_attention in float32 on each
sequence's own keys (the FP8 ones dequantized: stored * scale in float32), with the
query heads of a KV head sharing it (GQA). Checks, per case:
  - output: max |spattn - SDPA| <= 2^-6 * max|v| of the case. With u = 2^-8, the unit
    roundoff of bf16 (fp16: 2^-11), the kernel's P rounded to 16 bits before P.V costs at most
    u * max|v| (2u if the row sums take the rounded P too), a split's partial result and the
    output rounded to 16 bits u * max|v| each: 4u = 2^-6 in all.
  - LSE (natural log): within 2e-3 of torch.logsumexp of the float32 logits (float32 sums of
    exp of logits of magnitude < 30).
  - a sequence with no keys: zero output and LSE -inf.
Prints one line per case and "N passed, M failed"; exits 1 when any check fails (or without
a CUDA device).
"""
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

OUT_TOLERANCE = 2.0 ** -6  # times max|v|: four bf16 roundings (see above)
LSE_TOLERANCE = 2e-3
FP8_MAX = 448.0

# name, lengths (one per sequence), queries per sequence, query heads, KV heads, head dim,
# page size (None: contiguous cache), KV dtype
CASES = [
    ("bf16 page 16, GQA 32/8", [1, 37, 1000, 4133], 1, 32, 8, 128, 16, "bf16"),
    ("bf16 page 64, 4 queries causal", [5, 300, 2049], 4, 32, 8, 128, 64, "bf16"),
    ("fp16 page 32, MQA 16/1, dim 64", [129, 7000], 1, 16, 1, 64, 32, "fp16"),
    ("fp8 page 16, GQA 32/8", [1, 37, 1000, 4133], 1, 32, 8, 128, 16, "fp8"),
    ("fp8 page 128, 4 queries causal", [700, 20000], 4, 64, 8, 128, 128, "fp8"),
    ("bf16 contiguous, 32k keys", [32768, 100], 1, 64, 8, 128, None, "bf16"),
    ("bf16 page 128, an empty sequence", [0, 513], 1, 8, 8, 128, 128, "bf16"),
]


def quantize_fp8(x):
    """(stored float8_e4m3fn, scale, dequantized float32) with one per-tensor scale."""
    scale = x.abs().max().item() / FP8_MAX
    stored = (x / scale).to(torch.float8_e4m3fn)
    return stored, scale, stored.float() * scale


def build_cache(keys, values, page_size, kv_dtype, gen):
    """The caller's cache from per-sequence float32 keys/values [L, kv_heads, dim]: (k, v,
    block_table or None, k_scale, v_scale, the dequantized keys and values per sequence)."""
    kv_heads, dim = keys[0].shape[1], keys[0].shape[2]
    lengths = [k.shape[0] for k in keys]
    torch_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(kv_dtype)
    if kv_dtype == "fp8":
        k_stored, k_scale, _ = quantize_fp8(torch.cat(keys))
        v_stored, v_scale, _ = quantize_fp8(torch.cat(values))
        split = lambda t: list(torch.split(t, lengths))  # noqa: E731
        k_seqs, v_seqs = split(k_stored), split(v_stored)
    else:
        k_scale = v_scale = 0.0
        k_seqs = [k.to(torch_dtype) for k in keys]
        v_seqs = [v.to(torch_dtype) for v in values]
    dequant_k = [k.float() * (k_scale or 1.0) for k in k_seqs]
    dequant_v = [v.float() * (v_scale or 1.0) for v in v_seqs]
    store_dtype = k_seqs[0].dtype

    def noise(shape):  # large but finite in every cache dtype (FP8 E4M3 tops out at 448)
        return (torch.randn(shape, device="cuda", generator=gen).clamp(-4, 4) * 100).to(store_dtype)

    if page_size is None:
        longest = max(lengths)
        k = noise((len(keys), longest, kv_heads, dim))
        v = noise((len(keys), longest, kv_heads, dim))
        for b, length in enumerate(lengths):
            k[b, :length], v[b, :length] = k_seqs[b], v_seqs[b]
        return k, v, None, k_scale, v_scale, dequant_k, dequant_v
    pages = [math.ceil(length / page_size) for length in lengths]
    num_pages = sum(pages) + 3  # spare pages, never listed
    order = torch.randperm(num_pages, device="cuda", generator=gen)
    k = noise((num_pages, page_size, kv_heads, dim))
    v = noise((num_pages, page_size, kv_heads, dim))
    block_table = torch.full((len(keys), max(max(pages), 1)), -1, dtype=torch.int32, device="cuda")
    next_page = 0
    for b, length in enumerate(lengths):
        for p in range(pages[b]):
            page = int(order[next_page])
            next_page += 1
            block_table[b, p] = page
            rows = slice(p * page_size, min(length, (p + 1) * page_size))
            count = rows.stop - rows.start
            k[page, :count], v[page, :count] = k_seqs[b][rows], v_seqs[b][rows]
    return k, v, block_table, k_scale, v_scale, dequant_k, dequant_v


def sdpa_reference(q, k, v, causal):
    """SDPA in float32 for one sequence: q [Sq, H, D], k/v [L, KVH, D] -> out [Sq, H, D], LSE [H, Sq]."""
    sq, heads, dim = q.shape
    length, group = k.shape[0], heads // k.shape[1]
    if length == 0:
        return torch.zeros_like(q), torch.full((heads, sq), -math.inf, device=q.device)
    qh = q.permute(1, 0, 2)  # [H, Sq, D]
    kh = k.repeat_interleave(group, dim=1).permute(1, 0, 2)  # [H, L, D]
    vh = v.repeat_interleave(group, dim=1).permute(1, 0, 2)
    mask = None
    if causal:  # query i sees keys j <= i + L - Sq
        i = torch.arange(sq, device=q.device)[:, None]
        j = torch.arange(length, device=q.device)[None, :]
        mask = j <= i + length - sq
    out = F.scaled_dot_product_attention(qh[None], kh[None], vh[None], attn_mask=mask)[0]
    logits = qh @ kh.transpose(1, 2) / math.sqrt(dim)
    if mask is not None:
        logits = logits.masked_fill(~mask, -math.inf)
    return out.permute(1, 0, 2), torch.logsumexp(logits, dim=-1)


def run_case(name, lengths, seqlen_q, heads, kv_heads, dim, page_size, kv_dtype, seed):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    q_dtype = torch.float16 if kv_dtype == "fp16" else torch.bfloat16
    batch = len(lengths)
    keys = [torch.randn(length, kv_heads, dim, device="cuda", generator=gen) for length in lengths]
    values = [torch.randn(length, kv_heads, dim, device="cuda", generator=gen) for length in lengths]
    q = torch.randn(batch, seqlen_q, heads, dim, device="cuda", generator=gen).to(q_dtype)
    k, v, block_table, k_scale, v_scale, dk, dv = build_cache(keys, values, page_size, kv_dtype, gen)
    seqlens = torch.tensor(lengths, dtype=torch.int32, device="cuda")
    lse = torch.empty(batch, heads, seqlen_q, dtype=torch.float32, device="cuda")
    causal = seqlen_q > 1
    out = spattn.torch_decode(q, k, v, seqlens, block_table=block_table, k_scale=k_scale, v_scale=v_scale,
                              causal=causal, lse=lse)
    torch.cuda.synchronize()
    vmax = max((x.abs().max().item() for x in dv if x.numel()), default=1.0)
    out_err, lse_err, problems = 0.0, 0.0, []
    for b in range(batch):
        ref_out, ref_lse = sdpa_reference(q[b].float(), dk[b], dv[b], causal)
        got_out, got_lse = out[b].float(), lse[b]
        if lengths[b] == 0:
            if got_out.abs().max().item() != 0 or not bool((got_lse == -math.inf).all()):
                problems.append("sequence %d has no keys: want zeros and LSE -inf" % b)
            continue
        out_err = max(out_err, (got_out - ref_out).abs().max().item())
        lse_err = max(lse_err, (got_lse - ref_lse).abs().max().item())
    if not bool(torch.isfinite(out.float()).all()):
        problems.append("non-finite output")
    if out_err > OUT_TOLERANCE * vmax:
        problems.append("output off by %.3g > %.3g" % (out_err, OUT_TOLERANCE * vmax))
    if lse_err > LSE_TOLERANCE:
        problems.append("LSE off by %.3g > %.3g" % (lse_err, LSE_TOLERANCE))
    layout = "contiguous" if page_size is None else "page %d" % page_size
    print("%-34s %-10s lengths %-24s max|out-SDPA| %.2e (<= %.2e)  max|lse-ref| %.2e  %s" % (
        name, layout, ",".join(map(str, lengths)), out_err, OUT_TOLERANCE * vmax, lse_err,
        "ok" if not problems else "FAIL: " + "; ".join(problems)))
    return not problems


def main():
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    print("spattn %s (%s), torch %s, %s" % (spattn.version(), spattn.library_path, torch.__version__,
                                            torch.cuda.get_device_name()))
    results = []
    for seed, case in enumerate(CASES):
        try:
            results.append(run_case(*case, seed=seed))
        except spattn.Error as e:
            print("%-34s FAIL: %s" % (case[0], e))
            results.append(False)
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
