"""What every adapter shares: a framework's autodiff, run through the user's own rules, as the
numpy callables gradcheck calls by keyword.

An adapter describes only its framework, as a :class:`Framework`: how to import it, how arrays
cross into it and back, and how to ask it for a gradient, a VJP and a JVP. The rest is here:
wrt names, the cotangent or tangent taken out of the keywords, one result per wrt (the array
for one, a dict keyed by name for several), and wrapper names that point at the user's
function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..problem.callables import call_user

Names = tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    """One framework, as an adapter knows it.

    ``load`` imports the framework (on a wrapper's first call, never at import) and returns
    the module the three rules receive first. Each rule gets ``(module, fn, kwargs, names)``:
    ``kwargs`` the numpy arrays as gradcheck passed them (the cotangent or tangent taken out),
    ``names`` the wrt names in order. ``grads`` returns d fn / d name and ``pullback`` Jᵀ g
    (``g`` its last argument), one numpy array per name; ``push`` returns J v as a numpy
    array, ``v`` (its last argument) a dict keyed by wrt name.
    """

    module: str  # the adapter's module: the wrapper's __module__ when fn has none
    load: Callable[[], Any]
    to_framework: Callable[[Any], Any]  # a numpy array as a framework array, anything else as is
    to_numpy: Callable[[Any], Any]  # framework arrays back as numpy, structure kept
    grads: Callable[[Any, Callable[..., Any], dict[str, Any], Names], Sequence[Any]]
    pullback: Callable[[Any, Callable[..., Any], dict[str, Any], Names, Any], Sequence[Any]]
    push: Callable[[Any, Callable[..., Any], dict[str, Any], Names, dict[str, Any]], Any]


def numpy_tree(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with ``leaf`` applied inside its dicts, tuples and lists (their types kept)."""
    if isinstance(value, dict):
        return {k: numpy_tree(v, leaf) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(numpy_tree(v, leaf) for v in value)
    return leaf(value)


def split(fn: Callable[..., Any], kwargs: dict[str, Any], names: Names, convert: Callable[[Any], Any]):
    """``fn`` as a function of the wrt arrays only, and those arrays (converted by ``convert``)."""
    rest = {k: convert(v) for k, v in kwargs.items() if k not in names}

    def partial(*primals):
        return call_user(fn, {**rest, **dict(zip(names, primals))}, copy=False)

    return partial, tuple(convert(kwargs[n]) for n in names)


def numpy_function(fw: Framework, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(**framework_arrays) -> framework arrays`` as ``f(**arrays) -> arrays``."""

    def call(**kwargs):
        return fw.to_numpy(call_user(fn, {k: fw.to_framework(v) for k, v in kwargs.items()}, copy=False))

    _name(call, fn, "", fw.module)
    return call


def gradient(fw: Framework, loss: Callable[..., Any], wrt: str | Iterable[str]) -> Callable[..., Any]:
    """The framework's d loss / d wrt as a numpy callable."""
    names = _names(wrt)

    def grad(**kwargs):
        return _per_name(names, fw.grads(fw.load(), loss, kwargs, names))

    _name(grad, loss, "grad", fw.module)
    return grad


def vjp(fw: Framework, f: Callable[..., Any], wrt: str | Iterable[str], cotangent: str) -> Callable[..., Any]:
    """The framework's Jᵀ G (G passed by the name ``cotangent``) as a numpy callable."""
    names = _names(wrt)

    def pullback(**kwargs):
        module = fw.load()
        g = kwargs.pop(cotangent)
        return _per_name(names, fw.pullback(module, f, kwargs, names, g))

    _name(pullback, f, "vjp", fw.module)
    return pullback


def jvp(fw: Framework, f: Callable[..., Any], wrt: str | Iterable[str], tangent: str) -> Callable[..., Any]:
    """The framework's J V (V passed by the name ``tangent``: an array for one wrt, a dict keyed
    by wrt name for several) as a numpy callable."""
    names = _names(wrt)

    def push(**kwargs):
        module = fw.load()
        v = kwargs.pop(tangent)
        tangents = {names[0]: v} if len(names) == 1 else v
        return fw.push(module, f, kwargs, names, tangents)

    _name(push, f, "jvp", fw.module)
    return push


def _names(wrt: str | Iterable[str]) -> Names:
    return (wrt,) if isinstance(wrt, str) else tuple(wrt)


def _per_name(names: Names, arrays: Iterable[Any]) -> Any:
    """The array for one wrt, a dict keyed by name for several."""
    result = dict(zip(names, arrays))
    return result[names[0]] if len(names) == 1 else result


def _name(wrapper: Callable[..., Any], fn: Callable[..., Any], suffix: str, module: str) -> None:
    """Name the wrapper after the user's function (``loss_grad``), in the user's module."""
    name = getattr(fn, "__name__", "function")
    wrapper.__name__ = f"{name}_{suffix}" if suffix and name.isidentifier() else (suffix or name)
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__module__ = getattr(fn, "__module__", None) or module
