"""Vector-Jacobian product rules: one per whitelisted function, keyed by the function's name.

Beside the function table (:data:`gradcheck.expr.functions.TABLE`: name, parameters, shape rule)
and the kernels (:mod:`gradcheck.expr.kernels`), this module holds each function's reverse-mode
rule: given the call ``y = f(x1, ..., xk)`` and the adjoint ``G`` of ``y`` (an expression that
broadcasts to y's shape), the rule returns the adjoint of argument ``i`` as an expression that
broadcasts to that argument's shape, or ``None`` when y does not depend on it (integer
arguments, constants, shapes). A function whose rule cannot be written in the expression
language raises :class:`NotDerivable` with the reason; :data:`NOT_DERIVABLE` lists those, and a
test checks that every function of the table is in exactly one of the two.

The rules are the standard ones (Giles 2008, "Collected matrix derivative results for forward
and reverse mode algorithmic differentiation"; The Matrix Cookbook, Petersen & Pedersen 2012).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..expr import ir
from ..expr.dims import Dim, Shape
from ..expr.functions import TABLE
from .algebra import T, add, call, div, index, matmul, mul, neg, num, power, sub

__all__ = ["NotDerivable", "Context", "RULES", "NOT_DERIVABLE", "vjp_call", "vjp_matmul"]


class NotDerivable(Exception):
    """This expression has no reverse-mode rule in the expression language (the reason says why).

    Internal to :mod:`gradcheck.derive`: the derivation turns it into a value (the input that
    cannot be derived, and why); it never reaches a caller.
    """


@dataclass(frozen=True)
class Context:
    """What a rule may ask: the symbolic shape of an expression, and a dim as an expression."""

    shape: Callable[[ir.Expr], Shape]
    dim: Callable[[Dim], ir.Expr | None]

    def full(self, G: ir.Expr, like: ir.Expr) -> ir.Expr:
        """``G`` materialised to ``like``'s shape (a scalar adjoint of a non-scalar result)."""
        if self.shape(G) == self.shape(like):
            return G
        return mul(G, call("ones_like", like))


Rule = Callable[[ir.Call, int, ir.Expr, Context], ir.Expr | None]


def _kw(node: ir.Call, name: str):
    for k, v in node.kwargs:
        if k == name:
            if isinstance(v, ir.TupleExpr):
                return tuple(int(i.value) for i in v.items)
            return v.value
    return None


def _axes(node: ir.Call, ndim: int, default=None) -> tuple[int, ...]:
    axis = _kw(node, "axis")
    axis = default if axis is None else axis
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))


def _expand(node: ir.Call, G: ir.Expr, ctx: Context) -> ir.Expr:
    """The adjoint of a reduction's result, with the reduced axes put back as length-1 axes."""
    x = node.args[0]
    ndim = len(ctx.shape(x))
    axes = _axes(node, ndim)
    if _kw(node, "keepdims") or len(axes) == ndim or ctx.shape(G) == ():
        return G
    items = tuple(ir.IndexNewAxis() if i in axes else ir.IndexSlice(None, None, None) for i in range(ndim))
    while items and isinstance(items[-1], ir.IndexSlice):  # G[:, None] rather than G[:, None, :]
        items = items[:-1]
    return index(G, items)


def _count(node: ir.Call, ctx: Context) -> ir.Expr:
    """The number of entries a reduction averages over, as dims (``M * k``) where they can be named."""
    x = node.args[0]
    shape = ctx.shape(x)
    total = None
    for a in _axes(node, len(shape)):
        d = ctx.dim(shape[a])
        if d is None:  # a dim named by a Python keyword (`in`) cannot appear in an expression
            return call("sum", call("ones_like", x), **_reduce_kwargs(node, keepdims=True))
        total = d if total is None else mul(total, d)
    return total if total is not None else num(1)


def _reduce_kwargs(node: ir.Call, *, keepdims: bool | None = None) -> dict:
    out = {k: v for k, v in node.kwargs if k == "axis"}
    if keepdims is not None:
        out["keepdims"] = keepdims
    return out


