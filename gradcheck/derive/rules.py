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
from .algebra import T, add, call, div, index, key, matmul, mul, neg, num, power, sub

__all__ = ["NotDerivable", "Context", "RULES", "NOT_DERIVABLE", "vjp_call", "vjp_index", "vjp_matmul"]


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
    ins, _, out = spec.partition("->")
    terms = ins.split(",")
    ellipsis = "..." in ins
    if "->" not in spec:
        letters = "".join(terms).replace("...", "")
        out = ("..." if ellipsis else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    mine = terms[i - 1]
    others = [t for j, t in enumerate(terms) if j != i - 1]
    bare = mine.replace("...", "")
    if len(set(bare)) != len(bare):
        raise NotDerivable(f"einsum() operand '{mine}' repeats an index (a diagonal)")
    available = set(out) | set("".join(others))
    if not set(bare) <= available:
        raise NotDerivable(f"einsum() sums operand '{mine}' over an index no other operand has")
    operands = [a for j, a in enumerate(node.args[1:]) if j != i - 1]
    # an operand without '...' beside ones with it: its adjoint keeps the '...' axes, summed by the caller's unbroadcast
    target = mine if "..." in mine or not ellipsis else "..." + mine
    subscripts = ",".join([out, *others]) + "->" + target
    return call("einsum", ir.String((0, 0), subscripts), ctx.full(G, node), *operands)


# -- convolutions and pooling ---------------------------------------------------------------
#
# conv(x, w) is linear in each argument. Its adjoint in x is the transposed convolution of G with
# the same weight (stride, padding and dilation kept); its adjoint in w correlates the input with
# G: dW[o, c, k] = sum over n and output positions p of G[n, o, p] x[n, c, s p + d k], which is a
# convolution of x with G as the weight once the batch and channel axes trade places (an einsum),
# with stride and dilation trading places too (Dumoulin & Visin 2016, "A guide to convolution
# arithmetic for deep learning"; torch's convolution_backward computes the same two products).
# conv_transpose is the adjoint of conv in x, so the roles swap. Pooling spreads G back over each
# window with a transposed convolution by a ones kernel per channel: 1/k^2 of it for the average,
# and for the maximum only to the entries equal to their window's maximum.

_LAYOUT = {1: "ncl", 2: "nchw"}


def _spatial(node: ir.Call) -> int:
    return int(node.func[-2])


def _per_axis(value, nd: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple) else (int(value),) * nd


def _window(node: ir.Call, ctx: Context) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A convolution's stride, padding and dilation per spatial axis; 'same' as its padding."""
    nd = _spatial(node)
    stride, dilation = _per_axis(_kw(node, "stride") or 1, nd), _per_axis(_kw(node, "dilation") or 1, nd)
    padding = _kw(node, "padding")
    if padding == "same":
        pads = []
        for k, d in zip(ctx.shape(node.args[1])[2:], dilation):
            if not k.is_const or d * (k.value - 1) % 2:
                raise NotDerivable(
                    f"{node.func}(padding='same') with a kernel size that is a dim or even (torch pads the odd "
                    "one after: no transposed convolution undoes it; write padding= as a number)"
                )
            pads.append(d * (k.value - 1) // 2)
        return stride, tuple(pads), dilation
    return stride, _per_axis(0 if padding in (None, "valid") else padding, nd), dilation


def _window_kwargs(stride, padding, dilation) -> dict:
    """The keywords to write: defaults left out, equal entries as one integer."""

    def written(values: tuple[int, ...], default: int):
        if all(v == default for v in values):
            return None
        return values[0] if len(set(values)) == 1 else values

    return {"stride": written(stride, 1), "padding": written(padding, 0), "dilation": written(dilation, 1)}


def _swap(nd: int, e: ir.Expr) -> ir.Expr:
    """The first two axes of e exchanged (batch and channels; out and in channels of a weight)."""
    layout = _LAYOUT[nd]
    return call("einsum", ir.String((0, 0), f"{layout}->{layout[1]}{layout[0]}{layout[2:]}"), e)


def _conv_weight_gradient(nd: int, x: ir.Expr, G: ir.Expr, stride, padding, dilation) -> ir.Expr:
    conv = call(f"conv{nd}d", _swap(nd, x), _swap(nd, G), **_window_kwargs(dilation, padding, stride))
    return _swap(nd, conv)


def _conv_rule(transposed: bool) -> Rule:
    """The rule of conv (``transposed`` False) or conv_transpose: in x each is the other's adjoint;
    in w both correlate a convolution's input with its output's adjoint, and conv_transpose is
    a convolution run backwards (G its input, x its output's adjoint)."""

    def rule(node, i, G, ctx):
        nd = _spatial(node)
        x, w = node.args
        stride, padding, dilation = _window(node, ctx)
        G = ctx.full(G, node)
        if i == 0:
            adjoint = f"conv{nd}d" if transposed else f"conv_transpose{nd}d"
            return call(adjoint, G, w, **_window_kwargs(stride, padding, dilation))
        conv_input, conv_adjoint = (G, x) if transposed else (x, G)
        return _conv_weight_gradient(nd, conv_input, conv_adjoint, stride, padding, dilation)

    return rule


def _pool_rule(node, i, G, ctx):
    x, size = node.args
    if not (isinstance(size, ir.Number) and isinstance(size.value, int)):
        raise NotDerivable(f"{node.func}() with a pool size written as an expression (write the integer)")
    k = size.value
    stride = _per_axis(_kw(node, "stride") or k, 2)
    if node.func == "max_pool2d" and stride != (k, k):
        raise NotDerivable("max_pool2d() with a stride= other than the pool size (overlapping or gapped windows)")
    channels = ctx.dim(ctx.shape(x)[1])
    if channels is not None:
        identity = call("eye", channels)
    else:  # a dim that cannot be named: the identity from x's own channel axis
        every, first = ir.IndexSlice(None, None, None), ir.IndexInt(0)
        identity = call("diag", call("ones_like", index(x, (first, every, first, first))))
    every, new = ir.IndexSlice(None, None, None), ir.IndexNewAxis()
    ones = call("ones", ir.TupleExpr((0, 0), (num(k), num(k))))
    spread = mul(index(identity, (every, every, new, new)), ones)

    def up(e: ir.Expr) -> ir.Expr:
        return call("conv_transpose2d", e, spread, **_window_kwargs(stride, (0, 0), (1, 1)))

    G = ctx.full(G, node)
    if node.func == "avg_pool2d":
        return div(up(G), num(k * k))
    return _where(_gt(x, up(node), "=="), up(G), num(0))


# -- fn-index: gathers and shape manipulation --------------------------------------------


def _axis_arg(node: ir.Call):
    """The axis of a call, given by position (``expand_dims(x, 0)``) or as axis=/axes=."""
    kinds = [kind for _, kind in TABLE[node.func].params]
    if "axes" in kinds and len(node.args) > kinds.index("axes"):
        arg = node.args[kinds.index("axes")]
        return tuple(int(v.value) for v in arg.items) if isinstance(arg, ir.TupleExpr) else int(arg.value)
    axis = _kw(node, "axis")
    return _kw(node, "axes") if axis is None else axis


def _tuple_expr(values) -> ir.TupleExpr:
    return ir.TupleExpr((0, 0), tuple(v if isinstance(v, ir.Expr) else num(v) for v in values))


def _named(ctx: Context, dims, what: str) -> list[ir.Expr]:
    parts = [ctx.dim(d) for d in dims]
    if any(p is None for p in parts):
        raise NotDerivable(f"{what} of an array whose dims cannot be named in an expression")
    return parts


def _spread(e: ir.Expr, letters: str, out: str) -> ir.Expr:
    """``e`` (axes ``letters``, in ``out``'s order) indexed with None so that it broadcasts to ``out``."""
    first = out.index(letters[0])
    items = [ir.IndexSlice(None, None, None) if c in letters else ir.IndexNewAxis() for c in out[first:]]
    while items and isinstance(items[-1], ir.IndexSlice):
        items.pop()
    return index(e, tuple(items)) if items else e


def _contract(operands: list[tuple[ir.Expr, str]], out: str, ctx: Context, node: ir.Expr) -> ir.Expr:
    """The sum over every letter not in ``out`` of the product of the operands: a broadcast product
    (``G[:, None] * onehot(y, k)``) where nothing is summed and the axes keep their order, else einsum.
    The first operand is the adjoint G of ``node``; a scalar G (of a mean) stays a scalar factor."""
    G, g_letters = operands[0]
    scalar = ctx.shape(G) == () and ctx.shape(node) != ()

    def ordered(letters: str) -> bool:
        return len(set(letters)) == len(letters) and [c for c in out if c in letters] == list(letters)

    rest = operands[1:] if scalar else operands
    if all(letters and set(letters) <= set(out) and ordered(letters) for _, letters in rest):
        total = G if scalar else None
        for e, letters in rest:
            spread = _spread(e, letters, out)
            total = spread if total is None else mul(total, spread)
        return total
    operands = [(ctx.full(G, node), g_letters), *operands[1:]]
    subscripts = ",".join(letters for _, letters in operands) + "->" + out
    return call("einsum", ir.String((0, 0), subscripts), *(e for e, _ in operands))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def vjp_index(node: ir.Index, G: ir.Expr, ctx: Context) -> ir.Expr:
    """The adjoint of ``x`` in ``x[items]`` with index arrays: G scattered back, as a product with
    one-hot encodings of the indices (``lp[arange(M), y]``: ``G[:, None] * onehot(y, k)``).

    Index items beside the arrays may be integers, ``:`` and None; ``arange(n)`` over a whole axis
    of size n is the identity and leaves no one-hot factor."""
    x = node.value
    shape = ctx.shape(x)
    letters = iter(_LETTERS)
    mine = [next(letters) for _ in shape]
    arrays = [item for item in node.items if isinstance(item, ir.IndexArray)]
    rank = max(len(ctx.shape(a.expr)) for a in arrays)
    joint = [next(letters) for _ in range(rank)]
    parts: list[str | None] = []  # G's letters in order; None where the advanced block goes
    factors: list[tuple[ir.Expr, str]] = []
    aranges: list[tuple[ir.Expr, str, str]] = []  # (factor, its joint letter, the axis letter)
    axis = 0
    for item in node.items:
        if isinstance(item, ir.IndexNewAxis):
            parts.append(next(letters))  # a length-1 axis of G, summed away
            continue
        d, letter = shape[axis], mine[axis]
        axis += 1
        if isinstance(item, ir.IndexSlice):
            if item != ir.IndexSlice(None, None, None):
                raise NotDerivable("indexing with a slice other than `:` beside an index array")
            parts.append(letter)
            continue
        parts.append(None)
        (size,) = _named(ctx, (d,), "indexing")
        if isinstance(item, ir.IndexInt):  # x[-1]: the entry size - 1
            at = (
                num(item.value % d.value)
                if d.is_const
                else num(item.value)
                if item.value >= 0
                else add(size, num(item.value))
            )
            factors.append((call("onehot", at, size), letter))
            continue
        index_shape = ctx.shape(item.expr)
        own = "".join(joint[rank - len(index_shape) :])
        factor = call("onehot", item.expr, size)
        factors.append((factor, own + letter))
        arange = isinstance(item.expr, ir.Call) and item.expr.func == "arange"
        if arange and index_shape == (d,) and len(own) == 1:
            aranges.append((factor, own, letter))
    where = [i for i, p in enumerate(parts) if p is None]
    if where == list(range(where[0], where[-1] + 1)):
        g_letters = [p for p in parts[: where[0]] if p] + joint + [p for p in parts[where[0] :] if p]
    else:
        g_letters = joint + [p for p in parts if p]
    g_letters += mine[axis:]
    operands = [(G, "".join(g_letters)), *factors]
    for factor, own, letter in aranges:  # onehot(arange(n), n) is eye(n): rename its joint letter instead
        if not any(f is factor for f, _ in operands):
            continue
        operands = [(e, ls.replace(own, letter)) for e, ls in operands if e is not factor]
    return _contract(operands, "".join(mine), ctx, node)


def _take_along_axis_rule(node, i, G, ctx):
    a, indices = node.args[:2]
    shape = ctx.shape(a)
    axis = _axis_arg(node) % len(shape)
    (size,) = _named(ctx, (shape[axis],), "take_along_axis()")
    mine = _LETTERS[: len(shape)]
    taken = mine[:axis] + _LETTERS[len(shape)] + mine[axis + 1 :]
    operands = [(G, taken), (call("onehot", indices, size), taken + mine[axis])]
    return _contract(operands, mine, ctx, node)


def _expand_dims_rule(node, i, G, ctx):
    axes = _axis_arg(node)
    axes = axes if isinstance(axes, tuple) else (axes,)
    rank = len(ctx.shape(node))
    placed = tuple(sorted(a % rank for a in axes))
    return call("squeeze", ctx.full(G, node), axis=placed[0] if len(placed) == 1 else placed)


def _squeeze_rule(node, i, G, ctx):
    shape = ctx.shape(node.args[0])
    axes = _axis_arg(node)
    if axes is None:
        placed = tuple(j for j, d in enumerate(shape) if d == Dim.const(1))
    else:
        placed = tuple(sorted(a % len(shape) for a in (axes if isinstance(axes, tuple) else (axes,))))
    if not placed:
        return G
    return call("expand_dims", ctx.full(G, node), axis=placed[0] if len(placed) == 1 else placed)


def _tile_rule(node, i, G, ctx):
    """tile: G viewed as (reps_0, d_0, reps_1, d_1, ...) and summed over the reps."""
    shape = ctx.shape(node.args[0])
    reps_arg = node.args[1]
    reps = list(reps_arg.items) if isinstance(reps_arg, ir.TupleExpr) else [reps_arg]
    rank = max(len(shape), len(reps))
    dims = [num(1)] * (rank - len(shape)) + _named(ctx, shape, "tile()")
    reps = [num(1)] * (rank - len(reps)) + reps
    target: list[ir.Expr] = []
    summed: list[int] = []
    for j, (d, r) in enumerate(zip(dims, reps)):
        one = key(r) == key(num(1))
        if j < rank - len(shape):  # an axis tile added in front of x's: r copies of x
            if not one:
                summed.append(len(target))
                target.append(r)
            continue
        if not one:
            summed.append(len(target))
            target.append(r)
        target.append(d)
    if not summed:
        return ctx.full(G, node)
    G = ctx.full(G, node)
    reshaped = len(target) != len(ctx.shape(node))  # else the copies are G's own axes
    viewed = call("reshape", G, _tuple_expr(target)) if reshaped else G
    return call("sum", viewed, axis=summed[0] if len(summed) == 1 else tuple(summed))


def _repeat_rule(node, i, G, ctx):
    x, times = node.args[:2]
    shape = ctx.shape(x)
    dims = _named(ctx, shape, "repeat()")
    axis = _axis_arg(node)
    G = ctx.full(G, node)
    if axis is None:  # numpy flattened x
        total = None
        for d in dims:
            total = d if total is None else mul(total, d)
        summed = call("sum", call("reshape", G, _tuple_expr([total or num(1), times])), axis=1)
        return summed if len(shape) == 1 else call("reshape", summed, _tuple_expr(dims))
    axis %= len(shape)
    target = dims[:axis] + [dims[axis], times] + dims[axis + 1 :]
    return call("sum", call("reshape", G, _tuple_expr(target)), axis=axis + 1)


def _pad_rule(node, i, G, ctx):
    """pad: the adjoint is G without the padding, a slice (literal widths only)."""
    shape = ctx.shape(node.args[0])
    widths = node.args[1]

    def literal(e: ir.Expr) -> int:
        if isinstance(e, ir.Number) and isinstance(e.value, int):
            return e.value
        raise NotDerivable("pad() with widths that name dims (its adjoint slices at symbolic offsets)")

    if not isinstance(widths, ir.TupleExpr):
        pairs = [(literal(widths), literal(widths))]
    elif widths.items and all(isinstance(p, ir.TupleExpr) for p in widths.items):
        pairs = [(literal(p.items[0]), literal(p.items[1])) for p in widths.items]
    else:
        pairs = [(literal(widths.items[0]), literal(widths.items[-1]))]
    pairs = pairs * len(shape) if len(pairs) == 1 else pairs
    items = [ir.IndexSlice(b or None, -a if a else None, None) for b, a in pairs]
    while items and items[-1] == ir.IndexSlice(None, None, None):
        items.pop()
    G = ctx.full(G, node)
    return index(G, tuple(items)) if items else G


def _transpose_axes_rule(node, i, G, ctx):
    axes = _axis_arg(node)
    if axes is None:
        return call("transpose", ctx.full(G, node))
    n = len(axes)
    inverse = [0] * n
    for j, a in enumerate(axes):
        inverse[a % n] = j
    return call("transpose", ctx.full(G, node), _tuple_expr(inverse))


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
    "reshape": _reshape_rule,
    "dot": _dot_rule,
    "einsum": _einsum_rule,
    "conv1d": _conv_rule(transposed=False),
    "conv2d": _conv_rule(transposed=False),
    "conv_transpose1d": _conv_rule(transposed=True),
    "conv_transpose2d": _conv_rule(transposed=True),
    "max_pool2d": _pool_rule,
    "avg_pool2d": _pool_rule,
    # -- fn-index (on real data: conj and real are the identity, imag is zero) --
    "conj": lambda node, i, G, ctx: G,
    "real": lambda node, i, G, ctx: G,
    "imag": _constant,
    "arange": _constant,
    "take_along_axis": _take_along_axis_rule,
    "expand_dims": _expand_dims_rule,
    "squeeze": _squeeze_rule,
    "tile": _tile_rule,
    "repeat": _repeat_rule,
    "pad": _pad_rule,
    "transpose": _transpose_axes_rule,
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
    if kind in ("shape", "newshape", "size", "subscripts", "axes", "widths", "index"):
        return None  # static arguments (shapes, sizes, einsum's subscripts, axes, widths) and integer indices
    rule = RULES.get(node.func)
    if rule is None:
        raise NotDerivable(f"{node.func}() has no derivative rule")
    return rule(node, i, G, ctx)
