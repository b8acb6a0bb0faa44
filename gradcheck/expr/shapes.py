"""Static symbolic shape inference, before any number is drawn.

Every node gets a symbolic shape (a tuple of :class:`Dim`). Inference does not stop at the
first problem: it records the error, carries on with a recovered shape (the right operand's
for an elementwise mismatch; left rows by right columns for ``@``) and raises the *first*
error at the end, with ``recovered`` set to the shape inferred for the whole expression.
That lets the caller say both "this product is wrong" and "the claim would have had shape
(M, in)".

Each node's element count is also bounded over the whole box of dim ranges (interval
arithmetic, :func:`~gradcheck.expr.dims.bounds`), so that ``ones(10**9)``, a ``kron`` blow-up
or ``ones(((M - N)**2,))`` (0 at both corners, 4e8 between) is refused here and never allocated.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import BudgetError, GradcheckError, ShapeError
from . import ir
from .dims import (
    Dim,
    DimArithmeticError,
    Shape,
    at_text,
    bounds,
    broadcast,
    combine,
    most_elements,
    non_integral,
    shape_str,
    size,
)
from .functions import TABLE, Function, ShapeRuleError, matmul_shape

__all__ = ["ShapeEnv", "SubtreeShapes", "infer_shape"]

# functions that move or copy entries: of an integer array, an integer array with the same values
_KEEPS_VALUES = frozenset({"expand_dims", "squeeze", "reshape", "transpose", "tile", "repeat"})

_ELEMENTWISE = {
    "+": "adds {L} and {R}",
    "-": "subtracts {R} from {L}",
    "*": "multiplies {L} by {R}",
    "/": "divides {L} by {R}",
    "**": "raises {L} to the power {R}",
}
_STATIC_HINT = (
    "shape arguments may use integer literals, dim names, + - *, / by an integer and ** with a literal exponent"
)


_ELEMENTWISE_OF = {  # max(a, b) is numpy's max with axis=b: say what was probably meant
    name: f"{name}() reduces one array (numpy's second argument is the axis); elementwise: {pair}(a, b)"
    for name, pair in [("max", "maximum"), ("amax", "maximum"), ("min", "minimum"), ("amin", "minimum")]
}


@dataclass(frozen=True)
class ShapeEnv:
    """What names mean, shape-wise.

    Attributes
    ----------
    arrays : mapping of str to Shape
        Inputs, graph nodes, cotangent/tangent names, define parameters.
    scalars : frozenset of str
        Constants and dim names usable as integer scalars (shape ``()``).
    dims : mapping of str to (int, int)
        Every dim symbol and its inclusive size range; used to fold shape arguments, check
        indices and bound memory.
    defines : mapping of str to (params, body, body_text)
        The spec's helper functions.
    max_elements : int
        Largest element count any node may have anywhere in the dims' ranges.
    """

    arrays: Mapping[str, Shape]
    scalars: frozenset[str]
    dims: Mapping[str, tuple[int, int]]
    defines: Mapping[str, tuple[tuple[str, ...], ir.Expr, str]]
    max_elements: int = 10_000_000
    # when set, every inferred shape is appended here (helper bodies included): the problem
    # charges the largest intermediate of an evaluation against --memory
    record: list | None = None
    # integer inputs (labels) and their half-open value range [lo, hi) (ints, dim names or Dims):
    # the names that may index an array (``lp[arange(M), y]``, ``take_along_axis``)
    integers: Mapping[str, tuple] = field(default_factory=dict)


def infer_shape(expr: ir.Expr, env: ShapeEnv, text: str) -> Shape:
    """The symbolic shape of ``expr``.

    Parameters
    ----------
    expr : ir.Expr
        A parsed expression.
    env : ShapeEnv
        Shapes of the names it may use.
    text : str
        The expression text, for messages (spans index into it).

    Returns
    -------
    Shape

    Raises
    ------
    ShapeError
        The first mismatch, unknown name or budget overrun, with ``source=text`` and a span
        but no location; its ``recovered`` attribute holds the shape inferred for the whole
        expression despite the error.
    """
    return _Inferrer(env, text, ()).run(expr)


class _Inferrer:
    def __init__(
        self,
        env: ShapeEnv,
        text: str,
        calling: tuple[str, ...],
        bound: tuple[tuple[str, Shape], ...] = (),
        memo: dict | None = None,
    ) -> None:
        self.env = env
        self.text = text
        self.calling = calling  # defines being expanded, to refuse recursion
        # Helper parameters bound on the way here (their bodies see the caller's names), and
        # one inference per (helper, bindings): a helper that calls another twice costs it
        # once, not 2**depth times.
        self.bound = bound
        self.memo: dict = {} if memo is None else memo
        self.first: ShapeError | None = None
        self.lo = {s: r[0] for s, r in env.dims.items()}
        self.hi = {s: r[1] for s, r in env.dims.items()}
        self.integers = {n: (_as_dim(lo), _as_dim(hi)) for n, (lo, hi) in env.integers.items()}

    def run(self, expr: ir.Expr) -> Shape:
        shape = self.infer(expr)
        if self.first is not None:
            self.first.recovered = shape
            raise self.first
        return shape

    def error(self, message: str, span: ir.Span, hint: str | None = None, kind: type = ShapeError) -> None:
        if self.first is None:
            self.first = kind(message, source=self.text, span=span, hint=hint)

    def src(self, node: ir.Expr) -> str:
        return self.text[node.span[0] : node.span[1]]

    def range(self, dim: Dim) -> tuple[int, int] | None:
        """Safe bounds of ``dim`` over the whole box of dim ranges (not only its two corners)."""
        return bounds(dim, self.env.dims)

    # -- nodes ---------------------------------------------------------------------------

    def infer(self, node: ir.Expr) -> Shape:
        shape = self.dispatch(node)
        if not isinstance(node, (ir.Name, ir.Number)):
            self.check_budget(node, shape)
            if self.env.record is not None:
                self.env.record.append(shape)
        return shape

    def dispatch(self, node: ir.Expr) -> Shape:
        if isinstance(node, ir.Number):
            return ()
        if isinstance(node, ir.Name):
            return self.name(node)
        if isinstance(node, ir.Unary):
            return self.infer(node.operand)
        if isinstance(node, ir.Transpose):
            return tuple(reversed(self.infer(node.operand)))
        if isinstance(node, ir.Binary):
            return self.binary(node)
        if isinstance(node, ir.Compare):
            return self.compare(node)
        if isinstance(node, ir.Call):
            return self.call(node)
        if isinstance(node, ir.Index):
            return self.index(node)
        if isinstance(node, ir.TupleExpr):
            self.error("a tuple is not an array here", node.span)
            return ()
        if isinstance(node, ir.String):
            self.error("a string is only allowed as the first argument of einsum()", node.span)
            return ()
        raise TypeError(f"unknown IR node {type(node).__name__}")

    def name(self, node: ir.Name) -> Shape:
        if node.id in self.env.arrays:
            return tuple(self.env.arrays[node.id])
        if node.id in self.env.scalars or node.id in self.env.dims:
            return ()
        if node.id in self.env.defines or node.id in TABLE:
            self.error(f"'{node.id}' is a function; call it as {node.id}(...)", node.span)
        else:
            self.error(f"unknown name '{node.id}'", node.span)
        return ()

    def binary(self, node: ir.Binary) -> Shape:
        left = self.infer(node.left)
        right = self.infer(node.right)
        if node.op == "@":
            try:
                return matmul_shape(left, right)
            except ShapeRuleError as exc:
                self.error(f"`{self.src(node)}` {exc.message}", node.span)
                return exc.recovered
        shape = broadcast(left, right)
        if shape is None:
            what = _ELEMENTWISE[node.op].format(L=shape_str(left), R=shape_str(right))
            hint = None
            if len(left) > 1 and tuple(reversed(left)) == right:
                hint = "the shapes differ by a transpose: is a `.T` missing or extra?"
            self.error(f"`{self.src(node)}` {what}", node.span, hint)
            return right
        return shape

    def compare(self, node: ir.Compare) -> Shape:
        left = self.infer(node.left)
        right = self.infer(node.right)
        shape = broadcast(left, right)
        if shape is None:
            message = f"`{self.src(node)}` compares {shape_str(left)} with {shape_str(right)}"
            self.error(message, node.span)
            return right
        return shape

    # -- calls ---------------------------------------------------------------------------

    def call(self, node: ir.Call) -> Shape:
        if node.func in self.env.defines:
            return self.define(node)
        function = TABLE.get(node.func)
        if function is None:
            self.error(f"unknown function '{node.func}'", (node.span[0], node.span[0] + len(node.func)))
            for arg in node.args:
                self.infer(arg)
            return ()
        args = self.arguments(node, function)
        if args is None:
            return ()
        axis, keepdims = self.keywords(node, function)
        kinds = [kind for _, kind in function.params]
        if "axes" in kinds and len(args) > kinds.index("axes"):  # expand_dims(x, 0): the axis given by position
            given = args.pop(kinds.index("axes"))
            if any(k in ("axis", "axes") for k, _ in node.kwargs):
                self.error(f"{node.func}(): axis is given twice (as an argument and as axis=)", node.span)
            axis = given if given is not None else axis
        try:
            if function.shaping:  # stride=, padding=, ...: the rule checks its sizes over the ranges
                options = {k: _static(v) for k, v in node.kwargs if k in function.shaping}
                result = function.rule(node.func, args, axis, keepdims, ranges=self.env.dims, **options)
            else:
                result = function.rule(node.func, args, axis, keepdims)
        except ShapeRuleError as exc:
            self.error(exc.message, node.span, exc.hint)
            return exc.recovered
        if node.func == "squeeze" and axis is None:
            self.squeezable(node, args[0])
        if node.func == "take_along_axis" and isinstance(axis, int) and len(args[0]) == len(args[1]):
            self.index_values(node, node.args[1], args[0][axis])
        ddof = next((v.value for k, v in node.kwargs if k == "ddof" and isinstance(v, ir.Number)), 0)
        if ddof > 0 and "ddof" in function.keywords:
            self.degrees_of_freedom(node, args[0], axis, int(ddof))
        return result

    def degrees_of_freedom(self, node: ir.Call, shape: Shape, axis, ddof: int) -> None:
        """var/std divide by (entries - ddof): refuse a ddof that some drawn dims reach."""
        axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
        count = size(tuple(shape[a % len(shape)] for a in axes)) if shape else Dim.const(1)
        head = f"{node.func}(): ddof={ddof} leaves no degrees of freedom"
        if count.is_const:
            if count.value <= ddof:
                self.error(f"{head}: {count} entr{'y' if count.value == 1 else 'ies'}", node.span)
            return
        span = self.range(count)
        if span is not None and span[0] <= ddof:
            message = f"{head} when {count} = {span[0]} ({count} ranges over {span[0]}..{span[1]})"
            self.error(
                message, node.span, f"raise the lower bounds under dims: so that {count} > {ddof}, or lower ddof="
            )

    def arguments(self, node: ir.Call, function: Function) -> list | None:
        params = function.params
        fixed = function.required
        most = len(params) - function.variadic
        if len(node.args) < fixed or (len(node.args) > most and not function.variadic):
            wanted = f"at least {fixed}" if function.variadic else str(fixed)
            if function.optional:
                wanted = f"{fixed} to {most}"
            plural = "" if fixed == 1 and not function.optional else "s"
            self.error(
                f"{function.signature} takes {wanted} argument{plural}, got {len(node.args)}",
                node.span,
                _ELEMENTWISE_OF.get(node.func),
            )
            for arg in node.args:
                if not isinstance(arg, (ir.String, ir.TupleExpr)):
                    self.infer(arg)
            return None
        out = []
        for position, arg in enumerate(node.args):
            pname, kind = params[min(position, len(params) - 1)]
            out.append(self.argument(node, pname, kind, arg))
        return out

    def argument(self, node: ir.Call, pname: str, kind: str, arg: ir.Expr):
        if kind in ("array", "*array"):
            if isinstance(arg, ir.TupleExpr):
                message = f"{node.func}(): argument '{pname}' must be an array, not a list or tuple"
                self.error(message, arg.span)
                return ()
            return self.infer(arg)
        if kind in ("shape", "newshape"):
            items = arg.items if isinstance(arg, ir.TupleExpr) else (arg,)
            return tuple(self.static_dim(item, allow_wild=kind == "newshape") for item in items)
        if kind == "size":
            return self.static_dim(arg)
        if kind == "subscripts":
            return arg.value if isinstance(arg, ir.String) else ""
        if kind == "axes":
            return self.static_axes(node, pname, arg)
        if kind == "index":
            return self.integer_array(arg)
        if kind == "widths":
            return self.widths(arg)
        if kind == "arrays":
            if not isinstance(arg, ir.TupleExpr):
                self.error(f"{node.func}() needs a list of arrays: {node.func}([a, b])", arg.span)
                return [self.infer(arg)]
            if not arg.items:
                self.error(f"{node.func}() needs at least one array", arg.span)
            return [self.argument(node, pname, "array", item) for item in arg.items]
        raise ValueError(f"unknown parameter kind {kind!r}")

    def keywords(self, node: ir.Call, function: Function) -> tuple[int | tuple[int, ...] | None, bool]:
        axis: int | tuple[int, ...] | None = None
        keepdims = False
        for key, value in node.kwargs:
            if key not in function.keywords:
                if function.keywords:
                    names = [f"{k}=" for k in sorted(function.keywords)]
                    accepted = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
                    message = f"{node.func}() does not take {key}= (only {accepted})"
                else:
                    message = f"{node.func}() takes no keyword arguments"
                self.error(message, value.span)
            elif key in ("axis", "axes"):
                if isinstance(value, ir.TupleExpr):
                    axis = tuple(int(item.value) for item in value.items if isinstance(item, ir.Number))
                elif isinstance(value, ir.Number):
                    axis = int(value.value)
            elif key == "keepdims" and isinstance(value, ir.Number):
                keepdims = bool(value.value)
        return axis, keepdims

    def define(self, node: ir.Call) -> Shape:
        params, body, body_text = self.env.defines[node.func]
        heading = f"in {node.func}({', '.join(params)}) = {body_text}: "
        arg_shapes = [self.argument(node, p, "array", a) for p, a in zip(params, node.args)]
        for extra in node.args[len(params) :]:
            self.argument(node, "", "array", extra)
        if node.func in self.calling:
            self.error(f"define '{node.func}' calls itself recursively", node.span)
            return ()
        if len(node.args) != len(params) or node.kwargs:
            plural = "" if len(params) == 1 else "s"
            got = f"{len(node.args)}" + (" and keyword arguments" if node.kwargs else "")
            self.error(
                f"{node.func}({', '.join(params)}) takes {len(params)} argument{plural}, got {got}",
                node.span,
            )
            return ()
        bindings = dict(zip(params, arg_shapes))
        labels = {p: v for p, a in zip(params, node.args) if (v := self.integer_values(a)) is not None}
        bound = tuple(sorted({**dict(self.bound), **bindings}.items()))
        key = (node.func, bound, tuple(sorted((p, str(lo), str(hi)) for p, (lo, hi) in labels.items())))
        if key not in self.memo:
            arrays = ChainMap(bindings, self.env.arrays)  # not a copy of every name per call
            scalars = self.env.scalars - set(params)
            integers = {**{n: v for n, v in self.integers.items() if n not in params}, **labels}
            inner_env = ShapeEnv(
                arrays, scalars, self.env.dims, self.env.defines, self.env.max_elements, self.env.record, integers
            )
            try:
                self.memo[key] = (
                    _Inferrer(inner_env, body_text, self.calling + (node.func,), bound, self.memo).run(body),
                    None,
                )
            except ShapeError as exc:
                self.memo[key] = (exc.recovered, exc)
        shape, exc = self.memo[key]
        if exc is not None:
            self.error(heading + exc.message, node.span, exc.hint)
        return shape

    # -- static shape arguments ----------------------------------------------------------

    def static_dim(self, node: ir.Expr, *, allow_wild: bool = False) -> Dim:
        folded = self.fold(node)
        if folded is None:
            return Dim.const(1)
        dim, interval = folded
        if allow_wild and dim == Dim.const(-1):
            return dim
        if not dim.is_const:
            dim = dim.written(self.src(node), interval)
        try:
            where = non_integral(dim, self.env.dims)
        except ValueError:
            where = {}
        if where is not None:
            at = f" at {at_text(where)} ({dim.bind(where)})" if where else ""
            self.error(f"shape argument `{self.src(node)}` is not an integer{at}", node.span, _STATIC_HINT)
            return Dim.const(1)
        bounds = self.range(dim)
        if bounds is not None and bounds[0] < 0:
            message = f"shape argument {dim} may be negative (it ranges over {bounds[0]}..{bounds[1]})"
            self.error(message, node.span)
            return Dim.const(1)
        return dim

    def fold(self, node: ir.Expr) -> tuple[Dim, tuple] | None:
        """A static shape argument: its polynomial, and an interval holding it over the dims' ranges."""
        if isinstance(node, ir.Number):
            if isinstance(node.value, bool) or not isinstance(node.value, int):
                self.error(f"shape argument {self.src(node)} is not an integer", node.span, _STATIC_HINT)
                return None
            return Dim.const(node.value), (node.value, node.value)
        if isinstance(node, ir.Name):
            if node.id in self.env.dims:
                return Dim.of(node.id), self.env.dims[node.id]
            self.error(f"shape argument '{node.id}' is not a dim", node.span, _STATIC_HINT)
            return None
        if isinstance(node, ir.Unary):
            inner = self.fold(node.operand)
            if inner is None or node.op != "-":
                return inner
            return combine("-", (Dim.const(0), (0, 0)), inner)
        if isinstance(node, ir.Binary) and node.op in ("+", "-", "*", "/", "**"):
            left, right = self.fold(node.left), self.fold(node.right)
            if left is None or right is None:
                return None
            try:
                return combine(node.op, left, right)
            except DimArithmeticError as exc:
                self.error(exc.message.format(node=self.src(node), right=self.src(node.right)), node.span, _STATIC_HINT)
                return None
        self.error(
            f"shape argument `{self.src(node)}` is not a static integer expression",
            node.span,
            _STATIC_HINT,
        )
        return None

    # -- subscripts ----------------------------------------------------------------------

    def index(self, node: ir.Index) -> Shape:
        shape = list(self.infer(node.value))
        consumed = sum(not isinstance(item, ir.IndexNewAxis) for item in node.items)
        if consumed > len(shape):
            self.error(
                f"`{self.src(node)}` has {consumed} indices but {shape_str(tuple(shape))} has {len(shape)} axes",
                node.span,
            )
            shape += [Dim.const(1)] * (consumed - len(shape))
        arrays = any(isinstance(item, ir.IndexArray) for item in node.items)
        parts: list[Dim | None] = []  # None: an advanced index (an array, or an integer beside one)
        advanced: list[Shape] = []  # the index arrays' shapes
        axis = 0
        for item in node.items:
            if isinstance(item, ir.IndexNewAxis):
                parts.append(Dim.const(1))
                continue
            dim = shape[axis]
            axis += 1
            if isinstance(item, ir.IndexInt):
                self.check_int(node, item.value, dim)
                if arrays:
                    parts.append(None)
            elif isinstance(item, ir.IndexArray):
                parts.append(None)
                advanced.append(self.integer_array(item.expr))
                self.index_values(node, item.expr, dim)
            else:
                parts.append(self.slice_length(node, item, dim))
        rest = tuple(shape[axis:])
        if not arrays:
            return tuple(p for p in parts if p is not None) + rest
        joint: Shape | None = ()
        for a in advanced:
            joint = broadcast(joint, a) if joint is not None else None
        if joint is None:
            shown = " and ".join([", ".join(shape_str(a) for a in advanced[:-1]), shape_str(advanced[-1])])
            self.error(f"`{self.src(node)}`: the index arrays {shown} do not broadcast", node.span)
            joint = advanced[-1]
        # numpy: advanced indices side by side put their shape where they stand; apart, in front
        where = [i for i, p in enumerate(parts) if p is None]
        basic = [p for p in parts if p is not None]
        if where == list(range(where[0], where[-1] + 1)):
            before = [p for p in parts[: where[0]] if p is not None]
            return tuple(before) + joint + tuple(basic[len(before) :]) + rest
        return joint + tuple(basic) + rest

    # -- integer arrays as indices ---------------------------------------------------------

    def integer_values(self, expr: ir.Expr) -> tuple[Dim, Dim] | None:
        """The half-open range [lo, hi) of an integer array expression's values, or None when it
        is not one (``arange(n)``: [0, n); an integer input: its domain)."""
        if isinstance(expr, ir.Name):
            return self.integers.get(expr.id)
        if isinstance(expr, ir.Call) and expr.func == "arange" and len(expr.args) == 1 and not expr.kwargs:
            folded = self.fold_quietly(expr.args[0])
            return (Dim.const(0), folded) if folded is not None else None
        if isinstance(expr, ir.Index) and not any(isinstance(i, ir.IndexArray) for i in expr.items):
            return self.integer_values(expr.value)  # y[:, None]: the same values
        if isinstance(expr, ir.Call) and expr.func in _KEEPS_VALUES and expr.args:
            return self.integer_values(expr.args[0])  # expand_dims(y, 1): the same values
        return None

    def fold_quietly(self, node: ir.Expr) -> Dim | None:
        first = self.first
        folded = self.fold(node)
        self.first = first  # the call's own inference reports a bad size
        return folded[0] if folded is not None else None

    def integer_array(self, expr: ir.Expr) -> Shape:
        """The shape of an index array, refusing an expression that is not one."""
        shape = self.infer(expr)
        if self.integer_values(expr) is None:
            head = "an array index must be arange(n) or an integer input (domain integers)"
            if isinstance(expr, ir.Name) and expr.id in self.env.arrays:
                self.error(f"{head}: '{expr.id}' is real", expr.span)
            elif isinstance(expr, ir.Name):
                self.error(f"{head}: '{expr.id}' is not an integer input", expr.span)
            else:
                self.error(f"{head}: `{self.src(expr)}` is not", expr.span)
        return shape

    def index_values(self, node: ir.Expr, expr: ir.Expr, dim: Dim) -> None:
        """Refuse an index array whose values may fall outside an axis of size ``dim`` somewhere in the dims' ranges."""
        values = self.integer_values(expr)
        if values is None:
            return
        lo, hi = values
        fits = self.never_negative(dim - hi) and self.never_negative(dim + lo)
        if fits:
            return
        word = "is" if dim.is_const and hi.is_const and lo.is_const else "may be"
        if isinstance(expr, ir.Call):
            what = f"it counts up to {self.ranged(hi)}"
            hint = f"index this axis with arange({dim}), or an integer input drawn in [0, {dim})"
        else:
            what = f"its values are drawn from [{lo}, {hi})"
            hint = f"draw the labels in the axis's range: domain {{integers: [0, {dim}]}} (half-open)"
            if isinstance(expr, ir.Name) and expr.id in self.env.integers:
                hint = f"give '{expr.id}' the domain {{integers: [0, {dim}]}} (half-open), so that every label fits"
        message = f"index `{self.src(expr)}` {word} out of range for {self.describe(dim)}: {what}"
        self.error(message, node.span, hint)

    def never_negative(self, d: Dim) -> bool:
        r = self.range(d)
        return r is not None and r[0] >= 0

    def ranged(self, d: Dim) -> str:
        r = self.range(d)
        return str(d) if d.is_const or r is None else f"{d} ({r[0]}..{r[1]})"

    # -- fn-index: static arguments of shape functions ------------------------------------

    def static_axes(self, node: ir.Call, pname: str, arg: ir.Expr) -> int | tuple[int, ...] | None:
        """An axis argument given by position: an integer literal or a tuple of them."""
        if isinstance(arg, ir.Number) and type(arg.value) is int:
            return arg.value
        if isinstance(arg, ir.TupleExpr) and all(isinstance(i, ir.Number) and type(i.value) is int for i in arg.items):
            return tuple(int(i.value) for i in arg.items)
        self.error(f"{node.func}(): {pname} must be an integer or a tuple of integers, not `{self.src(arg)}`", arg.span)
        return None

    def widths(self, arg: ir.Expr) -> tuple[tuple[Dim, Dim], ...] | None:
        """pad's widths: ``w``, ``(w,)``, ``(before, after)``, or pairs; None when malformed."""
        if not isinstance(arg, ir.TupleExpr):
            w = self.static_dim(arg)
            return ((w, w),)
        items = arg.items
        if all(isinstance(i, ir.TupleExpr) for i in items) and items:
            pairs = []
            for pair in items:
                if len(pair.items) != 2:
                    return None
                pairs.append((self.static_dim(pair.items[0]), self.static_dim(pair.items[1])))
            return tuple(pairs)
        if any(isinstance(i, ir.TupleExpr) for i in items) or len(items) not in (1, 2):
            return None
        dims = [self.static_dim(i) for i in items]
        return ((dims[0], dims[-1]),)

    def squeezable(self, node: ir.Call, shape: Shape) -> None:
        """squeeze(x) without axis drops the literal 1s: a dim that may be 1 would be dropped too, at run time only."""
        for d in shape:
            r = self.range(d)
            if not d.is_const and r is not None and r[0] <= 1 <= r[1]:
                self.error(
                    f"squeeze() without axis: {d} may be 1 ({d} ranges over {r[0]}..{r[1]}), and numpy would drop "
                    "it too; give axis=",
                    node.span,
                )
                return

    def describe(self, dim: Dim) -> str:
        bounds = self.range(dim)
        if dim.is_const or bounds is None:
            return f"dim {dim}"
        return f"dim {dim} ({bounds[0]}..{bounds[1]})"

    def check_int(self, node: ir.Index, i: int, dim: Dim) -> None:
        bounds = self.range(dim)
        smallest = bounds[0] if bounds is not None else 0
        if not (i < smallest if i >= 0 else -i <= smallest):
            word = "is" if dim.is_const else "may be"
            self.error(f"index {i} {word} out of range for {self.describe(dim)}", node.span)

    def slice_length(self, node: ir.Index, item: ir.IndexSlice, dim: Dim) -> Dim:
        start, stop, step = item.start, item.stop, item.step
        if dim.is_const:
            return Dim.const(len(range(*slice(start, stop, step).indices(dim.value))))
        if start is None and stop is None and step in (None, 1):
            return dim
        bounds = self.range(dim)
        smallest = bounds[0] if bounds is not None else 0
        shown = f"{'' if start is None else start}:{'' if stop is None else stop}" + (
            "" if step is None else f":{step}"
        )
        if step is not None and step != 1:
            if (start or 0) >= 0 and stop is not None and 0 <= stop <= smallest:
                return Dim.const(len(range(*slice(start, stop, step).indices(smallest))))
            message = (
                f"slice {shown} with a step is only supported within the first {smallest} "
                f"entries of {self.describe(dim)}"
            )
            self.error(message, node.span)
            return dim

        def position(bound: int | None, default: Dim) -> Dim | None:
            if bound is None:
                return default
            if abs(bound) > smallest:
                return None
            return Dim.const(bound) if bound >= 0 else dim + Dim.const(bound)

        first, last = position(start, Dim.const(0)), position(stop, dim)
        length = last - first if first is not None and last is not None else None
        if length is None or (r := self.range(length)) is None or r[0] < 0:
            self.error(f"slice {shown} may be out of range for {self.describe(dim)}", node.span)
            return dim
        return length

    # -- memory budget -------------------------------------------------------------------

    def check_budget(self, node: ir.Expr, shape: Shape) -> None:
        most = most_elements(shape, self.env.dims)
        if most is None or most[0] <= self.env.max_elements:
            return
        count, corner = most
        if corner is not None:
            what = f"would allocate {count} elements" + (f" at {at_text(corner)}" if corner else "")
        else:  # only interval arithmetic bounds it: say so, with the ranges
            symbols = sorted(set().union(*(d.symbols for d in shape)))
            ranges = ", ".join(f"{s} in {self.lo[s]}..{self.hi[s]}" for s in symbols)
            what = f"may allocate up to {count} elements for {ranges}"
        self.error(f"`{self.src(node)}` {what} (budget {self.env.max_elements})", node.span, kind=BudgetError)


