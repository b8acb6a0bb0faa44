"""Expression text -> IR, through a whitelist of :mod:`ast` node types (never ``eval``).

The text is parsed with ``ast.parse(text, mode="eval")`` and every node is converted to the
small IR of :mod:`gradcheck.expr.ir`, or refused with an :class:`ExpressionError` naming the
construct and pointing at its characters. What is allowed:

* int and float literals (ints up to 2**53), names not starting with ``_``;
* ``+ - * / ** @``, unary ``-``/``+``, and ``.T``;
* calls ``f(args, axis=..., keepdims=...)`` of a bare name from ``callables`` (also ``ddof=``
  and ``k=``, integer literals, ``axes=`` like axis=, ``approximate=`` 'none' or 'tanh', ``lower=`` True or
  False, and ``stride=``, ``dilation=``, ``padding=`` integers or tuples of them, padding= also
  'valid' or 'same'); tuples and lists only as call arguments; a string only as einsum's first
  argument or as approximate= and padding=;
* one comparison, only as the condition of ``where()``;
* subscripts made of integer literals, slices with integer-literal bounds, ``None``, and integer
  arrays: ``arange(n)`` or a name (``lp[arange(M), y]``; shapes.py checks that the name is an
  integer input and its values fit the axis).

A power of two numeric literals is folded (``10**9`` becomes ``Number(1000000000)``) so that
shape arguments stay static; its size is checked with logarithms before it is computed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Collection

from ..errors import ExpressionError
from . import ir
from .suggest import FUNCTION_ALIASES, function_hint

__all__ = ["MAX_LENGTH", "MAX_DEPTH", "parse", "free_names", "called_functions", "complex_unsafe_calls"]

MAX_LENGTH = 2000  # characters
MAX_DEPTH = 60  # nesting depth of the AST
MAX_INT = 2**53  # larger integer literals are not exactly representable as floats
MAX_LOG10 = 300.0  # folded constants beyond 1e300 are refused

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
}
_REFUSED_BINARY = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_REFUSED = {
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.IfExp: "conditional expressions (x if c else y) are not allowed",
    ast.BoolOp: "boolean operators (and, or, not) are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.Dict: "dict literals are not allowed",
    ast.Set: "set literals are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_ATTRIBUTE_HINT = "use bare function names: exp, log, tanh, sigmoid, ... (only `.T` is allowed)"
_INDEX_MESSAGE = (
    "indices must be integer literals, slices with integer-literal bounds, None, arange(n) or an integer input"
)
_APPROXIMATE = ("none", "tanh")  # gelu(x, approximate=...)
_PADDING = ("valid", "same")  # conv1d/conv2d(x, w, padding=...)
_TUPLE_MESSAGE = "tuples and lists are only allowed as function arguments (shapes, axis=, stack)"
_NOT_COUNTED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def parse(text: str, callables: Collection[str]) -> ir.Expr:
    """Parse expression text into the IR.

    Parameters
    ----------
    text : str
        The expression, in Python expression syntax.
    callables : collection of str
        Function names that may be called: :data:`functions.WHITELIST` plus the spec's
        ``define:`` helpers.

    Returns
    -------
    ir.Expr
        The root node; spans are character offsets into ``text``.

    Raises
    ------
    ExpressionError
        The text does not parse, is too long or too deeply nested, or uses a construct
        outside the whitelist. The error carries ``source=text`` and a ``span`` but no
        location (the spec layer adds it with ``.located``).
    """
    _check_bracket_depth(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(text)} characters, at most {MAX_LENGTH})",
            source=text,
            span=(MAX_LENGTH, len(text)),
        )
    if not text.strip():
        raise ExpressionError("expression is empty", source=text)
    lead = len(text) - len(text.lstrip())
    source = text[lead:]
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            raise _too_deep(text) from None
        start = lead + _char_offset(source, exc.lineno or 1, max((exc.offset or 1) - 1, 0), chars=True)
        start = min(start, len(text))
        raise ExpressionError(
            f"does not parse: {exc.msg}", source=text, span=(start, min(start + 1, len(text)))
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise _too_deep(text) from None
    _check_depth(tree.body, text)
    return _Converter(text, source, lead, frozenset(callables)).convert(tree.body)


def free_names(expr: ir.Expr) -> list[tuple[str, ir.Span]]:
    """Every name used as a value, with its span, in order of appearance."""
    return [(node.id, node.span) for node in _walk(expr) if isinstance(node, ir.Name)]


def called_functions(expr: ir.Expr) -> list[tuple[str, ir.Span]]:
    """Every called function name, with the span of the name, in order of appearance."""
    return [
        (node.func, (node.span[0], node.span[0] + len(node.func))) for node in _walk(expr) if isinstance(node, ir.Call)
    ]


#: functions whose real domain is restricted where their complex continuation is not: log(-2)
#: is undefined, but log(-2 + 0j) is finite, so a complex step alone would not notice.
BRANCH_CUT_FUNCTIONS = frozenset({"log", "log1p", "sqrt"})


def has_branch_cut(expr: ir.Expr) -> bool:
    """Whether ``expr`` may be undefined in real arithmetic where complex arithmetic continues it:
    a call of log, log1p or sqrt, or a power whose exponent is not a literal integer."""
    for node in _walk(expr):
        if isinstance(node, ir.Call) and node.func in BRANCH_CUT_FUNCTIONS:
            return True
        if isinstance(node, ir.Binary) and node.op == "**":
            exponent = node.right
            if isinstance(exponent, ir.Unary) and exponent.op in "+-":
                exponent = exponent.operand
            if not (isinstance(exponent, ir.Number) and isinstance(exponent.value, int)):
                return True
    return False


def complex_unsafe_calls(expr: ir.Expr) -> list[str]:
    """The functions ``expr`` calls that are not complex-step safe (``Function.complex_safe``), each
    once, in order of appearance: the complex step must not differentiate through them."""
    from .functions import TABLE

    names = [f for f, _ in called_functions(expr) if f in TABLE and not TABLE[f].complex_safe]
    return list(dict.fromkeys(names))


def _walk(expr: ir.Expr):
    """Nodes in source order (pre-order); the depth is bounded by MAX_DEPTH."""
    yield expr
    if isinstance(expr, (ir.Unary, ir.Transpose)):
        yield from _walk(expr.operand)
    elif isinstance(expr, (ir.Binary, ir.Compare)):
        yield from _walk(expr.left)
        yield from _walk(expr.right)
    elif isinstance(expr, ir.TupleExpr):
        for item in expr.items:
            yield from _walk(item)
    elif isinstance(expr, ir.Call):
        for arg in expr.args:
            yield from _walk(arg)
        for _, value in expr.kwargs:
            yield from _walk(value)
    elif isinstance(expr, ir.Index):
        yield from _walk(expr.value)
        for index in expr.items:
            if isinstance(index, ir.IndexArray):
                yield from _walk(index.expr)


walk = _walk  # every node of an expression, for analyses outside this module


def _too_deep(text: str) -> ExpressionError:
    return ExpressionError(
        f"expression is nested too deeply (more than {MAX_DEPTH} levels)",
        source=text,
        span=(0, len(text)),
    )


def _check_bracket_depth(text: str) -> None:
    """Refuse deep bracket nesting before the parser sees it (its own limit is ~200)."""
    depth = 0
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(text)
        elif ch in ")]}":
            depth -= 1


def _check_depth(root: ast.AST, text: str) -> None:
    """Iterative depth check, so that conversion may recurse safely."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(text)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _NOT_COUNTED):
                stack.append((child, depth + 1))


