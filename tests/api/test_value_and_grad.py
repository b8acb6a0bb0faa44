"""Value-and-gradient functions, f(x) -> (value, gradient), as scipy.optimize (jac=True) and most
libraries expose them: check_value_and_grad in the API; in specs a ``value_and_grad:`` claim
(the value must equal the spec's loss, the gradient its gradient) and a ``value_and_grad`` loss."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from gradcheck import assert_value_and_grad, check_value_and_grad
from gradcheck.errors import SchemaError
from gradcheck.options import RunOptions
from gradcheck.report.text import failure_block
from gradcheck.run import run
from gradcheck.spec.load import load_spec_text


def rosen_vg(x):
    """SciPy's Rosenbrock function and its derivative, as minimize(..., jac=True) takes them."""
    return rosen(x), rosen_der(x)


def test_scipy_rosen_with_rosen_der_passes():
    result = check_value_and_grad(rosen_vg, inputs={"x": "n"}, dims={"n": (2, 8)}, wrt="x", seed=0)
    assert result.passed, result.failure_text()
    assert result.verdict.claim == "rosen_vg" and result.verdict.what == "d loss / d x"


def test_a_wrong_gradient_beside_the_value_is_diagnosed():
    def halved(x):
        return rosen(x), rosen_der(x) / 2

    result = check_value_and_grad(halved, inputs={"x": "n"}, wrt="x", seed=0, examples=10)
    assert result.verdict.label == "scaled" and result.verdict.factor == pytest.approx(0.5)
    with pytest.raises(AssertionError, match="scaled"):
        assert_value_and_grad(halved, inputs={"x": "n"}, wrt="x", seed=0, examples=10)


def test_several_wrt_as_a_dict_or_a_tuple():
    def ridge(X, w, b):
        r = X @ w + b
        return 0.5 * np.sum(r**2), {"w": X.T @ r, "b": np.sum(r)}

    def ridge_tuple(X, w, b):
        value, g = ridge(X, w, b)
        return value, (g["w"], g["b"])

    for fn in (ridge, ridge_tuple):
        result = check_value_and_grad(fn, inputs={"X": "M n", "w": "n", "b": ""}, wrt=["w", "b"], seed=0, examples=5)
        assert result.passed, result.failure_text()


def test_a_function_that_returns_no_pair_is_told_so():
    result = check_value_and_grad(rosen, inputs={"x": "n"}, wrt="x", seed=0, examples=2)
    assert not result.passed
    assert (
        "TypeError: rosen must return (value, gradient), as a value_and_grad function does; it returned a float64"
        in result.failure_text()
    ), result.failure_text()


