"""Reads include/spattn/spattn.h for the binding generators and checkers (standard library only).

The header is pure C99 in a fixed style (see DESIGN.md): `typedef enum NAME {...} NAME;`,
`typedef struct NAME {...} NAME;`, `SPATTN_API RET NAME(PARAMS);`. This module returns those as
plain data, and holds the one rule that names enum values in every binding and in the
JSON/CLI output (the vocabulary):

    the spelling of a value is the lowercase suffix of its C constant after the enum's prefix;
    the prefix is the one of the enum's `_MAX_ENUM` sentinel (SPATTN_DISABLED_ for
    spattn_disabled_reason: SPATTN_DISABLED_IGNORED -> "ignored"), and for spattn_status, whose
    values are SPATTN_OK and SPATTN_ERR_*, "SPATTN_ERR_" or else "SPATTN_" (-> "ok",
    "out_of_range"). Sentinels are not values.

Used by bindings/python/tools/generate.py and bindings/csharp/tools/check_pinvoke.py; the Rust
test (bindings/rust/spattn/tests/vocabulary.rs) applies the same rule.
"""
import collections
import re

Enum = collections.namedtuple("Enum", "name values comments")  # values: [(CONSTANT, int)]
Field = collections.namedtuple("Field", "name ctype array")     # array: "3" or None
Function = collections.namedtuple("Function", "name ret params")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def without_preprocessor(text):
    return "\n".join(l for l in text.splitlines() if not l.strip().startswith("#"))


def enums(header_text):
    """Every `typedef enum` of the header, sentinel included, with each constant's comment."""
    result = []
    for name, body, alias in re.findall(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", header_text, re.S):
        values, comments = [], {}
        for m in re.finditer(r"(\w+)\s*=\s*(-?(?:0[xX][0-9a-fA-F]+|\d+))\s*,?[ \t]*(/\*(.*?)\*/)?", body, re.S):
            values.append((m.group(1), int(m.group(2), 0)))
            if m.group(4):
                comments[m.group(1)] = " ".join(m.group(4).split())
        result.append(Enum(alias, values, comments))
    return result


def sentinel(enum):
    return next(c for c, _ in enum.values if c.endswith("_MAX_ENUM"))


def values(enum):
    """[(CONSTANT, int)] without the _MAX_ENUM sentinel."""
    return [(c, v) for c, v in enum.values if not c.endswith("_MAX_ENUM")]


def spelling(enum, constant):
    """The vocabulary spelling of one constant: SPATTN_SOURCE_FORMULA -> "formula"."""
    for prefix in (sentinel(enum)[:-len("MAX_ENUM")], "SPATTN_ERR_", "SPATTN_"):
        if constant.startswith(prefix):
            return constant[len(prefix):].lower()
    raise ValueError("%s does not start with its enum's prefix" % constant)


def pascal(snake):
    """disabled_reason -> DisabledReason; float8_e5m2 -> Float8E5m2."""
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def type_name(enum_or_struct_name):
    """spattn_disabled_reason -> DisabledReason."""
    return pascal(enum_or_struct_name[len("spattn_"):])


def structs(header_text):
    """{name: [Field]} of every `typedef struct` with a body."""
    text = strip_comments(header_text)
    result = {}
    for name, body, alias in re.findall(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if decl:
                m = re.match(r"(.*?)(\w+)\s*(\[(\d+)\])?$", decl)
                fields.append(Field(m.group(2), m.group(1).replace("const ", "").strip(), m.group(4)))
        result[alias] = fields
    return result


def split_params(params):
    params = params.strip()
    return [] if params in ("", "void") else [p.strip() for p in params.split(",")]


def functions(header_text):
    """{name: Function} of every SPATTN_API function."""
    flat = " ".join(without_preprocessor(strip_comments(header_text)).split())
    return {name: Function(name, ret.strip(), split_params(params))
            for ret, name, params in re.findall(r"SPATTN_API\s+([^;()]*?)\b(spattn_\w+)\s*\(([^)]*)\)\s*;", flat)}
