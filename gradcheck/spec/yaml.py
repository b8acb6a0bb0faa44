"""Safe YAML reading: text -> round-trip data that remembers line and column.

The spec format uses plain YAML 1.2 mappings, lists and scalars, nothing more. Before
anything is constructed, the event stream is checked so that a hostile document fails
cheaply: explicit tags (``!!python/object/apply:...``, ``!foo``, even ``!!str``) would ask
for construction we do not want, and anchors/aliases allow exponential expansion
("billion laughs"). Directives, merge keys, several documents, documents over 1 MB and
nesting deeper than :data:`MAX_DEPTH` are refused too.

Every ruamel error becomes a located :class:`~gradcheck.errors.SchemaError`.
ruamel positions are 0-based; :class:`~gradcheck.errors.Location` is 1-based.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    ScalarEvent,
)
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from ..errors import Location, SchemaError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "read_yaml",
    "key_location",
    "value_location",
    "item_location",
    "node_location",
    "is_quoted",
    "is_block",
]

MAX_BYTES = 1_000_000
MAX_DEPTH = 64


class _Refused(Exception):
    """Raised by the checking parser; read_yaml turns it into a located SchemaError."""

    def __init__(self, message: str, mark: Any, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.mark, self.hint = message, mark, hint


class _CheckedParser(RoundTripParser):
    """ruamel's round-trip parser, refusing events we do not accept as they stream by.

    The composer pulls every event through :meth:`get_event`, so a refused feature stops
    the document before it is composed, let alone constructed.
    """

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self.depth = 0
        self.documents = 0

    def get_event(self) -> Any:
        event = super().get_event()
        if event is not None:
            self.check(event)
        return event

    def check(self, event: Any) -> None:
        mark = event.start_mark
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(
                    "a spec file holds one YAML document, found several",
                    mark,
                    "remove the '---' separator or split the file",
                )
            if event.version is not None or event.tags:
                raise _Refused("YAML directives (%YAML, %TAG) are not allowed", mark)
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused("YAML anchors and aliases are not allowed", mark, "write the value out in full")
        if getattr(event, "tag", None) is not None:
            raise _Refused(
                "YAML tags are not allowed",
                mark,
                "write plain values; quote a string if it starts with '!'",
            )
        if isinstance(event, ScalarEvent) and event.style is None and event.value == "<<":
            raise _Refused("YAML merge keys ('<<') are not allowed", mark)
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(f"YAML nesting is deeper than {MAX_DEPTH} levels", mark)
        elif isinstance(event, CollectionEndEvent):
            self.depth -= 1


def _new_yaml() -> YAML:
    # A fresh instance per document: ruamel keeps parser state that an error can leave dirty.
    yaml = YAML(typ="rt")
    yaml.Parser = _CheckedParser
    yaml.preserve_quotes = True  # so quoted scalars keep their style (expression columns)
    return yaml


def read_yaml(text: str, path: str) -> Any:
    """Parse one YAML document into ruamel round-trip data (``CommentedMap`` etc.).

    Raises
    ------
    SchemaError
        For anything that is not a plain, single, small YAML document.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SchemaError(
            f"the spec is larger than {MAX_BYTES // 1_000_000} MB",
            Location(path, 1, 1),
            hint="split it into several spec files",
        )
    _check_flow_depth(text, path)
    try:
        return _new_yaml().load(text)
    except _Refused as refused:
        raise SchemaError(refused.message, _mark(refused.mark, path), hint=refused.hint) from None
    except DuplicateKeyError as error:
        found = re.search(r'found duplicate key "(.*?)" with value', str(error.problem))
        key = found.group(1) if found else "?"
        raise SchemaError(f"duplicate key '{key}'", _mark(error.problem_mark, path)) from None
    except ReaderError as error:
        raise SchemaError(f"invalid YAML: {error.reason}", _offset_location(text, error.position, path)) from None
    except MarkedYAMLError as error:
        raise _syntax_error(error, text, path) from None
    except RecursionError:
        raise SchemaError("YAML nesting is too deep", Location(path, 1, 1)) from None
    except (YAMLError, ValueError, TypeError, OverflowError) as error:
        # e.g. a timestamp with month 13, an integer with more than 4300 digits
        raise SchemaError(f"invalid YAML value: {error}", Location(path, 1, 1)) from None


