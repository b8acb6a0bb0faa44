"""Symbolic dimension sizes: polynomials with rational coefficients over dim symbols.

A shape is a tuple of :class:`Dim`. ``Dim.of("M")``, ``Dim.const(3)``; products (kron,
reshape) and sums (concatenate) stay symbolic: ``M*in``, ``2*M``, ``M + 3``. Two dims are
equal when their canonical polynomials are equal (``F + 1`` and ``1 + F`` agree); distinct
symbols are never assumed equal (gradcheck draws them distinct, so a transpose cannot hide).

A shape entry may be a *derived* dim, an integer expression over dims such as ``F + 1`` or
``n * (n - 1) / 2`` (:func:`parse_dim`): ``+ - *``, ``/`` and ``//`` by a constant integer
when the quotient is an integer for every draw, ``**`` with a constant exponent. It keeps
the user's text for messages. Every dim symbol is at least 1, so :func:`bounds` bounds a
polynomial over the whole box of dim ranges by interval arithmetic (a monomial grows with
each of its symbols), never only at the two corners.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import keyword
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping

from ..errors import ExpressionError, ShapeError

Monomial = tuple[str, ...]  # sorted symbol names, with repetition for powers
Coefficient = int | Fraction
Ranges = Mapping[str, tuple[int, int]]
Interval = tuple[Coefficient, Coefficient]


def _exact(value: Coefficient) -> Coefficient:
    """A Fraction with denominator 1 as an int, so integer dims stay ints."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


@dataclass(frozen=True)
class Dim:
    terms: tuple[tuple[Monomial, Coefficient], ...]  # sorted, no zero coefficients
    # the user's expression (``F + 1``) for messages, and interval arithmetic on it over the
    # spec's dim ranges (tighter than on the polynomial); arithmetic drops both, equality ignores them
    text: str | None = field(default=None, compare=False)
    interval: tuple[Coefficient, Coefficient] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(symbol: str) -> "Dim":
        return Dim((((symbol,), 1),))

    @staticmethod
    def const(value: int) -> "Dim":
        return Dim(((((), int(value)),) if value else ()))

    @staticmethod
    def _make(acc: dict[Monomial, int]) -> "Dim":
        return Dim(tuple(sorted((m, _exact(c)) for m, c in acc.items() if c)))

    def written(self, text: str, interval: tuple[Coefficient, Coefficient] | None = None) -> "Dim":
        """The same polynomial, shown as the user wrote it (and bounded by ``interval``)."""
        return Dim(self.terms, text, interval)

    def divided(self, divisor: int) -> "Dim":
        """Exact division by a nonzero integer (coefficients become fractions where needed)."""
        return Dim._make({m: Fraction(c, divisor) for m, c in self.terms})

    def __add__(self, other: "Dim") -> "Dim":
        acc = dict(self.terms)
        for m, c in other.terms:
            acc[m] = acc.get(m, 0) + c
        return Dim._make(acc)

    def __sub__(self, other: "Dim") -> "Dim":
        return self + Dim(tuple((m, -c) for m, c in other.terms))

    def __mul__(self, other: "Dim") -> "Dim":
        acc: dict[Monomial, int] = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                m = tuple(sorted(m1 + m2))
                acc[m] = acc.get(m, 0) + c1 * c2
        return Dim._make(acc)

    @property
    def is_const(self) -> bool:
        return all(not m for m, _ in self.terms)

    @property
    def is_symbol(self) -> bool:
        """A plain dim (``M``), not a derived one (``M + 1``)."""
        return len(self.terms) == 1 and len(self.terms[0][0]) == 1 and self.terms[0][1] == 1

    @property
    def degree(self) -> int:
        return max((len(m) for m, _ in self.terms), default=0)

    @property
    def value(self) -> int | None:
        """The integer value if the dim is a constant, else None."""
        return sum(c for _, c in self.terms) if self.is_const else None

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(s for m, _ in self.terms for s in m)

    def bind(self, sizes: Mapping[str, int]) -> int:
        """The concrete size under a binding of every symbol (an int wherever the dim is integral)."""
        total: Coefficient = 0
        for m, c in self.terms:
            p = c
            for s in m:
                p *= sizes[s]
            total += p
        return _exact(total)  # type: ignore[return-value]

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        if not self.terms:
            return "0"
        text = ""
        for m, c in sorted(self.terms, key=lambda t: (-len(t[0]), t[0])):
            size = abs(c)  # an int or a Fraction: 2*M, 1/2*n*n
            term = str(size) if not m else ("*".join(m) if size == 1 else f"{size}*" + "*".join(m))
            if not text:
                text = term if c > 0 else f"-{term}"
            else:
                text += f" + {term}" if c > 0 else f" - {term}"
        return text

    __repr__ = __str__


