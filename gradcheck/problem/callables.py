"""User Python callables: ``{python: "module:function"}`` entries.

Only a ``module:function`` name is ever imported — never text evaluated. The spec's folder
and the current directory are put on ``sys.path`` first, so a helper module can sit beside
its spec. Callables are called by keyword with the inputs and constants their signature
accepts (all of them with ``**kwargs``), and a dim only by a parameter that names it and has no
default; each call with read-only views of the arrays.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import weakref
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import SchemaError, SpecError
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
    module = _import(ref)
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


def _import(ref: PythonRef) -> Any:
    """The module ``ref`` names, imported with the spec's folder and the current directory on
    ``sys.path`` (a located SpecError if it cannot be, or if it is the standard library)."""
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
    _refuse_shadowing(ref, top, extra[0])
    _forget_if_elsewhere(ref.module, extra[0])
    added = [p for p in extra if p not in sys.path]
    sys.path[:0] = added
    try:
        return importlib.import_module(ref.module)
    except Exception as exc:  # noqa: BLE001  the user's module, at import: any error becomes a located SpecError
        raise SpecError(
            f"cannot import module '{ref.module}': {type(exc).__name__}: {exc}",
            ref.location,
            hint="install the package, or put the module beside the spec or in the current directory",
        ) from None
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)


def _refuse_shadowing(ref: PythonRef, top: str, folder: str) -> None:
    """A module beside the spec with the name of an installed one is ambiguous: which one the
    user meant cannot be known, and the spec folder's copy would silently win. Refused, located."""
    here = [os.path.join(folder, top + ".py"), os.path.join(folder, top, "__init__.py")]
    local = next((p for p in here if os.path.isfile(p)), None)
    if local is None:
        return
    import importlib.machinery

    elsewhere = [p for p in sys.path if p and os.path.abspath(p) not in (folder, os.path.abspath(os.getcwd()))]
    found = importlib.machinery.PathFinder.find_spec(top, elsewhere)
    if found is None or not found.origin or os.path.abspath(found.origin) in map(os.path.abspath, here):
        return
    raise SpecError(
        f"module '{top}' exists both beside the spec ({local}) and installed ({found.origin}): "
        "which one is meant is ambiguous",
        ref.location,
        hint=f"rename the module beside the spec (e.g. {top}_spec.py) so that it cannot shadow the installed one",
    )


def _forget_if_elsewhere(module: str, folder: str) -> None:
    """A module of this name imported earlier from another folder (another spec's ``code.py``)
    is dropped from ``sys.modules`` when the spec's own folder has one: each spec gets the code
    beside it, also in a process that checked other specs first."""
    top = module.split(".")[0]
    loaded = sys.modules.get(top)
    if loaded is None:
        return
    here = [os.path.join(folder, top + ".py"), os.path.join(folder, top, "__init__.py")]
    if not any(os.path.isfile(p) for p in here):
        return
    origin = os.path.abspath(getattr(loaded, "__file__", None) or "")
    if origin not in (os.path.abspath(p) for p in here):
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]
        for key in [k for k in _cache if k[0] == top or k[0].startswith(top + ".")]:
            del _cache[key]


def resolve_data(ref: PythonRef) -> Any:
    """The value ``{python: "pkg.data:X"}`` names for an array constant: the module attribute
    itself, or what a function of no arguments returns (e.g. a loader). Nothing else is called.

    Raises
    ------
    SpecError
        The module cannot be imported, has no such name, or the function raised.
    """
    if ref.obj is not None:
        return ref.obj
    module = _import(ref)
    if not hasattr(module, ref.function):
        names = [n for n in dir(module) if not n.startswith("_")]
        import difflib

        close = difflib.get_close_matches(ref.function, names, n=1)
        raise SpecError(
            f"module '{ref.module}' has no name '{ref.function}'",
            ref.location,
            hint=f"did you mean '{close[0]}'?" if close else None,
        )
    value = getattr(module, ref.function)
    if not callable(value):
        return value
    if not _is_python_code(value):
        raise SpecError(
            f"'{ref.target}' is {type(value).__name__}, not data or a Python function",
            ref.location,
            hint="name an array, or a def of no arguments that returns one",
        )
    try:
        return value()
    except Exception as exc:  # noqa: BLE001  the user's data function: any error becomes a located SpecError
        raise SpecError(
            f"'{ref.target}()' raised {type(exc).__name__}: {exc}",
            ref.location,
            hint="a data function is called with no arguments and must return an array",
        ) from None


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


