"""Model: the sample checkpoints, the shared lookup table, errors."""
import math
import os
import tempfile
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
        # transformer_2 is a target without calibration: the user target cannot be mapped there
        # (transformer can map it, so the model opens and only that component's lookups fail).
        with tempfile.TemporaryDirectory() as folder:
            files = {"model_index.json": '{"transformer": ["diffusers", "T"], "transformer_2": ["diffusers", "T"]}',
                     "transformer/config.json": '{"sparse_attention_config": {"algorithm": "skip_softmax", '
                                                '"threshold_scale_factor": {"formula": "a * target_sparsity", '
                                                '"a": 100}}}',
                     "transformer_2/config.json": '{"num_layers": 40}'}
            for name, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
                with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                    f.write(text)
            with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_target.yaml")) as c, \
                    spattn.Model.open(folder, c) as m:
                self.assertEqual(m.lookup("transformer", "blocks.0.attn1", timestep=0.5).threshold_scale_factor, 50.0)
                with self.assertRaises(spattn.Error) as ctx:
                    m.lookup("transformer_2", "blocks.0.attn1", timestep=0.5)
                self.assertEqual(ctx.exception.status, spattn.Status.CALIBRATION_MISSING)

    def test_text_encoder_is_dense(self):
        # Not a target: listed, always dense, whatever the user config asks.
        with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_target.yaml")) as c, \
                spattn.Model.open(WAN_MINI, c) as m:
            self.assertEqual(m.components, ["scheduler", "text_encoder", "tokenizer", "transformer",
                                            "transformer_2", "vae"])
            p = m.lookup("text_encoder", "blocks.0.attn1", timestep=0.5)
            self.assertFalse(p.enabled)
            self.assertIs(p.disabled_reason, spattn.DisabledReason.NOT_TARGET)
            self.assertIs(m.phase_key("text_encoder", timestep=0.5), spattn.PhaseKey.DENSE)

    def test_phase_key(self):
        # visualgen_target.yaml: dense until timestep 0.6, sparse below it.
        with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_target.yaml")) as c, \
                spattn.Model.open(WAN_MINI, c) as m:
            for component in ("transformer", "transformer_2"):
                self.assertIs(m.phase_key(component, timestep=0.6), spattn.PhaseKey.DENSE)
                self.assertIs(m.phase_key(component, "prefill", 0.59), spattn.PhaseKey.SPARSE)
                self.assertIs(m.phase_key(component), spattn.PhaseKey.SPARSE)
            # The per-layer key of an ignored layer stays dense where the component's is sparse.
            self.assertIs(m.lookup("transformer", "blocks.0.attn1", timestep=0.59).phase_key, spattn.PhaseKey.DENSE)
            with self.assertRaises(spattn.Error) as ctx:
                m.phase_key("nope", timestep=0.5)
            self.assertEqual(ctx.exception.status, spattn.Status.NOT_FOUND)
            with self.assertRaises(spattn.Error) as ctx:
                m.phase_key("transformer", timestep=1.5)
            self.assertEqual(ctx.exception.status, spattn.Status.INVALID_ARGUMENT)

    def test_vsa_layer_params(self):
        with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_vsa.yaml")) as c, \
                spattn.Model.open(WAN_MINI, c) as m:
            p = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
            self.assertEqual((p.algorithm, p.enabled, p.phase_key), ("vsa", True, "sparse"))
            self.assertEqual((p.vsa_sparsity, p.vsa_cube_shape), (0.9, (4, 4, 4)))
            self.assertEqual(spattn.LayerParams.from_c(p.to_c()), p)
            before = m.lookup("transformer", "blocks.3.attn1", timestep=0.95)  # before the cutoff
            self.assertEqual((before.enabled, before.vsa_sparsity, before.vsa_cube_shape), (False, 0.0, (0, 0, 0)))


if __name__ == "__main__":
    unittest.main()
