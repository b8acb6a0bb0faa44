"""The keywords every ``check_*`` takes, declared once.

They mirror a spec file: ``inputs:``, ``dims:``, ``constants:`` and ``settings:``, plus the fixed
points ``at`` and the claim's ``name`` and ``expect``. :class:`CheckOptions` types them for
editors and type checkers (``**options: Unpack[CheckOptions]``); :func:`shared_keywords` writes
them into each function's runtime signature, after the function's own parameters, so ``help()``
and ``inspect.signature`` show every keyword; :func:`read_options` fills in the defaults and
refuses a keyword no check takes, as Python would, naming the closest one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict, TypeVar

from ..spec.fields import did_you_mean
from ..verdict.model import Expect

__all__ = ["DEFAULTS", "CheckOptions", "read_options", "shared_keywords"]


class CheckOptions(TypedDict, total=False):
    """The shared keywords of ``check_*`` (documented on :func:`gradcheck.check_gradient`)."""

    inputs: Mapping[str, Any] | None
    dims: Mapping[str, Any] | None
    domains: Mapping[str, Any] | None
    constants: Mapping[str, Any] | None
    at: Iterable[Mapping[str, Any]]
    examples: int | None
    seed: int | None
    rtol: float | None
    atol: float | None
    directions: int | None
    expect: str
    name: str | None


# each keyword's default (None: the spec format's default, decided where it is read)
DEFAULTS: dict[str, Any] = dict.fromkeys(CheckOptions.__annotations__) | {"at": (), "expect": Expect.PASS.value}

F = TypeVar("F", bound=Callable[..., Any])


def shared_keywords(fn: F) -> F:
    """``fn`` (whose ``**options`` takes :class:`CheckOptions`) with the shared keywords written
    into its signature as keyword-only parameters with their defaults. Returns ``fn`` itself."""
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    shared = [
        inspect.Parameter(
            k, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=_text(CheckOptions.__annotations__[k])
        )
        for k, d in DEFAULTS.items()
    ]
    fn.__signature__ = sig.replace(parameters=own + shared)  # type: ignore[attr-defined]
    return fn


def _text(annotation: Any) -> Any:
    """An annotation as its source text (a TypedDict keeps postponed ones as ForwardRefs)."""
    return getattr(annotation, "__forward_arg__", annotation)


def read_options(fn: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Every shared keyword of a call of ``fn``: the ones given, the defaults for the rest
    (``at`` as a tuple).

    Raises
    ------
    TypeError
        A keyword ``fn`` does not take, worded as Python words it, with the closest name.
    """
    for key in options:
        if key not in DEFAULTS:
            hint = did_you_mean(key, list(inspect.signature(fn).parameters))
            raise TypeError(
                f"{fn.__name__}() got an unexpected keyword argument {key!r}" + (f" ({hint})" if hint else "")
            )
    given = {**DEFAULTS, **options}
    return {**given, "at": tuple(given["at"])}  # an iterator of points is read once, here
