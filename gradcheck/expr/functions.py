"""The one table of whitelisted functions: each name, its parameters, its shape rule, its kernel.

Shape rules work on symbolic shapes (tuples of :class:`~gradcheck.expr.dims.Dim`) and raise
:class:`ShapeRuleError` with a best-guess ``recovered`` shape, so that inference can go on and
report the first problem with the rest of the expression still typed. Numeric kernels live
in :mod:`gradcheck.expr.kernels` under the same names and are imported only on first use,
so that parsing and shape checking never import numpy.

Parameter kinds
---------------
``array``       an expression evaluating to an array (or scalar)
``shape``       a static shape: an integer expression over literals and dims, or a tuple of them
``newshape``    like ``shape`` but one entry may be -1 (reshape)
``size``        a static integer expression (``eye(n)``, ``onehot(y, k)``)
``subscripts``  a string literal (einsum)
``arrays``      a list or tuple of array expressions (stack, concatenate)
``*array``      any number of further arrays (einsum operands)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .dims import Dim, Shape, broadcast, shape_str, size

__all__ = ["Function", "ShapeRuleError", "TABLE", "WHITELIST", "matmul_shape", "kernel"]

Axis = int | tuple[int, ...] | None


class ShapeRuleError(Exception):
    """A shape rule failed; ``recovered`` is the shape to carry on with."""

    def __init__(self, message: str, recovered: Shape) -> None:
        super().__init__(message)
        self.message = message
        self.recovered = recovered


@dataclass(frozen=True)
class Function:
    """One whitelisted function.

    ``params`` are ``(name, kind)`` pairs (see the module docstring); ``keywords`` the subset
    of ``{"axis", "keepdims", "ddof", "k", "approximate", "lower"}`` it accepts (static literals;
    only axis= and keepdims= change the shape); ``rule(name, args, axis, keepdims)`` maps the
    processed arguments (shapes, folded dims, strings) to the result shape. ``complex_safe`` is
    False for a function whose kernel has no exact complex-step continuation (eigvalsh: LAPACK
    takes a complex matrix as Hermitian): its kernel refuses a complex point, and the oracle
    falls back to finite differences with a note that names the function.
    """

    name: str
    params: tuple[tuple[str, str], ...]
    rule: Callable[[str, list[Any], Axis, bool], Shape]
    keywords: frozenset[str] = frozenset()
    complex_safe: bool = True

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p for p, _ in self.params)})"

    @property
    def variadic(self) -> bool:
        return bool(self.params) and self.params[-1][1] == "*array"


def kernel(name: str) -> Callable[..., Any]:
    """The numpy implementation of a whitelisted function (imports numpy on first use)."""
    return importlib.import_module(".kernels", __package__).KERNELS[name]


# -- shape rules -------------------------------------------------------------------------


def _same(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return args[0]


def _broadcast_all(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape: Shape | None = ()
    for arg in args:
        shape = broadcast(shape, arg) if shape is not None else None
    if shape is None:
        shown = ", ".join(shape_str(a) for a in args[:-1]) + " and " + shape_str(args[-1])
        recovered = broadcast(args[-2], args[-1]) or args[-1]
        raise ShapeRuleError(f"{name}() arguments {shown} do not broadcast", recovered)
    return shape


def _axes(name: str, shape: Shape, axis: Axis, *, default: Axis = None) -> tuple[int, ...]:
    axis = default if axis is None else axis
    if axis is None:
        return tuple(range(len(shape)))
    out: list[int] = []
    for a in axis if isinstance(axis, tuple) else (axis,):
        if not -len(shape) <= a < len(shape):
            raise ShapeRuleError(f"{name}(): axis {a} is out of range for shape {shape_str(shape)}", ())
        if a % len(shape) in out:
            raise ShapeRuleError(f"{name}(): axis {a} is repeated", ())
        out.append(a % len(shape))
    return tuple(out)


def _reduction(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    try:
        axes = _axes(name, shape, axis)
    except ShapeRuleError as exc:
        exc.recovered = shape if keepdims else ()
        raise
    one = Dim.const(1)
    if keepdims:
        return tuple(one if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _arg_reduction(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    if isinstance(axis, tuple):
        message = f"{name}() takes one axis= (an integer), not a tuple"
        raise ShapeRuleError(message, args[0] if keepdims else ())
    return _reduction(name, args, axis, keepdims)


def _cumulative(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if axis is None:  # numpy flattens
        return shape if len(shape) == 1 else (size(shape),)
    if isinstance(axis, tuple):
        raise ShapeRuleError(f"{name}() takes one axis= (an integer), not a tuple", shape)
    try:
        _axes(name, shape, axis)
    except ShapeRuleError as exc:
        exc.recovered = shape
        raise
    return shape


def _triangular(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    if len(args[0]) < 2:
        raise ShapeRuleError(f"{name}() needs an array with at least 2 axes, got {shape_str(args[0])}", args[0])
    return args[0]


def _softmax(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if not shape:
        raise ShapeRuleError(f"{name}() needs at least a 1-D array, got ()", shape)
    try:
        _axes(name, shape, axis, default=-1)
    except ShapeRuleError as exc:
        exc.recovered = shape
        raise
    return shape


def _square(name: str, shape: Shape) -> None:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeRuleError(f"{name} needs a square matrix, got {shape_str(shape)}", shape[:-2])


def _matrix_scalar(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    _square(name, args[0])
    return args[0][:-2]


def _inv(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    try:
        _square(name, args[0])
    except ShapeRuleError as exc:
        exc.recovered = args[0]
        raise
    return args[0]


def _solve(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    a, b = args
    recovered = b
    try:
        _square(name, a)
    except ShapeRuleError as exc:
        exc.recovered = recovered
        raise
    n = a[-1]
    if len(b) == 1:  # numpy >= 2: b is a vector only when it is exactly 1-D
        if b[0] != n:
            message = f"{name}(A, b) needs b of shape ({n},) for A {shape_str(a)}, got {shape_str(b)}"
            raise ShapeRuleError(message, a[:-1])
        return a[:-1]
    if len(b) < 2 or b[-2] != n:
        message = f"{name}(A, B) needs B with {n} rows for A {shape_str(a)}, got {shape_str(b)}"
        raise ShapeRuleError(message, recovered)
    batch = broadcast(a[:-2], b[:-2])
    if batch is None:
        message = f"{name}(A, B): batch dimensions of {shape_str(a)} and {shape_str(b)} do not broadcast"
        raise ShapeRuleError(message, b)
    return batch + b[-2:]


# linear algebra (fn-linalg): cholesky, solve_triangular, eigvalsh, eigvecsh, pinv


def _eigvalsh(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    try:
        _square(name, args[0])
    except ShapeRuleError as exc:
        exc.recovered = args[0][:-1]
        raise
    return args[0][:-1]


def _pinv(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if len(shape) < 2:
        raise ShapeRuleError(f"{name} needs a matrix (at least 2 axes), got {shape_str(shape)}", shape)
    return shape[:-2] + (shape[-1], shape[-2])


def _diag(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if len(shape) == 1:
        return (shape[0], shape[0])
    if len(shape) == 2 and shape[0] == shape[1]:
        return (shape[0],)
    raise ShapeRuleError(f"diag needs a vector or a square matrix, got {shape_str(shape)}", shape[:1])


def _outer(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return (size(args[0]), size(args[1]))


def _kron(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    a, b = args
    rank = max(len(a), len(b))
    one = (Dim.const(1),)
    a = one * (rank - len(a)) + a
    b = one * (rank - len(b)) + b
    return tuple(x * y for x, y in zip(a, b))


def _eye(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return (args[0], args[0])


def _transpose(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return tuple(reversed(args[0]))


def _divide(total: Dim, part: Dim) -> Dim | None:
    """``total / part`` when it is an exact polynomial and ``part`` a single term."""
    if len(part.terms) != 1:
        return None
    ((pm, pc),) = part.terms
    acc: dict[tuple[str, ...], int] = {}
    for m, c in total.terms:
        rest = list(m)
        for s in pm:
            if s not in rest:
                return None
            rest.remove(s)
        if c % pc:
            return None
        acc[tuple(rest)] = c // pc
    quotient = Dim._make(acc)
    return quotient if quotient * part == total else None


def _reshape(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape, new = args
    total = size(shape)
    wild = [i for i, d in enumerate(new) if d == Dim.const(-1)]
    if len(wild) > 1:
        raise ShapeRuleError("reshape() can infer only one dimension (-1)", new)
    if wild:
        rest = size(tuple(d for i, d in enumerate(new) if i not in wild))
        quotient = _divide(total, rest)
        if quotient is None:
            raise ShapeRuleError(
                f"reshape() cannot infer -1: {shape_str(shape)} has {total} elements, not a multiple of {rest}",
                tuple(d for d in new if d != Dim.const(-1)),
            )
        return tuple(quotient if i in wild else d for i, d in enumerate(new))
    if size(new) != total:
        raise ShapeRuleError(
            f"reshape() cannot turn {shape_str(shape)} ({total} elements) into {shape_str(new)} ({size(new)} elements)",
            new,
        )
    return new


def _dot(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    a, b = args
    if not a or not b:
        return _broadcast_all(name, args, axis, keepdims)
    k = -2 if len(b) >= 2 else -1
    out = a[:-1] + b[:-2] + b[-1:] if len(b) >= 2 else a[:-1]
    if a[-1] != b[k]:
        raise ShapeRuleError(
            f"dot() shapes {shape_str(a)} and {shape_str(b)} are not aligned: {a[-1]} and {b[k]} differ",
            out,
        )
    return out


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """numpy ``a @ b`` on symbolic shapes; messages read after "`A @ B` "."""
    shown = f"multiplies {shape_str(a)} @ {shape_str(b)}"
    if not a or not b:
        raise ShapeRuleError(f"{shown}: @ needs arrays with at least one axis", broadcast(a, b) or b)
    rows = a[:-1] if len(a) >= 2 else ()
    cols = b[-1:] if len(b) >= 2 else ()
    inner_b = b[-2] if len(b) >= 2 else b[0]
    batch = broadcast(a[:-2], b[:-2])
    recovered = (batch if batch is not None else b[:-2]) + rows[-1:] + cols
    if a[-1] != inner_b:
        raise ShapeRuleError(f"{shown}: inner dimensions {a[-1]} and {inner_b} differ", recovered)
    if batch is None:
        raise ShapeRuleError(f"{shown}: batch dimensions do not broadcast", recovered)
    return recovered


def _einsum(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    subscripts, *operands = args
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ShapeRuleError("einsum(): ellipsis (...) in subscripts is not supported", ())
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    letters = [c for term in terms for c in term]
    if not all(c.isascii() and c.isalpha() for c in letters + list(out)):
        message = f"einsum(): subscripts '{subscripts}' may use only letters, ',' and '->'"
        raise ShapeRuleError(message, ())
    if len(terms) != len(operands):
        raise ShapeRuleError(
            f"einsum(): subscripts '{subscripts}' name {len(terms)} operand(s), got {len(operands)}", ()
        )
    if not arrow:
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    sizes: dict[str, Dim] = {}
    problem = None
    for position, (term, shape) in enumerate(zip(terms, operands), start=1):
        if len(term) != len(shape):
            problem = problem or (
                f"einsum(): operand {position} has shape {shape_str(shape)} "
                f"but its subscripts '{term}' name {len(term)} axes"
            )
            continue
        for letter, dim in zip(term, shape):
            seen = sizes.setdefault(letter, dim)
            if seen == dim or dim == Dim.const(1):
                continue
            if seen == Dim.const(1):
                sizes[letter] = dim
            else:
                problem = problem or (f"einsum(): index '{letter}' is {seen} in one place and {dim} in another")
    for letter in out:
        if letter not in letters or out.count(letter) > 1:
            message = f"einsum(): output index '{letter}' is unknown or repeated in '{subscripts}'"
            raise ShapeRuleError(message, ())
    result = tuple(sizes.get(c, Dim.const(1)) for c in out)
    if problem:
        raise ShapeRuleError(problem, result)
    return result


def _onehot(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return args[0] + (args[1],)


def _stack(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    arrays = args[0]
    first = arrays[0] if arrays else ()
    for shape in arrays[1:]:
        if shape != first:
            raise ShapeRuleError(
                f"stack() needs equal shapes, got {shape_str(first)} and {shape_str(shape)}",
                (Dim.const(len(arrays)),) + shape,
            )
    axis = 0 if axis is None else axis
    if isinstance(axis, tuple) or not -len(first) - 1 <= axis <= len(first):
        message = f"stack(): axis {axis} is out of range for a {len(first) + 1}-D result"
        raise ShapeRuleError(message, (Dim.const(len(arrays)),) + first)
    axis %= len(first) + 1
    return first[:axis] + (Dim.const(len(arrays)),) + first[axis:]


def _concatenate(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    arrays = args[0]
    if not arrays or not arrays[0]:
        raise ShapeRuleError("concatenate() needs a list of arrays with at least one axis", ())
    first = arrays[0]
    axis = 0 if axis is None else axis
    if isinstance(axis, tuple) or not -len(first) <= axis < len(first):
        message = f"concatenate(): axis {axis} is out of range for shape {shape_str(first)}"
        raise ShapeRuleError(message, first)
    axis %= len(first)
    total = Dim.const(0)
    for shape in arrays:
        same = len(shape) == len(first) and all(d == e for i, (d, e) in enumerate(zip(shape, first)) if i != axis)
        if not same:
            raise ShapeRuleError(
                f"concatenate() along axis {axis} needs matching shapes, got {shape_str(first)} and {shape_str(shape)}",
                first,
            )
        total = total + shape[axis]
    return first[:axis] + (total,) + first[axis + 1 :]


# -- the table ---------------------------------------------------------------------------

_REDUCE = frozenset({"axis", "keepdims"})


def _params(text: str) -> tuple[tuple[str, str], ...]:
    """``"x, shape:shape"`` -> ``(("x", "array"), ("shape", "shape"))``."""
    out = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        if item.startswith("*"):
            out.append((item, "*array"))
        else:
            pname, _, kind = item.partition(":")
            out.append((pname, kind or "array"))
    return tuple(out)


def _table(*rows: tuple) -> dict[str, Function]:
    """Rows ``(names, params, rule[, keywords][, fields])``: ``fields`` (a dict) sets further
    :class:`Function` fields, such as ``complex_safe``."""
    table = {}
    for names, params, rule, *rest in rows:
        fields = rest.pop() if rest and isinstance(rest[-1], dict) else {}
        for fname in names.split():
            table[fname] = Function(fname, _params(params), rule, frozenset(*rest), **fields)
    return table


TABLE: dict[str, Function] = _table(
    ("sum mean prod logsumexp norm", "x", _reduction, _REDUCE),
    ("max min amax amin", "x", _reduction, _REDUCE),
    ("argmax argmin", "x", _arg_reduction, _REDUCE),
    ("var std", "x", _reduction, _REDUCE | {"ddof"}),
    ("cumsum cumprod", "x", _cumulative, {"axis"}),
    ("exp log log1p expm1 sqrt square sin cos tanh sigmoid softplus relu abs", "x", _same),
    ("sign erf log_sigmoid abs2 reciprocal", "x", _same),
    ("gelu", "x", _same, {"approximate"}),
    ("logaddexp", "a, b", _broadcast_all),
    ("clip", "x, lo, hi", _broadcast_all),
    ("tril triu", "x", _triangular, {"k"}),
    ("ones_like zeros_like", "x", _same),
    ("maximum minimum", "a, b", _broadcast_all),
    ("where", "condition, a, b", _broadcast_all),
    ("softmax log_softmax", "x", _softmax, {"axis"}),
    ("trace det logdet", "A", _matrix_scalar),
    ("inv", "A", _inv),
    ("solve", "A, B", _solve),
    ("diag", "x", _diag),
    ("outer", "a, b", _outer),
    ("kron", "A, B", _kron),
    ("eye", "n:size", _eye),
    ("ones zeros", "shape:shape", _same),
    ("transpose", "x", _transpose),
    ("reshape", "x, shape:newshape", _reshape),
    ("dot", "a, b", _dot),
    ("einsum", "subscripts:subscripts, *operands", _einsum),
    ("onehot", "y, k:size", _onehot),
    ("stack", "arrays:arrays", _stack, {"axis"}),
    ("concatenate", "arrays:arrays", _concatenate, {"axis"}),
    # linear algebra (fn-linalg)
    ("cholesky", "A", _inv),
    ("solve_triangular", "A, B", _solve, {"lower"}),
    ("eigvalsh", "A", _eigvalsh, (), {"complex_safe": False}),
    ("eigvecsh", "A", _inv, (), {"complex_safe": False}),
    ("pinv", "A", _pinv),
)

WHITELIST: frozenset[str] = frozenset(TABLE)
