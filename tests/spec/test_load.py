"""gradcheck.spec.load: a valid spec becomes the expected Spec; every mistake is located."""

from __future__ import annotations

import textwrap

import pytest

from gradcheck.errors import ExpressionError, Location, SchemaError, SpecError, SpecErrors
from gradcheck.spec.load import load_spec, load_spec_text
from gradcheck.spec.model import Domain, PythonRef, Settings, Source

PATH = "specs/least-squares.yaml"

FULL = """\
description: Halved sum of squared errors through an elementwise activation.
dims:
  M: [2, 6]
  in: [2, 5]
  out: [2, 5]
  k: 3
constants:
  lam: 0.1
  eps: "1e-6"
inputs:
  X:     {shape: [M, in]}
  Theta: {shape: [in, out]}
  Y:     {shape: [M, out], dtype: float32}
  S:     {shape: [in, in], domain: spd}
  y:     {shape: [M], domain: {integers: [0, k]}}
  p:     {shape: [out], domain: {range: [0.5, 2]}}
define:
  h(z): sigmoid(z)
  dh(z): sigmoid(z) * (1 - sigmoid(z))
graph:
  a: X @ Theta
  b: h(a)
  c: Y - b
loss: 0.5 * sum(c ** 2) + lam * sum(Theta ** 2)
claims:
  - name: answer
    wrt: Theta
    gradient: 'X.T @ ((b - Y) * dh(a))'
  - name: asker
    wrt: Theta
    gradient: c * -dh(a) * X
    expect: fail
  - name: step-a
    node: a
    wrt: Theta
    vjp: X.T @ dA
    cotangent: dA
  - name: jvp-b
    node: b
    wrt: a
    jvp: |
      dh(a) * V
  - name: numpy-code
    wrt: [Theta, X]
    gradient: {python: "mypkg.losses:sse_grad"}
  - name: both
    wrt: [Theta, X]
    gradient:
      Theta: "X.T @ ((b - Y) * dh(a))"
      X: ((b - Y) * dh(a)) @ Theta.T
    description: both inputs at once
settings: {examples: 25, rtol: 1.0e-7, atol: 0, directions: 3, max_elements: 10000000}
"""


def at(line: int, col: int) -> Location:
    return Location(PATH, line, col)


def load(text: str):
    return load_spec_text(textwrap.dedent(text), PATH)


# ---- the valid example -------------------------------------------------------------------


def test_full_example_round_trips():
    spec = load(FULL)
    assert spec.name == "least-squares"  # the file's stem
    assert spec.description.startswith("Halved sum")
    assert spec.location == at(1, 1)
    assert {n: (d.lo, d.hi) for n, d in spec.dims.items()} == {
        "M": (2, 6),
        "in": (2, 5),
        "out": (2, 5),
        "k": (3, 3),
    }
    assert spec.dims["M"].location == at(3, 3)
    assert spec.constants == {"lam": 0.1, "eps": 1e-6}
    assert list(spec.inputs) == ["X", "Theta", "Y", "S", "y", "p"]
    assert spec.inputs["X"].shape == ("M", "in")
    assert spec.inputs["X"].domain == Domain("real")
    assert spec.inputs["Y"].dtype == "float32"
    assert spec.inputs["S"].domain == Domain("spd")
    assert spec.inputs["y"].domain == Domain("integers", 0, "k")
    assert spec.inputs["p"].domain == Domain("range", 0.5, 2.0)
    assert spec.define["dh"].params == ("z",)
    assert spec.define["h"].body.text == "sigmoid(z)"
    assert [n.name for n in spec.graph] == ["a", "b", "c"]
    assert spec.graph[0].body.location == at(21, 6)
    assert isinstance(spec.loss, Source)
    assert spec.settings == Settings(25, 1e-7, 0.0, 3, 10_000_000)

    claims = {c.name: c for c in spec.claims}
    assert [c.kind for c in spec.claims] == ["gradient", "gradient", "vjp", "jvp", "gradient", "gradient"]
    answer = claims["answer"]
    assert answer.wrt == ("Theta",)
    assert answer.location == at(26, 5)
    assert answer.wrt_locations == {"Theta": at(27, 10)}
    # a single-quoted expression starts one column after its quote
    assert answer.bodies["Theta"].text == "X.T @ ((b - Y) * dh(a))"
    assert answer.bodies["Theta"].location == at(28, 16)
    assert claims["asker"].expect == "fail"
    step = claims["step-a"]
    assert (step.node, step.cotangent, step.bodies["Theta"].text) == ("a", "dA", "X.T @ dA")
    jvp = claims["jvp-b"]
    assert (jvp.node, jvp.wrt, jvp.tangent) == ("b", ("a",), "V")
    assert jvp.bodies["a"].text == "dh(a) * V"
    assert jvp.bodies["a"].location == at(42, 7)  # a block scalar: its first content line
    ref = claims["numpy-code"].bodies
    assert ref["Theta"] is ref["X"]
    assert isinstance(ref["X"], PythonRef) and ref["X"].target == "mypkg.losses:sse_grad"
    both = claims["both"]
    assert both.bodies["X"].text == "((b - Y) * dh(a)) @ Theta.T"
    assert both.bodies["Theta"].location == at(49, 15)
    assert both.description == "both inputs at once"


