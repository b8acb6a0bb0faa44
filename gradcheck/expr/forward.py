"""Forward mode with dual numbers: an expression's value and its derivatives along k directions.

Every value on the path from the differentiated names carries its tangents: ``Dual(value,
tangent)`` with ``tangent`` shaped ``(k, *value.shape)``, one row per direction. Each operation
computes its value once, in real arithmetic, and its tangent by a rule from :data:`TANGENTS`:

* ``linear`` functions (sum, reshape, transpose, einsum in each operand, ...) apply the same
  function to the tangents, through the batched walker (:func:`evaluate._batched_call`), so the
  k tangents cost one vectorised call;
* ``elementwise`` functions multiply the tangents by their derivative at the value (exp costs
  one exp and one multiply; ``@`` two real products);
* ``local complex step``: the remaining functions (the factorizations, softmax, logsumexp,
  max, var, ...) take the complex step of their own kernel at that node only,
  ``Im f(a + i h t) / h``, exact to rounding because every kernel in the table is the analytic
  continuation of the real function (:mod:`gradcheck.expr.kernels`); the rest of the expression
  stays real.

A function whose kernel is not complex-step safe and has no rule of its own cannot be
differentiated here: :class:`NotForwardable` is raised and the caller uses another oracle.

Reference: Griewank, A. and Walther, A. (2008). Evaluating Derivatives, 2nd ed., SIAM, ch. 3
(the tangent, or forward, mode).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ExpressionError
from . import ir
from .evaluate import (
    _BINARY,
    _COMPARE,
    Defines,
    _aligned,
    _Batch,
    _batched_call,
    _batched_index,
    _batched_matmul,
    _index,
    _transposed,
    _Walker,
    call_arguments,
    helper_call,
    leaf,
)
from .functions import TABLE
from .kernels import KERNELS, _normal_cdf, power, sigmoid

__all__ = ["Dual", "FINITE_DIFFERENCES_ONLY", "NotForwardable", "TANGENTS", "forward", "forward_value", "split"]


class NotForwardable(Exception):
    """The expression calls a function that has no tangent rule here (the caller falls back)."""


@dataclass(frozen=True)
class Dual:
    """A value and its tangents along k directions (``tangent[i]`` for direction i)."""

    value: Any
    tangent: np.ndarray  # (k, *np.shape(value))


def forward(
    expr: ir.Expr,
    env: Mapping[str, Any],
    defines: Defines,
    tangents: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """``expr``'s value and its derivatives along k directions.

    Parameters
    ----------
    expr : ir.Expr
        A parsed, shape-checked expression.
    env : mapping of str to array or scalar
        Values of the names (real).
    defines : mapping
        The spec's helper functions.
    tangents : mapping of str to array
        For each differentiated name, its k directions, shaped ``(k, *shape of the name)``.

    Returns
    -------
    (value, derivatives)
        ``value`` as :func:`~gradcheck.expr.evaluate.evaluate` gives it; ``derivatives`` shaped
        ``(k, *value.shape)``: row i is the derivative along direction i (zeros if the
        expression does not depend on the differentiated names).

    Raises
    ------
    NotForwardable
        A function on the path has no tangent rule (its kernel is not complex-step safe).
    """
    k = len(next(iter(tangents.values()))) if tangents else 0
    wrapped = dict(env)
    for name, t in tangents.items():
        value = np.asarray(env[name], dtype=np.float64)
        wrapped[name] = Dual(value, np.asarray(t, dtype=np.float64).reshape((k,) + value.shape))
    return split(forward_value(expr, wrapped, defines), k)


def forward_value(expr: ir.Expr, env: Mapping[str, Any], defines: Defines, known: Any = None) -> Any:
    """``expr`` over an environment whose differentiated values are :class:`Dual`: a Dual, or a
    plain value where the expression does not depend on them (for walking a graph node by node).

    ``known``: the expression's value at this point when the caller has it already (a graph
    node evaluated when the sample was bound); the outermost operation then computes only its
    tangents (``X @ Theta`` costs one product, ``X @ V``, instead of two).
    """
    return _Forward(defines).value(expr, env, known)


def split(out: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(value, tangents) of a :func:`forward_value` result; zero tangents for a plain value."""
    if isinstance(out, Dual):
        return np.asarray(out.value), _full(out.tangent, np.shape(out.value))
    value = np.asarray(out)
    return value, np.zeros((k,) + value.shape)


# -- helpers ---------------------------------------------------------------------------------


def _val(a: Any) -> Any:
    return a.value if isinstance(a, Dual) else a


