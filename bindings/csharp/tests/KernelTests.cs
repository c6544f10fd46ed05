// The kernel entry points of the C# bindings through their CPU references (no GPU needed):
// decode on a paged KV cache, the split rule, merge, VSA, index-sparse attention, top-k and a
// RocketKV decode step, each against a float64 model or hand-computed values. Part of
// SpattnTests.exe (its Main runs them).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Spattn;

static class KernelTests
{
    // The CPU references compute in float64 and round each bf16 output once: at most half an
    // ulp, 2^-8 of |x| (bf16 keeps 8 significant bits), and |x| <= max|v| for an attention output.
    const double Bf16Out = 1.0 / 256;

    static void Check(bool condition, string what) { SpattnTests.Check(condition, what); }

    // Pins arrays for the duration of a test: Of(array) is its address.
    sealed class Pins : IDisposable
    {
        readonly List<GCHandle> handles = new List<GCHandle>();

        public IntPtr Of(Array array)
        {
            var h = GCHandle.Alloc(array, GCHandleType.Pinned);
            handles.Add(h);
            return h.AddrOfPinnedObject();
        }

        public void Dispose() { foreach (var h in handles) h.Free(); }
    }

    sealed class Rng
    {
        readonly Random random;
        public Rng(int seed) { random = new Random(seed); }
        public ushort[] Bf16s(int n)
        {
            var a = new ushort[n];
            for (int i = 0; i < n; i++) a[i] = SpattnTests.ToBf16((float)(random.NextDouble() * 2 - 1));
            return a;
        }
    }

    static double[] Row(ushort[] data, int offset, int dim)
    {
        var r = new double[dim];
        for (int c = 0; c < dim; c++) r[c] = SpattnTests.FromBf16(data[offset + c]);
        return r;
    }

    static double MaxAbs(ushort[] data)
    {
        double m = 0;
        foreach (var h in data) m = Math.Max(m, Math.Abs(SpattnTests.FromBf16(h)));
        return m;
    }

    // Softmax attention of one query row over (key, value) rows in float64, scale 1/sqrt(dim).
    static double[] Attend(double[] q, List<double[]> keys, List<double[]> values, out double lse)
    {
        double scale = 1.0 / Math.Sqrt(q.Length), m = double.NegativeInfinity, total = 0;
        var logits = new double[keys.Count];
        for (int j = 0; j < keys.Count; j++)
        {
            double dot = 0;
            for (int c = 0; c < q.Length; c++) dot += q[c] * keys[j][c];
            logits[j] = scale * dot;
            m = Math.Max(m, logits[j]);
        }
        var outRow = new double[values[0].Length];
        for (int j = 0; j < keys.Count; j++) total += Math.Exp(logits[j] - m);
        for (int j = 0; j < keys.Count; j++)
            for (int c = 0; c < outRow.Length; c++) outRow[c] += Math.Exp(logits[j] - m) / total * values[j][c];
        lse = m + Math.Log(total);
        return outRow;
    }

    static double Worst(double[] got, double[] want)
    {
        double w = 0;
        for (int c = 0; c < got.Length; c++) w = Math.Max(w, Math.Abs(got[c] - want[c]));
        return w;
    }

    static KvCache Contiguous(IntPtr k, IntPtr v, IntPtr seqlens, int maxLen, int heads, int dim)
    {
        var strides = new long[] { maxLen * heads * dim, heads * dim, dim };
        return new KvCache
        {
            Layout = KvLayout.Contiguous, Dtype = Dtype.Bfloat16, NumKvHeads = heads, HeadDim = dim, K = k, V = v,
            KStrides = strides, VStrides = strides, SeqlensKv = seqlens, MaxSeqlenKv = maxLen,
        };
    }

