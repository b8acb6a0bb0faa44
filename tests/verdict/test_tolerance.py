"""The one tolerance formula: correct claims pass (also where rounding is large), small
relative errors are caught. Specs are written to a temp folder and run through the pipeline."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from support import SSE_SOURCE, verdicts_of


def check(tmp_path, text: str, seed: int = 0, examples: int = 15, **files):
    for name, body in files.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return verdicts_of(tmp_path, textwrap.dedent(text), seed=seed, examples=examples)


SATURATED = """
dims: {M: [2, 6], in: [2, 5], out: [2, 5]}
inputs:
  X: {shape: [M, in], domain: {range: [3, 8]}}
  Y: {shape: [M, out], domain: unit}
  Theta: {shape: [in, out], domain: {range: [1, 3]}}
graph:
  a: X @ Theta
  s: sigmoid(a)
loss: 0.5 * sum((s - Y) ** 2)
claims:
  - {name: ok, wrt: Theta, gradient: X.T @ ((s - Y) * s * (1 - s))}
  - {name: off-1e-6, wrt: Theta, gradient: 1.000001 * X.T @ ((s - Y) * s * (1 - s))}
"""


@pytest.mark.parametrize("seed", range(4))
def test_saturated_sigmoid_no_false_alarm_and_still_sensitive(tmp_path, seed):
    v = check(tmp_path, SATURATED, seed)
    assert v["ok"].label == "pass", v["ok"].diagnosis
    assert v["off-1e-6"].label == "scaled"
    assert v["off-1e-6"].factor == pytest.approx(1.000001, rel=1e-9)


LARGE = """
dims: {M: [2, 8], n: [2, 5]}
inputs:
  X: {shape: [M, n], domain: {range: [500, 1500]}}
  w: {shape: [n]}
  t: {shape: [M], domain: {range: [-1000, 1000]}}
graph:
  e: X @ w - t
loss: sum(e ** 2)
claims:
  - {name: ok, wrt: w, gradient: 2 * X.T @ e}
  - {name: off-1e-8, wrt: w, gradient: 2.00000002 * X.T @ e}
"""


@pytest.mark.parametrize("seed", range(4))
def test_large_magnitudes(tmp_path, seed):
    v = check(tmp_path, LARGE, seed)
    assert v["ok"].label == "pass", v["ok"].diagnosis
    assert v["off-1e-8"].label == "scaled"
    assert v["off-1e-8"].factor == pytest.approx(1.00000001, rel=1e-9)


FLOAT32 = """
dims: {M: [2, 8], n: [2, 6]}
inputs:
  X: {shape: [M, n], dtype: float32}
  w: {shape: [n], dtype: float32}
loss: {python: "f32:loss"}
claims:
  - {name: ok, wrt: w, gradient: {python: "f32:grad"}}
  - {name: off-1e-3, wrt: w, gradient: {python: "f32:grad_off"}}
"""
F32 = """
import numpy as np

def loss(X, w):
    return np.sum(np.tanh(X @ w) ** 2)

def grad(X, w):
    t = np.tanh(X @ w).astype(np.float32)
    return (X.T @ (2 * t * (1 - t * t))).astype(np.float32)

def grad_off(X, w):
    return grad(X, w) * np.float32(1.001)
"""


@pytest.mark.parametrize("seed", range(3))
def test_float32_user_code(tmp_path, seed):
    v = check(tmp_path, FLOAT32, seed, f32=F32)
    assert v["ok"].label == "pass", v["ok"].diagnosis
    assert v["off-1e-3"].label == "scaled"


UNSAFE = """
dims: {n: [2, 6]}
inputs:
  x: {shape: [n]}
loss: {python: "unsafe:loss"}
claims:
  - {name: ok, wrt: x, gradient: {python: "unsafe:grad"}}
  - {name: half, wrt: x, gradient: {python: "unsafe:grad_half"}}
"""
UNSAFE_CODE = """
import numpy as np
from scipy.special import expit

def loss(x):
    return float(np.sum(np.maximum(x, 0.0) ** 3 + expit(x)))

def grad(x):
    return 3 * np.maximum(x, 0.0) ** 2 + expit(x) * (1 - expit(x))

def grad_half(x):
    return 0.5 * grad(x)
