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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..problem.callables import call_user

__all__ = ["gradient", "jvp", "numpy_function", "vjp"]


def _to_jax(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        import jax.numpy as jnp

        return jnp.asarray(value)
    return value


def _to_numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to_numpy(v) for v in value)
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        return np.asarray(value)
    return value


def _names(wrt: str | Iterable[str]) -> tuple[str, ...]:
    return (wrt,) if isinstance(wrt, str) else tuple(wrt)


def _split(fn: Callable[..., Any], kwargs: dict[str, Any], names: tuple[str, ...]):
    """``fn`` as a function of the wrt arrays only, and those arrays (as jax arrays)."""
    rest = {k: _to_jax(v) for k, v in kwargs.items() if k not in names}

    def partial(*primals):
        return call_user(fn, {**rest, **dict(zip(names, primals))}, copy=False)

    return partial, tuple(_to_jax(kwargs[n]) for n in names)


def numpy_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(**jax_arrays) -> jax arrays`` as ``f(**arrays) -> arrays``."""

    def call(**kwargs):
        return _to_numpy(call_user(fn, {k: _to_jax(v) for k, v in kwargs.items()}, copy=False))

    _name(call, fn)
    return call


def gradient(loss: Callable[..., Any], wrt: str | Iterable[str]) -> Callable[..., Any]:
    """What ``jax.grad`` computes for d loss / d wrt (through any ``custom_vjp``), as a numpy callable."""
    names = _names(wrt)

    def grad(**kwargs):
        import jax

        partial, primals = _split(loss, kwargs, names)
        grads = jax.grad(partial, argnums=tuple(range(len(names))))(*primals)
        result = {n: np.asarray(g) for n, g in zip(names, grads)}
        return result[names[0]] if len(names) == 1 else result

    _name(grad, loss, "grad")
    return grad


def vjp(f: Callable[..., Any], wrt: str | Iterable[str], cotangent: str = "G") -> Callable[..., Any]:
    """What ``jax.vjp`` computes for Jᵀ G (G by the name ``cotangent``), for :func:`gradcheck.check_vjp`."""
    names = _names(wrt)

    def pullback(**kwargs):
        import jax

        g = kwargs.pop(cotangent)
        partial, primals = _split(f, kwargs, names)
        out, back = jax.vjp(partial, *primals)
        grads = back(_to_jax(np.asarray(g, dtype=np.asarray(out).dtype)))
        result = {n: np.asarray(d) for n, d in zip(names, grads)}
        return result[names[0]] if len(names) == 1 else result

    _name(pullback, f, "vjp")
    return pullback


def jvp(f: Callable[..., Any], wrt: str | Iterable[str], tangent: str = "V") -> Callable[..., Any]:
    """What ``jax.jvp`` computes for J V (V by the name ``tangent``: an array for one wrt, a dict
    keyed by wrt name for several), for :func:`gradcheck.check_jvp`."""
    names = _names(wrt)

    def push(**kwargs):
        import jax

        v = kwargs.pop(tangent)
        tangents = {names[0]: v} if len(names) == 1 else v
        partial, primals = _split(f, kwargs, names)
        _, out = jax.jvp(partial, primals, tuple(_to_jax(np.asarray(tangents[n], dtype=p.dtype))
                                                  for n, p in zip(names, primals)))
        return np.asarray(out)

    _name(push, f, "jvp")
    return push


def _name(wrapper: Callable[..., Any], fn: Callable[..., Any], suffix: str = "") -> None:
    name = getattr(fn, "__name__", "function")
    wrapper.__name__ = f"{name}_{suffix}" if suffix and name.isidentifier() else (suffix or name)
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__module__ = getattr(fn, "__module__", None) or __name__
