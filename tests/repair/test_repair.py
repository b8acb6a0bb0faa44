"""The repair search on the planted corpus: each wrong claim is one or two edits from right.

Every claim of tests/repair/corpus/*.yaml is wrong on purpose; here is the fix a person would
write and how many edits away it is. The search must find a fix that passes its own check,
no longer than the planted distance, and (where the planted fix is the natural one) that fix.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gradcheck.check import check_plan
from gradcheck.examine import CheckSettings
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.options import RunOptions
from gradcheck.problem.build import build_problem
from gradcheck.run import read_problem, run
from gradcheck.spec.model import Source

CORPUS = Path(__file__).resolve().parent / "corpus"

# (spec file, claim) -> (planted edit distance, the expected fix)
PLANTED: dict[tuple[str, str], tuple[int, str]] = {
    ("repair_mlp.yaml", "w-transposed-product"): (1, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-scaled-2"): (1, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-sign-residual"): (1, "-(X.T @ ((Y - H) * dh(A)))"),
    ("repair_mlp.yaml", "w-h-not-dh"): (1, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-elementwise-not-matmul"): (1, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-per-sample-mean"): (1, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-two-transposed-and-2"): (2, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-two-h-and-half"): (2, "X.T @ (R * dh(A))"),
    ("repair_mlp.yaml", "w-swapped-residual"): (2, None),
    ("repair_mlp.yaml", "b-axis"): (1, "sum(R * dh(A), axis=0)"),
    ("repair_mlp.yaml", "b-no-sum"): (1, "sum(R * dh(A), axis=0)"),
    ("repair_mlp.yaml", "b-mean-not-sum"): (1, "sum(R * dh(A), axis=0)"),
    ("repair_mlp.yaml", "b-sign"): (1, "sum(R * dh(A), axis=0)"),
    ("repair_mlp.yaml", "b-two-axis-and-h"): (2, "sum(R * dh(A), axis=0)"),
    ("repair_mlp.yaml", "x-missing-transpose"): (1, "(R * dh(A)) @ W.T"),
    ("repair_mlp.yaml", "x-operands-swapped"): (1, "(R * dh(A)) @ W.T"),
    ("repair_mlp.yaml", "x-two-scaled-and-transpose"): (2, "(R * dh(A)) @ W.T"),
    ("repair_mlp.yaml", "y-sign"): (1, "-R"),
    ("repair_mlp.yaml", "y-doubled"): (1, "-R"),
    ("repair_mlp.yaml", "step-aw-transposed"): (1, "X.T @ G"),
    ("repair_mlp.yaml", "step-ab-no-sum"): (1, "sum(G, axis=0)"),
    ("repair_mlp.yaml", "step-ab-axis"): (1, "sum(G, axis=0)"),
    ("repair_mlp.yaml", "step-ax-no-transpose"): (1, "G @ W.T"),
    ("repair_mlp.yaml", "step-ha-h-not-dh"): (1, "G * dh(A)"),
    ("repair_mlp.yaml", "step-rh-sign"): (1, "G"),
    ("repair_mlp.yaml", "fwd-aw-swapped"): (1, "X @ V"),
    ("repair_mlp.yaml", "fwd-ax-transposed"): (1, "V @ W"),
    ("repair_mlp.yaml", "fwd-ha-h-not-dh"): (1, "V * dh(A)"),
    ("repair_mlp.yaml", "fwd-ax-two"): (2, "V @ W"),
    ("repair_logistic.yaml", "missing-penalty"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "penalty-doubled"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "residual-swapped"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "penalty-halved"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "extra-sigmoid-derivative"): (2, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "data-term-mean"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "penalty-sign"): (1, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "two-penalty-and-swap"): (2, "X.T @ (p - y) + lam * w"),
    ("repair_logistic.yaml", "x-outer-swapped"): (1, "outer(w, p - y).T"),
    ("repair_matrix.yaml", "a-trace-not-transposed"): (1, "(B @ C).T + inv(A).T + det(A) * inv(A).T"),
    ("repair_matrix.yaml", "a-logdet-not-transposed"): (1, "(B @ C).T + inv(A).T + det(A) * inv(A).T"),
    ("repair_matrix.yaml", "a-det-not-transposed"): (1, "(B @ C).T + inv(A).T + (det(A) * inv(A)).T"),
    ("repair_matrix.yaml", "a-missing-logdet"): (1, "(B @ C).T + det(A) * inv(A).T + inv(A).T"),
    ("repair_matrix.yaml", "b-missing-transpose"): (1, "A.T @ C.T"),
    ("repair_matrix.yaml", "b-operands-swapped"): (1, "A.T @ C.T"),
    ("repair_matrix.yaml", "c-not-transposed"): (1, "(A @ B).T"),
    ("repair_matrix.yaml", "x-symmetric-half"): (1, "2 * (S @ x)"),
    ("repair_matrix.yaml", "x-symmetric-double"): (1, "(2 * S) @ x"),
    ("repair_matrix.yaml", "x-sign"): (1, "(2 * S) @ x"),
}

CFG = CheckSettings(examples=10, seed=5)


def _problems():
    return {name: read_problem(str(CORPUS / name)) for name in sorted({f for f, _ in PLANTED})}


PROBLEMS = _problems()


def test_the_corpus_is_big_enough_and_covers_every_edit_kind():
    assert len(PLANTED) >= 40
    planted = {(f, p.claim.name) for f, problem in PROBLEMS.items() for p in problem.plans}
    assert planted == set(PLANTED), "every corpus claim has its expected fix here, and only those"
    assert sum(d == 2 for d, _ in PLANTED.values()) >= 6


@pytest.mark.parametrize("case", sorted(PLANTED), ids=lambda c: f"{c[0][7:-5]}/{c[1]}")
def test_the_fix_passes_and_is_no_longer_than_the_planted_distance(case):
    file, claim = case
    distance, expected = PLANTED[case]
    problem = PROBLEMS[file]
    plan = next(p for p in problem.plans if p.claim.name == claim)
    verdict = check_plan(problem, plan, CFG)
    assert not verdict.passed
    r = verdict.repair
    assert r is not None and r.fix, f"no fix: {r}"
    assert 1 <= r.edits <= distance
    assert len(r.changes) == r.edits
    if expected is not None:
        assert r.fix == expected
    # the fix, checked again from its text as an ordinary claim with other seeds
    callables = WHITELIST | set(problem.spec.define)
    fixed = replace(
        plan.claim,
        wrt=(plan.wrt,),
        bodies={plan.wrt: Source(r.fix, parse(r.fix, callables), plan.body.location)},
        expect="pass",
    )
    rebuilt = build_problem(replace(problem.spec, claims=(fixed,)))
    again = check_plan(rebuilt, rebuilt.plans[0], replace(CFG, seed=99, repair=False))
    assert again.passed, again.lines


def test_a_failing_claim_with_no_nearby_fix_gets_the_derived_gradient():
    problem = read_problem(str(Path(__file__).resolve().parents[2] / "specs" / "mlp_relu.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == "bug-wrong-W2-uses-preactivation")
    r = check_plan(problem, plan, CFG).repair
    assert r.fix == ""
    assert r.derived == "H.T @ dO" and r.derived_examples == CFG.examples


def test_passing_claims_and_python_claims_get_no_repair_search():
    problem = PROBLEMS["repair_mlp.yaml"]
    spec = problem.spec
    callables = WHITELIST | set(spec.define)
    good = replace(
        spec.claims[0],
        name="right",
        bodies={"W": Source("X.T @ (R * dh(A))", parse("X.T @ (R * dh(A))", callables), spec.location)},
        expect="pass",
    )
    rebuilt = build_problem(replace(spec, claims=(good,)))
    verdict = check_plan(rebuilt, rebuilt.plans[0], CFG)
    assert verdict.passed and verdict.repair is None


def test_the_search_budget_is_reported_when_it_runs_out():
    from gradcheck.repair import repair

    problem = PROBLEMS["repair_mlp.yaml"]
    plan = next(p for p in problem.plans if p.claim.name == "b-two-axis-and-h")
    r = repair(problem, plan, CFG, max_candidates=5)
    assert r.fix == "" and r.exhausted == "5 candidates"
    assert r.derived == "sum(R * dh(A), axis=0)"  # the derived gradient is shown instead


def test_the_fix_columns_of_summary_csv_and_their_read_back(tmp_path):
    import csv

    from gradcheck.cli import main
    from gradcheck.report import record
    from gradcheck.report.frames import SUMMARY_COLUMNS

    out = tmp_path / "rep"
    spec = Path(__file__).resolve().parents[2] / "specs" / "least_squares.yaml"
    assert main(["check", str(spec), "--seed", "1", "--examples", "5", "--report", str(out), "-q"]) == 0
    assert SUMMARY_COLUMNS[-5:] == ["rejected", "rejected_reason", "fix", "fix_edits", "derived"]
    rows = {r["claim"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert (rows["asker"]["fix"], rows["asker"]["fix_edits"], rows["asker"]["derived"]) == (
        "X.T @ (c * -dh(a))",
        "1",
        "",
    )
    assert (rows["answer"]["fix"], rows["answer"]["fix_edits"], rows["answer"]["derived"]) == ("", "0", "")
    back = {c.claim: c for c in record.load(out).claims}
    assert back["asker"].repair.fix == "X.T @ (c * -dh(a))" and back["asker"].repair.edits == 1
    assert back["asker"].claimed_text == "c * -dh(a) * X"
    assert back["step-b-h-not-dh"].repair.changes == ('"h(a)" -> "dh(a)"',)


def test_a_python_loss_refusing_a_reference_point_is_not_a_bug_of_the_repair_search(tmp_path):
    """The loss refuses n = 2 (the check rejects those draws); the repair search's references skip
    such points as the check does, instead of reporting the user's exception as a gradcheck bug."""
    (tmp_path / "picky.py").write_text(
        "import numpy as np\n\n"
        "def loss(x):\n"
        "    if len(x) == 2:\n"
        "        raise RuntimeError('refuses n = 2')\n"
        "    return np.sum(np.sin(x) ** 2)\n"
    )
    path = tmp_path / "picky.yaml"
    path.write_text(
        "dims: {n: [2, 4]}\ninputs:\n  x: {shape: [n]}\nloss: {python: 'picky:loss'}\nclaims:\n"
        '  - {name: half, wrt: x, gradient: "sin(x) * cos(x)", expect: fail}\n'
    )
    (v,) = run([str(path)], RunOptions(seed=1)).verdicts
    assert v.label == "scaled" and v.rejected > 0, (v.label, v.rejected)
    assert v.repair.internal_error == "", v.repair.internal_error
    assert v.repair.fix == "2 * (sin(x) * cos(x))"
