"""Building derived expressions: smart constructors that simplify as they build.

A derived gradient is assembled from the VJP rules of :mod:`gradcheck.derive.rules`; written
out naively it is full of ``1 * G``, ``G + 0`` and ``-(-x)``. Every constructor here folds what
a person would fold before writing the node: ``mul(1, x)`` is ``x``, ``mul(0.5, mul(2, c))``
is ``c``, ``neg(neg(x))`` is ``x``, ``T(T(x))`` is ``x``, constant factors move to the front,
a minus sign moves out of products and matrix products. ``None`` stands for a zero adjoint
(no dependence) and is absorbed by every constructor.

Nodes built here have the empty span ``(0, 0)``; :func:`key` compares expressions by
structure, ignoring spans, so that a printed and re-parsed expression compares equal.
"""

from __future__ import annotations

from ..expr import ir

__all__ = ["key", "num", "name", "neg", "add", "sub", "mul", "div", "power", "matmul", "T", "call", "index", "rebuild"]

NOSPAN: ir.Span = (0, 0)


def key(e: ir.Expr | None):
    """A hashable structural key of an expression, ignoring spans (``2`` and ``2.0`` agree)."""
    if e is None:
        return None
    if isinstance(e, ir.Number):
        return ("num", float(e.value))
    if isinstance(e, ir.Unary) and e.op == "-" and isinstance(e.operand, ir.Number):
        return ("num", -float(e.operand.value))
    if isinstance(e, ir.Name):
        return ("name", e.id)
    if isinstance(e, ir.String):
        return ("str", e.value)
    if isinstance(e, ir.Unary):
        return ("unary", e.op, key(e.operand))
    if isinstance(e, ir.Binary):
        return ("bin", e.op, key(e.left), key(e.right))
    if isinstance(e, ir.Compare):
        return ("cmp", e.op, key(e.left), key(e.right))
    if isinstance(e, ir.Transpose):
        return ("T", key(e.operand))
    if isinstance(e, ir.TupleExpr):
        return ("tuple", tuple(key(i) for i in e.items))
    if isinstance(e, ir.Call):
        return ("call", e.func, tuple(key(a) for a in e.args), tuple((k, key(v)) for k, v in e.kwargs))
    if isinstance(e, ir.Index):
        return ("index", key(e.value), tuple(_item_key(i) for i in e.items))
    raise TypeError(f"unknown IR node {type(e).__name__}")


def _item_key(item: ir.IndexItem):
    """An index item compared by structure (an index array's expression without its spans)."""
    return ("array", key(item.expr)) if isinstance(item, ir.IndexArray) else item


def const(e: ir.Expr | None) -> float | None:
    """The value of a numeric literal (``-2`` included), else None."""
    k = key(e)
    return k[1] if k is not None and k[0] == "num" else None


def num(value: float) -> ir.Expr:
    value = float(value)
    literal = int(value) if value.is_integer() and abs(value) < 2**53 else value
    return ir.Number(NOSPAN, literal)  # negative literals as the parser folds them: Number(-2)


def name(identifier: str) -> ir.Name:
    return ir.Name(NOSPAN, identifier)


def _split_sign(e: ir.Expr) -> tuple[bool, ir.Expr]:
    if isinstance(e, ir.Unary) and e.op == "-" and const(e) is None:
        return True, e.operand
    return False, e


def neg(e: ir.Expr | None) -> ir.Expr | None:
    if e is None:
        return None
    c = const(e)
    if c is not None:
        return num(-c)
    negative, inner = _split_sign(e)
    if negative:
        return inner
    if isinstance(e, ir.Binary) and e.op == "-":  # -(a - b) = b - a
        return ir.Binary(NOSPAN, "-", e.right, e.left)
    if isinstance(e, ir.Binary) and e.op in ("*", "/") and const(e.left) is not None:
        return _binary(e.op, num(-const(e.left)), e.right)
    return ir.Unary(NOSPAN, "-", e)


