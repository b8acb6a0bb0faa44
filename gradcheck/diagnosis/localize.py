"""Where is a large claim wrong? Group testing with directional derivatives, no full gradient.

For a subset S of the entries, a Rademacher direction V supported on S gives
r(S) = <C, V> - <G, V> = <E, V> (one oracle evaluation): zero up to rounding when every entry
of S is right, and |E_i| when S holds one wrong entry i (|V_i| = 1, so no unlucky small weight).
Halving the suspect sets finds a single wrong entry among n in 2·log2(n) evaluations; several
wrong entries cost that much each, up to a budget. For 2-D parameters the same search over
whole columns and whole rows says "column j" or "row i" when the error lines up.

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


def _search(n: int, test: Callable[[np.ndarray], bool], budget: int, limit: int) -> tuple[list[int], bool, int]:
    """Adaptive halving over index ranges [0, n); ``test(mask_indices)`` says whether the set is bad."""
    found: list[int] = []
    stack = [(0, n)]
    used = 0
    while stack:
        lo, hi = stack.pop()
        if hi - lo == 1:
            found.append(lo)
            if len(found) >= limit:
                return found, False, used
            continue
        mid = (lo + hi) // 2
        for a, b in ((mid, hi), (lo, mid)):  # pushed so that the lower half is searched first
            if used >= budget:
                return found, False, used
            used += 1
            if test(np.arange(a, b)):
                stack.append((a, b))
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
    flat_n = c.size
    evaluations = 0

    def test_flat(idx: np.ndarray) -> bool:
        nonlocal evaluations
        v = np.zeros(flat_n)
        v[idx] = rng.choice([-1.0, 1.0], idx.size)
        v = v.reshape(c.shape)
        evaluations += 1
        return bad(residual(v), v)

    found, complete, _ = _search(flat_n, test_flat, budget, limit)
    entries = tuple(tuple(int(i) for i in np.unravel_index(f, c.shape)) for f in found)
    columns = rows = None
    if c.ndim == 2 and (not complete or len(found) > 1):
        r_, k_ = c.shape

        def test_cols(idx: np.ndarray) -> bool:
            nonlocal evaluations
            v = np.zeros(c.shape)
            v[:, idx] = rng.choice([-1.0, 1.0], (r_, idx.size))
            evaluations += 1
            return bad(residual(v), v)

        def test_rows(idx: np.ndarray) -> bool:
            nonlocal evaluations
            v = np.zeros(c.shape)
            v[idx, :] = rng.choice([-1.0, 1.0], (idx.size, k_))
            evaluations += 1
            return bad(residual(v), v)

        cols, cols_complete, _ = _search(k_, test_cols, budget // 2, 3)
        rws, rows_complete, _ = _search(r_, test_rows, budget // 2, 3)
        columns = tuple(cols) if cols_complete else None
        rows = tuple(rws) if rows_complete else None
    return Localized(entries=entries, complete=complete, columns=columns, rows=rows, evaluations=evaluations)
