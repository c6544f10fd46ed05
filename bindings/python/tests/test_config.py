"""Config: YAML and JSON parsing, accessors, errors with status and message."""
import os
import pickle
import unittest

import spattn
from .support import CONFIGS

LLM_YAML = """\
sparse_attention_config:
  algorithm: skip_softmax
  threshold_scale_factor:
    prefill: 1000.0
    decode: 500.0
"""
LLM_JSON = ('{"sparse_attention_config": {"algorithm": "skip_softmax", '
            '"threshold_scale_factor": {"prefill": 1000.0, "decode": 500.0}}}')


class ConfigParse(unittest.TestCase):
    def test_yaml_per_phase_threshold(self):
        with spattn.Config.parse(LLM_YAML) as c:
            self.assertIs(c.algorithm, spattn.Algorithm.SKIP_SOFTMAX)
            self.assertEqual(c.algorithm, "skip_softmax")
            self.assertIsNone(c.backend)
            s = c.skip_softmax()
            self.assertEqual(s.threshold_scale_factor, spattn.PhaseValues(prefill=1000.0, decode=500.0))
            self.assertIsNone(s.target_sparsity)
            self.assertIsNone(s.disabled_until_timestep)
            self.assertFalse(s.quantize_p)

    def test_json_equals_yaml(self):
        with spattn.Config.parse(LLM_JSON, format="json") as j, \
                spattn.Config.parse(LLM_YAML, spattn.Format.YAML) as y:
            self.assertEqual(j.to_json(), y.to_json())
            self.assertEqual(j.to_dict()["sparse_attention_config"]["threshold_scale_factor"],
                             {"prefill": 1000.0, "decode": 500.0})

    def test_bytes_input_and_round_trip(self):
        with spattn.Config.parse(LLM_YAML.encode()) as c, spattn.Config.parse(c.to_json()) as again:
            self.assertEqual(again.to_json(), c.to_json())

    def test_visualgen_target_from_files(self):
        for name in ("visualgen_target.yaml", "visualgen_target.json"):
            with spattn.Config.from_file(os.path.join(CONFIGS, name)) as c:
                self.assertEqual(c.backend, "TRTLLM")
                s = c.skip_softmax()
                self.assertEqual(s.target_sparsity, spattn.PhaseValues(0.5, 0.5))
                self.assertEqual(s.disabled_until_timestep, 0.6)
                self.assertIsNone(s.threshold_scale_factor)

    def test_modelopt_extras(self):
        with spattn.Config.parse("{algorithm: skip_softmax, n: 2, m: 4, num_sink_tokens: 4, "
                                 "dense_window_size: 64, quantize_p: true}", "yaml") as c:
            s = c.skip_softmax()
            self.assertEqual((s.sparsity_n, s.sparsity_m, s.num_sink_tokens, s.dense_window_size),
                             (2, 4, 4, 64))
            self.assertTrue(s.quantize_p)

    def test_rocket_defaults(self):
        with spattn.Config.parse("sparse_attention_config: {algorithm: rocket, prompt_budget: 2048}") as c:
            self.assertEqual(c.algorithm, "rocket")
            r = c.rocket()
            self.assertEqual((r.window_size, r.kernel_size, r.topr, r.topk, r.prompt_budget, r.page_size),
                             (32, 63, 128.0, 64, 2048, 4))
            self.assertIs(r.kt_cache_dtype, spattn.KtCacheDtype.FLOAT8_E5M2)
            self.assertIsNone(r.seq_len_threshold)

    def test_dsa(self):
        with spattn.Config.parse('{"algorithm": "dsa", "index_topk": 64}') as c:
            d = c.dsa()
            self.assertEqual(d.index_topk, 64)
            self.assertIsNone(d.index_n_heads)
            self.assertTrue(d.skip_indexer_for_short_seqs)
            self.assertFalse(d.enable_heuristic_topk)
            # TensorRT-LLM's defaults for the kernel-selection switches.
            self.assertEqual((d.q_split_threshold, d.use_self_sampling_topk, d.use_cute_dsl_topk), (8192, True, False))
            self.assertIs(d.indexer_k_dtype, spattn.IndexerKDtype.FP8)
            self.assertIsNone(d.index_share_for_mtp_iteration)
            self.assertEqual(spattn.DsaConfig.from_c(d.to_c()), d)
        with spattn.Config.parse("algorithm: dsa\nindex_head_dim: 128\nindexer_k_dtype: fp4\n"
                                 "q_split_threshold: -1\nindex_share_for_mtp_iteration: false\n") as c:
            d = c.dsa()
            self.assertEqual((d.indexer_k_dtype, d.q_split_threshold, d.index_share_for_mtp_iteration),
                             ("fp4", -1, False))
            self.assertEqual(spattn.DsaConfig.from_c(d.to_c()), d)

    def test_vsa(self):
        with spattn.Config.from_file(os.path.join(CONFIGS, "visualgen_vsa.yaml")) as c:
            self.assertEqual((c.algorithm, c.backend), ("vsa", "CUTEDSL"))
            self.assertEqual(c.vsa(), spattn.VsaConfig(vsa_sparsity=0.9, cube_shape=(4, 4, 4),
                                                       disabled_until_timestep=0.9))
        with spattn.Config.parse("algorithm: vsa") as c:
            self.assertEqual(c.vsa(), spattn.VsaConfig(vsa_sparsity=0.9, cube_shape=(4, 4, 4)))
            with self.assertRaises(spattn.Error) as ctx:
                c.dsa()
            self.assertIs(ctx.exception.status, spattn.Status.WRONG_ALGORITHM)


