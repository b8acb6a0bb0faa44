"""An array over the element budget is a typed error, found by its type and not by its message
(issue 12: the claim-building code looked for the word "budget" in the text)."""

from __future__ import annotations

import pytest

from gradcheck.errors import BudgetError, ShapeError
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

SPEC = """
spec: budget
dims: {n: [2, 40]}
inputs:
  x: {shape: [n]}
loss: sum(x ** 2)
claims:
  - {name: big, wrt: x, gradient: "2 * x + 0 * sum(outer(x, x), axis=0) + CLAIM"}
"""


def test_a_claim_over_the_budget_is_a_located_budget_error_whatever_its_words():
    spec = load_spec_text(SPEC.replace("CLAIM", "0"), "budget.yaml")
    with pytest.raises(BudgetError) as info:
        build_problem(spec, max_elements=1000)
    assert isinstance(info.value, ShapeError)
    assert (info.value.location.line, info.value.claim) == (8, "big")


def test_a_shape_mismatch_in_a_claim_stays_a_verdict_not_an_error():
    spec = load_spec_text(SPEC.replace("CLAIM", "x[:1, None]"), "budget.yaml")
    (plan,) = build_problem(spec).plans
    assert plan.static is not None  # the claim's own mismatch: a shape-mismatch verdict later


def test_a_claims_shape_error_that_names_an_input_budget_stays_a_verdict():
    # the claim's ShapeError (`2 * budget + w` adds (n,) and (m,)) has the word "budget" in it:
    # only its type, not its words, may make it an error of the whole spec
    spec = load_spec_text(
        "spec: words\ndims: {n: [2, 40], m: [41, 50]}\ninputs:\n  budget: {shape: [n]}\n  w: {shape: [m]}\n"
        "loss: sum(budget ** 2)\nclaims:\n  - {name: g, wrt: budget, gradient: 2 * budget + w}\n",
        "words.yaml",
    )
    (plan,) = build_problem(spec).plans
    assert plan.static is not None
    assert plan.static.lines == (
        "claimed gradient has shape (m,) but budget has shape (n,)",
        "`2 * budget + w` adds (n,) and (m,)",
    )
