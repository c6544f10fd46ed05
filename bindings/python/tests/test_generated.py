"""The checked-in cdef must be what tools/gen_cdef.py makes from the current header."""
import importlib.util
import os
import unittest

from support import HEADER, HERE

PACKAGE = os.path.join(HERE, "..", "spattn")


class GeneratedCdef(unittest.TestCase):
    def test_cdef_matches_header(self):
        spec = importlib.util.spec_from_file_location("gen_cdef", os.path.join(HERE, "..", "tools", "gen_cdef.py"))
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        with open(HEADER, encoding="utf-8") as f:
            expected = gen.generate(f.read())
        with open(os.path.join(PACKAGE, "_cdef.py"), encoding="utf-8") as f:
            actual = f.read()
        self.assertEqual(actual, expected,
                         "bindings/python/spattn/_cdef.py is stale: run "
                         "bindings/python/tools/gen_cdef.py include/spattn/spattn.h "
                         "bindings/python/spattn/_cdef.py")

    def test_every_header_function_is_in_the_library(self):
        import re
        import spattn
        with open(HEADER, encoding="utf-8") as f:
            names = re.findall(r"SPATTN_API[^;(]*?\b(spattn_\w+)\s*\(", f.read().replace("\n", " "))
        self.assertGreater(len(names), 20)
        for name in names:
            self.assertTrue(callable(getattr(spattn.lib, name)), name)

    def test_version_handshake(self):
        import spattn
        self.assertEqual(spattn.version(), spattn.__version__)
        self.assertEqual(spattn.lib.spattn_version(), spattn.CONSTANTS["SPATTN_VERSION_NUMBER"])


if __name__ == "__main__":
    unittest.main()
