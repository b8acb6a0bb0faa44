"""Diagnosis: what kind of wrong is a claim, given the true array beside it?

Runs only on a failing example (the cheap directional check already failed). Hypotheses are
tried in order of how much they explain: the shape (transposed? the same entries in another
shape, and which reshape matches), a constant factor (the forgotten 1/2: ``scaled``; -1:
``sign-flipped``; see :mod:`gradcheck.diagnosis.factor` for how it is rounded and hinted), the
transpose of a square parameter, and otherwise ``wrong`` with where: entries that trade places
(:mod:`gradcheck.diagnosis.permutation`), which entries, and whether they line up in a row or column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..expr.dims import name_shape
from ..verdict.model import Entry, Finding, Label
from ..verdict.tolerance import EPS64, Tolerance, relative_error
from .factor import constant_hint, factor_error, factor_text, fitted_factor, multiple_finding
from .permutation import MAX_PERMUTED, describe, find_cycles

MAX_TABLE = 5


@dataclass(frozen=True)
class Names:
    """The user's symbols for the array being compared."""

    target: str  # "Theta", "node a"
    noun: str  # "claimed gradient"
    axes: tuple[str, ...]  # symbolic dim names per axis, e.g. ("in", "out")
    shape_sym: str  # "(in, out)"
    sizes: dict[str, int] | None = None  # the example's bound dims, to name concrete shapes
    truth: str = "the gradient"  # what the claim is compared with: "J V" for a jvp

    def symbolic(self, shape: tuple[int, ...]) -> str:
        """``(out, in) = (4, 3)`` when the example's sizes say which dims, else ``(4, 3)``."""
        return name_shape(tuple(shape), self.sizes or {})


def _close(c: np.ndarray, g: np.ndarray, tol: Tolerance, ec, eg) -> np.ndarray:
    floor = 8 * EPS64 * np.sqrt(max(g.size, 1)) * float(np.max(np.abs(g), initial=0.0))
    return np.abs(c - g) <= tol.allowed(c, g, ec, eg) + floor


def nice_factor(x: float, err: float | None = None) -> str:
    """``2``, ``0.5``, ``-1``, ``1/3`` when x is a small rational within ``err`` (default 1e-9
    relative), else with the digits the error bar allows (``1.7321``, ``3.141592654``)."""
    return factor_text(x, err)


def factor_hint(factor: float, err: float | None = None) -> str | None:
    """Why a claim may be off by the constant ``factor``; None when no common slip gives it."""
    return constant_hint(factor, err)


def worst_entries(
    c: np.ndarray, g: np.ndarray, mask: np.ndarray | None = None, limit: int = MAX_TABLE
) -> tuple[Entry, ...]:
    diff = np.abs(c - g)
    if mask is not None:
        diff = np.where(mask, diff, -1.0)
    order = np.argsort(-diff, axis=None, kind="stable")[:limit]
    out = []
    for flat in order:
        if diff.reshape(-1)[flat] < 0:
            break
        idx = np.unravel_index(flat, c.shape)
        out.append(Entry(tuple(int(i) for i in idx), float(c[idx]), float(g[idx])))
    return tuple(out)


def _where(bad: np.ndarray, names: Names) -> str:
    """Say where the bad entries are: all, a column, a row, a few entries, or how many."""
    count = int(bad.sum())
    total = bad.size
    if count == total:
        return f"every entry of {names.target} is off"
    if bad.ndim == 2 and count >= 2:
        rows = np.flatnonzero(bad.any(axis=1))
        cols = np.flatnonzero(bad.any(axis=0))
        ax0 = names.axes[0] if names.axes else "axis 0"
        ax1 = names.axes[1] if len(names.axes) > 1 else "axis 1"
        if len(cols) == 1:
            return (
                f"column {cols[0]} of {names.target} is off ({count} of {bad.shape[0]} entries; "
                f"index {cols[0]} along {ax1})"
            )
        if len(rows) == 1:
            return (
                f"row {rows[0]} of {names.target} is off ({count} of {bad.shape[1]} entries; "
                f"index {rows[0]} along {ax0})"
            )
    if count <= 3:
        idx = ", ".join("[" + ", ".join(str(int(i)) for i in ix) + "]" for ix in zip(*np.nonzero(bad)))
        return f"{count} of {total} entries of {names.target} {'is' if count == 1 else 'are'} off: {idx}"
    return f"{count} of {total} entries of {names.target} are off"


def _reshaped(c, g, tol, claim_err, oracle_err, names: Names) -> tuple[str | None, tuple[str, ...]]:
    """A claim with the right number of entries in another shape (a raveled matrix): which
    reshape of it, C order or F order, matches? ``(order, lines)``; order "" when neither, None
    when the sizes differ."""
    if c.size != g.size or c.size == 0:
        return None, ()
    ask = f"same number of entries: reshape to {names.shape_sym}?"
    for order, line in (
        ("C", "reshaped in C order (row by row, numpy's default) the claim matches"),
        ("F", "reshaped in F order (column by column) the claim matches: reshape with order='F'"),
    ):
        ec = np.reshape(claim_err, g.shape, order=order) if np.size(claim_err) == c.size else claim_err
        if np.all(_close(np.reshape(c, g.shape, order=order), g, tol, ec, oracle_err)):
            return order, (ask, line)
    return "", (ask, "reshaped in C or F order it still does not match")


