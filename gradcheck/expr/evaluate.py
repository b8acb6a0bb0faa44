"""Evaluate an IR expression with numpy: a recursive walker over the closed IR, never ``eval``.

Batches: :func:`evaluate_batched` evaluates the same expression for k values of some names at
once. Those names carry a leading batch axis; every operation keeps it in front (elementwise
operations align the trailing axes, reductions and ``axis=`` shift by one, ``@`` broadcasts
over it, ``.T`` leaves it alone), so k complex-step directions, k unit perturbations or k
finite-difference stencil points cost one vectorised numpy call instead of k walks. The few
functions without a batch rule (diag, kron, onehot, eye) are looped
over the batch, so every expression has a batched form.

Numeric literals are used as Python floats (so ``2**-1`` is 0.5 and a literal never changes
the dtype of a float32 array); integer literals stay integers only where they are shapes,
sizes or indices. Runtime failures (a singular matrix, a label out of range) propagate as the
numpy exceptions they are; the caller turns them into verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np

from ..errors import ExpressionError, FiniteDifferencesOnly
from . import ir
from .complex_kernels import COMPLEX_DATA_KERNELS, compared
from .functions import TABLE
from .kernels import KERNELS, power, split_product

__all__ = ["NoComplexContinuation", "SubtreeValues", "evaluate", "evaluate_batched"]

Defines = Mapping[str, tuple[tuple[str, ...], ir.Expr, str]]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": power,  # integer powers of a complex base by repeated squaring (numpy's is wrong above 100)
    "@": lambda a, b: split_product(np.matmul, a, b),
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def evaluate(
    expr: ir.Expr,
    env: Mapping[str, Any],
    defines: Defines,
    *,
    perturb: Callable[[np.ndarray], np.ndarray] | None = None,
    complex_data: bool = False,
) -> np.ndarray:
    """Compute ``expr`` with numpy.

    Parameters
    ----------
    expr : ir.Expr
        A parsed (and normally shape-checked) expression.
    env : mapping of str to array or scalar
        Values of the names; dims arrive as Python ints.
    defines : mapping of str to (params, body, body_text)
        The spec's helper functions; their bodies see ``env`` with the parameters bound.
    perturb : callable, optional
        Applied to the floating-point result of every non-leaf node (except define calls,
        whose bodies are already perturbed). Used to estimate rounding error stochastically
        by multiplying each intermediate by ``1 + eps * u``.
    complex_data : bool, optional
        The spec has complex inputs: complex values are data, not a complex step, and the
        kernels of :mod:`gradcheck.expr.complex_kernels` apply (``abs`` is the modulus).

    Returns
    -------
    numpy.ndarray
        The value; 0-d for a scalar. Complex inputs give complex results (complex step).

    Raises
    ------
    ExpressionError
        A name is missing from ``env`` (a bug in the caller: shapes are checked first).
    """
    return np.asarray(_Walker(defines, perturb, complex_data).value(expr, env))


def evaluate_batched(
    expr: ir.Expr,
    env: Mapping[str, Any],
    defines: Defines,
    batched: Collection[str],
    *,
    perturb: Callable[[np.ndarray], np.ndarray] | None = None,
    complex_data: bool = False,
) -> tuple[np.ndarray, bool]:
    """Compute ``expr`` for a batch of values of the names in ``batched``.

    ``env[name]`` for each name in ``batched`` has a leading batch axis of one common length
    k: item i of the result is ``evaluate(expr, env with every batched name at its item i)``.

    Returns
    -------
    (numpy.ndarray, bool)
        The value and whether it has the batch axis: a result that does not depend on any
        batched name is computed once, without it (the caller broadcasts if it must).
    """
    wrapped = {**env, **{name: _Batch(env[name]) for name in batched if name in env}}
    out = _Walker(defines, perturb, complex_data).value(expr, wrapped)
    if isinstance(out, _Batch):
        return out.a, True
    return np.asarray(out), False


class NoComplexContinuation(FiniteDifferencesOnly):
    """A function marked ``complex_safe=False`` was called at a complex point.

    Raised instead of calling its kernel (which would return a complex number that is not the
    derivative); the oracle falls back to finite differences and its note quotes this message.
    """

    def __init__(self, function: str) -> None:
        super().__init__(f"{function} has no complex-step continuation")
        self.function = function


def _complex(args: list[Any]) -> bool:
    return any(
        _complex(a) if isinstance(a, list) else np.iscomplexobj(a.a if isinstance(a, _Batch) else a) for a in args
    )


class _Batch:
    """A value with a leading batch axis (item i is the value for batch item i)."""

    __slots__ = ("a",)

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a)

    @property
    def core(self) -> int:  # number of axes of one item
        return self.a.ndim - 1


def _has_batch(args: list[Any]) -> bool:
    return any(isinstance(a, _Batch) or (isinstance(a, list) and _has_batch(a)) for a in args)


def _batch_size(args: list[Any]) -> int:
    for a in args:
        if isinstance(a, _Batch):
            return a.a.shape[0]
        if isinstance(a, list) and _has_batch(a):
            return _batch_size(a)
    raise AssertionError("no batched argument")


def _aligned(args: list[Any]) -> list[Any]:
    """Operands of an elementwise operation: batched ones as (k, 1, ..., *item) with as many
    item axes as the highest-rank operand, so numpy's right-aligned broadcasting pairs the
    item axes and leaves the batch axis in front."""
    rank = max(a.core if isinstance(a, _Batch) else np.ndim(a) for a in args)
    out = []
    for a in args:
        if isinstance(a, _Batch):
            arr = a.a
            if a.core < rank:
                arr = arr.reshape(arr.shape[:1] + (1,) * (rank - a.core) + arr.shape[1:])
            out.append(arr)
        else:
            out.append(a)
    return out


def _shift_axis(axis: Any) -> Any:
    if isinstance(axis, tuple):
        return tuple(_shift_axis(a) for a in axis)
    return axis + 1 if axis >= 0 else axis


def _batched_matmul(a: Any, b: Any, op: Callable = np.matmul) -> _Batch:
    """``a @ b`` item by item: vectors become rows/columns, item ranks are aligned, numpy's
    matmul broadcasts over the batch axis; the real x complex split is kept."""
    core_a = a.core if isinstance(a, _Batch) else np.ndim(a)
    core_b = b.core if isinstance(b, _Batch) else np.ndim(b)
    arr_a = a.a if isinstance(a, _Batch) else np.asarray(a)
    arr_b = b.a if isinstance(b, _Batch) else np.asarray(b)
    if core_a == 1:
        arr_a, core_a = arr_a[..., None, :], 2
    if core_b == 1:
        arr_b, core_b = arr_b[..., :, None], 2
    rank = max(core_a, core_b)
    if isinstance(a, _Batch) and core_a < rank:
        arr_a = arr_a.reshape(arr_a.shape[:1] + (1,) * (rank - core_a) + arr_a.shape[1:])
    if isinstance(b, _Batch) and core_b < rank:
        arr_b = arr_b.reshape(arr_b.shape[:1] + (1,) * (rank - core_b) + arr_b.shape[1:])
    out = split_product(op, arr_a, arr_b)
    a_vector = (a.core if isinstance(a, _Batch) else np.ndim(a)) == 1
    b_vector = (b.core if isinstance(b, _Batch) else np.ndim(b)) == 1
    if b_vector:
        out = out[..., 0]
    if a_vector:
        out = out[..., 0, :] if not b_vector else out[..., 0]
    return _Batch(out)


def _item(a: Any, i: int) -> Any:
    if isinstance(a, _Batch):
        return a.a[i]
    if isinstance(a, list):
        return [_item(x, i) for x in a]
    return a


def _looped(fn: Callable, args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    """The fallback batch rule: call the kernel once per batch item and stack."""
    k = _batch_size(args)
    return _Batch(np.stack([np.asarray(fn(*[_item(a, i) for a in args], **kwargs)) for i in range(k)]))


_ELEMENTWISE = frozenset(
    "exp log log1p expm1 sqrt square sin cos tanh sigmoid softplus relu abs ones_like zeros_like "
    "maximum minimum where sign erf gelu log_sigmoid abs2 reciprocal logaddexp clip conj real imag".split()
)
_REDUCTIONS = frozenset("sum mean prod logsumexp norm max min amax amin var std".split())
_LINALG = frozenset("trace det logdet inv cholesky eigvalsh eigvecsh pinv".split())
_WINDOWED = frozenset("conv1d conv2d conv_transpose1d conv_transpose2d max_pool2d avg_pool2d".split())


def _batched_call(name: str, fn: Callable, args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    """One whitelisted function on arguments of which at least one is batched."""
    if name in _ELEMENTWISE:
        return _Batch(fn(*_aligned(args), **kwargs))
    if name in _REDUCTIONS or name in ("softmax", "log_softmax"):
        (x,) = args
        axis = kwargs.get("axis", -1 if name in ("softmax", "log_softmax") else None)
        axis = tuple(range(1, x.a.ndim)) if axis is None else _shift_axis(axis)
        return _Batch(fn(x.a, **{**kwargs, "axis": axis}))
    if name in ("argmax", "argmin", "cumsum", "cumprod"):
        (x,) = args
        if kwargs.get("axis") is None:  # over the flattened item
            flat = x.a.reshape(x.a.shape[0], -1)
            out = fn(flat, axis=1, **({"keepdims": True} if kwargs.get("keepdims") else {}))
            return _Batch(out.reshape((-1,) + (1,) * x.core) if kwargs.get("keepdims") else out)
        return _Batch(fn(x.a, **{**kwargs, "axis": _shift_axis(kwargs["axis"])}))
    if name in ("tril", "triu") and args[0].core >= 2:
        return _Batch(fn(args[0].a, **kwargs))  # numpy's tril/triu act on the last two axes
    if name in _LINALG and args[0].core >= 2:
        return _Batch(fn(args[0].a))  # numpy's linalg broadcasts over leading axes
    if name in ("solve", "solve_triangular"):
        a, b = args
        if (a.core if isinstance(a, _Batch) else np.ndim(a)) == 2:
            arr_a = a.a if isinstance(a, _Batch) else a
            arr_b = b.a if isinstance(b, _Batch) else np.asarray(b)
            if (b.core if isinstance(b, _Batch) else np.ndim(b)) == 1:
                return _Batch(fn(arr_a, arr_b[..., None], **kwargs)[..., 0])
            if (b.core if isinstance(b, _Batch) else np.ndim(b)) == 2:
                return _Batch(fn(arr_a, arr_b, **kwargs))
    if name == "transpose":
        if kwargs.get("axis") is None:
            return _transposed(args[0])
        x = args[0]
        return _Batch(np.transpose(x.a, (0,) + tuple(a % x.core + 1 for a in _tuple(kwargs["axis"]))))
    if name in _SHAPING:
        return _SHAPING[name](args, kwargs)
    if name == "reshape":
        x, shape = args
        return _Batch(np.reshape(x.a, (x.a.shape[0], *shape)))
    out = _batched_products(name, fn, args, kwargs)
    return out if out is not None else _looped(fn, args, kwargs)


def _batched_products(name: str, fn: Callable, args: list[Any], kwargs: dict[str, Any]) -> _Batch | None:
    """The batch rules of the products and joins (outer, dot, stack, concatenate, the windowed
    functions, einsum); None where there is none (the caller loops over the batch)."""
    if name == "outer":
        a, b = args
        left = a.a.reshape(a.a.shape[0], -1)[:, :, None] if isinstance(a, _Batch) else np.ravel(a)[:, None]
        right = b.a.reshape(b.a.shape[0], -1)[:, None, :] if isinstance(b, _Batch) else np.ravel(b)[None, :]
        return _Batch(left * right)
    if name == "dot":
        a, b = args
        ranks = [x.core if isinstance(x, _Batch) else np.ndim(x) for x in (a, b)]
        if 0 in ranks:
            return _Batch(np.multiply(*_aligned([a, b])))
        if max(ranks) <= 2:
            return _batched_matmul(a, b)
    if name in ("stack", "concatenate"):
        (arrays,) = args
        k = _batch_size(arrays)
        items = [x.a if isinstance(x, _Batch) else np.broadcast_to(x, (k, *np.shape(x))) for x in arrays]
        return _Batch(fn(items, axis=_shift_axis(kwargs.get("axis", 0))))
    if name in _WINDOWED:  # the kernels take any leading axes before (C, *spatial)
        x, w = args
        if not isinstance(w, _Batch):  # w is a weight, or pooling's size
            return _Batch(fn(x.a, w, **kwargs))
        k = w.a.shape[0]  # a batched weight pairs its batch axis with x's first
        return _Batch(fn(x.a if isinstance(x, _Batch) else np.broadcast_to(x, (k, *np.shape(x))), w.a, **kwargs))
    if name == "einsum":
        subscripts, *operands = args
        rule = _einsum_batched(subscripts, operands)
        if rule is not None:
            return _Batch(np.einsum(rule, *[x.a if isinstance(x, _Batch) else x for x in operands]))
    return None


def _einsum_batched(subscripts: str, operands: list[Any]) -> str | None:
    """The subscripts with a fresh letter for the batch axis (in front of a '...')."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    letters = "".join(terms).replace("...", "")
    if not arrow:
        ellipsis = "..." if "..." in lhs else ""
        out = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    free = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in letters + out)
    terms = [free + t if isinstance(x, _Batch) else t for t, x in zip(terms, operands)]
    return ",".join(terms) + "->" + free + out


