"""Symbolic dimension sizes: polynomials with integer coefficients over dim symbols.

A shape is a tuple of :class:`Dim`. ``Dim.of("M")``, ``Dim.const(3)``; products (kron,
reshape) and sums (concatenate) stay symbolic: ``M*in``, ``2*M``, ``M + 3``. Two dims are
equal when their canonical polynomials are equal; distinct symbols are never assumed equal
(gradcheck draws them distinct, so a transpose cannot hide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

Monomial = tuple[str, ...]  # sorted symbol names, with repetition for powers


@dataclass(frozen=True)
class Dim:
    terms: tuple[tuple[Monomial, int], ...]  # sorted, no zero coefficients

    @staticmethod
    def of(symbol: str) -> "Dim":
        return Dim((((symbol,), 1),))

    @staticmethod
    def const(value: int) -> "Dim":
        return Dim(((((), int(value)),) if value else ()))

    @staticmethod
    def _make(acc: dict[Monomial, int]) -> "Dim":
        return Dim(tuple(sorted((m, c) for m, c in acc.items() if c)))

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
    def value(self) -> int | None:
        """The integer value if the dim is a constant, else None."""
        return sum(c for _, c in self.terms) if self.is_const else None

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(s for m, _ in self.terms for s in m)

    def bind(self, sizes: Mapping[str, int]) -> int:
        """The concrete size under a binding of every symbol."""
        total = 0
        for m, c in self.terms:
            p = c
            for s in m:
                p *= sizes[s]
            total += p
        return total

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        text = ""
        for m, c in sorted(self.terms, key=lambda t: (-len(t[0]), t[0])):
            size = abs(c)
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
