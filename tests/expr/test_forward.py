"""Forward mode (dual numbers) against the complex step, for every function of the table.

The complex step of the whole expression, Im f(x + i h v) / h, is an independent oracle here:
the dual-number walker never evaluates the expression at a complex point (a function with a
``local complex step`` rule does so for its own kernel only, at that node). Both must agree to
rounding along k directions at once, on random shapes (the cases of test_table_property.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.forward import FINITE_DIFFERENCES_ONLY, TANGENTS, NotForwardable, forward, rule
from gradcheck.expr.functions import TABLE, WHITELIST
from gradcheck.expr.parse import parse

from .test_table_property import CASES, _arrays, _env

K = 3
H = 1e-30


def _central(expr, env, directions, names, h=1e-6):
    def at(t):
        return evaluate(expr, {**env, **{name: env[name] + t * directions[name] for name in names}}, {})

    return (at(h) - at(-h)) / (2 * h)


def _cs(expr, env, directions, names):
    moved = {**env, **{name: env[name] + 1j * H * directions[name] for name in names}}
    return np.imag(evaluate(expr, moved, {})) / H


@pytest.mark.parametrize("function, text, reference", CASES, ids=[t for _, t, _ in CASES])
@settings(max_examples=6, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_dual_numbers_agree_with_the_complex_step(function, text, reference, n, m, seed):
    rng = np.random.default_rng(seed)
    env = _env(n, m, rng)
    expr = parse(text, WHITELIST)
    names = _arrays(expr)
    tangents = {name: rng.uniform(-1, 1, size=(K,) + np.shape(env[name])) for name in names}
    if function in FINITE_DIFFERENCES_ONLY:  # refused by name: the caller uses finite differences
        with pytest.raises(NotForwardable, match=f"^{function}\\(\\) has no tangent rule"):
            forward(expr, env, {}, tangents)
        return
    value, derivatives = forward(expr, env, {}, tangents)
    np.testing.assert_allclose(value, evaluate(expr, env, {}), rtol=1e-13, atol=1e-13)
    k = K if names else 0  # a constant expression (eye(n)) has nothing to differentiate
    assert derivatives.shape == (k,) + np.shape(value)
    safe = TABLE[function].complex_safe
    for i in range(k):
        direction = {name: t[i] for name, t in tangents.items()}
        # a function with no complex-step continuation (real, imag, conj) against central differences
        cs = _cs(expr, env, direction, names) if safe else _central(expr, env, direction, names)
        scale = max(float(np.max(np.abs(cs), initial=0.0)), 1e-300)
        # entry by entry (a tiny entry beside a large one must be right too), with a normwise floor
        allowed = 1e-10 * np.abs(cs) + 1e-13 * scale if safe else 1e-6 * np.abs(cs) + 1e-8 * max(scale, 1.0)
        assert np.all(np.abs(derivatives[i] - cs) <= allowed), (function, derivatives[i], cs)


def test_every_function_has_a_tangent_rule():
    """A function added to the table is covered: by a rule of its own, or the local complex step
    of its kernel; one that is neither (a kernel without a complex-step continuation and no rule)
    is listed here and fails."""
    missing = sorted(name for name in TABLE if rule(name) == "none" and name not in FINITE_DIFFERENCES_ONLY)
    assert missing == [], f"no tangent rule for {missing}"
    assert all(rule(name) == "none" for name in FINITE_DIFFERENCES_ONLY)  # listed, and truly without one
    assert set(TANGENTS) <= set(TABLE)


COMPOSITES = [
    "0.5 * sum((Y - tanh(X @ W)) ** 2)",
    "sum(log_softmax(X @ W, axis=1) * Y) / M",
    "sum(where(X @ W > 0, X @ W, 0.1 * (X @ W)) ** 3) + logdet(S)",
    "sum(sigmoid(X @ W) * Y) - 2 * norm(W) ** 2 + sum(W.T @ W)",
    "sum((X @ W)[1:, :] / (1 + (X @ W)[:-1, :] ** 2))",
    "sum(stack([X[:, 0] * 2, X[:, 1] ** 2], axis=0)) + trace(inv(S) @ S @ S)",
]


@pytest.mark.parametrize("text", COMPOSITES)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_composite_losses_agree_with_the_complex_step(text, seed):
    rng = np.random.default_rng(seed)
    M, d, o = 4, 3, 2
    a = rng.normal(size=(o, o))
    env = {
        "X": rng.normal(size=(M, d)),
        "W": rng.normal(size=(d, o)),
        "Y": rng.normal(size=(M, o)),
        "S": a @ a.T + o * np.eye(o),
        "M": M,
    }
    expr = parse(text, WHITELIST)
    names = ["X", "W", "S"]
    tangents = {name: rng.normal(size=(K,) + env[name].shape) for name in names}
    value, derivatives = forward(expr, env, {}, tangents)
    for i in range(K):
        cs = _cs(expr, env, {name: t[i] for name, t in tangents.items()}, names)
        # two roundings of a sum with cancellation (the residual of a fit): 1e-10, far below the 1e-6 promise
        assert abs(derivatives[i] - cs) <= 1e-10 * max(abs(cs), 1e-300), (derivatives[i], cs)


def test_a_kernel_without_a_continuation_and_without_a_rule_is_refused(monkeypatch):
    from gradcheck.expr import forward as fw

    monkeypatch.setattr(fw, "_complex_safe", lambda name: name != "logdet")
    expr = parse("logdet(S) + sum(S)", WHITELIST)
    S = np.eye(2) * 2.0
    with pytest.raises(NotForwardable, match=r"logdet\(\) has no tangent rule"):
        forward(expr, {"S": S}, {}, {"S": np.ones((1, 2, 2))})
