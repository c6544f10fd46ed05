"""Model: the sample checkpoints, the shared lookup table, errors."""
import math
import os
import unittest

import spattn
from .support import CHECKPOINTS, CONFIGS, WAN_MINI, lookup_rows


def _number(text):
    return math.nan if text == "nan" else float(text)


class LookupTable(unittest.TestCase):
    def test_table(self):
        rows = lookup_rows()
        self.assertGreaterEqual(len(rows), 20)
        for row in rows:
            with self.subTest(**{k: row[k] for k in ("checkpoint", "config", "component", "layer",
                                                     "phase", "timestep")}):
                config = None if row["config"] == "-" else spattn.Config.from_file(
                    os.path.join(CONFIGS, row["config"]))
                with spattn.Model.open(os.path.join(CHECKPOINTS, row["checkpoint"]), config) as model:
                    if config is not None:
                        config.close()
                    p = model.lookup(None if row["component"] == "-" else row["component"], row["layer"],
                                     row["phase"], None if row["timestep"] == "-" else float(row["timestep"]))
                self.assertEqual(p.algorithm, "skip_softmax")
                self.assertEqual(p.enabled, row["enabled"] == "1")
                self.assertEqual(p.disabled_reason, row["disabled_reason"])
                self.assertEqual(p.phase_key, row["phase_key"])
                self.assertTrue(math.isclose(p.threshold_scale_factor, _number(row["threshold"]),
                                             rel_tol=1e-12), (p.threshold_scale_factor, row["threshold"]))
                self.assertEqual(p.threshold_source, row["threshold_source"])
                for value, expected in ((p.target_sparsity, row["target"]),
                                        (p.disabled_until_timestep, row["cutoff"])):
                    if expected == "nan":
                        self.assertIsNone(value)
                    else:
                        self.assertTrue(math.isclose(value, float(expected), rel_tol=1e-12))
                self.assertEqual(p.target_source, row["target_source"])
                self.assertEqual(p.timestep_source, row["cutoff_source"])


class ModelApi(unittest.TestCase):
    def test_components_and_ignore(self):
        with spattn.Model.open(WAN_MINI) as m:
            self.assertIn("transformer", m.components)
            self.assertIn("transformer_2", m.components)
            self.assertEqual(m.ignore_patterns("transformer"), ["blocks.0.attn1", "blocks.0.attn2"])
            self.assertEqual(m.ignore_patterns("transformer_2"), ["blocks.39.*", "*.attn2"])
            d = m.to_dict()
            self.assertIsInstance(d, dict)
            self.assertIn("transformer", m.to_json())
            self.assertEqual(repr(m), "<spattn.Model components=%r>" % m.components)
        self.assertEqual(repr(m), "<spattn.Model closed>")

    def test_plain_checkpoint_has_one_unnamed_component(self):
        with spattn.Model.open(os.path.join(CHECKPOINTS, "llm-mini")) as m:
            self.assertEqual(m.components, [""])
            p = m.lookup("", "model.layers.0.self_attn", spattn.Phase.DECODE)
            self.assertIs(p.disabled_reason, spattn.DisabledReason.IGNORED)
            self.assertEqual(str(p.disabled_reason), "ignored")

    def test_layer_params_round_trip_through_c(self):
        with spattn.Model.open(WAN_MINI) as m:
            for layer in ("blocks.3.attn1", "blocks.0.attn1"):
                p = m.lookup("transformer", layer, timestep=0.5)
                self.assertEqual(spattn.LayerParams.from_c(p.to_c()), p)

    def test_errors(self):
        with spattn.Model.open(WAN_MINI) as m:
            with self.assertRaises(spattn.Error) as ctx:
                m.lookup("transformer_9", "blocks.0.attn1")
            self.assertEqual(ctx.exception.status, spattn.Status.NOT_FOUND)
            self.assertIn("transformer_9", ctx.exception.message)
            with self.assertRaises(spattn.Error) as ctx:
                m.lookup("transformer", "blocks.0.attn1", timestep=1.5)
            self.assertEqual(ctx.exception.status, spattn.Status.INVALID_ARGUMENT)
            with self.assertRaisesRegex(ValueError, "phase: 'generate' is not one of 'prefill', 'decode'"):
                m.lookup("transformer", "blocks.0.attn1", phase="generate")
            with self.assertRaisesRegex(TypeError, "layer must be a str"):
                m.lookup("transformer", 3)
        with self.assertRaises(spattn.Error) as ctx:
            spattn.Model.open(os.path.join(CHECKPOINTS, "no-such-checkpoint"))
        self.assertIn("no-such-checkpoint", ctx.exception.message)

    def test_target_without_formula(self):
        # text_encoder has a config.json without calibration: a user target cannot be mapped there.
        with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_target.yaml")) as c, \
                spattn.Model.open(WAN_MINI, c) as m:
            with self.assertRaises(spattn.Error) as ctx:
                m.lookup("text_encoder", "blocks.0.attn1", timestep=0.5)
            self.assertEqual(ctx.exception.status, spattn.Status.CALIBRATION_MISSING)


if __name__ == "__main__":
    unittest.main()