def _tuple(axis: Any) -> tuple[int, ...]:
    return axis if isinstance(axis, tuple) else (axis,)


def _batched_expand_dims(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    (x,) = args
    rank = x.core + len(_tuple(kwargs["axis"]))
    return _Batch(np.expand_dims(x.a, tuple(a % rank + 1 for a in _tuple(kwargs["axis"]))))


def _batched_squeeze(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    (x,) = args
    axis = kwargs.get("axis")
    if axis is None:  # the item's literal 1s (a dim that may be 1 is refused by the shapes), never the batch axis
        axes = tuple(i + 1 for i, d in enumerate(x.a.shape[1:]) if d == 1)
    else:
        axes = tuple(a % x.core + 1 for a in _tuple(axis))
    return _Batch(np.squeeze(x.a, axis=axes))


def _batched_tile(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    x, reps = args
    reps = _tuple(reps)
    rank = max(x.core, len(reps))
    a = x.a.reshape(x.a.shape[:1] + (1,) * (rank - x.core) + x.a.shape[1:])
    return _Batch(np.tile(a, (1,) + (1,) * (rank - len(reps)) + reps))


def _batched_repeat(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    x, repeats = args
    axis = kwargs.get("axis")
    if axis is None:  # over the flattened item
        return _Batch(np.repeat(x.a.reshape(x.a.shape[0], -1), repeats, axis=1))
    return _Batch(np.repeat(x.a, repeats, axis=axis % x.core + 1))


def _batched_pad(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    from .kernels import pad_widths

    x, widths = args
    return _Batch(np.pad(x.a, ((0, 0),) + pad_widths(widths, x.core)))


def _batched_take_along_axis(args: list[Any], kwargs: dict[str, Any]) -> _Batch:
    a, indices = args
    if not isinstance(a, _Batch) or isinstance(indices, _Batch):
        return _looped(KERNELS["take_along_axis"], args, kwargs)
    return _Batch(np.take_along_axis(a.a, np.asarray(indices)[None], axis=kwargs["axis"] % a.core + 1))


_SHAPING: dict[str, Callable[[list[Any], dict[str, Any]], _Batch]] = {
    "expand_dims": _batched_expand_dims,
    "squeeze": _batched_squeeze,
    "tile": _batched_tile,
    "repeat": _batched_repeat,
    "pad": _batched_pad,
    "take_along_axis": _batched_take_along_axis,
}


def _transposed(x: Any) -> Any:
    if isinstance(x, _Batch):
        return _Batch(np.transpose(x.a, (0, *range(x.a.ndim - 1, 0, -1))))
    return np.transpose(x)


class _Walker:
    def __init__(
        self, defines: Defines, perturb: Callable[[np.ndarray], np.ndarray] | None, complex_data: bool = False
    ) -> None:
        self.defines = defines
        self.perturb = perturb
        self.kernels = COMPLEX_DATA_KERNELS if complex_data else KERNELS

    def value(self, node: ir.Expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, (ir.Number, ir.Name)):
            return leaf(node, env)
        if isinstance(node, ir.Call) and node.func in self.defines:
            return self.define(node, env)
        return self.rounded(self.compute(node, env))

    def rounded(self, result: Any) -> Any:
        if isinstance(result, _Batch):
            return _Batch(self.rounded(result.a))
        if self.perturb is None or not np.issubdtype(np.asarray(result).dtype, np.inexact):
            return result
        return self.perturb(np.asarray(result))

    def compute(self, node: ir.Expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ir.Unary):
            operand = self.value(node.operand, env)
            if isinstance(operand, _Batch):
                return _Batch(-operand.a if node.op == "-" else +operand.a)
            return -operand if node.op == "-" else +operand
        if isinstance(node, ir.Binary):
            left, right = self.value(node.left, env), self.value(node.right, env)
            if isinstance(left, _Batch) or isinstance(right, _Batch):
                if node.op == "@":
                    return _batched_matmul(left, right)
                return _Batch(_BINARY[node.op](*_aligned([left, right])))
            return _BINARY[node.op](left, right)
        if isinstance(node, ir.Compare):  # real parts: where() branches like the real function
            left, right = self.value(node.left, env), self.value(node.right, env)
            batched = isinstance(left, _Batch) or isinstance(right, _Batch)
            if batched:
                left, right = _aligned([left, right])
            if self.kernels is COMPLEX_DATA_KERNELS:  # complex data is compared only where it is real
                compared(node.op, left, right)
            out = _COMPARE[node.op](np.real(left), np.real(right))
            return _Batch(out) if batched else out
        if isinstance(node, ir.Transpose):
            return _transposed(self.value(node.operand, env))
        if isinstance(node, ir.Index):
            value = self.value(node.value, env)
            index = _index(node.items, lambda e: self.value(e, env))
            if isinstance(value, _Batch):
                return _batched_index(value, index)
            return np.asarray(value)[index]
        if isinstance(node, ir.Call):
            return self.call(node, env)
        raise ExpressionError(f"{type(node).__name__} cannot be evaluated here", span=node.span)

    def call(self, node: ir.Call, env: Mapping[str, Any]) -> Any:
        args, kwargs = call_arguments(node, lambda kind, arg: self.argument(kind, arg, env))
        if not TABLE[node.func].complex_safe and self.kernels is KERNELS and _complex(args):
            raise NoComplexContinuation(node.func)  # on complex data (complex parameters) it is data, not a step
        if _has_batch(args):
            return _batched_call(node.func, self.kernels[node.func], args, kwargs)
        return self.kernels[node.func](*args, **kwargs)

    def argument(self, kind: str, arg: ir.Expr, env: Mapping[str, Any]) -> Any:
        if kind in ("shape", "newshape"):
            items = arg.items if isinstance(arg, ir.TupleExpr) else (arg,)
            return tuple(_static_int(item, env) for item in items)
        if kind == "size":
            return _static_int(arg, env)
        if kind == "subscripts":
            return arg.value
        if kind == "axes":
            return _static_keyword(arg)
        if kind == "widths":
            return _widths(arg, env)
        if kind == "arrays":
            return [self.value(item, env) for item in arg.items]
        return self.value(arg, env)

    def define(self, node: ir.Call, env: Mapping[str, Any]) -> Any:
        body, inner = helper_call(self.defines, node, env, self.value)
        return self.value(body, inner)


def leaf(node: ir.Number | ir.Name, env: Mapping[str, Any]) -> Any:
    """A literal's value (a Python float) or a name's (from ``env``), as every walker reads them."""
    if isinstance(node, ir.Number):
        return float(node.value)
    if node.id not in env:
        raise ExpressionError(f"no value for name '{node.id}'", span=node.span)
    return env[node.id]


def helper_call(defines: Defines, node: ir.Call, env: Mapping[str, Any], value: Callable) -> tuple[ir.Expr, dict]:
    """A call of one of the spec's helpers: its body, and ``env`` with its parameters bound to the
    arguments' values (``value(arg, env)``: each walker's own)."""
    params, body, _ = defines[node.func]
    inner = dict(env)
    inner.update(zip(params, (value(arg, env) for arg in node.args)))
    return body, inner


def call_arguments(node: ir.Call, argument: Callable[[str, ir.Expr], Any]) -> tuple[list[Any], dict[str, Any]]:
    """A call's positional arguments (each read by ``argument(kind, expr)``) and its keywords, as
    the kernels take them: ``axes=`` and an axis given by position become ``axis=``."""
    params = TABLE[node.func].params
    args = [argument(params[min(i, len(params) - 1)][1], arg) for i, arg in enumerate(node.args)]
    kwargs = {"axis" if key == "axes" else key: _static_keyword(value) for key, value in node.kwargs}
    kinds = [kind for _, kind in params]
    if "axes" in kinds and len(args) > kinds.index("axes"):  # an axis given by position: as axis=
        kwargs["axis"] = args.pop(kinds.index("axes"))
    return args, kwargs


def _index(items: tuple[ir.IndexItem, ...], value: Callable[[ir.Expr], Any]) -> tuple:
    out: list[Any] = []
    for item in items:
        if isinstance(item, ir.IndexArray):
            out.append(np.asarray(value(item.expr)))
        elif isinstance(item, ir.IndexInt):
            out.append(item.value)
        elif isinstance(item, ir.IndexSlice):
            out.append(slice(item.start, item.stop, item.step))
        else:
            out.append(None)
    return tuple(out)


def _batched_index(x: _Batch, index: tuple) -> _Batch:
    """``x[index]`` item by item (``index`` from :func:`_index`: its arrays are plain integer arrays,
    never batched). With index arrays apart (``T[arange(M), :, 0]``) numpy puts their shape in
    front, before the batch axis: it is moved back behind it."""
    out = x.a[(slice(None),) + index]
    advanced = [p for p, i in enumerate(index) if isinstance(i, (int, np.ndarray)) and not isinstance(i, bool)]
    arrays = [i for i in index if isinstance(i, np.ndarray)]
    if arrays and advanced != list(range(advanced[0], advanced[-1] + 1)):
        out = np.moveaxis(out, np.broadcast_shapes(*(a.shape for a in arrays)).__len__(), 0)
    return _Batch(out)


def _widths(node: ir.Expr, env: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    """pad's widths as (before, after) pairs: one for every axis, or one per axis."""
    if not isinstance(node, ir.TupleExpr):
        w = _static_int(node, env)
        return ((w, w),)
    if node.items and all(isinstance(i, ir.TupleExpr) for i in node.items):
        return tuple((_static_int(p.items[0], env), _static_int(p.items[1], env)) for p in node.items)
    ends = [_static_int(i, env) for i in node.items]
    return ((ends[0], ends[-1]),)


def _static_keyword(value: ir.Expr) -> Any:
    if isinstance(value, ir.TupleExpr):
        return tuple(int(item.value) for item in value.items)
    if isinstance(value, ir.String):
        return value.value
    return value.value if isinstance(value.value, bool) else int(value.value)


def _static_int(node: ir.Expr, env: Mapping[str, Any]) -> int:
    """A shape argument: integer literals and dims combined with + - * and **."""
    if isinstance(node, ir.Number):
        return int(node.value)
    if isinstance(node, ir.Name):
        return int(env[node.id])
    if isinstance(node, ir.Unary):
        inner = _static_int(node.operand, env)
        return -inner if node.op == "-" else inner
    if isinstance(node, ir.Binary) and node.op in ("+", "-", "*", "**"):
        left, right = _static_int(node.left, env), _static_int(node.right, env)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        return left * right if node.op == "*" else left**right
    raise ExpressionError("shape arguments must be static integer expressions", span=node.span)


class SubtreeValues(_Walker):
    """The walker for many expressions that share subtrees, at one fixed environment: every
    subtree's value is remembered by identity (not inside a helper's body, where the same nodes
    take other values), so an edited expression costs the path to its edit."""

    def __init__(self, defines: Defines, env: Mapping[str, Any]) -> None:
        super().__init__(defines, None)
        self.env = env
        self.memo: dict[int, tuple[ir.Expr, object]] = {}
        self.inside = 0  # inside a helper's body the same nodes take other values: no memo

    def value(self, node: ir.Expr, env):
        if self.inside or isinstance(node, (ir.Number, ir.Name)):
            return super().value(node, env)
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        out = super().value(node, env)
        self.memo[id(node)] = (node, out)
        return out

    def define(self, node: ir.Call, env):
        self.inside += 1
        try:
            return super().define(node, env)
        finally:
            self.inside -= 1

    def of(self, e: ir.Expr) -> np.ndarray:
        """``e``'s value in this walker's environment."""
        return np.asarray(self.value(e, self.env))
