"""Diagnosis at large n, without the full gradient.

Factor, sign and transpose hypotheses are tested on the failing example's directions plus a
few more; wrong entries, rows and columns are localised by group testing
(:mod:`gradcheck.diagnosis.localize`) and each entry found is confirmed on its own.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..samples.draw import draw_direction
from ..verdict.model import Entry, Finding, Label
from ..verdict.tolerance import EPS64, projected_error
from .evidence import DirectionalEvidence
from .factor import factor_error, fitted_factor, multiple_finding
from .localize import localize
from .permutation import describe, find_cycles

__all__ = ["EXTRA_DIRECTIONS", "directional_diagnosis"]


EXTRA_DIRECTIONS = 2  # directions added on a failure at large n: a factor, a sign or a transpose must hold on 3+


def directional_diagnosis(ev: DirectionalEvidence) -> Finding:
    """Large n: no full gradient. Factor, sign and transpose hypotheses are tested on the same
    directions (plus a few more); wrong entries are localised by group testing in O(log n)."""
    ev = _more_directions(ev)
    c, tol, m = ev.claimed, ev.tol, len(ev.dirs)
    claimed_d, oracle_d, dot_err, oracle_err = ev.claimed_d, ev.oracle_d, ev.dot_err, ev.oracle_err
    fields = {"max_rel_error": ev.rel, "oracle": ev.method, "evaluations": ev.evaluations, "directions": m}
    factor = fitted_factor(claimed_d, oracle_d)
    if factor is not None and np.all(tol.within(claimed_d, factor * oracle_d, dot_err, np.abs(factor) * oracle_err)):
        bar = factor_error(claimed_d, oracle_d, factor, dot_err, oracle_err)
        return multiple_finding(factor, bar, ev.example.names.truth, f"along all {m} directions", **fields)
    if c.ndim == 2 and c.shape[0] == c.shape[1]:
        ct_d = np.array([float(np.vdot(c.T, v)) for v in ev.dirs])
        if np.all(tol.within(ct_d, oracle_d, dot_err, oracle_err)):
            return Finding(
                Label.TRANSPOSED, f"transposed: the claim's transpose matches along all {m} directions", **fields
            )
    return _localized(ev, fields)


def _dot_error(ev: DirectionalEvidence, v) -> float:
    c = ev.claimed
    return 8 * np.sqrt(c.size) * EPS64 * float(np.vdot(np.abs(c), np.abs(v))) + projected_error(ev.claim_err, v)


def _more_directions(ev: DirectionalEvidence) -> DirectionalEvidence:
    """The failing example's directions and EXTRA_DIRECTIONS more: a factor, a sign or a transpose must hold on all."""
    if len(ev.dirs) >= ev.directions + EXTRA_DIRECTIONS:
        return ev
    ex = ev.example
    rng = np.random.default_rng([ex.sample.seed, 5])
    more = [draw_direction(rng, ex.x.shape) for _ in range(EXTRA_DIRECTIONS)]
    ests = ex.oracle.directions(ex.f, ex.x, more)
    return replace(
        ev,
        evaluations=ev.evaluations + sum(e.evaluations for e in ests),
        dirs=tuple(ev.dirs) + tuple(more),
        claimed_d=np.concatenate([ev.claimed_d, [float(np.vdot(ev.claimed, v)) for v in more]]),
        oracle_d=np.concatenate([ev.oracle_d, [float(e.value) for e in ests]]),
        oracle_err=np.concatenate([ev.oracle_err, [float(e.error) for e in ests]]),
        dot_err=np.concatenate([ev.dot_err, [_dot_error(ev, v) for v in more]]),
    )