@dataclass
class _Parameters:
    """What a signature accepts by keyword: ``names`` (None: no signature to read, so anything),
    ``required`` the named ones without a default, ``catch_all`` a ``**kwargs``; and the keyword
    names of the function's last call (the names do not change between calls, the values do)."""

    names: frozenset[str] | None
    required: frozenset[str] = frozenset()
    catch_all: bool = False
    forwards: bool = False  # gradcheck's own wrapper (see FORWARDS): every keyword, the rule applied inside
    received: tuple[str, ...] | None = None


_NAMES: "weakref.WeakKeyDictionary[Any, _Parameters]" = weakref.WeakKeyDictionary()
# fn -> what it accepts; weak, so user functions are not kept alive


def _parameters(fn: Callable[..., Any]) -> _Parameters:
    code = getattr(fn, "__code__", None)
    ours = code is not None and os.path.abspath(code.co_filename).startswith(_PACKAGE)
    if ours or getattr(fn, FORWARDS, None) is not None:  # gradcheck's own wrapper: it applies the rule inside
        return _Parameters(None, forwards=True)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return _Parameters(None)
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return _Parameters(
        frozenset(p.name for p in params),
        frozenset(p.name for p in params if p.default is p.empty),
        any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()),
    )


def _parameters_of(fn: Callable[..., Any]) -> _Parameters:
    try:  # inspect.signature costs ~40 µs: once per function, not once per call
        return _NAMES[fn] if fn in _NAMES else _NAMES.setdefault(fn, _parameters(fn))
    except TypeError:  # an unhashable callable object, or one without weak references
        return _parameters(fn)


def _accepted(params: _Parameters, available: dict[str, Any], dims: Collection[str] = ()) -> dict[str, Any]:
    """The keywords a function with ``params`` is called with: inputs, constants and nodes its
    signature names (all of them through ``**kwargs``); a dim only to a parameter that names it
    and has no default.

    A dim's size is not data: ``def grad(x, v, n=1)`` names its own ``n``, and a ``**kwargs``
    wrapper passes what it gets on to code that does not expect sizes.
    """
    if params.names is None:
        return available
    return {
        k: v
        for k, v in available.items()
        if (k in params.required if k in dims else k in params.names or params.catch_all)
    }


FORWARDS = "__gradcheck_forwards__"
"""Set on gradcheck's own wrappers to the user callable they call (with :func:`call_user`): they
receive every keyword and the rule is applied to the user's function; messages name that one.
Functions defined in the gradcheck package (the adapters' wrappers) forward without it."""
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_DIMS: ContextVar[frozenset[str]] = ContextVar("gradcheck_dims", default=frozenset())
# the dims of the call a forwarding wrapper is inside: its own call_user applies the rule with them