def test_spec_name_and_optional_sections():
    spec = load(
        """\
        spec: tiny
        inputs: {x: {shape: [3]}}
        loss: sum(x ** 2)
        claims: [{name: g, wrt: x, gradient: 2 * x}]
        """
    )
    assert (spec.name, spec.dims, spec.constants, spec.define, spec.graph) == ("tiny", {}, {}, {}, ())
    assert spec.inputs["x"].shape == (3,)
    assert spec.settings == Settings()


def test_numbers_as_expressions():
    spec = load(
        """\
        inputs: {x: {shape: []}}
        loss: 1.5
        claims: [{name: g, wrt: x, gradient: 0}]
        """
    )
    assert spec.loss.text == "1.5"
    assert spec.claims[0].bodies["x"].text == "0"


def test_load_spec_reads_a_file(tmp_path):
    file = tmp_path / "tiny-spec.yaml"
    file.write_text("inputs: {x: {shape: []}}\nloss: x ** 2\nclaims: [{name: g, wrt: x, gradient: 2 * x}]\n")
    spec = load_spec(file)
    assert spec.name == "tiny-spec"
    assert spec.claims[0].location == Location(str(file), 3, 11)


def test_undecodable_file(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_bytes(b"inputs: {}\nloss: \xff\n")
    with pytest.raises(SchemaError) as info:
        load_spec(file)
    assert str(info.value).splitlines() == [
        f"{file}:1:1: the spec file is not valid UTF-8 (byte 0xff on line 2)",
        "  save the file as UTF-8",
    ]


# ---- every error kind: the full first line and the hint ------------------------------------

HEAD = "inputs: {x: {shape: [n]}, y: {shape: [n], domain: {integers: [0, n]}}}\ndims: {n: [2, 4]}\n"
CLAIM = "claims: [{name: g, wrt: x, gradient: 2 * x}]\n"
LOSS = "loss: sum(x ** 2)\n"
TAIL = "loss: x\nclaims: [{name: g, wrt: x, gradient: 1}]\n"  # its own errors come after the case's
NO_INPUTS = "inputs: {}\n" + TAIL

CASES = {
    # YAML itself
    "syntax": (
        "inputs: [\n",
        "1:9: invalid YAML: this '[' is not closed (expected ',' or ']' on line 2)",
        "close it with ']' on the same line",
    ),
    "duplicate-key": (HEAD + LOSS + "loss: x\n" + CLAIM, "4:1: duplicate key 'loss'", None),
    "tag": (
        "loss: !!str x\n",
        "1:7: YAML tags are not allowed",
        "write plain values; quote a string if it starts with '!'",
    ),
    "custom-tag": (
        "loss: !foo x\n",
        "1:7: YAML tags are not allowed",
        "write plain values; quote a string if it starts with '!'",
    ),
    "anchor": ("a: &x 1\n", "1:4: YAML anchors and aliases are not allowed", "write the value out in full"),
    "documents": (
        HEAD + "---\n" + LOSS,
        "3:1: a spec file holds one YAML document, found several",
        "remove the '---' separator or split the file",
    ),
    "directive": ("%YAML 1.1\n---\nloss: x\n", "2:1: YAML directives (%YAML, %TAG) are not allowed", None),
    "merge-key": ("inputs:\n  <<: {x: {shape: []}}\n", "2:3: YAML merge keys ('<<') are not allowed", None),
    "too-deep": ("loss: " + "[" * 70 + "\n", "1:71: YAML nesting is deeper than 64 levels", None),
    "empty-file": ("", "1:1: a spec must be a mapping, got null (the file is empty)", None),
    "not-a-mapping": ("- loss\n", "1:1: a spec must be a mapping, got a list", None),
    # top level
    "unknown-key": (HEAD + LOSS + "clams: []\n", "4:1: unknown key 'clams'", "did you mean 'claims'?"),
    "missing-claims": (HEAD + LOSS, "1:1: the spec needs 'claims'", "add a 'claims:' section"),
    "claims-type": (HEAD + LOSS + "claims: answer\n", "4:9: claims must be a list of mappings, got a string", None),
    "claims-empty": (
        HEAD + LOSS + "claims: []\n",
        "4:9: claims must not be empty",
        "add a claim: - {name: ..., wrt: ..., gradient: ...}",
    ),
    "claim-type": (HEAD + LOSS + "claims: [answer]\n", "4:10: claims must be a list of mappings, got a string", None),
    "inputs-type": ("inputs: [x]\n" + LOSS + CLAIM, "1:9: inputs must be a mapping, got a list", None),
    "spec-name-type": (
        "spec: [a]\n" + HEAD + LOSS + CLAIM,
        "1:7: spec must be a string (the spec's name), got a list",
        None,
    ),
    "non-string-key": (HEAD + LOSS + CLAIM + "settings: {1: 2}\n", "5:12: keys must be strings, got an integer", None),
    # dims and constants
    "dim-empty-range": (
        "dims: {n: [4, 2]}\n" + NO_INPUTS,
        "1:11: dim 'n' has an empty range [4, 2]",
        "write [lo, hi] with lo <= hi",
    ),
    "dim-zero": ("dims: {n: 0}\n" + NO_INPUTS, "1:11: dim 'n' must be at least 1, got 0", None),
    "dim-type": (
        "dims: {n: true}\n" + NO_INPUTS,
        "1:11: dim 'n' must be a positive integer or a range [lo, hi], got a boolean",
        None,
    ),
    "dim-name": (
        "dims: {2n: 3}\n" + NO_INPUTS,
        "1:8: dim name must be an identifier, got '2n'",
        "use letters, digits and underscores, not starting with a digit",
    ),
    "constant-type": (
        "constants: {lam: abc}\n" + NO_INPUTS,
        "1:18: constant 'lam' must be a number, got a string",
        None,
    ),
    "constant-infinite": ("constants: {lam: .inf}\n" + NO_INPUTS, "1:18: constant 'lam' must be finite, got inf", None),
    # names
    "name-collision": (
        "dims:\n  n: 3\ninputs:\n  n: {shape: []}\n" + TAIL,
        "4:3: name 'n' is already used by a dim (line 2)",
        None,
    ),
    "keyword-name": (
        "inputs:\n  lambda: {shape: []}\n" + TAIL,
        "2:3: 'lambda' is a Python keyword and cannot name an input",
        "only dims may be keywords (and are then usable only in shapes)",
    ),
    "underscore-name": ("inputs:\n  _x: {shape: []}\n" + TAIL, "2:3: names may not start with '_': '_x'", None),
    # inputs
    "input-unknown-key": (
        "inputs:\n  x: {shape: [], domian: spd}\n" + TAIL,
        "2:18: unknown key 'domian' in input 'x'",
        "did you mean 'domain'?",
    ),
    "input-as-list": (
        "dims: {n: 2}\ninputs:\n  x: [n]\n" + TAIL,
        "3:6: input 'x' must be a mapping, got a list",
        "write {shape: [n]}",
    ),
    "input-no-shape": (
        "inputs:\n  x: {domain: spd}\n" + TAIL,
        "2:6: input 'x' needs a shape",
        "for example {shape: [M, n]}; [] is a scalar",
    ),
    "shape-type": (
        "inputs:\n  x: {shape: n}\n" + TAIL,
        "2:14: shape of input 'x' must be a list of dims or integers, got a string",
        None,
    ),
    "unknown-dim": (
        "dims: {rows: 3}\ninputs:\n  x: {shape: [rows, rowz]}\n" + TAIL,
        "3:21: unknown dim 'rowz' in the shape of input 'x'",
        "did you mean 'rows'?",
    ),
    "shape-zero": ("inputs:\n  x: {shape: [0]}\n" + TAIL, "2:15: sizes in a shape must be at least 1, got 0", None),
    "unknown-domain": (
        "inputs:\n  S: {shape: [2, 2], domain: spdd}\n" + TAIL,
        "2:30: unknown domain 'spdd' for input 'S'",
        "did you mean 'spd'?",
    ),
    "domain-without-bounds": (
        "inputs:\n  x: {shape: [], domain: range}\n" + TAIL,
        "2:26: domain 'range' needs bounds: {range: [low, high]}",
        None,
    ),
    "domain-not-square": (
        "dims: {M: 2, in: 3}\ninputs:\n  S: {shape: [M, in], domain: spd}\n" + TAIL,
        "3:31: spd needs a square matrix: shape [M, in]",
        "input 'S' must end in two equal dims, e.g. [n, n]",
    ),
    "simplex-scalar": (
        "inputs:\n  p: {shape: [], domain: simplex}\n" + TAIL,
        "2:26: simplex needs at least one axis: shape []",
        None,
    ),
    "range-empty": (
        "inputs:\n  x: {shape: [], domain: {range: [1, 1]}}\n" + TAIL,
        "2:34: range of input 'x' is empty: [1.0, 1.0]",
        "write [low, high] with low < high",
    ),
    "integers-unknown-dim": (
        "dims: {k: 3}\ninputs:\n  y: {shape: [], domain: {integers: [0, kk]}}\n" + TAIL,
        "3:41: unknown dim 'kk' in the integers of input 'y'",
        "did you mean 'k'?",
    ),
    "dtype": (
        "inputs:\n  x: {shape: [], dtype: float16}\n" + TAIL,
        "2:25: dtype of input 'x' must be float64, float32 or complex128, got 'float16'",
        "did you mean 'float64'?",
    ),
    "complex-domain": (  # the hint says what `real` draws: uniform, not normal (samples.draw._signed)
        "inputs:\n  z: {shape: [], dtype: complex128, domain: unit}\n" + TAIL,
        "2:45: domain 'unit' is not defined for the complex128 input 'z'",
        "complex inputs draw both parts from: real (uniform on [-√3, √3]: mean 0, variance 1) or {range: [low, high]}",
    ),
    # define
    "define-key": (HEAD + "define:\n  h: x\n" + TAIL, "4:3: a define: key must look like 'name(x, y)', got 'h'", None),
    "define-builtin": (
        HEAD + "define:\n  exp(z): z\n" + TAIL,
        "4:3: define 'exp' would hide the built-in function 'exp'",
        "choose another name",
    ),
    "define-recursion": (
        HEAD + "define:\n  f(z): 2 * g(z)\n  g(z): f(z) + 1\n" + LOSS + CLAIM,
        "4:13: define 'f' calls itself (f -> g -> f)",
        "define: helpers cannot be recursive; write the expression out",
    ),
    "define-self": (
        HEAD + "define:\n  f(z): f(z)\n" + LOSS + CLAIM,
        "4:9: define 'f' calls itself (f -> f)",
        "define: helpers cannot be recursive; write the expression out",
    ),
    "define-arity": (
        HEAD + "define:\n  h(z): z\nloss: sum(h(x, x))\n" + CLAIM,
        "5:11: h(z) takes 1 argument, got 2",
        None,
    ),
    "define-unknown-name": (HEAD + "define:\n  h(z): z * w\n" + TAIL, "4:13: unknown name 'w'", None),
    # expressions
    "unknown-name": (
        "dims: {M: 2, in: 3, out: 2}\ninputs:\n  X: {shape: [M, in]}\n  Theta: {shape: [in, out]}\ngraph:\n  a: X @ Thta\n"
        + TAIL,
        "6:10: unknown name 'Thta'",
        "did you mean 'Theta'?",
    ),
    "later-node": (
        HEAD + "graph:\n  a: b + 1\n  b: x\n" + TAIL,
        "4:6: unknown name 'b'",
        "'b' is defined later in graph (line 5); a node may only use earlier nodes",
    ),
    "define-used-as-value": (
        HEAD + "define:\n  h(z): z\nloss: sum(h)\n" + CLAIM,
        "5:11: unknown name 'h'",
        "'h' is a define: helper; call it as h(z)",
    ),
    "node-through-define": (
        HEAD + "define:\n  h(z): z + b\ngraph:\n  a: h(x)\n  b: 2 * x\n" + TAIL,
        "6:6: graph node 'a' calls h, which uses node 'b'",
        "a node may only use earlier nodes, also through define: helpers",
    ),
    "expression-type": (
        HEAD + "loss: [x]\n" + CLAIM,
        "3:7: loss must be an expression (a string or a number), got a list",
        None,
    ),
    "parse-error-in-quoted-claim": (
        HEAD + LOSS + 'claims:\n  - name: g\n    wrt: x\n    gradient: "2 * x +"\n',
        "7:16: claim 'g': does not parse: invalid syntax",
        None,
    ),
    "python-ref": (
        HEAD + "loss: {python: mypkg.losses}\n" + CLAIM,
        "3:16: python must be 'module:function', got 'mypkg.losses'",
        'for example {python: "mypkg.losses:sse_grad"}',
    ),
    # claims
    "claim-unknown-key": (
        HEAD + LOSS + "claims:\n  - name: g\n    wrt: x\n    gradiant: 2 * x\n",
        "7:5: claim 'g': unknown key 'gradiant'",
        "did you mean 'gradient'?",
    ),
    "claim-no-name": (
        HEAD + LOSS + "claims:\n  - wrt: x\n    gradient: 2 * x\n",
        "5:5: a claim needs a name",
        "add name: ... as the claim's first key",
    ),
    "claim-no-body": (
        HEAD + LOSS + "claims:\n  - name: g\n    wrt: x\n",
        "5:5: claim 'g': needs one of gradient, vjp, jvp, hessian, hvp, jacobian",
        None,
    ),
    "claim-two-bodies": (
        HEAD + LOSS + "graph: {a: 2 * x}\nclaims:\n  - {name: g, wrt: x, gradient: 2 * x, vjp: G}\n",
        "6:40: claim 'g': has both gradient and vjp; a claim checks exactly one of gradient, vjp, jvp, hessian, hvp, jacobian",
        "split it into two claims",
    ),
    "duplicate-claim": (
        HEAD + LOSS + "claims:\n  - {name: g, wrt: x, gradient: 2 * x}\n  - {name: g, wrt: x, gradient: x}\n",
        "6:12: duplicate claim name 'g' (first at line 5)",
        None,
    ),
    "integer-wrt": (
        HEAD + LOSS + "claims:\n  - {name: g, wrt: [x, y], gradient: {python: 'm:f'}}\n",
        "5:24: claim 'g': 'y' has an integer domain and is not differentiated",
        "remove it from wrt",
    ),
    "unknown-wrt": (
        HEAD + LOSS + "claims:\n  - {name: g, wrt: xx, gradient: 2 * x}\n",
        "5:20: claim 'g': wrt 'xx' is not an input",
        "did you mean 'x'?",
    ),
    "wrt-type": (
        HEAD + LOSS + "claims:\n  - {name: g, wrt: {x: 1}, gradient: 2 * x}\n",
        "5:20: claim 'g': wrt must be a name or a list of names, got a mapping",
        None,
    ),
    "gradient-wrt-node": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: g, wrt: a, gradient: 1}\n",
        "6:20: claim 'g': 'a' is a graph node; a gradient claim is taken with respect to inputs",
        "to check a local derivative, write a vjp or jvp claim with wrt: a",
    ),
    "vjp-without-node": (
        HEAD + LOSS + "claims:\n  - {name: v, wrt: x, vjp: G}\n",
        "5:23: claim 'v': a vjp claim needs node: the graph node whose derivative it applies",
        None,
    ),
    "gradient-with-node": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: g, node: a, wrt: x, gradient: 2 * x}\n",
        "6:15: claim 'g': node is only for vjp, jvp and jacobian claims",
        "a gradient claim is always of the loss",
    ),
    "unknown-node": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: v, node: aa, wrt: x, vjp: G}\n",
        "6:21: claim 'v': unknown graph node 'aa'",
        "did you mean 'a'?",
    ),
    "wrt-after-node": (
        HEAD + "graph: {a: 2 * x, b: a + 1}\n" + LOSS + "claims:\n  - {name: v, node: a, wrt: b, vjp: G}\n",
        "6:29: claim 'v': wrt 'b' must come before node 'a' in graph",
        "a vjp or jvp claim differentiates a node with respect to an earlier one",
    ),
    "jacobian-wrt-after-node": (
        HEAD + "graph: {a: 2 * x, b: a + 1}\n" + LOSS + "claims:\n  - {name: j, node: a, wrt: b, jacobian: 1}\n",
        "6:29: claim 'j': wrt 'b' must come before node 'a' in graph",
        "a jacobian claim differentiates a node with respect to an earlier one",
    ),
    "hessian-with-node": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: h, node: a, wrt: x, hessian: 2}\n",
        "6:15: claim 'h': node is only for vjp, jvp and jacobian claims",
        "a hessian claim is always of the loss",
    ),
    "vjp-several-wrt": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: v, node: a, wrt: [x, x], vjp: G}\n",
        "6:29: claim 'v': a vjp claim takes exactly one wrt, got 2",
        "write one claim per wrt",
    ),
    "one-gradient-several-wrt": (
        "inputs: {x: {shape: []}, z: {shape: []}}\nloss: x * z\nclaims:\n  - {name: g, wrt: [x, z], gradient: z}\n",
        "4:38: claim 'g': one gradient expression cannot cover 2 wrt names",
        "write one expression per wrt: gradient: {x: ..., z: ...}",
    ),
    "gradient-mapping-missing": (
        "inputs: {x: {shape: []}, z: {shape: []}}\nloss: x * z\nclaims:\n  - {name: g, wrt: [x, z], gradient: {x: z}}\n",
        "4:38: claim 'g': gradient has no entry for 'z', which is in wrt",
        None,
    ),
    "gradient-mapping-extra": (
        "inputs: {x: {shape: []}, z: {shape: []}}\nloss: x * z\nclaims:\n  - {name: g, wrt: x, gradient: {x: z, zz: x}}\n",
        "4:40: claim 'g': gradient has an entry for 'zz', which is not in wrt",
        None,
    ),
    "cotangent-collision": (
        "inputs:\n  x: {shape: []}\n  G: {shape: []}\ngraph: {a: 2 * x}\nloss: a * G\nclaims:\n  - {name: v, node: a, wrt: x, vjp: G}\n",
        "7:32: claim 'v': cotangent name 'G' is already used by an input (line 3)",
        "rename it, e.g. cotangent: dG",
    ),
    "tangent-on-vjp": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: v, node: a, wrt: x, vjp: G, tangent: T}\n",
        "6:40: claim 'v': tangent is only for jvp and hvp claims",
        None,
    ),
    "cotangent-unknown-in-body": (
        HEAD + "graph: {a: 2 * x}\n" + LOSS + "claims:\n  - {name: v, node: a, wrt: x, vjp: 2 * G}\n",
        None,
        None,
    ),
    "expect": (
        HEAD + LOSS + "claims:\n  - {name: g, wrt: x, gradient: 2 * x, expect: failed}\n",
        "5:48: claim 'g': expect must be pass or fail, got 'failed'",
        "did you mean 'fail'?",
    ),
    # settings
    "settings-unknown": (
        HEAD + LOSS + CLAIM + "settings: {exampels: 3}\n",
        "5:12: unknown key 'exampels' in settings",
        "did you mean 'examples'?",
    ),
    "settings-negative": (
        HEAD + LOSS + CLAIM + "settings: {rtol: -1}\n",
        "5:18: settings rtol must be at least 0, got -1",
        None,
    ),
    "settings-int": (
        HEAD + LOSS + CLAIM + "settings: {examples: 2.5}\n",
        "5:22: settings examples must be an integer, got a number",
        None,
    ),
    "settings-bool": (
        HEAD + LOSS + CLAIM + "settings: {atol: true}\n",
        "5:18: settings atol must be a number, got a boolean",
        None,
    ),
}


