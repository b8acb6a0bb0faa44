"""The JSON Schema of spec format v1, for editors (hover help, completion) and CI validators.

``gradcheck schema`` prints :func:`spec_schema` as JSON; ``schema/spec-v1.json`` in the
repository is a copy of it (a test keeps the two identical), so that a spec can name it in its
first line::

    # yaml-language-server: $schema=https://.../schema/spec-v1.json

The schema is built from the loader's own tables (top-level, claim, input and constant keys,
domains, dtypes, settings), so the two cannot drift apart on what they list. It expresses what
a single value may look like; what needs the whole spec or an expression parser is left to the
loader, whose messages are located: names unique across sections, names used in expressions
or shapes that are not declared, a dim range with lo > hi, a wrt that is not an input, duplicate
claim names, gradient entries that differ from wrt, square shapes for matrix domains, derived
dim arithmetic, and the expressions themselves. A spec the schema accepts can still be refused
by ``gradcheck check``; a spec it refuses is refused by the loader too.
"""

from __future__ import annotations

import json
import keyword
from typing import Any

from .spec.fields import DOMAINS, DTYPES, MATRIX_DOMAINS
from .spec.load import SETTINGS_FLOAT, SETTINGS_INT, SPEC_CAPS
from .verdict.model import Expect

__all__ = ["SCHEMA_ID", "spec_schema", "schema_text"]

SCHEMA_ID = "https://github.com/gradcheck/gradcheck/raw/main/schema/spec-v1.json"

# A name: an identifier that does not start with '_' (letters of any script, as Python's).
NAME_PATTERN = r"^[^\W\d_]\w*$"
PYTHON_REF_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$"
NUMBER_TEXT_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"  # "1e-6": read_float's strings


def _doc(title: str, description: str, **schema: Any) -> dict[str, Any]:
    """A schema with the title and description editors show on hover."""
    return {"title": title, "description": description, **schema}


def _name(kind: str, *, keywords: bool = False) -> dict[str, Any]:
    name: dict[str, Any] = {"type": "string", "pattern": NAME_PATTERN}
    if not keywords:
        name = {"allOf": [name, {"not": {"enum": sorted(keyword.kwlist)}}]}
    return _doc(
        f"{kind} name",
        "an identifier (letters, digits, underscores; not starting with a digit or '_')"
        + ("" if keywords else "; not a Python keyword"),
        **name,
    )


def _expression(what: str) -> dict[str, Any]:
    return _doc(
        "expression",
        f"{what}: a Python expression over the whitelisted functions (never eval'd), or a number",
        type=["string", "number"],
    )


def _python_ref(what: str) -> dict[str, Any]:
    return _doc(
        "Python function",
        f'{what} as Python code of your own: {{python: "module:function"}} (refused under --no-python)',
        type="object",
        required=["python"],
        additionalProperties=False,
        properties={
            "python": _doc(
                "module:function",
                "the importable module and the function's name, e.g. mypkg.losses:sse_grad",
                type="string",
                pattern=PYTHON_REF_PATTERN,
            )
        },
    )


def _value_and_grad(what: str) -> dict[str, Any]:
    ref = _python_ref("a function f(inputs) -> (value, gradient)")
    return _doc("value and gradient", what, **{k: v for k, v in ref.items() if k not in ("title", "description")})


def _number(title: str, description: str, **bounds: Any) -> dict[str, Any]:
    return _doc(
        title,
        description,
        anyOf=[{"type": "number", **bounds}, {"type": "string", "pattern": NUMBER_TEXT_PATTERN}],
    )


def _shape(owner: str) -> dict[str, Any]:
    entry = _doc(
        "shape entry",
        "a size (an integer >= 1), a dim name, or an integer expression over dims such as F + 1",
        anyOf=[{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}],
    )
    return _doc(
        "shape",
        f"the {owner}'s shape: a list of sizes, dims or derived dims; [] is a scalar",
        type="array",
        items=entry,
    )


