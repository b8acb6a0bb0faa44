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
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ExpressionError, Location, SchemaError, SpecError
from ..expr.functions import WHITELIST
from ..expr.parse import called_functions, free_names
from .claims import read_claims
from .expressions import check_defines, compile_expression, expression_text, position
from .fields import (
    INPUT_KEYS,
    check_keys,
    describe,
    is_name,
    need,
    need_shape,
    read_dim,
    read_domain,
    read_dtype,
    read_float,
    read_python_ref,
    read_shape_entry,
    register_name,
)
from .model import Body, Define, DimSpec, GraphNode, InputSpec, Settings, Spec
from .yaml import (
    MAX_BYTES,
    is_block,
    item_location,
    key_location,
    read_yaml,
    value_location,
)

__all__ = ["load_spec", "load_spec_text"]

TOP_KEYS = (
    "spec", "description", "dims", "constants", "inputs",
    "define", "graph", "loss", "claims", "settings",
)  # fmt: skip
SETTINGS_INT = ("examples", "directions", "max_elements")
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
    return load_spec_text(text, name)


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
        self.inputs: dict[str, InputSpec] = {}
        self.params: dict[str, tuple[str, ...]] = {}  # define helper -> parameters
        self.node_keys: list[tuple[str, Any, Location]] = []
        self.callables: frozenset[str] = frozenset(WHITELIST)
        self.define_mapping: Mapping = {}

    # ---- top level ---------------------------------------------------------------------

    def load(self) -> Spec:
        top_at = Location(self.path, 1, 1)
        doc = read_yaml(self.text, self.path)
        if not isinstance(doc, Mapping):
            empty = " (the file is empty)" if doc is None else ""
            raise SchemaError(f"a spec must be a mapping, got {describe(doc)}{empty}", top_at)
        check_keys(doc, TOP_KEYS, "", self.path)
        for key in ("inputs", "loss", "claims"):
            if key not in doc:
                raise SchemaError(f"the spec needs '{key}'", top_at, hint=f"add a '{key}:' section")

        name = doc.get("spec", Path(self.path).stem)
        need(name, str, "spec must be a string (the spec's name)", self.at_value(doc, "spec"))
        if not name.strip():
            raise SchemaError("spec (the spec's name) must not be empty", self.at_value(doc, "spec"))
        description = self.read_description(doc)

        self.read_dims(self.section(doc, "dims"))
        self.read_constants(self.section(doc, "constants"))
        self.read_inputs(self.section(doc, "inputs", optional=False))
        define_keys = self.register_defines(self.section(doc, "define"))
        self.register_nodes(self.section(doc, "graph"))

        defines = self.compile_defines(define_keys)
        graph = self.compile_graph()
        self.check_node_order(graph, defines)
        loss = self.read_body(doc, "loss", "loss", self.value_names(), claim=None)
        claims = read_claims(self, doc.get("claims"), self.at_value(doc, "claims"))
        settings = self.read_settings(self.section(doc, "settings"))
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
        )

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
        """Claim a name for one section; names are unique across all sections."""
        return register_name(self.names, name, kind, at)

    def value_names(self, *, nodes: int | None = None) -> set[str]:
        """Names usable as values: inputs, constants, dims that are not keywords, nodes.

        ``nodes`` limits the graph nodes to the first ``nodes`` ones.
        """
        names = set(self.inputs) | set(self.constants)
        names |= {d for d in self.dims if not keyword.iskeyword(d)}
        names |= {n for n, _, _ in self.node_keys[:nodes]}
        return names

    def name_hints(self) -> dict[str, str]:
        hints = {f: f"'{f}' is a define: helper; call it as {f}({', '.join(p)})" for f, p in self.params.items()}
        return hints

    def compile(self, text: str, start: Location, names: set[str], *, hints=None, claim=None):
        return compile_expression(
            text,
            start,
            callables=self.callables,
            names=names,
            defines=self.params,
            hints={**self.name_hints(), **(hints or {})},
            claim=claim,
        )

    def read_body(self, mapping: Mapping, key: str, what: str, names: set[str], *, claim) -> Body:
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
            name = self.register(key, "dim", self.at_key(dims, key))
            lo, hi = read_dim(name, value, self.at_value(dims, name))
            self.dims[name] = DimSpec(name, lo, hi, self.at_key(dims, name))

    def read_constants(self, constants: Mapping) -> None:
        for key, value in constants.items():
            name = self.register(key, "constant", self.at_key(constants, key))
            at = self.at_value(constants, name)
            self.constants[name] = read_float(value, f"constant '{name}'", at)

    def read_inputs(self, inputs: Mapping) -> None:
        for key, spec in inputs.items():
            name = self.register(key, "input", self.at_key(inputs, key))
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
            domain = read_domain(
                spec.get("domain", "real"), name, shape, self.at_value(spec, "domain"), self, self.dims
            )
            dtype = read_dtype(spec.get("dtype", "float64"), name, self.at_value(spec, "dtype"))
            self.inputs[name] = InputSpec(name, shape, domain, self.at_key(inputs, name), dtype)

    def read_shape(self, spec: Mapping, name: str) -> tuple[str | int, ...]:
        value = spec["shape"]
        at = self.at_value(spec, "shape")
        what = f"shape of input '{name}' must be a list of dims or integers"
        need(value, list, what, at)
        shape: list[str | int] = []
        ranges = {d.name: (d.lo, d.hi) for d in self.dims.values()}
        for index, entry in enumerate(value):
            shape.append(read_shape_entry(entry, name, ranges, self.item_at(value, index)))
        return tuple(shape)

    def item_at(self, seq: Any, index: int) -> Location:
        return item_location(seq, index, self.path)

    def register_defines(self, define: Mapping) -> list[tuple[str, Any]]:
        keys = []
        for key in define:
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
            for param in params:
                if not is_name(param) or keyword.iskeyword(param) or param.startswith("_"):
                    message = f"parameter '{param}' of define '{name}' must be an identifier"
                    raise SchemaError(message, at)
            if len(set(params)) != len(params):
                raise SchemaError(f"define '{name}' repeats a parameter", at)
            self.params[name] = tuple(params)
            keys.append((name, key))
        self.callables = frozenset(WHITELIST) | frozenset(self.params)
        self.define_mapping = define
        return keys

    def register_nodes(self, graph: Mapping) -> None:
        for key in graph:
            at = self.at_key(graph, key)
            name = self.register(key, "node", at)
            self.node_keys.append((name, graph, at))

    def compile_defines(self, keys: list[tuple[str, Any]]) -> dict[str, Define]:
        defines: dict[str, Define] = {}
        mapping = self.define_mapping
        names = self.value_names()
        for name, key in keys:
            params = self.params[name]
            at = self.at_value(mapping, key)
            text, start = expression_text(mapping[key], at, f"the body of define '{name}'")
            body = self.compile(text, start, names | set(params))
            defines[name] = Define(name, params, body, self.at_key(mapping, key))
        check_defines(defines)
        return defines

    def compile_graph(self) -> tuple[GraphNode, ...]:
        nodes = []
        for index, (name, graph, at) in enumerate(self.node_keys):
            hints = {name: f"'{name}' is the node being defined"}
            for later, _, where in self.node_keys[index + 1 :]:
                hints[later] = (
                    f"'{later}' is defined later in graph (line {where.line}); a node may only use earlier nodes"
                )
            value, value_at = graph[name], self.at_value(graph, name)
            text, start = expression_text(value, value_at, f"graph node '{name}'")
            body = self.compile(text, start, self.value_names(nodes=index), hints=hints)
            nodes.append(GraphNode(name, body, at))
        return tuple(nodes)

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
                    raise ExpressionError(
                        f"graph node '{node.name}' calls {helper}, which uses node '{late[0]}'",
                        position(node.body.location, node.body.text, span[0]),
                        hint="a node may only use earlier nodes, also through define: helpers",
                        source=node.body.text,
                        span=span,
                    )

    def read_settings(self, settings: Mapping) -> Settings:
        check_keys(settings, SETTINGS_INT + SETTINGS_FLOAT, " in settings", self.path)
        values: dict[str, Any] = {}
        for key, value in settings.items():
            at = self.at_value(settings, key)
            if key in SETTINGS_INT:
                number = need(value, int, f"settings {key} must be an integer", at)
                if number < 1:
                    raise SchemaError(f"settings {key} must be at least 1, got {number}", at)
                values[key] = int(number)
            else:
                number = read_float(value, f"settings {key}", at)
                if number < 0:
                    raise SchemaError(f"settings {key} must be at least 0, got {value}", at)
                values[key] = number
        return Settings(**values)
