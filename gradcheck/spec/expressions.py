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

__all__ = [
    "MAX_NESTING",
    "MAX_EXPANSION",
    "expression_text",
    "position",
    "compile_expression",
    "check_defines",
    "check_inlining",
    "check_inlined",
]

#: Helper calls are expanded where they are used (shape inference and evaluation inline the
#: helper's body), so a chain of helpers makes one deep expression, and a helper that calls
#: another twice doubles its work. Both are bounded, so that a spec cannot exhaust the stack
#: (a RecursionError at 200 chained helpers) or hang (2**40 expansions at 40).
MAX_NESTING = 100  # levels of an expression with its helpers inlined (~5 stack frames each)
MAX_EXPANSION = 10_000  # operations of an expression with its helpers inlined


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


def _children(node: ir.Expr) -> Iterator[ir.Expr]:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ir.Expr):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, ir.Expr):
                    yield item
                elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], ir.Expr):
                    yield item[1]  # a keyword argument


def _measure(node: ir.Expr, helpers: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """(depth, operations) of ``node`` with every helper call replaced by the helper's body.

    Recursion is bounded by the expression's own depth (parse's MAX_DEPTH); helpers come in
    measured. Operations are capped just past MAX_EXPANSION, so the numbers stay small.
    """
    depth, size = 0, 1
    for child in _children(node):
        d, n = _measure(child, helpers)
        depth, size = max(depth, d), size + n
    if isinstance(node, ir.Call) and node.func in helpers:
        d, n = helpers[node.func]
        depth, size = max(depth, d), size + n
    return depth + 1, min(size, MAX_EXPANSION + 1)


def _heaviest_call(expr: ir.Expr, helpers: Mapping[str, tuple[int, int]], which: int) -> ir.Span:
    """The span of the helper name whose call weighs most (``which``: 0 depth, 1 operations)."""
    calls = [(helpers[f][which], span) for f, span in called_functions(expr) if f in helpers]
    return max(calls, key=lambda c: c[0])[1] if calls else (0, 0)


def _inlining_error(
    what: str, source: Source, measured: tuple[int, int], helpers, claim=None
) -> ExpressionError | None:
    depth, size = measured
    bounds = (
        (
            depth > MAX_NESTING,
            0,
            f"{what} nests helpers too deeply: inlined, it is {depth} levels deep (at most {MAX_NESTING})",
            "every helper call nests its helper's body inside the caller; shorten the chain of helpers, "
            "or compute intermediate values as graph nodes",
        ),
        (
            size > MAX_EXPANSION,
            1,
            f"{what} grows to more than {MAX_EXPANSION} operations once its helpers are inlined",
            "every call evaluates its helper's body again; compute a shared value once as a graph node "
            "and use its name",
        ),
    )
    for exceeded, measure, message, hint in bounds:
        if exceeded:
            span = _heaviest_call(source.expr, helpers, measure)
            return ExpressionError(
                message,
                position(source.location, source.text, span[0]),
                claim=claim,
                hint=hint,
                source=source.text,
                span=span,
            )
    return None


def check_inlining(defines: Mapping[str, Define]) -> dict[str, tuple[int, int]]:
    """Measure every helper with its callees inlined; refuse the first (in file order) over a bound.

    Helpers must not call themselves (:func:`check_defines` ran first). Only the first
    offender is reported: every helper that calls it is over the bound too.

    Returns
    -------
    dict
        Helper -> (depth, operations) inlined, for :func:`check_inlined`.

    Raises
    ------
    ExpressionError
        At the call, in the offending helper's body, that weighs most.
    """
    measured: dict[str, tuple[int, int]] = {}
    for root in defines:  # iterative post-order: a long chain must not recurse here either
        stack = [root]
        while stack:
            name = stack[-1]
            if name in measured:
                stack.pop()
                continue
            pending = [f for f, _ in called_functions(defines[name].body.expr) if f in defines and f not in measured]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            measured[name] = _measure(defines[name].body.expr, measured)
    for name, define in defines.items():
        error = _inlining_error(f"define '{name}'", define.body, measured[name], measured)
        if error is not None:
            raise error
    return measured


def check_inlined(source: Source, helpers: Mapping[str, tuple[int, int]], what: str, claim=None) -> None:
    """Refuse an expression that is over a bound once the helpers it calls are inlined."""
    if any(f in helpers for f, _ in called_functions(source.expr)):
        error = _inlining_error(what, source, _measure(source.expr, helpers), helpers, claim)
        if error is not None:
            raise error
