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
``axes``        static axes: an integer literal or a tuple of them (transpose, expand_dims, squeeze);
                also accepted as the keyword ``axis=``
``index``       an integer array: ``arange(n)`` or an integer input (never differentiated)
``widths``      static pad widths: an integer, ``(before, after)`` or one such pair per axis

A kind written with a trailing ``?`` (``"axes:axes?"``) is optional; optional parameters come last.
A function with ``complex_safe=False`` does not continue analytically off the real axis
(``real(x + i h v)`` drops the step): the oracle uses finite differences for a loss that calls it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .dims import Dim, Ranges, Shape, at_text, bounds, broadcast, extreme, non_integral, shape_str, size

__all__ = ["Function", "ShapeRuleError", "TABLE", "WHITELIST", "matmul_shape", "kernel"]

Axis = int | tuple[int, ...] | None


class ShapeRuleError(Exception):
    """A shape rule failed; ``recovered`` is the shape to carry on with (and ``hint`` what to do)."""

    def __init__(self, message: str, recovered: Shape, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.recovered = recovered
        self.hint = hint


@dataclass(frozen=True)
class Function:
    """One whitelisted function.

    ``params`` are ``(name, kind)`` pairs (see the module docstring); ``keywords`` the subset
    of ``{"axis", "keepdims", "ddof", "k", "approximate", "stride", "padding", "dilation"}`` it
    accepts (static literals); ``rule(name, args, axis, keepdims)`` maps the processed arguments
    (shapes, folded dims, strings) to the result shape. Besides axis= and keepdims=, the
    keywords in ``shaping`` change the shape: such a rule is also called with the dims' ranges
    and their values, ``rule(name, args, axis, keepdims, ranges=..., stride=...)``, so that it
    can check its output sizes over the whole box (a kernel larger than the input).
    """

    name: str
    params: tuple[tuple[str, str], ...]
    rule: Callable[..., Shape]
    keywords: frozenset[str] = frozenset()
    shaping: frozenset[str] = frozenset()
    complex_safe: bool = True  # False: the complex step must not be used through it (see the module docstring)
    optional: int = 0  # the last ``optional`` params may be left out

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p for p, _ in self.params)})"

    @property
    def required(self) -> int:
        """How many positional arguments a call must give."""
        return len(self.params) - self.variadic - self.optional

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


def _aligned_product(a: Shape, b: Shape) -> Shape:
    """The product of two shapes axis by axis, aligned at their last axes, the shorter one
    padded with 1s in front: the shape of kron(A, B), and of tile(x, reps)."""
    rank = max(len(a), len(b))
    one = (Dim.const(1),)
    return tuple(x * y for x, y in zip(one * (rank - len(a)) + a, one * (rank - len(b)) + b))


