"""The kernels for complex *data*: a spec with complex inputs (``dtype: complex128``).

:mod:`gradcheck.expr.kernels` continues real functions analytically for the complex step,
so there ``abs(x)`` is ``±x`` chosen by the real part. On complex data that is wrong: a
spec's complex input is a value, not a step, and ``abs(z)`` must be the modulus, as in numpy
(the oracle for such specs is finite differences on the real and imaginary parts, never the
complex step, so nothing here needs to be analytic). Only the functions whose meaning
differs are replaced:

* abs, abs2, norm, var and std use the modulus (numpy's meaning on complex arrays);
* functions that order their arguments (relu, maximum, max, sign, clip, ...) and comparisons
  (where's condition, :func:`compared`) refuse a complex value with a nonzero imaginary part:
  complex numbers have no order (where's branches are values: complex ones are selected as they are);
* erf and gelu, continued to first order for the complex step, refuse complex values;
* pinv, cholesky, eigvalsh and eigvecsh are numpy's (the real-data kernels continue them to
  first order or without conjugation): cholesky, eigvalsh and eigvecsh read the Hermitian part
  (A + A^H)/2, as the real ones read the symmetric part, and eigvecsh's phases are chosen as
  its signs are on real data (each column's entry of largest modulus real and positive);
* everything else, ``.T`` included (it never conjugates: ``conj(A).T`` is the adjoint), is
  the real-data kernel, whose values on complex data are numpy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..internal import refusal
from .kernels import KERNELS

__all__ = ["COMPLEX_DATA_KERNELS", "compared"]

ORDERED = ("relu", "maximum", "minimum", "max", "min", "amax", "amin", "argmax", "argmin", "clip", "sign", "max_pool2d")
FIRST_ORDER = ("erf", "gelu")


def _complex(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_complex(v) for v in value)
    return np.iscomplexobj(value) and bool(np.any(np.imag(value) != 0))


def _refusing(name: str, kernel: Callable[..., Any], why: str) -> Callable[..., Any]:
    """``kernel`` on real values (complex ones with a zero imaginary part included); a complex
    value raises ValueError ``{name}() {why}``, marked as gradcheck refusing the user's graph on
    purpose (:func:`~gradcheck.internal.refusal`): an ``error`` verdict about the spec, not an
    internal error."""

    def call(*args, **kwargs):
        if _complex(args):
            raise refusal(ValueError(f"{name}() {why}"))
        return kernel(*(np.real(a) if np.iscomplexobj(a) else a for a in args), **kwargs)

    return call


_NO_ORDER = "needs real arguments: complex numbers have no order; apply it to abs() of the complex value"
_NO_KERNEL = "has no kernel for complex data"


def compared(op: str, left: Any, right: Any) -> None:
    """A comparison's operands on complex data: either with a nonzero imaginary part is refused
    (the real-data walker compares real parts, as the complex step's real function branches)."""
    if _complex([left, right]):
        raise refusal(
            ValueError(
                f"comparison '{op}' needs real operands: complex numbers have no order; "
                "compare abs() of the complex value"
            )
        )


def abs2(z):
    z = np.asarray(z)
    return np.real(z * np.conj(z)) if np.iscomplexobj(z) else z * z


def norm(z, axis=None, keepdims=False):
    return np.sqrt(np.sum(abs2(z), axis=axis, keepdims=keepdims))


def var(z, axis=None, keepdims=False, ddof=0):
    return np.var(z, axis=axis, keepdims=keepdims, ddof=ddof)


def std(z, axis=None, keepdims=False, ddof=0):
    return np.std(z, axis=axis, keepdims=keepdims, ddof=ddof)


def _hermitian(a):
    a = np.asarray(a)
    return (a + np.conj(np.swapaxes(a, -1, -2))) / 2


def cholesky(a):
    """The lower factor L of the Hermitian part, L L^H = (A + A^H)/2 (numpy's on complex data)."""
    try:
        return np.linalg.cholesky(_hermitian(a))
    except np.linalg.LinAlgError:
        raise refusal(np.linalg.LinAlgError("cholesky(): the matrix is not positive definite")) from None


def eigvalsh(a):
    return np.linalg.eigvalsh(_hermitian(a))


def eigvecsh(a):
    """The eigenvectors of the Hermitian part as columns, each multiplied by a phase that makes
    its entry of largest modulus real and positive."""
    v = np.linalg.eigh(_hermitian(a))[1]
    largest = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], axis=-2)
    return v * (np.conj(largest) / np.abs(largest))


COMPLEX_DATA_KERNELS: dict[str, Callable[..., Any]] = {
    **KERNELS,
    "abs": np.abs,
    "abs2": abs2,
    "norm": norm,
    "var": var,
    "std": std,
    "pinv": np.linalg.pinv,
    "cholesky": cholesky,
    "eigvalsh": eigvalsh,
    "eigvecsh": eigvecsh,
    **{name: _refusing(name, KERNELS[name], _NO_ORDER) for name in ORDERED},
    **{name: _refusing(name, KERNELS[name], _NO_KERNEL) for name in FIRST_ORDER},
}
