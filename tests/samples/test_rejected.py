"""Draws the user's loss rejects (it raises, or is not finite there): counted and explained, never
taken as evidence about complex-step safety; a claim whose every draw is rejected is an error."""

from __future__ import annotations

import sys

import numpy as np

from gradcheck import check_gradient
from gradcheck.report.frames import SUMMARY_COLUMNS, summary_frame
from gradcheck.report.text import verdict_line
from gradcheck.verdict.model import RunResult

LABELS = {"x": "n", "y": {"shape": "n", "domain": {"integers": [0, 3]}}}


def multinomial(x, y):
    """Raises when the drawn label vector misses a class (as a real multinomial model does)."""
    if len(np.unique(y)) < 3:
        raise ValueError("label vector misses a class")
    return np.sum(np.exp(x) * (y + 1))


def multinomial_grad(x, y):
    return np.exp(x) * (y + 1)


def always_raises(x, y):
    raise ValueError("no such model")


def test_a_loss_raising_on_some_draws_keeps_the_complex_step_and_counts_them():
    v = check_gradient(multinomial, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, seed=1).verdict
    assert v.label == "pass" and v.examples == 25
    assert v.oracle == "complex-step"  # a rejected draw is no evidence that the code is not complex-step safe
    assert not any("complex-step safe" in n for n in v.notes)
    assert v.rejected > 0
    assert v.rejected_reason == "the loss raised ValueError: label vector misses a class"
    assert verdict_line(v).endswith(
        f"pass: agrees on 25 examples; {v.rejected} draws rejected (the loss raised ValueError: "
        "label vector misses a class)"
    )


def test_a_loss_raising_on_some_draws_of_ranged_dims_is_counted_too():
    inputs = {"x": "n", "y": {"shape": "n", "domain": {"integers": [0, 3]}}}
    v = check_gradient(multinomial, multinomial_grad, wrt="x", inputs=inputs, dims={"n": (3, 6)}, seed=2).verdict
    assert v.label == "pass" and v.oracle == "complex-step" and v.rejected > 0


def test_the_rejected_count_and_reason_follow_the_original_summary_columns():
    v = check_gradient(multinomial, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, seed=1).verdict
    at = SUMMARY_COLUMNS.index("oracle") + 1  # appended after the 0.1 contract, before later additions
    assert SUMMARY_COLUMNS[at : at + 2] == ["rejected", "rejected_reason"]
    row = summary_frame(RunResult([v])).iloc[0]
    assert (row["rejected"], row["rejected_reason"]) == (v.rejected, v.rejected_reason)
    clean = check_gradient(
        lambda x: np.sum(np.exp(x)), lambda x: np.exp(x), wrt="x", inputs={"x": "n"}, seed=1, examples=3
    ).verdict
    assert clean.rejected == 0 and clean.rejected_reason == ""
    assert verdict_line(clean).endswith("pass: agrees on 3 examples")


def test_a_loss_raising_on_every_draw_is_an_error_not_inconclusive():
    r = check_gradient(always_raises, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, seed=1, examples=3)
    line = sys._getframe().f_lineno - 1
    v = r.verdict
    assert v.label == "error"
    assert v.rejected == 40  # 10 draws per example and 10 more, as Hypothesis allows
    assert v.diagnosis == "the loss raised on every draw (40 of 40): ValueError: no such model"
    assert "declare a domain" not in v.diagnosis
    assert any('raise ValueError("no such model")' in x for x in v.lines)
    assert v.lines[-1] == (
        "the loss must return a number wherever the inputs' domains draw: fix it, or declare domains that "
        "exclude the inputs it refuses"
    )
    assert str(r).startswith(f"FAIL  tests/samples/test_rejected.py:{line}  multinomial_grad  (d loss / d x)  error: ")


def test_a_loss_raising_on_every_draw_of_ranged_dims_is_an_error():
    v = check_gradient(always_raises, multinomial_grad, wrt="x", inputs=LABELS, seed=1, examples=5).verdict
    assert v.label == "error" and v.rejected > 0
    assert v.diagnosis == f"the loss raised on every draw ({v.rejected} of {v.rejected}): ValueError: no such model"


def test_code_that_is_not_complex_step_safe_still_falls_back_to_finite_differences():
    def loss(x):
        return float(np.sum(x**2))  # float() drops the imaginary part: the real point works

    v = check_gradient(loss, lambda x: 2 * x, wrt="x", inputs={"x": "n"}, seed=1, examples=3).verdict
    assert v.label == "pass" and v.oracle == "finite-difference" and v.rejected == 0
    assert any(n.startswith("not complex-step safe (") for n in v.notes)


def test_a_report_folder_keeps_the_rejections_and_reads_them_back(tmp_path):
    from gradcheck.report import record
    from gradcheck.report.frames import write_reports
    from gradcheck.report.text import statement

    v = check_gradient(multinomial, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, seed=1).verdict
    write_reports(RunResult([v]), str(tmp_path))
    live = record.from_result(RunResult([v])).claims[0]
    back = record.load(tmp_path).claims[0]
    assert (back.rejected, back.rejected_reason) == (v.rejected, v.rejected_reason)
    assert (
        statement(back)
        == statement(live)
        == (
            f"pass: agrees on 25 examples; {v.rejected} draws rejected (the loss raised ValueError: label vector "
            "misses a class)"
        )
    )


def test_a_fixed_point_the_loss_refuses_is_one_rejection_and_an_error():
    def loss(x):
        if x[0] > 0.5:
            raise ValueError("too big")
        return np.sum(x**2)

    v = check_gradient(loss, lambda x: 2 * x, wrt="x", at=[{"x": np.array([1.0, 2.0])}], seed=1).verdict
    assert v.label == "error" and v.rejected == 1
    assert v.diagnosis == "the loss raised on every draw (1 of 1): ValueError: too big"
    assert "found at the fixed point at[0]" in v.notes


def test_rejections_at_fixed_points_and_drawn_examples_add_up():
    point = {"x": np.zeros(4), "y": np.array([0, 1, 1, 1])}  # misses class 2: rejected
    v = check_gradient(
        multinomial, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, at=[point], examples=5, seed=1
    ).verdict
    drawn = check_gradient(multinomial, multinomial_grad, wrt="x", inputs=LABELS, dims={"n": 4}, examples=5, seed=1)
    assert v.label == "error"  # the fixed point decides
    assert v.rejected == 1 + drawn.verdict.rejected


def test_a_failure_block_notes_the_rejected_draws():
    def off_at_large_x(x, y):  # wrong only where some x > 1.5: a few draws pass or are rejected first
        return multinomial_grad(x, y) + np.where(x > 1.5, 1.0, 0.0)

    for seed in range(1, 20):  # a run seed whose failing example came after a rejected draw
        r = check_gradient(multinomial, off_at_large_x, wrt="x", inputs=LABELS, dims={"n": 4}, seed=seed)
        if r.verdict.rejected:
            break
    v = r.verdict
    assert v.label == "wrong" and v.rejected > 0
    assert (
        f"  note: {v.rejected} draw{'s' if v.rejected != 1 else ''} rejected (the loss raised ValueError: label "
        "vector misses a class)"
    ) in r.failure_text().splitlines()