def _domain() -> dict[str, Any]:
    bounds = {"type": "array", "minItems": 2, "maxItems": 2}
    conditioned = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "cond": _number(
                "condition number", "the drawn matrices' condition number, 1 to 1e15", minimum=1, maximum=10**15
            )
        },
    }

    def one(key: str, title: str, description: str, value: dict[str, Any]) -> dict[str, Any]:
        return _doc(
            title,
            description,
            type="object",
            required=[key],
            additionalProperties=False,
            properties={key: _doc(title, description, **value)},
        )

    return _doc(
        "domain",
        "where the input's values are drawn (derivatives are always entrywise): a name, "
        "{range: [low, high]}, {integers: [lo, hi]} or {spd: {cond: c}}",
        anyOf=[
            _doc(
                "named domain",
                "real (default), positive, unit (open 0..1), symmetric, spd, invertible, orthogonal "
                "(square matrices), simplex (the last axis sums to 1)",
                type="string",
                enum=list(DOMAINS),
            ),
            one(
                "range",
                "range",
                "the closed interval [low, high], low < high",
                {**bounds, "items": _number("bound", "a finite number")},
            ),
            one(
                "integers",
                "integers",
                "integer labels in the half-open [lo, hi): constant, never differentiated; a bound may be a dim",
                {
                    **bounds,
                    "items": _doc(
                        "bound",
                        "an integer or a dim name",
                        anyOf=[{"type": "integer"}, {"type": "string", "pattern": NAME_PATTERN}],
                    ),
                },
            ),
            one("spd", "spd", "symmetric positive definite matrices of a given condition number", conditioned),
            one("invertible", "invertible", "invertible matrices of a given condition number", conditioned),
        ],
    )


def _input() -> dict[str, Any]:
    properties = {
        "shape": _shape("input"),
        "domain": _domain(),
        "dtype": _doc(
            "dtype",
            "float64/float32: what Python callables receive (checks run in float64); complex128: a complex "
            "parameter of a real-valued loss, both parts drawn from the domain (real or range)",
            type="string",
            enum=list(DTYPES),
        ),
    }
    matrix = {
        "anyOf": [
            {"enum": sorted(MATRIX_DOMAINS)},
            {"type": "object", "anyOf": [{"required": ["spd"]}, {"required": ["invertible"]}]},
        ]
    }
    return _doc(
        "input",
        "an array the loss depends on: {shape: [...], domain: ..., dtype: ...}",
        type="object",
        required=["shape"],
        allOf=[  # a matrix domain needs two axes (that they are equal needs the loader), simplex one
            {
                "if": {"required": ["domain"], "properties": {"domain": matrix}},
                "then": {"properties": {"shape": {"minItems": 2}}},
            },
            {
                "if": {"required": ["domain"], "properties": {"domain": {"const": "simplex"}}},
                "then": {"properties": {"shape": {"minItems": 1}}},
            },
        ],
        additionalProperties=False,
        properties=properties,
    )


def _constant() -> dict[str, Any]:
    properties = {
        "python": _doc(
            "module:name",
            "an array attribute, or a function of no arguments called once (refused under --no-python)",
            type="string",
            pattern=PYTHON_REF_PATTERN,
        ),
        "npy": _doc(
            ".npy file",
            "a relative path to a .npy file inside the spec's folder (loaded without pickles)",
            type="string",
            pattern=r"\.npy$",
        ),
        "shape": {**_shape("constant"), "type": ["array", "null"]},
    }
    fixed = _doc(
        "fixed data",
        '{python: "pkg.data:X", shape: [...]} or {npy: data/X.npy, shape: [...]}',
        type="object",
        additionalProperties=False,
        properties=properties,
        oneOf=[{"required": ["python"]}, {"required": ["npy"]}],
    )
    return _doc(
        "constant",
        "a scalar, or fixed data the loss is not differentiated against",
        anyOf=[_number("scalar", "a finite number"), fixed],
    )


