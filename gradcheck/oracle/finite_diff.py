"""Finite differences with error estimates, from SciPy.

The second oracle: it needs no complex arithmetic, so it also serves Python callables that
are not complex-step safe, and it cross-checks the complex step when a claim fails.
``scipy.differentiate.derivative`` refines a central stencil by Richardson extrapolation
over shrinking steps and returns an error estimate with the value.

Notes
-----
Accurate to roughly eps^(order/(order+1)) of the function's scale at best; unreliable at
kinks (relu, abs, maximum) and where a step leaves the function's domain. The estimate's
error bar accounts for truncation and for the function's own noise: rounding inside it that
its value does not show (``abs(x + 1e8) - 1e8`` is rounded at ulp(1e8) = 1.5e-8 whatever its
size) is measured from what a cubic fit leaves of a few values at nearby points
(:func:`noise`; after Moré and Wild 2011), and divided by the last step.

References
----------
Moré, J. J. and Wild, S. M. (2011). Estimating computational noise. SIAM J. Sci. Comput.
33(3), 1292-1314.

This is the only module that imports SciPy, and only when an adaptive estimate is made (the
import costs more than checking a small spec; expression claims rarely need it).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..internal import ours
from .estimate import Estimate, Oracle


def _initial_step(x: np.ndarray, v: np.ndarray) -> float:
    scale = float(np.sqrt(np.mean(np.square(x)))) if x.size else 1.0
    vscale = float(np.max(np.abs(v))) if v.size else 1.0
    return 0.05 * max(scale, 0.1) / max(vscale, 1e-300)


NOISE_POINTS = 12  # values at x + t·v for t scattered in [-δ, δ], for each of two δ
NOISE_DEGREE = 3  # the smooth part of f over so short a segment: a cubic (the rest is O(δ⁴))
NOISE_SPACINGS = (1e-4, 1e-5)  # δ relative to the first step
NOISE_CONSISTENT = 0.3  # rounding noise does not shrink with δ; a kink's residual shrinks 10x
NOISE_AMPLIFICATION = 8.0  # SciPy's order-6 estimate moves by <= 6.3 σ / h_last on pure noise (300 runs)
_NOISE_T = np.random.default_rng(20110801).uniform(-1.0, 1.0, NOISE_POINTS)


def _at(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Re f(x + t v) for every t, one row each: one vectorised call when f has a batched form."""
    many = getattr(f, "many", None)
    if many is not None:
        z = x[None] + ts.reshape((-1,) + (1,) * x.ndim) * v[None]
        return np.asarray(np.real(many(z)), dtype=np.float64).reshape(len(ts), -1)
    return np.stack([np.asarray(np.real(f(x + t * v)), dtype=np.float64).reshape(-1) for t in ts])


def _residual(values: np.ndarray) -> np.ndarray:
    """The standard deviation of what a least-squares cubic in _NOISE_T leaves, per column."""
    basis = np.vander(_NOISE_T, NOISE_DEGREE + 1)
    residual = values - basis @ np.linalg.lstsq(basis, values, rcond=None)[0]
    return np.sqrt(np.sum(np.square(residual), axis=0) / (NOISE_POINTS - NOISE_DEGREE - 1))


def noise(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, step: float) -> np.ndarray:
    """The standard deviation of f's rounding noise along v near x, per output entry.

    Over a segment this short f is a cubic up to O(δ⁴); what a least-squares cubic through the
    values leaves is the noise (in the spirit of Moré and Wild 2011). The abscissae are
    scattered, not equally spaced: rounding against a large intermediate is a sawtooth in t,
    and equal spacings close to a multiple of its period see a straight line. A kink inside
    the segment also leaves a residual, but one that shrinks with δ: the segment 10x shorter
    tells them apart, and a residual that shrank is not noise (the shorter one is kept).
    """
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    ts = np.concatenate([r * step * _NOISE_T for r in NOISE_SPACINGS])
    values = _at(f, x, v, ts)
    wide, short = _residual(values[:NOISE_POINTS]), _residual(values[NOISE_POINTS:])
    return np.where(short >= NOISE_CONSISTENT * wide, np.maximum(wide, short), short)


