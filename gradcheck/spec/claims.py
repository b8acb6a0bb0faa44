"""The ``claims:`` section: each entry -> a checked :class:`~gradcheck.spec.model.Claim`.

A claim is one of

* ``gradient`` of the loss with respect to inputs (an expression for one wrt, a mapping
  wrt -> expression, or ``{python: "mod:fn"}`` for any number of wrt);
* ``vjp`` of a graph ``node`` with respect to one input or earlier node, applied to the
  cotangent (default name ``G``, node-shaped);
* ``jvp`` of a graph ``node`` with respect to one input or earlier node, applied to the
  tangent (default name ``V``, wrt-shaped);
* ``value_and_grad: {python: "mod:f"}``: a gradient claim whose code returns ``(value,
  gradient)`` (scipy.optimize's ``jac=True``); the value must also equal the spec's loss;
* ``hessian`` of the loss with respect to one input (shape wrt + wrt);
* ``hvp``: the Hessian of the loss with respect to one input applied to the tangent (default
  name ``V``, wrt-shaped);
* ``jacobian`` of a graph ``node`` with respect to one input or earlier node (shape node + wrt).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Location, SchemaError
from ..verdict.model import Expect
from .fields import NAME_KINDS, check_keys, describe, did_you_mean, is_name, read_value_and_grad
from .model import Body, Claim

if TYPE_CHECKING:
    from .load import _Loader

__all__ = ["read_claims"]

CLAIM_KEYS = (
    "name", "wrt", "gradient", "vjp", "jvp", "node",
    "cotangent", "tangent", "expect", "description", "value_and_grad",
    "hessian", "hvp", "jacobian",
)  # fmt: skip
KINDS = ("gradient", "vjp", "jvp", "hessian", "hvp", "jacobian")
LOSS_KINDS = ("gradient", "hessian", "hvp")  # derivatives of the loss: no node, wrt an input
ONE_OF = "gradient, vjp, jvp, hessian, hvp, jacobian"
VALUE_AND_GRAD = "value_and_grad"  # a gradient claim whose code returns (value, gradient)
RENAMES = (("cotangent", ("vjp",), "G"), ("tangent", ("jvp", "hvp"), "V"))


def read_claims(loader: "_Loader", value: Any, at: Location) -> tuple[Claim, ...]:
    """Read the ``claims:`` list; ``at`` is where its value starts."""
    if not isinstance(value, list):
        raise SchemaError(f"claims must be a list of mappings, got {describe(value)}", at)
    if not value:
        raise SchemaError(
            "claims must not be empty",
            at,
            hint="add a claim: - {name: ..., wrt: ..., gradient: ...}",
        )
    first_seen: dict[str, Location] = {}
    claims = []
    for index, item in enumerate(value):
        item_at = loader.item_at(value, index)
        if not isinstance(item, Mapping):
            raise SchemaError(f"claims must be a list of mappings, got {describe(item)}", item_at)
        if not item:
            raise SchemaError("a claim must not be empty", item_at)
        claim = loader.attempt(_ClaimReader(loader, item, first_seen).read)  # claims are independent
        if claim is not None:
            claims.append(claim)
    return tuple(claims)


class _ClaimReader:
    def __init__(self, loader: "_Loader", item: Mapping, first_seen: dict[str, Location]) -> None:
        self.loader = loader
        self.item = item
        self.first_seen = first_seen
        self.at = loader.at_key(item, next(iter(item)))  # the claim's first key
        self.name: str | None = None

    def fail(self, message: str, at: Location | None = None, hint: str | None = None) -> SchemaError:
        return SchemaError(message, at or self.at, claim=self.name, hint=hint)

    def read(self) -> Claim | None:
        """The claim; None when an error in one of its expressions was kept by the loader."""
        loader, item = self.loader, self.item
        self.name = name = self.read_name()
        check_keys(item, CLAIM_KEYS, "", loader.path, claim=name)
        kinds = [k for k in (*KINDS, VALUE_AND_GRAD) if k in item]
        if not kinds:
            raise self.fail(f"needs one of {ONE_OF}")
        if len(kinds) > 1:
            one_of = ONE_OF + (f", {VALUE_AND_GRAD}" if VALUE_AND_GRAD in kinds else "")
            raise self.fail(
                f"has both {kinds[0]} and {kinds[1]}; a claim checks exactly one of {one_of}",
                loader.at_key(item, kinds[1]),
                hint="split it into two claims",
            )
        value_and_grad = kinds[0] == VALUE_AND_GRAD
        kind = "gradient" if value_and_grad else kinds[0]
        node = self.read_node(kind)
        wrt, wrt_locations = self.read_wrt(kind, node)
        renames = self.read_renames(kind)
        expect = item.get("expect", Expect.PASS)
        if expect not in tuple(Expect):
            shown = f"'{expect}'" if isinstance(expect, str) else describe(expect)
            raise self.fail(
                f"expect must be pass or fail, got {shown}",
                loader.at_value(item, "expect"),
                hint=did_you_mean(expect, [e.value for e in Expect]),
            )
        if value_and_grad:
            ref = read_value_and_grad(item, VALUE_AND_GRAD, loader.path, claim=name)
            bodies: dict[str, Body] = {w: ref for w in wrt}
        else:
            bodies = self.read_bodies(kind, wrt, renames)
        if any(body is None for body in bodies.values()):
            return None
        return Claim(
            name=name,
            kind=kind,
            wrt=wrt,
            bodies=bodies,
            location=self.at,
            node=node,
            cotangent=renames.get("cotangent", "G"),
            tangent=renames.get("tangent", "V"),
            expect=Expect(expect),
            description=loader.read_description(item, claim=name),
            wrt_locations=wrt_locations,
        )

    def read_name(self) -> str:
        item = self.item
        if "name" not in item:
            raise self.fail("a claim needs a name", hint="add name: ... as the claim's first key")
        name = item["name"]
        at = self.loader.at_value(item, "name")
        if not isinstance(name, str) or not name.strip() or "\n" in name:
            shown = "an empty string" if isinstance(name, str) else describe(name)
            raise SchemaError(f"a claim name must be a one-line string, got {shown}", at)
        if name in self.first_seen:
            raise SchemaError(f"duplicate claim name '{name}' (first at line {self.first_seen[name].line})", at)
        self.first_seen[name] = at
        return str(name)

    def read_node(self, kind: str) -> str | None:
        loader, item = self.loader, self.item
        if kind in LOSS_KINDS:
            if "node" in item:
                raise self.fail(
                    "node is only for vjp, jvp and jacobian claims",
                    loader.at_key(item, "node"),
                    hint=f"a {kind} claim is always of the loss",
                )
            return None
        if "node" not in item:
            raise self.fail(
                f"a {kind} claim needs node: the graph node whose derivative it applies",
                loader.at_key(item, kind),
            )
        node = item["node"]
        at = loader.at_value(item, "node")
        nodes = [n for n, _, _ in loader.node_keys]
        if not isinstance(node, str):
            raise self.fail(f"node must be the name of a graph node, got {describe(node)}", at)
        if node not in nodes:
            if node in loader.inputs:
                raise self.fail(f"node '{node}' is an input, not a graph node", at)
            raise self.fail(
                f"unknown graph node '{node}'",
                at,
                hint=did_you_mean(node, nodes) or "name a node from graph:",
            )
        return str(node)

    def read_wrt(self, kind: str, node: str | None) -> tuple[tuple[str, ...], dict[str, Location]]:
        loader, item = self.loader, self.item
        if "wrt" not in item:
            raise self.fail("needs wrt: what the derivative is taken with respect to")
        value = item["wrt"]
        at = loader.at_value(item, "wrt")
        what = "wrt must be a name or a list of names"
        if isinstance(value, str):
            entries = [(value, at)]
        elif isinstance(value, list):
            if not value:
                raise self.fail("wrt must not be empty", at)
            entries = [(v, loader.item_at(value, i)) for i, v in enumerate(value)]
        else:
            raise self.fail(f"{what}, got {describe(value)}", at)
        if kind != "gradient" and len(entries) != 1:
            raise self.fail(
                f"a {kind} claim takes exactly one wrt, got {len(entries)}",
                at,
                hint="write one claim per wrt",
            )
        locations: dict[str, Location] = {}
        for name, where in entries:
            if not isinstance(name, str):
                raise self.fail(f"{what}, got {describe(name)} in the list", where)
            if name in locations:
                raise self.fail(f"wrt lists '{name}' twice", where)
            self.check_wrt(name, where, kind, node)
            locations[str(name)] = where
        return tuple(locations), locations

    def check_wrt(self, name: str, at: Location, kind: str, node: str | None) -> None:
        loader = self.loader
        order = {n: i for i, (n, _, _) in enumerate(loader.node_keys)}
        if name in loader.inputs:
            if loader.inputs[name].domain.is_integer:
                raise self.fail(
                    f"'{name}' has an integer domain and is not differentiated",
                    at,
                    hint="remove it from wrt",
                )
            return
        if name in order:
            if kind in LOSS_KINDS:
                raise self.fail(
                    f"'{name}' is a graph node; a {kind} claim is taken with respect to inputs",
                    at,
                    hint=f"to check a local derivative, write a vjp or jvp claim with wrt: {name}",
                )
            if order[name] >= order[node]:  # type: ignore[index]
                raise self.fail(
                    f"wrt '{name}' must come before node '{node}' in graph",
                    at,
                    hint=f"a {'vjp or jvp' if kind != 'jacobian' else kind} claim differentiates a node with respect to an earlier one",
                )
            return
        if name in getattr(loader, "arrays", {}):
            raise self.fail(
                f"wrt '{name}' is a constant (fixed data), which is never differentiated",
                at,
                hint=f"declare {name} under inputs: to check the gradient with respect to it",
            )
        if name in loader.refused:
            return  # its own error was kept
        if kind in LOSS_KINDS:
            message, choices = f"wrt '{name}' is not an input", loader.inputs
        else:
            message, choices = f"wrt '{name}' is neither an input nor a graph node", [*loader.inputs, *order]
        raise self.fail(message, at, hint=did_you_mean(name, choices))

    def read_renames(self, kind: str) -> dict[str, str]:
        loader, item = self.loader, self.item
        renames: dict[str, str] = {}
        for key, owners, default in RENAMES:
            if key in item and kind not in owners:
                raise self.fail(f"{key} is only for {' and '.join(owners)} claims", loader.at_key(item, key))
            if kind not in owners:
                continue
            name = item.get(key, default)
            at = loader.at_value(item, key) if key in item else loader.at_key(item, kind)
            if not is_name(name) or keyword.iskeyword(name) or name.startswith("_"):
                shown = f"'{name}'" if isinstance(name, str) else describe(name)
                raise self.fail(f"{key} must be an identifier, got {shown}", at)
            if name in loader.names:
                used_by, where = loader.names[name]
                raise self.fail(
                    f"{key} name '{name}' is already used by {NAME_KINDS[used_by]} (line {where.line})",
                    at,
                    hint=f"rename it, e.g. {key}: d{name}" if key not in item else "choose another name",
                )
            renames[key] = str(name)
        return renames

    def read_bodies(self, kind: str, wrt: tuple[str, ...], renames: dict[str, str]) -> dict[str, Body | None]:
        loader, item = self.loader, self.item
        names = loader.value_names() | set(renames.values())
        body = item[kind]
        at = loader.at_value(item, kind)
        if kind != "gradient":
            return {wrt[0]: loader.read_body(item, kind, kind, names, claim=self.name)}
        if isinstance(body, Mapping) and set(body) == {"python"} and wrt != ("python",):
            ref = loader.read_body(item, kind, kind, names, claim=self.name)
            return {w: ref for w in wrt}
        if isinstance(body, Mapping):
            for key in body:
                if key not in wrt:
                    shown = f"'{key}'" if isinstance(key, str) else describe(key)
                    raise self.fail(
                        f"gradient has an entry for {shown}, which is not in wrt",
                        loader.at_key(body, key),
                        hint=did_you_mean(key, wrt),
                    )
            for w in wrt:
                if w not in body:
                    raise self.fail(f"gradient has no entry for '{w}', which is in wrt", at)
            # each wrt's expression is independent: all their errors are kept
            return {
                w: loader.attempt(loader.read_body, body, w, f"the gradient for '{w}'", names, claim=self.name)
                for w in wrt
            }
        if len(wrt) != 1:
            raise self.fail(
                f"one gradient expression cannot cover {len(wrt)} wrt names",
                at,
                hint="write one expression per wrt: gradient: {" + ", ".join(f"{w}: ..." for w in wrt) + "}",
            )
        return {wrt[0]: loader.read_body(item, kind, kind, names, claim=self.name)}