Shape = tuple[Dim, ...]


def shape_str(shape: Shape) -> str:
    """``(M, in)``; a scalar is ``()``; a vector ``(n,)`` like numpy."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def bind_shape(shape: Shape, sizes: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(d.bind(sizes) for d in shape)


def size(shape: Shape) -> Dim:
    """The number of elements, as a Dim (``M*in`` for ``(M, in)``; 1 for a scalar)."""
    total = Dim.const(1)
    for d in shape:
        total = total * d
    return total


def broadcast(a: Shape, b: Shape) -> Shape | None:
    """numpy broadcasting on symbolic dims, or None if the shapes do not broadcast.

    Equal dims match and a constant 1 stretches; distinct symbols never match, because
    gradcheck draws them distinct.
    """
    one = Dim.const(1)
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else one
        y = b[-i] if i <= len(b) else one
        if x == y or y == one:
            out.append(x)
        elif x == one:
            out.append(y)
        else:
            return None
    return tuple(reversed(out))


def name_shape(shape: tuple[int, ...], sizes: Mapping[str, int]) -> str:
    """A concrete shape in the user's symbols: ``(out, in) = (4, 3)`` when every size is the
    size of exactly one dim of the example, else just ``(4, 3)``."""
    tail = "," if len(shape) == 1 else ""
    concrete = "(" + ", ".join(str(n) for n in shape) + tail + ")"
    by_size: dict[int, list[str]] = {}
    for k, v in sizes.items():
        by_size.setdefault(v, []).append(k)
    names = [by_size.get(n, []) for n in shape]
    if sizes and all(len(x) == 1 for x in names):
        return "(" + ", ".join(x[0] for x in names) + tail + f") = {concrete}"
    return concrete


# ---- bounds over the box of dim ranges ---------------------------------------------------


MAX_CORNERS = 4096


def bounds(dim: Dim, ranges: Ranges) -> tuple[Coefficient, Coefficient] | None:
    """Lower and upper bounds of ``dim`` over every size in ``ranges``; None if a symbol has no range.

    Interval arithmetic on the canonical polynomial: dims are at least 1, so a monomial grows
    with each symbol and lies between its values at the lower and the upper corner; a positive
    term adds those, a negative one subtracts them. The bounds are exact when every coefficient
    but the constant has one sign (the dim is monotone), and safe (never too narrow) otherwise:
    ``(M - N)**2`` over M, N in 1..20000 is bounded by 799960002, not judged 0 at both corners.
    A box of at most :data:`MAX_CORNERS` points is enumerated instead, for exact bounds.
    """
    if not dim.symbols <= ranges.keys():
        return None
    signs = {c > 0 for m, c in dim.terms if m}
    if len(signs) <= 1:  # monotone: the extremes are at the two corners
        a, b = dim.bind({s: r[0] for s, r in ranges.items()}), dim.bind({s: r[1] for s, r in ranges.items()})
        return min(a, b), max(a, b)
    if math.prod(ranges[s][1] - ranges[s][0] + 1 for s in dim.symbols) <= MAX_CORNERS:
        values = [dim.bind(dict(zip(dim.symbols, p))) for p in _box(dim.symbols, ranges)]
        return min(values), max(values)
    floor: Coefficient = 0
    ceiling: Coefficient = 0
    for m, c in dim.terms:
        a = math.prod(ranges[s][0] for s in m)
        b = math.prod(ranges[s][1] for s in m)
        floor += c * (a if c > 0 else b)
        ceiling += c * (b if c > 0 else a)
    if dim.interval is not None:  # interval arithmetic on the expression as written: also safe
        floor, ceiling = max(floor, dim.interval[0]), min(ceiling, dim.interval[1])
    return _exact(floor), _exact(ceiling)


def _box(symbols, ranges: Ranges):
    return itertools.product(*(range(ranges[s][0], ranges[s][1] + 1) for s in symbols))


def extreme(dim: Dim, ranges: Ranges, *, largest: bool) -> tuple[Coefficient, dict[str, int]]:
    """The largest (or smallest) value of ``dim`` at a corner of the box, and that corner.

    A witness to quote in a message ("at M=20000, N=1"); for a monotone dim it is the true
    extreme. Beyond :data:`MAX_CORNERS` corners only the two extreme corners are tried.
    """
    symbols = sorted(dim.symbols)
    if 2 ** len(symbols) <= MAX_CORNERS:
        corners = itertools.product(*(ranges[s] for s in symbols))
    else:
        corners = iter([tuple(ranges[s][0] for s in symbols), tuple(ranges[s][1] for s in symbols)])
    best: tuple[Coefficient, dict[str, int]] | None = None
    for corner in corners:
        at = dict(zip(symbols, corner))
        value = dim.bind(at)
        if best is None or (value > best[0] if largest else value < best[0]):
            best = (value, at)
    assert best is not None
    return best


def at_text(sizes: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def dims_text(sizes: Mapping[str, int]) -> str:
    """``M=5 in=3 out=2``: an example's dims as every message, report and table shows them."""
    return " ".join(f"{k}={v}" for k, v in sizes.items())


