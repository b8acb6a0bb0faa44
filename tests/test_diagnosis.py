"""Diagnosis on synthetic arrays: each hypothesis recognised, and only that one."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.diagnosis.compare import Names, diagnose, nice_factor
from gradcheck.verdict.tolerance import Tolerance

NAMES = Names(
    target="Theta", noun="claimed gradient", axes=("in", "out"), shape_sym="(in, out)", sizes={"in": 3, "out": 4}
)
TOL = Tolerance()


@pytest.fixture
def g():
    return np.random.default_rng(0).standard_normal((3, 4))


def test_exact_claim_passes(g):
    assert diagnose(g.copy(), g, TOL, NAMES).label == "pass"


@pytest.mark.parametrize(
    "factor, text", [(2.0, "factor 2"), (0.5, "factor 0.5"), (1 / 3, "factor 1/3"), (1.7320508, "factor 1.7320508")]
)
def test_scaled(g, factor, text):
    f = diagnose(factor * g, g, TOL, NAMES)
    assert f.label == "scaled" and text in f.summary
    assert f.factor == pytest.approx(factor)


def test_sign_flipped(g):
    f = diagnose(-g, g, TOL, NAMES)
    assert f.label == "sign-flipped" and f.factor == -1


def test_transposed_non_square(g):
    f = diagnose(g.T.copy(), g, TOL, NAMES)
    assert f.label == "transposed"
    assert "(out, in) = (4, 3)" in f.summary


def test_transposed_square():
    a = np.random.default_rng(1).standard_normal((3, 3))
    names = Names("A", "claimed gradient", ("n", "n"), "(n, n)")
    assert diagnose(a.T.copy(), a, TOL, names).label == "transposed"


def test_wrong_shape_that_is_not_a_transpose(g):
    f = diagnose(np.ones((2, 3)), g, TOL, NAMES)
    assert f.label == "shape-mismatch"
    assert "claimed gradient has shape (2, 3) but Theta has shape (in, out) = (3, 4)" == f.summary


def test_one_entry(g):
    c = g.copy()
    c[2, 1] *= 1.1
    f = diagnose(c, g, TOL, NAMES)
    assert f.label == "wrong"
    assert f.summary == "wrong: 1 of 12 entries of Theta is off: [2, 1]"
    assert f.entries[0].index == (2, 1)
    assert "11/10 x the gradient" in f.lines[0]


def test_column(g):
    c = g.copy()
    c[:, 3] = 0
    f = diagnose(c, g, TOL, NAMES)
    assert f.summary == "wrong: column 3 of Theta is off (3 of 3 entries; index 3 along out)"


def test_row(g):
    c = g.copy()
    c[1, :] *= -1
    f = diagnose(c, g, TOL, NAMES)
    assert f.summary.startswith("wrong: row 1 of Theta is off")
    assert "-1 x the gradient" in f.lines[0]


def test_scale_that_varies_is_wrong(g):
    c = g * np.linspace(1, 2, g.size).reshape(g.shape)
    assert diagnose(c, g, TOL, NAMES).label == "wrong"


def test_tiny_relative_error_is_caught_but_rounding_is_not(g):
    assert diagnose(g * (1 + 1e-6), g, TOL, NAMES).label == "scaled"
    assert diagnose(g * (1 + 1e-8), g, TOL, NAMES).label == "scaled"
    assert diagnose(g * (1 + 4e-16), g, TOL, NAMES).label == "pass"


def test_nice_factor():
    assert nice_factor(2.0) == "2" and nice_factor(-1.0) == "-1" and nice_factor(0.25) == "0.25"
    assert nice_factor(2 / 3) == "2/3" and nice_factor(np.pi) == "3.141592654"