def directional(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, step_scale: float = 1.0
) -> Estimate:
    """J v by finite differences along v: d/dt f(x + t v) at t = 0, with an error estimate.

    f may return a scalar or an array; each output entry is differentiated.
    """
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    # Probe the output shape once, then differentiate every output entry elementwise.
    out = np.asarray(f(x.copy()))
    # the function's own precision: float32 code rounds its value at float32's eps
    eps = float(np.finfo(out.dtype).eps) if out.dtype.kind in "fc" else float(np.finfo(np.float64).eps)
    f0 = np.asarray(np.real(out), dtype=np.float64)
    line = _Line(f, x, v, f0.size, calls=1)
    h0 = _initial_step(x, v) * step_scale
    sigma = _noise_or_zero(line, h0)

    def stop_in_noise(res) -> None:
        """Stop halving once the iterates differ by no more than the noise at this step: the
        truncation error already falls below it, and each halving doubles the noise."""
        nit = np.asarray(res.nit, dtype=np.float64)
        if not np.any(sigma > 0) or np.any(nit < 1):
            return
        if np.all(np.asarray(res.error) <= 2 * NOISE_AMPLIFICATION * sigma * 2.0**nit / h0):
            raise StopIteration

    from scipy.differentiate import derivative

    res = derivative(
        line.g_vec,
        np.zeros(line.m),
        initial_step=h0,
        step_factor=2.0,
        order=6,
        maxiter=12,
        tolerances={"rtol": 1e-11, "atol": 0.0},
        callback=stop_in_noise,
    )
    value = np.asarray(res.df, dtype=np.float64).reshape(f0.shape)
    error = _error_bar(res, f0, eps, sigma, h0)
    return Estimate(value=value, error=error, method=Oracle.FINITE_DIFFERENCE, evaluations=line.calls, at=f0)


def _noise_or_zero(line: "_Line", h0: float) -> np.ndarray:
    """f's rounding noise along v (:func:`noise`), 0 where it cannot be measured.

    Rounding inside f that |f| does not show (cancellation against a large intermediate): where
    it dominates, halving the step stops paying (SciPy's own test, a 10x growth of its error
    estimate, misses a sawtooth of rounding that grows more slowly).
    """
    try:
        sigma = noise(line.f, line.x, line.v, h0)
        line.calls += NOISE_POINTS * len(NOISE_SPACINGS)
    except Exception as exc:  # noqa: BLE001  a point of the noise segment outside the user's domain: the value floor stands; gradcheck's own failures re-raised
        if ours(exc):
            raise
        sigma = np.zeros(line.m)
    return np.where(np.isfinite(sigma), sigma, 0.0)


def _error_bar(res, f0: np.ndarray, eps: float, sigma: np.ndarray, h0: float) -> np.ndarray:
    """scipy's estimate is the difference of the last two iterates, which can undershoot; take
    twice it, and never less than the cancellation error eps * |f| / h of the last step (eps of
    the function's output: float32 code is noisy at 1e-7, not 1e-16), nor than the noise's."""
    error = np.asarray(res.error, dtype=np.float64).reshape(f0.shape)
    h_last = h0 / 2.0 ** np.maximum(np.asarray(res.nit, dtype=np.float64).reshape(f0.shape), 0)
    floor = 16 * max(eps, float(np.finfo(np.float64).eps)) * np.maximum(np.abs(f0), 1e-300) / h_last
    floor = np.maximum(floor, NOISE_AMPLIFICATION * sigma.reshape(f0.shape) / h_last)
    return np.where(np.isfinite(error), np.maximum(2 * error, floor), np.inf)


