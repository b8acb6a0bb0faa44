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


def gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> Estimate:
    """The full gradient of a scalar f by one complex-step evaluation per entry (O(n))."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty(x.shape)
    flat = g.reshape(-1)
    e = np.zeros(x.size)
    for i in range(x.size):
        e[i] = 1.0
        flat[i] = directional(f, x, e.reshape(x.shape)).value
        e[i] = 0.0
    return Estimate(value=g, error=4 * _EPS * np.abs(g), method="complex-step", evaluations=x.size)
