"""The API's keyword arguments -> the parts of a Spec, located at the caller's line.

Keyword names and forms mirror the spec format: ``inputs={"X": "M in"}`` is
``inputs: {X: {shape: [M, in]}}``, ``dims={"M": (2, 8)}`` is ``dims: {M: [2, 8]}``, a domain
is ``"positive"``, ``{"range": [a, b]}``, ``{"integers": [0, "k"]}`` or ``{"spd": {"cond": c}}``.
Misuse is a :class:`~gradcheck.errors.SchemaError` at the caller's file:line. Names, dims,
shapes, domains and dtypes are checked by the spec loader's own rules
(:mod:`gradcheck.spec.fields`), so a misuse reads as it would in a spec file.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import Location, SchemaError
from ..options import OPTION
from ..spec.complex_inputs import check_domain
from ..spec.fields import (
    INPUT_KEYS,
    OnePlace,
    check_keys,
    check_name,
    describe,
    did_you_mean,
    need_shape,
    read_dim,
    read_domain,
    read_dtype,
    read_float,
    read_size,
    register_name,
)
from ..spec.model import ArrayConstant, DimSpec, Domain, InputSpec

DEFAULT_DIM = (2, 6)  # an undeclared dim symbol is drawn from this inclusive range
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
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


def number_arg(name: str, value: Any, at: Location, minimum: float | None = None) -> Any:
    """``rtol=``, ``examples=``, ...: None (not given), or a value in the range the command line
    allows for the same option (``rtol=-1`` is refused as ``--rtol -1`` is, in the same words)."""
    problem = None if value is None else OPTION[name].problem(value, minimum)
    if problem:
        raise SchemaError(f"{name} {problem}", at)
    return value


def shape_arg(value: Any, what: str, at: Location) -> tuple[str | int, ...]:
    """``"M in"``, ``("M", "in")``, ``3`` or ``""`` (a scalar) -> ``("M", "in")``.

    Entries are dim names or sizes of at least 1, as in a spec's ``shape: [M, in]``.
    """
    if isinstance(value, str):
        words = value.replace(",", " ").replace("(", " ").replace(")", " ").split()
        parts: list[Any] = [int(w) if _INTEGER.fullmatch(w) else w for w in words]
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    elif isinstance(value, (tuple, list)):
        parts = list(value)
    else:
        raise SchemaError(
            f'the shape of {what} must be a string of dim names like "M in", or a tuple, got {describe(value)}', at
        )
    entry = f"shape of {what} must be a list of dims or integers"
    return tuple(check_name(p, "dim", at) if isinstance(p, str) else read_size(p, entry, at) for p in parts)


def input_specs(
    inputs: Mapping[str, Any], domains: Mapping[str, Any] | None, at: Location, dims: Mapping[str, Any] | None = None
) -> dict[str, InputSpec]:
    """``{"X": "M in", "S": {"shape": "n n", "domain": "spd"}}`` -> InputSpecs.

    Every part is checked as the spec loader checks it. Input names and dim names share one
    namespace. ``integers`` bounds may name any dim when ``dims`` (the declared dims) is not
    given; with it, only a declared dim or one in a shape.
    """
    domains = dict(domains or {})
    names: dict[str, tuple[str, Location]] = {}
    for d in dims or {}:
        register_name(names, d, "dim", at)
    read: dict[str, tuple[tuple[str | int, ...], Any, str]] = {}
    for name, value in inputs.items():
        register_name(names, name, "input", at)
        domain = domains.pop(name, None)
        if isinstance(value, Mapping):
            check_keys(value, INPUT_KEYS, f" for input '{name}'", OnePlace(at))
            need_shape(value, name, at)
            if domain is not None and value.get("domain") is not None:
                raise SchemaError(
                    f"input '{name}' has a domain both in inputs= and in domains=", at, hint="give it in one place"
                )
            shape = shape_arg(value["shape"], f"input '{name}'", at)
            domain = value["domain"] if value.get("domain") is not None else domain
            dtype = read_dtype(value.get("dtype", "float64"), name, at)
        else:
            shape, dtype = shape_arg(value, f"input '{name}'", at), "float64"
        for d in shape:
            if isinstance(d, str) and (d not in names or names[d][0] != "dim"):
                register_name(names, d, "dim", at)  # a new dim, or a clash with an input's name
        read[name] = (shape, domain, dtype)
    if domains:
        extra = sorted(domains)[0]
        raise SchemaError(
            f"domains names {extra!r}, which is not an input",
            at,
            hint=did_you_mean(extra, read) or f"inputs: {', '.join(read)}",
        )
    known = None if dims is None else [n for n, (kind, _) in names.items() if kind == "dim"]
    out = {
        name: InputSpec(name, shape, _domain(domain, name, shape, at, known), at, dtype)
        for name, (shape, domain, dtype) in read.items()
    }
    for spec in out.values():
        check_domain(spec.domain, spec.dtype, spec.name, at)
    return out


def _domain(value: Any, name: str, shape: tuple[str | int, ...], at: Location, dims: list[str] | None) -> Domain:
    """None (not given) is the default, real; anything else as in a spec file."""
    return Domain() if value is None else read_domain(value, name, shape, at, OnePlace(at), dims)


def dim_specs(dims: Mapping[str, Any] | None, shapes: list[tuple[str | int, ...]], at: Location) -> dict[str, DimSpec]:
    """Declared dims (a size or an inclusive range), then every other symbol in ``shapes``."""
    out: dict[str, DimSpec] = {}
    for name, value in (dims or {}).items():
        name = check_name(name, "dim", at)
        out[name] = DimSpec(name, *read_dim(name, value, at), at)
    for shape in shapes:
        for d in shape:
            if isinstance(d, str) and d not in out:
                out[d] = DimSpec(d, *DEFAULT_DIM, at)
    return out


CONSTANT_KEYS = ("value", "shape")


def constant_args(
    constants: Mapping[str, Any] | None, at: Location
) -> tuple[dict[str, float], dict[str, ArrayConstant], dict[str, int]]:
    """``constants=`` -> (scalars, array constants, the dims the arrays' shapes bind).

    A number (or a 0-d array) is a scalar constant; an array or a list is fixed data of its own
    sizes; ``{"value": X, "shape": "M in"}`` is fixed data whose shape binds the dims it names
    (as ``constants: {X: {python: ..., shape: [M, in]}}`` in a spec). The data is read and checked
    against its shape when the problem is built (:mod:`gradcheck.problem.constants`).
    """
    scalars: dict[str, float] = {}
    arrays: dict[str, ArrayConstant] = {}
    sizes: dict[str, int] = {}
    for name, value in (constants or {}).items():
        name = check_name(name, "constant", at)
        shape = None
        if isinstance(value, Mapping):
            check_keys(value, CONSTANT_KEYS, f" in constant '{name}'", OnePlace(at))
            if "value" not in value:
                raise SchemaError(f"constant '{name}' needs a value", at, hint='{"value": X, "shape": "M in"}')
            if value.get("shape") is not None:
                shape = shape_arg(value["shape"], f"constant '{name}'", at)
            value = value["value"]
        elif _is_number(value):
            scalars[name] = read_float(float(value), f"constant '{name}'", at)
            continue
        if isinstance(value, (str, bytes, Mapping)) or not (hasattr(value, "__len__") or hasattr(value, "__array__")):
            raise SchemaError(
                f'constant \'{name}\' must be a number, an array, or {{"value": array, "shape": "M in"}}, '
                f"got {describe(value)}",
                at,
            )
        arrays[name] = ArrayConstant(name, None, shape, at, value=value)
        for d, n in zip(shape or (), np.shape(value)):
            if isinstance(d, str):
                sizes.setdefault(d, int(n))
    return scalars, arrays, sizes


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float, np.number)) or (isinstance(value, np.ndarray) and value.ndim == 0)


@dataclass(frozen=True)
class FixedPoint:
    """One ``at=`` point as a problem of its own: its dims fixed to the sizes its arrays bind, its
    inputs as declared (as the arrays are, without ``inputs=``), and the arrays themselves, which
    the point's :class:`~gradcheck.samples.draw.GivenSample` hands to the check in place of a draw."""

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
            for k in arrays:
                check_name(k, "input", at)
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
                d == n if isinstance(d, int) else sizes.setdefault(d, n) == n for d, n in zip(shape, actual)
            )
            if not fits:
                bound = " ".join(f"{a}={b}" for a, b in sizes.items())
                raise SchemaError(
                    f"at[{i}]: input '{k}' has shape {actual}, which does not fit {shape}"
                    + (f" [{bound}]" if bound else ""),
                    at,
                )
        inputs = {}
        for k, shape in shapes.items():
            a = arrays[k]
            declared = specs[k].domain if specs is not None else None
            if a.dtype.kind in "iub":
                domain = declared if declared is not None and declared.is_integer else Domain("integers", 0, 1)
                inputs[k] = InputSpec(k, shape, domain, at)
                arrays[k] = a.astype(np.int64)
            else:
                dtype = "complex128" if a.dtype.kind == "c" else "float32" if a.dtype == np.float32 else "float64"
                domain = declared if declared is not None and not declared.is_integer else Domain()
                inputs[k] = InputSpec(k, shape, domain, at, dtype)
        dims = {d: DimSpec(d, n, n, at) for d, n in sizes.items()}
        out.append(FixedPoint(f"at[{i}]", inputs, dims, {k: arrays[k] for k in shapes}))
    return out
