"""The array-constant form of a ``constants:`` entry: fixed data, checked for its form only.

::

    constants:
      lam: 0.1                                        # a number, as ever
      X: {python: "pkg.data:X", shape: [M, in]}       # a module attribute, or a def of no arguments
      y: {npy: data/y.npy, shape: [M]}                # a .npy file inside the spec's folder

``shape`` is optional; the dims it names need not be declared under ``dims:`` (the data sets
them; a declared dim must admit the data's size). Nothing is imported or read here: that happens
when the spec is compiled (:mod:`gradcheck.problem.constants`), and ``--no-python`` refuses the
python form before that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import Location, SchemaError
from .fields import PYTHON_REF, check_keys, describe, read_size
from .model import ArrayConstant, DimSpec, PythonRef

if TYPE_CHECKING:
    from .load import _Loader

__all__ = ["CONSTANT_KEYS", "read_array_constant"]

CONSTANT_KEYS = ("python", "npy", "shape")
UNBOUNDED = 2**31 - 1  # a dim only a constant's shape names: any size, until the data fixes it


def read_array_constant(loader: "_Loader", name: str, value: Mapping, at: Location) -> ArrayConstant:
    """``{python: "mod:X", shape: [...]}`` or ``{npy: path, shape: [...]}`` (``at``: the key)."""
    check_keys(value, CONSTANT_KEYS, f" in constant '{name}'", loader.path)
    given = [k for k in ("npy", "python") if k in value]
    if len(given) == 2:
        raise SchemaError(f"constant '{name}' has both npy and python: give one", at)
    if not given:
        raise SchemaError(
            f"constant '{name}' needs python: or npy: (where its data is)",
            at,
            hint='{python: "pkg.data:X", shape: [M, in]} or {npy: data/X.npy, shape: [M, in]}',
        )
    source = _python(loader, name, value) if given[0] == "python" else _npy(loader, name, value)
    shape = _shape(loader, name, value) if value.get("shape") is not None else None
    return ArrayConstant(name, source, shape, at)


def _python(loader: "_Loader", name: str, value: Mapping) -> PythonRef:
    text = value["python"]
    where = loader.at_value(value, "python")
    match = PYTHON_REF.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        shown = f"'{text}'" if isinstance(text, str) else describe(text)
        raise SchemaError(
            f"python must be 'module:name', got {shown}", where, hint='for example {python: "mypkg.data:X"}'
        )
    return PythonRef(match.group(1), match.group(2), where)


def _npy(loader: "_Loader", name: str, value: Mapping) -> str:
    path = value["npy"]
    where = loader.at_value(value, "npy")
    if not isinstance(path, str) or not path.strip():
        raise SchemaError(f"constant '{name}': npy must be a path to a .npy file, got {describe(path)}", where)
    parts = path.replace("\\", "/").split("/")
    if os.path.isabs(path) or path.startswith(("/", "\\")) or ".." in parts:
        raise SchemaError(
            f"constant '{name}': npy must be a path inside the spec's folder, got '{path}'",
            where,
            hint="data is read only from the spec's folder or below it, relative to the spec",
        )
    if not path.endswith(".npy"):
        raise SchemaError(
            f"constant '{name}': npy must name a .npy file, got '{path}'", where, hint="save the array with numpy.save"
        )
    return path


def _shape(loader: "_Loader", name: str, value: Mapping) -> tuple[str | int, ...]:
    entries = value["shape"]
    at = loader.at_value(value, "shape")
    what = f"shape of constant '{name}' must be a list of dims or integers"
    if not isinstance(entries, list):
        raise SchemaError(f"{what}, got {describe(entries)}", at)
    shape: list[str | int] = []
    for index, entry in enumerate(entries):
        where = loader.item_at(entries, index)
        if isinstance(entry, str):
            if entry not in loader.dims:  # a dim the data sets
                dim = loader.register(entry, "dim", where)
                loader.dims[dim] = DimSpec(dim, 1, UNBOUNDED, where)
            shape.append(str(entry))
        else:
            shape.append(read_size(entry, what, where))
    return tuple(shape)