def _kron(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return _aligned_product(*args)


def _eye(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return (args[0], args[0])


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


def _einsum_terms(subscripts: str, operands: list) -> tuple[list[str], list[str], str]:
    """The operands' subscripts, every letter they use (with repeats) and the output's subscripts
    (implicit output: the letters used once, sorted, after '...' if any operand has one)."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    named = [t.replace("...", "") for t in terms]
    letters = [c for term in named for c in term]
    if not all(c.isascii() and c.isalpha() for c in letters + list(out.replace("...", ""))):
        message = f"einsum(): subscripts '{subscripts}' may use only letters, ',', '->' and '...'"
        raise ShapeRuleError(message, ())
    if any(t.count("...") > 1 for t in terms + [out]):
        raise ShapeRuleError(f"einsum(): subscripts '{subscripts}' use '...' twice in one operand", ())
    if len(terms) != len(operands):
        raise ShapeRuleError(
            f"einsum(): subscripts '{subscripts}' name {len(terms)} operand(s), got {len(operands)}", ()
        )
    ellipsis = any("..." in t for t in terms)
    if not arrow:
        out = ("..." if ellipsis else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return terms, letters, out


def _einsum(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    subscripts, *operands = args
    terms, letters, out = _einsum_terms(subscripts, operands)
    sizes: dict[str, Dim] = {}
    problem = None
    broadcast_part: Shape | None = ()
    spans: list[Shape] = []
    for position, (term, shape) in enumerate(zip(terms, operands), start=1):
        bare = term.replace("...", "")
        if "..." in term and len(shape) >= len(bare):  # the '...' covers the axes the letters leave
            at = term.index("...")
            width = len(shape) - len(bare)
            spans.append(shape[at : at + width])
            broadcast_part = broadcast(broadcast_part, spans[-1]) if broadcast_part is not None else None
            shape = shape[:at] + shape[at + width :]
        if len(bare) != len(shape) or ("..." in term and len(shape) < len(bare)):
            problem = problem or (
                f"einsum(): operand {position} has shape {shape_str(shape)} "
                f"but its subscripts '{term}' name {len(bare)} axes"
            )
            continue
        for letter, dim in zip(bare, shape):
            seen = sizes.setdefault(letter, dim)
            if seen == dim or dim == Dim.const(1):
                continue
            if seen == Dim.const(1):
                sizes[letter] = dim
            else:
                problem = problem or (f"einsum(): index '{letter}' is {seen} in one place and {dim} in another")
    if broadcast_part is None:
        shown = " and ".join([", ".join(shape_str(a) for a in spans[:-1]), shape_str(spans[-1])])
        problem = problem or f"einsum(): the '...' axes {shown} do not broadcast"
        broadcast_part = spans[-1]
    bare_out = out.replace("...", "")
    for letter in bare_out:
        if letter not in letters or bare_out.count(letter) > 1:
            message = f"einsum(): output index '{letter}' is unknown or repeated in '{subscripts}'"
            raise ShapeRuleError(message, ())
    if broadcast_part and "..." not in out:
        problem = problem or (
            f"einsum(): subscripts '{subscripts}' broadcast over {shape_str(broadcast_part)} by '...' "
            "but the output has no '...'"
        )
    head, _, tail = out.partition("...")
    result = tuple(sizes.get(c, Dim.const(1)) for c in head)
    if "..." in out:
        result += tuple(broadcast_part)
    result += tuple(sizes.get(c, Dim.const(1)) for c in tail)
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


# -- convolutions and pooling (torch's NCHW semantics) -----------------------------------
#
# Output sizes are exact polynomials in the user's dims: ``(H + 2p - d(k - 1) - 1) / s + 1``
# is kept only where the stride divides for every size in the ranges (a derived input size such
# as ``2 * h + 1`` makes it so), so that the shapes of the backward passes simplify: the weight
# gradient's ``H - (H - k + 1) + 1`` is ``k``, the transposed convolution of the output gives
# back ``H``. A floor that rounds down would leave sizes no claim could match.

_SPATIAL = {"conv1d": 1, "conv2d": 2, "conv_transpose1d": 1, "conv_transpose2d": 2, "max_pool2d": 2, "avg_pool2d": 2}
_AXES = {1: ("L",), 2: ("H", "W")}
_KERNEL = {1: ("k",), 2: ("kH", "kW")}


def _layout(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(names) + ")"


def _per_axis(name: str, key: str, value: Any, nd: int, low: int, recovered: Shape) -> tuple[int, ...]:
    values = value if isinstance(value, tuple) else (value,) * nd
    if len(values) != nd:
        message = f"{name}(): {key}= takes {nd} integers (one per spatial axis), got {value}"
        raise ShapeRuleError(message, recovered)
    if any(v < low for v in values):
        raise ShapeRuleError(f"{name}(): {key}= must be at least {low}, got {value}", recovered)
    return values


def _output_size(padded: Dim, window: Dim, stride: int) -> Dim:
    """``(padded - window) // stride + 1`` as an exact polynomial (shown with // when it is not
    one with integer coefficients)."""
    span = padded - window
    out = span.divided(stride) + Dim.const(1) if stride > 1 else span + Dim.const(1)
    if any(not isinstance(c, int) for _, c in out.terms):
        return out.written(f"({span}) // {stride} + 1")
    return out


def _check_sizes(name: str, checks: list, ranges: Ranges, recovered: Shape) -> None:
    """Every output size an integer (the stride divides) and at least 1, over the whole box."""
    for axis, extent, padded, window, stride, out in checks:
        span = padded - window
        try:
            where = non_integral(out, ranges) if stride > 1 and out.symbols <= ranges.keys() else None
        except ValueError:
            where = {}
        if where is not None:
            at = f" at {at_text(where)}" if where else ""
            raise ShapeRuleError(
                f"{name}(): stride {stride} does not divide {span} (the padded input minus the window) along "
                f"axis {axis}{at}, so the output size {out} would round down",
                recovered,
                _divide_hint(extent, span, stride),
            )
        low = bounds(out, ranges)
        if low is not None and low[0] < 1:
            value, at_corner = extreme(out, ranges, largest=False)
            found = f"is {value} at {at_text(at_corner)}" if value < 1 else f"is bounded below by {low[0]}"
            if name.startswith("conv_transpose"):
                message = (
                    f"{name}(): along axis {axis} the padding ({window} in all) can remove the whole output "
                    f"({padded}): the output size {out} {found}"
                )
                raise ShapeRuleError(message, recovered, "use less padding= or narrow the dims' ranges")
            raise ShapeRuleError(
                f"{name}(): along axis {axis} the window ({window}) can be larger than the padded input "
                f"({padded}): the output size {out} {found}",
                recovered,
                "narrow the dims' ranges, pad the input (padding=) or use a smaller kernel",
            )


def _divide_hint(size: Dim, span: Dim, stride: int) -> str:
    """How to make ``span`` (the input size plus a constant) a multiple of the stride."""
    rest = span - size
    if size.is_symbol and rest.is_const:
        r = (-rest.value) % stride
        written = f"{stride} * h + {r}" if r else f"{stride} * h"
        return (
            f"gradcheck needs exact output sizes: write the input size {size} as a derived dim such as "
            f"`{written}` (h a new dim), or pad it"
        )
    return f"gradcheck needs exact output sizes: make {span} a multiple of {stride} for every size in the ranges"


def _check_rank(name: str, what: str, shape: Shape, layout: tuple[str, ...], recovered: Shape) -> None:
    if len(shape) != len(layout):
        raise ShapeRuleError(f"{name}() needs {what} of shape {_layout(layout)}, got {shape_str(shape)}", recovered)


def _conv(
    name: str, args: list, axis: Axis, keepdims: bool, *, ranges: Ranges, stride=1, padding=0, dilation=1
) -> Shape:
    """conv1d/conv2d(x, w): x (N, C, *spatial), w (C_out, C, *kernel); conv_transpose1d/2d: w (C, C_out, *kernel)."""
    nd = _SPATIAL[name]
    transposed = name.startswith("conv_transpose")
    x, w = args
    _check_rank(name, "x", x, ("N", "C") + _AXES[nd], x)
    weight = ("C", "C_out") if transposed else ("C_out", "C")
    recovered = x[:1] + (w[1 if transposed else 0] if len(w) == nd + 2 else x[1],) + x[2:]
    _check_rank(name, "a weight", w, weight + _KERNEL[nd], recovered)
    inner = 0 if transposed else 1
    if w[inner] != x[1]:
        message = f"{name}(): x has {x[1]} channels (axis 1) but the weight takes {w[inner]} (its axis {inner})"
        raise ShapeRuleError(message, recovered)
    if transposed and isinstance(padding, str):
        message = (
            f"{name}(): padding= must be an integer or a tuple of {nd} "
            "(torch has no 'same' or 'valid' for transposed convolutions)"
        )
        raise ShapeRuleError(message, recovered)
    strides = _per_axis(name, "stride", stride, nd, 1, recovered)
    dilations = _per_axis(name, "dilation", dilation, nd, 1, recovered)
    if padding == "same":
        if any(s != 1 for s in strides):
            raise ShapeRuleError(
                f"{name}(): padding='same' needs stride=1 (as in torch), got stride={stride}", recovered
            )
        return recovered
    pads = _per_axis(name, "padding", 0 if padding == "valid" else padding, nd, 0, recovered)
    out, checks = [], []
    for a in range(nd):
        size, k, s, p, d = x[2 + a], w[2 + a], strides[a], pads[a], dilations[a]
        window = Dim.const(d) * (k - Dim.const(1)) + Dim.const(1)
        if transposed:  # the full output (size - 1) s + window, less p at both ends
            full = Dim.const(s) * (size - Dim.const(1)) + window
            out.append(full - Dim.const(2 * p))
            checks.append((2 + a, size, full, Dim.const(2 * p), 1, out[-1]))
        else:
            padded = size + Dim.const(2 * p)
            out.append(_output_size(padded, window, s))
            checks.append((2 + a, size, padded, window, s, out[-1]))
    result = recovered[:2] + tuple(out)
    _check_sizes(name, checks, ranges, result)
    return result


def _pool(name: str, args: list, axis: Axis, keepdims: bool, *, ranges: Ranges, stride=None) -> Shape:
    """max_pool2d/avg_pool2d(x, k): x (N, C, H, W), windows of k x k at stride= (default k)."""
    x, k = args
    _check_rank(name, "x", x, ("N", "C", "H", "W"), x)
    if not k.is_const:
        raise ShapeRuleError(f"{name}(): the pool size must be an integer literal, got {k}", x)
    if k.value < 1:
        raise ShapeRuleError(f"{name}(): the pool size must be at least 1, got {k.value}", x)
    strides = _per_axis(name, "stride", k.value if stride is None else stride, 2, 1, x)
    out = [_output_size(x[2 + a], k, strides[a]) for a in range(2)]
    result = x[:2] + tuple(out)
    _check_sizes(name, [(2 + a, x[2 + a], x[2 + a], k, strides[a], out[a]) for a in range(2)], ranges, result)
    return result


_WINDOW = frozenset({"stride", "padding", "dilation"})
_WINDOWED = {
    name: Function(name, (("x", "array"), ("w", "array")), _conv, _WINDOW, _WINDOW)
    for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")
} | {
    name: Function(name, (("x", "array"), ("k", "size")), _pool, frozenset({"stride"}), frozenset({"stride"}))
    for name in ("max_pool2d", "avg_pool2d")
}
# -- fn-index: gathers and shape manipulation ---------------------------------------------


def _one_axis(name: str, axis: Axis, ndim: int, recovered: Shape, *, what: str = "shape") -> int:
    """One integer axis of an array of ``ndim`` axes (``what``: how to name it in the message)."""
    if isinstance(axis, tuple):
        raise ShapeRuleError(f"{name}() takes one axis= (an integer), not a tuple", recovered)
    if not -ndim <= axis < ndim:
        raise ShapeRuleError(f"{name}(): axis {axis} is out of range for {what}", recovered)
    return axis % ndim


def _expand_dims(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if axis is None:
        raise ShapeRuleError(f"{name}() needs axis (an integer or a tuple of integers)", shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    rank = len(shape) + len(axes)
    placed: list[int] = []
    for a in axes:
        if not -rank <= a < rank:
            raise ShapeRuleError(f"{name}(): axis {a} is out of range for a {rank}-D result", shape)
        if a % rank in placed:
            raise ShapeRuleError(f"{name}(): axis {a} is repeated", shape)
        placed.append(a % rank)
    rest = iter(shape)
    return tuple(Dim.const(1) if i in placed else next(rest) for i in range(rank))


def _squeeze(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    one = Dim.const(1)
    if axis is None:  # only literal 1s: shapes.py refuses a dim that may be 1 at run time
        return tuple(d for d in shape if d != one)
    try:
        axes = _axes(name, shape, axis)
    except ShapeRuleError as exc:
        exc.recovered = shape
        raise
    for a in axes:
        if shape[a] != one:
            raise ShapeRuleError(f"{name}(): axis {a} has size {shape[a]}, not 1", shape)
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _tile(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return _aligned_product(*args)


def _repeat(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape, times = args
    if axis is None:  # numpy flattens
        return (times * size(shape),)
    a = _one_axis(name, axis, len(shape), shape, what=f"shape {shape_str(shape)}")
    return shape[:a] + (times * shape[a],) + shape[a + 1 :]


def _pad(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape, widths = args
    if widths is None:
        raise ShapeRuleError(
            f"{name}(): pad_width must be an integer, (before, after), or one (before, after) pair per axis", shape
        )
    if len(widths) not in (1, len(shape)):
        message = f"{name}(): pad_width has {len(widths)} (before, after) pairs but the array has {len(shape)} axes"
        raise ShapeRuleError(message, shape)
    pairs = widths * len(shape) if len(widths) == 1 else widths
    return tuple(before + d + after for d, (before, after) in zip(shape, pairs))


def _transpose(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape = args[0]
    if axis is None:
        return tuple(reversed(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    n = len(shape)
    if len(axes) != n or not all(-n <= a < n for a in axes) or len({a % n for a in axes}) != n:
        shown = "(" + ", ".join(str(a) for a in axes) + ("," if len(axes) == 1 else "") + ")"
        message = f"{name}(): axes {shown} are not a permutation of the {n} axes of {shape_str(shape)}"
        raise ShapeRuleError(message, tuple(reversed(shape)))
    return tuple(shape[a % n] for a in axes)


def _take_along_axis(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    shape, idx = args
    if axis is None:
        raise ShapeRuleError(f"{name}() needs axis= (an integer)", idx)
    if len(idx) != len(shape):
        message = f"{name}(): indices {shape_str(idx)} need as many axes as the array {shape_str(shape)}"
        raise ShapeRuleError(message, idx)
    a = _one_axis(name, axis, len(shape), idx, what=f"shape {shape_str(shape)}")
    out = []
    for i, (d, e) in enumerate(zip(shape, idx)):
        both = broadcast((d,), (e,))
        if i != a and both is None:
            message = (
                f"{name}(): the array {shape_str(shape)} and indices {shape_str(idx)} do not broadcast on axis {i}"
            )
            raise ShapeRuleError(message, idx)
        out.append(e if i == a else both[0])
    return tuple(out)


def _arange(name: str, args: list, axis: Axis, keepdims: bool) -> Shape:
    return (args[0],)


# -- the table ---------------------------------------------------------------------------

_REDUCE = frozenset({"axis", "keepdims"})


def _params(text: str) -> tuple[tuple[tuple[str, str], ...], int]:
    """``"x, shape:shape, axes:axes?"`` -> ``((("x", "array"), ("shape", "shape"), ("axes", "axes")), 1)``:
    the parameters and how many (trailing) are optional."""
    out = []
    optional = 0
    for item in filter(None, (p.strip() for p in text.split(","))):
        if item.startswith("*"):
            out.append((item, "*array"))
        else:
            pname, _, kind = item.partition(":")
            optional += kind.endswith("?")
            out.append((pname, kind.rstrip("?") or "array"))
    return tuple(out), optional


def _table(*rows: tuple) -> dict[str, Function]:
    """Rows ``(names, params, rule[, keywords][, fields])``: ``fields`` (a dict) sets further
    :class:`Function` fields, such as ``complex_safe``."""
    table = {}
    for names, params, rule, *rest in rows:
        keywords = rest[0] if rest else ()
        options = rest[1] if len(rest) > 1 else {}
        parsed, optional = _params(params)
        for fname in names.split():
            table[fname] = Function(fname, parsed, rule, frozenset(keywords), optional=optional, **options)
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
    ("reshape", "x, shape:newshape", _reshape),
    ("dot", "a, b", _dot),
    ("einsum", "subscripts:subscripts, *operands", _einsum),
    ("onehot", "y, k:size", _onehot),
    ("stack", "arrays:arrays", _stack, {"axis"}),
    ("concatenate", "arrays:arrays", _concatenate, {"axis"}),
    # -- fn-index: complex data, gathers, shape manipulation --
    ("conj real imag", "x", _same, (), {"complex_safe": False}),
    ("arange", "n:size", _arange),
    ("take_along_axis", "a, indices:index, axis:axes?", _take_along_axis, {"axis"}),
    ("expand_dims", "x, axis:axes?", _expand_dims, {"axis"}),
    ("squeeze", "x, axis:axes?", _squeeze, {"axis"}),
    ("tile", "x, reps:shape", _tile),
    ("repeat", "x, repeats:size, axis:axes?", _repeat, {"axis"}),
    ("pad", "x, pad_width:widths", _pad),
    ("transpose", "x, axes:axes?", _transpose, {"axes"}),
    # linear algebra (fn-linalg)
    ("cholesky", "A", _inv),
    ("solve_triangular", "A, B", _solve, {"lower"}),
    ("eigvalsh", "A", _eigvalsh, (), {"complex_safe": False}),
    ("eigvecsh", "A", _inv, (), {"complex_safe": False}),
    ("pinv", "A", _pinv),
)
TABLE.update(_WINDOWED)

WHITELIST: frozenset[str] = frozenset(TABLE)
