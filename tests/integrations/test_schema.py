"""The JSON Schema of spec v1: `gradcheck schema` prints the copy kept in the repository, every key
is documented, every gallery and corpus spec validates, and a spec the loader refuses for a schema
reason is refused by the schema too (the refusals JSON Schema cannot express are listed, and
checked to stay loader-only, so that the list stays true)."""

from __future__ import annotations

import copy
import io
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gradcheck.cli import main
from gradcheck.errors import SchemaError, SpecError, SpecErrors
from gradcheck.schema import schema_text, spec_schema
from gradcheck.spec.claims import CLAIM_KEYS
from gradcheck.spec.data import CONSTANT_KEYS
from gradcheck.spec.fields import DOMAINS, DTYPES, INPUT_KEYS
from gradcheck.spec.load import SETTINGS_FLOAT, SETTINGS_INT, TOP_KEYS, load_spec_text

jsonschema = pytest.importorskip("jsonschema", reason="needs jsonschema: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "schema" / "spec-v1.json"
SPECS = sorted(
    p
    for folder in ("specs", "tests/corpus", "tests/repair/corpus")
    for p in (ROOT / folder).iterdir()
    if p.suffix in (".yaml", ".yml")
)

BASE = """\
dims: {n: [2, 4]}
inputs:
  x: {shape: [n]}
  y: {shape: [3]}
loss: sum(x ** 2)
claims:
  - {name: g, wrt: x, gradient: 2 * x}
"""


def validator():
    return jsonschema.Draft202012Validator(spec_schema())


def schema_errors(text: str) -> list[str]:
    return [e.message for e in validator().iter_errors(YAML(typ="safe").load(text))]


def loader_errors(text: str) -> list[SpecError]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "spec.yaml")
    error = caught.value
    return list(error.errors) if isinstance(error, SpecErrors) else [error]


def test_gradcheck_schema_prints_the_copy_kept_in_the_repository(capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    assert COPY.read_text(encoding="utf-8") == printed, "refresh it: gradcheck schema > schema/spec-v1.json"
    assert json.loads(printed)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_schema())


def test_the_schema_lists_the_loaders_keys_and_enums():
    top = spec_schema()["properties"]
    assert list(top) == list(TOP_KEYS)
    assert list(top["claims"]["items"]["properties"]) == list(CLAIM_KEYS)
    single = top["inputs"]["additionalProperties"]
    assert list(single["properties"]) == list(INPUT_KEYS)
    assert single["properties"]["dtype"]["enum"] == list(DTYPES)
    named = single["properties"]["domain"]["anyOf"][0]
    assert named["enum"] == list(DOMAINS)
    fixed = top["constants"]["additionalProperties"]["anyOf"][1]
    assert list(fixed["properties"]) == list(CONSTANT_KEYS)
    assert list(top["settings"]["properties"]) == list(SETTINGS_INT + SETTINGS_FLOAT)


CONSTRAINTS = ("allOf", "if", "then", "not")  # conditions between keys: they declare no key of their own


