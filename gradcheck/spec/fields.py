"""Typed fields of the spec: checks shared by every section, with located messages.

Messages read "X must be Y, got Z" in the user's words; hints suggest the closest allowed
word (difflib) when there is one.

The rules for names, dims, shapes, domains and dtypes live here once, for both ways of
writing a spec: the YAML loader (:mod:`gradcheck.spec.load`) locates each part from its YAML
node, the Python API (:mod:`gradcheck.api.arguments`) places every part at the caller's line
(:class:`OnePlace`); the rules and their wording are the same.
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import Location, SchemaError, SpecError
from ..expr.dims import parse_dim, shape_dim
from ..expr.suggest import closest
from .model import Domain, PythonRef
from .yaml import is_quoted, key_location, value_location

__all__ = [
    "DOMAINS",
    "DTYPES",
    "INPUT_KEYS",
    "MATRIX_DOMAINS",
    "NAME_KINDS",
    "OnePlace",
    "Places",
    "describe",
    "did_you_mean",
    "is_name",
    "check_keys",
    "key_errors",
    "check_name",
    "register_name",
    "need",
    "need_shape",
    "read_dim",
    "read_domain",
    "read_dtype",
    "read_float",
    "read_python_ref",
    "read_shape_entry",
    "read_size",
    "integer_domain_warning",
]

PYTHON_REF = re.compile(r"([A-Za-z_][\w.]*):([A-Za-z_]\w*)", re.ASCII)
NAME_KINDS = {
    "dim": "a dim",
    "constant": "a constant",
    "input": "an input",
    "define": "a define: helper",
    "node": "a graph node",
}
DOMAINS = ("real", "positive", "unit", "symmetric", "spd", "invertible", "orthogonal", "simplex")
MATRIX_DOMAINS = frozenset({"symmetric", "spd", "invertible", "orthogonal"})
DTYPES = ("float64", "float32", "complex128")
INPUT_KEYS = ("shape", "domain", "dtype")


class Places(Protocol):
    """Where the parts of a value were written.

    The loader reads them off the YAML nodes (its ``_Loader`` is one); a Python value has no
    positions, and :class:`OnePlace` puts every part at the API caller's line.
    """

    def at_key(self, mapping: Mapping, key: Any) -> Location: ...

    def at_value(self, mapping: Mapping, key: Any) -> Location: ...

    def item_at(self, seq: Any, index: int) -> Location: ...


@dataclass(frozen=True)
class OnePlace:
    """Every part of a Python value at one location: the caller's file:line."""

    at: Location

    def at_key(self, mapping: Mapping, key: Any) -> Location:
        return self.at

    def at_value(self, mapping: Mapping, key: Any) -> Location:
        return self.at

    def item_at(self, seq: Any, index: int) -> Location:
        return self.at