def _elementwise(derivative: Callable[[ir.Expr, ir.Call], ir.Expr]) -> Rule:
    def rule(node: ir.Call, i: int, G: ir.Expr, ctx: Context) -> ir.Expr | None:
        return mul(G, derivative(node.args[0], node))

    return rule


def _where(cond: ir.Compare, a: ir.Expr, b: ir.Expr) -> ir.Call:
    return call("where", cond, a, b)


def _gt(a: ir.Expr, b: ir.Expr, op: str = ">") -> ir.Compare:
    return ir.Compare((0, 0), op, a, b)


def _sum_rule(node, i, G, ctx):
    return _expand(node, G, ctx)


def _mean_rule(node, i, G, ctx):
    return div(_expand(node, G, ctx), _count(node, ctx))


def _prod_rule(node, i, G, ctx):
    kept = call("prod", node.args[0], **_reduce_kwargs(node, keepdims=True))
    return mul(_expand(node, G, ctx), div(kept, node.args[0]))


def _logsumexp_rule(node, i, G, ctx):
    x = node.args[0]
    ndim = len(ctx.shape(x))
    axes = _axes(node, ndim)
    if axes == (ndim - 1,):
        weights = call("softmax", x)
    elif len(axes) == 1:
        weights = call("softmax", x, axis=axes[0])
    else:
        weights = call("exp", sub(x, call("logsumexp", x, **_reduce_kwargs(node, keepdims=True))))
    return mul(_expand(node, G, ctx), weights)


def _norm_rule(node, i, G, ctx):
    x = node.args[0]
    kept = (
        node
        if (_kw(node, "keepdims") or _kw(node, "axis") is None)
        else call("norm", x, **_reduce_kwargs(node, keepdims=True))
    )
    return mul(_expand(node, G, ctx), div(x, kept))


def _extreme_rule(node, i, G, ctx):
    """max/min: the adjoint goes to the entries equal to the result (all of them at a tie)."""
    x = node.args[0]
    kept = (
        node
        if _kw(node, "keepdims") or _kw(node, "axis") is None
        else call(node.func, x, **_reduce_kwargs(node, keepdims=True))
    )
    return mul(_expand(node, G, ctx), _where(_gt(x, kept, "=="), num(1), num(0)))


def _centred(node: ir.Call) -> ir.Expr:
    x = node.args[0]
    return sub(x, call("mean", x, **_reduce_kwargs(node, keepdims=True)))


def _dof(node: ir.Call, ctx: Context) -> ir.Expr:
    ddof = _kw(node, "ddof")
    return sub(_count(node, ctx), num(ddof)) if ddof else _count(node, ctx)


def _var_rule(node, i, G, ctx):
    return mul(_expand(node, G, ctx), div(mul(num(2), _centred(node)), _dof(node, ctx)))


def _std_rule(node, i, G, ctx):
    x = node.args[0]
    kwargs = {k: v for k, v in node.kwargs if k == "ddof"}
    kept = (
        node
        if _kw(node, "keepdims") or _kw(node, "axis") is None
        else call("std", x, **_reduce_kwargs(node, keepdims=True), **kwargs)
    )
    return mul(_expand(node, G, ctx), div(_centred(node), mul(_dof(node, ctx), kept)))


def _reverse_cumsum(G: ir.Expr, axis) -> ir.Expr:
    """sum over j >= i of G[j] along ``axis``: the total minus the sum before i."""
    return add(sub(call("sum", G, axis=axis, keepdims=True), call("cumsum", G, axis=axis)), G)


