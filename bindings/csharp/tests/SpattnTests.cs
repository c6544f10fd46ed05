// Test program of the C# bindings (mcs + mono, registered as a ctest): configs, errors, the
// sample checkpoints and the shared lookup table (bindings/testdata/lookups.tsv), disposal
// patterns and finalizers, threads, struct layout, argument checks, the log callback, and the
// CPU reference attention.
// usage: mono SpattnTests.exe REPO_ROOT LAYOUT_TXT   (libspattn.so.0 on LD_LIBRARY_PATH)
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Spattn;

static class SpattnTests
{
    static int passed, failed;
    static string repo, layoutFile;

    internal static void Check(bool condition, string what)
    {
        if (condition) { passed++; return; }
        failed++;
        Console.WriteLine("FAIL: " + what);
    }

    internal static SpattnException Throws(Action action, string what)
    {
        try { action(); }
        catch (SpattnException e) { return e; }
        catch (Exception e) { Check(false, what + ": threw " + e.GetType().Name + " " + e.Message); return null; }
        Check(false, what + ": did not throw");
        return null;
    }

    static void ThrowsDisposed(Action action, string what)
    {
        try { action(); }
        catch (ObjectDisposedException) { passed++; return; }
        catch (Exception e) { Check(false, what + ": threw " + e.GetType().Name); return; }
        Check(false, what + ": did not throw");
    }

    static string Checkpoint(string name) { return Path.Combine(repo, "examples", "checkpoints", name); }
    internal static string ConfigFile(string name) { return Path.Combine(repo, "examples", "configs", name); }

    const string LlmYaml = "sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor:\n    prefill: 1000.0\n    decode: 500.0\n";
    const string LlmJson = "{\"sparse_attention_config\": {\"algorithm\": \"skip_softmax\", \"threshold_scale_factor\": {\"prefill\": 1000.0, \"decode\": 500.0}}}";

    static void Version()
    {
        Check(Library.Version / 10000 == Library.MajorVersion, "major version");
        Check(Library.VersionString == (Library.Version / 10000) + "." + (Library.Version / 100 % 100) + "." + (Library.Version % 100),
              "version string " + Library.VersionString);
    }

    static void Configs()
    {
        using (var y = Config.Parse(LlmYaml))
        using (var j = Config.Parse(LlmJson, Format.Json))
        {
            Check(y.Algorithm == Algorithm.SkipSoftmax, "algorithm");
            Check(y.Backend == null, "no backend");
            var s = y.SkipSoftmax();
            Check(s.ThresholdScaleFactor.HasValue && s.ThresholdScaleFactor.Value.Prefill == 1000.0 &&
                  s.ThresholdScaleFactor.Value.Decode == 500.0, "per-phase threshold");
            Check(!s.TargetSparsity.HasValue, "no target");
            Check(y.ToString() == "Config(SkipSoftmax)", "ToString " + y);
            Check(y.ToJson() == j.ToJson(), "YAML and JSON give the same canonical JSON");
            using (var again = Config.Parse(y.ToJson())) Check(again.ToJson() == y.ToJson(), "round trip");
        }
        foreach (var name in new[] { "visualgen_target.yaml", "visualgen_target.json" })
            using (var c = Config.FromFile(ConfigFile(name)))
            {
                Check(c.Backend == "TRTLLM", name + " backend");
                var s = c.SkipSoftmax();
                Check(s.TargetSparsity.Value.Prefill == 0.5 && s.DisabledUntilTimestep == 0.6, name + " values");
            }
        using (var r = Config.Parse("sparse_attention_config: {algorithm: rocket, prompt_budget: 1024}", Format.Yaml))
        {
            var rocket = r.Rocket();
            Check(rocket.PromptBudget == 1024 && rocket.WindowSize == 32 &&
                  rocket.KtCacheDtype == KtCacheDtype.Float8E5m2 && rocket.SeqLenThreshold == null, "rocket");
        }
        using (var d = Config.Parse("algorithm: dsa\nindex_topk: 64\n"))
        {
            var dsa = d.Dsa();
            Check(dsa.IndexTopk == 64 && dsa.IndexNHeads == null, "dsa");
            Check(dsa.QSplitThreshold == 8192 && dsa.UseSelfSamplingTopk && !dsa.UseCuteDslTopk &&
                  dsa.IndexerKDtype == IndexerKDtype.Fp8 && dsa.IndexShareForMtpIteration == null, "dsa: TensorRT-LLM's defaults");
        }
        using (var d = Config.Parse("algorithm: dsa\nindex_head_dim: 128\nindexer_k_dtype: fp4\nindex_share_for_mtp_iteration: false\n"))
            Check(d.Dsa().IndexerKDtype == IndexerKDtype.Fp4 && d.Dsa().IndexShareForMtpIteration == false, "dsa: fp4, no sharing");
        using (var v = Config.FromFile(ConfigFile("visualgen_vsa.yaml")))
        {
            var vsa = v.Vsa();
            Check(v.Algorithm == Algorithm.Vsa && v.Backend == "CUTEDSL", "vsa config");
            Check(vsa.VsaSparsity == 0.9 && vsa.CubeShape.Length == 3 && vsa.CubeShape[0] == 4 && vsa.CubeShape[2] == 4 &&
                  vsa.DisabledUntilTimestep == 0.9, "vsa values");
            var e = Throws(() => v.Dsa(), "vsa config as dsa");
            Check(e != null && e.Status == Status.WrongAlgorithm, "status WRONG_ALGORITHM");
        }
    }