def describe(value: Any) -> str:
    """'a string', 'a list', ... for "X must be Y, got Z" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def did_you_mean(word: Any, choices: Collection[str]) -> str | None:
    """``did you mean 'P'?`` for the closest choice (case first, then edits; see :func:`closest`)."""
    close = closest(word, choices)
    return f"did you mean '{close}'?" if close else None


def is_name(name: Any) -> bool:
    """A Python identifier that ``ast`` reads back unchanged (NFKC-stable)."""
    return isinstance(name, str) and name.isidentifier() and unicodedata.normalize("NFKC", name) == name


def check_name(name: Any, kind: str, at: Location) -> str:
    """A name for one of :data:`NAME_KINDS`: an identifier, no keyword (but a dim), no leading '_'."""
    label = NAME_KINDS[kind]
    if not is_name(name):
        shown = f"'{name}'" if isinstance(name, str) else describe(name)
        raise SchemaError(
            f"{label[label.index(' ') + 1 :]} name must be an identifier, got {shown}",
            at,
            hint="use letters, digits and underscores, not starting with a digit",
        )
    if keyword.iskeyword(name) and kind != "dim":
        raise SchemaError(
            f"'{name}' is a Python keyword and cannot name {label}",
            at,
            hint="only dims may be keywords (and are then usable only in shapes)",
        )
    if name.startswith("_"):
        raise SchemaError(f"names may not start with '_': '{name}'", at)
    return str(name)


def register_name(names: dict[str, tuple[str, Location]], name: Any, kind: str, at: Location) -> str:
    """Claim a name for one section in ``names`` (name -> kind, where); names are unique across sections."""
    name = check_name(name, kind, at)
    if name in names:
        other, where = names[name]
        raise SchemaError(f"name '{name}' is already used by {NAME_KINDS[other]} (line {where.line})", at)
    names[name] = (kind, at)
    return name


def check_keys(mapping: Mapping, allowed: tuple[str, ...], where: str, path: str | Places, *, claim=None) -> None:
    """Every key is a string from ``allowed``; else a located error with a did-you-mean.

    ``path`` is the spec file, whose YAML nodes locate the keys, or the :class:`Places` of a
    value that has no nodes. Raises the first of :func:`key_errors`.
    """
    for error in key_errors(mapping, allowed, where, path, claim=claim):
        raise error


def key_errors(
    mapping: Mapping, allowed: tuple[str, ...], where: str, path: str | Places, *, claim=None
) -> list[SchemaError]:
    """One located error per key that is not a string from ``allowed`` (see :func:`check_keys`)."""
    errors = []
    for key in mapping:
        at = key_location(mapping, key, path) if isinstance(path, str) else path.at_key(mapping, key)
        if not isinstance(key, str):
            errors.append(SchemaError(f"keys must be strings, got {describe(key)}", at, claim=claim))
        elif key not in allowed:
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            if any(ch in key for ch in "()[]*+@/") or " " in key.strip():
                hint = (
                    "this looks like the rest of an expression: inside { ... } a comma ends the value, "
                    'so quote expressions that contain commas, e.g. gradient: "outer(x, y)"'
                )
            errors.append(SchemaError(f"unknown key '{key}'{where}", at, claim=claim, hint=hint))
    return errors


def need(value: Any, kind: type, what: str, at: Location, *, claim=None, article="a") -> Any:
    """Type check; ``what`` reads "claims must be a list of mappings"."""
    if kind is str:
        ok = isinstance(value, str)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise SchemaError(f"{what}, got {describe(value)}", at, claim=claim)
    return value


def read_float(value: Any, what: str, at: Location, *, claim=None) -> float:
    """An int, a float, or a string that parses as one (``"1e-6"``); never a boolean."""
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None:
        raise SchemaError(f"{what} must be a number, got {describe(value)}", at, claim=claim)
    if not math.isfinite(number):
        raise SchemaError(f"{what} must be finite, got {value}", at, claim=claim)
    return number


def read_python_ref(mapping: Mapping, what: str, path: str, *, claim=None) -> PythonRef:
    check_keys(mapping, ("python",), f" in {what}", path, claim=claim)
    value = mapping.get("python")
    at = value_location(mapping, "python", path)
    match = PYTHON_REF.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        raise SchemaError(
            f"python must be 'module:function', got {shown}",
            at,
            claim=claim,
            hint='for example {python: "mypkg.losses:sse_grad"}',
        )
    return PythonRef(match.group(1), match.group(2), at)


def read_value_and_grad(mapping: Mapping, key: str, path: str, *, claim=None) -> PythonRef:
    """``value_and_grad: {python: "module:function"}``: a callable returning (value, gradient)."""
    value = mapping.get(key)
    if not isinstance(value, Mapping):
        raise SchemaError(
            f'value_and_grad must be {{python: "module:function"}}, got {describe(value)}',
            value_location(mapping, key, path),
            claim=claim,
            hint="a function returning (value, gradient), e.g. one scipy.optimize.minimize takes with jac=True",
        )
    ref = read_python_ref(value, "value_and_grad", path, claim=claim)
    return PythonRef(ref.module, ref.function, ref.location, value_and_grad=True)


# ---- dims, shapes and inputs -------------------------------------------------------------


def read_dim(name: str, value: Any, at: Location) -> tuple[int, int]:
    """A dim's size or inclusive range ``[lo, hi]`` -> ``(lo, hi)``, with ``1 <= lo <= hi``."""
    what = f"dim '{name}' must be a positive integer or a range [lo, hi]"
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise SchemaError(f"{what}, got a list of {len(value)}", at)
        lo, hi = (need(v, int, what, at) for v in value)
    else:
        lo = hi = need(value, int, what, at)
    if lo < 1:
        raise SchemaError(f"dim '{name}' must be at least 1, got {lo}", at)
    if lo > hi:
        raise SchemaError(f"dim '{name}' has an empty range [{lo}, {hi}]", at, hint="write [lo, hi] with lo <= hi")
    return int(lo), int(hi)


def read_size(entry: Any, what: str, at: Location) -> int:
    """An integer entry of a shape; ``what`` reads "shape of input 'x' must be a list of ..."."""
    size = need(entry, int, what, at)
    if size < 1:
        raise SchemaError(f"sizes in a shape must be at least 1, got {size}", at)
    return int(size)


