"""No false verdict at the edges of floating point: integer powers of negative numbers, complex-step
imaginary parts that would fall into subnormals, finite-difference cancellation noise, and Python
code whose np.abs silently drops a small term's imaginary part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import verdicts_of

from gradcheck.expr.kernels import power
from gradcheck.oracle import complex_step


def _verdicts(tmp_path: Path, text: str, seeds, examples=None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for seed in seeds:
        for claim, v in verdicts_of(tmp_path, text, seed=seed, examples=examples).items():
            out.setdefault(claim, []).append(v.label)
    return out


# --- integer powers: numpy's complex power goes through exp(p log z) above |p| = 100 --------------


@pytest.mark.parametrize("p", [101, 150, 1001, -101, 7, 0, 1])
def test_the_integer_power_kernel_continues_negative_bases_analytically(p):
    x = np.array([-1.07, -0.93, -1.0, 0.99, 1.3])
    z = x + 1e-30j
    out = power(z, float(p))
    expected_real = x**p
    expected_d = p * x ** (p - 1) if p else np.zeros_like(x)
    np.testing.assert_allclose(out.real, expected_real, rtol=1e-13)
    np.testing.assert_allclose(out.imag / 1e-30, expected_d, rtol=1e-13)


def test_the_integer_power_kernel_leaves_real_and_fractional_powers_to_numpy():
    x = np.array([0.5, 2.0, 3.0])
    np.testing.assert_array_equal(power(x, 101.0), x**101.0)
    z = x + 1e-30j
    np.testing.assert_array_equal(power(z, 1.5), z**1.5)
    np.testing.assert_array_equal(power(z, np.array([2.0, 3.0, 4.0])), z ** np.array([2.0, 3.0, 4.0]))


POWER_SPEC = """\
spec: fp-power
dims: {n: [2, 6]}
inputs:
  x: {shape: [n], domain: {range: [-1.2, -0.5]}}
loss: sum(x ** 101)
claims:
  - {name: ok-pow, wrt: x, gradient: "101 * x ** 100"}
  - {name: bug-scaled-pow, wrt: x, gradient: "100 * x ** 100", expect: fail}
"""


def test_x_to_the_101_at_negative_x_passes_and_a_wrong_factor_is_caught(tmp_path):
    verdicts = _verdicts(tmp_path, POWER_SPEC, seeds=range(3))
    assert verdicts["ok-pow"] == ["pass"] * 3, verdicts
    assert verdicts["bug-scaled-pow"] == ["scaled"] * 3, verdicts


# --- the complex step's imaginary part must stay in the normal range --------------------------------


def gaussian(x):
    return np.exp(-0.5 * np.sum(x**2))


def gaussian_grad(x):
    return -x * np.exp(-0.5 * np.sum(x**2))


def tiny(x):
    return 1e-286 * np.sum(x**2)


@pytest.mark.parametrize("seed", range(10))
def test_the_complex_step_of_a_gaussian_at_n_1300_does_not_fall_into_subnormals(seed):
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(1300), rng.uniform(-(3**0.5), 3**0.5, 1300)
    exact = float(gaussian_grad(x) @ v)  # the sum of squares varies by e^±25: some seeds near 1e-300
    est = complex_step.directional(gaussian, x, v)
    assert abs(float(est.value) - exact) <= 1e-12 * abs(exact), (float(est.value), exact)  # exp(sum) rounds at 1e-13


def test_the_complex_step_of_a_tiny_loss_is_exact_in_every_form():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5)
    dirs = [rng.uniform(-(3**0.5), 3**0.5, 5) for _ in range(3)]
    exact = [float(2e-286 * x @ v) for v in dirs]
    one = complex_step.directional(tiny, x, dirs[0])
    assert float(one.value) == pytest.approx(exact[0], rel=1e-13)

    from gradcheck.oracle.batch import Batchable

    f = Batchable(tiny, lambda z: 1e-286 * np.sum(z**2, axis=1), 8)
    many = complex_step.directional_many(f, x, dirs)
    assert [float(e.value) for e in many] == pytest.approx(exact, rel=1e-13)
    np.testing.assert_allclose(complex_step.gradient(tiny, x).value, 2e-286 * x, rtol=1e-13)
    np.testing.assert_allclose(complex_step.gradient(f, x).value, 2e-286 * x, rtol=1e-13)


@pytest.mark.parametrize("scale", [1e-300, 1e-310, 1e-318])
def test_the_complex_step_error_bar_covers_what_subnormals_lose(scale):
    # below ~1e-298 no admissible step lifts the imaginary part out of the subnormals: the error
    # bar must then say how much they lose
    rng = np.random.default_rng(1)
    x, v = rng.uniform(0.5, 1, 4), rng.uniform(0.5, 1, 4)
    est = complex_step.directional(lambda z: scale * np.sum(z**2), x, v)
    exact = 2 * scale * float(x @ v)
    assert abs(float(est.value) - exact) <= float(est.error)
    assert float(est.error) < 0.5 * abs(exact) or scale < 1e-310


SUBNORMAL_SPEC = """\
spec: fp-subnormal
dims: {n: 1300, m: [2, 6]}
inputs:
  x: {shape: [n]}
  y: {shape: [m]}