def _keyed_schemas(node, path="$"):
    """Every schema an editor shows on hover: each property, and each section's value schema."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{path}.{key}", value
        for key in ("additionalProperties", "items", "propertyNames"):
            if isinstance(node.get(key), dict) and node[key].get("type") != "array":
                yield f"{path}[{key}]", node[key]
        for key, value in node.items():
            if key not in CONSTRAINTS:
                yield from _keyed_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _keyed_schemas(value, f"{path}[{index}]")


def test_every_key_has_a_title_and_a_description_for_the_editors_hover():
    schemas = list(_keyed_schemas(spec_schema()))
    assert len(schemas) > 50
    missing = [path for path, schema in schemas if not (schema.get("title") and schema.get("description"))]
    assert missing == []


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_gallery_and_corpus_spec_validates(path):
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator().iter_errors(data)] == []


def test_the_specs_found_are_the_gallery_and_the_corpus():
    assert len([p for p in SPECS if p.parent.name == "specs"]) >= 20
    assert len(SPECS) >= 30


# Refusals of the loader that the schema expresses: (the edit of BASE, the loader's message).
SCHEMA_REFUSALS = {
    "unknown top-level key": ("loss: sum(x ** 2)", "loss: sum(x ** 2)\nlosss: 1", "unknown key 'losss'"),
    "no claims": ("claims:\n  - {name: g, wrt: x, gradient: 2 * x}\n", "", "the spec needs 'claims'"),
    "no inputs": ("inputs:\n  x: {shape: [n]}\n  y: {shape: [3]}\n", "", "the spec needs 'inputs'"),
    "empty claims": ("  - {name: g, wrt: x, gradient: 2 * x}\n", "  []\n", "claims must not be empty"),
    "claims a mapping": ("  - {name: g, wrt: x, gradient: 2 * x}\n", "  {name: g}\n", "claims must be a list"),
    "input without shape": ("{shape: [n]}", "{domain: real}", "input 'x' needs a shape"),
    "input a list": ("{shape: [n]}", "[n]", "input 'x' must be a mapping, got a list"),
    "unknown input key": ("{shape: [n]}", "{shape: [n], dom: real}", "unknown key 'dom' in input 'x'"),
    "unknown domain": ("{shape: [n]}", "{shape: [n], domain: postive}", "unknown domain 'postive'"),
    "range of three": ("{shape: [n]}", "{shape: [n], domain: {range: [0, 1, 2]}}", "must be a list [low, high]"),
    "integers bound a float": ("{shape: [n]}", "{shape: [n], domain: {integers: [0, 2.5]}}", "must be integers"),
    "condition number 0": ("{shape: [n]}", "{shape: [n, n], domain: {spd: {cond: 0.5}}}", "must be in [1, 1e15]"),
    "a matrix domain on one axis": ("{shape: [n]}", "{shape: [n], domain: spd}", "spd needs a square matrix"),
    "simplex on a scalar": ("{shape: [n]}", "{shape: [], domain: simplex}", "simplex needs at least one axis"),
    "dtype float16": ("{shape: [n]}", "{shape: [n], dtype: float16}", "dtype of input 'x' must be float64"),
    "size 0 in a shape": ("{shape: [n]}", "{shape: [0]}", "sizes in a shape must be at least 1"),
    "shape not a list": ("{shape: [n]}", "{shape: n}", "shape of input 'x' must be a list"),
    "dim 0": ("{n: [2, 4]}", "{n: 0}", "dim 'n' must be at least 1"),
    "dim range of three": ("{n: [2, 4]}", "{n: [1, 2, 3]}", "got a list of 3"),
    "dim a boolean": ("{n: [2, 4]}", "{n: true}", "got a boolean"),
    "name with a leading _": ("  x: {shape: [n]}", "  x: {shape: [n]}\n  _y: {shape: [n]}", "may not start with '_'"),
    "input named by a keyword": ("  x: {shape: [n]}", "  x: {shape: [n]}\n  lambda: {shape: [n]}", "Python keyword"),
    "loss a list": ("loss: sum(x ** 2)", "loss: [1]", "loss must be an expression"),
    "loss a boolean": ("loss: sum(x ** 2)", "loss: true", "loss must be an expression"),
    "python without a colon": ("loss: sum(x ** 2)", 'loss: {python: "mod.fn"}', "python must be 'module:function'"),
    "claim without a name": ("{name: g, wrt: x,", "{wrt: x,", "a claim needs a name"),
    "claim name empty": ("{name: g,", "{name: '',", "a claim name must be a one-line string"),
    "claim without wrt": ("wrt: x, ", "", "needs wrt"),
    "wrt empty": ("wrt: x,", "wrt: [],", "wrt must not be empty"),
    "wrt twice": ("wrt: x,", "wrt: [x, x],", "wrt lists 'x' twice"),
    "one gradient for two wrt": ("wrt: x,", "wrt: [x, y],", "one gradient expression cannot cover 2 wrt names"),
    "gradient python not a ref": ("gradient: 2 * x}", "gradient: {python: abc}}", "python must be 'module:function'"),
    "claim without derivative": (
        "gradient: 2 * x}",
        "expect: pass}",
        "needs one of gradient, vjp, jvp, hessian, hvp, jacobian",
    ),
    "gradient and vjp": ("gradient: 2 * x}", "gradient: 2 * x, vjp: x}", "has both gradient and vjp"),
    "expect maybe": ("gradient: 2 * x}", "gradient: 2 * x, expect: maybe}", "expect must be pass or fail"),
    "node on a gradient claim": (
        "gradient: 2 * x}",
        "gradient: 2 * x, node: x}",
        "node is only for vjp, jvp and jacobian",
    ),
    "cotangent on a gradient": ("gradient: 2 * x}", "gradient: 2 * x, cotangent: dA}", "cotangent is only for vjp"),
    "vjp without node": ("gradient: 2 * x}", "vjp: 2 * x}", "a vjp claim needs node"),
    "jacobian without node": ("gradient: 2 * x}", "jacobian: 2 * x}", "a jacobian claim needs node"),
    "hessian with node": ("gradient: 2 * x}", "hessian: 2 * x, node: x}", "node is only for vjp, jvp and jacobian"),
    "tangent on a hessian": ("gradient: 2 * x}", "hessian: 2 * x, tangent: T}", "tangent is only for jvp and hvp"),
    "unknown claim key": ("gradient: 2 * x}", "gradient: 2 * x, gradeint: 1}", "unknown key 'gradeint'"),
    "settings examples 0": ("claims:", "settings: {examples: 0}\nclaims:", "settings examples must be at least 1"),
    "settings rtol < 0": ("claims:", "settings: {rtol: -1}\nclaims:", "settings rtol must be at least 0"),
    "settings unknown key": ("claims:", "settings: {seeds: 3}\nclaims:", "unknown key 'seeds' in settings"),
    "settings a list": ("claims:", "settings: [1]\nclaims:", "settings must be a mapping"),
    "spec name empty": ("dims:", "spec: ''\ndims:", "must not be empty"),
    "description a list": ("dims:", "description: [a]\ndims:", "description must be a string"),
    "define key without parentheses": ("loss:", "define: {h: x}\nloss:", "a define: key must look like"),
    "constant with npy and python": ("loss:", "constants: {D: {npy: d.npy, python: 'm:D'}}\nloss:", "give one"),
    "constant with neither": ("loss:", "constants: {D: {shape: [n]}}\nloss:", "needs python: or npy:"),
    "constant not a .npy": ("loss:", "constants: {D: {npy: d.txt}}\nloss:", "npy must name a .npy file"),
    "constant not a number": ("loss:", "constants: {c: abc}\nloss:", "constant 'c' must be a number"),
}

# Refusals JSON Schema cannot express: they need the whole spec, or the expression parser.
LOADER_ONLY = {
    "a name used by two sections": ("{shape: [n]}", "{shape: [n]}\n  n: {shape: [n]}", "already used by a dim"),
    "an undeclared dim in a shape": ("{shape: [n]}", "{shape: [m]}", "unknown dim 'm'"),
    "a dim range with lo > hi": ("{n: [2, 4]}", "{n: [4, 2]}", "has an empty range [4, 2]"),
    "a range with low >= high": ("{shape: [n]}", "{shape: [n], domain: {range: [1, 0]}}", "is empty"),
    "integers with lo >= hi": ("{shape: [n]}", "{shape: [n], domain: {integers: [2, 2]}}", "is empty"),
    "a matrix domain on a non-square shape": ("{shape: [n]}", "{shape: [n, 3], domain: spd}", "needs a square matrix"),
    "a derived dim below 1": ("{shape: [n]}", "{shape: [n - 2]}", "must be at least 1"),
    "a wrt that is not an input": ("wrt: x,", "wrt: z,", "wrt 'z' is not an input"),
    "duplicate claim names": ("2 * x}\n", "2 * x}\n  - {name: g, wrt: x, gradient: x}\n", "duplicate claim name"),
    "gradient entries that differ from wrt": ("gradient: 2 * x}", "gradient: {z: x}}", "not in wrt"),
    "a node that is not in graph": ("gradient: 2 * x}", "vjp: x, node: a}", "unknown graph node 'a'"),
    "an expression that does not parse": ("sum(x ** 2)", "sum(x ** 2", "sum("),
    "a function outside the whitelist": ("sum(x ** 2)", "matmul(x, x)", "matmul"),
    "a name not declared": ("sum(x ** 2)", "sum(z ** 2)", "'z'"),
    "an npy path outside the spec's folder": ("loss:", "constants: {D: {npy: ../d.npy}}\nloss:", "inside the spec"),
}


def _edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def test_the_base_spec_is_accepted_by_both():
    load_spec_text(BASE, "spec.yaml")
    assert schema_errors(BASE) == []


@pytest.mark.parametrize("case", SCHEMA_REFUSALS)
def test_a_spec_the_loader_refuses_for_a_schema_reason_fails_the_schema(case):
    old, new, message = SCHEMA_REFUSALS[case]
    text = _edit(old, new)
    errors = loader_errors(text)
    assert all(isinstance(e, SchemaError) for e in errors)
    assert any(message in str(e) for e in errors), [str(e) for e in errors]
    assert schema_errors(text) != []


@pytest.mark.parametrize("case", LOADER_ONLY)
def test_refusals_the_schema_cannot_express_are_the_loaders_alone(case):
    old, new, message = LOADER_ONLY[case]
    text = _edit(old, new)
    assert any(message in str(e) for e in loader_errors(text))
    assert schema_errors(text) == [], "the schema now catches this one: move it to SCHEMA_REFUSALS"


def test_check_jsonschema_validates_specs_with_the_copy(tmp_path):
    beside = Path(sys.executable).parent / "check-jsonschema"
    tool = str(beside) if beside.exists() else shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("needs check-jsonschema: pip install -e '.[test]'")
    bad = tmp_path / "bad.yaml"
    bad.write_text(_edit("{shape: [n]}", "{shape: [n], domain: postive}"), encoding="utf-8")
    good = [str(p) for p in SPECS if p.parent.name == "specs"]
    run = subprocess.run([tool, "--schemafile", str(COPY), *good], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run([tool, "--schemafile", str(COPY), str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "postive" in run.stdout


# What the loader alone can refuse, as the mutation test below meets it (see LOADER_ONLY).
CROSS_REFERENCES = re.compile(
    r"unknown dim '.*' in the shape|wrt '.*' is (not an input|neither an input nor a graph node)"
    r"|unknown graph node|gradient has (an|no) entry for|needs a square matrix"
)
ODD_VALUES = [None, True, 0, -1, 1.5, "", "abc", [], [1], [1, 2, 3], {}, {"a": 1}, "x y", "_z", "lambda", "1e-3"]


def _mutants(count: int, seed: int):
    """Gallery and corpus specs with one value replaced, one key renamed or dropped, or one added."""
    rnd = random.Random(seed)
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    texts = [p.read_text(encoding="utf-8") for p in SPECS]
    while count:
        doc = yaml.load(rnd.choice(texts))
        paths, stack = [], [((), doc)]
        while stack:
            path, node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, value in items:
                paths.append((node, key))
                stack.append(((*path, key), value))
        parent, key = rnd.choice(paths)
        how = rnd.randrange(4)
        if how == 0 or not isinstance(parent, dict):
            parent[key] = copy.deepcopy(rnd.choice(ODD_VALUES))
        elif how == 1:
            parent[f"{key}x"] = parent.pop(key)
        elif how == 2:
            del parent[key]
        else:
            parent["zz"] = 1
        out = io.StringIO()
        yaml.dump(doc, out)
        count -= 1
        yield out.getvalue()


def test_mutated_specs_the_loader_refuses_for_a_schema_reason_fail_the_schema_unless_cross_referenced():
    refused = 0
    for text in _mutants(150, seed=20261206):
        try:
            load_spec_text(text, "mutant.yaml")
            continue
        except SpecError as error:
            errors = list(error.errors) if isinstance(error, SpecErrors) else [error]
        if not all(type(e) is SchemaError for e in errors):
            continue  # an expression or shape error: the schema does not parse expressions
        refused += 1
        if not schema_errors(text):
            assert any(CROSS_REFERENCES.search(e.message) for e in errors), (str(errors[0]), text)
    assert refused > 60


def test_the_schema_refuses_settings_a_spec_may_not_raise():
    import jsonschema

    from gradcheck.schema import spec_schema
    from gradcheck.spec.load import SPEC_CAPS

    validator = jsonschema.Draft202012Validator(spec_schema())
    claims = [{"name": "g", "wrt": "x", "gradient": "2 * x"}]
    base = {"inputs": {"x": {"shape": ["n"]}}, "dims": {"n": [2, 4]}, "loss": "sum(x ** 2)", "claims": claims}
    assert validator.is_valid(base), list(validator.iter_errors(base))
    for key, cap in SPEC_CAPS.items():
        assert validator.is_valid({**base, "settings": {key: cap}})
        assert not validator.is_valid({**base, "settings": {key: cap + 1}}), key