    static void Errors()
    {
        var e = Throws(() => Config.Parse("sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity:\n    prefill: 1.5\n"), "out of range");
        if (e != null)
        {
            Check(e.Status == Status.OutOfRange, "status OUT_OF_RANGE");
            Check(e.StatusName == "SPATTN_ERR_OUT_OF_RANGE", "status name");
            Check(e.Message.Contains("sparse_attention_config.target_sparsity.prefill"), "message names the key: " + e.Message);
        }
        e = Throws(() => Config.Parse("{\"algorithm\": "), "syntax");
        Check(e != null && e.Status == Status.Syntax, "status SYNTAX");
        e = Throws(() => Config.Parse("algorithm: skip_softmax\nthreshold: 1\n"), "unknown key");
        Check(e != null && e.Status == Status.UnknownKey, "status UNKNOWN_KEY");
        e = Throws(() => Config.FromFile("/nonexistent/user.yaml"), "missing file");
        Check(e != null && e.Status == Status.Io && e.Message.Contains("/nonexistent/user.yaml"), "IO error names the file");
        using (var c = Config.Parse(LlmYaml))
        {
            e = Throws(() => c.Rocket(), "wrong algorithm");
            Check(e != null && e.Status == Status.WrongAlgorithm, "status WRONG_ALGORITHM");
        }
        using (var m = Model.Open(Checkpoint("wan-mini")))
        {
            e = Throws(() => m.Lookup("transformer_9", "blocks.0.attn1"), "no such component");
            Check(e != null && e.Status == Status.NotFound && e.Message.Contains("transformer_9"), "NOT_FOUND names it");
            e = Throws(() => m.Lookup("transformer", "blocks.0.attn1", Phase.Prefill, 1.5), "timestep > 1");
            Check(e != null && e.Status == Status.InvalidArgument, "status INVALID_ARGUMENT");
        }
        e = Throws(() => Model.Open(Checkpoint("no-such-checkpoint")), "missing checkpoint");
        Check(e != null && e.Message.Contains("no-such-checkpoint"), "message names the checkpoint");
    }