def _syntax_error(error: MarkedYAMLError, text: str, path: str) -> SchemaError:
    """A ruamel syntax error in the user's words, on the line that needs the fix, with a caret.

    ruamel reports where it gave up (often the next line, or the end of the file); for an
    unclosed bracket or quote and a key without its colon the fix is where the construct
    started, which ruamel keeps as the error's context mark.
    """
    problem = error.problem or error.context or "malformed document"
    context = error.context or ""
    mark, started = error.problem_mark or error.context_mark, error.context_mark
    hint = None
    opened = _unclosed_bracket(text, mark.index) if mark is not None else None
    if context.startswith("while parsing a flow") and opened is not None and mark.line != opened[0]:
        closer = "]" if text[opened[2]] == "[" else "}"
        problem = f"this '{text[opened[2]]}' is not closed (expected ',' or '{closer}' on line {mark.line + 1})"
        at = Location(path, opened[0] + 1, opened[1] + 1)
        source, span = _source_line(text, at)
        hint = f"close it with '{closer}' on the same line"
        return SchemaError(f"invalid YAML: {problem}", at, hint=hint, source=source, span=span)
    if started is not None and context.startswith("while scanning a quoted scalar"):
        problem, mark, hint = "this quote is not closed", started, "end the string with the same quote on this line"
    elif started is not None and context.startswith("while scanning a simple key"):
        problem, mark = "expected ':' after the key on this line", started
        hint = "write key: value (a space after the colon)"
    elif problem.startswith("expected <block end>"):
        block = f" that starts on line {started.line + 1}" if started is not None else ""
        problem = f"bad indentation: this line does not line up with the block{block}"
        hint = "indent it exactly like the other keys of its block (with spaces)"
    elif problem.startswith("mapping values are not allowed here"):
        problem = "a ':' here starts a key, but this line continues the value above it"
        hint = "indent this key like its siblings, or quote the value if it contains ': '"
    elif "'\\t'" in problem or "'\t'" in problem:
        problem, hint = "a tab cannot indent YAML", "indent with spaces"
    at = _mark(mark, path)
    source, span = _source_line(text, at)
    return SchemaError(f"invalid YAML: {problem}", at, hint=hint, source=source, span=span)


def _unclosed_bracket(text: str, end: int) -> tuple[int, int, int] | None:
    """(line, column, offset), 0-based, of the innermost '[' or '{' still open at ``end``.

    Quoted strings and comments are skipped roughly (a quote inside a plain word does not
    count); it only places a message for an error that ruamel already raised.
    """
    stack: list[int] = []
    index, quote = 0, ""
    while index < min(end, len(text)):
        ch = text[index]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"" and (index == 0 or text[index - 1] in " \t\n[{,:"):
            quote = ch
        elif ch == "#" and (index == 0 or text[index - 1] in " \t\n"):
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        elif ch in "[{":
            stack.append(index)
        elif ch in "]}" and stack:
            stack.pop()
        index += 1
    if not stack:
        return None
    offset = stack[-1]
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1), offset


def _source_line(text: str, at: Location) -> tuple[str | None, tuple[int, int] | None]:
    """The line ``at`` points into (tabs shown as spaces, so the caret lines up), and the caret's span."""
    lines = text.splitlines()
    if not 1 <= at.line <= len(lines):
        return None, None
    line = lines[at.line - 1].replace("\t", " ")
    col = min(at.col - 1, len(line))
    return line, (col, col + 1)


def _check_flow_depth(text: str, path: str) -> None:
    """Refuse deep ``[[[[...`` before ruamel's scanner, which is quadratic in flow depth.

    The count ignores quoting, so it is conservative: only text with more than
    MAX_DEPTH unbalanced brackets can trip it.
    """
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise SchemaError(
                    f"YAML nesting is deeper than {MAX_DEPTH} levels",
                    _offset_location(text, match.start(), path),
                )
        elif depth:
            depth -= 1


def _mark(mark: Any, path: str) -> Location:
    if mark is None:
        return Location(path, 1, 1)
    return Location(path, mark.line + 1, mark.column + 1)


def _offset_location(text: str, offset: int, path: str) -> Location:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(path, line, col)


def node_location(node: Any, path: str) -> Location:
    """Where a mapping or list starts (its first key or item)."""
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return Location(path, 1, 1)
    return Location(path, lc.line + 1, lc.col + 1)


def key_location(mapping: CommentedMap, key: Any, path: str) -> Location:
    return _recorded(lambda: mapping.lc.key(key), path) or node_location(mapping, path)


def value_location(mapping: CommentedMap, key: Any, path: str) -> Location:
    """Where a key's value starts; an empty (null) value is located at its key."""
    if mapping.get(key) is None:
        return key_location(mapping, key, path)
    return _recorded(lambda: mapping.lc.value(key), path) or key_location(mapping, key, path)


def item_location(seq: CommentedSeq, index: int, path: str) -> Location:
    return _recorded(lambda: seq.lc.item(index), path) or node_location(seq, path)


def _recorded(position: Callable[[], tuple[int, int]], path: str) -> Location | None:
    """The location ruamel recorded (``position()``: its 0-based line and column), or None where
    it recorded none (a node built in code, a key or item it does not know)."""
    try:
        line, col = position()
    except (AttributeError, KeyError, TypeError):
        return None
    return Location(path, line + 1, col + 1)


def is_quoted(value: Any) -> bool:
    return isinstance(value, (SingleQuotedScalarString, DoubleQuotedScalarString))


def is_block(value: Any) -> bool:
    return isinstance(value, (LiteralScalarString, FoldedScalarString))
