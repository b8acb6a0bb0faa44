"""jax functions as numpy callables; jax is imported on first call, never by the core.

A ``jax.custom_vjp`` rule is checked by giving gradcheck the function as the loss and what
``jax.grad`` computes through the rule as the claim::

    assert_gradient(numpy_function(loss), gradient(loss, wrt="x"), inputs={"x": "n"}, wrt="x")

Notes
-----
jax computes in float32 unless 64-bit mode is on (``jax.config.update("jax_enable_x64",
True)``). In float32, results come back as float32 arrays and gradcheck applies its float32
tolerance; turn 64-bit mode on to check a rule to float64 precision. Complex inputs (the
oracle's complex step) stay complex: jax differentiates holomorphically where its
operations allow it, and an operation that refuses complex input makes gradcheck fall back
to finite differences.

For a complex parameter (``dtype: complex128``) of a real loss, ``jax.grad`` returns
∂L/∂Re z - i ∂L/∂Im z, the conjugate of the gradient gradcheck checks (torch's convention,
∂L/∂Re z + i ∂L/∂Im z): :func:`gradient` conjugates it, so a jax rule is checked as jax users
write it, and a hand-written claim in jax's convention is diagnosed ``conjugated``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import _common

__all__ = ["gradient", "jvp", "numpy_function", "vjp"]


def _load():
    import jax

    return jax


def _to_jax(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        import jax.numpy as jnp

        return jnp.asarray(value)
    return value


def _to_numpy(value: Any) -> Any:
    return _common.numpy_tree(value, _array_to_numpy)


def _array_to_numpy(value: Any) -> Any:
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        return np.asarray(value)
    return value


def _grads(jax, loss, kwargs, names):
    """``jax.grad`` in gradcheck's convention: for a complex parameter of a real loss jax returns
    ∂L/∂Re z - i ∂L/∂Im z, the conjugate of torch's (and gradcheck's) gradient, so it is conjugated."""
    partial, primals = _common.split(loss, kwargs, names, _to_jax)
    grads = jax.grad(partial, argnums=tuple(range(len(names))))(*primals)
    return [np.conj(np.asarray(g)) if np.iscomplexobj(kwargs[name]) else np.asarray(g) for name, g in zip(names, grads)]


def _pullback(jax, f, kwargs, names, g):
    partial, primals = _common.split(f, kwargs, names, _to_jax)
    out, back = jax.vjp(partial, *primals)
    return [np.asarray(d) for d in back(_to_jax(np.asarray(g, dtype=np.asarray(out).dtype)))]


def _push(jax, f, kwargs, names, tangents):
    partial, primals = _common.split(f, kwargs, names, _to_jax)
    _, out = jax.jvp(
        partial, primals, tuple(_to_jax(np.asarray(tangents[n], dtype=p.dtype)) for n, p in zip(names, primals))
    )
    return np.asarray(out)


_JAX = _common.Framework(__name__, _load, _to_jax, _to_numpy, _grads, _pullback, _push)


def numpy_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(**jax_arrays) -> jax arrays`` as ``f(**arrays) -> arrays``."""
    return _common.numpy_function(_JAX, fn)


def gradient(loss: Callable[..., Any], wrt: str | Iterable[str]) -> Callable[..., Any]:
    """What ``jax.grad`` computes for d loss / d wrt (through any ``custom_vjp``), as a numpy callable."""
    return _common.gradient(_JAX, loss, wrt)


def vjp(f: Callable[..., Any], wrt: str | Iterable[str], cotangent: str = "G") -> Callable[..., Any]:
    """What ``jax.vjp`` computes for Jᵀ G (G by the name ``cotangent``), for :func:`gradcheck.check_vjp`."""
    return _common.vjp(_JAX, f, wrt, cotangent)


def jvp(f: Callable[..., Any], wrt: str | Iterable[str], tangent: str = "V") -> Callable[..., Any]:
    """What ``jax.jvp`` computes for J V (V by the name ``tangent``: an array for one wrt, a dict
    keyed by wrt name for several), for :func:`gradcheck.check_jvp`."""
    return _common.jvp(_JAX, f, wrt, tangent)