    static void ModelBasics()
    {
        using (var m = Model.Open(Checkpoint("wan-mini")))
        {
            var names = new List<string>(m.Components);
            Check(names.Contains("transformer") && names.Contains("transformer_2"), "components");
            var ignore = m.IgnorePatterns(names.IndexOf("transformer"));
            Check(ignore.Length == 2 && ignore[0] == "blocks.0.attn1" && ignore[1] == "blocks.0.attn2", "ignore patterns");
            Check(m.IgnorePatterns(999).Length == 0, "ignore patterns out of range");
            Check(m.ToJson().Contains("transformer_2"), "model JSON");
        }
        using (var llm = Model.Open(Checkpoint("llm-mini")))
            Check(llm.Components.Length == 1 && llm.Components[0] == "", "plain checkpoint: one unnamed component");
        using (var c = Config.FromFile(ConfigFile("visualgen_target.yaml")))
        using (var m = Model.Open(Checkpoint("wan-mini"), c))
        {
            Check(string.Join(",", m.Components) == "scheduler,text_encoder,tokenizer,transformer,transformer_2,vae", "six components");
            var p = m.Lookup("text_encoder", "blocks.0.attn1", Phase.Prefill, 0.5);
            Check(!p.Enabled && p.DisabledReason == DisabledReason.NotTarget, "text encoders are dense");
            Check(m.ComponentPhaseKey("text_encoder", Phase.Prefill, 0.5) == PhaseKey.Dense, "text encoder's phase key");
            // visualgen_target.yaml: dense until timestep 0.6, sparse below it.
            Check(m.ComponentPhaseKey("transformer", Phase.Prefill, 0.6) == PhaseKey.Dense &&
                  m.ComponentPhaseKey("transformer_2", Phase.Prefill, 0.59) == PhaseKey.Sparse, "component phase keys");
            var e = Throws(() => m.ComponentPhaseKey("nope", Phase.Prefill, 0.5), "phase key of no component");
            Check(e != null && e.Status == Status.NotFound, "status NOT_FOUND");
        }
        using (var c = Config.FromFile(ConfigFile("visualgen_vsa.yaml")))
        using (var m = Model.Open(Checkpoint("wan-mini"), c))
        {
            var p = m.Lookup("transformer", "blocks.3.attn1", Phase.Prefill, 0.5);
            Check(p.Algorithm == Algorithm.Vsa && p.Enabled && p.PhaseKey == PhaseKey.Sparse && p.VsaSparsity == 0.9 &&
                  p.VsaCubeShape[0] == 4 && p.VsaCubeShape[1] == 4 && p.VsaCubeShape[2] == 4, "VSA layer parameters");
        }
    }

    static bool Close(double a, string expected)
    {
        if (expected == "nan") return double.IsNaN(a);
        double b = double.Parse(expected, CultureInfo.InvariantCulture);
        return a == b || Math.Abs(a - b) <= 1e-12 * Math.Abs(b);
    }