def _cumulative_rule(node, i, G, ctx):
    """cumsum: reverse cumulative sum of G; cumprod: that of G * y, over x (x nonzero)."""
    x = node.args[0]
    shape = ctx.shape(x)
    G = ctx.full(G, node)
    weighted = G if node.func == "cumsum" else mul(G, node)
    axis = _kw(node, "axis")
    out = _reverse_cumsum(weighted, 0 if axis is None else axis)
    if axis is None and len(shape) != 1:  # numpy flattened x: fold the adjoint back
        parts = [ctx.dim(d) for d in shape]
        if any(p is None for p in parts):
            raise NotDerivable(f"{node.func}() without axis= of an array whose dims cannot be named")
        out = call("reshape", out, ir.TupleExpr((0, 0), tuple(parts)))
    return out if node.func == "cumsum" else div(out, x)


def _logaddexp_rule(node, i, G, ctx):
    a, b = node.args
    return mul(G, call("sigmoid", sub(a, b) if i == 0 else sub(b, a)))


def _indicator(a: ir.Expr, op: str, b: ir.Expr) -> ir.Expr:
    return _where(_gt(a, b, op), num(1), num(0))


def _clip_rule(node, i, G, ctx):
    """clip = minimum(maximum(x, lo), hi), with the kernels' tie conventions."""
    x, lo, hi = node.args
    low = call("maximum", x, lo)
    if i == 2:
        return mul(G, _indicator(low, ">", hi))
    inside = _indicator(low, "<=", hi)
    return mul(G, mul(_indicator(x, ">=" if i == 0 else "<", lo), inside))


_SQRT_2PI = 2.5066282746310002


def _gelu_derivative(x: ir.Expr, node: ir.Call) -> ir.Expr:
    if _kw(node, "approximate") == "tanh":
        c = 0.7978845608028654  # sqrt(2 / pi)
        t = _c("tanh", mul(num(c), add(x, mul(num(0.044715), power(x, num(3))))))
        slope = mul(num(c), add(num(1), mul(num(3 * 0.044715), power(x, num(2)))))
        return add(mul(num(0.5), add(num(1), t)), mul(mul(num(0.5), x), mul(sub(num(1), power(t, num(2))), slope)))
    cdf = mul(num(0.5), add(num(1), _c("erf", div(x, num(2**0.5)))))
    return add(cdf, div(mul(x, _c("exp", div(neg(power(x, num(2))), num(2)))), num(_SQRT_2PI)))


def _triangular_rule(node, i, G, ctx):
    return call(node.func, ctx.full(G, node), **{k: v for k, v in node.kwargs if k == "k"})


def _softmax_rule(node, i, G, ctx):
    y = node
    G = ctx.full(G, node)
    axis = _kw(node, "axis")
    inner = call("sum", mul(G, y), axis=-1 if axis is None else axis, keepdims=True)
    return mul(y, sub(G, inner))


def _log_softmax_rule(node, i, G, ctx):
    G = ctx.full(G, node)
    axis = _kw(node, "axis")
    kw = {} if axis is None else {"axis": axis}
    total = call("sum", G, axis=-1 if axis is None else axis, keepdims=True)
    return sub(G, mul(call("softmax", node.args[0], **kw), total))


def _trace_rule(node, i, G, ctx):
    A = node.args[0]
    n = ctx.dim(ctx.shape(A)[0])
    identity = call("eye", n) if n is not None else call("diag", call("diag", call("ones_like", A)))
    return mul(G, identity)


def _det_rule(node, i, G, ctx):
    return mul(G, mul(node, T(call("inv", node.args[0]))))


def _logdet_rule(node, i, G, ctx):
    return mul(G, T(call("inv", node.args[0])))


def _inv_rule(node, i, G, ctx):
    G = ctx.full(G, node)
    return neg(matmul(matmul(T(node), G), T(node)))


def _solve_rule(node, i, G, ctx):
    A, B = node.args
    G = ctx.full(G, node)
    dB = call("solve", T(A), G)
    if i == 1:
        return dB
    if len(ctx.shape(B)) == 1:
        return neg(call("outer", dB, node))
    return neg(matmul(dB, T(node)))


# -- linear algebra (fn-linalg) -----------------------------------------------------------
# cholesky, eigvalsh and eigvecsh read the symmetric part (A + A^T)/2 of A, so their adjoints
# are symmetrised; solve_triangular reads one triangle of A, so its adjoint is that triangle.