def _static(value: ir.Expr):
    """A static keyword literal (the parser allows only these): an int, a tuple of ints, a string."""
    if isinstance(value, ir.TupleExpr):
        return tuple(int(item.value) for item in value.items)  # type: ignore[attr-defined]
    return value.value  # type: ignore[attr-defined]


def _as_dim(value) -> Dim:
    if isinstance(value, Dim):
        return value
    return Dim.const(value) if isinstance(value, int) else Dim.of(value)


class SubtreeShapes(_Inferrer):
    """Shape inference over many expressions that share subtrees (the repair search's candidates),
    remembering every subtree it has seen by identity: an edited candidate rebuilds only the path
    from its root to the edit, so inferring it costs that path. ``ok(e, shape)``: well-shaped and
    of that shape (errors are counted, not raised)."""

    def __init__(self, env: ShapeEnv) -> None:
        super().__init__(env, "", ())
        self.memo: dict[int, tuple[ir.Expr, object, bool]] = {}
        self.errors = 0

    def error(self, message: str, span: ir.Span, hint: str | None = None, kind: type = ShapeError) -> None:
        self.errors += 1

    def infer(self, node: ir.Expr) -> Shape:
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            self.errors += hit[2]
            return hit[1]
        before = self.errors
        shape = super().infer(node)
        self.memo[id(node)] = (node, shape, self.errors > before)
        return shape

    def ok(self, e: ir.Expr, expected) -> bool:
        self.errors = 0
        try:
            shape = self.infer(e)
        except GradcheckError:
            return False
        return self.errors == 0 and shape == tuple(expected)
