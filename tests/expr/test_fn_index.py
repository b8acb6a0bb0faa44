"""fn-index: gathers, shape manipulation and the complex-data functions (conj, real, imag).

The kernels are checked against references over the whole table by test_table_property.py and
the VJP rules by tests/derive/test_rules.py; here: what those cannot say — messages, the
complex-step flag and the oracle's choice it drives, parser forms.
"""

from __future__ import annotations

import numpy as np

from gradcheck.check import check_plan
from gradcheck.examine import CheckSettings
from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.functions import TABLE, WHITELIST
from gradcheck.expr.parse import complex_unsafe_calls, parse
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text


def _run(text: str, claim: str | None = None, seed: int = 3):
    problem = build_problem(load_spec_text(text, "c.yaml"))
    plans = [p for p in problem.plans if claim is None or p.claim.name == claim]
    return [check_plan(problem, plan, CheckSettings(examples=4, seed=seed)) for plan in plans]


# -- conj, real, imag: not complex-step safe ---------------------------------------------------


def test_conj_real_imag_are_marked_not_complex_step_safe_and_nothing_else_is():
    unsafe = {name for name, fn in TABLE.items() if not fn.complex_safe}
    assert {"conj", "real", "imag"} <= unsafe


def test_the_complex_step_really_is_wrong_through_them():
    """The flag is honest: Im f(x + i h v) / h is not the derivative for conj and real."""
    x, v, h = np.array([0.3, -1.2]), np.array([1.0, 2.0]), 1e-30
    for text, derivative in (("real(x)", v), ("conj(x)", v)):
        stepped = evaluate(parse(text, WHITELIST), {"x": x + 1j * h * v}, {})
        assert not np.allclose(np.imag(stepped) / h, derivative), text


def test_unsafe_calls_are_found_through_helpers_order_kept():
    expr = parse("sum(real(x) * exp(imag(x))) + conj(x)[0]", WHITELIST)
    assert complex_unsafe_calls(expr) == ["real", "imag", "conj"]
    assert complex_unsafe_calls(parse("sum(exp(x))", WHITELIST)) == []


REAL_LOSS = """\
spec: real-data
dims: {n: [2, 4]}
define:
  h(z): real(z) * z
inputs:
  x: {shape: [n]}
loss: sum(h(x) + imag(x) + conj(x) ** 3)
claims:
  - {name: right, wrt: x, gradient: 2 * x + 3 * x ** 2}
  - {name: wrong, wrt: x, gradient: x + 3 * x ** 2, expect: fail}
"""


def test_a_loss_through_real_uses_finite_differences_and_says_so():
    problem = build_problem(load_spec_text(REAL_LOSS, "c.yaml"))
    assert problem.complex_unsafe == ("real", "imag", "conj")
    right, wrong = _run(REAL_LOSS)
    assert right.passed, right.lines
    assert not wrong.passed
    note = (
        "not complex-step safe (the loss calls real(), imag(), conj(), which drop the complex step); "
        "finite differences used"
    )
    assert note in right.notes
    assert note in wrong.notes
