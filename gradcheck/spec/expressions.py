"""Spec expressions: YAML value -> checked :class:`~gradcheck.spec.model.Source`.

Parsing itself belongs to :mod:`gradcheck.expr.parse`; this module places its errors in the
file and checks what only the spec knows: which names are in scope where, how many
arguments a ``define:`` helper takes, and that helpers do not call themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from ..errors import ExpressionError, Location, SchemaError, SpecError
from ..expr import ir
from ..expr.parse import called_functions, free_names, parse
from .fields import describe, did_you_mean
from .model import Define, Source
from .yaml import is_block, is_quoted

__all__ = ["expression_text", "position", "compile_expression", "check_defines"]


def expression_text(value: Any, value_at: Location, what: str, *, claim: str | None = None) -> tuple[str, Location]:
    """The expression text of a YAML value and where its first character is.

    Quoted scalars start one column after the quote. A block scalar (``|``/``>``) starts on
    the line after its indicator; ``value_at`` must then already point at that content
    (see :func:`gradcheck.spec.load`), and the trailing newline is dropped.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SchemaError(
            f"{what} must be an expression (a string or a number), got {describe(value)}",
            value_at,
            claim=claim,
        )
    if isinstance(value, str):
        if is_block(value):
            return str(value).rstrip(), value_at
        if is_quoted(value):
            return str(value), value_at.shifted(1)
        return str(value), value_at
    return (repr(float(value)) if isinstance(value, float) else str(int(value))), value_at


def position(start: Location, text: str, offset: int) -> Location:
    """The file position of character ``offset`` of ``text`` written at ``start``.

    Exact on the first line; later lines of a block scalar are assumed to share the
    first line's indentation.
    """
    offset = max(0, min(offset, len(text)))
    newline = text.rfind("\n", 0, offset)
    if newline < 0:
        return start.shifted(offset)
    line = start.line + text.count("\n", 0, offset)
    return Location(start.file, line, start.col + offset - newline - 1)


def _placed(error: SpecError, start: Location, text: str, claim: str | None) -> SpecError:
    offset = error.span[0] if error.span else 0
    return type(error)(
        error.message,
        position(start, text, offset),
        claim=claim if claim is not None else error.claim,
        hint=error.hint,
        source=error.source,
        span=error.span,
    )


def compile_expression(
    text: str,
    start: Location,
    *,
    callables: Collection[str],
    names: Collection[str],
    defines: Mapping[str, tuple[str, ...]] = {},
    hints: Mapping[str, str] = {},
    claim: str | None = None,
) -> Source:
    """Parse ``text`` and check that it only uses ``names`` and calls helpers correctly.

    Parameters
    ----------
    names : collection of str
        Value names in scope here.
    defines : mapping
        ``define:`` helper name -> parameter names, to check the number of arguments.
    hints : mapping
        Name -> hint for names that exist but are not usable here (a later graph node).

    Raises
    ------
    ExpressionError
        Located at the offending character.
    """
    # A block scalar may span lines; joining them keeps every character's offset.
    flat = text.replace("\n", " ")
    try:
        expr = parse(flat, callables)
    except SpecError as error:
        raise _placed(error, start, text, claim) from None
    for name, span in free_names(expr):
        if name not in names:
            raise ExpressionError(
                f"unknown name '{name}'",
                position(start, text, span[0]),
                claim=claim,
                hint=hints.get(name) or _called_as_value(name, callables) or did_you_mean(name, names),
                source=flat,
                span=span,
            )
    for call in _calls(expr):
        params = defines.get(call.func)
        if params is None:
            continue
        if call.kwargs or len(call.args) != len(params):
            given = len(call.args) + len(call.kwargs)
            span = (call.span[0], call.span[0] + len(call.func))
            raise ExpressionError(
                f"{call.func}({', '.join(params)}) takes {len(params)} "
                f"argument{'s' if len(params) != 1 else ''}, got {given}",
                position(start, text, span[0]),
                claim=claim,
                hint="pass define: helpers positional arguments only" if call.kwargs else None,
                source=flat,
                span=span,
            )
    return Source(flat, expr, start)


def _called_as_value(name: str, callables: Collection[str]) -> str | None:
    return f"'{name}' is a function: call it, {name}(...)" if name in callables else None


def _calls(expr: ir.Expr) -> Iterator[ir.Call]:
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Call):
            yield node
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, ir.Expr):
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))


def check_defines(defines: Mapping[str, Define]) -> None:
    """Refuse a helper that calls itself, directly or through others.

    Raises
    ------
    ExpressionError
        ``define 'f' calls itself (f -> g -> f)``, located at the first call on the cycle.
    """
    calls = {
        name: [(f, span) for f, span in called_functions(d.body.expr) if f in defines] for name, d in defines.items()
    }
    done: set[str] = set()
    for root in defines:
        if root in done:
            continue
        # iterative DFS that keeps the current path, to print the cycle
        path: list[str] = [root]
        on_path = {root}
        iters = [iter(calls[root])]
        while iters:
            step = next(iters[-1], None)
            if step is None:
                iters.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            callee, _ = step
            if callee in on_path:
                cycle = path[path.index(callee) :] + [callee]
                _raise_cycle(cycle, defines, calls)
            if callee in done:
                continue
            path.append(callee)
            on_path.add(callee)
            iters.append(iter(calls[callee]))


def _raise_cycle(cycle: list[str], defines: Mapping[str, Define], calls: Mapping) -> None:
    first, second = cycle[0], cycle[1]
    body = defines[first].body
    span = next(span for f, span in calls[first] if f == second)
    raise ExpressionError(
        f"define '{first}' calls itself ({' -> '.join(cycle)})",
        position(body.location, body.text, span[0]),
        hint="define: helpers cannot be recursive; write the expression out",
        source=body.text,
        span=span,
    )