class _Line:
    """f along x + t v, as SciPy's ``derivative`` asks for it; counts the evaluations."""

    def __init__(self, f, x: np.ndarray, v: np.ndarray, m: int, calls: int = 0) -> None:
        self.f, self.x, self.v, self.m, self.calls = f, x, v, m, calls
        self.many = getattr(f, "many", None)

    def at_points(self, ts: np.ndarray) -> np.ndarray:
        """f at x + t v for every t, one row each, in batched calls of ``chunk`` points."""
        x, v, chunk = self.x, self.v, max(self.f.chunk, 1)
        self.calls += len(ts)
        rows = []
        for start in range(0, len(ts), chunk):
            block = ts[start : start + chunk]
            z = x[None] + block.reshape((-1,) + (1,) * x.ndim) * v[None]
            rows.append(np.asarray(np.real(self.many(z)), dtype=np.float64).reshape(len(block), -1))
        return np.concatenate(rows)

    def g_vec(self, t: np.ndarray) -> np.ndarray:
        """t has shape (m, k...) - one abscissa per output entry; entry j reads output j."""
        m = self.m
        t = np.asarray(t, dtype=np.float64)
        res = np.empty(t.shape)
        cols = t.reshape(m, -1)
        rres = res.reshape(m, -1)
        if self.many is not None:  # every distinct abscissa of this iteration in one vectorised call
            ts = np.unique(cols)
            values = self.at_points(ts)
            rres[...] = values[np.searchsorted(ts, cols), np.arange(m)[:, None]]
            return res
        for c in range(cols.shape[1]):
            # all output entries share the abscissa only when their t agree; evaluate per distinct t
            ts = cols[:, c]
            for ti in np.unique(ts):
                self.calls += 1
                val = np.asarray(self.f(self.x + ti * self.v), dtype=np.float64).reshape(-1)
                mask = ts == ti
                rres[mask, c] = val[mask]
        return res


def gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> Estimate:
    """The full gradient of scalar f, one finite-difference derivative per entry (O(n) x stencil)."""
    x = np.asarray(x, dtype=np.float64)
    value = np.empty(x.shape)
    error = np.empty(x.shape)
    calls = 0
    e = np.zeros(x.size)
    for i in range(x.size):
        e[i] = 1.0
        est = directional(f, x, e.reshape(x.shape))
        value.reshape(-1)[i] = float(est.value)
        error.reshape(-1)[i] = float(est.error)
        calls += est.evaluations
        e[i] = 0.0
    return Estimate(value=value, error=error, method=Oracle.FINITE_DIFFERENCE, evaluations=calls)


def one_sided(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, step_scale: float = 0.01
) -> tuple[float, float, float]:
    """Forward and backward slopes of scalar f along v, with the smaller step of :func:`directional`,
    and the rounding error of either (float64's, of the three values, over the step).

    On smooth code they differ by about h·|v^T H v|; across a kink by the jump in slope, and
    then one of them is the derivative on the drawn point's side while central differences
    and their error bars (which assume smoothness) average the two sides.
    """
    h = _initial_step(np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)) * step_scale
    f0 = float(np.real(np.asarray(f(x.copy()))))
    plus = float(np.real(np.asarray(f(x + h * v))))
    minus = float(np.real(np.asarray(f(x - h * v))))
    rounding = 4 * np.finfo(np.float64).eps * max(abs(f0), abs(plus), abs(minus)) / h
    return (plus - f0) / h, (f0 - minus) / h, float(rounding)


def central_step(x: np.ndarray, v: np.ndarray) -> float:
    """The default step of :func:`central`: 1e-5 of the point's scale over the direction's largest entry."""
    return 1e-5 * max(float(np.sqrt(np.mean(np.square(x)))), 1e-3) / max(float(np.max(np.abs(v))), 1e-300)


def central(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, h: float | None = None) -> np.ndarray:
    """One two-point central difference (f(x + hv) - f(x - hv)) / 2h of the real part of f.

    The step defaults to 1e-5 of the point's scale over the direction's largest entry: cheap
    (two evaluations) and good to ~1e-9 on smooth code, which is all a plausibility check needs.
    """
    if h is None:
        h = central_step(x, v)
    plus, minus = sides(f, x, v, h)
    return (plus - minus) / (2 * h)


def sides(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """The real part of f at x + hv and at x - hv (one vectorised call when f has a batched form)."""
    many = getattr(f, "many", None)
    if many is not None:  # both points in one vectorised call
        plus, minus = np.real(np.asarray(many(np.stack([x + h * v, x - h * v]))))
        return plus, minus
    return np.real(np.asarray(f(x + h * v))), np.real(np.asarray(f(x - h * v)))


def informative(est: Estimate) -> bool:
    """Whether a finite-difference estimate may overrule anything: finite, with an error bar
    well below its value. Near-singular inputs or steps that leave the domain give garbage
    whose error bar is near or above the value."""
    value, error = np.asarray(est.value), np.asarray(est.error)
    return bool(np.all(np.isfinite(value)) and np.all(np.isfinite(error)) and np.all(error < 0.01 * np.abs(value)))