    // Two sequences of 20 and 37 keys in pages of 16 handed out of order (page 3 spare), GQA 4 on
    // 2 KV heads, 2 queries per sequence, causal (bottom-right).
    public static void DecodeReference()
    {
        const int heads = 4, kvHeads = 2, dim = 64, page = 16, sq = 2;
        int[] lengths = { 20, 37 };
        int[] blockTable = { 4, 1, -1, 5, 0, 2 };
        var rng = new Rng(7);
        var kPool = new ushort[6 * page * kvHeads * dim];
        var vPool = new ushort[kPool.Length];
        for (int i = 0; i < kPool.Length; i++) kPool[i] = vPool[i] = SpattnTests.ToBf16(100); // never attended
        var keys = new ushort[2][];
        var values = new ushort[2][];
        for (int b = 0; b < 2; b++)
        {
            keys[b] = rng.Bf16s(lengths[b] * kvHeads * dim);
            values[b] = rng.Bf16s(lengths[b] * kvHeads * dim);
            for (int t = 0; t < lengths[b]; t++)
            {
                int slot = (blockTable[b * 3 + t / page] * page + t % page) * kvHeads * dim;
                Array.Copy(keys[b], t * kvHeads * dim, kPool, slot, kvHeads * dim);
                Array.Copy(values[b], t * kvHeads * dim, vPool, slot, kvHeads * dim);
            }
        }
        var q = rng.Bf16s(2 * sq * heads * dim);
        var o = new ushort[q.Length];
        var lse = new float[2 * heads * sq];
        using (var pins = new Pins())
        {
            var cache = new KvCache
            {
                Layout = KvLayout.Paged, Dtype = Dtype.Bfloat16, NumKvHeads = kvHeads, HeadDim = dim,
                K = pins.Of(kPool), V = pins.Of(vPool),
                KStrides = new long[] { page * kvHeads * dim, kvHeads * dim, dim },
                VStrides = new long[] { page * kvHeads * dim, kvHeads * dim, dim },
                SeqlensKv = pins.Of(lengths), MaxSeqlenKv = 48, PageSize = page, NumPages = 6,
                BlockTable = pins.Of(blockTable), MaxPagesPerSeq = 3,
            };
            var args = new DecodeArgs
            {
                Dtype = Dtype.Bfloat16, Batch = 2, NumHeads = heads, SeqlenQ = sq, Q = pins.Of(q), Out = pins.Of(o),
                QStrides = new long[] { sq * heads * dim, heads * dim, dim }, OutStrides = new long[] { sq * heads * dim, heads * dim, dim },
                KvCache = cache, Causal = true, Lse = pins.Of(lse),
            };
            Decode.Reference(args);
            double vmax = Math.Max(MaxAbs(values[0]), MaxAbs(values[1])), worst = 0, worstLse = 0;
            for (int b = 0; b < 2; b++)
                for (int i = 0; i < sq; i++)
                    for (int h = 0; h < heads; h++)
                    {
                        int g = h / (heads / kvHeads);
                        var ks = new List<double[]>();
                        var vs = new List<double[]>();
                        for (int j = 0; j <= i + lengths[b] - sq; j++)
                        {
                            ks.Add(Row(keys[b], (j * kvHeads + g) * dim, dim));
                            vs.Add(Row(values[b], (j * kvHeads + g) * dim, dim));
                        }
                        double wantLse;
                        var want = Attend(Row(q, ((b * sq + i) * heads + h) * dim, dim), ks, vs, out wantLse);
                        worst = Math.Max(worst, Worst(Row(o, ((b * sq + i) * heads + h) * dim, dim), want));
                        worstLse = Math.Max(worstLse, Math.Abs(lse[(b * heads + h) * sq + i] - wantLse));
                    }
            Check(worst <= Bf16Out * vmax, "decode vs float64: " + worst);
            Check(worstLse < 1e-4, "decode LSE vs float64: " + worstLse);
            // A page id out of range is refused by the reference (the GPU would mask the keys).
            blockTable[5] = 6;
            var e = SpattnTests.Throws(() => Decode.Reference(args), "page id out of range");
            Check(e != null && e.Status == Status.InvalidArgument, "status INVALID_ARGUMENT: " + (e == null ? "" : e.Message));
        }
    }

