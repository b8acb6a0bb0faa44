"""User Python callables: ``{python: "module:function"}`` entries.

Only a ``module:function`` name is ever imported — never text evaluated. The spec's folder
and the current directory are put on ``sys.path`` first, so a helper module can sit beside
its spec. Callables are called by keyword with the inputs and constants their signature
accepts (all of them with ``**kwargs``), each call with fresh copies of the arrays.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import weakref
from typing import Any, Callable

import numpy as np

from ..errors import SpecError
from ..spec.model import PythonRef

_cache: dict[tuple[str, str, str], Callable[..., Any]] = {}
_ENTRY_POINTS = ("gradcheck.cli", "gradcheck.__main__", "gradcheck.workers", "gradcheck.run", "gradcheck.pytest_plugin")


def resolve(ref: PythonRef) -> Callable[..., Any]:
    """Import ``ref.module`` and return ``ref.function``.

    Raises
    ------
    SpecError
        The module cannot be imported or has no such callable (located at the entry).
    """
    if ref.obj is not None:  # handed over by the Python API: nothing to import
        return ref.obj
    key = (ref.module, ref.function, ref.location.file)
    if key in _cache:
        return _cache[key]
    top = ref.module.split(".")[0]
    if top in sys.stdlib_module_names or top == "gradcheck":
        raise SpecError(
            f'{{python: "{ref.target}"}} names the standard library: python entries must name your own code',
            ref.location,
            hint="write the loss or gradient in a module of your own, beside the spec",
        )
    if top in ("__main__", "__mp_main__"):
        raise SpecError(
            f'{{python: "{ref.target}"}} names the running program ({top}): python entries must name your own code',
            ref.location,
            hint="write the loss or gradient in a module of your own, beside the spec",
        )
    extra = [os.path.dirname(os.path.abspath(ref.location.file)), os.getcwd()]
    added = [p for p in extra if p not in sys.path]
    sys.path[:0] = added
    try:
        module = importlib.import_module(ref.module)
    except Exception as exc:
        raise SpecError(
            f"cannot import module '{ref.module}': {type(exc).__name__}: {exc}",
            ref.location,
            hint="install the package, or put the module beside the spec or in the current directory",
        ) from None
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
    fn = getattr(module, ref.function, None)
    owner = getattr(fn, "__module__", None) or ""
    if fn is not None and owner in _ENTRY_POINTS:  # gradcheck's console script, re-exported
        raise SpecError(
            f"'{ref.target}' is gradcheck's own {owner}.{getattr(fn, '__qualname__', ref.function)}:"
            " python entries must name your own code",
            ref.location,
            hint="write the loss or gradient in a module of your own, beside the spec",
        )
    if fn is not None and callable(fn) and not _is_python_code(fn):
        raise SpecError(
            f"'{ref.target}' is {type(fn).__name__}, not a Python function: python entries must name your own code",
            ref.location,
            hint="wrap it in a def in a module of your own",
        )
    if fn is None or not callable(fn):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n, None))]
        import difflib

        close = difflib.get_close_matches(ref.function, names, n=1)
        raise SpecError(
            f"module '{ref.module}' has no callable '{ref.function}'",
            ref.location,
            hint=f"did you mean '{close[0]}'?" if close else None,
        )
    _cache[key] = fn
    return fn


def _is_python_code(fn: Any) -> bool:
    """A def, a functools.partial of one, or an instance of a class with a Python ``__call__``
    (never a builtin such as os.system or a numpy ufunc)."""
    import functools

    if isinstance(fn, functools.partial):
        return _is_python_code(fn.func)
    if inspect.isfunction(fn) or inspect.ismethod(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return inspect.isfunction(call) and not isinstance(fn, type)


_NAMES: "weakref.WeakKeyDictionary[Any, frozenset[str] | None]" = weakref.WeakKeyDictionary()
# fn -> the keyword names it accepts (None: any); weak, so user functions are not kept alive


def _parameter_names(fn: Callable[..., Any]) -> frozenset[str] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _accepted(fn: Callable[..., Any], available: dict[str, Any]) -> dict[str, Any]:
    try:  # inspect.signature costs ~40 µs: once per function, not once per call
        names = _NAMES[fn] if fn in _NAMES else _NAMES.setdefault(fn, _parameter_names(fn))
    except TypeError:  # an unhashable callable object, or one without weak references
        names = _parameter_names(fn)
    if names is None:
        return available
    return {k: v for k, v in available.items() if k in names}


_MUTATES: "weakref.WeakSet[Any]" = weakref.WeakSet()  # functions seen writing into their inputs


def _read_only(v: Any) -> Any:
    if not isinstance(v, np.ndarray):
        return v
    view = v.view()
    view.flags.writeable = False
    return view


def call_user(fn: Callable[..., Any], available: dict[str, Any], *, copy: bool = True) -> Any:
    """Call ``fn`` by keyword with the entries of ``available`` its signature accepts.

    ``copy``: the caller's arrays must survive the call. They are handed over as read-only
    views (free: a copy of every input for every call cost more than the loss at n = 1e6);
    code that writes into its arguments raises numpy's read-only error on the first call, which
    is then repeated with fresh copies, and so is every later call of that function (any other
    exception propagates from the first call: nothing runs twice).
    """
    kwargs = _accepted(fn, available)
    if not copy:
        return fn(**kwargs)
    if _mutates(fn):
        return fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()})
    try:
        return fn(**{k: _read_only(v) for k, v in kwargs.items()})
    except ValueError as exc:  # numpy: "assignment destination is read-only", "output array is read-only"
        if "read-only" not in str(exc):
            raise
        out = fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()})
        try:  # it works on copies: it writes into its inputs
            _MUTATES.add(fn)
        except TypeError:
            pass
        return out


def _mutates(fn: Callable[..., Any]) -> bool:
    try:
        return fn in _MUTATES
    except TypeError:
        return False


class SplitComplex(np.ndarray):
    """A complex array whose ``@`` with a real operand is two real products.

    The complex step hands user code ``x + i h v`` (see :meth:`Bound.loss_at`); the user's ``X @ theta`` would then be a
    complex matmul (zgemm) on a real matrix promoted to complex: twice the flops, and on
    OpenBLAS builds with AVX-512 kernels it also slows the complex exp/log that follow 10-40x
    (bench/RESULTS.md). ``X @ Re + i X @ Im`` gives the same values. Every other operation is
    numpy's own, on plain arrays: results are ordinary ndarrays, so the type does not spread.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [np.asarray(a) if isinstance(a, SplitComplex) else a for a in inputs]
        if ufunc is np.matmul and method == "__call__" and len(args) == 2 and not kwargs:
            a, b = np.asarray(args[0]), np.asarray(args[1])
            a_c, b_c = np.iscomplexobj(a), np.iscomplexobj(b)
            if b_c and not a_c:
                return np.matmul(a, b.real) + 1j * np.matmul(a, b.imag)
            if a_c and not b_c:
                return np.matmul(a.real, b) + 1j * np.matmul(a.imag, b)
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, SplitComplex) else o for o in kwargs["out"])
        return getattr(ufunc, method)(*args, **kwargs)


def user_view(z: np.ndarray) -> np.ndarray:
    """``z`` as user code should see it: complex points as :class:`SplitComplex`, real ones as they are."""
    return z.view(SplitComplex) if isinstance(z, np.ndarray) and np.iscomplexobj(z) else z
