"""Symbolic derivation covers real specs only: a spec with complex inputs says so instead of deriving."""

from __future__ import annotations

from pathlib import Path

from gradcheck.derive.reverse import derive_problem
from gradcheck.run import read_problem

SPEC = Path(__file__).resolve().parents[2] / "specs" / "complex_least_squares.yaml"


def test_a_spec_with_complex_inputs_is_not_derived():
    derivation = derive_problem(read_problem(str(SPEC)))
    assert derivation.inputs == {}
    assert derivation.skipped == {
        name: "complex inputs (A, b, z): symbolic derivation covers real inputs only" for name in ("A", "b", "z")
    }