@pytest.mark.parametrize("text, first_line, hint", CASES.values(), ids=CASES.keys())
def test_error(text, first_line, hint):
    if first_line is None:  # a valid spec among the cases, to keep them honest
        load_spec_text(text, PATH)
        return
    with pytest.raises(SpecError) as info:
        load_spec_text(text, PATH)
    error = info.value
    if isinstance(error, SpecErrors):  # the case's error is the first; later ones follow it
        assert str(error).startswith(str(error.errors[0]) + "\n")
        error = error.errors[0]
    assert isinstance(error, (SchemaError, ExpressionError))
    lines = str(error).splitlines()
    assert lines[0] == f"{PATH}:{first_line}"
    assert error.hint == hint
    assert error.location is not None and error.location.file == PATH


def test_expression_errors_are_located_at_the_column():
    text = HEAD + LOSS + 'claims:\n  - name: g\n    wrt: x\n    gradient: "2 * x +"\n'
    with pytest.raises(ExpressionError) as info:
        load_spec_text(text, PATH)
    error = info.value
    assert error.claim == "g"
    # the quote is at column 15, so the text starts at 16; the error is at the end
    assert error.location == at(7, 16 + error.span[0])
    assert error.source == "2 * x +"


def test_unknown_name_shows_the_source_with_carets():
    text = HEAD + LOSS + "claims:\n  - {name: g, wrt: x, gradient: 2 * xx}\n"
    with pytest.raises(ExpressionError) as info:
        load_spec_text(text, PATH)
    assert str(info.value).splitlines() == [
        f"{PATH}:5:37: claim 'g': unknown name 'xx'",
        "  2 * xx",
        "      ^^",
        "  did you mean 'x'?",
    ]


def test_error_in_a_block_scalar_points_into_its_lines():
    text = HEAD + "loss: |\n  sum(x ** 2)\n  + zz\n" + CLAIM
    with pytest.raises(ExpressionError) as info:
        load_spec_text(text, PATH)
    assert info.value.location == at(5, 5)


def test_float_strings_and_yaml12_floats():
    spec = load_spec_text(HEAD + LOSS + CLAIM + "settings: {rtol: '1e-6', atol: 1e-12}\n", PATH)
    assert spec.settings.rtol == 1e-6 and spec.settings.atol == 1e-12


def test_keyword_dims_are_only_for_shapes():
    text = "dims: {in: 3}\ninputs: {x: {shape: [in]}}\nloss: sum(x)\n" + CLAIM
    assert load_spec_text(text, PATH).inputs["x"].shape == ("in",)
