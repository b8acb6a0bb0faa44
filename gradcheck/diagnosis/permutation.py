"""Layout bugs: the right values in the wrong places.

A gradient assembled by hand can hold every right number and still be wrong: two parameters
returned in the other order (the intercept's derivative where the scale's belongs), two rows
of a matrix exchanged. Among the entries that are off, the claim is a permutation of the truth
when each claimed entry matches exactly one true entry (within the tolerance) and no true entry
is matched twice. The search runs on the full arrays (small n), or on the entries a large-n
localisation found and confirmed one by one, and only when every wrong entry is known.

Notes
-----
Entries whose values happen to coincide (two equal gradients) make the matching ambiguous; the
claim is then not called a permutation. A claim that repeats one entry's value is not one either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

MAX_PERMUTED = 64  # a pairwise comparison among more wrong entries than this is not attempted
MAX_LISTED = 3  # cycles named in a message


Index = tuple[int, ...]


def find_cycles(
    claimed: np.ndarray, truth: np.ndarray, close: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[tuple[int, ...], ...] | None:
    """The cycles of the permutation p with claimed[i] == truth[p[i]] over the given (wrong) entries.

    ``claimed``, ``truth``: 1-D, the values of the wrong entries; ``close(c, t)`` decides
    agreement elementwise (broadcasting). Returns cycles of positions, each starting at its
    smallest, or None when the claim is no permutation of the truth there.
    """
    n = claimed.size
    if n < 2 or n > MAX_PERMUTED:
        return None
    match = close(claimed[:, None], truth[None, :])
    np.fill_diagonal(match, False)  # an entry that matched itself would not be wrong
    if not (np.all(match.sum(axis=1) == 1) and np.all(match.sum(axis=0) == 1)):
        return None
    target = np.argmax(match, axis=1)
    cycles, seen = [], set()
    for start in range(n):
        if start in seen:
            continue
        cycle, i = [], start
        while i not in seen:
            seen.add(i)
            cycle.append(i)
            i = int(target[i])
        cycles.append(tuple(cycle))
    return tuple(cycles)


def _idx(ix: Index) -> str:
    return "[" + ", ".join(str(i) for i in ix) + "]"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _lines_up(cycles: tuple[tuple[Index, ...], ...], axis: int) -> tuple[int, int] | None:
    """Two whole rows (axis 0) or columns (axis 1) exchanged: every cycle a pair differing on ``axis`` only."""
    pairs = set()
    for cycle in cycles:
        if len(cycle) != 2:
            return None
        a, b = cycle
        other = 1 - axis
        if a[other] != b[other]:
            return None
        pairs.add(tuple(sorted((a[axis], b[axis]))))
    return next(iter(pairs)) if len(pairs) == 1 else None


def describe(cycles: tuple[tuple[Index, ...], ...], names, shape: tuple[int, ...]) -> tuple[str, tuple[str, ...]]:
    """(summary, lines) for a claim whose wrong entries trade places along ``cycles`` (multi-indices).

    ``names`` are the user's symbols (:class:`gradcheck.diagnosis.compare.Names`).
    """
    why = (
        f"the claim holds the right values in the wrong places: its entries are in another order than {names.target}'s",
    )
    if len(shape) == 2 and len(cycles) >= 2:
        for axis, word in ((0, "rows"), (1, "columns")):
            pair = _lines_up(cycles, axis)
            if pair is not None and len(cycles) == shape[1 - axis]:
                ax = names.axes[axis] if len(names.axes) > axis else f"axis {axis}"
                return f"wrong: {word} {pair[0]} and {pair[1]} of {names.target} are swapped (along {ax})", why
    listed = cycles[:MAX_LISTED]
    more = f" (and {len(cycles) - MAX_LISTED} more groups)" if len(cycles) > MAX_LISTED else ""
    if all(len(c) == 2 for c in listed):
        groups = ", ".join(f"{_idx(a)} and {_idx(b)}" for a, b in listed)
        return f"wrong: entries {groups} of {names.target} are swapped{more}", why
    groups = "; ".join(_and([_idx(i) for i in c]) for c in listed)
    where = "; ".join(
        ", ".join(
            (
                f"{_idx(i)} holds {names.truth}'s {_idx(c[(k + 1) % len(c)])}"
                if k == 0 and j == 0
                else f"{_idx(i)} holds {_idx(c[(k + 1) % len(c)])}"
            )
            for k, i in enumerate(c)
        )
        for j, c in enumerate(listed)
    )
    return f"wrong: entries {groups} of {names.target} are permuted{more}", why + (where,)