def _localized(ev: DirectionalEvidence, fields: dict) -> Finding:
    """Which entries are wrong, by group testing, each confirmed on its own; swapped entries named."""
    c, names = ev.claimed, ev.example.names
    found, entries = _confirmed_entries(ev)
    fields = {**fields, "evaluations": ev.evaluations + found.evaluations + len(found.entries)}
    localised = f"localised by group testing in {found.evaluations} evaluations ({c.size} entries, no full gradient)"
    cycles = _swapped(entries, ev.claim_err, ev.tol) if found.complete else None
    if cycles is not None:  # every wrong entry is known and confirmed: the full-array test applies to them
        summary, lines = describe(cycles, names, c.shape)
        return Finding(Label.WRONG, summary, lines=lines + (localised,), entries=tuple(entries), swaps=cycles, **fields)
    found = replace(found, entries=tuple(e.index for e in entries))
    where = _where_from(found, c, names)
    return Finding(Label.WRONG, f"wrong: {where}", lines=(localised,), entries=tuple(entries), **fields)


def _confirmed_entries(ev: DirectionalEvidence):
    """(what group testing found, the entries confirmed wrong one by one along unit directions)."""
    ex, c, tol, err_c = ev.example, ev.claimed, ev.tol, ev.claim_err
    n, abs_c = c.size, np.abs(c)

    def residual(v):
        return float(np.vdot(c, v)) - float(ex.oracle.directional(ex.f, ex.x, v).value)

    def bad(r, v):
        # group testing's directions are structured (subsets, weights, rank-one row/column
        # patterns), not independent uniform entries: the claim's rounding counts in full
        cd = float(np.vdot(c, v))
        err = 8 * np.sqrt(n) * EPS64 * float(np.vdot(abs_c, np.abs(v))) + float(np.vdot(err_c, np.abs(v)))
        return not bool(tol.within(cd, cd - r, err, 4 * EPS64 * abs(cd - r)))

    found = localize(c, residual, bad, np.random.default_rng([ex.sample.seed, 6]))
    units = []
    for idx in found.entries:  # each entry found is confirmed on its own (unit directions, one batch)
        e = np.zeros(c.shape)
        e[idx] = 1.0
        units.append(e)
    truths = [float(est.value) for est in ex.oracle.directions(ex.f, ex.x, units)] if units else []
    entries = []
    for idx, truth in zip(found.entries, truths):
        if tol.within(float(c[idx]), truth, float(err_c[idx]) + 4 * EPS64 * abs(float(c[idx])), 4 * EPS64 * abs(truth)):
            continue
        entries.append(Entry(idx, float(c[idx]), truth))
    return found, entries


def _swapped(entries, err_c, tol):
    """Cycles of the confirmed wrong entries when they hold each other's true values, else None."""
    if len(entries) < 2:
        return None
    claimed = np.array([e.claimed for e in entries])
    truth = np.array([e.oracle for e in entries])
    ec = np.array([float(err_c[e.index]) for e in entries]) + 4 * EPS64 * np.abs(claimed)

    def close(cv, tv):
        return tol.within(cv, tv, ec[:, None], 4 * EPS64 * np.abs(tv))

    cycles = find_cycles(claimed, truth, close)
    if cycles is None:
        return None
    return tuple(tuple(entries[k].index for k in cycle) for cycle in cycles)


def _where_from(found, c, names) -> str:
    def idx_text(ix):
        return "[" + ", ".join(str(i) for i in ix) + "]"

    if found.columns is not None and len(found.columns) == 1 and (found.rows is None or len(found.rows) > 1):
        j = found.columns[0]
        return f"column {j} of {names.target} is off (index {j} along {names.axes[1] if len(names.axes) > 1 else 'axis 1'})"
    if found.rows is not None and len(found.rows) == 1 and (found.columns is None or len(found.columns) > 1):
        i = found.rows[0]
        return f"row {i} of {names.target} is off (index {i} along {names.axes[0] if names.axes else 'axis 0'})"
    if found.complete:
        count = len(found.entries)
        listed = ", ".join(idx_text(e) for e in found.entries)
        return f"{count} of {c.size} entries of {names.target} {'is' if count == 1 else 'are'} off: {listed}"
    listed = ", ".join(idx_text(e) for e in found.entries)
    return f"at least {len(found.entries)} of {c.size} entries of {names.target} are off (first found: {listed})"