def _claim_properties() -> dict[str, Any]:
    """The keys of one claim, each with its title and description."""
    body = {"anyOf": [_expression("the claimed derivative"), _python_ref("the claimed derivative")]}
    wrt_name = _doc("name", "an input (or, for vjp/jvp claims, an earlier graph node)", type="string")
    return {
        "name": _doc(
            "claim name",
            "a one-line name, unique in the spec; --claim NAME selects it",
            type="string",
            pattern=r"^[^\n]*\S[^\n]*$",
        ),
        "wrt": _doc(
            "with respect to",
            "the input(s) the derivative is taken with respect to: a name or a list of names",
            anyOf=[wrt_name, {"type": "array", "items": wrt_name, "minItems": 1, "uniqueItems": True}],
        ),
        "gradient": _doc(
            "claimed gradient",
            "d loss / d wrt, of wrt's shape: an expression, {python: ...}, or one expression per wrt name",
            anyOf=[
                *body["anyOf"],
                {
                    "type": "object",
                    "additionalProperties": _doc("gradient for one wrt", "keyed by a wrt name", **body),
                    "minProperties": 1,
                },
            ],
        ),
        "vjp": _doc(
            "claimed vector-Jacobian product",
            "G times d node / d wrt, of wrt's shape; G (the cotangent) has the node's shape",
            **body,
        ),
        "jvp": _doc(
            "claimed Jacobian-vector product",
            "d node / d wrt times V, of the node's shape; V (the tangent) has wrt's shape",
            **body,
        ),
        "node": _doc(
            "graph node", "vjp, jvp and jacobian claims: the graph node whose derivative is claimed", type="string"
        ),
        "cotangent": {**_name("cotangent"), "description": "vjp claims: the cotangent's name (default G)"},
        "tangent": {**_name("tangent"), "description": "jvp and hvp claims: the tangent's name (default V)"},
        "expect": _doc(
            "expected verdict",
            "fail: a known-wrong claim, reported but not failing the gate",
            type="string",
            enum=[e.value for e in Expect],
        ),
        "description": _doc("description", "free text", type=["string", "null"]),
        "value_and_grad": _value_and_grad(
            "a function returning (value, gradient): the gradient is checked, and the value against the loss"
        ),
        **_second_order_properties(body),
    }


def _second_order_properties(body: dict[str, Any]) -> dict[str, Any]:
    """The claim keys of the second-order and Jacobian claims."""
    return {
        "hessian": _doc(
            "claimed Hessian",
            "d² loss / d wrt², of shape wrt + wrt (one wrt, an input)",
            **body,
        ),
        "hvp": _doc(
            "claimed Hessian-vector product",
            "the Hessian of the loss wrt wrt applied to V, of wrt's shape; V (the tangent) has wrt's shape",
            **body,
        ),
        "jacobian": _doc(
            "claimed Jacobian",
            "d node / d wrt (local, as vjp and jvp), of shape node + wrt",
            **body,
        ),
    }


def _claim() -> dict[str, Any]:
    python = {"const": "python"}
    code = {k: v for k, v in _python_ref("the claimed gradient").items() if k not in ("title", "description")}
    single = _doc(
        "one wrt",
        "vjp, jvp, hessian, hvp and jacobian claims take exactly one wrt",
        anyOf=[{"type": "string"}, {"type": "array", "maxItems": 1}],
    )
    return _doc(
        "claim",
        "a claimed derivative: exactly one of gradient, vjp, jvp, hessian, hvp, jacobian, value_and_grad",
        type="object",
        required=["name", "wrt"],
        additionalProperties=False,
        properties=_claim_properties(),
        oneOf=[
            {"required": [kind]} for kind in ("gradient", "vjp", "jvp", "hessian", "hvp", "jacobian", "value_and_grad")
        ],
        allOf=[
            {"if": {"required": ["vjp"]}, "then": {"required": ["node"], "properties": {"wrt": single}}},
            {"if": {"required": ["jvp"]}, "then": {"required": ["node"], "properties": {"wrt": single}}},
            {"if": {"required": ["jacobian"]}, "then": {"required": ["node"], "properties": {"wrt": single}}},
            {"if": {"required": ["hessian"]}, "then": {"not": {"required": ["node"]}, "properties": {"wrt": single}}},
            {"if": {"required": ["hvp"]}, "then": {"not": {"required": ["node"]}, "properties": {"wrt": single}}},
            {
                "if": {"anyOf": [{"required": ["gradient"]}, {"required": ["value_and_grad"]}]},
                "then": {"not": {"required": ["node"]}},
            },
            {"if": {"required": ["cotangent"]}, "then": {"required": ["vjp"]}},
            # one expression cannot cover several wrt names
            {
                "if": {"required": ["wrt", "gradient"], "properties": {"wrt": {"type": "array", "minItems": 2}}},
                "then": {"properties": {"gradient": {"type": "object"}}},
            },
            # {python: ...} is code, unless an input named python is differentiated
            {
                "if": {
                    "required": ["wrt"],
                    "properties": {"wrt": {"not": {"anyOf": [python, {"type": "array", "contains": python}]}}},
                },
                "then": {"properties": {"gradient": {"if": {"type": "object", "required": ["python"]}, "then": code}}},
            },
            {"if": {"required": ["tangent"]}, "then": {"anyOf": [{"required": ["jvp"]}, {"required": ["hvp"]}]}},
        ],
    )


