"""Complex-step differentiation.

For f analytic near real x, f(x + i h v) = f(x) + i h J v + O(h^2), so
J v = Im f(x + i h v) / h with no subtractive cancellation: h can be 1e-30 and the result is
accurate to a few ulps of the directional derivative.

Notes
-----
Valid only when every operation on the path is analytic and does not conjugate: gradcheck's
own functions are complex-step safe (abs, relu, maximum, where and norm decide on the real
part); user Python code may not be. :func:`directional` detects the usual failures — an
exception, a ``ComplexWarning``, a real result where a complex one was due — and raises
:class:`NotComplexSafe` so the caller can fall back to finite differences.

The step h = 1e-30 puts the imaginary part h·Jv into subnormals when |Jv| < ~1e-278 (a tiny
constant factor; exp(-650) in a Gaussian at n ≈ 1300), where it keeps only a few digits or
none. Where an imaginary part comes out within reach of the subnormals, the evaluation is
repeated with the largest admissible step, 1e-10 of the point's scale (the truncation error
h²·f‴/(6 f') stays below eps unless the function varies on a scale 1e-5 of the point's);
the error bar always includes what subnormal rounding can lose, ``(size + 16)·2⁻¹⁰⁷⁴ / h``.

References
----------
Squire, W. and Trapp, G. (1998). Using complex variables to estimate derivatives of real
functions. SIAM Review 40(1), 110-112.
Martins, J. R. R. A., Sturdza, P. and Alonso, J. J. (2003). The complex-step derivative
approximation. ACM TOMS 29(3), 245-262.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from ..errors import NotComplexSafe
from ..internal import ours
from .batch import batches
from .estimate import Estimate, Oracle

STEP = 1e-30
MAX_STEP_RATIO = 1e-10  # the largest step, relative to the point's scale (see the module notes)
_EPS = np.finfo(np.float64).eps
_TINY = float(np.finfo(np.float64).smallest_subnormal)  # 2**-1074: the spacing of the subnormals


def _subnormal_error(step, size: int):
    """What rounding in the subnormal range can lose from Im f / h: half a spacing per operation,
    with ``size + 16`` operations as the count (a sum of ``size`` subnormal terms, a few more)."""
    return (size + 16) * _TINY / step


def _error(value, step, size: int) -> np.ndarray:
    return 4 * _EPS * np.abs(value) + _subnormal_error(step, size)


def _too_small(im: np.ndarray, size: int) -> np.ndarray:
    """Imaginary parts whose subnormal rounding could exceed an ulp of them (or that underflowed)."""
    return np.abs(im) * _EPS < (size + 16) * _TINY


def _large_step(x: np.ndarray, v: np.ndarray) -> float:
    scale = float(np.sqrt(np.mean(np.square(x)))) if np.size(x) else 1.0
    vmax = float(np.max(np.abs(v))) if np.size(v) else 1.0
    return max(STEP, MAX_STEP_RATIO * (scale if scale > 0 else 1.0) / max(vmax, 1e-300))


def _call_complex(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            out = f(z)
        except NotComplexSafe:
            raise
        except np.exceptions.ComplexWarning as exc:
            raise NotComplexSafe(f"ComplexWarning: {exc}") from None
        except Exception as exc:  # noqa: BLE001  user code that rejects complex input; gradcheck's own failures re-raised
            if ours(exc):
                raise
            raise NotComplexSafe(f"{type(exc).__name__}: {exc}") from None
    out = np.asarray(out)
    if not np.iscomplexobj(out):
        raise NotComplexSafe("the imaginary part was dropped (result is real)")
    return out


def directional(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, v: np.ndarray) -> Estimate:
    """J v for f at x by one complex-step evaluation.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` (complex128) to a scalar or array.
    x, v : ndarray
        The point and the direction (same shape, real).

    Returns
    -------
    Estimate
        ``value`` = Im f(x + i h v) / h; ``error`` = a rounding bound of a few ulps of the
        value (the stochastic estimate in :mod:`gradcheck.oracle.rounding` refines it).

    Raises
    ------
    NotComplexSafe
        If f is not complex-step safe.
    """
    z = np.empty(np.shape(x), dtype=np.complex128)  # built in place: no complex temporaries of size n
    z.real = x
    np.multiply(v, STEP, out=z.imag)
    out = _call_complex(f, z)
    size = max(np.size(x), np.size(out))
    value, step = _rescaled(out.imag, size, x, v, lambda h: _call_complex(f, _point(z, v, h)).imag)
    return Estimate(
        value=value,
        error=_error(value, step, size),
        method=Oracle.COMPLEX_STEP,
        evaluations=1 + bool(np.any(step != STEP)),
        at=out.real,
        step=step,
    )


def _point(z: np.ndarray, v: np.ndarray, h: float) -> np.ndarray:
    np.multiply(v, h, out=z.imag)
    return z


def _rescaled(im: np.ndarray, size: int, x, v, again: Callable[[float], np.ndarray]):
    """(Jv, h per entry): Im f / STEP, except for entries too close to the subnormals, which
    take Im f / h from one more evaluation with the largest step h (only those entries: the
    others keep the step whose truncation error is nil)."""
    small = _too_small(im, size)
    large = _large_step(x, v)
    if not np.any(small) or large <= STEP:
        return im / STEP, STEP
    value = np.where(small, np.asarray(again(large)) / large, im / STEP)
    step = np.where(small, large, STEP)
    return value, (float(step) if np.ndim(step) == 0 else step)


def directional_many(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, directions) -> list[Estimate]:
    """J v for each direction v; one vectorised evaluation per chunk when f has a batched form.

    ``f`` may be a :class:`~gradcheck.oracle.batch.Batchable`: its ``many`` evaluates
    ``chunk`` points per call. A plain callable is looped (one evaluation per direction).
    """
    many = getattr(f, "many", None)
    directions = [np.asarray(v) for v in directions]
    if many is None or len(directions) < 2:
        return [directional(f, x, v) for v in directions]
    out: list[Estimate] = []
    for start, stop in batches(len(directions), f.chunk):
        z = np.empty((stop - start,) + np.shape(x), dtype=np.complex128)
        z.real = x
        for row, v in zip(z, directions[start:stop]):
            np.multiply(v, STEP, out=row.imag)
        values = np.asarray(_call_complex(many, z))
        size = max(np.size(x), values[0].size if len(values) else 1)
        large = [_large_step(x, v) for v in directions[start:stop]]
        small = [j for j, row in enumerate(values) if np.any(_too_small(row.imag, size)) and large[j] > STEP]
        again = {}
        if small:  # only those directions again, each with its largest step, in one call
            for j in small:
                _point(z[j], directions[start + j], large[j])
            again = dict(zip(small, np.asarray(_call_complex(many, z[small])).imag))
        for j, row in enumerate(values):
            value, step = _rescaled(row.imag, size, x, directions[start + j], lambda h, j=j: again[j])
            out.append(
                Estimate(
                    value=value,
                    error=_error(value, step, size),
                    method=Oracle.COMPLEX_STEP,
                    evaluations=1 + (j in again),
                    at=row.real,
                    step=step,
                )
            )
    return out


def gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> Estimate:
    """The full gradient of a scalar f by one complex-step evaluation per entry (O(n)).

    With a batched form (``f.many``) the unit perturbations are evaluated ``f.chunk`` at a time
    in one vectorised call each; otherwise f is called once per entry.
    """
    x = np.asarray(x, dtype=np.float64)
    many = getattr(f, "many", None)
    if many is not None and x.size > 1:
        large = _large_step(x, np.ones(1))
        steps = np.full(x.size, STEP)
        calls = x.size
        g = np.empty(x.size)
        flat_x = x.reshape(-1)
        for start, stop in batches(x.size, f.chunk):
            z = np.empty((stop - start, x.size), dtype=np.complex128)
            z.real = flat_x
            z.imag = 0.0
            z.imag[np.arange(stop - start), np.arange(start, stop)] = STEP
            values = np.asarray(_call_complex(many, z.reshape((stop - start,) + x.shape))).reshape(stop - start)
            g[start:stop] = values.imag / STEP
            small = np.flatnonzero(_too_small(values.imag, x.size))
            if small.size and large > STEP:  # those entries again with the largest step
                z.imag[small, start + small] = large
                again = np.asarray(_call_complex(many, z[small].reshape((small.size,) + x.shape)))
                g[start + small] = again.reshape(small.size).imag / large
                steps[start + small] = large
                calls += small.size
        g = g.reshape(x.shape)
        return Estimate(
            value=g, error=_error(g, steps.reshape(x.shape), x.size), method=Oracle.COMPLEX_STEP, evaluations=calls
        )
    g = np.empty(x.shape)
    error = np.empty(x.shape)
    flat, flat_error = g.reshape(-1), error.reshape(-1)
    calls = 0
    e = np.zeros(x.size)
    for i in range(x.size):
        e[i] = 1.0
        est = directional(f, x, e.reshape(x.shape))
        flat[i], flat_error[i] = float(est.value), float(est.error)
        calls += est.evaluations
        e[i] = 0.0
    return Estimate(value=g, error=error, method=Oracle.COMPLEX_STEP, evaluations=calls)
