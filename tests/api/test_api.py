"""The Python API: check_gradient / assert_gradient, VJP and JVP rules, several wrt, fixed points,
the Hypothesis strategy, code that is not complex-step safe, float32, argument errors, the lazy
package import, and the torch/jax adapters (skipped when those are not installed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.special import expit
from support import SSE_DIMS, SSE_INPUTS, sigmoid, sse, sse_grad, sse_grad_doubled

import gradcheck
from gradcheck import (
    CheckResult,
    Example,
    assert_gradient,
    assert_vjp,
    check_gradient,
    check_jvp,
    check_vjp,
    problems,
)
from gradcheck.errors import SchemaError


def test_check_gradient_returns_the_verdict_with_its_examples():
    result = check_gradient(sse, sse_grad, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", seed=1, examples=10)
    line = sys._getframe().f_lineno - 1
    assert isinstance(result, CheckResult) and result.passed
    v = result.verdict
    assert (v.label, v.claim, v.wrt, v.what, v.expected_shape) == (
        "pass",
        "sse_grad",
        "Theta",
        "d loss / d Theta",
        "(in, out)",
    )
    assert (v.path, v.location.line) == ("tests/api/test_api.py", line)
    assert v.spec == "test_check_gradient_returns_the_verdict_with_its_examples"
    frame = result.frame()
    assert len(frame) == v.examples == 10
    assert {"dims", "example_seed", "verdict", "oracle", "max_rel_error"} <= set(frame.columns)
    assert set(frame["verdict"]) == {"pass"}
    assert str(result).startswith(f"PASS  tests/api/test_api.py:{line}  sse_grad  (d loss / d Theta)  pass")


def test_assert_gradient_raises_with_the_failure_block():
    with pytest.raises(AssertionError) as info:
        assert_gradient(sse, sse_grad_doubled, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", seed=5, examples=10)
    line = sys._getframe().f_lineno - 1
    text = str(info.value)
    assert f"FAIL tests/api/test_api.py:{line}:9 claim 'sse_grad_doubled' (d loss / d Theta)" in text
    assert "  expected shape (in, out)" in text
    assert "  diagnosis: scaled: the claim is 2 x the gradient on every entry (factor 2)" in text
    assert "  reproduce: assert_gradient(..., seed=5)" in text
    result = check_gradient(sse, sse_grad_doubled, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", seed=5, examples=10)
    assert not result.passed and result.verdict.label == "scaled" and result.verdict.factor == pytest.approx(2)
    assert result.failure_text().splitlines()[-1] == "  reproduce: check_gradient(..., seed=5)"


def test_expect_fail_marks_a_known_wrong_claim():
    result = check_gradient(sse, sse_grad_doubled, inputs=SSE_INPUTS, wrt="Theta", seed=2, examples=5, expect="fail")
    assert result.passed and result.verdict.outcome == "xfail"
    assert_gradient(sse, sse_grad_doubled, inputs=SSE_INPUTS, wrt="Theta", seed=2, examples=5, expect="fail")


# --- code that is not complex-step safe, judged correctly --------------------------------------


def _buffer_loss(x):
    out = np.zeros(x.shape)
    out[:] = np.sin(x)  # a write into a float buffer drops the imaginary part (ComplexWarning)
    return np.sum(out**2)


UNSAFE = {
    # name: (loss, correct gradient, how the complex step fails or None when it does not)
    "relu-np.maximum": (lambda x: np.sum(np.maximum(x, 0.0) ** 3), lambda x: 3 * np.maximum(x, 0.0) ** 2, None),
    "astype(float)": (lambda x: np.sum(np.sin(x.astype(float))), lambda x: np.cos(x), "ComplexWarning"),
    "float buffer": (_buffer_loss, lambda x: 2 * np.sin(x) * np.cos(x), "ComplexWarning"),
    "np.abs": (lambda x: np.sum(np.abs(x) ** 3), lambda x: 3 * np.abs(x) * x, "imaginary part was dropped"),
    "expit": (lambda x: np.sum(np.log(expit(x))), lambda x: 1 - expit(x), "TypeError"),
    "abs * x (complex, wrong)": (
        lambda x: np.sum(np.abs(x) * x),
        lambda x: 2 * np.abs(x),
        "disagrees with finite differences",
    ),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_code_that_is_not_complex_safe_is_judged_correctly(case):
    loss, grad, why = UNSAFE[case]
    right = check_gradient(loss, grad, inputs={"x": "n"}, dims={"n": (2, 6)}, wrt="x", seed=4, examples=8)
    assert right.verdict.label == "pass", right
    if why is not None:
        assert "finite-difference" in right.verdict.oracle
        assert any("not complex-step safe" in n and why in n for n in right.verdict.notes), right.verdict.notes
    off = check_gradient(loss, lambda x: 1.01 * grad(x), inputs={"x": "n"}, wrt="x", seed=4, examples=8)
    assert off.verdict.label == "scaled" and off.verdict.factor == pytest.approx(1.01, rel=1e-4), off


def test_float32_code_gets_float32_tolerances():
    def loss(X, w):
        return np.sum(np.tanh(X @ w) ** 2)

    def grad(X, w):
        t = np.tanh(X @ w).astype(np.float32)
        return (X.T @ (2 * t * (1 - t * t))).astype(np.float32)

    inputs = {"X": {"shape": "M n", "dtype": "float32"}, "w": {"shape": "n", "dtype": "float32"}}
    for seed in range(3):
        assert check_gradient(loss, grad, inputs=inputs, wrt="w", seed=seed, examples=8).passed
    off = check_gradient(loss, lambda X, w: grad(X, w) * np.float32(1.001), inputs=inputs, wrt="w", seed=0, examples=8)
    assert off.verdict.label == "scaled"


def test_code_computing_in_float32_throughout_has_no_false_alarm():
    def loss(X, w):  # astype drops the complex step: finite differences of float32 arithmetic
        return np.sum(np.tanh(X.astype(np.float32) @ w.astype(np.float32)) ** 2)

    def grad(X, w):
        X, w = X.astype(np.float32), w.astype(np.float32)
        t = np.tanh(X @ w)
        return X.T @ (2 * t * (1 - t * t))

    inputs = {"X": {"shape": "M n", "dtype": "float32"}, "w": {"shape": "n", "dtype": "float32"}}
    for seed in range(30):  # seed 3 once diagnosed a noisy float32 FD entry as the truth
        result = check_gradient(loss, grad, inputs=inputs, wrt="w", seed=seed, examples=8)
        assert result.passed and result.verdict.oracle == "finite-difference", result
    off = check_gradient(loss, lambda X, w: grad(X, w) * np.float32(1.01), inputs=inputs, wrt="w", seed=0, examples=8)
    assert off.verdict.label == "scaled", off  # float32 finite differences: a 1 % error is caught, 1e-3 not always
    assert off.verdict.factor == pytest.approx(1.01, rel=1e-3)


# --- VJP and JVP rules, several wrt --------------------------------------------------------------


def layer(A, x):
    return np.tanh(A @ x)


def layer_vjp(A, x, G):
    d = G * (1 - np.tanh(A @ x) ** 2)
    return {"A": np.outer(d, x), "x": A.T @ d}


def layer_jvp_x(A, x, V):
    return (1 - np.tanh(A @ x) ** 2) * (A @ V)


LAYER = {"inputs": {"A": "m n", "x": "n"}, "output_shape": "m", "seed": 1, "examples": 8}


def test_vjp_rules_with_several_wrt():
    result = check_vjp(layer, layer_vjp, wrt=["A", "x"], **LAYER)
    assert [(v.wrt, v.kind, v.what, v.label) for v in result] == [
        ("A", "vjp", "vjp of layer wrt A", "pass"),
        ("x", "vjp", "vjp of layer wrt x", "pass"),
    ]
    assert result["x"].passed and len(result) == 2
    with pytest.raises(ValueError, match="use result"):
        result.verdict

    def vjp_forgot_tanh(A, x, G):
        return A.T @ G

    with pytest.raises(AssertionError, match=r"claim 'vjp_forgot_tanh' \(vjp of layer wrt x\)"):
        assert_vjp(layer, vjp_forgot_tanh, wrt="x", **LAYER)


def test_jvp_rules_single_and_total():
    assert check_jvp(layer, layer_jvp_x, wrt="x", **LAYER).passed
    half = check_jvp(layer, lambda A, x, V: 0.5 * layer_jvp_x(A, x, V), wrt="x", **LAYER).verdict
    assert (half.kind, half.label, half.factor) == ("jvp", "scaled", pytest.approx(0.5))
    assert "the true jvp" in half.diagnosis

    def total(A, x, V):  # several wrt: a dict of tangents, the total derivative as jax.jvp gives it
        return (1 - np.tanh(A @ x) ** 2) * (V["A"] @ x + A @ V["x"])

    assert check_jvp(layer, total, wrt=["A", "x"], **LAYER).passed


def test_a_gradient_for_several_wrt_may_return_a_tuple():
    def grads(X, Y, Theta):
        s = sigmoid(X @ Theta)
        d = (s - Y) * s * (1 - s)
        return d @ Theta.T, X.T @ d

    result = check_gradient(sse, grads, inputs=SSE_INPUTS, wrt=("X", "Theta"), seed=3, examples=5)
    assert [v.label for v in result] == ["pass", "pass"]


# --- fixed points and the Hypothesis strategy --------------------------------------------------


def test_fixed_points_are_checked_exactly_there():
    def cube(x):
        return np.sum(x**3)

    def cube_grad_wrong_above_2(x):
        return 3 * x**2 + (x > 2.5)

    calm, hard = {"x": np.array([1.0, -2.0, 0.5])}, {"x": np.array([1.0, -2.0, 3.0])}
    assert check_gradient(cube, cube_grad_wrong_above_2, at=[calm], wrt="x", seed=0).passed
    result = check_gradient(cube, cube_grad_wrong_above_2, at=[calm, hard], wrt="x", seed=0)
    v = result.verdict
    assert (v.label, v.examples) == ("wrong", 2)
    assert v.entries[0].index == (2,) and v.entries[0].claimed == pytest.approx(28)
    assert "found at the fixed point at[1]" in v.notes
    # with inputs, the point's sizes bind the dims, and shapes are checked
    drawn_too = check_gradient(cube, lambda x: 3 * x**2, inputs={"x": "n"}, at=[hard], examples=4, wrt="x", seed=0)
    assert drawn_too.passed and drawn_too.verdict.examples == 5
    with pytest.raises(SchemaError, match=r"at\[0\]: input 'x' has shape \(3,\), which does not fit \('n', 'n'\)"):
        check_gradient(cube, lambda x: 3 * x**2, inputs={"x": "n n"}, at=[hard], wrt="x")


@settings(max_examples=4, deadline=None)
@given(problems(inputs=SSE_INPUTS, dims=SSE_DIMS, domains={"X": "positive"}))
def test_the_problems_strategy_composes_with_given(example):
    assert isinstance(example, Example)
    assert example["X"].shape == (example.sizes["M"], example.sizes["in"]) and np.all(example["X"] > 0)
    assert len(set(example.sizes.values())) == 3  # distinct sizes: a transpose cannot hide
    assert_gradient(sse, sse_grad, wrt="Theta", inputs=SSE_INPUTS, at=[example], seed=0)
    assert set(example) == set(SSE_INPUTS)  # exactly the declared inputs, nothing else


# --- argument errors, located at the caller ----------------------------------------------------


def test_argument_errors_are_located_at_the_call():
    with pytest.raises(SchemaError) as info:
        check_gradient(sse, sse_grad, inputs=SSE_INPUTS, wrt="theta")
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == (f"tests/api/test_api.py:{line}:9: wrt 'theta' is not an input\n  did you mean 'Theta'?")
    with pytest.raises(SchemaError, match="unknown domain 'postive' for input 'X'"):
        check_gradient(sse, sse_grad, inputs=SSE_INPUTS, domains={"X": "postive"}, wrt="Theta")
    with pytest.raises(SchemaError, match="unknown key 'domian' for input 'X'"):
        check_gradient(sse, sse_grad, inputs={**SSE_INPUTS, "X": {"shape": "M in", "domian": "unit"}}, wrt="Theta")
    with pytest.raises(SchemaError, match="integer domain"):
        check_gradient(sse, sse_grad, inputs={"y": {"shape": "M", "domain": {"integers": [0, 3]}}}, wrt="y")


def test_importing_gradcheck_is_light_and_lists_its_api():
    code = (
        "import sys, gradcheck; "
        "print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert _unresolved(gradcheck) == []
    assert gradcheck.check_gradient is check_gradient
    with pytest.raises(AttributeError):
        gradcheck.no_such_name


def _unresolved(module) -> list[str]:
    """The names of ``module.__all__`` that it neither defines nor loads on first use (its lazy
    table ``_WHERE``), or that do not resolve: ``dir()`` cannot tell, it lists ``__all__`` itself."""
    lazy = getattr(module, "_WHERE", {})
    out = []
    for name in module.__all__:
        if name not in vars(module) and name not in lazy:
            out.append(name)
            continue
        try:
            getattr(module, name)
        except AttributeError:
            out.append(name)
    return out


def test_the_all_check_fails_on_a_name_the_package_does_not_have(monkeypatch):
    monkeypatch.setattr(gradcheck, "__all__", [*gradcheck.__all__, "planted_missing_name"])
    assert set(gradcheck.__all__) <= set(dir(gradcheck))  # the old check: true whatever __all__ says
    assert _unresolved(gradcheck) == ["planted_missing_name"]
    monkeypatch.setitem(gradcheck._WHERE, "planted_missing_name", "gradcheck.api")  # a table entry that is wrong
    assert _unresolved(gradcheck) == ["planted_missing_name"]


# --- adapters (optional) -----------------------------------------------------------------------


def test_torch_adapter_checks_a_custom_autograd_function():
    torch = pytest.importorskip("torch")
    from gradcheck.adapters import torch as tg

    class Tanh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (1 - y * y)

    class TanhForgotSquare(Tanh):
        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (1 - y)

    inputs = {"X": "M n", "W": "n k"}
    for fn, verdict in ((Tanh, "pass"), (TanhForgotSquare, "wrong")):

        def loss(W, X, fn=fn):
            return (fn.apply(X @ W) ** 2).sum()

        result = check_gradient(
            tg.numpy_function(loss), tg.gradient(loss, "W"), inputs=inputs, wrt="W", seed=1, examples=6
        )
        assert result.verdict.label == verdict, result

        def layer_t(W, X, fn=fn):
            return fn.apply(X @ W)

        vjp = check_vjp(
            tg.numpy_function(layer_t),
            tg.vjp(layer_t, "W"),
            inputs=inputs,
            output_shape="M k",
            wrt="W",
            seed=1,
            examples=6,
        )
        assert vjp.verdict.label == verdict, vjp
    f = tg.numpy_function(lambda W, X: torch.tanh(X @ W))
    assert check_jvp(
        f, tg.jvp(lambda W, X: torch.tanh(X @ W), "W"), inputs=inputs, output_shape="M k", wrt="W", seed=1, examples=4
    ).passed


@pytest.fixture
def jax_x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def test_jax_adapter_checks_a_custom_vjp(jax_x64):
    import jax.numpy as jnp

    from gradcheck.adapters import jax as jg

    def make(factor):
        @jax_x64.custom_vjp
        def square(x):
            return x**2

        square.defvjp(lambda x: (x**2, x), lambda x, g: (factor * x * g,))
        return lambda x: jnp.sum(square(x) * jnp.sin(x))

    for factor, verdict in ((2.0, "pass"), (3.0, "wrong")):
        loss = make(factor)
        result = check_gradient(
            jg.numpy_function(loss), jg.gradient(loss, "x"), inputs={"x": "n"}, wrt="x", seed=1, examples=6
        )
        assert result.verdict.label == verdict, result

    def f(A, x):
        return jnp.tanh(A @ x)

    common = {"inputs": {"A": "m n", "x": "n"}, "output_shape": "m", "wrt": "x", "seed": 1, "examples": 4}
    assert check_vjp(jg.numpy_function(f), jg.vjp(f, "x"), **common).passed
    assert check_jvp(jg.numpy_function(f), jg.jvp(f, "x"), **common).passed


def test_torch_code_writing_in_place_cannot_reach_the_callers_arrays():
    """torch.from_numpy ignores numpy's read-only flag: the adapter copies read-only views."""
    pytest.importorskip("torch")
    from gradcheck.adapters.torch import numpy_function
    from gradcheck.problem.callables import call_user

    f = numpy_function(lambda x, w: (x * w.mul_(2.0)).sum())
    x, w = np.ones(3), np.ones(3)
    assert [float(call_user(f, {"x": x, "w": w})) for _ in range(3)] == [6.0, 6.0, 6.0]
    np.testing.assert_array_equal(w, np.ones(3))


