"""fn-index: derived gradients through gathers and shape functions, in forms beyond the one case per
function of cases.py: printed as a person would write them, and verified by gradcheck's own oracles."""

from __future__ import annotations

import pytest

from gradcheck.derive import derive_problem
from gradcheck.derive.algebra import key
from gradcheck.derive.verify import verify_derivation
from gradcheck.examine import CheckSettings
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text


def _spec(inputs: str, loss: str) -> str:
    quoted = "'" + loss.replace("'", "''") + "'"
    return f"""
dims: {{n: [2, 4], m: [3, 5]}}
inputs:
  {inputs}
loss: {quoted}
claims:
  - {{name: none, wrt: x, gradient: zeros_like(x)}}
"""


LABELS = "x: {shape: [n, m]}\n  y: {shape: [n], domain: {integers: [0, m]}}\n  W: {shape: [n]}"
CUBE = "x: {shape: [n, m, m]}\n  y: {shape: [n], domain: {integers: [0, m]}}\n  W: {shape: [n, m]}"
SQUARE = "x: {shape: [m, n, n]}\n  y: {shape: [n], domain: {integers: [0, m]}}\n  W: {shape: [n, n]}"


@pytest.mark.parametrize(
    "inputs, loss, derived",
    [
        (LABELS, "-mean(x[arange(n), y])", "-(onehot(y, m) / n)"),
        (LABELS, "sum(W * x[arange(n), y])", "W[:, None] * onehot(y, m)"),
        (LABELS, "-mean(log_softmax(x)[arange(n), y])", None),
        (LABELS, "sum(W * x[:, y])", 'einsum("ac,cb->ab", W * ones_like(x[:, y]), onehot(y, m))'),
        (CUBE, "sum(W * x[arange(n), :, y])", None),  # apart: the index shape goes in front
        (CUBE, "sum(W * x[arange(n), y])", None),
        (CUBE, "sum(W[:, 0] * x[arange(n), y, 1])", "ERROR-DERIVE"),
        (CUBE, "sum(exp(x[arange(n), y, 1]) * sum(W))", None),
        (SQUARE, "sum(W * x[0, :, arange(n)])", None),
        (SQUARE, "sum(W * x[y, arange(n)])", None),
        (SQUARE, "sum(W * x[-1, arange(n), arange(n)])", None),
        (LABELS, "sum(take_along_axis(x, repeat(y[:, None], 2, axis=1), axis=1) ** 2)", None),
        (LABELS, "sum(take_along_axis(x.T, y[None, :], 0) ** 2)", None),
        ("x: {shape: [n, m]}\n  W: {shape: [m, n]}", "sum(W * transpose(x, (1, 0)))", "transpose(W, (1, 0))"),
        ("x: {shape: [n, m]}\n  W: {shape: [2 * n * m]}", "sum(W * repeat(x, 2))", None),
        ("x: {shape: [n]}\n  W: {shape: [n, n]}", 'sum(einsum("...i,...i", W, x))', None),
        ("x: {shape: [m, n]}\n  W: {shape: [m, n]}", 'sum(einsum("i...,i...->...", W, x) ** 2)', None),
        ("x: {shape: [n, 1]}\n  W: {shape: [n]}", "sum(W * squeeze(x, axis=1))", "expand_dims(W, axis=1)"),
        ("x: {shape: [n]}\n  W: {shape: [3, n]}", "sum(W * tile(x, (3, 1)))", "sum(W, axis=0)"),
        ("x: {shape: [n]}\n  W: {shape: [n]}", "sum(W * pad(x, M)[:n])", "ERROR"),
    ],
)
def test_derived_gradient_verifies(inputs, loss, derived):
    text = _spec(inputs, loss)
    if derived == "ERROR":
        with pytest.raises(Exception):
            build_problem(load_spec_text(text, "d.yaml"))
        return
    problem = build_problem(load_spec_text(text, "d.yaml"))
    derivation = derive_problem(problem)
    adjoint = derivation.inputs["x"]
    if derived == "ERROR-DERIVE":
        assert adjoint.expr is None and "indexing" in adjoint.reason
        return
    assert adjoint.expr is not None, adjoint.reason
    assert key(parse(adjoint.text, WHITELIST)) == key(adjoint.expr)  # the printed text parses back
    if derived is not None:
        assert adjoint.text == derived
    checked = verify_derivation(problem, derivation, CheckSettings(examples=4, seed=3))
    assert checked["x"].verified, f"{adjoint.text}: {checked['x'].problem}"


def test_a_slice_beside_an_index_array_is_not_derivable_and_says_why():
    problem = build_problem(load_spec_text(_spec(LABELS, "sum(x[1:, y])"), "d.yaml"))
    adjoint = derive_problem(problem).inputs["x"]
    assert adjoint.expr is None
    assert "a slice other than `:` beside an index array" in adjoint.reason


def test_pad_with_symbolic_widths_is_not_derivable_and_says_why():
    problem = build_problem(
        load_spec_text(_spec("x: {shape: [n]}\n  W: {shape: [n]}", "sum(pad(x, n) * pad(W, n))"), "d.yaml")
    )
    adjoint = derive_problem(problem).inputs["x"]
    assert adjoint.expr is None
    assert "pad() with widths that name dims" in adjoint.reason


HELPER = """
dims: {M: [2, 5], k: [2, 4]}
define:
  nll(l, t): -mean(l[arange(M), t])
inputs:
  Z: {shape: [M, k]}
  y: {shape: [M], domain: {integers: [0, k]}}
loss: nll(log_softmax(Z), y)
claims:
  - {name: g, wrt: Z, gradient: 'softmax(Z) / M - onehot(y, k) / M'}
"""


def test_an_index_array_that_is_a_helpers_parameter_is_substituted_when_derived():
    problem = build_problem(load_spec_text(HELPER, "h.yaml"))
    derivation = derive_problem(problem)
    adjoint = derivation.inputs["Z"]
    assert "onehot(y, k)" in adjoint.text and "onehot(t" not in adjoint.text
    checked = verify_derivation(problem, derivation, CheckSettings(examples=4, seed=3))
    assert checked["Z"].verified, checked["Z"].problem