class ConfigErrors(unittest.TestCase):
    def assertError(self, status, fn, *args, **kwargs):
        with self.assertRaises(spattn.Error) as ctx:
            fn(*args, **kwargs)
        e = ctx.exception
        self.assertIs(e.status, status)
        self.assertEqual("SPATTN_ERR_" + e.status.name, e.status_name)
        self.assertTrue(e.message)
        self.assertIn(e.message, str(e))
        return e

    def test_out_of_range_names_the_key(self):
        e = self.assertError(spattn.Status.OUT_OF_RANGE, spattn.Config.parse,
                             "sparse_attention_config:\n  algorithm: skip_softmax\n"
                             "  target_sparsity:\n    prefill: 1.5\n")
        self.assertEqual(int(e.status), 7)
        self.assertEqual(e.status, spattn.Status.OUT_OF_RANGE)
        self.assertEqual(e.status_name, "SPATTN_ERR_OUT_OF_RANGE")
        self.assertIn("sparse_attention_config.target_sparsity.prefill", e.message)
        self.assertIn("1.5", e.message)

    def test_unknown_key_syntax_type(self):
        self.assertError(spattn.Status.UNKNOWN_KEY, spattn.Config.parse,
                         "{algorithm: skip_softmax, threshold: 3}", "yaml")
        self.assertError(spattn.Status.SYNTAX, spattn.Config.parse, '{"algorithm": ', "json")
        self.assertError(spattn.Status.TYPE, spattn.Config.parse,
                         "algorithm: skip_softmax\ntarget_sparsity: [1]\n")

    def test_missing_file_names_it(self):
        e = self.assertError(spattn.Status.IO, spattn.Config.from_file, "/nonexistent/user.yaml")
        self.assertIn("/nonexistent/user.yaml", e.message)

    def test_wrong_algorithm_accessor(self):
        with spattn.Config.parse(LLM_YAML) as c:
            self.assertError(spattn.Status.WRONG_ALGORITHM, c.rocket)

    def test_bad_format_name(self):
        with self.assertRaisesRegex(ValueError, "format: 'toml' is not one of 'auto', 'json', 'yaml'"):
            spattn.Config.parse(LLM_YAML, "toml")
        # The C enums' _MAX_ENUM sentinels are not values.
        with self.assertRaises(ValueError):
            spattn.Config.parse(LLM_YAML, "max_enum")

    def test_wrong_types_are_type_errors(self):
        for text in (123, None, ["algorithm: dsa"]):
            with self.assertRaisesRegex(TypeError, "config text must be str or bytes"):
                spattn.Config.parse(text)
        with self.assertRaisesRegex(TypeError, "path must be a path"):
            spattn.Config.from_file(123)
        with self.assertRaisesRegex(TypeError, "config must be a spattn.Config"):
            spattn.Model.open(os.path.join(CONFIGS, ".."), "algorithm: dsa")

    def test_error_pickles(self):
        # multiprocessing sends exceptions between processes by pickling them.
        e = self.assertError(spattn.Status.UNKNOWN_KEY, spattn.Config.parse,
                             "{algorithm: skip_softmax, threshold: 3}", "yaml")
        again = pickle.loads(pickle.dumps(e))
        self.assertIs(type(again), spattn.Error)
        self.assertIs(again.status, spattn.Status.UNKNOWN_KEY)
        self.assertEqual((again.message, str(again)), (e.message, str(e)))

    def test_repr(self):
        c = spattn.Config.parse(LLM_YAML)
        self.assertEqual(repr(c), "<spattn.Config algorithm=skip_softmax>")
        c.close()
        self.assertEqual(repr(c), "<spattn.Config closed>")


if __name__ == "__main__":
    unittest.main()
