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

For a complex parameter (``dtype: complex128``) of a real loss, autograd's gradient is
∂L/∂Re z + i ∂L/∂Im z (= 2 ∂L/∂conj(z)): gradcheck's own convention, so nothing is converted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..problem.callables import call_user
from . import _common

__all__ = ["gradient", "jvp", "numpy_function", "vjp"]


def _torch():
    import torch

    return torch


def _to_torch(value: Any, requires_grad: bool = False) -> Any:
    if isinstance(value, np.ndarray):
        # torch.from_numpy shares memory and ignores a read-only flag (it only warns): a read-only
        # view (gradcheck hands user code those) is copied, so in-place torch ops cannot reach it
        value = np.ascontiguousarray(value) if value.flags.writeable else np.array(value)
        t = _torch().from_numpy(value)
        return t.requires_grad_(True) if requires_grad else t
    return value


def _to_numpy(value: Any) -> Any:
    return _common.numpy_tree(value, _tensor_to_numpy)


def _tensor_to_numpy(value: Any) -> Any:
    if isinstance(value, _torch().Tensor):
        return value.detach().cpu().resolve_conj().numpy()
    return value


def _backward(torch, f, kwargs, names, g=None):
    """Autograd through ``f``'s backward rules: d f / d names, or Jᵀ g when ``g`` is given."""
    g = _to_torch(g)
    tensors = {k: _to_torch(v, requires_grad=k in names) for k, v in kwargs.items()}
    with torch.enable_grad():
        out = call_user(f, tensors, copy=False)
        grads = torch.autograd.grad(out, [tensors[n] for n in names], grad_outputs=g, allow_unused=True)
    return [_to_numpy(d) if d is not None else np.zeros_like(kwargs[n]) for n, d in zip(names, grads)]


def _push(torch, f, kwargs, names, tangents):
    from torch.func import jvp as torch_jvp

    partial, primals = _common.split(f, kwargs, names, _to_torch)
    _, out = torch_jvp(
        partial, primals, tuple(_to_torch(np.asarray(tangents[n], dtype=kwargs[n].dtype)) for n in names)
    )
    return _to_numpy(out)


_TORCH = _common.Framework(__name__, _torch, _to_torch, _to_numpy, _backward, _backward, _push)


def numpy_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(**tensors) -> tensors`` as ``f(**arrays) -> arrays`` (called by keyword, as gradcheck calls)."""
    return _common.numpy_function(_TORCH, fn)


def gradient(loss: Callable[..., Any], wrt: str | Iterable[str]) -> Callable[..., Any]:
    """What autograd computes for d loss / d wrt (through any custom backward), as a numpy callable.

    Returns the array for one wrt, a dict keyed by name for several. An input the loss does
    not use gets a zero gradient.
    """
    return _common.gradient(_TORCH, loss, wrt)


def vjp(f: Callable[..., Any], wrt: str | Iterable[str], cotangent: str = "G") -> Callable[..., Any]:
    """What autograd computes for Jᵀ G (G passed by the name ``cotangent``), for :func:`gradcheck.check_vjp`."""
    return _common.vjp(_TORCH, f, wrt, cotangent)


def jvp(f: Callable[..., Any], wrt: str | Iterable[str], tangent: str = "V") -> Callable[..., Any]:
    """What ``torch.func.jvp`` computes for J V (V by the name ``tangent``: an array for one wrt,
    a dict keyed by wrt name for several), for :func:`gradcheck.check_jvp`."""
    return _common.jvp(_TORCH, f, wrt, tangent)