"""


def test_code_that_is_not_complex_safe_falls_back_to_finite_differences(tmp_path):
    v = check(tmp_path, UNSAFE, 1, unsafe=UNSAFE_CODE)
    assert v["ok"].label == "pass", v["ok"].diagnosis
    assert "finite-difference" in v["ok"].oracle
    assert any("not complex-step safe" in n for n in v["ok"].notes)
    assert v["half"].label == "scaled" and v["half"].factor == pytest.approx(0.5, rel=1e-6)


SILENT = """
dims: {n: [2, 6]}
inputs:
  x: {shape: [n]}
loss: {python: "silent:loss"}
claims:
  - {name: matches-the-bogus-complex-step, wrt: x, gradient: {python: "silent:bogus"}}
  - {name: right, wrt: x, gradient: {python: "silent:right"}}
"""
SILENT_CODE = """
import numpy as np

def loss(x):
    return np.sum(np.abs(x) * x)   # abs() of a complex value is real: the complex step is silently wrong

def bogus(x):
    return np.abs(x)               # what Im(loss(x + ihv))/h reports

def right(x):
    return 2 * np.abs(x)
"""


def test_silently_wrong_complex_step_is_caught_by_the_guard(tmp_path):
    v = check(tmp_path, SILENT, 1, silent=SILENT_CODE)
    assert v["right"].label == "pass", v["right"].diagnosis
    assert any("disagrees with finite differences" in n for n in v["right"].notes)
    assert v["matches-the-bogus-complex-step"].label == "scaled"
    assert v["matches-the-bogus-complex-step"].factor == pytest.approx(0.5, rel=1e-6)


UNDEFINED = """
dims: {n: [2, 5]}
inputs:
  x: {shape: [n], domain: {range: [-2, -1]}}
loss: {python: "undef:loss"}
claims:
  - {name: code, wrt: x, gradient: {python: "undef:grad"}}
  - {name: complex-claim, wrt: x, gradient: {python: "undef:grad_complex"}}
"""
UNDEFINED_CODE = """
import numpy as np

def loss(x):
    return np.sum(np.log(x))      # undefined for the drawn x < 0 (complex arithmetic would continue it)

def grad(x):
    return 1 / x

def grad_complex(x):
    return (1 / x).astype(complex)
"""


def test_a_loss_undefined_at_every_draw_is_inconclusive_not_wrong(tmp_path):
    v = check(tmp_path, UNDEFINED, 1, examples=5, undef=UNDEFINED_CODE)
    assert v["code"].label == "inconclusive"
    assert v["code"].diagnosis.startswith("no valid example: the loss is not")
    assert v["code"].diagnosis.endswith("(declare a domain for the inputs?)")


def test_a_complex_claim_is_an_error_not_a_nan(tmp_path):
    text = (
        'dims: {n: [2, 5]}\ninputs: {x: {shape: [n], domain: positive}}\nloss: {python: "undef:loss"}\n'
        'claims:\n  - {name: complex-claim, wrt: x, gradient: {python: "undef:grad_complex"}}\n'
    )
    v = check(tmp_path, text, 1, examples=5, undef=UNDEFINED_CODE)
    assert v["complex-claim"].label == "error"
    assert v["complex-claim"].diagnosis == "the claim returned complex128 values, not real numbers"


LARGE_FLOAT32 = """
dims: {M: 32, in: 400, out: 250}
inputs:
  X: {shape: [M, in], dtype: float32}
  Y: {shape: [M, out], dtype: float32}
  Theta: {shape: [in, out], dtype: float32}
loss: {python: "f32big:sse"}
claims:
  - {name: ok, wrt: Theta, gradient: {python: "f32big:sse_grad"}}
  - {name: off-1e-3, wrt: Theta, gradient: {python: "f32big:grad_off"}}
"""
F32BIG = (
    SSE_SOURCE
    + """

def grad_off(X, Y, Theta):
    return sse_grad(X, Y, Theta) * np.float32(1.001)