MAX_RESIDUES = 100_000


def non_integral(dim: Dim, ranges: Ranges) -> dict[str, int] | None:
    """Sizes in ``ranges`` where ``dim`` is not an integer, or None if it is one everywhere.

    With d the common denominator of the coefficients, d * dim has integer coefficients, so
    whether d divides it depends only on each symbol modulo d: checking the first d sizes of
    every range covers the whole box. Raises ValueError when that is more than
    :data:`MAX_RESIDUES` points.
    """
    den = math.lcm(*(c.denominator for _, c in dim.terms if isinstance(c, Fraction)))
    if den == 1:
        return None
    symbols = sorted(dim.symbols)
    counts = [min(ranges[s][1], ranges[s][0] + den - 1) - ranges[s][0] + 1 for s in symbols]
    if math.prod(counts) > MAX_RESIDUES:
        raise ValueError("too many residues")
    for values in itertools.product(*(range(ranges[s][0], ranges[s][0] + n) for s, n in zip(symbols, counts))):
        at = dict(zip(symbols, values))
        if isinstance(dim.bind(at), Fraction):
            return at
    return None


# ---- derived dims: integer expressions in shapes -----------------------------------------

DIM_HINT = "a derived dim is an integer expression over dims: + - *, / or // by an integer, ** with an integer exponent"
MAX_POWER = 8
MAX_DEGREE = 16  # a product of more dims than this is no array's size, and its expansion could be huge
MAX_TEXT = 200  # characters of a shape entry (keeps the ast shallow)
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**"}


def shape_dim(entry: str | int, ranges: Ranges) -> Dim:
    """One entry of an input's shape as written (an integer, a dim name or a derived dim)."""
    if isinstance(entry, int):
        return Dim.const(entry)
    if entry in ranges:
        return Dim.of(entry)
    return parse_dim(entry, ranges)


