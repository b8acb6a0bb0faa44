"""Which oracle answers for a claim, and the second opinion on a failing example.

:class:`OracleChoice` uses the complex step while it works for the claim and finite
differences after it fails once (or after the guard catches a complex result that is not the
derivative, or an expression function the table marks ``complex_safe=False`` refuses the
complex point: the note then names it); :func:`cross_check` is the finite-difference second opinion along one direction;
:func:`step_curve` records the finite-difference error against the step for the report's picture.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import FiniteDifferencesOnly, NotComplexSafe
from ..internal import ours
from ..verdict.model import Evidence
from ..verdict.tolerance import EPS64, SAFETY
from . import complex_step, dual, finite_diff
from .estimate import Estimate, Oracle

__all__ = ["OracleChoice", "cross_check", "step_curve"]


class OracleChoice:
    """Complex step while it works for this claim; finite differences after it fails once.

    With ``guard`` (the loss is user Python code), the first complex-step derivative is also
    cross-checked by finite differences: code such as ``np.abs(x) * x`` returns a complex
    result whose imaginary part is *not* the derivative, which no exception or warning reveals.
    """

    # Below the default rtol (1e-9): a dropped term smaller than this cannot change a verdict.
    # Not larger: np.abs(x) beside 0.5 x² at |x| ~ 1e7 is a term 1e-7 of the derivative, and a
    # slack relative to the whole derivative (it was 1e-6) let the claim that forgets it pass.
    # Beyond it, only the finite-difference error bar (noise included) excuses a disagreement.
    AGREE_RTOL = 1e-10
    # forward and backward slopes apart by more than this (relative) at the guard's step: a kink at
    # x, not curvature (h·vᵀHv is ~1e-5 of the slope there); the guard stays open
    KINK_JUMP = 1e-3

    def __init__(self, guard: bool = False, unsafe: tuple[str, ...] = ()) -> None:
        # ``unsafe``: functions the loss calls that drop the complex step (real, imag, conj):
        # finite differences from the start, and the note says why
        self.unsafe_note: str | None = None
        if unsafe:
            calls = ", ".join(f"{f}()" for f in unsafe)
            which = "which drop" if len(unsafe) > 1 else "which drops"
            self.unsafe_note = (
                f"not complex-step safe (the loss calls {calls}, {which} the complex step); finite differences used"
            )
        self.guard = guard
        self.forward = True  # dual numbers while the expression has a tangent rule for every function

    def directional(self, f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray) -> Estimate:
        if self.unsafe_note is None:
            try:
                est = complex_step.directional(f, x, v)
            except NotComplexSafe as exc:
                self.unsafe_note = _fallback_note(exc)
            else:
                if not self.guard:
                    return est
                self.guard = False
                why = self._disagreement(f, x, v, est)
                if why is None:
                    return est
                self.unsafe_note = f"not complex-step safe ({why}); finite differences used"
        est = finite_diff.directional(f, x, v)
        return Estimate(est.value, est.error, est.method, est.evaluations, self.unsafe_note, est.at)

    def directions(self, f, x: np.ndarray, directions, exact: bool = True) -> list[Estimate]:
        """:meth:`directional` along each direction: dual numbers when f has that form (an
        expression) and ``exact`` allows it; else the batched complex step when f has a batched
        form; else one direction at a time."""
        if exact and self.unsafe_note is None and self.forward and getattr(f, "forward", None) is not None:
            try:
                return dual.directions(f, x, directions)
            except dual.NotForwardable:
                self.forward = False  # a function without a tangent rule: the complex step, for good
        if self.unsafe_note is None and not self.guard and getattr(f, "many", None) is not None:
            try:
                return complex_step.directional_many(f, x, directions)
            except NotComplexSafe as exc:
                self.unsafe_note = _fallback_note(exc)
        return [self.directional(f, x, v) for v in directions]

    def _disagreement(self, f, x, v, cs: Estimate) -> str | None:
        def real_f(y):
            return np.real(np.asarray(f(y)))

        a = np.asarray(cs.value)
        # a two-point central difference settles the usual case in two evaluations; only a
        # disagreement pays for SciPy's adaptive estimate (a few dozen) before it is believed
        kink = False  # the slopes jump at x: finite differences average its sides as the complex step may
        try:
            h = finite_diff.central_step(x, v)
            plus, minus = finite_diff.sides(real_f, x, v, h)
            c = (plus - minus) / (2 * h)
            rounding = 16 * EPS64 * np.max(np.abs(cs.at)) / h  # of c: the values' rounding over 2h
            jump = np.abs(plus + minus - 2 * np.real(cs.at)) / h  # the forward slope minus the backward one
            kink = bool(np.any(jump > self.KINK_JUMP * np.maximum(np.abs(a), np.abs(c)) + 4 * rounding))
            if np.all(np.abs(c - a) <= self.AGREE_RTOL * np.maximum(np.abs(a), np.abs(c)) + rounding):
                self.guard = kink  # agreement next to a kink confirms nothing: the next point asks again
                return None
        except Exception as exc:  # noqa: BLE001  the user's function at new points (the two-point difference); gradcheck's own failures re-raised
            if ours(exc):
                raise
        try:
            fd = finite_diff.directional(real_f, x, v)
        except Exception as exc:  # noqa: BLE001  the real code fails near x: nothing to compare, the check decides; gradcheck's own failures re-raised
            if ours(exc):
                raise
            return None
        b, e = np.asarray(fd.value), np.asarray(fd.error)
        allowed = SAFETY * (np.abs(e) + 4 * EPS64 * np.abs(a)) + self.AGREE_RTOL * np.maximum(np.abs(a), np.abs(b))
        if finite_diff.informative(fd) and np.any(np.abs(a - b) > allowed):
            worst = int(np.argmax(np.abs(a - b) - allowed))
            return (
                f"its complex-step derivative {np.ravel(a)[worst]:.10g} disagrees with finite differences "
                f"{np.ravel(b)[worst]:.10g} ± {np.ravel(e)[worst]:.2g}: a complex result that is not the "
                f"analytic continuation, e.g. abs() of a complex value"
            )
        if kink or not finite_diff.informative(fd):
            self.guard = True  # undecided here (a kink near x?): the next point asks again
        return None

    def gradient(self, f, x) -> Estimate:
        if self.unsafe_note is None:
            try:
                return complex_step.gradient(f, x)
            except NotComplexSafe as exc:
                self.unsafe_note = _fallback_note(exc)
        return finite_diff.gradient(f, x)


def _fallback_note(exc: NotComplexSafe) -> str:
    """Why finite differences answer: a function the table marks not complex-safe (the refusal
    names it: "eigvalsh has no complex-step continuation"), or code that failed the complex step."""
    if isinstance(exc, FiniteDifferencesOnly):
        return f"{exc}; finite differences used"
    return f"not complex-step safe ({exc}); finite differences used"


def step_curve(f, x, v, cs_value, cs_error, claimed=None, truth=None, steps=None) -> Evidence:
    """Central-difference error against the complex step, over steps 1e-1 .. 1e-12 (for the report's picture)."""
    steps = steps if steps is not None else tuple(float(h) for h in np.logspace(-1, -12, 12))
    errors = []
    for h in steps:
        try:
            errors.append(abs(float(finite_diff.central(f, x, v, h)) - float(cs_value)))
        except Exception as exc:  # noqa: BLE001  the user's function at a step of the picture's curve; gradcheck's own failures re-raised
            if ours(exc):
                raise
            errors.append(float("nan"))
    return Evidence(
        claimed=claimed,
        truth=truth,
        steps=tuple(steps),
        fd_errors=tuple(errors),
        cs_value=float(cs_value),
        cs_error=float(cs_error),
    )


def cross_check(f, x, v, cs_value: float, claimed: float) -> Estimate:
    """The second oracle along v: a two-point central difference when it plainly sides with the
    complex step (two evaluations), SciPy's adaptive estimate otherwise (a few dozen)."""
    try:
        c = float(finite_diff.central(f, x, v))
        gap = abs(claimed - cs_value)
        if np.isfinite(c) and abs(c - cs_value) <= 0.01 * gap and abs(c - claimed) > 0.5 * gap:
            # it sides with the complex step; its error bar is how far it is from it (at least a
            # rounding-sized floor), not the gap, which can exceed the value (sign flip, factor 2)
            error = max(abs(c - cs_value), 1e-12 * abs(c))
            return Estimate(np.asarray(c), np.asarray(error), Oracle.FINITE_DIFFERENCE, 2)
    except Exception as exc:  # noqa: BLE001  the user's function at new points (the two-point difference); gradcheck's own failures re-raised
        if ours(exc):
            raise
    return finite_diff.directional(f, x, v)