    // The vocabulary spelling of a PascalCase enum member: NotConfigured -> not_configured.
    static string Spelling(Enum e)
    {
        var text = new System.Text.StringBuilder();
        foreach (char c in e.ToString())
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    static void LookupTable()
    {
        int rows = 0;
        foreach (var line in File.ReadAllLines(Path.Combine(repo, "bindings", "testdata", "lookups.tsv")))
        {
            if (line.StartsWith("#") || line.Trim().Length == 0) continue;
            var f = line.Split('\t');
            Config config = f[1] == "-" ? null : Config.FromFile(ConfigFile(f[1]));
            LayerParams p;
            using (var m = Model.Open(Checkpoint(f[0]), config))
            {
                if (config != null) config.Dispose(); // the model keeps what it needs
                double? t = f[5] == "-" ? (double?)null : double.Parse(f[5], CultureInfo.InvariantCulture);
                var phase = f[4] == "decode" ? Phase.Decode : Phase.Prefill;
                p = m.Lookup(f[2] == "-" ? null : f[2], f[3], phase, t);
            }
            string row = string.Join(" ", f, 0, 6) + ": ";
            Check(p.Algorithm == Algorithm.SkipSoftmax, row + "algorithm");
            Check(p.Enabled == (f[6] == "1"), row + "enabled");
            Check(Spelling(p.DisabledReason) == f[7], row + "reason " + p.DisabledReason);
            Check(Spelling(p.PhaseKey) == f[8], row + "phase key " + p.PhaseKey);
            Check(Close(p.ThresholdScaleFactor, f[9]), row + "threshold " + p.ThresholdScaleFactor.ToString("R"));
            Check(Spelling(p.ThresholdSource) == f[10], row + "threshold source");
            Check(Close(p.TargetSparsity ?? double.NaN, f[11]), row + "target " + p.TargetSparsity);
            Check(Spelling(p.TargetSource) == f[12], row + "target source");
            Check(Close(p.DisabledUntilTimestep ?? double.NaN, f[13]), row + "cutoff " + p.DisabledUntilTimestep);
            Check(Spelling(p.TimestepSource) == f[14], row + "cutoff source");
            rows++;
        }
        Check(rows >= 20, "lookup table rows: " + rows);
    }

    static void Lifetimes()
    {
        var c = Config.Parse("attention_config: {backend: TRTLLM, sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}}", Format.Yaml);
        var m = Model.Open(Checkpoint("wan-mini"), c);
        c.Dispose();
        c.Dispose(); // idempotent
        var p = m.Lookup("transformer", "blocks.3.attn1", Phase.Prefill, 0.5);
        Check(p.Enabled && p.TargetSource == Source.User, "config disposed before the model is used");
        ThrowsDisposed(() => { var a = c.Algorithm; }, "config used after Dispose");
        ThrowsDisposed(() => c.ToJson(), "config JSON after Dispose");
        ThrowsDisposed(() => Model.Open(Checkpoint("wan-mini"), c), "model opened with a disposed config");

        // Threads share one model.
        var errors = 0;
        var threads = new Thread[4];
        for (int i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(() =>
            {
                for (int k = 0; k < 200; k++)
                {
                    var q = m.Lookup("transformer", "blocks." + (k % 40) + ".attn1", Phase.Prefill, 0.5);
                    if (q.Enabled != (k % 40 != 0)) Interlocked.Increment(ref errors);
                }
            });
            threads[i].Start();
        }
        foreach (var t in threads) t.Join();
        Check(errors == 0, "lookups from 4 threads");

        m.Dispose();
        m.Dispose();
        Check(m.IsClosed, "model closed");
        ThrowsDisposed(() => m.Lookup("transformer", "blocks.3.attn1"), "model lookup after Dispose");
        ThrowsDisposed(() => { var n = m.Components; }, "components after Dispose");
        Check(p.Enabled, "layer params are a plain value that outlives the model");

        // Handles left to the finalizer: every one of them is destroyed.
        int models = Released(typeof(Model)), configs = Released(typeof(Config));
        LeaveToFinalizer(200);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Check(Released(typeof(Model)) - models == 200 && Released(typeof(Config)) - configs == 200,
              "finalizers destroyed 200 models and 200 configs: " + (Released(typeof(Model)) - models) + ", " +
              (Released(typeof(Config)) - configs));
    }

    // How many handles of `type` ReleaseHandle destroyed (its private counter).
    static int Released(Type type)
    {
        return (int)type.GetField("released", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static).GetValue(null);
    }

    // In its own method so that no local keeps a handle reachable.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static void LeaveToFinalizer(int count)
    {
        for (int i = 0; i < count; i++) Model.Open(Checkpoint("llm-mini"), Config.Parse(LlmYaml)).Lookup(null, "model.layers.3.self_attn");
    }

    static void ArgumentChecks()
    {
        ThrowsArgumentNull(() => Config.Parse(null), "text");
        ThrowsArgumentNull(() => Config.FromFile(null), "path");
        ThrowsArgumentNull(() => Model.Open(null), "checkpointDir");
        ThrowsArgumentNull(() => Attention.Reference(null), "args");
        using (var m = Model.Open(Checkpoint("wan-mini")))
        {
            ThrowsArgumentNull(() => m.Lookup("transformer", null), "layer");
            Check(m.ToString() == "Model(" + string.Join(", ", m.Components) + ")", "ToString " + m);
        }
    }

    static void ThrowsArgumentNull(Action action, string parameter)
    {
        try { action(); }
        catch (ArgumentNullException e) { Check(e.ParamName == parameter, "ArgumentNullException names " + parameter + ": " + e.ParamName); return; }
        catch (Exception e) { Check(false, parameter + " null: threw " + e.GetType().Name); return; }
        Check(false, parameter + " null: did not throw");
    }

    // Opening a checkpoint logs what was resolved at Info level: delivered with LogLevel.Debug,
    // dropped with LogLevel.Warning, and nothing once the callback is removed.
    static void LogCallback()
    {
        var messages = new List<string>();
        Action<LogLevel, string> collect = (level, message) => { lock (messages) messages.Add(level + ": " + message); };
        string checkpoint = Checkpoint("llm-mini");
        Library.SetLogCallback(collect, LogLevel.Debug);
        try { using (Model.Open(checkpoint)) { } }
        finally { Library.SetLogCallback(null); }
        Check(messages.Exists(m => m.StartsWith("Info: ") && m.Contains(checkpoint)),
              "an Info message naming the checkpoint: " + string.Join(" | ", messages.ToArray()));
        messages.Clear();
        Library.SetLogCallback(collect, LogLevel.Warning);
        try { using (Model.Open(checkpoint)) { } }
        finally { Library.SetLogCallback(null); }
        using (Model.Open(checkpoint)) { }
        Check(!messages.Exists(m => m.StartsWith("Info: ")), "Info dropped below Warning, nothing after removal: " +
              string.Join(" | ", messages.ToArray()));
    }

    // The C layout of every public struct (`name size` / `name.field offset` lines, printed by
    // the program that tools/check_pinvoke.py --layout-c generates) against the C# marshaling.
    static void StructLayout()
    {
        if (layoutFile == null) { Check(false, "no layout file given"); return; }
        int lines = 0;
        foreach (var line in File.ReadAllLines(layoutFile))
        {
            var parts = line.Split(' ');
            var names = parts[0].Split('.');
            var type = typeof(Config).Assembly.GetType("Spattn." + names[0]);
            if (type == null) { Check(false, "no C# struct " + names[0]); continue; }
            long expected = long.Parse(parts[1], CultureInfo.InvariantCulture);
            long actual = names.Length == 1 ? Marshal.SizeOf(type) : (long)Marshal.OffsetOf(type, names[1]);
            Check(actual == expected, line + " (C#: " + actual + ")");
            lines++;
        }
        Check(lines > 50, "layout lines: " + lines);
    }

    internal static unsafe ushort ToBf16(float x)
    {
        uint bits = *(uint*)&x;
        return (ushort)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
    }

    internal static unsafe float FromBf16(ushort h)
    {
        uint bits = (uint)h << 16;
        return *(float*)&bits;
    }

    static unsafe void ReferenceAttention()
    {
        const int sq = 4, skv = 256, heads = 2, d = 64;
        var rng = new Random(7);
        Func<int, ushort[]> rnd = n => { var a = new ushort[n]; for (int i = 0; i < n; i++) a[i] = ToBf16((float)(rng.NextDouble() * 2 - 1)); return a; };
        ushort[] q = rnd(sq * heads * d), k = rnd(skv * heads * d), v = rnd(skv * heads * d);
        var o = new ushort[q.Length];
        var counters = new ulong[2];
        var args = new AttentionArgs
        {
            Dtype = Dtype.Bfloat16, Batch = 1, NumHeads = heads, NumKvHeads = heads, HeadDim = d, SeqlenQ = sq, SeqlenKv = skv,
            QStrides = new long[] { sq * heads * d, heads * d, d }, OutStrides = new long[] { sq * heads * d, heads * d, d },
            KStrides = new long[] { skv * heads * d, heads * d, d }, VStrides = new long[] { skv * heads * d, heads * d, d },
        };
        fixed (ushort* pq = q, pk = k, pv = v, po = o)
        fixed (ulong* pc = counters)
        {
            args.Q = (IntPtr)pq; args.K = (IntPtr)pk; args.V = (IntPtr)pv; args.Out = (IntPtr)po;
            args.TileCounters = (IntPtr)pc;
            Attention.Reference(args);
        }
        Check(counters[0] == 2 * heads && counters[1] == 0, "tile counters " + counters[0] + " " + counters[1]);
        double worst = 0, scale = 1.0 / Math.Sqrt(d);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < sq; i++)
            {
                var w = new double[skv];
                double m = double.MinValue, total = 0;
                for (int j = 0; j < skv; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += FromBf16(q[(i * heads + h) * d + c]) * (double)FromBf16(k[(j * heads + h) * d + c]);
                    w[j] = dot * scale;
                    m = Math.Max(m, w[j]);
                }
                for (int j = 0; j < skv; j++) { w[j] = Math.Exp(w[j] - m); total += w[j]; }
                for (int c = 0; c < d; c++)
                {
                    double want = 0;
                    for (int j = 0; j < skv; j++) want += w[j] / total * FromBf16(v[(j * heads + h) * d + c]);
                    worst = Math.Max(worst, Math.Abs(FromBf16(o[(i * heads + h) * d + c]) - want));
                }
            }
        // bf16 output, |x| < 1: half an ulp is 2^-9; the reference accumulates in double.
        Check(worst <= Math.Pow(2, -9) + 1e-5, "reference attention vs naive, max abs error " + worst);
        var e = Throws(() => Attention.Forward(new AttentionArgs(), IntPtr.Zero), "forward with no arguments");
        Check(e != null && (e.Status == Status.InvalidArgument || e.Status == Status.Unsupported), "forward refused");
    }

