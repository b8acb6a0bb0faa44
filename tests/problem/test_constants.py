"""Array constants: fixed data (a design matrix, labels) the loss is not differentiated against,
in the Python API (``constants={"X": X}``) and in specs (``{python: "mod:X"}`` or a ``.npy`` file).
Their shapes bind the dims they name, so the drawn inputs follow the data."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_gradient
from gradcheck.errors import SpecError

RNG = np.random.default_rng(7)
X = RNG.standard_normal((9, 4))
Y = (RNG.random(9) > 0.5).astype(float)


def logistic_loss(w, X, y):
    """sklearn's binary log-loss written out (mean over samples, complex-step safe)."""
    z = X @ w
    return np.mean(np.log1p(np.exp(z)) - y * z)


def logistic_grad(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y)


def logistic_grad_summed(w, X, y):
    return X.T @ (1 / (1 + np.exp(-(X @ w))) - y)


DATA = {"X": {"value": X, "shape": "M in"}, "y": {"value": Y, "shape": "M"}}


def test_array_constants_bind_the_dims_the_drawn_inputs_follow():
    seen = []

    def grad(w, X, y):
        seen.append((w.shape, X.shape))
        return logistic_grad(w, X, y)

    result = check_gradient(logistic_loss, grad, inputs={"w": "in"}, constants=DATA, wrt="w", seed=0, examples=5)
    assert result.passed, result.failure_text()
    assert set(seen) == {((4,), (9, 4))}


def test_a_wrong_gradient_with_data_is_caught_with_the_data_size():
    result = check_gradient(
        logistic_loss, logistic_grad_summed, inputs={"w": "in"}, constants=DATA, wrt="w", seed=0, examples=5
    )
    assert result.verdict.label == "scaled" and result.verdict.factor == pytest.approx(9)


def test_a_plain_array_constant_keeps_its_own_sizes():
    result = check_gradient(
        logistic_loss, logistic_grad, inputs={"w": 4}, constants={"X": X, "y": Y}, wrt="w", seed=0, examples=3
    )
    assert result.passed, result.failure_text()


def test_the_callers_array_may_change_afterwards_and_is_never_written():
    X2 = X.copy()

    def grad(w, X, y):
        with pytest.raises(ValueError, match="read-only"):
            X[0, 0] = 1.0
        return logistic_grad(w, X, y)

    result = check_gradient(
        logistic_loss, grad, inputs={"w": 4}, constants={"X": X2, "y": Y}, wrt="w", seed=0, examples=2
    )
    assert result.passed and np.array_equal(X2, X)


def _error(**kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        check_gradient(logistic_loss, logistic_grad, wrt="w", seed=0, examples=1, **kwargs)
    return info.value


def test_constants_that_disagree_on_a_dim_are_a_located_error():
    err = _error(inputs={"w": "in"}, constants={**DATA, "y": {"value": Y[:5], "shape": "M"}})
    assert err.message == "constant 'y' binds M = 5, but constant 'X' binds M = 9"
    assert err.hint == "the constants' shapes must agree on every dim they share"
    assert err.location.file.endswith("test_constants.py")


def test_a_declared_dim_range_the_data_does_not_fit_is_a_located_error():
    err = _error(inputs={"w": "in"}, constants=DATA, dims={"in": (2, 3)})
    assert err.message.startswith("constant 'X' binds in = 4, outside the declared dim in: [2, 3] (line ")
    assert err.hint == "leave in out of dims: (the data sets it), or declare it 4"


def test_data_that_does_not_fit_its_shape_is_a_located_error():
    err = _error(inputs={"w": "in"}, constants={"X": {"value": X, "shape": "M in 2"}, "y": Y})
    assert (
        err.message == "constant 'X' holds an array of shape (9, 4), which does not fit its declared shape (M, in, 2)"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("data.csv", 'constant \'X\' must be a number, an array, or {"value": array, "shape": "M in"}, got a string'),
        (np.array(["a", "b"]), "constant 'X' must hold real numbers, got an array of dtype <U1"),
        (np.array([1.0, np.nan]), "constant 'X' has 1 entries that are not finite (nan or inf)"),
        ({"value": X, "shape": "M in", "dtype": "float32"}, "unknown key 'dtype' in constant 'X'"),
    ],
)
def test_constants_that_are_not_real_data_are_refused_in_words(value, message):
    err = _error(inputs={"w": 4}, constants={"X": value, "y": Y})
    assert err.message == message


def test_a_constant_named_like_an_input_is_refused():
    err = _error(inputs={"w": 4, "X": "M 4"}, constants={"X": X})
    assert err.message == "constant 'X' has the name of an input: rename one"


def test_array_constants_hold_at_fixed_points_too():
    w = np.linspace(-1, 1, 4)
    result = check_gradient(logistic_loss, logistic_grad, inputs={"w": "in"}, constants=DATA, wrt="w", at=[{"w": w}])
    assert result.passed and result.verdict.examples == 1, result.failure_text()
    wrong = check_gradient(
        logistic_loss, logistic_grad_summed, inputs={"w": "in"}, constants=DATA, wrt="w", at=[{"w": w}]
    )
    assert wrong.verdict.label == "scaled"


def test_vjp_rules_take_array_constants_too():
    from gradcheck import check_vjp

    def f(w, X):
        return np.tanh(X @ w)

    def vjp(w, X, G):
        return X.T @ (G * (1 - np.tanh(X @ w) ** 2))

    result = check_vjp(
        f, vjp, inputs={"w": "in"}, constants={"X": DATA["X"]}, output_shape="M", wrt="w", seed=0, examples=5
    )
    assert result.passed, result.failure_text()