def parse_dim(text: str, ranges: Ranges) -> Dim:
    """A derived dim such as ``F + 1``, ``n * (n - 1) / 2`` or ``2 * k``, checked over the box.

    Parsed with :mod:`ast` against a whitelist (names of dims, integer literals, ``+ - * / //
    **`` and unary minus) and folded to a canonical polynomial that keeps ``text`` for
    messages; nothing is evaluated.

    Raises
    ------
    ExpressionError
        The text is not such an expression; ``source`` is the text and ``span`` points at the
        offending part, as for any expression.
    ShapeError
        The dim is not an integer for some sizes in the ranges, or can be less than 1.
    """
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    if len(stripped) > MAX_TEXT:
        raise ExpressionError(
            f"a shape entry is at most {MAX_TEXT} characters, this one has {len(stripped)}",
            source=text,
            span=(lead, lead + len(stripped)),
            hint="name the size as a dim of its own",
        )
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        for word in re.finditer(r"[A-Za-z_]\w*", stripped):
            if keyword.iskeyword(word.group()) and word.group() in ranges:
                raise ExpressionError(
                    f"shape entry `{stripped}` uses the dim '{word.group()}', a Python keyword, which only a shape "
                    "entry of its own can name",
                    source=text,
                    span=(lead + word.start(), lead + word.end()),
                    hint=f"rename the dim (e.g. n_{word.group()}) to use it in a derived dim",
                ) from None
        at = max(0, min(len(stripped), (exc.offset or 1) - 1))
        raise ExpressionError(
            f"shape entry `{stripped}` does not parse", source=text, span=(lead + at, lead + at + 1), hint=DIM_HINT
        ) from None
    dim, interval = _Folder(text, lead, ranges).fold(tree.body)
    _check_derived(dim, interval, text, (lead, lead + len(stripped)), ranges)
    return dim.written(stripped, interval)


def _check_derived(dim: Dim, interval: Interval, text: str, span: tuple[int, int], ranges: Ranges) -> None:
    shown = text.strip()
    try:
        where = non_integral(dim, ranges)
    except ValueError:
        raise ShapeError(
            f"shape entry `{shown}` divides by too large a number to check that it is always an integer",
            source=text,
            span=span,
            hint="divide by a smaller integer",
        ) from None
    if where is not None:
        raise ShapeError(
            f"shape entry `{shown}` is not an integer at {at_text(where)} ({dim.bind(where)})",
            source=text,
            span=span,
            hint="write a dim that divides exactly for every size in the ranges, e.g. `2 * k` for an even size",
        )
    low = max(interval[0], (bounds(dim, ranges) or (1, 1))[0])  # both are safe lower bounds
    if low < 1:
        value, at = extreme(dim, ranges, largest=False)
        found = f"it is {value} at {at_text(at)}" if value < 1 else f"interval arithmetic bounds it below by {low}"
        raise ShapeError(
            f"shape entry `{shown}` must be at least 1 for every size in the dims' ranges, but {found}",
            source=text,
            span=span,
            hint="narrow the dims' ranges so that the size stays at least 1",
        )