    static int Main(string[] argv)
    {
        repo = argv.Length > 0 ? argv[0] : Path.Combine("..", "..", "..");
        layoutFile = argv.Length > 1 ? argv[1] : null;
        var tests = new KeyValuePair<string, Action>[] {
            new KeyValuePair<string, Action>("Version", Version),
            new KeyValuePair<string, Action>("Configs", Configs),
            new KeyValuePair<string, Action>("Errors", Errors),
            new KeyValuePair<string, Action>("ModelBasics", ModelBasics),
            new KeyValuePair<string, Action>("LookupTable", LookupTable),
            new KeyValuePair<string, Action>("Lifetimes", Lifetimes),
            new KeyValuePair<string, Action>("StructLayout", StructLayout),
            new KeyValuePair<string, Action>("ArgumentChecks", ArgumentChecks),
            new KeyValuePair<string, Action>("LogCallback", LogCallback),
            new KeyValuePair<string, Action>("ReferenceAttention", ReferenceAttention),
            new KeyValuePair<string, Action>("DecodeReference", KernelTests.DecodeReference),
            new KeyValuePair<string, Action>("DecodeSplits", KernelTests.DecodeSplits),
            new KeyValuePair<string, Action>("MergeReference", KernelTests.MergeReference),
            new KeyValuePair<string, Action>("VsaReference", KernelTests.VsaReference),
            new KeyValuePair<string, Action>("SparseAttentionReference", KernelTests.SparseAttentionReference),
            new KeyValuePair<string, Action>("TopkReference", KernelTests.TopkReference),
            new KeyValuePair<string, Action>("RocketDecodeReference", KernelTests.RocketDecodeReference),
        };
        foreach (var t in tests)
        {
            int before = failed;
            try { t.Value(); }
            catch (Exception e) { Check(false, t.Key + ": unexpected " + e); }
            Console.WriteLine((failed == before ? "ok   " : "FAIL ") + t.Key);
        }
        Console.WriteLine("csharp: {0} passed, {1} failed", passed, failed);
        return failed == 0 ? 0 : 1;
    }
}
