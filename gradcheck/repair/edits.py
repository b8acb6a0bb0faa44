"""The small edits a wrong claim is usually one or two of, applied to the user's own expression.

Each edit takes the claim's IR and yields ``(new_expr, Change)`` for every place it applies.
Edits are literal (raw IR constructors, no simplification), so the fixed claim prints as the
user's text with just that change (and :func:`tidy` then pushes a transpose into a product when
that leaves fewer transposes). Kinds, in the order they are tried:

``transpose``   insert or remove ``.T`` on a subexpression
``sign``        negate the claim, remove a minus sign, or flip a term's sign (``a - b`` <-> ``a + b``)
``scale``       multiply the claim by 2, 1/2, a dim, 1/dim, sqrt(dim), 1/sqrt(dim), or drop a factor
``swap``        swap the operands of ``@`` or of ``-`` (``y - p`` -> ``p - y``)
``product``     ``a * b`` with a matrix -> ``a.T @ b``, ``a @ b.T``, ... and ``@`` -> ``*``
``move``        move an elementwise factor to the other operand of ``@``
``axis``        another ``axis=`` for a reduction or softmax (or none)
``function``    ``sum`` <-> ``mean``
``helper``      replace a helper by a sibling helper of the same arity (``h`` <-> ``dh``)
``term``        drop one term of a sum, or add one term of the derived gradient
``sum``         sum over an axis, or remove a ``sum``
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..expr import ir

__all__ = ["Change", "EDIT_KINDS", "edits", "tidy"]

S: ir.Span = (0, 0)


@dataclass(frozen=True)
class Change:
    """One edit: its kind and the subexpression before and after (as IR)."""

    kind: str
    before: ir.Expr
    after: ir.Expr


@dataclass(frozen=True)
class Context:
    dims: tuple[str, ...]  # dims usable as scalars in expressions
    helpers: dict[str, int]  # helper -> arity
    terms: tuple[ir.Expr, ...]  # additive terms of the derived gradient, if any
    max_rank: int = 4


def _positions(e: ir.Expr, path: tuple = ()) -> Iterator[tuple[tuple, ir.Expr]]:
    yield path, e
    for i, child in enumerate(_children(e)):
        yield from _positions(child, path + (i,))


def _children(e: ir.Expr) -> tuple:
    if isinstance(e, (ir.Unary, ir.Transpose)):
        return (e.operand,)
    if isinstance(e, ir.Binary):
        return (e.left, e.right)
    if isinstance(e, ir.Call):
        return tuple(a for a in e.args if not isinstance(a, (ir.String, ir.TupleExpr)))
    if isinstance(e, ir.Index):
        return (e.value,)
    return ()


def _replace(e: ir.Expr, path: tuple, new: ir.Expr) -> ir.Expr:
    """``e`` with the node at ``path`` replaced; the rebuilt ancestors lose their spans (their
    text changed), every untouched subtree keeps its own (it prints as the user wrote it)."""
    if not path:
        return new
    i, rest = path[0], path[1:]
    if isinstance(e, ir.Unary):
        return ir.Unary(S, e.op, _replace(e.operand, rest, new))
    if isinstance(e, ir.Transpose):
        return ir.Transpose(S, _replace(e.operand, rest, new))
    if isinstance(e, ir.Binary):
        if i == 0:
            return ir.Binary(S, e.op, _replace(e.left, rest, new), e.right)
        return ir.Binary(S, e.op, e.left, _replace(e.right, rest, new))
    if isinstance(e, ir.Call):
        slots = [k for k, a in enumerate(e.args) if not isinstance(a, (ir.String, ir.TupleExpr))]
        args = list(e.args)
        args[slots[i]] = _replace(args[slots[i]], rest, new)
        return ir.Call(S, e.func, tuple(args), e.kwargs)
    if isinstance(e, ir.Index):
        return ir.Index(S, _replace(e.value, rest, new), e.items)
    raise TypeError(type(e).__name__)


def _bin(op: str, a: ir.Expr, b: ir.Expr) -> ir.Binary:
    return ir.Binary(S, op, a, b)


def _t(e: ir.Expr) -> ir.Expr:
    return e.operand if isinstance(e, ir.Transpose) else ir.Transpose(S, e)


def _num(v) -> ir.Number:
    return ir.Number(S, v)


def _transpose(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Transpose):
        yield e.operand
    elif not isinstance(e, (ir.Number,)):
        yield ir.Transpose(S, e)


def _sign(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Unary) and e.op == "-":
        yield e.operand
    if isinstance(e, ir.Binary) and e.op in ("+", "-"):  # a term's sign: a - b <-> a + b
        yield _bin("-" if e.op == "+" else "+", e.left, e.right)


def _scale_root(e: ir.Expr, ctx: Context) -> Iterator[tuple[ir.Expr, str]]:
    yield ir.Unary(S, "-", e), "sign"
    yield _bin("*", _num(2), e), "scale"
    yield _bin("/", e, _num(2)), "scale"
    for d in ctx.dims:
        name = ir.Name(S, d)
        root = ir.Call(S, "sqrt", (name,), ())
        yield _bin("/", e, name), "scale"
        yield _bin("*", name, e), "scale"
        yield _bin("/", e, root), "scale"
        yield _bin("*", root, e), "scale"


def _drop_factor(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Number) and not isinstance(e.value, bool) and e.value not in (0, 1):
        for value in (e.value / 2, e.value * 2, -e.value):  # -2 -> -1: a doubled constant
            yield _num(int(value) if float(value).is_integer() else value)
    if isinstance(e, ir.Binary) and e.op == "*":
        yield e.left
        yield e.right
        if isinstance(e.left, ir.Number) and not isinstance(e.left.value, bool) and e.left.value < 0:
            yield ir.Unary(S, "-", e.right)  # -2 * x -> -x
    if isinstance(e, ir.Binary) and e.op == "/":
        yield e.left


_AXIS_FUNCTIONS = ("sum", "mean", "prod", "logsumexp", "norm", "softmax", "log_softmax")
_SIBLINGS = {"sum": ("mean",), "mean": ("sum",)}


def _axis(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if not (isinstance(e, ir.Call) and e.func in _AXIS_FUNCTIONS):
        return
    kwargs = dict(e.kwargs)
    current = kwargs.get("axis")
    for axis in range(ctx.max_rank):
        if not (isinstance(current, ir.Number) and current.value == axis):
            yield ir.Call(S, e.func, e.args, tuple({**kwargs, "axis": _num(axis)}.items()))
    if current is not None:
        yield ir.Call(S, e.func, e.args, tuple((k, v) for k, v in e.kwargs if k != "axis"))


def _function(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Call):
        for other in _SIBLINGS.get(e.func, ()):
            yield ir.Call(S, other, e.args, e.kwargs)


def _swap(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op in ("@", "-"):  # B @ A for A @ B; p - y for y - p
        yield _bin(e.op, e.right, e.left)


def _product(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "*":
        a, b = e.left, e.right
        for x, y in ((a, b), (b, a)):
            yield _bin("@", _t(x), y)
            yield _bin("@", x, _t(y))
            yield _bin("@", x, y)
    if isinstance(e, ir.Binary) and e.op == "@":
        yield _bin("*", e.left, e.right)
        yield _bin("*", _t(e.left), e.right)
        yield _bin("*", e.left, _t(e.right))


def _move(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "@":
        a, b = e.left, e.right
        if isinstance(a, ir.Binary) and a.op == "*":
            for f, m in ((a.left, a.right), (a.right, a.left)):
                yield _bin("@", m, _bin("*", f, b))
        if isinstance(b, ir.Binary) and b.op == "*":
            for f, m in ((b.left, b.right), (b.right, b.left)):
                yield _bin("@", _bin("*", f, a), m)
    if isinstance(e, ir.Binary) and e.op == "*":
        for f, m in ((e.left, e.right), (e.right, e.left)):
            if isinstance(m, ir.Binary) and m.op == "@":
                yield _bin("@", _bin("*", f, m.left), m.right)
                yield _bin("@", m.left, _bin("*", f, m.right))


def _helper(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Call) and e.func in ctx.helpers:
        for other, arity in ctx.helpers.items():
            if other != e.func and arity == ctx.helpers[e.func]:
                yield ir.Call(S, other, e.args, e.kwargs)


def _terms(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op in ("+", "-"):
        yield e.left
        yield e.right if e.op == "+" else ir.Unary(S, "-", e.right)


def _sum(e: ir.Expr, ctx: Context) -> Iterator[ir.Expr]:
    if isinstance(e, ir.Call) and e.func == "sum" and len(e.args) == 1:
        yield e.args[0]
    if not isinstance(e, ir.Number):
        for axis in range(ctx.max_rank):
            yield ir.Call(S, "sum", (e,), (("axis", _num(axis)),))


Edit = Callable[[ir.Expr, Context], Iterator[ir.Expr]]
# (kind, edit): each edit is tried at every subexpression, in this order
EDIT_KINDS: tuple[tuple[str, Edit], ...] = (
    ("sign", _sign),
    ("function", _function),
    ("scale", _drop_factor),
    ("axis", _axis),
    ("transpose", _transpose),
    ("helper", _helper),
    ("swap", _swap),
    ("product", _product),
    ("move", _move),
    ("term", _terms),
    ("sum", _sum),
)


def edits(e: ir.Expr, ctx: Context) -> Iterator[tuple[ir.Expr, Change]]:
    """Every single edit of ``e``, cheapest kinds first (a sign or a factor of the whole claim
    after the edits inside it: dropping the user's ``2 *`` reads better than adding ``/ 2``)."""
    positions = list(_positions(e))
    for kind, edit in EDIT_KINDS:
        if kind == "term" and len(ctx.terms) > 1:  # a missing term of a gradient with several
            for t in ctx.terms:
                new = _bin("+", e, t)
                yield new, Change("term", e, new)
        for path, sub in positions:
            for replacement in edit(sub, ctx):
                yield _replace(e, path, replacement), Change(kind, sub, replacement)
        if kind == "scale":
            for new, root_kind in _scale_root(e, ctx):
                yield new, Change(root_kind, e, new)


def _count_t(e: ir.Expr) -> int:
    return (isinstance(e, ir.Transpose)) + sum(_count_t(c) for c in _children(e))


def tidy(e: ir.Expr, scalars: frozenset[str] = frozenset()) -> ir.Expr:
    """Transposes pushed into matrix products where that leaves fewer of them:
    ``(G.T @ X).T`` is ``X.T @ G``; ``x.T.T`` is ``x``; ``(A / M).T`` is ``A.T / M`` for a
    scalar ``M`` (a literal, a dim or a constant)."""

    def scalar(x: ir.Expr) -> bool:
        return isinstance(x, ir.Number) or (isinstance(x, ir.Name) and x.id in scalars)

    def go(e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.Transpose):
            inner = go(e.operand)
            if isinstance(inner, ir.Transpose):
                return inner.operand
            if isinstance(inner, ir.Binary) and inner.op == "@":
                pushed = _bin("@", go(_t(inner.right)), go(_t(inner.left)))
                if _count_t(pushed) < _count_t(inner) + 1:
                    return pushed
            if isinstance(inner, ir.Binary) and inner.op in ("*", "/") and scalar(inner.right):
                return _bin(inner.op, go(_t(inner.left)), inner.right)
            if isinstance(inner, ir.Binary) and inner.op == "*" and scalar(inner.left):
                return _bin("*", inner.left, go(_t(inner.right)))
            if isinstance(inner, ir.Unary):
                return ir.Unary(S, inner.op, go(_t(inner.operand)))
            return e if inner is e.operand else ir.Transpose(S, inner)
        children = _children(e)
        tidied = tuple(go(c) for c in children)
        if all(a is b for a, b in zip(children, tidied, strict=True)):
            return e  # unchanged: keeps its span, so it prints as the user wrote it
        out = e
        for i, child in enumerate(tidied):
            out = _replace(out, (i,), child)
        return out

    return go(e)
