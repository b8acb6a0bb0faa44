"""max_rel_error is normwise, against the scale the tolerance uses: |c - o| over the tolerance's
allowance, times rtol, so a claim passes exactly when its max_rel_error is at most rtol — also
where the true gradient is ~0 — and a failing claim shows the error of the claim as given."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import verdicts_of

SPEC = """\
dims: {n: [2, 5], m: [2, 5]}
inputs:
  x: {shape: [n]}
  y: {shape: [n]}
  A: {shape: [n, m]}
  S: {shape: [n, n]}
  T: {shape: [n, n]}
loss: sum(sin(y) ** 2 + cos(y) ** 2) + sum(S * T) + sum(x @ A)
claims:
  - {name: zero, wrt: y, gradient: "0 * y"}
  - {name: flat, wrt: x, gradient: "sum(A, axis=1)"}
  - {name: doubled, wrt: x, gradient: "2 * sum(A, axis=1)"}
  - {name: square-transposed, wrt: S, gradient: "transpose(T)"}
  - {name: transposed, wrt: A, gradient: "transpose(outer(x, ones(m)))"}
"""


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    return verdicts_of(tmp_path_factory.mktemp("rel"), SPEC, "rel.yaml", seed=3, examples=10)


def _normwise(c, g) -> float:
    return float(np.max(np.abs(c - g)) / max(np.max(np.abs(c)), np.max(np.abs(g))))


def test_a_passing_claim_reports_at_most_rtol_even_where_the_gradient_is_near_zero(verdicts):
    for name in ("zero", "flat"):
        v = verdicts[name]
        assert v.label == "pass", (name, v.diagnosis)
        assert 0 <= v.max_rel_error <= 1e-9, (name, v.max_rel_error)
        assert all(r.finding.max_rel_error <= 1e-9 for r in v.records), name


def test_a_scaled_claim_reports_its_normwise_error(verdicts):
    v = verdicts["doubled"]
    assert v.label == "scaled"
    assert v.max_rel_error == pytest.approx(0.5, rel=1e-6)


def test_a_square_transposed_claim_reports_the_error_of_the_claim_as_given(verdicts):
    v = verdicts["square-transposed"]
    assert v.label == "transposed", v.diagnosis
    e = v.failing.finding.evidence
    assert v.max_rel_error == pytest.approx(_normwise(e.claimed, e.truth), rel=1e-6)
    assert v.max_rel_error > 0.01  # not the 1e-16 of the transposed match


def test_a_non_square_transposed_claim_has_no_entrywise_error(verdicts):
    v = verdicts["transposed"]
    assert v.label == "transposed", v.diagnosis
    assert math.isnan(v.max_rel_error)


def test_the_reported_error_is_within_rtol_exactly_when_the_tolerance_accepts():
    from gradcheck.verdict.tolerance import Tolerance

    rng = np.random.default_rng(0)
    for tol in (Tolerance(1e-9), Tolerance(1e-6, 1e-12), Tolerance(1e-9).for_float32()):
        for _ in range(300):
            g = rng.normal(size=5) * 10.0 ** rng.integers(-18, 3)
            c = g * (1 + rng.normal(size=5) * 10.0 ** rng.integers(-17, 0)) + rng.normal(size=5) * 1e-17
            err = np.abs(rng.normal(size=5)) * 10.0 ** rng.integers(-18, -8)
            rel = tol.error(c, g, 0.0, err)
            assert (rel <= tol.rtol) == bool(np.all(tol.within(c, g, 0.0, err))), (c, g, err, rel)


def test_a_value_outside_the_tolerance_reports_its_plain_relative_error_whatever_the_error_bar():
    from gradcheck.verdict.tolerance import Tolerance

    g = np.array([1.0, -2.0, 4.0])
    assert Tolerance(1e-9).error(2 * g, g, 0.0, 1e-8 * np.abs(g), scale=4.0) == pytest.approx(0.5)
    assert Tolerance(1e-9).error(g + 1e-16, g, 0.0, 1e-15) <= 1e-9  # within the error bars: at most rtol
