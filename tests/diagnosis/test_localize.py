"""Group testing (diagnosis.localize) and the large-n diagnosis that uses it."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from gradcheck.diagnosis.localize import localize
from gradcheck.options import RunOptions
from gradcheck.run import run


def _locate(error: np.ndarray, budget: int = 120):
    c = np.ones(error.shape)
    calls = []

    def residual(v):
        calls.append(1)
        return float(np.vdot(error, v))

    def bad(r, v):
        return abs(r) > 1e-9

    return localize(c, residual, bad, np.random.default_rng(0), budget=budget), len(calls)


@pytest.mark.parametrize("where", [(333, 500), (0, 0), (999, 999), (0, 999)])
def test_one_wrong_entry_in_three_evaluations(where):
    """The whole set, the weighted set (r(w) / r(1) = w_j names j), the rest (nothing else is wrong)."""
    e = np.zeros((1000, 1000))
    e[where] = 0.1
    found, calls = _locate(e)
    assert found.entries == (where,) and found.complete
    assert calls == found.evaluations == 3


def test_two_wrong_entries_fall_back_to_halving_in_about_log2_n_each():
    e = np.zeros((1000, 1000))
    e[333, 500] = 0.1
    e[10, 20] = -0.3
    found, calls = _locate(e)
    assert set(found.entries) == {(333, 500), (10, 20)} and found.complete
    assert found.columns == (20, 500) and found.rows == (10, 333)
    # 3 for the failed single-entry try, ~2 x 20 for the entries, ~2 x 2 x 10 for the columns and rows
    assert calls == found.evaluations <= 3 + 2 * 21 + 4 * 11


def test_a_wrong_column_and_a_wrong_row():
    e = np.zeros((40, 30))
    e[:, 7] = 1.0
    found, _ = _locate(e)
    assert found.columns == (7,)
    assert found.rows is None or len(found.rows) > 1
    e = np.zeros((40, 30))
    e[12, :] = -2.0
    found, _ = _locate(e)
    assert found.rows == (12,)


def test_budget_is_respected():
    e = np.random.default_rng(1).standard_normal((64, 64))
    found, calls = _locate(e, budget=10)
    assert not found.complete and calls <= 3 * 10


BIG = """
dims: {M: 8, in: 80, out: 60}
inputs: {X: {shape: [M, in]}, Y: {shape: [M, out]}, Theta: {shape: [in, out]}}
loss: {python: "bigmod:loss"}
claims:
  - {name: ok, wrt: Theta, gradient: {python: "bigmod:grad"}}
  - {name: entry, wrt: Theta, gradient: {python: "bigmod:grad_entry"}}
  - {name: column, wrt: Theta, gradient: {python: "bigmod:grad_column"}}
  - {name: double, wrt: Theta, gradient: {python: "bigmod:grad_double"}}
  - {name: swap, wrt: Theta, gradient: {python: "bigmod:grad_swap"}}
  - {name: row, wrt: Theta, gradient: {python: "bigmod:grad_row"}}
  - {name: dense, wrt: Theta, gradient: {python: "bigmod:grad_dense"}}
"""
BIGMOD = """
import numpy as np

def _s(z):
    return 1 / (1 + np.exp(-z))

def loss(X, Y, Theta):
    return 0.5 * np.sum((Y - _s(X @ Theta)) ** 2)

def grad(X, Y, Theta):
    s = _s(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))

def grad_entry(X, Y, Theta):
    g = grad(X, Y, Theta)
    g[17, 42] *= 1.1
    return g

def grad_column(X, Y, Theta):
    g = grad(X, Y, Theta)
    g[:, 9] = 0.0
    return g

def grad_double(X, Y, Theta):
    return 2 * grad(X, Y, Theta)

def grad_swap(X, Y, Theta):
    g = grad(X, Y, Theta)
    g[3, 5], g[40, 7] = g[40, 7], g[3, 5]
    return g

def grad_row(X, Y, Theta):
    g = grad(X, Y, Theta)
    g[11, :] *= 1.5
    return g

def grad_dense(X, Y, Theta):
    g = grad(X, Y, Theta)
    return g * (1 + 0.1 * np.cos(np.arange(g.size)).reshape(g.shape))
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    (folder / "big.yaml").write_text(textwrap.dedent(BIG))
    (folder / "bigmod.py").write_text(textwrap.dedent(BIGMOD))
    result = run([str(folder / "big.yaml")], RunOptions(seed=1, examples=3))
    return {v.claim: v for v in result.verdicts}


def test_large_claims_are_diagnosed_without_a_full_gradient(big):
    n = 80 * 60  # above the 4096 entries where a full gradient would be computed
    assert big["ok"].label == "pass"
    entry = big["entry"]
    assert entry.diagnosis == f"wrong: 1 of {n} entries of Theta is off: [17, 42]"
    assert (
        entry.lines[0].startswith("localised by group testing in ")
        and f"({n} entries, no full gradient)" in entry.lines[0]
    )
    assert entry.entries[0].index == (17, 42) and entry.entries[0].ratio == pytest.approx(1.1, rel=1e-9)
    assert entry.failing.finding.evaluations < 60
    assert big["column"].diagnosis == "wrong: column 9 of Theta is off (index 9 along out)"
    assert big["double"].label == "scaled" and big["double"].factor == pytest.approx(2.0, rel=1e-9)
    assert big["double"].diagnosis.startswith("scaled: the claim is 2 x the gradient along all ")


def test_swapped_entries_at_large_n_are_named_from_the_confirmed_entries(big):
    swap = big["swap"]
    assert swap.label == "wrong"
    assert swap.diagnosis == "wrong: entries [3, 5] and [40, 7] of Theta are swapped"
    assert swap.lines[0] == (
        "the claim holds the right values in the wrong places: its entries are in another order than Theta's"
    )
    assert swap.lines[1].startswith("localised by group testing in ")
    assert swap.failing.finding.swaps == (((3, 5), (40, 7)),)


def test_a_wrong_row_and_more_wrong_entries_than_group_testing_finds(big):
    assert big["row"].diagnosis == "wrong: row 11 of Theta is off (index 11 along in)"
    dense = big["dense"]  # every entry off: group testing stops at 5 and says so
    assert dense.label == "wrong"
    assert re.fullmatch(
        r"wrong: at least 5 of 4800 entries of Theta are off \(first found: \[\d+, \d+\](, \[\d+, \d+\]){4}\)",
        dense.diagnosis,
    ), dense.diagnosis
    assert len(dense.entries) == 5
