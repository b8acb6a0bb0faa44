"""Array constants: fixed data the loss is not differentiated against, read when a spec is
compiled, whose shapes bind the dims they name.

``constants: {X: {python: "pkg.data:X", shape: [M, in]}}`` makes ``M`` and ``in`` the data's
sizes, so every input shaped by them follows the data. A ``.npy`` file is data, not code: it is
read with ``allow_pickle=False``, and only from inside the spec's folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError, SpecError
from ..expr.dims import Dim, Shape
from ..spec.model import ArrayConstant, PythonRef, Spec
from .callables import resolve_data

__all__ = ["Data", "read_arrays", "load_array"]


@dataclass(frozen=True)
class Data:
    """The array constants of one spec: values (read-only), symbolic shapes, and the dims they bind."""

    values: dict[str, np.ndarray]
    shapes: dict[str, Shape]
    sizes: dict[str, int]  # dim -> size, for every dim a constant's shape names


def read_arrays(spec: Spec) -> Data:
    """Read every array constant and bind the dims their shapes name.

    Raises
    ------
    SpecError
        Data that cannot be read, is not real numbers, or does not fit its declared shape; a
        dim bound to two sizes, or to a size outside its declared range (located at the constant).
    """
    values: dict[str, np.ndarray] = {}
    shapes: dict[str, Shape] = {}
    sizes: dict[str, int] = {}
    bound_by: dict[str, str] = {}
    for name, const in spec.arrays.items():
        array = load_array(const, spec.path)
        declared = const.shape if const.shape is not None else tuple(array.shape)
        shown = "(" + ", ".join(str(d) for d in declared) + ("," if len(declared) == 1 else "") + ")"
        if len(declared) != array.ndim or any(isinstance(d, int) and d != n for d, n in zip(declared, array.shape)):
            raise ShapeError(
                f"constant '{name}' holds an array of shape {tuple(array.shape)}, which does not fit its "
                f"declared shape {shown}",
                const.location,
            )
        for d, n in zip(declared, array.shape):
            if isinstance(d, int):
                continue
            if d in sizes and sizes[d] != n:
                raise ShapeError(
                    f"constant '{name}' binds {d} = {n}, but constant '{bound_by[d]}' binds {d} = {sizes[d]}",
                    const.location,
                    hint="the constants' shapes must agree on every dim they share",
                )
            sizes[d], bound_by[d] = n, name
            dim = spec.dims.get(d)
            if dim is not None and not dim.lo <= n <= dim.hi:
                declared_range = f"{dim.lo}" if dim.lo == dim.hi else f"[{dim.lo}, {dim.hi}]"
                raise ShapeError(
                    f"constant '{name}' binds {d} = {n}, outside the declared dim {d}: {declared_range} "
                    f"(line {dim.location.line})",
                    const.location,
                    hint=f"leave {d} out of dims: (the data sets it), or declare it {n}",
                )
        values[name] = array
        shapes[name] = tuple(Dim.const(d) if isinstance(d, int) else Dim.of(d) for d in declared)
    return Data(values, shapes, sizes)


def load_array(const: ArrayConstant, spec_path: str) -> np.ndarray:
    """The constant's data as a read-only float64 (or int64, for integer data) array."""
    if const.value is not None:
        raw = const.value
    elif isinstance(const.source, PythonRef):
        raw = resolve_data(const.source)
    else:
        raw = _load_npy(str(const.source), spec_path, const)
    try:
        array = np.array(raw)  # a copy: the caller's array may change after the check is set up
    except Exception as exc:  # noqa: BLE001  the user's object's __array__ may raise anything: a located SpecError
        raise SpecError(
            f"constant '{const.name}' is not an array: {type(exc).__name__}: {exc}", const.location
        ) from None
    if array.dtype.kind == "f":
        array = array.astype(np.float64)
    elif array.dtype.kind in "iub":
        array = array.astype(np.int64)
    else:
        raise SpecError(
            f"constant '{const.name}' must hold real numbers, got an array of dtype {array.dtype}",
            const.location,
            hint="fixed data is real (float or integer); differentiate complex data as its real and imaginary parts",
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise SpecError(f"constant '{const.name}' has {bad} entries that are not finite (nan or inf)", const.location)
    array.flags.writeable = False
    return array


def _load_npy(path: str, spec_path: str, const: ArrayConstant) -> np.ndarray:
    folder = os.path.dirname(os.path.abspath(spec_path))
    full = os.path.realpath(os.path.join(folder, path))
    if os.path.isabs(path) or os.path.commonpath([full, os.path.realpath(folder)]) != os.path.realpath(folder):
        raise SpecError(
            f"constant '{const.name}': the file {path} is outside the spec's folder",
            const.location,
            hint="put the .npy file in the spec's folder (or below it) and name it relative to the spec",
        )
    try:
        return np.load(full, allow_pickle=False)
    except FileNotFoundError:
        raise SpecError(
            f"constant '{const.name}': no such file {path} (relative to the spec's folder)", const.location
        ) from None
    except (OSError, ValueError, EOFError) as exc:
        raise SpecError(
            f"constant '{const.name}': cannot read {path} as a .npy array: {exc}",
            const.location,
            hint="save it with numpy.save (object arrays are refused: pickles are never loaded)",
        ) from None
