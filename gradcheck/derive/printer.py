"""IR -> expression text a person would write, with the fewest parentheses that keep the tree.

The text parses back (with :func:`gradcheck.expr.parse.parse`) into the same IR up to spans:
:func:`gradcheck.derive.algebra.key` of both is equal (tested over every derived gradient).
Python's precedence is followed: ``+ -`` < ``* / @`` < unary ``-`` < ``**`` < calls,
subscripts and ``.T``; ``a - (b - c)`` and ``a * (b * c)`` keep their parentheses because
the right-nested tree is a different expression, and an elementwise product inside a matrix
product is parenthesised for the reader (``(c * d) @ W``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..expr import ir

__all__ = ["to_text"]

_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_UNARY, _ATOM = 3, 5


def to_text(
    e: ir.Expr,
    *,
    names: Mapping[str, str] | None = None,
    functions: Mapping[str, str] | None = None,
    source: str = "",
) -> str:
    """The expression as text; ``names`` and ``functions`` map identifiers for other targets
    (the numpy backward pass writes ``d_a`` for ``dL/da`` and ``np.exp`` for ``exp``).

    ``source``: the text ``e`` was parsed from; a subtree that still has its span there is
    printed as the user wrote it (an edited claim keeps the user's spelling everywhere but the edit).
    """
    return _Printer(names or {}, functions or {}, source).text(e)[0]


def _number(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _wrap(text_level: tuple[str, int], need: int) -> str:
    text, level = text_level
    return f"({text})" if level < need else text


def _mixes(parent: ir.Binary, child: ir.Expr) -> bool:
    """An elementwise product inside a matrix product, or the other way round."""
    if not isinstance(child, ir.Binary) or _LEVEL.get(child.op) != 2 or _LEVEL[parent.op] != 2:
        return False
    return (parent.op == "@") != (child.op == "@")


def _item(item: ir.IndexItem, text=None) -> str:
    if isinstance(item, ir.IndexArray):
        return text(item.expr)[0]
    if isinstance(item, ir.IndexNewAxis):
        return "None"
    if isinstance(item, ir.IndexInt):
        return str(item.value)
    parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
    return ":".join(parts[:2]) + (f":{parts[2]}" if item.step is not None else "")


class _Printer:
    def __init__(self, names: Mapping[str, str], functions: Mapping[str, str], source: str = "") -> None:
        self.names = names
        self.functions = functions
        self.source = source

    def text(self, e: ir.Expr) -> tuple[str, int]:
        text, level = self.built(e)
        start, end = e.span
        if self.source and end > start and end <= len(self.source) and not isinstance(e, ir.Number):
            return self.source[start:end], level
        return text, level

    def built(self, e: ir.Expr) -> tuple[str, int]:
        if isinstance(e, ir.Number):
            text = _number(e.value)
            return (text, _UNARY) if text.startswith("-") else (text, _ATOM)
        if isinstance(e, ir.Name):
            return self.names.get(e.id, e.id), _ATOM
        if isinstance(e, ir.String):
            return '"' + e.value + '"', _ATOM
        if isinstance(e, ir.Unary):
            return e.op + _wrap(self.text(e.operand), _UNARY), _UNARY
        if isinstance(e, ir.Binary):
            return self.binary(e)
        if isinstance(e, ir.Compare):
            return f"{_wrap(self.text(e.left), 1)} {e.op} {_wrap(self.text(e.right), 1)}", 0
        if isinstance(e, ir.Transpose):
            return _wrap(self.text(e.operand), _ATOM) + ".T", _ATOM
        if isinstance(e, ir.TupleExpr):
            items = [self.text(i)[0] for i in e.items]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", _ATOM
        if isinstance(e, ir.Call):
            parts = [self.argument(a) for a in e.args] + [f"{k}={self.text(v)[0]}" for k, v in e.kwargs]
            return f"{self.functions.get(e.func, e.func)}({', '.join(parts)})", _ATOM
        if isinstance(e, ir.Index):
            return _wrap(self.text(e.value), _ATOM) + "[" + ", ".join(_item(i, self.text) for i in e.items) + "]", _ATOM
        raise TypeError(f"unknown IR node {type(e).__name__}")

    def binary(self, e: ir.Binary) -> tuple[str, int]:
        level = _LEVEL[e.op]
        if e.op == "**":  # right-associative, and binds tighter than a unary minus on its left
            return f"{_wrap(self.text(e.left), _ATOM)} ** {_wrap(self.text(e.right), _UNARY)}", level
        left, right = self.text(e.left), self.text(e.right)
        if _mixes(e, e.left) and self.parenthesised(e.left):
            left = (left[0], 0)
        return f"{_wrap(left, level)} {e.op} {_wrap(right, level + 1)}", level

    def parenthesised(self, e: ir.Expr) -> bool:
        """Whether to write ``(c * d) @ W`` for readability: always for a built node, and for a
        node of the user's own text only where they wrote the parentheses."""
        start, end = e.span
        if not self.source or end <= start:
            return True
        before = self.source[:start].rstrip()
        after = self.source[end:].lstrip()
        return before.endswith("(") and after.startswith(")")

    def argument(self, a: ir.Expr) -> str:
        if isinstance(a, ir.TupleExpr) and a.items and not all(isinstance(i, ir.Number) for i in a.items):
            return "[" + ", ".join(self.text(i)[0] for i in a.items) + "]"  # stack/concatenate take lists
        return self.text(a)[0]
