"""The API's keyword arguments -> the parts of a Spec, located at the caller's line.

Keyword names and forms mirror the spec format: ``inputs={"X": "M in"}`` is
``inputs: {X: {shape: [M, in]}}``, ``dims={"M": (2, 8)}`` is ``dims: {M: [2, 8]}``, a domain
is ``"positive"``, ``{"range": [a, b]}``, ``{"integers": [0, "k"]}`` or ``{"spd": {"cond": c}}``.
Misuse is a :class:`~gradcheck.errors.SchemaError` at the caller's file:line.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import Location, SchemaError
from ..spec.fields import did_you_mean
from ..spec.model import DimSpec, Domain, InputSpec

DEFAULT_DIM = (2, 6)  # an undeclared dim symbol is drawn from this inclusive range
DOMAIN_NAMES = ("real", "positive", "unit", "symmetric", "spd", "invertible", "orthogonal", "simplex")
INPUT_KEYS = ("shape", "domain", "dtype")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@dataclass(frozen=True)
class Call:
    """Who is asking: the claim's name, the API function, the caller's function and file:line."""

    name: str
    api: str
    function: str  # the caller's function: the spec's name (and its example-database key)
    location: Location

    @classmethod
    def here(cls, name: str, api: str) -> "Call":
        """Locate the first frame outside the gradcheck package (the user's test)."""
        frame = inspect.currentframe()
        while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            frame = frame.f_back
        if frame is None:  # pragma: no cover - only when called from inside gradcheck
            return cls(name, api, "api", Location("<api>", 1, 1))
        filename = frame.f_code.co_filename
        try:
            rel = os.path.relpath(filename)
            path = filename if rel.startswith("..") else rel
        except ValueError:  # another drive
            path = filename
        info = inspect.getframeinfo(frame, context=0)
        positions = getattr(info, "positions", None)
        col = (positions.col_offset or 0) + 1 if positions is not None and positions.col_offset is not None else 1
        function = frame.f_code.co_name
        if function.startswith("<"):
            function = os.path.splitext(os.path.basename(filename))[0]
        return cls(name, api, function, Location(path, info.lineno, col))


def name_of(fn: Callable[..., Any], default: str) -> str:
    """A function's name, or ``default`` for a lambda."""
    name = getattr(fn, "__name__", "") or ""
    return name if name.isidentifier() else default


def callable_arg(fn: Any, what: str, at: Location) -> Callable[..., Any]:
    if not callable(fn):
        raise SchemaError(f"{what} must be a callable, got {type(fn).__name__}", at)
    return fn


def shape_arg(value: Any, what: str, at: Location) -> tuple[str | int, ...]:
    """``"M in"``, ``("M", "in")``, ``3`` or ``""`` (a scalar) -> ``("M", "in")``."""
    if isinstance(value, str):
        parts: list[Any] = value.replace(",", " ").replace("(", " ").replace(")", " ").split()
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    elif isinstance(value, (tuple, list)):
        parts = list(value)
    else:
        raise SchemaError(f"the shape of {what} must be a string of dim names like \"M in\", or a tuple, "
                          f"got {type(value).__name__}", at)
    shape: list[str | int] = []
    for p in parts:
        if isinstance(p, str) and p.isdigit():
            p = int(p)
        if isinstance(p, int) and not isinstance(p, bool) and p >= 0:
            shape.append(p)
        elif isinstance(p, str) and p.isidentifier():
            shape.append(p)
        else:
            raise SchemaError(f"the shape of {what} has {p!r}: use dim names or non-negative integers", at)
    return tuple(shape)


def domain_arg(value: Any, name: str, at: Location) -> Domain:
    if value is None:
        return Domain()
    if isinstance(value, str):
        if value not in DOMAIN_NAMES:
            raise SchemaError(f"unknown domain {value!r} for input '{name}'", at,
                              hint=did_you_mean(value, DOMAIN_NAMES) or f"domains: {', '.join(DOMAIN_NAMES)}, range, integers")
        return Domain(value)
    if isinstance(value, Mapping) and len(value) == 1:
        kind, arg = next(iter(value.items()))
        if kind in ("range", "integers") and isinstance(arg, (tuple, list)) and len(arg) == 2:
            lo, hi = arg
            return Domain("range", float(lo), float(hi)) if kind == "range" else Domain("integers", lo, hi)
        if kind in ("spd", "invertible") and isinstance(arg, Mapping) and set(arg) <= {"cond"}:
            return Domain(kind, cond=float(arg.get("cond", 1.0)))
    raise SchemaError(f"the domain of input '{name}' must be a name like 'positive', {{'range': [a, b]}}, "
                      f"{{'integers': [lo, hi]}} or {{'spd': {{'cond': c}}}}, got {value!r}", at)


def input_specs(inputs: Mapping[str, Any], domains: Mapping[str, Any] | None, at: Location) -> dict[str, InputSpec]:
    """``{"X": "M in", "S": {"shape": "n n", "domain": "spd"}}`` -> InputSpecs."""
    domains = dict(domains or {})
    specs = {}
    for name, value in inputs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SchemaError(f"input name {name!r} is not an identifier", at)
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(INPUT_KEYS))
            if unknown:
                raise SchemaError(f"unknown key {unknown[0]!r} for input '{name}'", at,
                                  hint=did_you_mean(unknown[0], INPUT_KEYS) or f"keys: {', '.join(INPUT_KEYS)}")
            shape = shape_arg(value.get("shape", ()), f"input '{name}'", at)
            domain = value["domain"] if "domain" in value else domains.pop(name, None)
            dtype = value.get("dtype", "float64")
        else:
            shape, domain, dtype = shape_arg(value, f"input '{name}'", at), domains.pop(name, None), "float64"
        if dtype not in ("float64", "float32"):
            raise SchemaError(f"dtype of input '{name}' must be float64 or float32, got {dtype!r}", at)
        specs[name] = InputSpec(name, shape, domain_arg(domain, name, at), at, dtype)
    if domains:
        extra = sorted(domains)[0]
        raise SchemaError(f"domains names {extra!r}, which is not an input", at, hint=did_you_mean(extra, specs))
    return specs