# --- the pytest session's seed reaches the API through a documented ContextVar, not sys.modules ----


def test_the_api_takes_its_default_seed_from_the_published_session_seed():
    from gradcheck.session import SESSION_SEED, SessionSeed

    token = SESSION_SEED.set(SessionSeed(1234, given=True))
    try:
        result = check_gradient(sse, sse_grad, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", examples=2)
    finally:
        SESSION_SEED.reset(token)
    assert (result.seed, result.seed_from) == (1234, "pytest")
    token = SESSION_SEED.set(None)  # no session: a random seed, said to be one
    try:
        result = check_gradient(sse, sse_grad, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", examples=2)
    finally:
        SESSION_SEED.reset(token)
    assert result.seed_from == "random"


def test_assertions_are_counted_by_the_published_sink_only():
    from gradcheck.session import API_VERDICTS

    seen: list = []
    token = API_VERDICTS.set(seen.extend)
    try:
        assert_gradient(sse, sse_grad, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", examples=2, seed=1)
        check_gradient(sse, sse_grad, inputs=SSE_INPUTS, dims=SSE_DIMS, wrt="Theta", examples=2, seed=1)
    finally:
        API_VERDICTS.reset(token)
    assert [(v.claim, v.wrt) for v in seen] == [("sse_grad", "Theta")]  # check_* results are the test's own


def test_fixed_points_keep_the_declared_domains_and_are_given_samples(monkeypatch):
    """at= points are checked where they are (a GivenSample, as Hypothesis's @example) with the
    declared domains, not as range [0, 0] inputs whose callables add the point back."""
    import gradcheck.problem.build as build

    built = []
    real = build.build_problem
    monkeypatch.setattr(build, "build_problem", lambda spec, **kw: built.append(spec) or real(spec, **kw))
    seen = []

    def loss(x):
        seen.append(np.array(x))
        return np.sum(np.log(x))

    point = {"x": np.array([1.0, 2.0, 0.5])}
    result = check_gradient(
        loss, lambda x: 1 / x, inputs={"x": {"shape": "n", "domain": "positive"}}, at=[point], wrt="x", seed=0
    )
    assert result.passed and result.verdict.examples == 1
    assert [s.inputs["x"].domain.kind for s in built] == ["positive"]
    assert [(s.dims["n"].lo, s.dims["n"].hi) for s in built] == [(3, 3)]
    assert any(np.array_equal(x, point["x"]) for x in seen)  # the loss was called at the point itself