def _full(t: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Tangents ``(k, *s)`` broadcast to ``(k, *shape)`` (s broadcasts to shape)."""
    if t.shape[1:] == shape:
        return t
    lead = t.reshape(t.shape[:1] + (1,) * (len(shape) - (t.ndim - 1)) + t.shape[1:])
    return np.broadcast_to(lead, t.shape[:1] + tuple(shape))


def _times(derivative: Any, t: np.ndarray) -> np.ndarray:
    """Each tangent row times the (broadcastable) derivative array."""
    a, b = _aligned([_Batch(t), np.asarray(derivative)])
    return a * b


def _sum_tangents(parts: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray | None:
    out = None
    for p in parts:
        p = _full(p, shape)
        out = p if out is None else out + p
    return out


def _dual(value: Any, parts: list[np.ndarray]) -> Any:
    value = np.asarray(value)
    tangent = _sum_tangents(parts, value.shape)
    return value if tangent is None else Dual(value, tangent)


# -- elementwise derivatives: d f / d x at x, given y = f(x) ---------------------------------

_SQRT_2PI = float(np.sqrt(2 * np.pi))
_GELU_C = float(np.sqrt(2 / np.pi))


def _gelu_derivative(x, y, approximate="none"):
    if approximate == "tanh":
        u = _GELU_C * (x + 0.044715 * x**3)
        th = np.tanh(u)
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * _GELU_C * (1 + 3 * 0.044715 * x * x)
    return _normal_cdf(x) + x * np.exp(-0.5 * x * x) / _SQRT_2PI


def _sigmoid_derivative(x):
    """σ'(x) = e / (1 + e)² with e = exp(-|x|): one exp, and no cancellation (y (1 - y) loses
    every digit of 1 - y where y is near 1)."""
    e = np.exp(-np.abs(x))
    d = 1 + e
    return e / (d * d)


def _sech2(x):
    with np.errstate(over="ignore"):
        return 1 / np.cosh(x) ** 2


_UNARY: dict[str, Callable[..., Any]] = {
    "exp": lambda x, y: y,
    "log": lambda x, y: 1 / x,
    "log1p": lambda x, y: 1 / (1 + x),
    "expm1": lambda x, y: y + 1,
    "sqrt": lambda x, y: 0.5 / y,
    "square": lambda x, y: 2 * x,
    "abs2": lambda x, y: 2 * x,
    "sin": lambda x, y: np.cos(x),
    "cos": lambda x, y: -np.sin(x),
    "tanh": lambda x, y: _sech2(x),  # not 1 - y*y: it cancels where |y| is near 1
    "sigmoid": lambda x, y: _sigmoid_derivative(x),
    "softplus": lambda x, y: sigmoid(x),
    "log_sigmoid": lambda x, y: sigmoid(-np.asarray(x)),
    "relu": lambda x, y: (np.asarray(x) > 0).astype(np.float64),
    "abs": lambda x, y: np.where(np.asarray(x) < 0, -1.0, 1.0),
    "sign": lambda x, y: np.zeros(np.shape(x)),
    "erf": lambda x, y: 2 / np.sqrt(np.pi) * np.exp(-(np.asarray(x) ** 2)),
    "reciprocal": lambda x, y: -y * y,
    "gelu": _gelu_derivative,
}

# functions linear in each array argument: the tangent is the function of the tangent
_LINEAR = frozenset(
    "sum mean transpose reshape trace diag tril triu cumsum stack concatenate outer kron dot einsum "
    "conv1d conv2d conv_transpose1d conv_transpose2d avg_pool2d "
    "take_along_axis expand_dims squeeze tile repeat pad real conj".split()  # real, conj: on real data
)
# no derivative: integer results, constants, or the same value whatever the input
_CONSTANT = frozenset(
    "argmax argmin onehot eye ones zeros ones_like zeros_like arange imag".split()
)  # imag: 0 on real data
# elementwise functions of several arguments whose rule picks between them
_SELECT = frozenset("maximum minimum where clip logaddexp".split())

TANGENTS: dict[str, str] = {
    **{name: "elementwise" for name in _UNARY},
    **{name: "linear" for name in _LINEAR},
    **{name: "constant" for name in _CONSTANT},
    **{name: "select" for name in _SELECT},
}
"""How each function's tangent is computed; the functions not listed use the local complex
step of their kernel (when the table says the kernel is complex-step safe)."""


def _complex_safe(name: str) -> bool:
    return getattr(TABLE[name], "complex_safe", True)


# no rule of their own and no complex-step continuation: an expression calling them is checked by
# finite differences (the evaluator refuses them a complex point; see expr/kernels.py)
FINITE_DIFFERENCES_ONLY = frozenset({"eigvalsh", "eigvecsh"})


def rule(name: str) -> str:
    """The tangent rule of a whitelisted function: elementwise, linear, constant, select,
    local complex step, or none (a kernel that is not complex-step safe)."""
    if name in TANGENTS:
        return TANGENTS[name]
    return "local complex step" if _complex_safe(name) else "none"


# -- the walker ------------------------------------------------------------------------------


class _Forward:
    def __init__(self, defines: Defines) -> None:
        self.defines = defines

    def value(self, node: ir.Expr, env: Mapping[str, Any], known: Any = None) -> Any:
        if isinstance(node, (ir.Number, ir.Name)):
            return leaf(node, env)
        if isinstance(node, ir.Call) and node.func in self.defines:
            body, inner = helper_call(self.defines, node, env, self.value)
            return self.value(body, inner)
        if isinstance(node, ir.Unary):
            a = self.value(node.operand, env)
            if node.op == "+":
                return a
            return Dual(-a.value, -a.tangent) if isinstance(a, Dual) else -a
        if isinstance(node, ir.Binary):
            return self.binary(node.op, self.value(node.left, env), self.value(node.right, env), known)
        if isinstance(node, ir.Compare):
            left, right = _val(self.value(node.left, env)), _val(self.value(node.right, env))
            return _COMPARE[node.op](np.real(left), np.real(right))
        if isinstance(node, ir.Transpose):
            a = self.value(node.operand, env)
            if isinstance(a, Dual):
                return Dual(np.transpose(a.value), _transposed(_Batch(a.tangent)).a)
            return np.transpose(a)
        if isinstance(node, ir.Index):
            a = self.value(node.value, env)
            where = _index(node.items, lambda e: _val(self.value(e, env)))  # index arrays: integers, no tangent
            if isinstance(a, Dual):
                return Dual(np.asarray(a.value)[where], _batched_index(_Batch(a.tangent), where).a)
            return np.asarray(a)[where]
        if isinstance(node, ir.Call):
            return self.call(node, env, known)
        raise ExpressionError(f"{type(node).__name__} cannot be evaluated here", span=node.span)

    def binary(self, op: str, a: Any, b: Any, known: Any = None) -> Any:
        va, vb = _val(a), _val(b)
        ta = a.tangent if isinstance(a, Dual) else None
        tb = b.tangent if isinstance(b, Dual) else None
        if op == "@":
            value = np.matmul(va, vb) if known is None else known
            parts = []
            if ta is not None:
                parts.append(_batched_matmul(_Batch(ta), vb).a)
            if tb is not None:
                parts.append(_batched_matmul(va, _Batch(tb)).a)
            return _dual(value, parts)
        value = _BINARY[op](va, vb) if known is None else known
        parts = []
        if op in "+-":
            if ta is not None:
                parts.append(ta)
            if tb is not None:
                parts.append(tb if op == "+" else -tb)
        elif op == "*":
            if ta is not None:
                parts.append(_times(vb, ta))
            if tb is not None:
                parts.append(_times(va, tb))
        elif op == "/":
            if ta is not None:
                parts.append(_times(1 / np.asarray(vb), ta))
            if tb is not None:
                parts.append(_times(-np.asarray(value) / vb, tb))
        else:  # "**"
            if ta is not None:
                parts.append(_times(_power_derivative(va, vb), ta))
            if tb is not None:
                parts.append(_times(np.asarray(value) * np.log(va), tb))
        return _dual(value, parts)

    def call(self, node: ir.Call, env: Mapping[str, Any], known: Any = None) -> Any:
        args, kwargs = call_arguments(node, lambda kind, arg: self.argument(kind, arg, env))
        if not _carries_tangent(args):
            return KERNELS[node.func](*args, **kwargs)
        how = rule(node.func)
        if how == "none":
            raise NotForwardable(f"{node.func}() has no tangent rule and no complex-step continuation")
        values = [_values(a) for a in args]
        value = np.asarray(KERNELS[node.func](*values, **kwargs) if known is None else known)
        if how == "constant":
            return value
        if how == "elementwise":
            (x,) = args
            return _dual(value, [_times(_UNARY[node.func](x.value, value, **kwargs), x.tangent)])
        if how == "linear":
            return _dual(value, _linear_parts(node.func, args, kwargs))
        if how == "select":
            return _select(node.func, args, values, value, kwargs)
        return _dual(value, [_local_complex_step(node.func, args, kwargs)])

    def argument(self, kind: str, arg: ir.Expr, env: Mapping[str, Any]) -> Any:
        if kind == "arrays":
            return [self.value(item, env) for item in arg.items]
        if kind in ("array", "*array"):
            return self.value(arg, env)
        # static arguments (shapes, sizes, subscripts, axes, widths): as the plain walker reads them
        return _Walker(self.defines, None).argument(kind, arg, _values_env(env))


def _values_env(env: Mapping[str, Any]) -> Mapping[str, Any]:
    return {k: _val(v) for k, v in env.items()}


def _carries_tangent(args: list[Any]) -> bool:
    return any(isinstance(a, Dual) or (isinstance(a, list) and _carries_tangent(a)) for a in args)


def _values(a: Any) -> Any:
    return [_val(x) for x in a] if isinstance(a, list) else _val(a)


def _power_derivative(a: Any, b: Any) -> Any:
    """d(a**b)/da = b a**(b-1), with integer powers by repeated squaring (as the kernel does)."""
    if np.ndim(b) == 0 and float(b) == 0:
        return np.zeros(np.shape(a))
    return b * power(np.asarray(a, dtype=np.float64), b - 1)


def _linear_parts(name: str, args: list[Any], kwargs: dict[str, Any]) -> list[np.ndarray]:
    """f multilinear in its array arguments: one term per argument that carries tangents,
    f(..., tangent of that argument, ...) with the others at their values."""
    fn = KERNELS[name]
    if name in ("stack", "concatenate"):
        (arrays,) = args
        k = next(a.tangent.shape[0] for a in arrays if isinstance(a, Dual))
        rows = [a.tangent if isinstance(a, Dual) else np.zeros((k,) + np.shape(a)) for a in arrays]
        return [_batched_call(name, fn, [[_Batch(r) for r in rows]], kwargs).a]
    parts = []
    for i, a in enumerate(args):
        if isinstance(a, Dual):
            replaced = [_Batch(a.tangent) if j == i else _val(x) for j, x in enumerate(args)]
            parts.append(_batched_call(name, fn, replaced, kwargs).a)
    return parts


def _select(name: str, args: list[Any], values: list[Any], value: np.ndarray, kwargs: dict[str, Any]) -> Any:
    """Functions that pick between their arguments (on real parts, as their kernels do)."""
    k = next(a.tangent.shape[0] for a in args if isinstance(a, Dual))
    shape = value.shape

    def t(a: Any) -> np.ndarray:
        return _full(a.tangent, shape) if isinstance(a, Dual) else np.zeros((k,) + shape)

    if name in ("maximum", "minimum"):
        a, b = args
        va, vb = np.real(values[0]), np.real(values[1])
        first = va >= vb if name == "maximum" else va <= vb
        return Dual(value, np.where(first, t(a), t(b)))
    if name == "where":
        condition, a, b = args
        c = np.real(np.asarray(_val(condition))).astype(bool)
        return Dual(value, np.where(c, t(a), t(b)))
    if name == "clip":  # minimum(maximum(x, lo), hi)
        x, lo, hi = args
        m = KERNELS["maximum"](values[0], values[1])
        tm = np.where(np.real(values[0]) >= np.real(values[1]), t(x), t(lo))
        return Dual(value, np.where(np.real(m) <= np.real(values[2]), _full(tm, shape), t(hi)))
    # logaddexp: d/da = exp(a - y), d/db = exp(b - y)
    a, b = args
    parts = []
    if isinstance(a, Dual):
        parts.append(_times(np.exp(values[0] - value), a.tangent))
    if isinstance(b, Dual):
        parts.append(_times(np.exp(values[1] - value), b.tangent))
    return _dual(value, parts)


_LOCAL_STEP = 1e-30  # the complex step's own h (oracle.complex_step.STEP), over the tangents' scale


def _local_complex_step(name: str, args: list[Any], kwargs: dict[str, Any]) -> np.ndarray:
    """Im f(a + i h t) / h for all k tangents in one batched call of f's own kernel."""
    scale = max(float(np.max(np.abs(a.tangent), initial=0.0)) for a in _duals(args))
    if scale == 0 or not np.isfinite(scale):
        scale = 1.0
    h = _LOCAL_STEP / scale

    def lift(a: Any) -> Any:
        if isinstance(a, list):
            return [lift(x) for x in a]
        if isinstance(a, Dual):
            return _Batch(np.asarray(a.value) + 1j * h * a.tangent)
        return a

    out = _batched_call(name, KERNELS[name], [lift(a) for a in args], kwargs)
    return np.imag(out.a) / h


def _duals(args: list[Any]):
    for a in args:
        if isinstance(a, list):
            yield from _duals(a)
        elif isinstance(a, Dual):
            yield a
