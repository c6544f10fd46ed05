"""Attention: the CPU reference on host buffers, checked against plain Python; launch errors."""
import array
import math
import random
import struct
import unittest

import spattn

from .support import WAN_MINI


def to_f16(values):
    return bytearray(struct.pack("<%de" % len(values), *values))


def from_f16(data):
    return list(struct.unpack("<%de" % (len(data) // 2), bytes(data)))


def naive_attention(q, k, v, sq, skv, heads, d, keys=None):
    """BSHD, batch 1, float64 math, softmax scale 1/sqrt(d), over the keys listed in `keys`
    (default: all)."""
    keys = range(skv) if keys is None else keys
    out = [0.0] * (sq * heads * d)
    scale = 1.0 / math.sqrt(d)
    for h in range(heads):
        for i in range(sq):
            qi = q[(i * heads + h) * d:(i * heads + h + 1) * d]
            logits = {j: scale * sum(a * b for a, b in zip(qi, k[(j * heads + h) * d:(j * heads + h + 1) * d]))
                      for j in keys}
            m = max(logits.values())
            w = {j: math.exp(x - m) for j, x in logits.items()}
            total = sum(w.values())
            for j, wj in w.items():
                base = (j * heads + h) * d
                for c in range(d):
                    out[(i * heads + h) * d + c] += wj / total * v[base + c]
    return out


def second_tile_skipped(q, k, sq, heads, d, lam):
    """The skip rule on one query tile (all sq rows) and two key tiles, in float64: tile 1 is
    skipped for a head when every row's maximum over it is below its maximum over tile 0 by
    more than -ln(lambda). Returns one bool per head."""
    tile = spattn.CONSTANTS["SPATTN_SKIP_TILE_KEYS"]
    scale = 1.0 / math.sqrt(d)
    skipped = []
    for h in range(heads):
        rows = []
        for i in range(sq):
            qi = q[(i * heads + h) * d:(i * heads + h + 1) * d]
            s = [scale * sum(a * b for a, b in zip(qi, k[(j * heads + h) * d:(j * heads + h + 1) * d]))
                 for j in range(2 * tile)]
            rows.append(math.exp(max(s[tile:]) - max(s[:tile])) < lam)
        skipped.append(all(rows))
    return skipped


# fp16 output: the reference accumulates in float64 from float32 logits (|q.k| <= 64 here,
# relative error 2^-24: below 1e-5 in the output) and rounds each output, |x| < 1, to fp16:
# half an ulp, 2^-12.
TOLERANCE = 2.0 ** -12 + 1e-5


class Reference(unittest.TestCase):
    def setUp(self):
        rng = random.Random(5)
        self.sq, self.skv, self.heads, self.d = 8, 256, 2, 64
        rnd = lambda n: [round(rng.uniform(-1, 1), 3) for _ in range(n)]  # noqa: E731
        self.q = from_f16(to_f16(rnd(self.sq * self.heads * self.d)))
        self.k = from_f16(to_f16(rnd(self.skv * self.heads * self.d)))
        self.v = from_f16(to_f16(rnd(self.skv * self.heads * self.d)))

    def run_reference(self, **kwargs):
        out = bytearray(len(self.q) * 2)
        counters = array.array("Q", [0, 0])
        lse = array.array("f", [0.0] * (self.heads * self.sq))
        spattn.attention_reference(to_f16(self.q), bytes(to_f16(self.k)), to_f16(self.v), out,
                                   dtype="float16", batch=1, num_heads=self.heads, head_dim=self.d,
                                   seqlen_q=self.sq, seqlen_kv=self.skv, tile_counters=counters,
                                   lse=lse, **kwargs)
        return from_f16(out), counters, lse

    def worst(self, got, want):
        return max(abs(a - b) for a, b in zip(got, want))

    def test_dense_matches_python(self):
        got, counters, lse = self.run_reference()
        want = naive_attention(self.q, self.k, self.v, self.sq, self.skv, self.heads, self.d)
        self.assertLess(self.worst(got, want), TOLERANCE)
        self.assertEqual(list(counters), [self.heads * 2, 0])  # one query tile x two key tiles per head
        self.assertTrue(all(math.isfinite(x) for x in lse))

    def assert_second_tile_skipped(self, got, counters):
        """The output of a launch that skipped key tile 1 of every head: the counters say so,
        the output is attention over tile 0's keys only, and it is not the dense output."""
        tile = spattn.CONSTANTS["SPATTN_SKIP_TILE_KEYS"]
        self.assertEqual(list(counters), [self.heads * 2, self.heads])
        skip_model = naive_attention(self.q, self.k, self.v, self.sq, self.skv, self.heads, self.d,
                                     keys=range(tile))
        dense = naive_attention(self.q, self.k, self.v, self.sq, self.skv, self.heads, self.d)
        self.assertLess(self.worst(got, skip_model), TOLERANCE)
        self.assertGreater(self.worst(got, dense), 20 * TOLERANCE)

    def test_layer_params_threshold_skips_tiles(self):
        with spattn.Config.parse("algorithm: skip_softmax\nthreshold_scale_factor: 1.0e9\n") as c, \
                spattn.Model.open(WAN_MINI, c) as m:
            layer = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        self.assertTrue(layer.enabled)
        self.assertEqual(layer.threshold_scale_factor, 1.0e9)
        # The inputs are such that the float64 skip rule skips tile 1 for every head.
        self.assertEqual(second_tile_skipped(self.q, self.k, self.sq, self.heads, self.d, 1.0e9 / self.skv),
                         [True] * self.heads)
        got, counters, _ = self.run_reference(layer=layer)
        self.assert_second_tile_skipped(got, counters)

    def test_skip_check_fails_on_a_dense_result(self):
        # The check above must refuse a launch that skipped nothing (the threshold lost).
        got, counters, _ = self.run_reference()
        with self.assertRaises(AssertionError):
            self.assert_second_tile_skipped(got, counters)
        with self.assertRaises(AssertionError):  # right counters, dense output
            self.assert_second_tile_skipped(got, array.array("Q", [self.heads * 2, self.heads]))

    def test_outputs_must_be_writable(self):
        # An immutable bytes object as an output is refused before anything is written.
        out = bytes(len(self.q) * 2)
        for outputs in ({"out": out}, {"out": bytearray(len(out)), "lse": bytes(4 * self.heads * self.sq)},
                        {"out": bytearray(len(out)), "tile_counters": bytes(16)}):
            with self.subTest(list(outputs)):
                args = dict(out=None, lse=None, tile_counters=None)
                args.update(outputs)
                with self.assertRaises(TypeError):
                    spattn.attention_reference(to_f16(self.q), to_f16(self.k), to_f16(self.v), dtype="float16",
                                               batch=1, num_heads=self.heads, head_dim=self.d,
                                               seqlen_q=self.sq, seqlen_kv=self.skv, **args)
        self.assertEqual(out, bytes(len(out)))

    def test_invalid_arguments(self):
        with self.assertRaises(spattn.Error) as ctx:
            spattn.attention_reference(None, None, None, None, dtype="float16", batch=1, num_heads=2,
                                       head_dim=64, seqlen_q=8)
        self.assertEqual(ctx.exception.status, spattn.Status.INVALID_ARGUMENT)
        with self.assertRaisesRegex(ValueError, "dtype: 'int8' is not one of 'float16', 'bfloat16', "
                                                "'float8_e4m3', 'float32'"):
            spattn.attention_reference(None, None, None, None, dtype="int8", batch=1, num_heads=2,
                                       head_dim=64, seqlen_q=8)

    def test_forward_refuses_bad_arguments(self):
        # NULL device pointers: refused before any launch (INVALID_ARGUMENT), or UNSUPPORTED
        # when the library has no CUDA.
        with self.assertRaises(spattn.Error) as ctx:
            spattn.attention_forward(0, 0, 0, 0, dtype=spattn.Dtype.BFLOAT16, batch=1, num_heads=2,
                                     head_dim=64, seqlen_q=8, stream=0)
        self.assertIn(ctx.exception.status, (spattn.Status.INVALID_ARGUMENT,
                                             spattn.Status.UNSUPPORTED))


class TorchHelper(unittest.TestCase):
    def test_torch_attention_when_available(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        if not torch.cuda.is_available():
            self.skipTest("no CUDA device")
        q = torch.randn(1, 256, 2, 64, device="cuda", dtype=torch.bfloat16)
        out = spattn.torch_attention(q, q, q)
        ref = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), q.transpose(1, 2), q.transpose(1, 2)).transpose(1, 2)
        self.assertLess((out.float() - ref.float()).abs().max().item(), 2e-2)

    def test_torch_decode_on_shuffled_pages_when_available(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        if not torch.cuda.is_available():
            self.skipTest("no CUDA device")
        # Two sequences of 5 and 40 keys in pages of 16, the pages in reverse order; GQA 4/2.
        gen = torch.Generator(device="cuda").manual_seed(1)
        lengths, heads, kv_heads, d, page = [5, 40], 4, 2, 64, 16
        keys = [torch.randn(n, kv_heads, d, device="cuda", generator=gen).bfloat16() for n in lengths]
        values = [torch.randn(n, kv_heads, d, device="cuda", generator=gen).bfloat16() for n in lengths]
        k_pool = torch.zeros(4, page, kv_heads, d, device="cuda", dtype=torch.bfloat16)
        v_pool = torch.zeros_like(k_pool)
        block_table = torch.tensor([[3, -1, -1], [2, 1, 0]], dtype=torch.int32, device="cuda")
        for b, n in enumerate(lengths):
            for p in range((n + page - 1) // page):
                rows = slice(p * page, min(n, (p + 1) * page))
                page_id = int(block_table[b, p])
                k_pool[page_id, :rows.stop - rows.start] = keys[b][rows]
                v_pool[page_id, :rows.stop - rows.start] = values[b][rows]
        q = torch.randn(2, 1, heads, d, device="cuda", generator=gen).bfloat16()
        seqlens = torch.tensor(lengths, dtype=torch.int32, device="cuda")
        out = spattn.torch_decode(q, k_pool, v_pool, seqlens, block_table=block_table)
        for b in range(2):
            k = keys[b].float().repeat_interleave(heads // kv_heads, dim=1).transpose(0, 1)[None]
            v = values[b].float().repeat_interleave(heads // kv_heads, dim=1).transpose(0, 1)[None]
            ref = torch.nn.functional.scaled_dot_product_attention(q[b].float().transpose(0, 1)[None], k, v)
            # P (in P.V and perhaps in the row sums) and the output rounded to bf16, whose unit
            # roundoff is 2^-8: at most 3 * 2^-8 of max|v| (one split: no partial results).
            bound = 3 * 2 ** -8 * values[b].float().abs().max().item()
            self.assertLess((out[b].float() - ref[0].transpose(0, 1)).abs().max().item(), bound)

    def test_torch_merge_of_two_key_shards_when_available(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        if not torch.cuda.is_available():
            self.skipTest("no CUDA device")
        gen = torch.Generator(device="cuda").manual_seed(2)
        q, k, v = (torch.randn(1, 256, 2, 64, device="cuda", generator=gen).bfloat16() for _ in range(3))
        parts, lses = [], []
        for keys in (slice(0, 128), slice(128, 256)):
            lse = torch.empty(1, 2, 256, dtype=torch.float32, device="cuda")
            parts.append(spattn.torch_attention(q, k[:, keys], v[:, keys], lse=lse))
            lses.append(lse)
        merged_lse = torch.empty(1, 2, 256, dtype=torch.float32, device="cuda")
        merged = spattn.torch_merge(parts, lses, torch.empty(1, 256, 2, 64, device="cuda"), lse=merged_lse)
        ref = torch.nn.functional.scaled_dot_product_attention(*(t.float().transpose(1, 2) for t in (q, k, v)))
        logits = q.float().transpose(1, 2) @ k.float().transpose(1, 2).transpose(2, 3) / 8
        # Each part: P and the output rounded to bf16 (unit roundoff 2^-8): 3 * 2^-8 of max|v|.
        bound = 3 * 2 ** -8 * v.float().abs().max().item()
        self.assertLess((merged - ref.transpose(1, 2)).abs().max().item(), bound)
        self.assertLess((merged_lse - torch.logsumexp(logits, dim=-1)).abs().max().item(), 1e-3)


if __name__ == "__main__":
    unittest.main()
