"""Destroy-after-use patterns: nothing may crash; misuse raises spattn.Error."""
import gc
import threading
import unittest

import spattn
from support import WAN_MINI

TARGET = "attention_config: {sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}}"


class Lifetime(unittest.TestCase):
    def assertClosedError(self, fn, *args):
        with self.assertRaises(spattn.Error) as ctx:
            fn(*args)
        self.assertEqual(ctx.exception.status, spattn.Status.SPATTN_ERR_INVALID_ARGUMENT)
        self.assertIn("closed", ctx.exception.message)

    def test_close_twice_and_use_after_close(self):
        c = spattn.Config.parse(TARGET)
        c.close()
        c.close()
        self.assertTrue(c.closed)
        self.assertClosedError(lambda: c.algorithm)
        self.assertClosedError(c.to_json)
        self.assertClosedError(c.skip_softmax)
        m = spattn.Model.open(WAN_MINI)
        m.close()
        m.close()
        self.assertClosedError(m.lookup, "transformer", "blocks.3.attn1")
        self.assertClosedError(lambda: m.components)
        self.assertClosedError(m.to_json)

    def test_with_block_closes(self):
        with spattn.Model.open(WAN_MINI) as m:
            pass
        self.assertTrue(m.closed)
        self.assertClosedError(m.lookup, "transformer", "blocks.3.attn1")

    def test_config_closed_before_model_use(self):
        c = spattn.Config.parse(TARGET)
        m = spattn.Model.open(WAN_MINI, c)
        c.close()
        del c
        gc.collect()
        p = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        self.assertTrue(p.enabled)
        self.assertEqual(p.target_source, "user")
        m.close()

    def test_closed_config_cannot_open_a_model(self):
        c = spattn.Config.parse(TARGET)
        c.close()
        self.assertClosedError(spattn.Model.open, WAN_MINI, c)

    def test_layer_params_outlive_the_model(self):
        with spattn.Model.open(WAN_MINI) as m:
            p = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        self.assertTrue(p.to_c().enabled)  # a plain value, owned by Python

    def test_garbage_collector_frees(self):
        for _ in range(200):
            spattn.Model.open(WAN_MINI, spattn.Config.parse(TARGET)).lookup("transformer", "blocks.1.attn1")
        gc.collect()

    def test_threads_share_one_model(self):
        errors = []
        with spattn.Model.open(WAN_MINI) as m:
            def work():
                try:
                    for i in range(200):
                        p = m.lookup("transformer", "blocks.%d.attn1" % (i % 40), timestep=0.5)
                        assert p.enabled == (i % 40 != 0)
                except Exception as e:  # noqa: BLE001  (reported below)
                    errors.append(e)
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