    // The documented split rule, hand-computed: T = ceil(5120 / 128) = 40 key tiles, C = 1 batch x
    // 2 KV heads x 1 row tile, automatic: min(ceil(40 / 4), ceil(128 / 2)) = 10.
    public static void DecodeSplits()
    {
        var dummy = new ushort[64];
        int[] seqlens = { 0 };
        using (var pins = new Pins())
        {
            IntPtr p = pins.Of(dummy);
            var args = new DecodeArgs
            {
                Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = 4, SeqlenQ = 2, Q = p, Out = p,
                KvCache = Contiguous(p, p, pins.Of(seqlens), 5120, 2, 64),
            };
            Check(Decode.NumSplits(args) == 10 && Decode.WorkspaceSize(args) > 0, "automatic splits: " + Decode.NumSplits(args));
            args.NumSplits = 9; // ceil(40 / 9) = 5 tiles each: 8 splits hold tiles
            Check(Decode.NumSplits(args) == 8, "9 asked, 8 hold tiles: " + Decode.NumSplits(args));
            args.KvCache.MaxSeqlenKv = 100; // one tile: one split, no workspace
            args.NumSplits = 4;
            Check(Decode.NumSplits(args) == 1 && Decode.WorkspaceSize(args) == 0, "one tile, one split");
            args.NumSplits = 2000;
            var e = SpattnTests.Throws(() => Decode.NumSplits(args), "2000 splits");
            Check(e != null && e.Status == Status.InvalidArgument, "num_splits out of range refused");
        }
    }

    // 300 keys in two shards (keys [0, 170) and [170, 300)), decoded separately, merged by LSE.
    public static void MergeReference()
    {
        const int len = 300, split = 170, heads = 2, dim = 64;
        var rng = new Rng(11);
        ushort[] k = rng.Bf16s(len * dim), v = rng.Bf16s(len * dim), q = rng.Bf16s(heads * dim);
        var parts = new[] { new ushort[heads * dim], new ushort[heads * dim] };
        var partLse = new[] { new float[heads], new float[heads] };
        var merged = new float[heads * dim];
        var mergedLse = new float[heads];
        int[] lens0 = { split }, lens1 = { len - split };
        var strides = new long[] { heads * dim, heads * dim, dim };
        using (var pins = new Pins())
        {
            IntPtr kp = pins.Of(k), vp = pins.Of(v);
            var caches = new[] {
                Contiguous(kp, vp, pins.Of(lens0), len, 1, dim),
                Contiguous(kp + split * dim * 2, vp + split * dim * 2, pins.Of(lens1), len - split, 1, dim),
            };
            for (int s = 0; s < 2; s++)
                Decode.Reference(new DecodeArgs
                {
                    Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = heads, SeqlenQ = 1, Q = pins.Of(q), Out = pins.Of(parts[s]),
                    QStrides = strides, OutStrides = strides, KvCache = caches[s], Lse = pins.Of(partLse[s]),
                });
            var args = new MergeArgs
            {
                Parts = new[] { pins.Of(parts[0]), pins.Of(parts[1]) }, PartLse = new[] { pins.Of(partLse[0]), pins.Of(partLse[1]) },
                Batch = 1, Seqlen = 1, NumHeads = heads, HeadDim = dim, PartsDtype = Dtype.Bfloat16, PartStrides = strides,
                OutDtype = Dtype.Float32, Out = pins.Of(merged), OutStrides = strides, Lse = pins.Of(mergedLse),
            };
            Merge.Reference(args);
            var ks = new List<double[]>();
            var vs = new List<double[]>();
            for (int j = 0; j < len; j++) { ks.Add(Row(k, j * dim, dim)); vs.Add(Row(v, j * dim, dim)); }
            double worst = 0, worstLse = 0;
            for (int h = 0; h < heads; h++)
            {
                double wantLse;
                var want = Attend(Row(q, h * dim, dim), ks, vs, out wantLse);
                var got = new double[dim];
                for (int c = 0; c < dim; c++) got[c] = merged[h * dim + c];
                worst = Math.Max(worst, Worst(got, want));
                worstLse = Math.Max(worstLse, Math.Abs(mergedLse[h] - wantLse));
            }
            // Each part is a bf16 output (Bf16Out of max|v|); the merge weights are positive and
            // sum to 1, and the float32 output adds 2^-24 relative.
            Check(worst <= Bf16Out * MaxAbs(v) + 1e-6, "merged shards vs attention over all keys: " + worst);
            Check(worstLse < 1e-4, "merged LSE: " + worstLse);
            args.PartLse = new[] { pins.Of(partLse[0]) };
            try { Merge.Reference(args); Check(false, "Parts and PartLse of different lengths accepted"); }
            catch (ArgumentException) { Check(true, ""); }
        }
    }

