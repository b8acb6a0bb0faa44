"""YAML spec text -> :class:`~gradcheck.spec.model.Spec` (format v1).

Reading goes in three passes, so that every section may refer to every other one:

1. :mod:`gradcheck.spec.yaml` turns text into round-trip data, refusing tags, anchors and
   other YAML machinery before anything is constructed;
2. every name (dims, constants, inputs, define helpers, graph nodes) is registered, so
   that two sections cannot both claim one name;
3. expressions are parsed and their names resolved against the scope of their section,
   and claims are checked against inputs and graph nodes.

Every error is a located :class:`~gradcheck.errors.SpecError`; nothing here imports user
code or evaluates anything (``{python: "mod:fn"}`` is only checked for its form).

Independent parts (each dim, input, helper, graph node, claim, setting) are read one by one
and their errors collected, so that one run reports them all (as
:class:`~gradcheck.errors.SpecErrors`, at most :data:`MAX_ERRORS`). A part that fails still
leaves its name behind, so uses of it elsewhere are not reported again; an error that would
make the rest meaningless (a section of the wrong type, an unknown top-level key) stops there.
"""

from __future__ import annotations

import keyword
import os
import re
from collections import ChainMap
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ExpressionError, Location, SchemaError, SpecError, SpecErrors
from ..expr.functions import WHITELIST
from ..expr.parse import called_functions, free_names
from ..expr.suggest import closest
from . import complex_inputs
from .claims import read_claims
from .data import read_array_constant
from .expressions import (
    check_defines,
    check_inlined,
    check_inlining,
    compile_expression,
    expression_text,
    position,
)
from .fields import (
    INPUT_KEYS,
    check_keys,
    describe,
    is_name,
    key_errors,
    need,
    need_shape,
    read_dim,
    read_domain,
    read_dtype,
    read_float,
    read_python_ref,
    read_shape_entry,
    read_value_and_grad,
    register_name,
)
from .model import ArrayConstant, Body, Define, DimSpec, Domain, GraphNode, InputSpec, Settings, Source, Spec
from .yaml import (
    MAX_BYTES,
    is_block,
    item_location,
    key_location,
    read_yaml,
    value_location,
)

__all__ = ["MAX_ERRORS", "load_spec", "load_spec_text"]

MAX_ERRORS = 20  # errors reported per file; past that, fixing the first ones comes first

TOP_KEYS = (
    "spec", "description", "dims", "constants", "inputs",
    "define", "graph", "loss", "claims", "settings",
)  # fmt: skip
SETTINGS_INT = ("examples", "directions", "max_elements")
# The most a spec may ask for: a spec may lower a limit, never raise it (a spec you did not write
# could otherwise make a run allocate or loop without bound); the command line can raise them.
SPEC_CAPS = {"max_elements": 10_000_000, "directions": 64, "examples": 10_000}
_CAP_FLAGS = {"max_elements": "--max-elements N", "directions": "--directions K", "examples": "--examples N"}
SETTINGS_FLOAT = ("rtol", "atol")
DEFINE_KEY = re.compile(r"\s*([^\s(]+)\s*\((.*)\)\s*", re.DOTALL)