def read_shape_entry(entry: Any, name: str, dims: Mapping[str, tuple[int, int]], at: Location) -> str | int:
    """One entry of input ``name``'s shape: a size, a dim name, or a derived dim (``F + 1``).

    A derived dim is kept as written (a string) once :func:`gradcheck.expr.dims.parse_dim` has
    checked it over the dims' ranges: integer arithmetic only, an integer of at least 1 for
    every size. Its errors point at the offending characters.
    """
    if not isinstance(entry, str):
        return read_size(entry, f"shape of input '{name}' must be a list of dims or integers", at)
    if entry.strip() in dims:
        return str(entry).strip()
    if is_name(entry.strip()):
        raise SchemaError(
            f"unknown dim '{entry.strip()}' in the shape of input '{name}'",
            at,
            hint=did_you_mean(entry, dims) or "declare it under dims:",
        )
    start = at.shifted(1) if is_quoted(entry) else at
    try:
        parse_dim(str(entry), dims)
    except SpecError as err:
        raise err.located(start) from None
    return str(entry).strip()


def need_shape(spec: Mapping, name: str, at: Location) -> None:
    """An input written as a mapping names its shape."""
    if "shape" not in spec:
        raise SchemaError(f"input '{name}' needs a shape", at, hint="for example {shape: [M, n]}; [] is a scalar")


def read_dtype(value: Any, name: str, at: Location) -> str:
    if value not in DTYPES:
        raise SchemaError(
            f"dtype of input '{name}' must be {', '.join(DTYPES[:-1])} or {DTYPES[-1]}, got {value!r}",
            at,
            hint=did_you_mean(value, DTYPES),
        )
    return str(value)


def read_domain(
    value: Any, name: str, shape: tuple[str | int, ...], at: Location, places: Places, dims: Collection[str] | None
) -> Domain:
    """A domain name, ``{range: [low, high]}``, ``{integers: [lo, hi]}`` or ``{spd: {cond: c}}``.

    Parameters
    ----------
    value : Any
        The domain as written; ``at`` is where, ``places`` locates its parts.
    name, shape :
        The input's name and shape: matrix domains need a square shape, simplex an axis.
    dims : collection of str or None
        The dims an ``integers`` bound may name; None where they are not known yet (any
        dim name is then accepted).
    """
    every = ", ".join(DOMAINS)
    if isinstance(value, str):
        if value in ("range", "integers"):
            bounds = "[low, high]" if value == "range" else "[lo, hi]"
            raise SchemaError(f"domain '{value}' needs bounds: {{{value}: {bounds}}}", at)
        if value not in DOMAINS:
            raise SchemaError(
                f"unknown domain '{value}' for input '{name}'",
                at,
                hint=did_you_mean(value, DOMAINS + ("range", "integers")) or f"domains: {every}",
            )
        domain = Domain(str(value))
    elif isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("spd", "invertible"):
        domain = _read_conditioned(value, name, places)
    elif isinstance(value, Mapping) and len(value) == 1:
        check_keys(value, ("range", "integers", "spd", "invertible"), f" in the domain of input '{name}'", places)
        domain = _read_bounds(value, name, places, dims)
    else:
        raise SchemaError(
            f"domain of input '{name}' must be one of {every}, "
            f"or {{range: [low, high]}} or {{integers: [lo, hi]}}, got {describe(value)}",
            at,
        )
    shown = "[" + ", ".join(map(str, shape)) + "]"
    if domain.kind in MATRIX_DOMAINS and (len(shape) < 2 or not _same_size(shape[-1], shape[-2], dims)):
        raise SchemaError(
            f"{domain.kind} needs a square matrix: shape {shown}",
            at,
            hint=f"input '{name}' must end in two equal dims, e.g. [n, n]",
        )
    if domain.kind == "simplex" and not shape:
        raise SchemaError(f"simplex needs at least one axis: shape {shown}", at)
    return domain


def _same_size(a: str | int, b: str | int, dims: Collection[str] | None) -> bool:
    """Two shape entries of one size: equal as written, or derived dims with one canonical
    polynomial (``F + 1`` and ``1 + F``) where the dims' ranges are known."""
    if a == b:
        return True
    if not (isinstance(a, str) and isinstance(b, str) and isinstance(dims, Mapping)):
        return False
    ranges = {name: (d.lo, d.hi) for name, d in dims.items()}
    try:
        return shape_dim(a, ranges) == shape_dim(b, ranges)
    except SpecError:  # already refused, with its location, when the shape was read
        return False