def _matrix_only(node: ir.Call, ctx: Context) -> ir.Expr:
    A = node.args[0]
    if len(ctx.shape(A)) != 2:
        raise NotDerivable(f"{node.func}() of a batch of matrices (`.T` would reverse every axis)")
    return A


def _symmetrised(X: ir.Expr) -> ir.Expr:
    return mul(num(0.5), add(X, T(X)))


def _identity(ctx: Context, like: ir.Expr) -> ir.Expr:
    """The identity matching the square matrix ``like``: eye(n) when n can be named."""
    n = ctx.dim(ctx.shape(like)[-1])
    return call("eye", n) if n is not None else call("diag", call("diag", call("ones_like", like)))


def _cholesky_rule(node, i, G, ctx):
    """A-bar = sym(L^-T Phi(L^T L-bar) L^-1), Phi = the lower triangle with its diagonal halved
    (Murray 2016, "Differentiation of the Cholesky decomposition", eq. 10, symmetrised as torch
    and TensorFlow do)."""
    _matrix_only(node, ctx)
    L = node
    M = matmul(T(L), ctx.full(G, node))
    P = sub(call("tril", M), mul(num(0.5), call("diag", call("diag", M))))
    S = T(call("solve_triangular", T(L), T(call("solve_triangular", T(L), P))))
    return _symmetrised(S)


def _solve_triangular_rule(node, i, G, ctx):
    """X = A^-1 B reading A's lower (upper) triangle: B-bar = A^-T G, A-bar = -tril(B-bar X^T)."""
    A, B = node.args
    _matrix_only(node, ctx)
    lower = bool(_kw(node, "lower"))
    G = ctx.full(G, node)
    dB = call("solve_triangular", T(A), G, lower=True) if not lower else call("solve_triangular", T(A), G)
    if i == 1:
        return dB
    product = call("outer", dB, node) if len(ctx.shape(B)) == 1 else matmul(dB, T(node))
    return neg(call("tril" if lower else "triu", product))


def _eigvalsh_rule(node, i, G, ctx):
    """A-bar = V diag(g) V^T with V = eigvecsh(A) (distinct eigenvalues)."""
    A = _matrix_only(node, ctx)
    V = call("eigvecsh", A)
    return matmul(mul(V, ctx.full(G, node)), T(V))


def _eigvecsh_rule(node, i, G, ctx):
    """A-bar = sym(V (F o V^T V-bar) V^T), F_ij = 1/(w_j - w_i) off the diagonal, 0 on it
    (Giles 2008, section 3.1; distinct eigenvalues)."""
    A = _matrix_only(node, ctx)
    V = node
    w = call("eigvalsh", A)
    eye = _identity(ctx, A)
    gaps = sub(
        index(w, (ir.IndexNewAxis(), ir.IndexSlice(None, None, None))),
        index(w, (ir.IndexSlice(None, None, None), ir.IndexNewAxis())),
    )
    F = div(sub(num(1), eye), add(gaps, eye))
    inner = mul(F, matmul(T(V), ctx.full(G, node)))
    return _symmetrised(matmul(matmul(V, inner), T(V)))


def _pinv_rule(node, i, G, ctx):
    """Golub & Pereyra (1973) for full rank, P = pinv(A):
    A-bar = -P^T G P^T + (G^T - A P G^T) P P^T + P^T P (G^T - G^T P A)."""
    A = _matrix_only(node, ctx)
    P = node
    G = ctx.full(G, node)
    first = neg(matmul(matmul(T(P), G), T(P)))
    second = matmul(sub(T(G), matmul(matmul(A, P), T(G))), matmul(P, T(P)))
    third = matmul(matmul(T(P), P), sub(T(G), matmul(matmul(T(G), P), A)))
    return add(add(first, second), third)


def _diag_rule(node, i, G, ctx):
    return call("diag", ctx.full(G, node))


