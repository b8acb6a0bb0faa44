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

from .batch import batches
from .estimate import Estimate, NotComplexSafe

STEP = 1e-30
_EPS = np.finfo(np.float64).eps


def _call_complex(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            out = f(z)
        except NotComplexSafe:
            raise
        except np.exceptions.ComplexWarning as exc:
            raise NotComplexSafe(f"ComplexWarning: {exc}") from None
        except Exception as exc:  # user code that rejects complex input
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
    value = out.imag / STEP
    return Estimate(value=value, error=4 * _EPS * np.abs(value), method="complex-step", evaluations=1, at=out.real)


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
        values = _call_complex(many, z)
        for row in values:
            value = row.imag / STEP
            out.append(
                Estimate(value=value, error=4 * _EPS * np.abs(value), method="complex-step", evaluations=1, at=row.real)
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
        g = np.empty(x.size)
        flat_x = x.reshape(-1)
        for start, stop in batches(x.size, f.chunk):
            z = np.empty((stop - start, x.size), dtype=np.complex128)
            z.real = flat_x
            z.imag = 0.0
            z.imag[np.arange(stop - start), np.arange(start, stop)] = STEP
            values = np.asarray(_call_complex(many, z.reshape((stop - start,) + x.shape)))
            g[start:stop] = values.reshape(stop - start).imag / STEP
        g = g.reshape(x.shape)
        return Estimate(value=g, error=4 * _EPS * np.abs(g), method="complex-step", evaluations=x.size)
    g = np.empty(x.shape)
    flat = g.reshape(-1)
    e = np.zeros(x.size)
    for i in range(x.size):
        e[i] = 1.0
        flat[i] = directional(f, x, e.reshape(x.shape)).value
        e[i] = 0.0
    return Estimate(value=g, error=4 * _EPS * np.abs(g), method="complex-step", evaluations=x.size)
