"""The typed intermediate representation of a spec expression.

``parse`` turns text into these frozen nodes; ``shapes`` infers symbolic shapes over them;
``evaluate`` walks them with numpy. Every node keeps its character ``span`` inside the
expression text so errors can point at the offending column. The IR is deliberately small
and closed so that later work can differentiate it symbolically.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]  # [start, end) character offsets inside the expression text


@dataclass(frozen=True)
class Expr:
    span: Span


@dataclass(frozen=True)
class Number(Expr):
    value: int | float  # int for integer literals (usable in shapes and indices)


@dataclass(frozen=True)
class String(Expr):
    value: str  # einsum's first argument, gelu's approximate=, or padding='same' / 'valid'


@dataclass(frozen=True)
class Name(Expr):
    id: str


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # '-' or '+'
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str  # '+', '-', '*', '/', '**', '@'
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # '<', '<=', '>', '>=', '==', '!='  (only inside where())
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Transpose(Expr):
    operand: Expr  # `.T`: reverses all axes, never conjugates


@dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]  # shape arguments `(M, in)`, `axis=(0, 1)`


@dataclass(frozen=True)
class Call(Expr):
    func: str  # a whitelisted function or a `define:` helper
    args: tuple[Expr, ...]
    kwargs: tuple[
        tuple[str, Expr], ...
    ]  # axis=, keepdims=, ddof=, k=, approximate=, stride=, lower=, ... (static literals)


@dataclass(frozen=True)
class IndexInt:
    value: int


@dataclass(frozen=True)
class IndexSlice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True)
class IndexNewAxis:
    pass


@dataclass(frozen=True)
class IndexArray:
    """An integer-array index: ``arange(n)`` or an integer input (``lp[arange(M), y]``); never
    differentiated. Its expression keeps its span (``derive.algebra.key`` compares by structure)."""

    expr: Expr


IndexItem = IndexInt | IndexSlice | IndexNewAxis | IndexArray


@dataclass(frozen=True)
class Index(Expr):
    value: Expr
    items: tuple[IndexItem, ...]