def user_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The user's callable behind gradcheck's forwarding wrappers."""
    for _ in range(8):
        inner = getattr(fn, FORWARDS, None)
        if inner is None:
            break
        fn = inner
    return fn


def received(fn: Callable[..., Any]) -> str | None:
    """``name(X, w, M)``: the keywords the user's callable behind ``fn`` received (the names are
    the same on every call), or None if it was never called."""
    user = user_function(fn)
    try:
        params = _NAMES.get(user)
    except TypeError:  # unhashable: never remembered
        return None
    seen = params.received if params is not None else None
    if seen is None:
        return None
    name = getattr(user, "__name__", None) or type(user).__name__
    return f"{name}({', '.join(seen)})"


def keywords_note(refs: list[PythonRef]) -> str | None:
    """``keywords received: loss(X, w, M), grad(X, w)`` for a failure block: what each user
    callable got on its last call (the first thing to look at when code ignores a dim or an input)."""
    seen = []
    for ref in refs:
        try:
            text = received(resolve(ref))
        except SpecError:
            text = None
        if text is not None and text not in seen:
            seen.append(text)
    return "keywords received: " + ", ".join(seen) if seen else None


def value_and_grad_pair(out: Any, fn: Callable[..., Any]) -> tuple[Any, Any]:
    """What a value-and-gradient function returned, as ``(value, gradient)``; a TypeError naming
    ``fn`` for anything else (the usual slip: passing the loss alone)."""
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out[0], out[1]
    name = getattr(user_function(fn), "__name__", None) or "the function"
    got = f"a tuple of {len(out)}" if isinstance(out, (tuple, list)) else f"a {type(out).__name__}"
    raise TypeError(f"{name} must return (value, gradient), as a value_and_grad function does; it returned {got}")


_MUTATES: "weakref.WeakSet[Any]" = weakref.WeakSet()  # functions seen writing into their inputs


def _read_only(v: Any) -> Any:
    if not isinstance(v, np.ndarray):
        return v
    view = v.view()
    view.flags.writeable = False
    return view


def call_user(
    fn: Callable[..., Any], available: dict[str, Any], *, copy: bool = True, dims: Collection[str] | None = None
) -> Any:
    """Call ``fn`` by keyword with the entries of ``available`` its signature accepts.

    ``dims``: which entries are dim sizes (see :func:`_accepted` for who receives them); None:
    those of the forwarding wrapper this call is made inside, if any.

    ``copy``: the caller's arrays must survive the call. They are handed over as read-only
    views (free: a copy of every input for every call cost more than the loss at n = 1e6);
    code that writes into its arguments raises numpy's read-only error on the first call, which
    is then repeated with fresh copies, and so is every later call of that function (any other
    exception propagates from the first call: nothing runs twice).
    """
    if dims is None:
        dims = _DIMS.get()
    params = _parameters_of(fn)
    if not params.forwards:
        kwargs = _accepted(params, available, dims)
        params.received = tuple(kwargs)
        return _call(fn, kwargs, copy)
    token = _DIMS.set(frozenset(dims))
    try:
        return _call(fn, available, copy)
    finally:
        _DIMS.reset(token)


def _call(fn: Callable[..., Any], kwargs: dict[str, Any], copy: bool) -> Any:
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


# -- what user code returned, checked where it is used ---------------------------------------------


def describe_value(value: Any) -> str:
    """``None``, ``float64``, ``array of shape (3,)``, ``tuple (float64, array of shape (3,))``."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} ({', '.join(describe_value(v) for v in value)})"
    if isinstance(value, dict):
        return f"dict with keys {sorted(map(str, value))}"
    if isinstance(value, (int, float, complex, np.generic)):
        return np.asarray(value).dtype.name if isinstance(value, np.generic) else type(value).__name__
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"array of shape {tuple(shape)}"
    return type(value).__name__


def _callable_name(ref: PythonRef) -> str:
    """``mod:fn`` for a spec's entry; the function's own name for one handed over by the API."""
    return ref.function.split("<locals>.")[-1] if ref.obj is not None else ref.target


def loss_value(value: Any, ref: PythonRef) -> np.ndarray:
    """The loss's return value as an array: one number (real, or complex at a complex-step point).

    Raises
    ------
    SchemaError
        The loss returned something else: a tuple (value and gradient?), an array of several
        entries, None or no number at all; located at the entry (the API's call).
    """
    hint = None
    if value is None:
        what, hint = "None", "a missing `return`?"
    elif isinstance(value, (tuple, list, dict)) and not (isinstance(value, (tuple, list)) and len(value) == 1):
        what = f"a {describe_value(value)}"
        hint = "return only the loss's value: the gradient is checked from the claim"
    else:
        out = np.asarray(value) if not isinstance(value, (tuple, list)) else np.asarray(value[0])
        if out.dtype.kind in "biufc" and out.size == 1:
            return out
        if out.dtype.kind in "biufc":
            what = f"an array of shape {out.shape}"
            hint = "sum it to one number" + (
                "; a vector-valued function is checked with check_vjp or check_jvp" if ref.obj is not None else ""
            )
        else:
            what = f"a {describe_value(value)}"
    raise SchemaError(
        f"the loss '{_callable_name(ref)}' returned {what}, but a loss returns one real number", ref.location, hint=hint
    )


def claim_value(value: Any, ref: PythonRef, wrt: str, shape: str, kind: str = "gradient") -> np.ndarray:
    """A claim's return value (one wrt's part of it) as an array.

    Raises
    ------
    SchemaError
        It returned None, or a tuple or list of parts of different shapes (value and gradient?),
        located at the entry (the API's call). A list of numbers is an array like any other.
    """
    if value is None:
        raise SchemaError(
            f"the {kind} '{_callable_name(ref)}' returned None, but a {kind} with respect to {wrt} returns one "
            f"array of {wrt}'s shape {shape}",
            ref.location,
            hint="a missing `return`?",
        )
    if isinstance(value, (tuple, list)) and len({np.shape(v) for v in value}) > 1:
        raise SchemaError(
            f"the {kind} '{_callable_name(ref)}' returned a {describe_value(value)}, but a {kind} with respect "
            f"to {wrt} returns one array of {wrt}'s shape {shape}",
            ref.location,
            hint=f"return only the {kind}",
        )
    return np.asarray(value)
