"""Video Sparse Attention through the bindings: geometry, the CPU relayout and the CPU
reference against a plain-Python float64 VSA (no torch needed)."""
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


def r16(x):
    return struct.unpack("<e", struct.pack("<e", x))[0]


def cubes_of(grid, cube):
    """For each cube (raster order of cubes), the raster tokens of its valid slots."""
    n = [-(-g // c) for g, c in zip(grid, cube)]
    out = []
    for ct in range(n[0]):
        for ch in range(n[1]):
            for cw in range(n[2]):
                out.append([(t * grid[1] + h) * grid[2] + w
                            for t in range(ct * cube[0], min(grid[0], (ct + 1) * cube[0]))
                            for h in range(ch * cube[1], min(grid[1], (ch + 1) * cube[1]))
                            for w in range(cw * cube[2], min(grid[2], (cw + 1) * cube[2]))])
    return out


def python_vsa(q, k, v, gate, cubes, volume, kept, d):
    """One head; q, k, v, gate: {cube-order token: [d floats]} for valid slots. Returns
    ({token: out row}, selection)."""
    def mean(x, c):
        rows = [x[c * volume + s] for s in range(len(cubes[c]))]
        return [r16(sum(r[i] for r in rows) / len(rows)) for i in range(d)]

    C = len(cubes)
    qm, km, vm = ([mean(x, c) for c in range(C)] for x in (q, k, v))
    scale = 1.0 / math.sqrt(d)
    out, selection = {}, []
    for i in range(C):
        scores = [sum(a * b for a, b in zip(qm[i], km[j])) for j in range(C)]
        kept_cubes = sorted(sorted(range(C), key=lambda j: (-scores[j], j))[:kept])
        selection.append(kept_cubes)
        w = [math.exp(scale * (s - max(scores))) for s in scores]
        coarse = [r16(sum(w[j] * vm[j][c] for j in range(C)) / sum(w)) for c in range(d)]
        keys = [j * volume + s for j in kept_cubes for s in range(len(cubes[j]))]
        for s in range(len(cubes[i])):
            t = i * volume + s
            logits = [scale * sum(a * b for a, b in zip(q[t], k[key])) for key in keys]
            e = [math.exp(x - max(logits)) for x in logits]
            fine = [sum(e[n] * v[key][c] for n, key in enumerate(keys)) / sum(e) for c in range(d)]
            out[t] = [coarse[c] * gate[t][c] + fine[c] for c in range(d)]
    return out, selection


class Vsa(unittest.TestCase):
    grid, cube, d = (1, 3, 4), (1, 2, 2), 64

    def test_geometry(self):
        g = spattn.vsa_geometry((21, 45, 80), (4, 4, 4), 0.9)
        self.assertEqual(g, {"cubes": (6, 12, 20), "num_cubes": 1440, "cube_volume": 64,
                             "padded_tokens": 1440 * 64, "kept_cubes": 144})
        self.assertEqual(spattn.vsa_geometry((1, 1, 10), (1, 1, 1), 0.7)["kept_cubes"], 3)
        with self.assertRaises(spattn.Error) as ctx:
            spattn.vsa_geometry((1, 0, 10), (1, 1, 1), 0.5)
        self.assertIn("args.grid[1] (height) is 0", str(ctx.exception))

    def test_reference_matches_python(self):
        rng = random.Random(3)
        cubes = cubes_of(self.grid, self.cube)
        volume, padded, d = 4, 16, self.d
        # q, k in quarters (means and scores exact in float32 and float64: the same selection).
        q = {t: [rng.randint(-4, 4) / 4 for _ in range(d)] for t in range(padded)}
        k = {t: [rng.randint(-4, 4) / 4 for _ in range(d)] for t in range(padded)}
        v = {t: [r16(rng.uniform(-1, 1)) for _ in range(d)] for t in range(padded)}
        g = {t: [r16(rng.uniform(0, 2)) for _ in range(d)] for t in range(padded)}
        valid = {c * volume + s for c in range(len(cubes)) for s in range(len(cubes[c]))}
        flat = lambda x: to_f16([x[t][c] if t in valid else 0.0 for t in range(padded) for c in range(d)])  # noqa: E731
        out = bytearray(padded * d * 2)
        lse = array.array("f", [0.0] * padded)
        sel = array.array("i", [-1] * (len(cubes) * 2))
        spattn.vsa_reference(flat(q), flat(k), flat(v), flat(g), out, dtype="float16", batch=1, num_heads=1,
                             head_dim=d, grid=self.grid, cube_shape=self.cube, sparsity=0.5, lse=lse,
                             selected_cubes=sel)
        want, selection = python_vsa(q, k, v, g, cubes, volume, 2, d)
        self.assertEqual([list(sel[2 * i:2 * i + 2]) for i in range(len(cubes))], selection)
        got = from_f16(out)
        for t in range(padded):
            row = got[t * d:(t + 1) * d]
            if t not in valid:
                self.assertEqual(row, [0.0] * d, "pad row %d" % t)
                self.assertEqual(lse[t], -math.inf)
                continue
            for c in range(d):
                self.assertLess(abs(row[c] - want[t][c]), 4 * 2 ** -11 * (abs(want[t][c]) + 2) + 1e-6, (t, c))

    def test_relayout_round_trip(self):
        raster = to_f16([float(t + 1) for t in range(12) for _ in range(8)])
        cubes = bytearray(16 * 8 * 2)
        spattn.vsa_relayout_reference(raster, cubes, spattn.VsaDirection.VSA_TO_CUBES, dtype="float16", batch=1,
                                      num_heads=1, head_dim=8, grid=self.grid, cube_shape=self.cube)
        # 3 x 4 tokens in 2x2 tiles: rows 0-1 make two full tiles, row 2 two half tiles.
        want = [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, -1, -1, 10, 11, -1, -1]
        self.assertEqual(from_f16(cubes)[::8], [float(t + 1) for t in want])
        back = bytearray(len(raster))
        spattn.vsa_relayout_reference(cubes, back, "vsa_to_raster", dtype="float16", batch=1, num_heads=1,
                                      head_dim=8, grid=self.grid, cube_shape=self.cube)
        self.assertEqual(back, raster)
        with self.assertRaisesRegex(ValueError, "direction: 'sideways' is not one of 'vsa_to_cubes', 'vsa_to_raster'"):
            spattn.vsa_relayout_reference(raster, cubes, "sideways", dtype="float16", batch=1, num_heads=1,
                                          head_dim=8, grid=self.grid, cube_shape=self.cube)
        with self.assertRaises(spattn.Error) as ctx:  # the library's own check: a grid of 0 rows
            spattn.vsa_relayout_reference(raster, cubes, "vsa_to_cubes", dtype="float16", batch=1, num_heads=1,
                                          head_dim=8, grid=(1, 0, 4), cube_shape=self.cube)
        self.assertEqual(ctx.exception.status, spattn.Status.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