def _outer_rule(node, i, G, ctx):
    a, b = node.args
    if len(ctx.shape(a)) != 1 or len(ctx.shape(b)) != 1:
        raise NotDerivable("outer() of arrays that are not vectors (numpy flattens them)")
    G = ctx.full(G, node)
    return matmul(G, b) if i == 0 else matmul(T(G), a)


def _transpose_rule(node, i, G, ctx):
    return call("transpose", ctx.full(G, node))


def _reshape_rule(node, i, G, ctx):
    shape = ctx.shape(node.args[0])
    parts = [ctx.dim(d) for d in shape]
    if any(p is None for p in parts):
        raise NotDerivable("reshape() of an array whose dims cannot be named in an expression")
    target = ir.TupleExpr((0, 0), tuple(parts))
    return call("reshape", ctx.full(G, node), target)


def _maximum_rule(op: str) -> Rule:
    def rule(node, i, G, ctx):
        a, b = node.args
        picked = _where(_gt(a, b, op), num(1), num(0)) if i == 0 else _where(_gt(a, b, op), num(0), num(1))
        return mul(G, picked)

    return rule


def _where_rule(node, i, G, ctx):
    if i == 0:
        return None
    cond = node.args[0]
    return _where(cond, G, num(0)) if i == 1 else _where(cond, num(0), G)


def _einsum_rule(node, i, G, ctx):
    spec = node.args[0].value.replace(" ", "")
    if "..." in spec:
        raise NotDerivable("einsum() with '...' subscripts")
    ins, _, out = spec.partition("->")
    terms = ins.split(",")
    if "->" not in spec:
        letters = "".join(terms)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    mine = terms[i - 1]
    others = [t for j, t in enumerate(terms) if j != i - 1]
    if len(set(mine)) != len(mine):
        raise NotDerivable(f"einsum() operand '{mine}' repeats an index (a diagonal)")
    available = set(out) | set("".join(others))
    if not set(mine) <= available:
        raise NotDerivable(f"einsum() sums operand '{mine}' over an index no other operand has")
    operands = [a for j, a in enumerate(node.args[1:]) if j != i - 1]
    subscripts = ",".join([out, *others]) + "->" + mine
    return call("einsum", ir.String((0, 0), subscripts), ctx.full(G, node), *operands)


def _no_rule(reason: str) -> Rule:
    def rule(node, i, G, ctx):
        raise NotDerivable(reason)

    return rule


def _constant(node, i, G, ctx):
    return None


def vjp_matmul(a: ir.Expr, b: ir.Expr, i: int, G: ir.Expr, ctx: Context, out: ir.Expr) -> ir.Expr | None:
    """Adjoint of operand ``i`` of ``a @ b`` (numpy's rank rules for 1-D and 2-D operands)."""
    ra, rb = len(ctx.shape(a)), len(ctx.shape(b))
    if ra > 2 or rb > 2:
        raise NotDerivable("`@` of arrays with more than 2 axes")
    G = ctx.full(G, out)
    if ra == 2 and rb == 2:
        return matmul(G, T(b)) if i == 0 else matmul(T(a), G)
    if ra == 1 and rb == 2:
        return matmul(b, G) if i == 0 else call("outer", a, G)
    if ra == 2 and rb == 1:
        return call("outer", G, b) if i == 0 else matmul(T(a), G)
    return mul(G, b) if i == 0 else mul(G, a)


def _dot_rule(node, i, G, ctx):
    return vjp_matmul(node.args[0], node.args[1], i, G, ctx, node)


def _c(func: str, *args: ir.Expr) -> ir.Call:
    return call(func, *args)


