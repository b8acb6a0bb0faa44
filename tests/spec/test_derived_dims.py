"""Derived dims in shapes (`F + 1`, `n * (n - 1) / 2`, `2 * k`): loaded, bound, drawn, budgeted, located."""

from __future__ import annotations

import pytest
from support import check_text

from gradcheck.errors import ExpressionError, SchemaError, ShapeError
from gradcheck.expr.dims import shape_str
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

INTERCEPT = """\
spec: intercept
dims:
  M: [2, 6]
  F: [1, 4]
inputs:
  X: {shape: [M, F]}
  w: {shape: [F + 1]}
  y: {shape: [M]}
graph:
  r: X @ w[1:] + w[0] - y
loss: 0.5 * sum(r ** 2)
claims:
  - name: right
    wrt: w
    gradient: concatenate([ones((1,)) * sum(r), X.T @ r])
  - name: short
    wrt: w
    gradient: X.T @ r
"""


def _problem(text):
    return build_problem(load_spec_text(text, "d.yaml"))


def _verdicts(text, **settings):
    return check_text(text, "d.yaml", **{"examples": 20, **settings})


def test_an_intercept_dim_is_checked_end_to_end():
    verdicts = _verdicts(INTERCEPT)
    assert verdicts["right"].label == "pass"
    short = verdicts["short"]
    assert short.label == "shape-mismatch"
    assert short.diagnosis == "claimed gradient has shape (F,) but w has shape (F + 1,)"


def test_derived_dims_agree_in_any_written_order():
    text = INTERCEPT.replace("  y: {shape: [M]}", "  y: {shape: [M]}\n  b: {shape: [1 + F]}").replace(
        "gradient: X.T @ r", "gradient: b"
    )
    problem = _problem(text)
    assert shape_str(problem.input_shapes["b"]) == "(1 + F,)"
    assert [p.static for p in problem.plans] == [None, None]


PAIRS = """\
spec: pairs
dims:
  n: [2, 7]
  k: [1, 3]
inputs:
  x: {shape: [n]}
  p: {shape: ["n * (n - 1) / 2"]}
  e: {shape: [2 * k]}
loss: sum(p ** 2) * sum(x) + sum(e ** 3)
claims:
  - name: p
    wrt: p
    gradient: 2 * p * sum(x)
  - name: e
    wrt: e
    gradient: 3 * e ** 2
"""


def test_derived_sizes_follow_the_drawn_dims():
    verdicts = _verdicts(PAIRS)
    assert {v.label for v in verdicts.values()} == {"pass"}
    for record in verdicts["p"].records:
        n = record.sizes["n"]
        assert n * (n - 1) // 2 >= 1
    assert len({r.sizes["n"] for r in verdicts["p"].records}) > 1


@pytest.mark.parametrize(
    "entry, error, message, col",
    [
        ("n / 2", ShapeError, "shape entry `n / 2` is not an integer at n=3 (3/2)", 16),
        ("n // 2", ExpressionError, "`n // 2` rounds down at n=3: derived dims divide exactly", 16),
        (
            "n - 2",
            ShapeError,
            "shape entry `n - 2` must be at least 1 for every size in the dims' ranges, but it is 0 at n=2",
            16,
        ),
        ("n ** k", ExpressionError, "the exponent `k` must be an integer from 0 to 8", 16),
        ("n + q", ExpressionError, "unknown dim 'q' in shape entry `n + q`", 20),
        ("exp(n)", ExpressionError, "`exp(n)` is not allowed in a shape entry", 16),
        ("n / k", ExpressionError, "`n / k` must divide by a nonzero integer constant", 16),
    ],
)
def test_bad_derived_dims_are_located(entry, error, message, col):
    text = PAIRS.replace('"n * (n - 1) / 2"', f'"{entry}"')
    with pytest.raises(error) as info:
        _problem(text)
    err = info.value
    assert err.message == message
    assert (err.location.file, err.location.line, err.location.col) == ("d.yaml", 7, col)


