"""The kernels for complex *data*: a spec with complex inputs (``dtype: complex128``).

:mod:`gradcheck.expr.kernels` continues real functions analytically for the complex step,
so there ``abs(x)`` is ``±x`` chosen by the real part. On complex data that is wrong: a
spec's complex input is a value, not a step, and ``abs(z)`` must be the modulus, as in numpy
(the oracle for such specs is finite differences on the real and imaginary parts, never the
complex step, so nothing here needs to be analytic). Only the functions whose meaning
differs are replaced:

* abs, abs2, norm, var and std use the modulus (numpy's meaning on complex arrays);
* functions that order their arguments (relu, maximum, max, sign, clip, ...) refuse a
  complex value with a nonzero imaginary part: complex numbers have no order;
* erf and gelu, continued to first order for the complex step, refuse complex values;
* everything else, ``.T`` included (it never conjugates: ``conj(A).T`` is the adjoint), is
  the real-data kernel, whose values on complex data are numpy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .kernels import KERNELS

__all__ = ["COMPLEX_DATA_KERNELS"]

ORDERED = ("relu", "maximum", "minimum", "max", "min", "amax", "amin", "argmax", "argmin", "clip", "sign", "where")
FIRST_ORDER = ("erf", "gelu")


def _complex(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_complex(v) for v in value)
    return np.iscomplexobj(value) and bool(np.any(np.imag(value) != 0))


def _ordered(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args, **kwargs):
        if _complex(args):
            raise ValueError(
                f"{name}() needs real arguments: complex numbers have no order; apply it to abs() of the complex value"
            )
        return kernel(*(np.real(a) if np.iscomplexobj(a) else a for a in args), **kwargs)

    return call


def _first_order(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args, **kwargs):
        if _complex(args):
            raise ValueError(f"{name}() has no kernel for complex data")
        return kernel(*(np.real(a) if np.iscomplexobj(a) else a for a in args), **kwargs)

    return call


def abs2(z):
    z = np.asarray(z)
    return np.real(z * np.conj(z)) if np.iscomplexobj(z) else z * z


def norm(z, axis=None, keepdims=False):
    return np.sqrt(np.sum(abs2(z), axis=axis, keepdims=keepdims))


def var(z, axis=None, keepdims=False, ddof=0):
    return np.var(z, axis=axis, keepdims=keepdims, ddof=ddof)


def std(z, axis=None, keepdims=False, ddof=0):
    return np.std(z, axis=axis, keepdims=keepdims, ddof=ddof)


COMPLEX_DATA_KERNELS: dict[str, Callable[..., Any]] = {
    **KERNELS,
    "abs": np.abs,
    "abs2": abs2,
    "norm": norm,
    "var": var,
    "std": std,
    **{name: _ordered(name, KERNELS[name]) for name in ORDERED},
    **{name: _first_order(name, KERNELS[name]) for name in FIRST_ORDER},
}