RULES: dict[str, Rule] = {
    "sum": _sum_rule,
    "mean": _mean_rule,
    "prod": _prod_rule,
    "logsumexp": _logsumexp_rule,
    "norm": _norm_rule,
    "max": _extreme_rule,
    "min": _extreme_rule,
    "amax": _extreme_rule,
    "amin": _extreme_rule,
    "argmax": _constant,
    "argmin": _constant,
    "var": _var_rule,
    "std": _std_rule,
    "cumsum": _cumulative_rule,
    "cumprod": _cumulative_rule,
    "logaddexp": _logaddexp_rule,
    "clip": _clip_rule,
    "sign": _constant,
    "erf": _elementwise(lambda x, y: mul(num(2 / 3.141592653589793**0.5), _c("exp", neg(power(x, num(2)))))),
    "gelu": _elementwise(_gelu_derivative),
    "log_sigmoid": _elementwise(lambda x, y: _c("sigmoid", neg(x))),
    "abs2": _elementwise(lambda x, y: mul(num(2), x)),
    "reciprocal": _elementwise(lambda x, y: neg(power(y, num(2)))),
    "tril": _triangular_rule,
    "triu": _triangular_rule,
    "exp": _elementwise(lambda x, y: y),
    "log": lambda node, i, G, ctx: div(G, node.args[0]),
    "log1p": lambda node, i, G, ctx: div(G, add(num(1), node.args[0])),
    "expm1": _elementwise(lambda x, y: _c("exp", x)),
    "sqrt": lambda node, i, G, ctx: div(G, mul(num(2), node)),
    "square": _elementwise(lambda x, y: mul(num(2), x)),
    "sin": _elementwise(lambda x, y: _c("cos", x)),
    "cos": _elementwise(lambda x, y: neg(_c("sin", x))),
    "tanh": _elementwise(lambda x, y: sub(num(1), power(y, num(2)))),
    "sigmoid": _elementwise(lambda x, y: mul(y, sub(num(1), y))),
    "softplus": _elementwise(lambda x, y: _c("sigmoid", x)),
    "relu": _elementwise(lambda x, y: _where(_gt(x, num(0)), num(1), num(0))),
    "abs": _elementwise(lambda x, y: _where(_gt(x, num(0)), num(1), num(-1))),
    "ones_like": _constant,
    "zeros_like": _constant,
    "eye": _constant,
    "ones": _constant,
    "zeros": _constant,
    "onehot": _constant,
    "maximum": _maximum_rule(">"),
    "minimum": _maximum_rule("<"),
    "where": _where_rule,
    "softmax": _softmax_rule,
    "log_softmax": _log_softmax_rule,
    "trace": _trace_rule,
    "det": _det_rule,
    "logdet": _logdet_rule,
    "inv": _inv_rule,
    "solve": _solve_rule,
    "diag": _diag_rule,
    "outer": _outer_rule,
    "transpose": _transpose_rule,
    "reshape": _reshape_rule,
    "dot": _dot_rule,
    "einsum": _einsum_rule,
    # linear algebra (fn-linalg)
    "cholesky": _cholesky_rule,
    "solve_triangular": _solve_triangular_rule,
    "eigvalsh": _eigvalsh_rule,
    "eigvecsh": _eigvecsh_rule,
    "pinv": _pinv_rule,
}

# Functions whose adjoint the expression language cannot write (no scatter, no symbolic slices):
# a gradient through them is reported as not derivable, with this reason.
NOT_DERIVABLE: dict[str, str] = {
    "kron": "kron() (its adjoint needs a reshape into blocks that the language cannot index)",
    "stack": "stack() (its adjoint selects one slice per item)",
    "concatenate": "concatenate() (its adjoint needs slices at symbolic offsets)",
}
for _name, _reason in NOT_DERIVABLE.items():
    RULES[_name] = _no_rule(_reason)


def vjp_call(node: ir.Call, i: int, G: ir.Expr, ctx: Context) -> ir.Expr | None:
    """The adjoint of argument ``i`` of a whitelisted call, given the result's adjoint ``G``."""
    params = TABLE[node.func].params
    kind = params[min(i, len(params) - 1)][1]
    if kind in ("shape", "newshape", "size", "subscripts"):
        return None  # static arguments: shapes, sizes, einsum's subscripts
    rule = RULES.get(node.func)
    if rule is None:
        raise NotDerivable(f"{node.func}() has no derivative rule")
    return rule(node, i, G, ctx)