def _binary(op: str, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(NOSPAN, op, a, b)


def add(a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    if a is None or const(a) == 0:
        return b
    if b is None or const(b) == 0:
        return a
    ca, cb = const(a), const(b)
    if ca is not None and cb is not None:
        return num(ca + cb)
    negative, inner = _split_sign(b)
    if negative:
        return _binary("-", a, inner)
    if cb is not None and cb < 0:
        return _binary("-", a, num(-cb))
    negative, inner = _split_sign(a)
    if negative:
        return _binary("-", b, inner)
    return _binary("+", a, b)


def sub(a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    return add(a, neg(b))


def _factors(e: ir.Expr) -> tuple[float, list[ir.Expr], list[ir.Expr]]:
    """``e`` as coefficient x product(numerator) / product(denominator) over ``*`` and ``/``."""
    c = const(e)
    if c is not None:
        return c, [], []
    negative, inner = _split_sign(e)
    if negative:
        coef, nums, dens = _factors(inner)
        return -coef, nums, dens
    if isinstance(e, ir.Binary) and e.op in ("*", "/"):
        ca, na, da = _factors(e.left)
        cb, nb, db = _factors(e.right)
        if e.op == "*":
            return ca * cb, na + nb, da + db
        if cb == 0:
            return ca, na + [e.right], da
        return ca / cb, na + db, da + nb
    return 1.0, [e], []


def _product(coef: float, nums: list[ir.Expr], dens: list[ir.Expr]) -> ir.Expr | None:
    if coef == 0:
        return None
    dens = list(dens)
    kept = []
    for f in nums:  # x * y / x -> y
        match = next((i for i, d in enumerate(dens) if key(d) == key(f)), None)
        if match is None:
            kept.append(f)
        else:
            del dens[match]
    body = None
    for f in kept:
        body = f if body is None else _binary("*", body, f)
    if dens:
        den = dens[0]
        for f in dens[1:]:
            den = _binary("*", den, f)
        if body is None:
            return _binary("/", num(coef), den)
        body = _binary("/", body, den)
    if body is None:
        return num(coef)
    if coef == 1:
        return body
    if coef == -1:
        return ir.Unary(NOSPAN, "-", body)
    if coef < 0:
        return ir.Unary(NOSPAN, "-", _binary("*", num(-coef), body))
    return _binary("*", num(coef), body)


def mul(a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    if a is None or b is None or const(a) == 0 or const(b) == 0:
        return None
    ca, na, da = _factors(a)
    cb, nb, db = _factors(b)
    return _product(ca * cb, na + nb, da + db)


def div(a: ir.Expr | None, b: ir.Expr) -> ir.Expr | None:
    if a is None:
        return None
    ca, na, da = _factors(a)
    cb, nb, db = _factors(b)
    if cb == 0:
        return _product(ca, na, da + [b])
    return _product(ca / cb, na + db, da + nb)


def power(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    cb = const(b)
    if cb == 1:
        return a
    if cb == 0:
        return num(1)
    return _binary("**", a, b)


def matmul(a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    if a is None or b is None:
        return None
    sa, ia = _split_sign(a)
    sb, ib = _split_sign(b)
    if sa or sb:
        product = matmul(ia, ib)
        return neg(product) if sa != sb else product
    if _is_eye(a):
        return b
    if _is_eye(b):
        return a
    for outer, inner, left in ((a, b, True), (b, a, False)):
        c = const(outer.left) if isinstance(outer, ir.Binary) and outer.op == "*" else None
        if c is not None:  # (2 * A) @ B -> 2 * (A @ B)
            rest = matmul(outer.right, inner) if left else matmul(inner, outer.right)
            return mul(outer.left, rest)
    return _binary("@", a, b)


def _is_eye(e: ir.Expr) -> bool:
    return isinstance(e, ir.Call) and e.func == "eye"


def T(e: ir.Expr | None) -> ir.Expr | None:
    if e is None:
        return None
    if isinstance(e, ir.Transpose):
        return e.operand
    if const(e) is not None or _is_eye(e):
        return e
    negative, inner = _split_sign(e)
    if negative:
        return neg(T(inner))
    return ir.Transpose(NOSPAN, e)


def call(func: str, *args: ir.Expr, **kwargs: ir.Expr | int | bool | tuple) -> ir.Call:
    kw = tuple((k, _literal(v)) for k, v in kwargs.items() if v is not None)
    return ir.Call(NOSPAN, func, tuple(args), kw)


def _literal(v) -> ir.Expr:
    if isinstance(v, ir.Expr):
        return v
    if isinstance(v, bool):
        return ir.Number(NOSPAN, v)
    if isinstance(v, tuple):
        return ir.TupleExpr(NOSPAN, tuple(_literal(i) for i in v))
    return num(v)


def index(e: ir.Expr, items: tuple) -> ir.Expr:
    return ir.Index(NOSPAN, e, items)


def rebuild(e: ir.Expr | None, replace) -> ir.Expr | None:
    """``e`` rebuilt bottom-up through the smart constructors; ``replace(node)`` may return a
    substitute for any node (a placeholder's expansion), or None to keep it."""
    if e is None:
        return None
    sub_ = replace(e)
    if sub_ is not None:
        return sub_
    if isinstance(e, ir.Unary):
        inner = rebuild(e.operand, replace)
        return neg(inner) if e.op == "-" else inner
    if isinstance(e, ir.Binary):
        a, b = rebuild(e.left, replace), rebuild(e.right, replace)
        if e.op == "+":
            return add(a, b)
        if e.op == "-":
            return sub(a, b)
        if e.op == "*":
            return mul(a, b)
        if e.op == "/":
            return div(a, b)
        if e.op == "@":
            return matmul(a, b)
        return power(a, b)
    if isinstance(e, ir.Transpose):
        return T(rebuild(e.operand, replace))
    if isinstance(e, ir.Call):
        args = tuple(rebuild(a, replace) for a in e.args)
        return ir.Call(NOSPAN, e.func, args, e.kwargs)
    if isinstance(e, ir.Index):  # index arrays too: a helper's parameter may be one (inlining substitutes it)
        items = tuple(ir.IndexArray(rebuild(i.expr, replace)) if isinstance(i, ir.IndexArray) else i for i in e.items)
        return ir.Index(NOSPAN, rebuild(e.value, replace), items)
    if isinstance(e, ir.Compare):
        return ir.Compare(NOSPAN, e.op, rebuild(e.left, replace), rebuild(e.right, replace))
    if isinstance(e, ir.TupleExpr):
        return ir.TupleExpr(NOSPAN, tuple(rebuild(i, replace) for i in e.items))
    return e
