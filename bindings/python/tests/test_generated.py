"""The generated modules match the header; the public API is documented, typed and spelled as
the vocabulary says."""
import enum
import importlib.util
import inspect
import os
import re
import unittest

import spattn

from .support import HEADER, HERE

PACKAGE = os.path.join(HERE, "..", "spattn")


def load_tool(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Generated(unittest.TestCase):
    def test_generated_modules_match_header(self):
        gen = load_tool("generate", os.path.join(HERE, "..", "tools", "generate.py"))
        with open(HEADER, encoding="utf-8") as f:
            expected = gen.generate(f.read())
        for name, text in expected.items():
            with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
                self.assertEqual(f.read(), text,
                                 "bindings/python/spattn/%s is stale: run bindings/python/tools/generate.py "
                                 "include/spattn/spattn.h bindings/python/spattn" % name)

    def test_every_header_function_is_in_the_library(self):
        with open(HEADER, encoding="utf-8") as f:
            names = re.findall(r"SPATTN_API[^;(]*?\b(spattn_\w+)\s*\(", f.read().replace("\n", " "))
        self.assertGreater(len(names), 20)
        for name in names:
            self.assertTrue(callable(getattr(spattn.lib, name)), name)

    def test_version_handshake(self):
        self.assertEqual(spattn.version(), spattn.__version__)
        self.assertEqual(spattn.lib.spattn_version(), spattn.CONSTANTS["SPATTN_VERSION_NUMBER"])


class Vocabulary(unittest.TestCase):
    """Every C enum is a Python enum whose members are the constants' lowercase suffixes, with
    the C values, read here from the header through cffi (not through the generator)."""

    def c_enums(self):
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        return re.findall(r"typedef enum (spattn_\w+) \{", text)

    def test_every_enum_follows_the_rule(self):
        names = self.c_enums()
        self.assertGreaterEqual(len(names), 10)
        for c_name in names:
            with self.subTest(c_name):
                cls = getattr(spattn, "".join(p.capitalize() for p in c_name[len("spattn_"):].split("_")))
                elements = spattn.ffi.typeof(c_name).elements  # {value: CONSTANT}
                sentinel = next(c for c in elements.values() if c.endswith("_MAX_ENUM"))
                prefixes = (sentinel[:-len("MAX_ENUM")], "SPATTN_ERR_", "SPATTN_")
                expected = {}
                for value, constant in elements.items():
                    if constant != sentinel:
                        prefix = next(p for p in prefixes if constant.startswith(p))
                        expected[constant[len(prefix):].lower()] = value
                if issubclass(cls, enum.IntEnum):
                    got = {m.name.lower(): m.value for m in cls}
                else:
                    got = {m.value: m.c_value for m in cls}
                    self.assertEqual({m.name.lower() for m in cls}, set(got))
                    for m in cls:
                        self.assertEqual(str(m), m.value)
                        self.assertIs(cls(m.value), m)
                        self.assertIs(cls.from_c(m.c_value), m)
                self.assertEqual(got, expected)
                self.assertNotIn("max_enum", got)

    def test_disabled_reason_spellings(self):
        # Spelled as in the JSON and the command line (issue: four spellings of "enabled").
        self.assertEqual([m.value for m in spattn.DisabledReason],
                         ["not", "not_configured", "ignored", "timestep", "not_target", "zero_threshold"])
        self.assertEqual(spattn.Source.FORMULA, "formula")
        self.assertEqual(spattn.PhaseKey.SPARSE, "sparse")


def public_members():
    """(qualified name, object) of every public name of the package and, for its classes, of
    their public methods and properties (enum members and dataclass fields excepted)."""
    for name in spattn.__all__:
        obj = getattr(spattn, name)
        if name in ("ffi", "lib", "CONSTANTS", "library_path"):
            continue
        yield name, obj
        if isinstance(obj, type) and not issubclass(obj, enum.Enum):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if inspect.isfunction(member) or isinstance(member, property):
                    yield "%s.%s" % (name, attr), member


class PublicApi(unittest.TestCase):
    def test_docstrings(self):
        missing = [name for name, obj in public_members() if not (obj.__doc__ or "").strip()]
        self.assertEqual(missing, [])

    def test_type_hints(self):
        unannotated = []
        for name, obj in public_members():
            fn = obj.fget if isinstance(obj, property) else obj
            if not inspect.isfunction(fn):
                continue
            sig = inspect.signature(fn)
            params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")
                      and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if sig.return_annotation is inspect.Signature.empty or any(
                    p.annotation is inspect.Parameter.empty for p in params):
                unannotated.append(name)
        self.assertEqual(unannotated, [])

    def test_py_typed_marker(self):
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(spattn.__file__), "py.typed")))


if __name__ == "__main__":
    unittest.main()