def _read_conditioned(value: Mapping, name: str, places: Places) -> Domain:
    """``{spd: {cond: 1e8}}``: a matrix domain drawn with a given condition number."""
    kind = next(iter(value))
    options = value[kind]
    at = places.at_value(value, kind)
    if not isinstance(options, Mapping):
        raise SchemaError(
            f"{kind} options of input '{name}' must be a mapping like {{cond: 1e6}}, got {describe(options)}", at
        )
    check_keys(options, ("cond",), f" in the {kind} domain of input '{name}'", places)
    cond = read_float(options.get("cond", 1.0), f"the condition number of input '{name}'", at)
    if not 1.0 <= cond <= 1e15:
        raise SchemaError(f"condition number of input '{name}' must be in [1, 1e15], got {cond:g}", at)
    return Domain(kind, cond=cond)


def _read_bounds(value: Mapping, name: str, places: Places, dims: Collection[str] | None) -> Domain:
    """``{range: [low, high]}`` (closed, low < high) or ``{integers: [lo, hi]}`` (half-open; dims allowed)."""
    kind = next(iter(value))
    bounds = value[kind]
    at = places.at_value(value, kind)
    what = f"{kind} of input '{name}' must be a list [low, high]"
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        got = f"a list of {len(bounds)}" if isinstance(bounds, (list, tuple)) else describe(bounds)
        raise SchemaError(f"{what}, got {got}", at)
    if kind == "range":
        low, high = (read_float(b, f"a range bound of input '{name}'", at) for b in bounds)
        if not low < high:
            raise SchemaError(
                f"range of input '{name}' is empty: [{low}, {high}]",
                at,
                hint="write [low, high] with low < high",
            )
        return Domain("range", low, high)
    ends: list[int | str] = []
    for index, bound in enumerate(bounds):
        where = places.item_at(bounds, index)
        if isinstance(bound, str):
            if dims is None:
                check_name(bound, "dim", where)
            elif bound not in dims:
                raise SchemaError(
                    f"unknown dim '{bound}' in the integers of input '{name}'",
                    where,
                    hint=did_you_mean(bound, dims),
                )
            ends.append(str(bound))
        else:
            ends.append(int(need(bound, int, f"integer bounds of input '{name}' must be integers or dims", where)))
    lo, hi = ends
    if isinstance(lo, int) and isinstance(hi, int) and lo >= hi:
        raise SchemaError(
            f"integers of input '{name}' is empty: [{lo}, {hi}) is half-open",
            at,
            hint="write [lo, hi] with lo < hi",
        )
    return Domain("integers", lo, hi)


def integer_domain_warning(name: str, domain: Domain, dims: Mapping[str, tuple[int, int]]) -> str | None:
    """Why ``{integers: [lo, hi]}`` may draw a single value, or None.

    The bounds are half-open, so ``[0, 1]`` draws only 0 (a classic slip for the labels 0 and
    1); with a dim as a bound, the smallest distance over the dims' ranges counts. This is a
    warning, not an error: a constant integer input is legal, just rarely meant.
    """
    if not domain.is_integer:
        return None
    low, high = domain.low, domain.high
    shown = f"{{integers: [{low}, {high}]}}"

    def head(value: object) -> str:
        return f"input '{name}' has the domain {shown}, which is half-open: every draw is {value}"

    if isinstance(low, int) and isinstance(high, int):
        if high - low != 1:
            return None
        return head(low) + f" (for the labels {low} and {high} write {{integers: [{low}, {high + 1}]}})"
    # a dim bound: the distance is smallest where the upper bound is smallest and the lower largest
    bottom = {str(b): dims[b][0] for b in (low, high) if isinstance(b, str) and b in dims}
    top = {str(b): dims[b][1] for b in (low, high) if isinstance(b, str) and b in dims}
    lo_at = low if isinstance(low, int) else top.get(str(low))
    hi_at = high if isinstance(high, int) else bottom.get(str(high))
    if lo_at is None or hi_at is None or hi_at - lo_at != 1:
        return None
    if isinstance(high, str) and isinstance(low, int):
        where, fix = f"{high}={hi_at}", f"start {high} at {hi_at + 1} for at least two values"
    elif isinstance(low, str) and isinstance(high, int):
        where, fix = f"{low}={lo_at}", f"end {low} at {lo_at - 1} for at least two values"
    else:
        where, fix = f"{low}={lo_at}, {high}={hi_at}", "keep the upper bound at least 2 above the lower one"
    return head(lo_at) + f" when {where} ({fix})"
