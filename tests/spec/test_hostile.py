"""Hostile or broken input: refused quickly, never constructed, never anything but SpecError."""

from __future__ import annotations

import time

import pytest

from gradcheck.errors import SchemaError, SpecError
from gradcheck.spec.load import load_spec_text

from .test_load import FULL

PATH = "evil.yaml"

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refused(text: str) -> SchemaError:
    start = time.perf_counter()
    with pytest.raises(SchemaError) as info:
        load_spec_text(text, PATH)
    assert time.perf_counter() - start < 1.0
    return info.value


def test_billion_laughs_is_refused_before_expansion():
    error = refused(BILLION_LAUGHS)
    assert str(error).splitlines()[0] == f"{PATH}:1:4: YAML anchors and aliases are not allowed"


def test_python_object_tag_is_never_constructed(monkeypatch):
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command))
    error = refused("loss: !!python/object/apply:os.system ['echo pwned']\n")
    assert str(error).splitlines()[0] == f"{PATH}:1:7: YAML tags are not allowed"
    assert calls == []


def test_documents_over_one_megabyte_are_refused():
    error = refused("description: " + "x" * 1_000_001 + "\n")
    assert str(error).splitlines()[0] == f"{PATH}:1:1: the spec is larger than 1 MB"


def test_deep_flow_nesting_is_refused_quickly():
    error = refused("loss: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nesting is deeper than 64 levels" in str(error)


def test_deep_block_nesting_is_refused():
    text = "".join(" " * i + "a:\n" for i in range(200)) + " " * 200 + "a: 1\n"
    error = refused(text)
    assert "nesting is deeper than 64 levels" in str(error)


def test_deep_expression_is_an_expression_error():
    with pytest.raises(SpecError) as info:
        load_spec_text("inputs: {x: {shape: []}}\nloss: " + "(" * 500 + "x" + ")" * 500 + "\nclaims: []\n", PATH)
    assert info.value.location is not None


def _mutations(text: str):
    """Truncations, deleted characters and swapped lines of a valid spec."""
    for cut in range(0, len(text), 59):
        yield text[:cut]
    for index in range(3, len(text), 61):
        yield text[:index] + text[index + 1 :]
    lines = text.splitlines(keepends=True)
    for index in range(0, len(lines) - 1, 2):
        swapped = lines[:]
        swapped[index], swapped[index + 1] = swapped[index + 1], swapped[index]
        yield "".join(swapped)
    junk = ("\t", ": ", "- ", "{", "]", "'", '"', "!", "&", "*", "%", "@", "`", "\x00", "\ufeff")
    for number, index in enumerate(range(5, len(text), 23)):
        yield text[:index] + junk[number % len(junk)] + text[index:]


def test_mutated_specs_raise_only_located_spec_errors():
    for text in _mutations(FULL):
        try:
            load_spec_text(text, PATH)
        except SpecError as error:
            assert error.location is not None, text
            assert "internal error" not in error.message, (text, str(error))
