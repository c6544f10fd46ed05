"""Destroy-after-use patterns: nothing may crash; misuse raises spattn.Error."""
import gc
import threading
import unittest

import spattn
from .support import WAN_MINI

TARGET = "attention_config: {backend: TRTLLM, sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}}"


class Lifetime(unittest.TestCase):
    def assertClosedError(self, fn, *args):
        with self.assertRaises(spattn.Error) as ctx:
            fn(*args)
        self.assertEqual(ctx.exception.status, spattn.Status.INVALID_ARGUMENT)
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
        self.assertIs(p.target_source, spattn.Source.USER)
        m.close()

    def test_closed_config_cannot_open_a_model(self):
        c = spattn.Config.parse(TARGET)
        c.close()
        self.assertClosedError(spattn.Model.open, WAN_MINI, c)

    def test_layer_params_outlive_the_model(self):
        with spattn.Model.open(WAN_MINI) as m:
            p = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
        self.assertTrue(p.to_c().enabled)  # a plain value, owned by Python

    def count_destroyed_by_gc(self, model_class, count):
        """Opens `count` models of `model_class` (with their configs), drops them unclosed, and
        returns how many models and configs the garbage collector destroyed."""
        destroyed = {"model": 0, "config": 0}

        def counting(kind, destroy):
            def wrapper(ptr):
                destroyed[kind] += 1
                destroy(ptr)
            return wrapper

        saved = (spattn.Model._destroy, spattn.Config._destroy)
        spattn.Model._destroy = counting("model", saved[0])
        spattn.Config._destroy = counting("config", saved[1])
        try:
            for _ in range(count):
                model_class.open(WAN_MINI, spattn.Config.parse(TARGET)).lookup("transformer", "blocks.1.attn1")
            gc.collect()
        finally:
            spattn.Model._destroy, spattn.Config._destroy = saved
        return destroyed

    def test_garbage_collector_frees(self):
        self.assertEqual(self.count_destroyed_by_gc(spattn.Model, 200), {"model": 200, "config": 200})

    def test_garbage_collector_check_catches_a_leak(self):
        # The check above on a handle class that never hands its pointer to the collector.
        leaked = []

        class LeakyModel(spattn.Model):
            def __init__(self, ptr):
                self._ptr = ptr
                leaked.append(ptr)

        self.assertEqual(self.count_destroyed_by_gc(LeakyModel, 5), {"model": 0, "config": 5})
        for ptr in leaked:
            spattn.lib.spattn_model_destroy(ptr)

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
