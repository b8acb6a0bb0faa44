"""Evaluate an IR expression with numpy: a recursive walker over the closed IR, never ``eval``.

Numeric literals are used as Python floats (so ``2**-1`` is 0.5 and a literal never changes
the dtype of a float32 array); integer literals stay integers only where they are shapes,
sizes or indices. Runtime failures (a singular matrix, a label out of range) propagate as the
numpy exceptions they are; the caller turns them into verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ExpressionError
from . import ir
from .functions import TABLE
from .kernels import KERNELS, split_product

__all__ = ["evaluate"]

Defines = Mapping[str, tuple[tuple[str, ...], ir.Expr, str]]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
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

    Returns
    -------
    numpy.ndarray
        The value; 0-d for a scalar. Complex inputs give complex results (complex step).

    Raises
    ------
    ExpressionError
        A name is missing from ``env`` (a bug in the caller: shapes are checked first).
    """
    return np.asarray(_Walker(defines, perturb).value(expr, env))


class _Walker:
    def __init__(self, defines: Defines, perturb: Callable[[np.ndarray], np.ndarray] | None) -> None:
        self.defines = defines
        self.perturb = perturb

    def value(self, node: ir.Expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ir.Number):
            return float(node.value)
        if isinstance(node, ir.Name):
            if node.id not in env:
                raise ExpressionError(f"no value for name '{node.id}'", span=node.span)
            return env[node.id]
        if isinstance(node, ir.Call) and node.func in self.defines:
            return self.define(node, env)
        return self.rounded(self.compute(node, env))

    def rounded(self, result: Any) -> Any:
        if self.perturb is None or not np.issubdtype(np.asarray(result).dtype, np.inexact):
            return result
        return self.perturb(np.asarray(result))

    def compute(self, node: ir.Expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ir.Unary):
            operand = self.value(node.operand, env)
            return -operand if node.op == "-" else +operand
        if isinstance(node, ir.Binary):
            return _BINARY[node.op](self.value(node.left, env), self.value(node.right, env))
        if isinstance(node, ir.Compare):  # real parts: where() branches like the real function
            left, right = np.real(self.value(node.left, env)), np.real(self.value(node.right, env))
            return _COMPARE[node.op](left, right)
        if isinstance(node, ir.Transpose):
            return np.transpose(self.value(node.operand, env))
        if isinstance(node, ir.Index):
            return np.asarray(self.value(node.value, env))[_index(node.items)]
        if isinstance(node, ir.Call):
            return self.call(node, env)
        raise ExpressionError(f"{type(node).__name__} cannot be evaluated here", span=node.span)

    def call(self, node: ir.Call, env: Mapping[str, Any]) -> Any:
        function = TABLE[node.func]
        params = function.params
        args = []
        for position, arg in enumerate(node.args):
            kind = params[min(position, len(params) - 1)][1]
            args.append(self.argument(kind, arg, env))
        kwargs = {key: _static_keyword(value) for key, value in node.kwargs}
        return KERNELS[node.func](*args, **kwargs)

    def argument(self, kind: str, arg: ir.Expr, env: Mapping[str, Any]) -> Any:
        if kind in ("shape", "newshape"):
            items = arg.items if isinstance(arg, ir.TupleExpr) else (arg,)
            return tuple(_static_int(item, env) for item in items)
        if kind == "size":
            return _static_int(arg, env)
        if kind == "subscripts":
            return arg.value
        if kind == "arrays":
            return [self.value(item, env) for item in arg.items]
        return self.value(arg, env)

    def define(self, node: ir.Call, env: Mapping[str, Any]) -> Any:
        params, body, _ = self.defines[node.func]
        inner = dict(env)
        inner.update(zip(params, (self.value(arg, env) for arg in node.args)))
        return self.value(body, inner)


def _index(items: tuple[ir.IndexItem, ...]) -> tuple:
    out: list[Any] = []
    for item in items:
        if isinstance(item, ir.IndexInt):
            out.append(item.value)
        elif isinstance(item, ir.IndexSlice):
            out.append(slice(item.start, item.stop, item.step))
        else:
            out.append(None)
    return tuple(out)


def _static_keyword(value: ir.Expr) -> Any:
    if isinstance(value, ir.TupleExpr):
        return tuple(int(item.value) for item in value.items)
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