def load_spec(path: str | os.PathLike) -> Spec:
    """Read and check a spec file.

    Parameters
    ----------
    path : str or os.PathLike
        A UTF-8 YAML file in gradcheck's spec format (v1).

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        SchemaError or ExpressionError, always with a file:line:col location; a file that
        cannot be read or decoded is reported at line 1, column 1.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise SchemaError(f"cannot read the spec file: {error.strerror or error}", Location(name, 1, 1)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SchemaError(
            f"the spec file is not valid UTF-8 (byte 0x{data[error.start]:02x} on line {line})",
            Location(name, 1, 1),
            hint="save the file as UTF-8",
        ) from None
    key = (name, text)
    cached = _LOADED.get(key)
    if cached is None:
        cached = load_spec_text(text, name)
        _LOADED[key] = cached
        while len(_LOADED) > _LOADED_MAX:
            del _LOADED[next(iter(_LOADED))]
    return cached


# Specs parsed in this process, by path and text: the CLI's progress plan, its --claim check and
# the run share one parse (a Spec is frozen); a rewritten file is a new key, so it is read again.
_LOADED: dict[tuple[str, str], Spec] = {}
_LOADED_MAX = 64


def load_spec_text(text: str, path: str) -> Spec:
    """Check spec text; ``path`` names the file in locations and gives the default name.

    Raises
    ------
    SpecError
        For any text that is not a valid spec; no other exception escapes.
    """
    try:
        return _Loader(text, str(path)).load()
    except SpecError:
        raise
    except RecursionError:
        raise SchemaError("the spec is nested too deeply", Location(str(path), 1, 1)) from None
    except Exception as error:  # the contract: only SpecError leaves this function
        raise SchemaError(
            f"internal error while reading the spec: {type(error).__name__}: {error}",
            Location(str(path), 1, 1),
            hint="this is a bug in gradcheck; please report it with the spec file",
        ) from error


class _Loader:
    """One spec file being read; holds the names seen so far and their locations."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.lines = text.splitlines()
        self.names: dict[str, tuple[str, Location]] = {}
        self.dims: dict[str, DimSpec] = {}
        self.constants: dict[str, float] = {}
        self.arrays: dict[str, ArrayConstant] = {}
        self.inputs: dict[str, InputSpec] = {}
        self.params: dict[str, tuple[str, ...]] = {}  # define helper -> parameters
        self.node_keys: list[tuple[str, Any, Location]] = []
        self.callables: frozenset[str] = frozenset(WHITELIST)
        self.define_mapping: Mapping = {}
        self.errors: list[SpecError] = []
        self.refused: set[str] = set()  # names whose registration failed (an error was kept)
        self.node_order: dict[str, int] = {}  # graph node -> its position
        self.define_hints: dict[str, str] = {}  # helper -> how to call it, for its name used as a value

    # ---- errors ------------------------------------------------------------------------

    def attempt(self, read, *args, **kwargs):
        """Run one independent part; its SpecError is kept and the part gives None."""
        try:
            return read(*args, **kwargs)
        except SpecErrors:
            raise  # the cap was reached, or a checkpoint failed: nothing more to read
        except SpecError as error:
            self.keep(error)
            return None

    def keep(self, error: SpecError) -> None:
        self.errors.append(error)
        if len(self.errors) > MAX_ERRORS:
            raise SpecErrors(self.sorted_errors()[:MAX_ERRORS], truncated=True)

    def checkpoint(self) -> None:
        """Stop if anything failed so far: what follows would build on a broken part."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise SpecErrors(self.sorted_errors())

    def sorted_errors(self) -> list[SpecError]:
        return sorted(self.errors, key=lambda e: (e.location.line, e.location.col) if e.location else (0, 0))

    # ---- top level ---------------------------------------------------------------------

    def load(self) -> Spec:
        top_at = Location(self.path, 1, 1)
        doc = read_yaml(self.text, self.path)
        if not isinstance(doc, Mapping):
            empty = " (the file is empty)" if doc is None else ""
            raise SchemaError(f"a spec must be a mapping, got {describe(doc)}{empty}", top_at)
        for error in key_errors(doc, TOP_KEYS, "", self.path):
            self.keep(error)
        meant = {closest(key, TOP_KEYS) for key in doc if key not in TOP_KEYS}
        for key in ("inputs", "loss", "claims"):
            if key not in doc and key not in meant:  # a misspelt key's did-you-mean says it already
                self.keep(SchemaError(f"the spec needs '{key}'", top_at, hint=f"add a '{key}:' section"))
        self.checkpoint()  # a misspelt section would make every name it holds unknown

        name = self.attempt(self.read_name, doc)
        description = self.attempt(self.read_description, doc)
        sections = {key: self.attempt(self.section, doc, key) for key in ("dims", "constants", "define", "graph")}
        sections["inputs"] = self.attempt(self.section, doc, "inputs", optional=False)
        self.checkpoint()  # a section that is not a mapping leaves the others without its names

        self.read_dims(sections["dims"])
        self.read_constants(sections["constants"])
        self.read_inputs(sections["inputs"])
        define_keys = self.register_defines(sections["define"])
        self.register_nodes(sections["graph"])

        defines = self.compile_defines(define_keys)
        graph = self.compile_graph()
        known = len(self.errors)
        self.attempt(check_defines, defines)
        inlined = None
        if len(self.errors) == known:  # a helper that calls itself would send the next checks round forever
            self.check_node_order(graph, defines)
            inlined = self.attempt(check_inlining, defines)
        loss = self.read_loss(doc)
        claims = read_claims(self, doc.get("claims"), self.at_value(doc, "claims"))
        for error in complex_inputs.claim_errors(self.inputs, claims):
            self.keep(error)
        settings = self.attempt(self.read_settings, doc)
        if inlined is not None:
            self.check_inlined(inlined, graph, loss, claims)
        self.checkpoint()
        return Spec(
            name=str(name),
            path=self.path,
            description=description,
            dims=self.dims,
            constants=self.constants,
            inputs=self.inputs,
            define=defines,
            graph=graph,
            loss=loss,
            claims=claims,
            settings=settings,
            location=top_at,
            arrays=self.arrays,
        )

    def read_loss(self, doc: Mapping) -> Body:
        """The loss: an expression, ``{python: ...}``, or ``{value_and_grad: ...}`` (the value of f -> (value, grad))."""
        loss_value = doc.get("loss")
        if isinstance(loss_value, Mapping) and "value_and_grad" in loss_value:
            self.attempt(check_keys, loss_value, ("value_and_grad",), " in loss", self.path)
            return self.attempt(read_value_and_grad, loss_value, "value_and_grad", self.path)
        return self.attempt(self.read_body, doc, "loss", "loss", self.value_names(), claim=None)

    def read_name(self, doc: Mapping) -> str:
        name = doc.get("spec", Path(self.path).stem)
        need(name, str, "spec must be a string (the spec's name)", self.at_value(doc, "spec"))
        if not name.strip():
            raise SchemaError("spec (the spec's name) must not be empty", self.at_value(doc, "spec"))
        return str(name)

    def section(self, doc: Mapping, key: str, *, optional: bool = True) -> Mapping:
        value = doc.get(key)
        if value is None and optional:
            return {}
        return need(value, Mapping, f"{key} must be a mapping", self.at_value(doc, key))

    def read_description(self, mapping: Mapping, *, claim=None) -> str:
        value = mapping.get("description")
        if value is None:
            return ""
        at = self.at_value(mapping, "description")
        return str(need(value, str, "description must be a string", at, claim=claim))

    # ---- locations ---------------------------------------------------------------------

    def at_key(self, mapping: Mapping, key: Any) -> Location:
        return key_location(mapping, key, self.path)

    def at_value(self, mapping: Mapping, key: Any) -> Location:
        """Where a value starts; for a block scalar, where its first content line starts."""
        at = value_location(mapping, key, self.path)
        if key in mapping and is_block(mapping[key]):
            for index in range(at.line, len(self.lines)):  # at.line is 1-based: the next line
                line = self.lines[index]
                if line.strip():
                    return Location(self.path, index + 1, len(line) - len(line.lstrip()) + 1)
        return at

    # ---- names -------------------------------------------------------------------------

    def register(self, name: Any, kind: str, at: Location) -> str:
        """Claim a name for one section; names are unique across all sections.

        A name refused here (not an identifier, a keyword, a leading '_') is remembered in
        ``refused``, so that its uses are not reported as unknown names too.
        """
        try:
            return register_name(self.names, name, kind, at)
        except SpecError:
            if isinstance(name, str):
                self.refused.add(name)
            raise

    def value_names(self, *, nodes: int | None = None) -> "_Scope":
        """Names usable as values: inputs, constants, dims that are not keywords, nodes.

        ``nodes`` limits the graph nodes to the first ``nodes`` ones. The nodes are not
        copied into each scope, so that reading n nodes stays linear in n.
        """
        names = set(self.inputs) | set(self.constants) | set(self.arrays) | self.refused
        names |= {d for d in self.dims if not keyword.iskeyword(d)}
        return _Scope(names, self.node_order, len(self.node_order) if nodes is None else nodes)

    def compile(self, text: str, start: Location, names: Collection[str], *, hints=None, claim=None):
        return compile_expression(
            text,
            start,
            callables=self.callables,
            names=names,
            defines=self.params,
            hints=ChainMap(hints or {}, self.define_hints),
            claim=claim,
        )

    def read_body(self, mapping: Mapping, key: str, what: str, names: Collection[str], *, claim) -> Body:
        """An expression or ``{python: "module:function"}``."""
        value = mapping.get(key)
        if isinstance(value, Mapping):
            return read_python_ref(value, what, self.path, claim=claim)
        at = self.at_value(mapping, key)
        text, start = expression_text(value, at, what, claim=claim)
        return self.compile(text, start, names, claim=claim)

    # ---- sections ----------------------------------------------------------------------

    def read_dims(self, dims: Mapping) -> None:
        for key, value in dims.items():
            name = self.attempt(self.register, key, "dim", self.at_key(dims, key))
            if name is not None:
                lo, hi = self.attempt(read_dim, name, value, self.at_value(dims, name)) or (1, 1)
                self.dims[name] = DimSpec(name, lo, hi, self.at_key(dims, name))

    def read_constants(self, constants: Mapping) -> None:
        for key, value in constants.items():
            name = self.attempt(self.register, key, "constant", self.at_key(constants, key))
            if name is None:
                continue
            at = self.at_value(constants, name)
            if isinstance(value, Mapping):  # fixed data: {python: ...} or {npy: ...}, see spec/data.py
                try:
                    self.arrays[name] = read_array_constant(self, name, value, self.at_key(constants, key))
                except SpecError as error:  # the dims its data would set are unknown now: stop here
                    self.keep(error)
                    self.checkpoint()
                continue
            self.constants[name] = self.attempt(read_float, value, f"constant '{name}'", at) or 0.0

    def read_inputs(self, inputs: Mapping) -> None:
        for key, spec in inputs.items():
            name = self.attempt(self.register, key, "input", self.at_key(inputs, key))
            if name is not None:
                placeholder = InputSpec(
                    name, (), Domain("real"), self.at_key(inputs, name)
                )  # never leaves: an error was kept
                self.inputs[name] = self.attempt(self.read_input, inputs, name, spec) or placeholder

    def read_input(self, inputs: Mapping, name: str, spec: Any) -> InputSpec:
        at = self.at_value(inputs, name)
        if isinstance(spec, list):
            raise SchemaError(
                f"input '{name}' must be a mapping, got a list",
                at,
                hint=f"write {{shape: [{', '.join(map(str, spec))}]}}",
            )
        need(spec, Mapping, f"input '{name}' must be a mapping with a shape", at)
        check_keys(spec, INPUT_KEYS, f" in input '{name}'", self.path)
        need_shape(spec, name, at)
        shape = self.read_shape(spec, name)
        # refused names count as dims here (their own error was kept): stand-ins of size 1
        dims = {**{r: DimSpec(r, 1, 1, at) for r in self.refused}, **self.dims}
        domain = read_domain(spec.get("domain", "real"), name, shape, self.at_value(spec, "domain"), self, dims)
        dtype = read_dtype(spec.get("dtype", "float64"), name, self.at_value(spec, "dtype"))
        complex_inputs.check_domain(domain, dtype, name, self.at_value(spec, "domain") if "domain" in spec else at)
        return InputSpec(name, shape, domain, self.at_key(inputs, name), dtype)

    def read_shape(self, spec: Mapping, name: str) -> tuple[str | int, ...]:
        value = spec["shape"]
        at = self.at_value(spec, "shape")
        what = f"shape of input '{name}' must be a list of dims or integers"
        need(value, list, what, at)
        shape: list[str | int] = []
        ranges = {d.name: (d.lo, d.hi) for d in self.dims.values()}
        for index, entry in enumerate(value):
            if isinstance(entry, str) and entry.strip() in self.refused:  # its own error was kept
                shape.append(entry.strip())
                continue
            shape.append(read_shape_entry(entry, name, ranges, self.item_at(value, index)))
        return tuple(shape)

    def item_at(self, seq: Any, index: int) -> Location:
        return item_location(seq, index, self.path)

    def register_defines(self, define: Mapping) -> list[tuple[str, Any]]:
        keys = [self.attempt(self.register_define, define, key) for key in define]
        self.callables = frozenset(WHITELIST) | frozenset(self.params)
        self.define_hints = {
            f: f"'{f}' is a define: helper; call it as {f}({', '.join(p)})" for f, p in self.params.items()
        }
        self.define_mapping = define
        return [key for key in keys if key is not None]

    def register_define(self, define: Mapping, key: Any) -> tuple[str, Any]:
        at = self.at_key(define, key)
        match = DEFINE_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            shown = f"'{key}'" if isinstance(key, str) else describe(key)
            raise SchemaError(f"a define: key must look like 'name(x, y)', got {shown}", at)
        name = self.register(match.group(1), "define", at)
        if name in WHITELIST:
            raise SchemaError(
                f"define '{name}' would hide the built-in function '{name}'",
                at,
                hint="choose another name",
            )
        params = [p.strip() for p in match.group(2).split(",")] if match.group(2).strip() else []
        self.params[name] = tuple(params)  # known even if a parameter is wrong: its calls are not errors too
        for param in params:
            if not is_name(param) or keyword.iskeyword(param) or param.startswith("_"):
                message = f"parameter '{param}' of define '{name}' must be an identifier"
                raise SchemaError(message, at)
        if len(set(params)) != len(params):
            raise SchemaError(f"define '{name}' repeats a parameter", at)
        return name, key

    def register_nodes(self, graph: Mapping) -> None:
        for key in graph:
            at = self.at_key(graph, key)
            name = self.attempt(self.register, key, "node", at)
            if name is not None:
                self.node_order[name] = len(self.node_keys)
                self.node_keys.append((name, graph, at))

    def compile_defines(self, keys: list[tuple[str, Any]]) -> dict[str, Define]:
        defines: dict[str, Define] = {}
        names = self.value_names()
        for name, key in keys:
            define = self.attempt(self.compile_define, name, key, names)
            if define is not None:
                defines[name] = define
        return defines

    def compile_define(self, name: str, key: Any, names: "_Scope") -> Define:
        mapping = self.define_mapping
        params = self.params[name]
        at = self.at_value(mapping, key)
        text, start = expression_text(mapping[key], at, f"the body of define '{name}'")
        body = self.compile(text, start, names | set(params))
        return Define(name, params, body, self.at_key(mapping, key))

    def compile_graph(self) -> tuple[GraphNode, ...]:
        nodes = []
        for index, (name, graph, at) in enumerate(self.node_keys):
            hints = _NodeHints(self.node_keys, self.node_order, index)
            value, value_at = graph[name], self.at_value(graph, name)
            body = self.attempt(self.compile_node, value, value_at, name, index, hints)
            if body is not None:
                nodes.append(GraphNode(name, body, at))
        return tuple(nodes)

    def compile_node(self, value: Any, value_at: Location, name: str, index: int, hints: Mapping[str, str]):
        text, start = expression_text(value, value_at, f"graph node '{name}'")
        return self.compile(text, start, self.value_names(nodes=index), hints=hints)

    def check_node_order(self, graph: tuple[GraphNode, ...], defines: dict[str, Define]) -> None:
        """A node may not reach a later node through a define: helper's body."""
        order = {node.name: i for i, node in enumerate(graph)}
        reach: dict[str, set[str]] = {}

        def nodes_of(helper: str) -> set[str]:
            if helper not in reach:
                body = defines[helper].body.expr
                params = defines[helper].params
                used = {n for n, _ in free_names(body) if n in order and n not in params}
                for callee, _ in called_functions(body):
                    if callee in defines:
                        used |= nodes_of(callee)  # no cycles: check_defines ran first
                reach[helper] = used
            return reach[helper]

        for node in graph:
            for helper, span in called_functions(node.body.expr):
                if helper not in defines:
                    continue
                late = sorted((n for n in nodes_of(helper) if order[n] >= order[node.name]), key=order.get)
                if late:
                    self.keep(
                        ExpressionError(
                            f"graph node '{node.name}' calls {helper}, which uses node '{late[0]}'",
                            position(node.body.location, node.body.text, span[0]),
                            hint="a node may only use earlier nodes, also through define: helpers",
                            source=node.body.text,
                            span=span,
                        )
                    )
                    break  # one per node

    def check_inlined(self, inlined: Mapping[str, tuple[int, int]], graph, loss, claims) -> None:
        """Nodes, the loss and claims that call helpers stay within the bounds once they are inlined."""
        for node in graph:
            self.attempt(check_inlined, node.body, inlined, f"graph node '{node.name}'")
        if isinstance(loss, Source):
            self.attempt(check_inlined, loss, inlined, "the loss")
        for claim in claims:
            for wrt, body in claim.bodies.items():
                if isinstance(body, Source):
                    self.attempt(check_inlined, body, inlined, f"the {claim.kind} for '{wrt}'", claim=claim.name)

    def read_settings(self, doc: Mapping) -> Settings:
        settings = self.section(doc, "settings")
        for error in key_errors(settings, SETTINGS_INT + SETTINGS_FLOAT, " in settings", self.path):
            self.keep(error)
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key in SETTINGS_INT + SETTINGS_FLOAT:
                number = self.attempt(self.read_setting, key, value, self.at_value(settings, key))
                if number is not None:
                    values[key] = number
        return Settings(**values)

    def read_setting(self, key: str, value: Any, at: Location) -> int | float:
        if key in SETTINGS_INT:
            number = need(value, int, f"settings {key} must be an integer", at)
            if number < 1:
                raise SchemaError(f"settings {key} must be at least 1, got {number}", at)
            cap = SPEC_CAPS.get(key)
            if cap is not None and number > cap:
                raise SchemaError(
                    f"settings {key} {number} is above {cap}, the most a spec may ask for: "
                    "a spec may lower a limit, never raise it",
                    at,
                    hint=f"raise it from the command line ({_CAP_FLAGS[key]}, or --gradcheck-{key.replace('_', '-')} "
                    "under pytest), where the person running the check decides",
                )
            return int(number)
        number = read_float(value, f"settings {key}", at)
        if number < 0:
            raise SchemaError(f"settings {key} must be at least 0, got {value}", at)
        return number