"""
)


@pytest.mark.parametrize("seed", range(3))
def test_float32_sensitivity_does_not_fade_with_n(tmp_path, seed):
    """n = 100,000 float32 entries: the claim's rounding along V is bounded by Hoeffding (13 ‖δ‖₂),
    not by <|δ|, |V|> ~ sqrt(n) ‖δ‖₂, so a 1e-3 error is still caught and a right claim passes."""
    v = check(tmp_path, LARGE_FLOAT32, seed, examples=5, f32big=F32BIG)
    assert v["ok"].label == "pass", v["ok"].diagnosis
    assert v["off-1e-3"].label == "scaled", v["off-1e-3"].diagnosis


def test_projected_error_is_the_smaller_of_the_worst_case_and_hoeffding():
    from gradcheck.verdict.tolerance import HOEFFDING, projected_error

    rng = np.random.default_rng(0)
    err = np.full(10_000, 1e-7)
    v = rng.uniform(-(3**0.5), 3**0.5, err.size)
    assert projected_error(err, v) == pytest.approx(HOEFFDING * np.linalg.norm(err))  # << <err, |v|> ~ 0.87e-3
    assert np.vdot(err, np.abs(v)) > 5 * projected_error(err, v)
    few = np.array([1e-7, 0, 0])
    assert projected_error(few, np.array([1.0, 1, 1])) == pytest.approx(1e-7)  # the worst case is smaller here
    # and the bound holds: over many directions the actual projection never exceeds it
    signs = rng.choice([-1.0, 1.0], err.size) * err
    assert max(
        abs(float(np.vdot(signs, rng.uniform(-(3**0.5), 3**0.5, err.size)))) for _ in range(200)
    ) < projected_error(err, v)


def test_a_correct_float32_claim_with_cancellation_passes_at_large_n():
    """n = 5000, x near 1000 within 5e-4: x - mean(x) in float32 keeps 1-2 digits, a 50-100 %
    disagreement along V that is all rounding. The claim's rounding estimate must still run
    (an earlier shortcut skipped it for 'gross' disagreements and called this claim wrong)."""
    from gradcheck.api import check_gradient

    def loss(x):
        return np.sum((x - np.mean(x)) ** 2)

    def grad(x):
        x = x.astype(np.float32)
        return (2 * (x - np.mean(x, dtype=np.float32))).astype(np.float32)

    inputs = {"x": {"shape": "n", "domain": {"range": [1000, 1000.0005]}, "dtype": "float32"}}
    for seed in range(3):
        v = check_gradient(loss, grad, inputs=inputs, dims={"n": 5000}, wrt="x", seed=seed, examples=3).verdict
        assert v.label == "pass", v.diagnosis
        # the float32 result is 50-100 % off along V, all of it rounding: max_rel_error measures it against
        # the tolerance's scale, its rounding allowance included, so a pass reports at most rtol (float32's)
        assert 0 < v.max_rel_error <= 2e-5


def test_the_oracles_rounding_estimate_grows_with_the_condition_number():
    """complex_step_rounding: the complex step's own rounding along V, from RUNS perturbed evaluations
    in one batch; it must see an ill-conditioned solve (and stay tiny for a well-conditioned one)."""
    from gradcheck.oracle import complex_step
    from gradcheck.oracle.rounding import complex_step_rounding
    from gradcheck.problem.bound import bind
    from gradcheck.problem.build import build_problem
    from gradcheck.samples.draw import Sample
    from gradcheck.spec.load import load_spec_text

    def estimate(cond):
        text = f"""
spec: cond
dims: {{n: 6}}
inputs:
  S: {{shape: [n, n], domain: {{spd: {{cond: {cond}}}}}}}
  b: {{shape: [n]}}
loss: sum(solve(S, b) * b)
claims:
  - {{name: g, wrt: b, gradient: "2 * solve(S, b)"}}
"""
        problem = build_problem(load_spec_text(text, "cond.yaml"))
        plan = problem.plans[0]
        sample = Sample({"n": 6}, 3)
        bound = bind(problem, sample)
        x = np.asarray(bound.values["b"], dtype=np.float64)
        v = np.random.default_rng(0).uniform(-1, 1, x.shape)
        value = complex_step.directional(lambda z: bound.loss_at("b", z), x, v).value

        def many(zs, perturb):
            return bound.loss_many(plan.wrt, zs, perturb=perturb)

        return complex_step_rounding(many, x, v, value, sample.seed) / abs(float(value))

    well, ill = estimate(2.0), estimate(1.0e10)
    assert well < 1e-13
    assert ill > 1e3 * well and ill > 1e-10