def _swapped(c, g, bad, tol, claim_err, oracle_err) -> tuple[tuple[tuple[int, ...], ...], ...] | None:
    """The wrong entries as cycles of multi-indices when they are the truth's own values, moved."""
    flat = np.flatnonzero(bad)
    if not 2 <= flat.size <= MAX_PERMUTED:
        return None
    ec = np.broadcast_to(np.asarray(claim_err, dtype=np.float64), c.shape).reshape(-1)[flat]
    eg = np.broadcast_to(np.asarray(oracle_err, dtype=np.float64), g.shape).reshape(-1)[flat]
    floor = 8 * EPS64 * np.sqrt(max(g.size, 1)) * float(np.max(np.abs(g), initial=0.0))

    def close(cv, tv):
        return np.abs(cv - tv) <= tol.allowed(cv, tv, ec[:, None], eg[None, :]) + floor

    cycles = find_cycles(c.reshape(-1)[flat], g.reshape(-1)[flat], close)
    if cycles is None:
        return None
    return tuple(tuple(tuple(int(i) for i in np.unravel_index(flat[k], c.shape)) for k in cycle) for cycle in cycles)


def shape_mismatch(names: Names, claimed: tuple[int, ...], expected: tuple[int, ...], sizes: bool = False) -> Finding:
    """``claimed gradient has shape (n, n) = (3, 3) but z has shape (n,) = (3,)``, with the sizes
    bound (``[M=5 n=3]``) when ``sizes``: a claim of another shape, in the user's symbols."""
    text = (
        f"{names.noun} has shape {names.symbolic(claimed)} but {names.target} has shape "
        f"{names.shape_sym} = {tuple(expected)}"
    )
    if sizes:
        text += "   [" + " ".join(f"{k}={v}" for k, v in (names.sizes or {}).items()) + "]"
    return Finding(Label.SHAPE_MISMATCH, text, claimed_shape=tuple(claimed), max_rel_error=float("nan"))


def diagnose(
    c: np.ndarray,
    g: np.ndarray,
    tol: Tolerance,
    names: Names,
    claim_err: np.ndarray | float = 0.0,
    oracle_err: np.ndarray | float = 0.0,
) -> Finding:
    """Classify a claim ``c`` against the true array ``g`` (both evaluated at one example).

    Returns a Finding whose label is one of ``pass transposed shape-mismatch scaled
    sign-flipped wrong``.
    """
    c = np.asarray(c, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if c.shape != g.shape:
        return _other_shape(c, g, tol, names, claim_err, oracle_err)
    ok = _close(c, g, tol, claim_err, oracle_err)
    rel = relative_error(c, g)
    if ok.all():
        return Finding(Label.PASS, "agrees entrywise", max_rel_error=rel, claimed_shape=tuple(c.shape))
    factor = fitted_factor(c, g)
    if factor and np.all(_close(c, factor * g, tol, claim_err, np.abs(factor) * np.asarray(oracle_err))):
        bar = factor_error(c, g, factor, claim_err, oracle_err)
        return multiple_finding(
            factor,
            bar,
            names.truth,
            "on every entry",
            max_rel_error=rel,
            entries=worst_entries(c, g),
            claimed_shape=tuple(c.shape),
        )
    if c.ndim == 2 and c.shape[0] == c.shape[1] and np.all(_close(c.T, g, tol, claim_err, oracle_err)):
        return Finding(
            Label.TRANSPOSED,
            f"transposed: the claim equals the transpose of {names.truth} ({names.target} is square, {names.shape_sym})",
            max_rel_error=rel,
            entries=worst_entries(c, g),
            claimed_shape=tuple(c.shape),
        )
    return _wrong_entries(c, g, ~ok, tol, names, (claim_err, oracle_err))


def _other_shape(c, g, tol: Tolerance, names: Names, claim_err, oracle_err) -> Finding:
    """A claim of another shape: its transpose, or the same entries reshaped, or neither."""
    claim_err_t = np.asarray(claim_err).T if np.ndim(claim_err) else claim_err
    if c.ndim >= 2 and c.T.shape == g.shape and np.all(_close(c.T, g, tol, claim_err_t, oracle_err)):
        return Finding(
            Label.TRANSPOSED,
            f"transposed: the claim has shape {names.symbolic(c.shape)}, the transpose of {names.target}'s {names.shape_sym}, and its transpose matches",
            max_rel_error=relative_error(c.T, g),
            claimed_shape=tuple(c.shape),
        )
    order, lines = _reshaped(c, g, tol, claim_err, oracle_err, names)
    return Finding(
        Label.SHAPE_MISMATCH,
        f"{names.noun} has shape {names.symbolic(c.shape)} but {names.target} has shape {names.shape_sym} = {tuple(g.shape)}",
        lines=lines,
        max_rel_error=float("nan"),
        claimed_shape=tuple(c.shape),
        reshape_order=order,
    )


def _wrong_entries(c, g, bad, tol: Tolerance, names: Names, errors: tuple) -> Finding:
    """Some entries are wrong (``bad``): entries that trade places, or where they are and what they share."""
    rel = relative_error(c, g)
    swapped = _swapped(c, g, bad, tol, *errors)
    if swapped is not None:
        summary, lines = describe(swapped, names, c.shape)
        return Finding(
            Label.WRONG,
            summary,
            lines=lines,
            max_rel_error=rel,
            entries=worst_entries(c, g, bad),
            claimed_shape=tuple(c.shape),
            swaps=swapped,
        )
    lines = []
    sub_c, sub_g = c[bad], g[bad]
    if sub_g.size and np.all(sub_g != 0):
        ratios = sub_c / sub_g
        if np.allclose(ratios, ratios[0], rtol=1e-6, atol=0):
            lines.append(f"on those entries the claim is {nice_factor(float(ratios[0]))} x {names.truth}")
    if not np.any(c):
        lines.append("the claim is zero everywhere")
    return Finding(
        Label.WRONG,
        f"wrong: {_where(bad, names)}",
        lines=tuple(lines),
        max_rel_error=rel,
        entries=worst_entries(c, g, bad),
        claimed_shape=tuple(c.shape),
    )
