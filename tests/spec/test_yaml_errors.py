"""YAML syntax errors: the right line, the line itself with a caret, and what to do, in plain words."""

from __future__ import annotations

import pytest

from gradcheck.errors import SchemaError
from gradcheck.spec.load import load_spec_text

PATH = "specs/bad.yaml"


def message(text: str) -> str:
    with pytest.raises(SchemaError) as caught:
        load_spec_text(text, PATH)
    return str(caught.value)


def test_a_key_indented_less_than_its_siblings():
    text = "inputs:\n  x: {shape: [3]}\nloss: sum(x)\nclaims:\n  - name: g\n    wrt: x\n   gradient: ones_like(x)\n"
    assert message(text) == (
        "specs/bad.yaml:7:4: invalid YAML: bad indentation: this line does not line up with the block"
        " that starts on line 5\n"
        "     gradient: ones_like(x)\n"
        "     ^\n"
        "  indent it exactly like the other keys of its block (with spaces)"
    )


def test_a_key_indented_more_than_its_siblings_after_blank_and_comment_lines():
    text = "inputs:\n  x: {shape: [3]}\n\n# a comment\n\n   y: {shape: [3]}\nloss: sum(x)\n"
    assert message(text).splitlines()[:3] == [
        "specs/bad.yaml:6:4: invalid YAML: bad indentation: this line does not line up with the block"
        " that starts on line 2",
        "     y: {shape: [3]}",
        "     ^",
    ]


def test_an_unclosed_brace_is_reported_where_it_opens():
    text = "inputs: {x: {shape: [3]}\nloss: sum(x)\nclaims: []\n"
    assert message(text) == (
        "specs/bad.yaml:1:9: invalid YAML: this '{' is not closed (expected ',' or '}' on line 2)\n"
        "  inputs: {x: {shape: [3]}\n"
        "          ^\n"
        "  close it with '}' on the same line"
    )


def test_an_unclosed_bracket_at_the_end_of_the_file():
    assert message("inputs: [\n").splitlines()[:3] == [
        "specs/bad.yaml:1:9: invalid YAML: this '[' is not closed (expected ',' or ']' on line 2)",
        "  inputs: [",
        "          ^",
    ]


def test_an_unclosed_quote_is_reported_where_it_opens():
    text = 'inputs: {x: {shape: [3]}}\nloss: "sum(x)\nclaims: []\n'
    assert message(text) == (
        "specs/bad.yaml:2:7: invalid YAML: this quote is not closed\n"
        '  loss: "sum(x)\n'
        "        ^\n"
        "  end the string with the same quote on this line"
    )


def test_a_key_without_its_colon_is_reported_on_its_own_line():
    text = "inputs:\n  x: {shape: [3]}\nloss sum(x)\nclaims: []\n"
    assert message(text) == (
        "specs/bad.yaml:3:1: invalid YAML: expected ':' after the key on this line\n"
        "  loss sum(x)\n"
        "  ^\n"
        "  write key: value (a space after the colon)"
    )


def test_a_continuation_line_that_looks_like_a_key():
    text = "inputs: {x: {shape: [3]}}\nloss: sum(x)\n  extra: 1\nclaims: []\n"
    assert message(text) == (
        "specs/bad.yaml:3:8: invalid YAML: a ':' here starts a key, but this line continues the value above it\n"
        "    extra: 1\n"
        "         ^\n"
        "  indent this key like its siblings, or quote the value if it contains ': '"
    )


def test_a_tab_used_for_indentation():
    text = "inputs:\n\tx: {shape: [3]}\nloss: x\n"
    assert message(text) == (
        "specs/bad.yaml:2:1: invalid YAML: a tab cannot indent YAML\n   x: {shape: [3]}\n  ^\n  indent with spaces"
    )
