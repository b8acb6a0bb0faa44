"""check_hvp, check_hessian, check_jacobian and their assert_ twins."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck import assert_hessian, assert_hvp, assert_jacobian, check_hessian, check_hvp, check_jacobian
from gradcheck.errors import SchemaError

INPUTS = {"x": "n", "A": "n n"}


def loss(x, A):
    return 0.5 * x @ A @ x + np.sum(np.exp(x))


def gradient(x, A):
    return 0.5 * (A + A.T) @ x + np.exp(x)


def hvp(x, A, V):
    return 0.5 * (A + A.T) @ V + np.exp(x) * V


def hvp_off(x, A, V):
    return 1.000001 * hvp(x, A, V)


def hessian(x, A):
    return 0.5 * (A + A.T) + np.diag(np.exp(x))


def hessian_unsymmetric(x, A):
    return A + np.diag(np.exp(x))


def hessian_vector(x, A):
    return np.exp(x)


def f(x, W):
    return np.tanh(W @ x)


def jacobian(x, W):
    return (1 - np.tanh(W @ x) ** 2)[:, None] * W


def jacobian_transposed(x, W):
    return jacobian(x, W).T


def test_the_names_are_exported():
    for name in ("check_hvp", "check_hessian", "check_jacobian", "assert_hvp", "assert_hessian", "assert_jacobian"):
        assert name in gradcheck.__all__ and callable(getattr(gradcheck, name))


@pytest.mark.parametrize("with_gradient", [False, True])
def test_a_correct_hvp_passes_and_a_planted_1e_6_error_is_caught(with_gradient):
    kwargs = dict(wrt="x", inputs=INPUTS, seed=1, gradient=gradient if with_gradient else None)
    right = check_hvp(loss, hvp, **kwargs)
    assert right.passed, right.failure_text()
    off = check_hvp(loss, hvp_off, **kwargs)
    assert off.verdict.label == "scaled"
    assert (
        off.verdict.diagnosis == "scaled: the claim is 1.000001 x the true hvp (H V) on every entry (factor 1.000001)"
    )
    reference = next(n for n in right.verdict.notes if n.startswith("reference: "))
    if with_gradient:
        assert reference == "reference: the derivative along V of gradient, which passed its own check"
        assert right.verdict.max_rel_error < 1e-12  # the complex step of the user's gradient: exact
    else:
        assert reference == "reference: finite differences of the loss's complex step along V, with their error bar"


def test_a_gradient_that_fails_its_own_check_is_not_trusted():
    def wrong_gradient(x, A):
        return 2 * gradient(x, A)

    result = check_hvp(loss, hvp, wrt="x", inputs=INPUTS, seed=1, gradient=wrong_gradient)
    assert result.passed
    assert (
        "wrong_gradient did not pass its own check (scaled): the reference is finite differences of the loss's "
        "complex step instead"
    ) in result.verdict.notes


def test_hessians():
    assert check_hessian(loss, hessian, wrt="x", inputs=INPUTS, seed=2).passed
    unsymmetric = check_hessian(loss, hessian_unsymmetric, wrt="x", inputs=INPUTS, seed=2).verdict
    assert unsymmetric.label == "wrong"
    assert unsymmetric.diagnosis.startswith("not symmetric where it must be: claimed [")
    assert unsymmetric.diagnosis.endswith("(the Hessian of a twice-differentiable loss is symmetric)")
    shaped = check_hessian(loss, hessian_vector, wrt="x", inputs=INPUTS, seed=2, dims={"n": 3}).verdict
    assert shaped.label == "error"
    assert shaped.diagnosis == (
        "the claim raised ValueError: hessian_vector returned shape (3,), but the Hessian wrt x has shape (3, 3) "
        "(x's shape twice)"
    )


def test_jacobians():
    inputs = {"x": "n", "W": "M n"}
    assert check_jacobian(f, jacobian, wrt="x", inputs=inputs, output_shape="M", seed=3).passed
    transposed = check_jacobian(
        f, jacobian_transposed, wrt="x", inputs=inputs, output_shape="M", seed=3, dims={"M": 2, "n": 3}
    ).verdict
    assert transposed.label == "error"
    assert transposed.diagnosis == (
        "the claim raised ValueError: jacobian_transposed returned shape (3, 2), but the Jacobian of f wrt x has "
        "shape (2, 3) (the output's, then x's)"
    )
    assert transposed.what == "jacobian of f wrt x"


def test_fixed_points():
    point = {"x": np.array([0.1, -0.2, 0.3]), "A": np.arange(9.0).reshape(3, 3)}
    assert check_hvp(loss, hvp, wrt="x", at=[point], seed=1).passed
    assert not check_hvp(loss, hvp_off, wrt="x", at=[point], seed=1).passed


def test_assert_twins_raise_with_the_failure_block():
    assert_hvp(loss, hvp, wrt="x", inputs=INPUTS, seed=1)
    assert_hessian(loss, hessian, wrt="x", inputs=INPUTS, seed=1)
    assert_jacobian(f, jacobian, wrt="x", inputs={"x": "n", "W": "M n"}, output_shape="M", seed=1)
    with pytest.raises(AssertionError) as info:
        assert_hessian(loss, hessian_unsymmetric, wrt="x", inputs=INPUTS, seed=1)
    assert "not symmetric where it must be" in str(info.value)


def test_one_wrt_only():
    with pytest.raises(SchemaError) as info:
        check_hvp(loss, hvp, wrt=["x", "A"], inputs=INPUTS)
    assert "a hvp check takes one wrt (a name), got ['x', 'A']" in str(info.value)


def test_a_check_with_a_gradient_pre_check_draws_one_seed_for_both(monkeypatch):
    """Without seed= (and outside a session), the gradient's own check and the Hessian's share the
    seed the result reports, so re-running with that seed reproduces which reference was trusted."""
    import numpy as np

    import gradcheck.api.pipeline as pipeline
    from gradcheck.session import SESSION_SEED

    token = SESSION_SEED.set(None)  # as outside pytest
    seen = []
    real = pipeline._seed
    monkeypatch.setattr(pipeline, "_seed", lambda seed: seen.append(real(seed)) or seen[-1])
    try:
        result = check_hessian(
            lambda x: np.sum(x**3), lambda x: np.diag(6 * x), gradient=lambda x: 3 * x**2, inputs={"x": "n"}, wrt="x"
        )
    finally:
        SESSION_SEED.reset(token)
    assert result.passed, result.verdict.diagnosis
    assert len(seen) == 2 and {s[0] for s in seen} == {result.seed}, seen
    assert result.seed_from == "random"