def _char_offset(source: str, lineno: int, col: int, *, chars: bool = False) -> int:
    """Character offset in ``source`` of (1-based line, column); ast columns are UTF-8 bytes."""
    lines = source.splitlines(keepends=True) or [""]
    lineno = min(max(lineno, 1), len(lines))
    before = sum(len(line) for line in lines[: lineno - 1])
    line = lines[lineno - 1]
    if chars:
        return before + min(col, len(line))
    return before + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


class _Converter:
    def __init__(self, text: str, source: str, lead: int, callables: frozenset[str]) -> None:
        self.text = text
        self.source = source
        self.lead = lead
        self.callables = callables

    # -- helpers -------------------------------------------------------------------------

    def span(self, node: ast.AST) -> ir.Span:
        start = self.lead + _char_offset(self.source, node.lineno, node.col_offset)
        end = self.lead + _char_offset(self.source, node.end_lineno, node.end_col_offset)
        return (start, end)

    def fail(self, message: str, node: ast.AST | ir.Span, hint: str | None = None) -> ExpressionError:
        span = node if isinstance(node, tuple) else self.span(node)
        return ExpressionError(message, source=self.text, span=span, hint=hint)

    # -- values --------------------------------------------------------------------------

    def convert(self, node: ast.AST, *, allow_compare: bool = False) -> ir.Expr:
        span = self.span(node)
        if isinstance(node, ast.Constant):
            return self.constant(node, span)
        if isinstance(node, ast.Name):
            return self.name(node, span)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, span)
        if isinstance(node, ast.BinOp):
            return self.binary(node, span)
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise self.fail("attribute access is not allowed", node, _ATTRIBUTE_HINT)
            return ir.Transpose(span, self.convert(node.value))
        if isinstance(node, ast.Call):
            return self.call(node, span)
        if isinstance(node, ast.Subscript):
            return ir.Index(span, self.convert(node.value), self.index(node.slice))
        if isinstance(node, ast.Compare):
            return self.compare(node, span, allow_compare)
        if isinstance(node, (ast.Tuple, ast.List)):
            raise self.fail(_TUPLE_MESSAGE, node)
        if type(node) in _REFUSED:
            raise self.fail(_REFUSED[type(node)], node)
        raise self.fail(f"{type(node).__name__} is not allowed in an expression", node)

    def constant(self, node: ast.Constant, span: ir.Span) -> ir.Expr:
        value = node.value
        if isinstance(value, bool):
            raise self.fail("True/False are only allowed as keepdims= and lower= values", node)
        if isinstance(value, int):
            if value > MAX_INT:
                raise self.fail("integer literal is too large (more than 2**53)", node)
            return ir.Number(span, value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(
                    f"the literal {self.text[span[0] : span[1]]} is not finite (it overflows a float)", node
                )
            return ir.Number(span, value)
        if isinstance(value, complex):
            raise self.fail("complex literals are not allowed", node)
        if isinstance(value, str):
            raise self.fail("a string is only allowed as the first argument of einsum()", node)
        if value is None:
            raise self.fail("None is only allowed inside a subscript (x[None, :])", node)
        if value is Ellipsis:
            raise self.fail("Ellipsis (...) is not allowed", node)
        raise self.fail(f"{type(value).__name__} literals are not allowed", node)

    def name(self, node: ast.Name, span: ir.Span) -> ir.Name:
        if node.id.startswith("_"):
            raise self.fail("names starting with '_' are not allowed", node)
        return ir.Name(span, node.id)

    def unary(self, node: ast.UnaryOp, span: ir.Span) -> ir.Expr:
        if isinstance(node.op, ast.Not):
            raise self.fail(_REFUSED[ast.BoolOp], node)
        if isinstance(node.op, ast.Invert):
            raise self.fail("operator '~' is not allowed", node)
        op = "-" if isinstance(node.op, ast.USub) else "+"
        operand = self.convert(node.operand)
        if isinstance(operand, ir.Number):
            return ir.Number(span, -operand.value if op == "-" else operand.value)
        return ir.Unary(span, op, operand)

    def binary(self, node: ast.BinOp, span: ir.Span) -> ir.Expr:
        op = _BINARY.get(type(node.op))
        if op is None:
            symbol = _REFUSED_BINARY.get(type(node.op), type(node.op).__name__)
            raise self.fail(f"operator '{symbol}' is not allowed", node)
        left = self.convert(node.left)
        right = self.convert(node.right)
        if op == "**" and isinstance(left, ir.Number) and isinstance(right, ir.Number):
            return ir.Number(span, self.fold_power(left.value, right.value, span))
        return ir.Binary(span, op, left, right)

    def fold_power(self, base: int | float, exponent: int | float, span: ir.Span) -> int | float:
        """``base ** exponent`` if the result is a modest real number; sized by logs first."""
        shown = self.text[span[0] : span[1]]
        if base == 0:
            if exponent < 0:
                raise self.fail(f"constant {shown} divides by zero", span)
        else:
            if math.log10(abs(base)) * exponent > MAX_LOG10:
                raise self.fail(f"constant {shown} is too large", span)
            if base < 0 and not float(exponent).is_integer():
                raise self.fail(f"constant {shown} is not a real number", span)
        if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
            return base**exponent
        return float(base) ** float(exponent)

    def compare(self, node: ast.Compare, span: ir.Span, allowed: bool) -> ir.Compare:
        if not allowed:
            raise self.fail("comparisons are only allowed as the condition of where()", node)
        if len(node.ops) != 1:
            raise self.fail("chained comparisons are not allowed; use one comparison", node)
        op = _COMPARE.get(type(node.ops[0]))
        if op is None:
            raise self.fail("only < <= > >= == != comparisons are allowed", node)
        return ir.Compare(span, op, self.convert(node.left), self.convert(node.comparators[0]))

    # -- calls ---------------------------------------------------------------------------

    def call(self, node: ast.Call, span: ir.Span) -> ir.Call:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise self.fail("attribute access is not allowed", func, self.method_hint(func.attr))
        if not isinstance(func, ast.Name):
            raise self.fail("only bare function names can be called", func)
        if func.id.startswith("_"):
            raise self.fail("names starting with '_' are not allowed", func)
        if func.id not in self.callables:
            raise self.fail(f"unknown function '{func.id}'", func, function_hint(func.id, self.callables))
        args = []
        for position, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                raise self.fail("starred arguments (*args) are not allowed", arg)
            if position == 0 and func.id == "einsum":
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    raise self.fail("einsum() needs a subscripts string as first argument", arg)
                args.append(ir.String(self.span(arg), arg.value))
            elif isinstance(arg, (ast.Tuple, ast.List)):
                args.append(self.tuple_argument(arg, nested=func.id == "pad"))
            else:
                allow = position == 0 and func.id == "where"
                args.append(self.convert(arg, allow_compare=allow))
        kwargs = []
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.fail("**kwargs are not allowed", keyword)
            if keyword.arg in ("axis", "axes"):
                kwargs.append((keyword.arg, self.axis(keyword.value)))
            elif keyword.arg in ("keepdims", "lower"):
                value = keyword.value
                if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                    raise self.fail(f"{keyword.arg}= must be True or False", value)
                kwargs.append((keyword.arg, ir.Number(self.span(value), value.value)))
            elif keyword.arg in ("ddof", "k"):
                kwargs.append((keyword.arg, self.axis_item(keyword.value, f"{keyword.arg}= must be an integer")))
            elif keyword.arg == "approximate":
                value = keyword.value
                if not (isinstance(value, ast.Constant) and value.value in _APPROXIMATE):
                    raise self.fail("approximate= must be 'none' or 'tanh'", value)
                kwargs.append(("approximate", ir.String(self.span(value), value.value)))
            elif keyword.arg in ("stride", "padding", "dilation"):
                kwargs.append((keyword.arg, self.window(keyword.arg, keyword.value)))
            else:
                raise self.fail(
                    f"keyword argument '{keyword.arg}' is not allowed "
                    "(only axis=, axes=, keepdims=, ddof=, k=, approximate=, stride=, padding=, dilation= and lower=)",
                    keyword,
                )
        return ir.Call(span, func.id, tuple(args), tuple(kwargs))

    def tuple_argument(self, node: ast.Tuple | ast.List, *, nested: bool = False) -> ir.TupleExpr:
        """A tuple or list argument; ``nested``: its items may be tuples too (pad's widths)."""
        items = tuple(
            self.tuple_argument(item) if nested and isinstance(item, (ast.Tuple, ast.List)) else self.convert(item)
            for item in node.elts
        )
        return ir.TupleExpr(self.span(node), items)

    def method_hint(self, name: str) -> str:
        """For ``np.exp(x)`` or ``x.sum()``: the bare function to call, if there is one."""
        if name in self.callables:
            return f"write {name}(...): functions are called by their bare names"
        if name in FUNCTION_ALIASES:
            return function_hint(name, self.callables)  # type: ignore[return-value]
        return _ATTRIBUTE_HINT

    def axis(self, node: ast.AST) -> ir.Expr:
        message = "axis= must be an integer or a tuple of integers"
        if isinstance(node, (ast.Tuple, ast.List)):
            items = tuple(self.axis_item(item, message) for item in node.elts)
            return ir.TupleExpr(self.span(node), items)
        return self.axis_item(node, message)

    def window(self, key: str, node: ast.AST) -> ir.Expr:
        """stride=, dilation=: an integer or a tuple of them; padding= also 'valid' or 'same'."""
        if key == "padding":
            message = "padding= must be 'valid', 'same', an integer or a tuple of integers"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value not in _PADDING:
                    raise self.fail(message, node)
                return ir.String(self.span(node), node.value)
        else:
            message = f"{key}= must be an integer or a tuple of integers"
        if isinstance(node, (ast.Tuple, ast.List)):
            return ir.TupleExpr(self.span(node), tuple(self.axis_item(item, message) for item in node.elts))
        return self.axis_item(node, message)

    def axis_item(self, node: ast.AST, message: str) -> ir.Number:
        value = self.literal_int(node)
        if value is None:
            raise self.fail(message, node)
        return ir.Number(self.span(node), value)

    # -- subscripts ----------------------------------------------------------------------

    def literal_int(self, node: ast.AST | None) -> int | None:
        """An integer literal, possibly negated; None for anything else."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value <= MAX_INT:
            return sign * node.value
        return None

    def index(self, node: ast.AST) -> tuple[ir.IndexItem, ...]:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        return tuple(self.index_item(item) for item in items)

    def index_item(self, node: ast.AST) -> ir.IndexItem:
        if isinstance(node, ast.Constant) and node.value is None:
            return ir.IndexNewAxis()
        if isinstance(node, ast.Slice):
            bounds = []
            for bound in (node.lower, node.upper, node.step):
                value = self.literal_int(bound)
                if bound is not None and value is None:
                    raise self.fail(_INDEX_MESSAGE, bound)
                bounds.append(value)
            if bounds[2] == 0:
                raise self.fail("slice step cannot be zero", node.step)
            return ir.IndexSlice(*bounds)
        value = self.literal_int(node)
        if value is not None:
            return ir.IndexInt(value)
        if isinstance(node, ast.Name) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "arange"
        ):
            return ir.IndexArray(self.convert(node))  # integer-ness and range: checked with the shapes
        raise self.fail(_INDEX_MESSAGE, node)
