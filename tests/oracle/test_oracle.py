"""Oracles against analytic derivatives; complex-step safety detection; FD error bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.oracle import complex_step, finite_diff
from gradcheck.oracle.estimate import NotComplexSafe
from gradcheck.oracle.rounding import spread


def loss(x):
    return np.sum(np.tanh(x) ** 2 + np.exp(0.3 * x))


def grad(x):
    return 2 * np.tanh(x) * (1 - np.tanh(x) ** 2) + 0.3 * np.exp(0.3 * x)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 20))
def test_complex_step_is_machine_precise(seed, n):
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    est = complex_step.directional(loss, x, v)
    exact = grad(x) @ v
    t = np.tanh(x)
    terms = np.abs(2 * t * (1 - t**2)) + np.abs(0.3 * np.exp(0.3 * x))  # the reference's own rounding scale
    assert abs(est.value - exact) <= 1e-14 * (terms @ np.abs(v)) + 1e-300
    assert est.method == "complex-step" and est.evaluations == 1


def test_complex_step_full_gradient():
    x = np.linspace(-1, 1, 7)
    est = complex_step.gradient(loss, x)
    np.testing.assert_allclose(est.value, grad(x), rtol=1e-14)
    assert est.evaluations == 7


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_finite_difference_error_bar_covers_the_true_error(seed):
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    est = finite_diff.directional(loss, x, v)
    exact = grad(x) @ v
    assert abs(est.value - exact) <= max(float(est.error), 1e-12 * abs(exact))
    assert est.error < 1e-6 * (1 + abs(exact))


@pytest.mark.parametrize(
    "fn, reason",
    [
        (lambda x: np.sum(np.abs(x)), "imaginary part was dropped"),
        (lambda x: np.sum(x.astype(float) ** 2), "ComplexWarning"),
        (lambda x: float(np.sum(x**2)), "ComplexWarning|TypeError"),
        (lambda x: np.sum(np.maximum(x.real, 0) ** 2), "imaginary part was dropped"),
    ],
    ids=["np.abs", "astype(float)", "float()", "maximum-on-real"],
)
def test_unsafe_user_code_is_detected(fn, reason):
    with pytest.raises(NotComplexSafe, match=reason):
        complex_step.directional(fn, np.array([0.5, -1.0]), np.array([1.0, 1.0]))


def test_fd_serves_code_that_is_not_complex_safe():
    f = lambda x: np.sum(np.abs(x) ** 3)  # noqa: E731
    x, v = np.array([0.5, -1.5, 2.0]), np.array([1.0, -2.0, 0.5])
    est = finite_diff.directional(f, x, v)
    exact = (3 * np.abs(x) ** 2 * np.sign(x)) @ v
    assert abs(est.value - exact) <= 10 * est.error + 1e-9


def test_rounding_spread_sees_cancellation():
    # 1 - sigmoid(30): a relative rounding error near 1e-3, invisible to the value alone
    z = 30.0

    def run(p):
        s = p(np.asarray(1 / (1 + np.exp(-z))))
        return p(np.asarray(1 - s))

    base = np.asarray(1 - 1 / (1 + np.exp(-z)))
    err = spread(run, base, seed=1)
    assert err / base > 1e-4
    assert spread(lambda p: p(np.asarray(2.0)), np.asarray(2.0), seed=1) < 1e-15


def test_informative_rule():
    from gradcheck.oracle.estimate import Estimate

    good = Estimate(np.asarray(1.0), np.asarray(1e-6), "finite-difference", 10)
    garbage = Estimate(np.asarray(1.5e9), np.asarray(2.8e9), "finite-difference", 10)  # the SPD 1e8 case
    assert finite_diff.informative(good) and not finite_diff.informative(garbage)
    assert not finite_diff.informative(Estimate(np.asarray(np.nan), np.asarray(0.0), "finite-difference", 1))


def test_central_difference_matches_the_gradient():
    x, v = np.array([0.3, -0.8]), np.array([1.0, 2.0])
    assert abs(float(finite_diff.central(loss, x, v)) - grad(x) @ v) < 1e-8


# -- user code sees complex points as SplitComplex -------------------------------------------


def test_split_complex_products_equal_numpys_and_do_not_spread():
    from gradcheck.problem.callables import SplitComplex, user_view

    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 5))
    z = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))
    view = user_view(z)
    assert isinstance(view, SplitComplex) and user_view(X) is X
    for product in (X @ view, view.T @ X.T, np.matmul(X, view)):
        assert type(product) is np.ndarray
    np.testing.assert_allclose(X @ view, X @ z, rtol=1e-14)
    np.testing.assert_allclose(view.T @ X.T, z.T @ X.T, rtol=1e-14)
    out = np.exp(-(X @ view)) + view.sum()
    assert type(out) is np.ndarray
    w = view.copy()
    w += 1  # in place on the user's copy
    np.testing.assert_array_equal(np.asarray(w), z + 1)


def _spec(tmp_path, module_text, loss):
    (tmp_path / "usermod_split.py").write_text(module_text)
    spec = tmp_path / "split.yaml"
    spec.write_text(f"""\
