"""Typed fields of the spec: checks shared by every section, with located messages.

Messages read "X must be Y, got Z" in the user's words; hints suggest the closest allowed
word (difflib) when there is one.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import Location, SchemaError
from .model import PythonRef
from .yaml import key_location, value_location

__all__ = [
    "NAME_KINDS",
    "describe",
    "did_you_mean",
    "is_name",
    "check_keys",
    "need",
    "read_float",
    "read_python_ref",
]

PYTHON_REF = re.compile(r"([A-Za-z_][\w.]*):([A-Za-z_]\w*)", re.ASCII)
NAME_KINDS = {
    "dim": "a dim",
    "constant": "a constant",
    "input": "an input",
    "define": "a define: helper",
    "node": "a graph node",
}


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
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def is_name(name: Any) -> bool:
    """A Python identifier that ``ast`` reads back unchanged (NFKC-stable)."""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and unicodedata.normalize("NFKC", name) == name
    )


def check_keys(mapping: Mapping, allowed: tuple[str, ...], where: str, path: str, *, claim=None) -> None:
    """Every key is a string from ``allowed``; else a located error with a did-you-mean."""
    for key in mapping:
        at = key_location(mapping, key, path)
        if not isinstance(key, str):
            raise SchemaError(f"keys must be strings, got {describe(key)}", at, claim=claim)
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            if any(ch in key for ch in "()[]*+@/") or " " in key.strip():
                hint = ("this looks like the rest of an expression: inside { ... } a comma ends the value, "
                        "so quote expressions that contain commas, e.g. gradient: \"outer(x, y)\"")
            raise SchemaError(
                f"unknown key '{key}'{where}",
                at,
                claim=claim,
                hint=hint,
            )


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
