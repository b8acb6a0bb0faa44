"""A function without a complex-step continuation (``complex_safe=False``) is checked by finite
differences, and the verdict says which function forced it."""

from __future__ import annotations

from gradcheck.check import check_plan
from gradcheck.examine import CheckSettings
from gradcheck.expr.functions import TABLE
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

SPEC = """
dims: {n: [2, 4]}
inputs:
  A: {shape: [n, n], domain: symmetric}
  w: {shape: [n]}
  x: {shape: [n]}
graph:
  lam: eigvalsh(A)
loss: sum(w * lam) + sum(x ** 3)
claims:
  - {name: grad-A, wrt: A, gradient: "(eigvecsh(A) * w) @ eigvecsh(A).T"}
  - {name: grad-A-transposed-wrong, wrt: A, gradient: "(eigvecsh(A) * w) @ eigvecsh(A)", expect: fail}
  - {name: grad-x, wrt: x, gradient: "3 * x ** 2"}
"""

NOTE = "eigvalsh has no complex-step continuation; finite differences used"


def _verdicts():
    problem = build_problem(load_spec_text(SPEC, "eig.yaml"))
    settings = CheckSettings(examples=5, seed=1, repair=False)
    return {plan.claim.name: check_plan(problem, plan, settings) for plan in problem.plans}


def test_eigvalsh_and_eigvecsh_are_marked_not_complex_safe():
    unsafe = sorted(name for name, f in TABLE.items() if not f.complex_safe)
    assert unsafe == ["conj", "eigvalsh", "eigvecsh", "imag", "real"]  # conj/real/imag: complex data


def test_a_loss_through_eigvalsh_is_checked_by_finite_differences_and_says_so():
    verdicts = _verdicts()
    right, wrong, other = verdicts["grad-A"], verdicts["grad-A-transposed-wrong"], verdicts["grad-x"]
    assert right.passed, right.lines
    assert NOTE in right.notes
    assert right.records[0].finding.oracle == "finite-difference"
    assert not wrong.passed and NOTE in wrong.notes
    # x's perturbation never reaches eigvalsh with a complex value: the complex step stays
    assert other.passed and NOTE not in other.notes
    assert other.records[0].finding.oracle == "dual-number"  # its path never reaches eigvalsh: an exact oracle