spec: split
dims: {{M: 4, n: 3, k: 2}}
inputs:
  X: {{shape: [M, n]}}
  T: {{shape: [n, k]}}
loss: {{python: usermod_split:{loss}}}
claims:
  - name: right
    wrt: T
    gradient: {{python: usermod_split:grad}}
""")
    return spec


MODULE = """
import numpy as np

def loss(X, T):
    return np.sum(np.tanh(X @ T) ** 2)

def picky(X, T):
    if type(T) is not np.ndarray:
        raise TypeError("only plain arrays")
    return np.sum(np.tanh(X @ T) ** 2)

def grad(X, T):
    t = np.tanh(X @ T)
    return X.T @ (2 * t * (1 - t * t))
"""


@pytest.mark.parametrize("loss", ["loss", "picky"])
def test_user_code_gets_the_complex_step_with_or_without_the_split_view(tmp_path, monkeypatch, loss):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    monkeypatch.syspath_prepend(str(tmp_path))
    result = run([str(_spec(tmp_path, MODULE, loss))], RunOptions(seed=3, examples=5))
    assert not result.failures, result.failures
    (v,) = result.verdicts
    assert v.label == "pass" and v.oracle == "complex-step", (v.label, v.oracle, v.notes)


MUTATING = """
import numpy as np

def loss(x):
    x *= 2  # writes into its argument
    return np.sum(x ** 2) / 4

def grad(x):
    x += 0.0
    return 2 * x

def grad_wrong(x):
    x *= 3
    return x
"""


def test_user_code_that_writes_into_its_inputs_gets_copies_and_cannot_corrupt_them(tmp_path, monkeypatch):
    from gradcheck.options import RunOptions
    from gradcheck.problem import callables
    from gradcheck.run import run

    (tmp_path / "mutating_mod.py").write_text(MUTATING)
    (tmp_path / "m.yaml").write_text("""\
spec: mutating
dims: {n: [2, 5]}
inputs:
  x: {shape: [n]}
loss: {python: mutating_mod:loss}
claims:
  - {name: right, wrt: x, gradient: {python: mutating_mod:grad}}
  - {name: wrong, wrt: x, gradient: {python: mutating_mod:grad_wrong}, expect: fail}
""")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run([str(tmp_path / "m.yaml")], RunOptions(seed=2, examples=10))
    assert not result.failures, result.failures
    v = {x.claim: x for x in result.verdicts}
    assert v["right"].label == "pass" and v["right"].oracle == "complex-step", v["right"]
    assert v["wrong"].label == "scaled" and v["wrong"].factor == pytest.approx(1.5)
    # run() checks in worker processes: the record of mutating functions is read in this one
    from gradcheck.check import check_plan
    from gradcheck.run import check_settings, read_problem

    problem = read_problem(str(tmp_path / "m.yaml"))
    for plan in problem.plans:
        check_plan(problem, plan, check_settings(problem.spec, RunOptions(seed=2, examples=10), 2))
    import mutating_mod

    assert mutating_mod.loss in callables._MUTATES and mutating_mod.grad in callables._MUTATES


def test_read_only_views_reach_code_that_only_reads():
    from gradcheck.problem.callables import call_user

    seen = {}

    def reader(x):
        seen["writeable"] = x.flags.writeable
        return float(np.sum(x))

    x = np.arange(3.0)
    assert call_user(reader, {"x": x}) == 3.0 and seen["writeable"] is False
    assert x.flags.writeable  # the caller's array is untouched


@pytest.mark.parametrize(
    "unsafe, note",
    [
        (
            ("real",),
            "not complex-step safe (the loss calls real(), which drops the complex step); finite differences used",
        ),
        (
            ("imag", "conj"),
            "not complex-step safe (the loss calls imag(), conj(), which drop the complex step); finite differences used",
        ),
    ],
)
def test_a_loss_calling_functions_that_drop_the_step_is_told_which_from_the_start(unsafe, note):
    from gradcheck.oracle.choice import OracleChoice

    choice = OracleChoice(unsafe=unsafe)
    assert choice.unsafe_note == note
    x, v = np.array([0.5, -1.5, 2.0]), np.array([1.0, -2.0, 0.5])
    (est,) = choice.directions(loss, x, [v])
    assert est.method == "finite-difference" and est.note == note