class _Folder:
    """ast -> Dim over the whitelist; errors point at the characters of ``text``."""

    def __init__(self, text: str, lead: int, ranges: Ranges) -> None:
        self.text, self.lead, self.ranges = text, lead, ranges
        self.body = text.strip()

    def span(self, node: ast.AST) -> tuple[int, int]:
        encoded = self.body.encode()

        def chars(offset: int) -> int:
            return len(encoded[:offset].decode(errors="ignore"))

        return (self.lead + chars(node.col_offset), self.lead + chars(node.end_col_offset or node.col_offset))

    def fail(self, message: str, node: ast.AST, hint: str | None = DIM_HINT) -> ExpressionError:
        return ExpressionError(message, source=self.text, span=self.span(node), hint=hint)

    def src(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def fold(self, node: ast.AST) -> tuple[Dim, Interval]:
        """The node's polynomial and an interval holding its values (interval arithmetic on the
        expression as written, often tighter than on the expanded polynomial: n * (n - 1) / 2)."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Dim.const(node.value), (node.value, node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.ranges:
                close = difflib.get_close_matches(node.id, sorted(self.ranges), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "declare it under dims:"
                raise self.fail(f"unknown dim '{node.id}' in shape entry `{self.body}`", node, hint)
            return Dim.of(node.id), self.ranges[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner, (a, b) = self.fold(node.operand)
            return (Dim.const(0) - inner, (-b, -a)) if isinstance(node.op, ast.USub) else (inner, (a, b))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return self.binary(node, _OPS[type(node.op)])
        raise self.fail(f"`{self.src(node)}` is not allowed in a shape entry", node)

    def binary(self, node: ast.BinOp, op: str) -> tuple[Dim, Interval]:
        left, right = self.fold(node.left), self.fold(node.right)
        try:
            result = combine(op, left, right)
        except DimArithmeticError as exc:
            raise self.fail(exc.message.format(node=self.src(node), right=self.src(node.right)), node) from None
        if op == "//":
            _check_floor(result[0], self, node)
        return result


def _check_degree(degree: int) -> None:
    if degree > MAX_DEGREE:
        raise DimArithmeticError(f"`{{node}}` has degree {degree} in the dims (at most {MAX_DEGREE})")


class DimArithmeticError(Exception):
    """A power or a division outside integer dim arithmetic; ``message`` has {node} and {right} fields."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def combine(op: str, left: tuple[Dim, Interval], right: tuple[Dim, Interval]) -> tuple[Dim, Interval]:
    """``left op right`` for dims with their intervals: ``+ - * / // **``.

    ``/`` and ``//`` divide by a nonzero integer constant (exactly: the caller checks that the
    quotient is an integer); ``**`` takes an integer exponent from 0 to :data:`MAX_POWER`.
    """
    (x, (a, b)), (y, (c, d)) = left, right
    if op == "+":
        return x + y, (a + c, b + d)
    if op == "-":
        return x - y, (a - d, b - c)
    if op == "*":
        _check_degree(x.degree + y.degree)
        products = (a * c, a * d, b * c, b * d)
        return x * y, (min(products), max(products))
    power = y.value
    if op == "**":
        if power is None or isinstance(power, Fraction) or not 0 <= power <= MAX_POWER:
            raise DimArithmeticError(f"the exponent `{{right}}` must be an integer from 0 to {MAX_POWER}")
        _check_degree(x.degree * power)
        result = Dim.const(1)
        for _ in range(power):
            result = result * x
        ends = (a**power, b**power)
        return result, (0 if power % 2 == 0 and a < 0 < b else min(ends), max(ends))
    if power is None or isinstance(power, Fraction) or power == 0:
        raise DimArithmeticError("`{node}` must divide by a nonzero integer constant")
    ends = (Fraction(a, power), Fraction(b, power))
    return x.divided(power), (_exact(min(ends)), _exact(max(ends)))


def _check_floor(quotient: Dim, folder: _Folder, node: ast.BinOp) -> None:
    """``a // k`` is kept only where it is exact (then it is the polynomial a / k)."""
    try:
        where = non_integral(quotient, folder.ranges)
    except ValueError:
        where = {}
    if where is not None:
        at = f" at {at_text(where)}" if where else ""
        raise folder.fail(
            f"`{folder.src(node)}` rounds down{at}: derived dims divide exactly",
            node,
            "write a dim that divides exactly for every size in the ranges, e.g. `2 * k` for an even size",
        )


def most_elements(shape: Shape, ranges: Ranges) -> tuple[int, dict[str, int] | None] | None:
    """An upper bound of a shape's element count over the whole box of dim ranges, and a corner
    where the count reaches it (None when only interval arithmetic gives the bound); None if a
    symbol has no range.

    The bound is the smaller of two safe ones: the product of each dim's upper bound (tight for
    a derived dim such as ``(M - N) ** 2``, bounded as written) and the bound of the expanded
    count polynomial.
    """
    count = size(shape)
    if not count.symbols <= ranges.keys():
        return None
    if all(c > 0 for m, c in count.terms if m):  # monotone: the most is at the upper corner
        top = {s: ranges[s][1] for s in sorted(count.symbols)}
        return int(count.bind(top)), top
    whole = bounds(count, ranges)
    if whole is None:
        return None
    per_dim = 1
    for d in shape:
        per_dim *= max(0, bounds(d, ranges)[1])  # type: ignore[index]
    high = min(whole[1], per_dim)
    value, corner = extreme(count, ranges, largest=True)
    if value >= high:
        return int(value), corner
    return int(math.ceil(high)), None
