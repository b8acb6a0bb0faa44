"""The linear-algebra VJP rules against published formulas, transcribed independently here."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gradcheck.derive import derive_problem
from gradcheck.expr.evaluate import evaluate
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

SPEC = """
dims: {n: [4, 4]}
inputs:
  A: {shape: [n, n], domain: spd}
  W: {shape: [n, n]}
graph:
  C: cholesky(A)
loss: sum(W * C)
claims:
  - {name: grad-W, wrt: W, gradient: C}
"""


def _derived_gradient(spec: str, wrt: str, values: dict) -> np.ndarray:
    problem = build_problem(load_spec_text(spec, "linalg.yaml"))
    derivation = derive_problem(problem)
    env = dict(values)
    for g in problem.spec.graph:
        env[g.name] = evaluate(g.body.expr, env, problem.defines)
    return evaluate(derivation.inputs[wrt].expr, env, problem.defines)


def test_cholesky_adjoint_is_tensorflows_cholesky_grad():
    """TensorFlow's gradient of Cholesky (tensorflow/python/ops/linalg_grad.py, _CholeskyGrad),
    after Murray (2016), "Differentiation of the Cholesky decomposition", arXiv:1602.07527:

        middle = tril(L^H grad) with its diagonal halved
        grad_a = L^-H middle L^-1;  grad_a = (grad_a + grad_a^H) / 2

    transcribed with numpy's inv (real matrices: ^H is ^T), against the derived rule."""
    rng = np.random.default_rng(14)
    a = rng.normal(size=(4, 4))
    A = a @ a.T + 4 * np.eye(4)
    W = rng.normal(size=(4, 4))
    L = np.linalg.cholesky(A)
    middle = L.T @ W
    middle = np.tril(middle) - 0.5 * np.diag(np.diag(middle))
    l_inverse = np.linalg.inv(L)
    grad_a = l_inverse.T @ middle @ l_inverse
    expected = 0.5 * (grad_a + grad_a.T)
    derived = _derived_gradient(SPEC, "A", {"A": A, "W": W, "n": 4})
    np.testing.assert_allclose(derived, expected, rtol=1e-12, atol=1e-12)


def test_eigvalsh_adjoint_is_v_diag_g_v_transposed():
    """d lambda_i = v_i^T dA v_i for distinct eigenvalues (Magnus & Neudecker 1999, Thm 8.9;
    Giles 2008 section 3.1): the adjoint of eigvalsh is V diag(g) V^T, with V from scipy."""
    import scipy.linalg as la

    spec = SPEC.replace("C: cholesky(A)", "C: eigvalsh(A)").replace("W: {shape: [n, n]}", "W: {shape: [n]}")
    rng = np.random.default_rng(15)
    a = rng.normal(size=(4, 4))
    A = a + a.T
    W = rng.normal(size=4)
    V = la.eigh(A)[1]
    derived = _derived_gradient(spec, "A", {"A": A, "W": W, "n": 4})
    np.testing.assert_allclose(derived, V @ np.diag(W) @ V.T, rtol=1e-12, atol=1e-12)


NOTE = "eigvalsh has no complex-step continuation; finite differences used"


def _gallery_verdicts(name: str) -> dict:
    from gradcheck.check import check_plan
    from gradcheck.examine import CheckSettings
    from gradcheck.run import read_problem

    problem = read_problem(str(Path(__file__).resolve().parents[2] / "specs" / name))
    settings = CheckSettings(examples=5, seed=1, repair=False)
    return {plan.claim.name: (plan.claim, check_plan(problem, plan, settings)) for plan in problem.plans}


def _named(claim) -> str:
    found = re.search(r"Expected verdict: ([a-z-]+)", claim.description or "")
    return found.group(1) if found else "pass"


def test_the_cholesky_gallery_spec_gets_the_verdicts_its_descriptions_name():
    """specs/gaussian_nll_cholesky.yaml: the correct claims pass (one of them is the chain rule
    from The Matrix Cookbook's covariance gradient, an independent derivation), and each planted
    mistake gets the verdict its description names."""
    seen = {
        name: (v.label, _named(claim)) for name, (claim, v) in _gallery_verdicts("gaussian_nll_cholesky.yaml").items()
    }
    assert all(got == want for got, want in seen.values()), seen
    assert sorted(want for _, want in seen.values()) == ["pass"] * 4 + ["transposed"] + ["wrong"] * 3


def test_the_eigen_gallery_spec_is_checked_by_finite_differences_where_eigvalsh_is_perturbed():
    """specs/symmetric_eigen.yaml: every claim wrt A carries the finite-difference note; the claim
    wrt w (A fixed) keeps the complex step; each gets the verdict its description names."""
    verdicts = _gallery_verdicts("symmetric_eigen.yaml")
    seen = {name: (v.label, _named(claim)) for name, (claim, v) in verdicts.items()}
    assert all(got == want for got, want in seen.values()), seen
    assert sorted(want for _, want in seen.values()) == ["pass"] * 2 + ["wrong"] * 3
    for name, (claim, v) in verdicts.items():
        assert (NOTE in v.notes) == (v.wrt == "A"), (name, v.notes)


def test_a_batch_of_matrices_is_not_derivable_and_says_why():
    spec = """
dims: {n: [2, 3], k: [2, 2]}
inputs:
  A: {shape: [k, n, n], domain: positive}
graph:
  C: pinv(A)
loss: sum(C)
claims:
  - {name: grad-C, wrt: A, gradient: A}
"""
    problem = build_problem(load_spec_text(spec, "batch.yaml"))
    adjoint = derive_problem(problem).inputs["A"]
    assert adjoint.expr is None
    assert "pinv() of a batch of matrices (`.T` would reverse every axis)" in adjoint.reason