def _settings() -> dict[str, Any]:
    ints = {
        "examples": "examples drawn per claim (default 25)",
        "directions": "random directions per example for the cheap directional check (default 3)",
        "max_elements": "the largest array an expression may build, in elements",
    }
    ints = {k: f"{v}; a spec may lower it, never raise it above {SPEC_CAPS[k]}" for k, v in ints.items()}
    floats = {"rtol": "relative tolerance (default 1e-9)", "atol": "absolute tolerance (default 0)"}
    properties = {key: _doc(key, ints[key], type="integer", minimum=1, maximum=SPEC_CAPS[key]) for key in SETTINGS_INT}
    properties |= {key: _number(key, floats[key], minimum=0) for key in SETTINGS_FLOAT}
    return _doc(
        "settings",
        "per-spec defaults; command-line options override them",
        type=["object", "null"],
        additionalProperties=False,
        properties=properties,
    )


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of gradcheck's spec format v1, as a dict.

    Returns
    -------
    dict
        Plain JSON data; every key has a title and a description (the text editors show on
        hover), domains and dtypes are enums.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "gradcheck spec (format v1)",
        "description": "A loss, its inputs and the hand-derived derivatives to check: gradcheck check SPEC",
        "type": "object",
        "required": ["inputs", "loss", "claims"],
        "additionalProperties": False,
        "properties": _spec_properties(),
    }


def _dim() -> dict[str, Any]:
    return _doc(
        "dim",
        "a fixed size (an integer >= 1) or an inclusive range [lo, hi] to draw from",
        anyOf=[
            {"type": "integer", "minimum": 1},
            {
                "type": "array",
                "items": _doc("size", "lo, then hi: integers >= 1, lo <= hi", type="integer", minimum=1),
                "minItems": 2,
                "maxItems": 2,
            },
        ],
    )


def _loss_value_and_grad() -> dict[str, Any]:
    return _doc(
        "loss from value_and_grad",
        "{value_and_grad: {python: ...}}: the loss is the function's value",
        type="object",
        required=["value_and_grad"],
        additionalProperties=False,
        properties={"value_and_grad": _value_and_grad("a function returning (value, gradient)")},
    )


def _spec_properties() -> dict[str, Any]:
    """The top-level keys of a spec, each with its title and description."""
    return {
        "spec": _doc("spec name", "the spec's name; defaults to the file's stem", type="string", pattern=r"\S"),
        "description": _doc("description", "free text", type=["string", "null"]),
        "dims": _doc(
            "dims",
            "symbolic sizes, usable in shapes and (unless a Python keyword) in expressions",
            type=["object", "null"],
            propertyNames=_name("dim", keywords=True),
            additionalProperties=_dim(),
        ),
        "constants": _doc(
            "constants",
            "scalars and fixed data the loss is not differentiated against",
            type=["object", "null"],
            propertyNames=_name("constant"),
            additionalProperties=_constant(),
        ),
        "inputs": _doc(
            "inputs",
            "the arrays the loss depends on; claims take derivatives with respect to them",
            type="object",
            propertyNames=_name("input"),
            additionalProperties=_input(),
        ),
        "define": _doc(
            "helpers",
            "helper functions usable in every expression: 'name(x, y)': expression",
            type=["object", "null"],
            propertyNames=_doc(
                "helper",
                "name(parameters)",
                type="string",
                pattern=r"^\s*[^\W\d_]\w*\s*\(\s*([^\W\d_]\w*\s*(,\s*[^\W\d_]\w*\s*)*)?\)\s*$",
            ),
            additionalProperties=_expression("the helper's body, over its parameters and the spec's names"),
        ),
        "graph": _doc(
            "graph",
            "named nodes, evaluated in order; a node may use the earlier ones",
            type=["object", "null"],
            propertyNames=_name("graph node"),
            additionalProperties=_expression("the node's value"),
        ),
        "loss": _doc(
            "loss",
            'the scalar loss: an expression, {python: "module:function"}, or {value_and_grad: {python: ...}}',
            anyOf=[_expression("the scalar loss"), _python_ref("the scalar loss"), _loss_value_and_grad()],
        ),
        "claims": _doc(
            "claims",
            "the claimed derivatives to check",
            type="array",
            minItems=1,
            items=_claim(),
        ),
        "settings": _settings(),
    }


def schema_text() -> str:
    """The schema as ``gradcheck schema`` prints it (and ``schema/spec-v1.json`` holds it)."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
