"""Derive over the gallery and the corpus (every derived gradient verified), the printer's
round trip, the backward chain, the numpy backward pass, and the `gradcheck derive` command."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from gradcheck.derive import derive_problem
from gradcheck.derive.algebra import key
from gradcheck.derive.command import derive_command
from gradcheck.derive.numpy_code import backward_function
from gradcheck.derive.printer import to_text
from gradcheck.derive.verify import verify_derivation
from gradcheck.examine import CheckSettings
from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.options import RunOptions
from gradcheck.run import read_problem

ROOT = Path(__file__).resolve().parents[2]
GALLERY = sorted((ROOT / "specs").glob("*.yaml"))
CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "repair" / "corpus").glob("*.yaml")
)


@pytest.mark.parametrize("path", GALLERY + CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_derived_gradient_verifies(path):
    problem = read_problem(str(path))
    derivation = derive_problem(problem)
    checked = verify_derivation(problem, derivation, CheckSettings(examples=5, seed=7))
    for name, c in checked.items():
        assert c.verified, f"{path.name}: d/d{name} = {c.text}: {c.problem}"
    if path.parent.name == "specs":  # the gallery is expression-only: everything derives
        assert all(a.expr is not None for a in derivation.inputs.values()), {
            n: a.reason for n, a in derivation.inputs.items() if a.expr is None
        }
        assert len(checked) == len(derivation.inputs)


@pytest.mark.parametrize(
    "text",
    [
        "a - (b - c)",
        "a * (b * c)",
        "-(a * b)",
        "-a * b",
        "(-a) ** 2",
        "a ** -b",
        "(c * d) @ W",
        "c * (d @ W)",
        "X.T @ (c * -dh(a))",
        "sum(G, axis=(0, 1), keepdims=True)",
        "G[:, None] * softmax(Z, axis=0)",
        "where(x > 0, 1, -1)",
        'einsum("ij,jk->ik", A, B)',
        "(a + b).T",
        "-1 / M",
        "lp[arange(M), y]",
        "x[0, :, arange(n)][:, None]",
        "transpose(x, (1, 0, 2)) + pad(x, ((1, 0), (0, n)))",
        'einsum("...ij,...j->...i", A, b)',
    ],
)
def test_printer_round_trips(text):
    callables = WHITELIST | {"dh"}
    expr = parse(text, callables)
    assert key(parse(to_text(expr), callables)) == key(expr)


def test_seed_spec_chain_is_the_scalar_chain_rule_in_matrix_steps():
    derivation = derive_problem(read_problem(str(ROOT / "specs" / "least_squares.yaml")))
    chain = {s.name: (s.step_text, s.shape_text) for s in derivation.steps}
    assert chain == {
        "c": ("c", "(M, out)"),
        "b": ("-dL/dc", "(M, out)"),
        "a": ("dL/db * dh(a)", "(M, out)"),
    }
    theta = derivation.inputs["Theta"]
    assert (theta.step_text, theta.shape_text) == ("X.T @ dL/da", "(in, out)")
    assert theta.text == "-(X.T @ (c * dh(a)))"  # the user's helper dh and node c, not sigmoid(...)


def test_integer_inputs_are_skipped_with_a_reason():
    derivation = derive_problem(read_problem(str(ROOT / "specs" / "softmax_cross_entropy.yaml")))
    assert derivation.skipped == {"y": "integer input (labels are never differentiated)"}


def test_numpy_backward_pass_computes_the_derived_gradients():
    problem = read_problem(str(ROOT / "specs" / "least_squares.yaml"))
    derivation = derive_problem(problem)
    code = backward_function(problem, derivation)
    namespace: dict = {}
    exec(compile(code, "<derived>", "exec"), namespace)  # our own generated code, in a test
    rng = np.random.default_rng(0)
    X, Y, Theta = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rng.standard_normal((3, 2))
    grads = namespace["backward"](X, Y, Theta)
    values = {"X": X, "Y": Y, "Theta": Theta}
    nodes = {}
    helpers = problem.defines
    for g in problem.spec.graph:
        nodes[g.name] = evaluate(g.body.expr, {**values, **nodes}, helpers)
    for name, adjoint in derivation.inputs.items():
        expected = evaluate(adjoint.expr, {**values, **nodes}, helpers)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-12, atol=1e-14)


def test_derive_command_prints_verified_claims_and_the_chain():
    out = io.StringIO()
    code = derive_command(
        [str(ROOT / "specs" / "least_squares.yaml")],
        RunOptions(seed=1, examples=5),
        wrt=(),
        steps=True,
        numpy=False,
        out=out,
    )
    text = out.getvalue()
    assert code == 0
    assert "#   dL/da = dL/db * dh(a)    (M, out)" in text
    assert "#   dL/dTheta = X.T @ dL/da  (in, out)" in text
    assert '- {name: derived-Theta, wrt: Theta, gradient: "-(X.T @ (c * dh(a)))"}   # verified on 5 examples' in text


def test_derive_command_reports_a_failing_derivation_as_a_bug(monkeypatch):
    from gradcheck.derive import rules
    from gradcheck.derive.algebra import mul

    monkeypatch.setitem(rules.RULES, "sigmoid", lambda node, i, G, ctx: mul(G, node))  # sigmoid' = sigmoid: wrong
    out = io.StringIO()
    code = derive_command(
        [str(ROOT / "specs" / "least_squares.yaml")],
        RunOptions(seed=1, examples=3),
        wrt=("Theta",),
        steps=False,
        numpy=False,
        out=out,
    )
    assert code == 1
    assert "Theta: BUG in gradcheck's derivation" in out.getvalue()
    assert "derived-Theta" not in out.getvalue()


def test_derive_from_the_command_line():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "derive", "specs/least_squares.yaml", "--wrt", "Theta"]
        + ["--examples", "3", "--seed", "1", "--numpy"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        '- {name: derived-Theta, wrt: Theta, gradient: "-(X.T @ (c * dh(a)))"}   # verified on 3 examples'
        in proc.stdout
    )
    assert "def backward(X, Y, Theta):" in proc.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "derive", "no/such.yaml"], capture_output=True, text=True, cwd=ROOT
    )
    assert missing.returncode == 2 and "no/such.yaml" in missing.stderr and "Traceback" not in missing.stderr
