#!/usr/bin/env python3
"""Opens a checkpoint with an optional user config and prints a few layer lookups.

    SPATTN_LIBRARY=build/libspattn.so python3 examples/python/lookup.py \
        examples/checkpoints/wan-mini examples/configs/visualgen_target.yaml 0.5

Uses the installed `spattn` package, or the one in bindings/python of this repository.
"""
import os
import sys

try:
    import spattn
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import spattn


def main(argv):
    if not 2 <= len(argv) <= 4:
        print(__doc__, file=sys.stderr)
        return 2
    timestep = float(argv[3]) if len(argv) == 4 else None
    try:
        config = spattn.Config.from_file(argv[2]) if len(argv) >= 3 else None
        with spattn.Model.open(argv[1], config) as model:
            if config is not None:
                config.close()  # the model keeps what it needs
            print("spattn %s (%s); components: %s" % (spattn.version(), spattn.library_path, model.components))
            print("%-14s %-26s %-8s %-7s %14s  %s" % ("component", "layer", "phase", "enabled", "threshold", "disabled"))
            for name in model.components:
                layers = (["model.layers.0.self_attn", "model.layers.5.self_attn"] if name == ""
                          else ["blocks.0.attn1", "blocks.3.attn1", "blocks.3.attn2", "blocks.39.attn1"])
                try:
                    for layer in layers:
                        for phase in ("prefill", "decode"):
                            p = model.lookup(name, layer, phase, timestep)
                            print("%-14s %-26s %-8s %-7s %14.6f  %s" % (
                                name or "-", layer, phase, p.enabled, p.threshold_scale_factor,
                                "-" if p.enabled else p.disabled_reason))
                except spattn.Error as e:
                    print("%-14s %s" % (name or "-", e))
    except spattn.Error as e:
        print("spattn: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
