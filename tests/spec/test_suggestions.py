"""Did-you-mean hints: case first, then edit distance, over every name in scope; numpy
spellings the expression language lacks get a hint that says what to write instead."""

from __future__ import annotations

import pytest

from gradcheck.errors import SpecError
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.suggest import FUNCTION_ALIASES, closest
from gradcheck.spec.load import load_spec_text

PATH = "specs/s.yaml"


def first_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, PATH)
    return getattr(caught.value, "errors", (caught.value,))[0]


def test_case_comes_before_edit_distance():
    assert closest("p", ["lp", "P", "q"]) == "P"
    assert closest("theta", ["Theta", "beta"]) == "Theta"
    assert closest("Thetta", ["Theta", "beta"]) == "Theta"
    assert closest("sigmod", WHITELIST) == "sigmoid"
    assert closest("lenght", ["length", "height"]) == "length"  # a swap costs one edit
    assert closest("zz", ["Theta", "beta"]) is None


def test_an_unknown_name_in_an_expression_suggests_the_name_in_another_case():
    text = "inputs: {P: {shape: [3]}, lp: {shape: [3]}}\nloss: sum(p * lp)\nclaims: [{name: g, wrt: P, gradient: lp}]\n"
    error = first_error(text)
    assert str(error) == "specs/s.yaml:2:11: unknown name 'p'\n  sum(p * lp)\n      ^\n  did you mean 'P'?"


def test_wrt_in_the_wrong_case():
    text = "inputs: {W: {shape: [3]}}\nloss: sum(W)\nclaims: [{name: g, wrt: w, gradient: ones_like(W)}]\n"
    assert str(first_error(text)) == "specs/s.yaml:3:25: claim 'g': wrt 'w' is not an input\n  did you mean 'W'?"


def test_an_alias_is_not_a_function_and_the_hint_says_what_to_write():
    text = "inputs: {x: {shape: [3]}}\nloss: sum(heaviside(x))\nclaims: [{name: g, wrt: x, gradient: x}]\n"
    assert str(first_error(text)) == (
        "specs/s.yaml:2:11: unknown function 'heaviside'\n"
        "  sum(heaviside(x))\n"
        "      ^^^^^^^^^\n"
        "  'heaviside' is not an expression function; use where(x > 0, 1, 0)"
    )


def test_numpy_spellings_get_their_replacement():
    for name, text in [
        ("matmul(A, B)", "'matmul' is not an expression function; use a @ b"),
        ("power(x, 2)", "'power' is not an expression function; use a ** b"),
        ("expit(x)", "'expit' is not an expression function; use sigmoid(x)"),
        ("average(x)", "'average' is not an expression function; use mean(x)"),
    ]:
        spec = f"inputs: {{x: {{shape: [3]}}}}\nloss: sum({name})\nclaims: [{{name: g, wrt: x, gradient: x}}]\n"
        assert first_error(spec).hint == text


def test_a_function_that_joins_the_whitelist_wins_over_its_alias_entry():
    # another engineer may add power: its table entry is then dead, not in the way
    from gradcheck.expr.parse import parse

    assert "power" in FUNCTION_ALIASES
    assert parse("power(x, y)", WHITELIST | {"power"}).func == "power"


def test_functions_of_the_table_have_no_alias_entry():
    assert not set(FUNCTION_ALIASES) & WHITELIST


def test_a_numpy_prefix_says_to_drop_it():
    text = "inputs: {x: {shape: [3]}}\nloss: sum(np.exp(x))\nclaims: [{name: g, wrt: x, gradient: x}]\n"
    assert str(first_error(text)) == (
        "specs/s.yaml:2:11: attribute access is not allowed\n"
        "  sum(np.exp(x))\n"
        "      ^^^^^^\n"
        "  write exp(...): functions are called by their bare names"
    )


def test_a_numpy_prefix_on_a_missing_function_gives_the_alias_hint():
    text = "inputs: {x: {shape: [3]}}\nloss: sum(np.heaviside(x))\nclaims: [{name: g, wrt: x, gradient: x}]\n"
    assert first_error(text).hint == "'heaviside' is not an expression function; use where(x > 0, 1, 0)"


def test_a_function_used_as_a_value():
    text = "inputs: {x: {shape: [3]}}\nloss: sum(x) * exp\nclaims: [{name: g, wrt: x, gradient: x}]\n"
    assert first_error(text).hint == "'exp' is a function: call it, exp(...)"


def test_spellings_of_the_new_functions_get_their_replacement():
    for name, text in [
        ("erfc(x)", "'erfc' is not an expression function; use 1 - erf(x)"),
        ("log_expit(x)", "'log_expit' is not an expression function; use log_sigmoid(x)"),
        ("silu(x)", "'silu' is not an expression function; use x * sigmoid(x)"),
        ("ptp(x)", "'ptp' is not an expression function; use max(x) - min(x)"),
    ]:
        spec = f"inputs: {{x: {{shape: [3]}}}}\nloss: sum({name})\nclaims: [{{name: g, wrt: x, gradient: x}}]\n"
        assert first_error(spec).hint == text