def dim_specs(dims: Mapping[str, Any] | None, shapes: list[tuple[str | int, ...]], at: Location) -> dict[str, DimSpec]:
    """Declared dims (a size or an inclusive range), then every other symbol in ``shapes``."""
    out: dict[str, DimSpec] = {}
    for name, value in (dims or {}).items():
        if isinstance(value, int) and not isinstance(value, bool):
            lo = hi = value
        elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
            lo, hi = value
        else:
            raise SchemaError(f"dim '{name}' must be a size or an inclusive (lo, hi) range, got {value!r}", at)
        if not 0 <= lo <= hi:
            raise SchemaError(f"dim '{name}' has an empty or negative range ({lo}, {hi})", at)
        out[name] = DimSpec(name, lo, hi, at)
    for shape in shapes:
        for d in shape:
            if isinstance(d, str) and d not in out:
                out[d] = DimSpec(d, *DEFAULT_DIM, at)
    return out


@dataclass(frozen=True)
class FixedPoint:
    """One ``at=`` point as a problem of its own: fixed dims, inputs that are the constant 0,
    and the arrays to add back inside the callables (see :func:`pipeline.keyword_caller`)."""

    label: str
    inputs: dict[str, InputSpec]
    dims: dict[str, DimSpec]
    arrays: dict[str, np.ndarray]


def fixed_points(points: list[Mapping[str, Any]], specs: dict[str, InputSpec] | None, at: Location) -> list[FixedPoint]:
    """Bind every point's dims from its arrays (symbolic names where ``inputs`` gave them)."""
    out = []
    for i, point in enumerate(points):
        arrays = {k: np.asarray(v) for k, v in point.items()}
        if specs is None:
            shapes: dict[str, tuple[str | int, ...]] = {k: tuple(a.shape) for k, a in arrays.items()}
        else:
            missing = [k for k in specs if k not in arrays]
            if missing:
                raise SchemaError(f"at[{i}] has no array for input {missing[0]!r}", at)
            shapes = {k: specs[k].shape for k in specs}
        sizes: dict[str, int] = {}
        for k, shape in shapes.items():
            actual = arrays[k].shape
            fits = len(shape) == len(actual) and all(
                d == n if isinstance(d, int) else sizes.setdefault(d, n) == n for d, n in zip(shape, actual))
            if not fits:
                bound = " ".join(f"{a}={b}" for a, b in sizes.items())
                raise SchemaError(f"at[{i}]: input '{k}' has shape {actual}, which does not fit {shape}"
                                  + (f" [{bound}]" if bound else ""), at)
        inputs = {}
        for k, shape in shapes.items():
            a = arrays[k]
            if a.dtype.kind in "iub":
                inputs[k] = InputSpec(k, shape, Domain("integers", 0, 1), at)
                arrays[k] = a.astype(np.int64)
            else:
                inputs[k] = InputSpec(k, shape, Domain("range", 0.0, 0.0), at,
                                      "float32" if a.dtype == np.float32 else "float64")
        dims = {d: DimSpec(d, n, n, at) for d, n in sizes.items()}
        out.append(FixedPoint(f"at[{i}]", inputs, dims, {k: arrays[k] for k in shapes}))
    return out