    // A 1 x 3 x 4 grid in 1 x 2 x 2 cubes: 4 cubes of 4 slots, the last two ragged (slots 10, 11,
    // 14, 15 are pads). Sparsity 0 keeps every cube and a zero gate removes the coarse stage: the
    // output is dense attention over the 12 tokens.
    public static void VsaReference()
    {
        const int dim = 64;
        int[] valid = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13 };
        var rng = new Rng(3);
        Func<ushort[]> tensor = () =>
        {
            var t = new ushort[16 * dim];
            foreach (int s in valid) Array.Copy(rng.Bf16s(dim), 0, t, s * dim, dim);
            return t;
        };
        ushort[] q = tensor(), k = tensor(), v = tensor(), gate = new ushort[16 * dim], o = new ushort[16 * dim];
        for (int i = 0; i < o.Length; i++) o[i] = 0xffff;
        var lse = new float[16];
        var selected = new int[16];
        var strides = new long[] { 16 * dim, dim, dim };
        using (var pins = new Pins())
        {
            var args = new VsaArgs
            {
                Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = 1, NumKvHeads = 1, HeadDim = dim, Grid = new[] { 1, 3, 4 },
                CubeShape = new[] { 1, 2, 2 }, Sparsity = 0, Q = pins.Of(q), K = pins.Of(k), V = pins.Of(v),
                Gate = pins.Of(gate), Out = pins.Of(o), QStrides = strides, KStrides = strides, VStrides = strides,
                GateStrides = strides, OutStrides = strides, Lse = pins.Of(lse), SelectedCubes = pins.Of(selected),
            };
            var g = Vsa.Geometry(args);
            Check(g.Cubes[0] == 1 && g.Cubes[1] == 2 && g.Cubes[2] == 2 && g.NumCubes == 4 && g.CubeVolume == 4 &&
                  g.KeptCubes == 4 && g.PaddedTokens == 16, "VSA geometry");
            Vsa.Reference(args);
            Check(string.Join(",", Array.ConvertAll(selected, x => x.ToString())) == "0,1,2,3,0,1,2,3,0,1,2,3,0,1,2,3",
                  "every cube selected");
            var ks = new List<double[]>();
            var vs = new List<double[]>();
            foreach (int s in valid) { ks.Add(Row(k, s * dim, dim)); vs.Add(Row(v, s * dim, dim)); }
            double worst = 0, worstLse = 0;
            bool padsOk = true;
            for (int s = 0; s < 16; s++)
            {
                var got = Row(o, s * dim, dim);
                if (Array.IndexOf(valid, s) < 0)
                {
                    padsOk &= Array.TrueForAll(got, x => x == 0) && float.IsNegativeInfinity(lse[s]);
                    continue;
                }
                double wantLse;
                worst = Math.Max(worst, Worst(got, Attend(Row(q, s * dim, dim), ks, vs, out wantLse)));
                worstLse = Math.Max(worstLse, Math.Abs(lse[s] - wantLse));
            }
            Check(padsOk, "pad rows: zeros and LSE -inf");
            Check(worst <= Bf16Out * MaxAbs(v), "VSA keeping every cube vs dense float64: " + worst);
            Check(worstLse < 1e-4, "VSA LSE: " + worstLse);
            args.Sparsity = 1.0;
            var e = SpattnTests.Throws(() => Vsa.Reference(args), "sparsity 1");
            Check(e != null && e.Status == Status.InvalidArgument, "sparsity 1 refused");
        }
    }

    // 8 keys, 2 query heads on 1 KV head, 2 query tokens with their own lists (DSA style).
    public static void SparseAttentionReference()
    {
        const int len = 8, heads = 2, dim = 64, topk = 4;
        var rng = new Rng(5);
        ushort[] k = rng.Bf16s(len * dim), v = rng.Bf16s(len * dim), q = rng.Bf16s(2 * heads * dim), o = new ushort[2 * heads * dim];
        int[] lists = { 3, -1, 0, 7, 5, 1, -1, -1 };
        int[] seqlens = { len };
        var lse = new float[heads * 2];
        using (var pins = new Pins())
        {
            var args = new SparseAttentionArgs
            {
                Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = heads, SeqlenQ = 2, Q = pins.Of(q), Out = pins.Of(o),
                QStrides = new long[] { 2 * heads * dim, heads * dim, dim }, OutStrides = new long[] { 2 * heads * dim, heads * dim, dim },
                KvCache = Contiguous(pins.Of(k), pins.Of(v), pins.Of(seqlens), len, 1, dim),
                Indices = pins.Of(lists), IndexStrides = new long[] { 2 * topk, topk, 0 }, Topk = topk, Lse = pins.Of(lse),
            };
            SparseAttention.Reference(args);
            double worst = 0, worstLse = 0;
            for (int i = 0; i < 2; i++)
            {
                var ks = new List<double[]>();
                var vs = new List<double[]>();
                for (int s = 0; s < topk; s++)
                    if (lists[i * topk + s] >= 0) { ks.Add(Row(k, lists[i * topk + s] * dim, dim)); vs.Add(Row(v, lists[i * topk + s] * dim, dim)); }
                for (int h = 0; h < heads; h++)
                {
                    double wantLse;
                    var want = Attend(Row(q, (i * heads + h) * dim, dim), ks, vs, out wantLse);
                    worst = Math.Max(worst, Worst(Row(o, (i * heads + h) * dim, dim), want));
                    worstLse = Math.Max(worstLse, Math.Abs(lse[h * 2 + i] - wantLse));
                }
            }
            Check(worst <= Bf16Out * MaxAbs(v), "index-sparse attention vs float64 over the listed keys: " + worst);
            Check(worstLse < 1e-4, "index-sparse LSE: " + worstLse);
            lists[1] = 3; // listed twice: the reference refuses it
            var e = SpattnTests.Throws(() => SparseAttention.Reference(args), "duplicate entry");
            Check(e != null && e.Status == Status.InvalidArgument, "duplicate entry refused");
        }
    }

    public static void TopkReference()
    {
        float[] scores = { 1, 3, 3, float.NegativeInfinity, float.NaN, 2, /* row 1 */ 5, float.NegativeInfinity, 9, 9, 9, 9 };
        int[] lengths = { 6, 2 };
        var indices = new int[8];
        for (int i = 0; i < indices.Length; i++) indices[i] = 7;
        using (var pins = new Pins())
        {
            var args = new TopkArgs
            {
                NumRows = 2, NumCols = 6, Scores = pins.Of(scores), ScoreRowStride = 6, Lengths = pins.Of(lengths), K = 3,
                Indices = pins.Of(indices), IndexRowStride = 4,
            };
            Topk.Reference(args);
            // Row 0: 3 (col 1), 3 (col 2), 2 (col 5), in column order; row 1 sees cols 0 and 1 only
            // and -inf is never selected; slot 3 (past k) is untouched.
            Check(string.Join(",", Array.ConvertAll(indices, x => x.ToString())) == "1,2,5,7,0,-1,-1,7", "top-k selection");
            args.K = 0;
            var e = SpattnTests.Throws(() => Topk.Reference(args), "k 0");
            Check(e != null && e.Status == Status.InvalidArgument, "k 0 refused");
        }
    }

    // One sequence whose 9th key was just appended (it starts entry 2 of pages of 4), topk 4 >=
    // the 3 entries: every token is attended, the KT cache's entry 2 becomes that key alone.
    public static void RocketDecodeReference()
    {
        const int len = 9, heads = 2, dim = 64;
        var rng = new Rng(9);
        ushort[] k = rng.Bf16s(12 * dim), v = rng.Bf16s(12 * dim), q = rng.Bf16s(heads * dim), o = new ushort[heads * dim];
        var kt = new ushort[3 * 2 * dim];
        for (int e = 0; e < 2; e++) // entries 0 and 1 as the context phase built them
            for (int d = 0; d < dim; d++)
            {
                float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
                for (int t = e * 4; t < e * 4 + 4; t++) { lo = Math.Min(lo, SpattnTests.FromBf16(k[t * dim + d])); hi = Math.Max(hi, SpattnTests.FromBf16(k[t * dim + d])); }
                kt[e * 2 * dim + d] = SpattnTests.ToBf16(lo);
                kt[e * 2 * dim + dim + d] = SpattnTests.ToBf16(hi);
            }
        var built = (ushort[])kt.Clone();
        var selected = new int[16];
        var lse = new float[heads];
        int[] seqlens = { len };
        using (var config = Config.Parse("algorithm: rocket\ntopk: 4\npage_size: 4\nkt_cache_dtype: bfloat16\n"))
        using (var pins = new Pins())
        {
            var args = new RocketDecodeArgs
            {
                Config = config.Rocket(), Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = heads, Q = pins.Of(q), Out = pins.Of(o),
                QStrides = new long[] { heads * dim, heads * dim, dim }, OutStrides = new long[] { heads * dim, heads * dim, dim },
                KvCache = Contiguous(pins.Of(k), pins.Of(v), pins.Of(seqlens), 12, 1, dim),
                KtCache = new KtCache
                {
                    Layout = KvLayout.Contiguous, Dtype = KtCacheDtype.Bfloat16, NumKvHeads = 1, HeadDim = dim,
                    Data = pins.Of(kt), Strides = new long[] { 3 * 2 * dim, 2 * dim, 2 * dim }, MaxEntries = 3,
                },
                Lse = pins.Of(lse), SelectedIndices = pins.Of(selected),
            };
            Rocket.DecodeReference(args);
            Check(string.Join(",", Array.ConvertAll(selected, x => x.ToString())) == "0,1,2,3,4,5,6,7,8,-1,-1,-1,-1,-1,-1,-1",
                  "every token selected");
            bool ktOk = true;
            for (int i = 0; i < 4 * dim; i++) ktOk &= kt[i] == built[i];
            for (int d = 0; d < dim; d++) ktOk &= kt[4 * dim + d] == k[8 * dim + d] && kt[5 * dim + d] == k[8 * dim + d];
            Check(ktOk, "KT cache: entries 0 and 1 kept, entry 2 the new key");
            var ks = new List<double[]>();
            var vs = new List<double[]>();
            for (int j = 0; j < len; j++) { ks.Add(Row(k, j * dim, dim)); vs.Add(Row(v, j * dim, dim)); }
            double worst = 0, worstLse = 0, vmax = 0;
            for (int i = 0; i < len * dim; i++) vmax = Math.Max(vmax, Math.Abs(SpattnTests.FromBf16(v[i])));
            for (int h = 0; h < heads; h++)
            {
                double wantLse;
                worst = Math.Max(worst, Worst(Row(o, h * dim, dim), Attend(Row(q, h * dim, dim), ks, vs, out wantLse)));
                worstLse = Math.Max(worstLse, Math.Abs(lse[h] - wantLse));
            }
            Check(worst <= Bf16Out * vmax, "RocketKV decode vs float64: " + worst);
            Check(worstLse < 1e-4, "RocketKV LSE: " + worstLse);
            args.KtCache.Dtype = KtCacheDtype.Float8E5m2; // not the config's kt_cache_dtype
            var e2 = SpattnTests.Throws(() => Rocket.DecodeReference(args), "KT dtype mismatch");
            Check(e2 != null && e2.Status == Status.InvalidArgument, "KT dtype mismatch refused");
        }
    }
}