MODULE = """\
import numpy as np
from scipy.optimize import rosen, rosen_der

def rosen_vg(x):
    return rosen(x), rosen_der(x)

def logistic_vg(X, y, w):
    z = X @ w
    p = 1 / (1 + np.exp(-z))
    return np.sum(np.log1p(np.exp(z)) - y * z), X.T @ (p - y)

def logistic_vg_mean_value(X, y, w):
    value, grad = logistic_vg(X, y, w)
    return value / len(y), grad

def logistic_vg_double_grad(X, y, w):
    value, grad = logistic_vg(X, y, w)
    return value, 2 * grad
"""
SPEC = """\
spec: logistic
dims: {M: [3, 6], n: [2, 4]}
inputs:
  X: {shape: [M, n]}
  y: {shape: [M], domain: {range: [0, 1]}}
  w: {shape: [n]}
loss: sum(log1p(exp(X @ w)) - y * (X @ w))
claims:
  - {name: right, wrt: w, value_and_grad: {python: "vg_mod:logistic_vg"}}
  - {name: mean-value, wrt: w, value_and_grad: {python: "vg_mod:logistic_vg_mean_value"}}
  - {name: double-grad, wrt: w, value_and_grad: {python: "vg_mod:logistic_vg_double_grad"}}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "vg_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_value_and_grad_claim_checks_the_value_against_the_loss_and_the_gradient(folder):
    path = folder / "logistic.yaml"
    path.write_text(SPEC)
    result = run([str(path)], RunOptions(seed=4, examples=5))
    assert not result.failures, result.failures
    v = {x.claim: x for x in result.verdicts}
    assert v["right"].passed, failure_block(v["right"])
    assert v["double-grad"].label == "scaled" and v["double-grad"].factor == pytest.approx(2)
    wrong = v["mean-value"]
    assert wrong.label == "wrong", failure_block(wrong)
    m = wrong.failing.sizes["M"]
    assert wrong.diagnosis.startswith("the value logistic_vg_mean_value returns is not the loss: ")
    assert wrong.diagnosis.endswith(f"(ratio {1 / m:.4g})"), wrong.diagnosis
    assert wrong.lines == (
        "value_and_grad returns (value, gradient): the value must be the spec's loss at the same inputs",
    )


def test_a_value_and_grad_loss_needs_only_the_one_function(folder):
    path = folder / "rosen.yaml"
    path.write_text(
        "dims: {n: [2, 7]}\ninputs: {x: {shape: [n]}}\n"
        'loss: {value_and_grad: {python: "vg_mod:rosen_vg"}}\n'
        "claims:\n"
        '  - {name: vg, wrt: x, value_and_grad: {python: "vg_mod:rosen_vg"}}\n'
        '  - {name: der, wrt: x, gradient: "200 * x - 200 * x"}\n'
    )
    result = run([str(path)], RunOptions(seed=4, examples=5))
    assert not result.failures, result.failures
    assert [v.label for v in result.verdicts] == ["pass", "wrong"], [failure_block(v) for v in result.verdicts]


def test_no_python_refuses_a_value_and_grad_loss(tmp_path):
    path = tmp_path / "rosen.yaml"
    path.write_text(
        "dims: {n: [2, 7]}\ninputs: {x: {shape: [n]}}\n"
        'loss: {value_and_grad: {python: "vg_mod:rosen_vg"}}\n'
        'claims:\n  - {name: vg, wrt: x, gradient: "x"}\n'
    )
    result = run([str(path)], RunOptions(seed=4, no_python=True))
    assert result.failures[0].message.startswith(f"{path}:3:"), result.failures[0].message
    assert "loss names Python code (vg_mod:rosen_vg), and --no-python refuses" in result.failures[0].message


BASE = "dims: {n: [2, 7]}\ninputs: {x: {shape: [n]}}\ngraph: {h: x * 2}\nloss: sum(x ** 2)\nclaims:\n"


@pytest.mark.parametrize(
    "claim, message, line_col",
    [
        (
            "  - {name: a, wrt: x, value_and_grad: 2 * x}",
            'value_and_grad must be {python: "module:function"}, got a string',
            (6, 39),
        ),
        (
            '  - {name: a, wrt: x, gradient: 2 * x, value_and_grad: {python: "m:f"}}',
            "has both gradient and value_and_grad; a claim checks exactly one of gradient, vjp, jvp, hessian, hvp, jacobian, value_and_grad",
            (6, 40),
        ),
        (
            '  - {name: a, wrt: x, node: h, value_and_grad: {python: "m:f"}}',
            "node is only for vjp, jvp and jacobian claims",
            (6, 23),
        ),
        (
            '  - {name: a, wrt: h, value_and_grad: {python: "m:f"}}',
            "'h' is a graph node; a gradient claim is taken with respect to inputs",
            (6, 20),
        ),
    ],
)
def test_malformed_value_and_grad_claims_are_located(claim, message, line_col):
    with pytest.raises(SchemaError) as info:
        load_spec_text(BASE + claim + "\n", "specs/vg.yaml")
    assert info.value.message == message
    assert (info.value.location.line, info.value.location.col) == line_col


def test_a_value_and_grad_loss_must_name_python():
    with pytest.raises(SchemaError) as info:
        load_spec_text(
            BASE.replace("loss: sum(x ** 2)", "loss: {value_and_grad: sum(x)}")
            + "  - {name: a, wrt: x, gradient: x}\n",
            "s.yaml",
        )
    assert info.value.message == 'value_and_grad must be {python: "module:function"}, got a string'


def test_value_and_grad_with_fixed_data_as_minimize_args_pass_it():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((8, 3)), (rng.random(8) > 0.5).astype(float)

    def logistic(w, X, y):  # minimize(logistic, w0, args=(X, y), jac=True)
        z = X @ w
        p = 1 / (1 + np.exp(-z))
        return np.sum(np.log1p(np.exp(z)) - y * z), X.T @ (p - y)

    data = {"X": {"value": X, "shape": "M d"}, "y": {"value": y, "shape": "M"}}
    result = check_value_and_grad(logistic, inputs={"w": "d"}, constants=data, wrt="w", seed=0, examples=5)
    assert result.passed, result.failure_text()
