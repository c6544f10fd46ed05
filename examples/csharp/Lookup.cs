// Opens a checkpoint with an optional user config and prints a few layer lookups.
//   mcs -unsafe -target:library -out:Spattn.dll bindings/csharp/Spattn.cs
//   cp bindings/csharp/Spattn.dll.config .       # Mono: "spattn" is libspattn.so.0
//   mcs -r:Spattn.dll -out:Lookup.exe examples/csharp/Lookup.cs
//   LD_LIBRARY_PATH=build mono Lookup.exe examples/checkpoints/wan-mini examples/configs/visualgen_target.yaml 0.5
using System;
using System.Globalization;
using Spattn;

static class Lookup
{
    static int Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Lookup.exe CHECKPOINT [CONFIG] [TIMESTEP]");
            return 2;
        }
        try
        {
            Config config = args.Length > 1 ? Config.FromFile(args[1]) : null;
            double? timestep = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : (double?)null;
            using (Model model = Model.Open(args[0], config))
            {
                if (config != null) config.Dispose(); // the model keeps what it needs
                Console.WriteLine("spattn {0}; components: {1}", Library.VersionString,
                                  string.Join(", ", model.Components));
                Console.WriteLine("{0,-14} {1,-26} {2,-8} {3,14}  {4}", "component", "layer", "enabled", "threshold", "reason");
                foreach (string name in model.Components)
                {
                    // A plain checkpoint has one component named "": pass null (LLM layer names).
                    string component = name.Length == 0 ? null : name;
                    string[] layers = component == null
                        ? new[] { "model.layers.0.self_attn", "model.layers.5.self_attn" }
                        : new[] { "blocks.0.attn1", "blocks.3.attn1", "blocks.3.attn2", "blocks.39.attn1" };
                    try
                    {
                        foreach (string layer in layers)
                        {
                            LayerParams p = model.Lookup(component, layer, Phase.Prefill, timestep);
                            Console.WriteLine("{0,-14} {1,-26} {2,-8} {3,14:F6}  {4}", name, layer, p.Enabled,
                                              p.ThresholdScaleFactor, p.DisabledReason);
                        }
                    }
                    catch (SpattnException e)
                    {
                        Console.WriteLine("{0,-14} {1}: {2}", name, e.StatusName, e.Message);
                    }
                }
            }
            return 0;
        }
        catch (SpattnException e)
        {
            Console.Error.WriteLine("spattn: {0}: {1}", e.StatusName, e.Message);
            return 1;
        }
    }
}
