"""Attention: the CPU reference on host buffers, checked against plain Python; launch errors."""
import array
import math
import random
import struct
import unittest

import spattn


def to_f16(values):
    return bytearray(struct.pack("<%de" % len(values), *values))


def from_f16(data):
    return list(struct.unpack("<%de" % (len(data) // 2), bytes(data)))


def naive_attention(q, k, v, sq, skv, heads, d):
    """BSHD, batch 1, float math; softmax scale 1/sqrt(d)."""
    out = [0.0] * (sq * heads * d)
    scale = 1.0 / math.sqrt(d)
    for h in range(heads):
        for i in range(sq):
            qi = q[(i * heads + h) * d:(i * heads + h + 1) * d]
            logits = []
            for j in range(skv):
                kj = k[(j * heads + h) * d:(j * heads + h + 1) * d]
                logits.append(scale * sum(a * b for a, b in zip(qi, kj)))
            m = max(logits)
            w = [math.exp(x - m) for x in logits]
            total = sum(w)
            for j in range(skv):
                base = (j * heads + h) * d
                for c in range(d):
                    out[(i * heads + h) * d + c] += w[j] / total * v[base + c]
    return out


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

    def test_dense_matches_python(self):
        got, counters, lse = self.run_reference()
        want = naive_attention(self.q, self.k, self.v, self.sq, self.skv, self.heads, self.d)
        worst = max(abs(a - b) for a, b in zip(got, want))
        self.assertLess(worst, 2e-3)
        self.assertEqual(counters[0], self.heads * 2)  # one query tile x two key tiles per head
        self.assertEqual(counters[1], 0)
        self.assertTrue(all(math.isfinite(x) for x in lse))

    def test_layer_params_threshold_counts_tiles(self):
        with spattn.Config.parse("algorithm: skip_softmax\nthreshold_scale_factor: 1.0e9\n") as c, \
                spattn.Model.open(spattn_wan(), c) as m:
            layer = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        self.assertTrue(layer.enabled)
        got, counters, _ = self.run_reference(layer=layer)
        self.assertEqual(counters[0], self.heads * 2)
        self.assertLessEqual(counters[1], counters[0])
        self.assertTrue(all(math.isfinite(x) for x in got))

    def test_invalid_arguments(self):
        with self.assertRaises(spattn.Error) as ctx:
            spattn.attention_reference(None, None, None, None, dtype="float16", batch=1, num_heads=2,
                                       head_dim=64, seqlen_q=8)
        self.assertEqual(ctx.exception.status, spattn.Status.SPATTN_ERR_INVALID_ARGUMENT)
        with self.assertRaises(spattn.Error):
            spattn.attention_reference(None, None, None, None, dtype="float32", batch=1, num_heads=2,
                                       head_dim=64, seqlen_q=8)

    def test_forward_refuses_bad_arguments(self):
        # NULL device pointers: refused before any launch (INVALID_ARGUMENT), or UNSUPPORTED
        # when the library has no CUDA.
        with self.assertRaises(spattn.Error) as ctx:
            spattn.attention_forward(0, 0, 0, 0, dtype="bfloat16", batch=1, num_heads=2, head_dim=64,
                                     seqlen_q=8, stream=0)
        self.assertIn(ctx.exception.status, (spattn.Status.SPATTN_ERR_INVALID_ARGUMENT,
                                             spattn.Status.SPATTN_ERR_UNSUPPORTED))


def spattn_wan():
    from support import WAN_MINI
    return WAN_MINI


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


if __name__ == "__main__":
    unittest.main()
