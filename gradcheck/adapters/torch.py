"""torch functions as numpy callables; torch is imported on first call, never by the core.

A custom ``torch.autograd.Function`` is checked by giving gradcheck its forward as the loss
and what autograd computes through its ``backward`` as the claim::

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    def loss(x):
        return Square.apply(x).sum()

    assert_gradient(numpy_function(loss), gradient(loss, wrt="x"), inputs={"x": "n"}, wrt="x")

Arrays become tensors with their dtype (float64, float32, int64, and complex128 while the
oracle takes a complex step: torch computes most operations on complex tensors, and an
operation that refuses them makes gradcheck fall back to finite differences). Results come
back as numpy arrays; dicts and tuples keep their structure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..problem.callables import call_user

__all__ = ["gradient", "jvp", "numpy_function", "vjp"]


def _torch():
    import torch

    return torch


def _to_torch(value: Any, requires_grad: bool = False) -> Any:
    if isinstance(value, np.ndarray):
        t = _torch().from_numpy(np.ascontiguousarray(value))
        return t.requires_grad_(True) if requires_grad else t
    return value


def _to_numpy(value: Any) -> Any:
    torch = _torch()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().resolve_conj().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to_numpy(v) for v in value)
    return value


def _names(wrt: str | Iterable[str]) -> tuple[str, ...]:
    return (wrt,) if isinstance(wrt, str) else tuple(wrt)


def numpy_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(**tensors) -> tensors`` as ``f(**arrays) -> arrays`` (called by keyword, as gradcheck calls)."""

    def call(**kwargs):
        return _to_numpy(call_user(fn, {k: _to_torch(v) for k, v in kwargs.items()}, copy=False))

    _name(call, fn)
    return call


def gradient(loss: Callable[..., Any], wrt: str | Iterable[str]) -> Callable[..., Any]:
    """What autograd computes for d loss / d wrt (through any custom backward), as a numpy callable.

    Returns the array for one wrt, a dict keyed by name for several. An input the loss does
    not use gets a zero gradient.
    """
    names = _names(wrt)

    def grad(**kwargs):
        torch = _torch()
        tensors = {k: _to_torch(v, requires_grad=k in names) for k, v in kwargs.items()}
        with torch.enable_grad():
            out = call_user(loss, tensors, copy=False)
            grads = torch.autograd.grad(out, [tensors[n] for n in names], allow_unused=True)
        result = {n: _to_numpy(g) if g is not None else np.zeros_like(kwargs[n]) for n, g in zip(names, grads)}
        return result[names[0]] if len(names) == 1 else result

    _name(grad, loss, "grad")
    return grad


def vjp(f: Callable[..., Any], wrt: str | Iterable[str], cotangent: str = "G") -> Callable[..., Any]:
    """What autograd computes for Jᵀ G (G passed by the name ``cotangent``), for :func:`gradcheck.check_vjp`."""
    names = _names(wrt)

    def pullback(**kwargs):
        torch = _torch()
        g = _to_torch(kwargs.pop(cotangent))
        tensors = {k: _to_torch(v, requires_grad=k in names) for k, v in kwargs.items()}
        with torch.enable_grad():
            out = call_user(f, tensors, copy=False)
            grads = torch.autograd.grad(out, [tensors[n] for n in names], grad_outputs=g, allow_unused=True)
        result = {n: _to_numpy(d) if d is not None else np.zeros_like(kwargs[n]) for n, d in zip(names, grads)}
        return result[names[0]] if len(names) == 1 else result

    _name(pullback, f, "vjp")
    return pullback


def jvp(f: Callable[..., Any], wrt: str | Iterable[str], tangent: str = "V") -> Callable[..., Any]:
    """What ``torch.func.jvp`` computes for J V (V by the name ``tangent``: an array for one wrt,
    a dict keyed by wrt name for several), for :func:`gradcheck.check_jvp`."""
    names = _names(wrt)

    def push(**kwargs):
        from torch.func import jvp as torch_jvp

        v = kwargs.pop(tangent)
        tangents = {names[0]: v} if len(names) == 1 else v
        rest = {k: _to_torch(x) for k, x in kwargs.items() if k not in names}

        def partial(*primals):
            return call_user(f, {**rest, **dict(zip(names, primals))}, copy=False)

        _, out = torch_jvp(partial, tuple(_to_torch(kwargs[n]) for n in names),
                           tuple(_to_torch(np.asarray(tangents[n], dtype=kwargs[n].dtype)) for n in names))
        return _to_numpy(out)

    _name(push, f, "jvp")
    return push


def _name(wrapper: Callable[..., Any], fn: Callable[..., Any], suffix: str = "") -> None:
    name = getattr(fn, "__name__", "function")
    wrapper.__name__ = f"{name}_{suffix}" if suffix and name.isidentifier() else (suffix or name)
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__module__ = getattr(fn, "__module__", None) or __name__