loss: exp(-0.5 * sum(x ** 2)) + 1e-286 * sum(y ** 2)
claims:
  - {name: ok-gauss, wrt: x, gradient: "-x * exp(-0.5 * sum(x ** 2))"}
  - {name: ok-tiny, wrt: y, gradient: "2e-286 * y"}
  - {name: bug-scaled-tiny-1e-8, wrt: y, gradient: "2.00000002e-286 * y", expect: fail}
  - {name: bug-scaled-gauss-1e-8, wrt: x, gradient: "-1.00000001 * x * exp(-0.5 * sum(x ** 2))", expect: fail}
"""


def test_correct_claims_under_subnormal_imaginary_parts_pass_and_1e_8_errors_are_caught(tmp_path):
    verdicts = _verdicts(tmp_path, SUBNORMAL_SPEC, seeds=range(4), examples=10)
    assert verdicts["ok-gauss"] == ["pass"] * 4, verdicts
    assert verdicts["ok-tiny"] == ["pass"] * 4, verdicts
    assert verdicts["bug-scaled-tiny-1e-8"] == ["scaled"] * 4, verdicts
    assert verdicts["bug-scaled-gauss-1e-8"] == ["scaled"] * 4, verdicts


def test_a_factor_between_tiny_arrays_is_found_although_their_squares_underflow():
    from gradcheck.diagnosis.compare import Names, diagnose
    from gradcheck.verdict.tolerance import Tolerance

    g = np.array([3.0, -1.0, 2.0]) * 1e-286  # sum(g * g) underflows to zero
    names = Names(target="y", noun="the claimed gradient", axes=("m",), shape_sym="(m,)", sizes={"m": 3})
    finding = diagnose(1.5 * g, g, Tolerance(), names)
    assert finding.label == "scaled" and finding.factor == pytest.approx(1.5, rel=1e-12), finding


# --- finite differences: cancellation noise inside the function --------------------------------------


def shifted_abs(x):
    """x + 1e8 - 1e8 in effect: every value is rounded at ulp(1e8) = 1.5e-8, invisible in |f|."""
    return np.sum(np.abs(x + 1e8) - 1e8)


def test_the_finite_difference_error_bar_covers_cancellation_noise_inside_the_function():
    from gradcheck.oracle import finite_diff

    rng = np.random.default_rng(0)
    missed = []
    for _ in range(100):
        n = int(rng.integers(2, 7))
        x = rng.standard_normal(n) * rng.choice([0.01, 1, 10, 100])
        v = rng.uniform(-(3**0.5), 3**0.5, n)
        est = finite_diff.directional(shifted_abs, x, v)
        if abs(float(est.value) - v.sum()) > float(est.error):
            missed.append((float(est.value), v.sum(), float(est.error)))
    assert not missed, missed


def test_the_noise_estimate_sees_rounding_noise_and_not_smooth_variation():
    from gradcheck.oracle import finite_diff

    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.25])
    sigma = finite_diff.noise(shifted_abs, x, v, 0.05)
    assert 1e-9 < float(sigma[0]) < 1e-7  # ulp(1e8) / sqrt(12) = 4.3e-9 per term, three terms
    smooth = finite_diff.noise(lambda z: np.sum(np.exp(z)), x, v, 0.05)
    assert float(smooth[0]) < 1e-14  # rounding only: |f| ~ 10, eps |f| ~ 2e-15


@pytest.mark.parametrize("domain", ["real", {"range": [-300, 300]}, {"range": [-0.03, 0.03]}])
def test_a_correct_claim_on_python_code_with_cancellation_noise_passes_and_a_factor_2_is_caught(domain):
    from gradcheck import check_gradient

    inputs = {"x": {"shape": "n", "domain": domain}}
    for seed in range(4):
        ok = check_gradient(shifted_abs, lambda x: np.ones_like(x), inputs=inputs, wrt="x", seed=seed).verdict
        assert ok.label == "pass", (seed, ok.label, ok.diagnosis)
        assert ok.oracle == "finite-difference"  # np.abs of a complex array is real: no complex step
    bad = check_gradient(shifted_abs, lambda x: 2 * np.ones_like(x), inputs=inputs, wrt="x", seed=0).verdict
    assert bad.label == "scaled" and bad.factor == pytest.approx(2, rel=1e-3), (bad.label, bad.diagnosis)


# --- np.abs drops a small term's imaginary part: the guard must see the term -------------------------


def l1_loss(x):
    return np.sum(np.abs(x)) + 0.5 * np.sum(x**2)


@pytest.mark.parametrize("low, high", [(1e7, 1e8), (-1e8, -1e7)])
def test_a_dropped_l1_term_at_large_x_is_seen_by_the_guard(low, high):
    from gradcheck import check_gradient

    inputs = {"x": {"shape": "n", "domain": {"range": [low, high]}}}
    for seed in range(3):
        ok = check_gradient(l1_loss, lambda x: np.sign(x) + x, inputs=inputs, wrt="x", seed=seed).verdict
        assert ok.label == "pass", (seed, ok.label, ok.diagnosis)
        assert ok.oracle == "finite-difference"
        assert any(n.startswith("not complex-step safe (its complex-step derivative") for n in ok.notes), ok.notes
        forgot = check_gradient(l1_loss, lambda x: x, inputs=inputs, wrt="x", seed=seed).verdict
        assert forgot.label == "wrong", (seed, forgot.label, forgot.diagnosis)


def test_the_guard_still_trusts_the_complex_step_of_smooth_python_code():
    from gradcheck import check_gradient

    def smooth(x):
        return np.sum(np.tanh(x) ** 2 + np.exp(0.3 * x))

    def smooth_grad(x):
        return 2 * np.tanh(x) * (1 - np.tanh(x) ** 2) + 0.3 * np.exp(0.3 * x)

    for seed in range(3):
        v = check_gradient(smooth, smooth_grad, inputs={"x": "n"}, wrt="x", seed=seed).verdict
        assert v.label == "pass" and v.oracle == "complex-step" and not v.notes, (v.label, v.oracle, v.notes)


def test_only_the_entries_near_the_subnormals_take_the_larger_step():
    # a jvp-like vector output: entry 0 would be subnormal at h = 1e-30, entry 1 is log next to
    # its pole, where the larger step's truncation (h/x)²/3 ~ 2e-9 would be a false verdict
    def f(z):
        return np.stack([1e-300 * z[0] ** 2, np.log(z[1])])

    x, v = np.array([1.0, 1e-6]), np.array([1.0, 1.0])
    est = complex_step.directional(f, x, v)
    np.testing.assert_allclose(est.value, [2e-300, 1e6], rtol=1e-13)
    assert est.step[1] == complex_step.STEP and est.step[0] > complex_step.STEP