class _Scope(Collection[str]):
    """The value names of one expression: ``fixed`` ones, and the graph nodes before ``upto``.

    Membership is O(1) and nothing is copied per expression; the names are listed (for a
    did-you-mean) only when one is unknown.
    """

    def __init__(self, fixed: set[str], order: Mapping[str, int], upto: int, extra: frozenset[str] = frozenset()):
        self.fixed, self.order, self.upto, self.extra = fixed, order, upto, extra

    def __contains__(self, name: object) -> bool:
        if name in self.fixed or name in self.extra:
            return True
        position = self.order.get(name)  # type: ignore[call-overload]
        return position is not None and position < self.upto

    def __iter__(self) -> Iterator[str]:
        nodes = {n for n, i in self.order.items() if i < self.upto}
        return iter(self.fixed | self.extra | nodes)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __or__(self, other: Collection[str]) -> "_Scope":
        return _Scope(self.fixed, self.order, self.upto, self.extra | frozenset(other))


class _NodeHints(Mapping[str, str]):
    """Hints for the names of graph node ``index``'s expression: itself, and the nodes after it."""

    def __init__(self, node_keys: list[tuple[str, Any, Location]], order: Mapping[str, int], index: int) -> None:
        self.node_keys, self.order, self.index = node_keys, order, index

    def __getitem__(self, name: str) -> str:
        position = self.order.get(name)
        if position == self.index:
            return f"'{name}' is the node being defined"
        if position is not None and position > self.index:
            line = self.node_keys[position][2].line
            return f"'{name}' is defined later in graph (line {line}); a node may only use earlier nodes"
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _, _ in self.node_keys[self.index :])

    def __len__(self) -> int:
        return len(self.node_keys) - self.index
