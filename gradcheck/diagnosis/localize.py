"""Where is a large claim wrong? Group testing with directional derivatives, no full gradient.

For a subset S of the entries, a Rademacher direction V supported on S gives
r(S) = <C, V> - <G, V> = <E, V> (one oracle evaluation): zero up to rounding when every entry
of S is right, and |E_i| when S holds one wrong entry i (|V_i| = 1, so no unlucky small weight).
Halving the suspect sets finds a single wrong entry among n in log2(n) + 1 evaluations (the
right half's residual is the parent's minus the left half's, by linearity); several wrong
entries cost that much each, up to a budget. For 2-D parameters the same search over
whole columns and whole rows says "column j" or "row i" when the error lines up.

One wrong entry is the common case (a typo in one term, a boundary case), and it needs no
search: with weights w_i = i + 1 on the same signs, r(w) / r(1) = w_j for the single wrong
entry j, so two evaluations name it and a third (every entry but j) checks that nothing else
is wrong — with the sensitivity of one directional check over n - 1 entries, so a second
error far below the first (near the tolerance of such a check) can go unreported; only when
that check fails does the halving search run. Each entry named is confirmed on its own
unit direction by the caller.

Notes
-----
Two wrong entries in one set can cancel only if E_i = ±E_j exactly; the random signs make
that a measure-zero event for errors that are not exact copies of each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Localized:
    entries: tuple[tuple[int, ...], ...]  # wrong entries found (multi-indices), at most ``limit``
    complete: bool  # every wrong entry was found within the budget
    columns: tuple[int, ...] | None  # for 2-D: the columns that hold wrong entries (None if not searched)
    rows: tuple[int, ...] | None
    evaluations: int


def _single(
    n: int,
    residual_of: Callable[[np.ndarray, np.ndarray], float],
    bad: Callable[[float, np.ndarray], bool],
    signs: np.ndarray,
    root: float,
) -> tuple[int | None, int]:
    """The one wrong entry, if exactly one is wrong: (index or None, evaluations spent)."""
    everything = np.arange(n)
    weighted = residual_of(everything, signs * (everything + 1.0))
    if root == 0 or not np.isfinite(weighted / root):
        return None, 1
    guess = weighted / root - 1.0
    j = int(round(guess))
    if not (0 <= j < n and abs(guess - j) < 0.25):
        return None, 1
    rest = np.delete(everything, j)
    r_rest = residual_of(rest, signs[rest])
    if bad(r_rest, rest) or not bad(root - r_rest, np.array([j])):
        return None, 2
    return j, 2


def _search(
    n: int,
    residual_of: Callable[[np.ndarray, np.ndarray], float],
    bad: Callable[[float, np.ndarray], bool],
    signs: np.ndarray,
    budget: int,
    limit: int,
    root: float | None = None,
) -> tuple[list[int], bool, int]:
    """Adaptive halving over index ranges [0, n) with one evaluation per split.

    Every set is tested with the same random signs restricted to it, so by linearity the
    residual of the right half is the parent's minus the left half's: only the left half costs
    an evaluation. ``residual_of(idx, signs[idx])`` evaluates one set.
    """
    found: list[int] = []
    used = 1
    stack = [(0, n, root if root is not None else residual_of(np.arange(n), signs))]
    if root is not None:
        used = 0
    if not bad(stack[0][2], np.arange(n)):
        return found, True, used
    while stack:
        lo, hi, r = stack.pop()
        if hi - lo == 1:
            found.append(lo)
            if len(found) >= limit:
                return found, False, used
            continue
        if used >= budget:
            return found, False, used
        mid = (lo + hi) // 2
        left = np.arange(lo, mid)
        r_left = residual_of(left, signs[left])
        used += 1
        r_right = r - r_left
        if bad(r_right, np.arange(mid, hi)):
            stack.append((mid, hi, r_right))
        if bad(r_left, left):
            stack.append((lo, mid, r_left))  # searched first
    return found, True, used


def localize(
    c: np.ndarray,
    residual: Callable[[np.ndarray], float],
    bad: Callable[[float, np.ndarray], bool],
    rng: np.random.Generator,
    budget: int = 120,
    limit: int = 5,
) -> Localized:
    """Find the wrong entries of claim ``c``.

    Parameters
    ----------
    c : ndarray
        The claim (its shape is the parameter's shape).
    residual : callable
        ``residual(V)`` = <C, V> - (oracle's directional derivative along V): one evaluation.
    bad : callable
        ``bad(r, V)`` decides, with the tolerance formula, whether residual r along V is an error.
    """
    tests = _GroupTests(residual, bad, rng, budget, limit)

    def flat_direction(idx, s):
        v = np.zeros(c.size)
        v[idx] = s
        return v.reshape(c.shape)

    found, complete = tests.run(c.size, flat_direction, single=True)
    entries = tuple(tuple(int(i) for i in np.unravel_index(f, c.shape)) for f in found)
    columns = rows = None
    if c.ndim == 2 and (not complete or len(found) > 1):
        columns, rows = _columns_and_rows(c, tests, rng)
    return Localized(entries=entries, complete=complete, columns=columns, rows=rows, evaluations=tests.evaluations)


def _columns_and_rows(c: np.ndarray, tests: "_GroupTests", rng: np.random.Generator):
    """For a matrix: the columns and the rows that hold wrong entries (None where the search did not finish)."""
    r_, k_ = c.shape
    col_signs = rng.choice([-1.0, 1.0], r_)
    row_signs = rng.choice([-1.0, 1.0], k_)

    def col_direction(idx, s):
        v = np.zeros(c.shape)
        v[:, idx] = np.outer(col_signs, s)
        return v

    def row_direction(idx, s):
        v = np.zeros(c.shape)
        v[idx, :] = np.outer(s, row_signs)
        return v

    cols, cols_complete = tests.run(k_, col_direction)
    rws, rows_complete = tests.run(r_, row_direction)
    return (tuple(cols) if cols_complete else None), (tuple(rws) if rows_complete else None)


class _GroupTests:
    """Group tests over n items, each a direction ``make(idx, signs)``; counts the evaluations spent."""

    def __init__(self, residual, bad, rng: np.random.Generator, budget: int, limit: int) -> None:
        self.residual, self.bad, self.rng = residual, bad, rng
        self.budget, self.limit = budget, limit
        self.evaluations = 0

    def run(self, n: int, make, single: bool = False) -> tuple[list[int], bool]:
        """(the wrong items found, whether that is all of them). With ``single``, a lone wrong
        item is looked for first (one residual of everything, then bisection)."""
        signs = self.rng.choice([-1.0, 1.0], n)

        def residual_of(idx, s):
            return self.residual(make(idx, s))

        def is_bad(r, idx):
            return self.bad(r, make(idx, signs[idx]))

        root, spent = None, 0
        if single and n > 2:
            root = residual_of(np.arange(n), signs)
            if not is_bad(root, np.arange(n)):
                self.evaluations += 1
                return [], True
            j, used = _single(n, residual_of, is_bad, signs, root)
            spent = 1 + used
            if j is not None:
                self.evaluations += spent
                return [j], True
        found, complete, used = _search(n, residual_of, is_bad, signs, max(self.budget - spent, 1), self.limit, root)
        self.evaluations += spent + used
        return found, complete
