"""Specs whose dims are all fixed: examples are a plain loop over seeds (no Hypothesis engine)."""

from __future__ import annotations

import pytest
from support import check_text

from gradcheck.check import check_plan
from gradcheck.examine import CheckSettings
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

FIXED = """\
spec: fixed
dims: {n: 2}
inputs:
  x: {shape: [n]}
loss: sum(log(x) ** 2)
claims:
  - name: right
    wrt: x
    gradient: 2 * log(x) / x
  - name: off
    wrt: x
    gradient: 2 * log(x) / x + where(x > 1.5, 1, 0)
"""


def _verdicts(text, **settings):
    return check_text(text, "fixed.yaml", **settings)


def test_invalid_draws_are_skipped_until_the_examples_are_valid():
    """log(x) of a standard-normal x is undefined for 3 draws in 4 (n = 2): those are skipped."""
    v = _verdicts(FIXED)["right"]
    assert v.label == "pass" and v.examples == 25
    assert {r.finding.label for r in v.records} == {"pass"}
    assert len({r.seed for r in v.records}) == 25


def test_a_failure_is_explained_at_once_and_the_loop_stops():
    v = _verdicts(FIXED)["off"]
    assert v.label == "wrong" and v.failing is not None and v.failing.shrunk
    assert v.failing.finding.summary.startswith("wrong: ")
    assert v.examples == len([r for r in v.records if not r.shrunk])


def test_the_same_seed_gives_the_same_examples_and_another_seed_others():
    a, b, c = (_verdicts(FIXED, seed=s)["right"] for s in (5, 5, 6))
    assert [r.seed for r in a.records] == [r.seed for r in b.records]
    assert [r.seed for r in a.records] != [r.seed for r in c.records]


def test_no_valid_draw_is_inconclusive_with_the_reason():
    text = FIXED.replace("sum(log(x) ** 2)", "sum(log(-x * x - 1) ** 2)")
    v = _verdicts(text, examples=3)["right"]
    assert v.label == "inconclusive"
    assert v.diagnosis.startswith("no valid example: ") and "declare a domain" in v.diagnosis


def test_a_failing_seed_is_saved_and_replayed_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = _verdicts(FIXED, database=True, seed=1)["off"]
    again = _verdicts(FIXED, database=True, seed=2)["off"]  # another run seed: the saved seed comes first
    assert again.records[0].seed == first.failing.seed
    assert again.label == "wrong" and again.examples == 1
    fixed = FIXED.replace("+ where(x > 1.5, 1, 0)", "")
    mended = _verdicts(fixed, database=True, seed=2)["off"]
    assert mended.label == "pass"  # fixed since: forgotten
    seeds = [r.seed for r in mended.records]
    assert len(seeds) == len(set(seeds))  # the replayed seed is not drawn again (seed 0 is both)
    assert _verdicts(FIXED, database=True, seed=2)["off"].records[0].seed != first.failing.seed


@pytest.mark.parametrize("examples", [1, 7])
def test_the_example_count_is_honoured(examples):
    assert _verdicts(FIXED, examples=examples)["right"].examples == examples


def test_a_replayed_seed_0_is_not_checked_twice(tmp_path, monkeypatch):
    """Seed 0 comes first, so it is the seed most often saved; once mended it must not count twice."""
    monkeypatch.chdir(tmp_path)
    wrong = (
        FIXED.replace("log(x) ** 2", "x ** 3")
        .replace("domain", "domain")
        .replace("x: {shape: [n]}", "x: {shape: [n], domain: positive}")
        .replace("2 * log(x) / x + where(x > 1.5, 1, 0)", "2 * x ** 2")
        .replace("2 * log(x) / x", "3 * x ** 2")
    )
    first = _verdicts(wrong, database=True, seed=1, examples=4)["off"]
    assert first.label == "scaled" and first.failing.seed == 0
    mended = _verdicts(wrong.replace("2 * x ** 2", "3 * x ** 2"), database=True, seed=1, examples=4)["off"]
    seeds = [r.seed for r in mended.records]
    assert mended.label == "pass" and seeds[0] == 0 and len(seeds) == len(set(seeds)) == 4


# --- given samples (the API's at=): fixed points through the same interface as drawn samples ------


def test_a_given_sample_is_examined_exactly_there_and_nothing_is_drawn():
    import numpy as np

    from gradcheck.samples.draw import GivenSample

    problem = build_problem(load_spec_text(FIXED, "fixed.yaml"))
    calm = GivenSample({"n": 2}, 0, {"x": np.array([0.5, 1.2])}, "at[0]")
    hard = GivenSample({"n": 2}, 0, {"x": np.array([0.5, 2.0])}, "at[1]")
    off = next(p for p in problem.plans if p.claim.name == "off")
    passed = check_plan(problem, off, CheckSettings(examples=1, seed=1, given=(calm,)))
    assert (passed.label, passed.examples) == ("pass", 1)
    more = check_plan(problem, off, CheckSettings(examples=5, seed=1, given=(calm,)))
    assert (more.examples, len(more.records)) == (1, 1)  # the given points replace the draws examples= asks for
    failed = check_plan(problem, off, CheckSettings(examples=2, seed=1, given=(calm, hard)))
    assert (failed.label, failed.examples) == ("wrong", 2)
    assert [e.index for e in failed.entries] == [(1,)]


def test_binding_a_given_sample_uses_its_arrays_and_draws_only_the_others():
    import numpy as np

    from gradcheck.problem.bound import bind
    from gradcheck.samples.draw import GivenSample

    text = FIXED.replace("  x: {shape: [n]}\n", "  x: {shape: [n]}\n  w: {shape: [n]}\n")
    problem = build_problem(load_spec_text(text, "fixed.yaml"))
    x = np.array([0.5, 2.0], dtype=np.float32)
    bound = bind(problem, GivenSample({"n": 2}, 7, {"x": x}, "at[0]"))
    assert bound.inputs["x"].dtype == np.float64 and bound.inputs["x"].tolist() == [0.5, 2.0]
    assert bound.inputs["w"].shape == (2,)  # not given: drawn from the sample's seed, as for any sample
    assert bound.inputs["x"] is not x  # the caller's array is never handed on to be written into


def test_the_problem_stage_does_not_import_the_samples_stage():
    import ast
    from pathlib import Path

    import gradcheck.problem

    folder = Path(gradcheck.problem.__file__).parent
    imports = {
        (f.name, node.module)
        for f in folder.glob("*.py")
        for node in ast.walk(ast.parse(f.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module and "samples" in node.module
    }
    assert imports == set()
