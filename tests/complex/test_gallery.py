"""The gallery's complex least-squares spec: the right claims pass, each mistake gets its diagnosis."""

from __future__ import annotations

from pathlib import Path

from gradcheck.options import RunOptions
from gradcheck.run import run

SPEC = Path(__file__).resolve().parents[2] / "specs" / "complex_least_squares.yaml"


def test_complex_least_squares_verdicts():
    result = run([str(SPEC)], RunOptions(seed=1, examples=4))
    assert not result.failures, result.failures
    got = {v.claim: (v.label, v.outcome) for v in result.verdicts}
    assert got == {
        "adjoint": ("pass", "ok"),
        "jax-convention": ("conjugated", "xfail"),
        "wirtinger-without-2": ("scaled", "xfail"),
        "transpose-is-not-adjoint": ("wrong", "xfail"),
        "residual": ("pass", "ok"),
    }
    shapes = {v.claim: v.claimed_shape for v in result.verdicts if not v.passed}
    assert shapes == {"jax-convention": "(n,)", "wirtinger-without-2": "(n,)", "transpose-is-not-adjoint": "(n,)"}