def test_input_budget_bounds_derived_dims_over_the_whole_box():
    text = """\
spec: box
dims:
  M: [1, 20000]
  N: [1, 20000]
inputs:
  x: {shape: ["(M - N) ** 2 + 1"]}
loss: sum(x ** 2)
claims:
  - {name: g, wrt: x, gradient: 2 * x}
"""
    with pytest.raises(ShapeError) as info:
        _problem(text)
    assert info.value.message == (
        "input 'x' with shape ((M - N) ** 2 + 1,) would have up to 399960002 elements at M=1, N=20000 (budget 10000000)"
    )
    assert info.value.hint == "narrow the dims' ranges, or raise the budget with --max-elements N"


def test_drawn_sizes_keep_a_derived_dim_distinct_from_the_other_dims():
    records = _verdicts(INTERCEPT, examples=30)["right"].records
    assert len(records) == 30
    assert all(r.sizes["M"] not in (r.sizes["F"], r.sizes["F"] + 1) for r in records), [r.sizes for r in records]


def test_a_quoted_dim_name_with_spaces_is_the_dim():
    problem = _problem(INTERCEPT.replace("X: {shape: [M, F]}", 'X: {shape: [" M", F]}'))
    assert shape_str(problem.input_shapes["X"]) == "(M, F)"


def test_a_keyword_dim_in_a_derived_dim_says_to_rename_it():
    text = INTERCEPT.replace("  F: [1, 4]", "  in: [1, 4]").replace("[M, F]", "[M, in]").replace("[F + 1]", "[in + 1]")
    with pytest.raises(ExpressionError) as info:
        _problem(text)
    err = info.value
    assert (
        err.message
        == "shape entry `in + 1` uses the dim 'in', a Python keyword, which only a shape entry of its own can name"
    )
    assert err.hint == "rename the dim (e.g. n_in) to use it in a derived dim"
    assert (err.location.line, err.location.col) == (7, 15)  # unquoted: the i of `in`


def test_input_budget_with_an_interior_maximum_says_it_is_an_interval_bound():
    text = "spec: bump\ndims:\n  M: [1, 20000]\ninputs:\n  x: {shape: [M * (20001 - M)]}\nloss: sum(x ** 2)\n"
    with pytest.raises(ShapeError) as info:
        _problem(text + "claims:\n  - {name: g, wrt: x, gradient: 2 * x}\n")
    assert info.value.message == (
        "input 'x' with shape (M * (20001 - M),) may have up to 400000000 elements for M in 1..20000 (budget 10000000)"
    )


def test_a_divisor_too_large_to_check_is_refused():
    from gradcheck.expr.dims import parse_dim

    with pytest.raises(ShapeError) as info:
        parse_dim("M * N / 1000", {"M": (1, 1000), "N": (1, 1000)})
    assert info.value.message == (
        "shape entry `M * N / 1000` divides by too large a number to check that it is always an integer"
    )
    assert info.value.hint == "divide by a smaller integer"


@pytest.mark.parametrize(
    "entry, message",
    [
        ("((n + k + 1) ** 8) ** 8", "`((n + k + 1) ** 8) ** 8` has degree 64 in the dims (at most 16)"),
        ("+".join(["n"] * 120), "a shape entry is at most 200 characters, this one has 239"),
    ],
)
def test_hostile_derived_dims_are_refused_cheaply(entry, message):
    import time

    from gradcheck.expr.dims import parse_dim

    started = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        parse_dim(entry, {"n": (2, 7), "k": (1, 3)})
    assert info.value.message == message
    assert time.perf_counter() - started < 0.5


def test_a_square_domain_sees_derived_dims_agree():
    text = INTERCEPT.replace("  y: {shape: [M]}", "  y: {shape: [M]}\n  S: {shape: [F + 1, 1 + F], domain: spd}")
    problem = _problem(text)
    assert shape_str(problem.input_shapes["S"]) == "(F + 1, 1 + F)"
    with pytest.raises(SchemaError) as info:
        _problem(text.replace("[F + 1, 1 + F]", "[F + 1, F + 2]"))
    assert info.value.message == "spd needs a square matrix: shape [F + 1, F + 2]"
