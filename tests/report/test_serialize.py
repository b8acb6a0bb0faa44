"""One serializer of Verdict (gradcheck.verdict.serialize): summary.csv's row, results.csv's rows,
details.json's entry and the pytest report's payload all come from it, and read back to a Verdict."""

from __future__ import annotations

import json
import math
import warnings

import pytest

from gradcheck import check_gradient
from gradcheck.report import record
from gradcheck.report.text import statement
from gradcheck.verdict import serialize
from gradcheck.verdict.model import Expect, Label, Outcome, RunResult, Verdict


def _wrong_and_right() -> list[Verdict]:
    import numpy as np

    wrong = check_gradient(
        lambda x: 0.5 * np.sum(x**2), lambda x: 2 * x, wrt="x", inputs={"x": "n"}, seed=4, examples=3
    ).verdict
    right = check_gradient(
        lambda x: np.sum(np.sin(x)), lambda x: np.cos(x), wrt="x", inputs={"x": "n"}, seed=4, examples=3
    ).verdict
    return [wrong, right]


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("which", [0, 1])
def test_the_pytest_payload_is_json_and_reads_back_to_the_same_rows(which):
    v = record.as_reported(_wrong_and_right()[which])
    carried = json.loads(json.dumps(serialize.payload(v)))  # what a pytest report can carry: plain JSON
    back = serialize.from_payload(carried)
    assert _same(serialize.summary_row(back), serialize.summary_row(v))
    assert _same(serialize.example_rows(back), serialize.example_rows(v)) and v.records
    assert _same(serialize.details_entry(back), serialize.details_entry(v))
    assert (back.label, back.outcome, back.expect) == (v.label, v.outcome, v.expect)
    assert isinstance(back.label, Label) and isinstance(back.outcome, Outcome) and isinstance(back.expect, Expect)


def test_a_read_back_verdict_is_a_verdict_with_its_report_fields(unexpected_report):
    run = record.load(unexpected_report)
    answerer = next(c for c in run.claims if c.claim == "answerer")
    assert isinstance(answerer, Verdict)
    assert answerer.label == Label.SCALED and answerer.outcome == Outcome.FAIL and not answerer.as_expected
    assert answerer.block.startswith("FAIL ") and answerer.where.endswith(f":{answerer.location.line}")
    assert statement(answerer).startswith("scaled: ")
    assert answerer.repair is not None and answerer.repair.fix == "X.T @ ((b - Y) * dh(a))"
    assert (answerer.failing, answerer.records) == (None, ())  # a report keeps their text and arrays, not them


def test_a_hand_written_row_without_expect_keeps_its_outcome():
    row = dict(spec="s", claim="c", wrt="x", file="s.yaml", line="3", verdict="wrong", outcome="xfail", diagnosis="d")
    v = serialize.from_report(row)
    assert (v.expect, v.outcome, v.location.line) == (Expect.FAIL, Outcome.XFAIL, 3)


def test_verdict_dot_verdict_is_a_deprecated_alias_of_label():
    v = _wrong_and_right()[0]
    with pytest.warns(DeprecationWarning, match=r"Verdict\.verdict is deprecated: use Verdict\.label"):
        assert v.verdict == v.label == Label.SCALED
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert v.label == "scaled"  # the value is the report contract's string


def test_exit_codes_and_counts_live_once():
    wrong, right = _wrong_and_right()
    run = record.from_result(RunResult([wrong, right]))
    assert run.exit_code == RunResult([wrong, right]).exit_code == 1
    assert run.outcome_counts() == {Outcome.OK: 1, Outcome.XFAIL: 0, Outcome.XPASS: 0, Outcome.FAIL: 1}
    assert run.headline() == "1 passed, 1 failed"
