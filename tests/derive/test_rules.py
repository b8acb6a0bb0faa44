"""Every function's VJP rule, checked by gradcheck's own oracles on drawn shapes.

A function added to the table later without a rule (or with a wrong one) fails here: it must
either have a rule that verifies or be listed in NOT_DERIVABLE with its reason.
"""

from __future__ import annotations

import pytest

from gradcheck.derive import derive_problem
from gradcheck.derive.rules import NOT_DERIVABLE, RULES
from gradcheck.derive.verify import verify_derivation
from gradcheck.examine import CheckSettings
from gradcheck.expr.functions import TABLE
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

from .cases import CASES, spec_text


def test_every_function_has_a_case_and_a_rule():
    assert set(CASES) == set(TABLE), f"no test case for {sorted(set(TABLE) - set(CASES))}"
    assert set(TABLE) <= set(RULES), f"no VJP rule for {sorted(set(TABLE) - set(RULES))}"


@pytest.mark.parametrize("function", sorted(TABLE))
def test_vjp_rule_verifies(function):
    problem = build_problem(load_spec_text(spec_text(function), f"{function}.yaml"))
    derivation = derive_problem(problem)
    inputs = {n: a for n, a in derivation.inputs.items()}
    if function in NOT_DERIVABLE:
        blocked = [a for n, a in inputs.items() if n != "W"]
        assert blocked and all(a.expr is None and function in a.reason for a in blocked)
        return
    checked = verify_derivation(problem, derivation, CheckSettings(examples=6, seed=3))
    assert checked, "nothing was derived"
    for name, c in checked.items():
        assert c.verified, f"d/d{name} = {c.text}: {c.problem} {c.verdict and c.verdict.lines[:4]}"


def test_a_wrong_rule_is_caught_by_verification(monkeypatch):
    from gradcheck.derive import rules
    from gradcheck.derive.algebra import mul

    monkeypatch.setitem(rules.RULES, "tanh", lambda node, i, G, ctx: mul(G, node))  # tanh' = tanh: wrong
    problem = build_problem(load_spec_text(spec_text("tanh"), "tanh.yaml"))
    checked = verify_derivation(problem, derive_problem(problem), CheckSettings(examples=4, seed=3))
    assert not checked["x"].verified
    assert checked["x"].verdict.label == "wrong"
    assert "failed its check" in checked["x"].problem
