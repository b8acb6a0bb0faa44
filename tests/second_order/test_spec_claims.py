"""hessian, hvp and jacobian claims in spec files: reading, shapes, verdicts and their messages."""

from __future__ import annotations

import pytest

from gradcheck.errors import SpecError
from gradcheck.options import RunOptions
from gradcheck.problem.build import build_problem
from gradcheck.run import run
from gradcheck.spec.load import load_spec_text
from gradcheck.verdict.model import Label

QUADRATIC = """\
spec: quad
dims: {{n: [2, 5]}}
inputs:
  x: {{shape: [n]}}
  A: {{shape: [n, n]}}
loss: "0.5 * x @ A @ x + sum(exp(x))"
claims:
{claims}
"""

TANH = """\
spec: layer
dims: {{M: [2, 4], n: [2, 5]}}
inputs:
  x: {{shape: [n]}}
  W: {{shape: [M, n]}}
graph:
  a: tanh(W @ x)
loss: sum(a ** 2)
claims:
{claims}
"""


def _verdicts(tmp_path, template, claims, examples=10):
    path = tmp_path / "spec.yaml"
    path.write_text(template.format(claims=claims))
    result = run([str(path)], RunOptions(seed=1, examples=examples))
    assert not result.failures, result.failures
    return {v.claim: v for v in result.verdicts}


def test_correct_hvp_and_hessian_claims_pass(tmp_path):
    v = _verdicts(
        tmp_path,
        QUADRATIC,
        """\
  - {name: hvp, wrt: x, hvp: "0.5 * (A + A.T) @ V + exp(x) * V"}
  - {name: hvp-renamed, wrt: x, tangent: dx, hvp: "0.5 * (A + A.T) @ dx + exp(x) * dx"}
  - {name: hessian, wrt: x, hessian: "0.5 * (A + A.T) + diag(exp(x))"}
""",
    )
    assert {name: x.label for name, x in v.items()} == {"hvp": "pass", "hvp-renamed": "pass", "hessian": "pass"}
    assert v["hvp"].kind == "hvp" and v["hessian"].kind == "hessian"
    assert v["hvp"].what == "hvp of the loss wrt x"
    assert v["hessian"].expected_shape == "(n, n)"
    assert any("derived, verified gradient" in n for n in v["hvp"].notes)


def test_a_scaled_hvp_is_diagnosed_with_its_factor(tmp_path):
    v = _verdicts(
        tmp_path, QUADRATIC, '  - {name: twice, wrt: x, hvp: "(A + A.T) @ V + 2 * exp(x) * V", expect: fail}\n'
    )
    assert v["twice"].label == "scaled"
    assert v["twice"].diagnosis == "scaled: the claim is 2 x the true hvp (H V) on every entry (factor 2)"


def test_a_sign_flipped_hessian(tmp_path):
    v = _verdicts(
        tmp_path, QUADRATIC, '  - {name: neg, wrt: x, hessian: "-0.5 * (A + A.T) - diag(exp(x))", expect: fail}\n'
    )
    assert v["neg"].label == "sign-flipped"


def test_a_hessian_that_is_not_symmetric_says_so_and_how_to_fix_it(tmp_path):
    """The classic: the Hessian of x^T A x / 2 written as A (it is (A + A^T) / 2)."""
    v = _verdicts(tmp_path, QUADRATIC, '  - {name: nonsym, wrt: x, hessian: "A + diag(exp(x))", expect: fail}\n')
    verdict = v["nonsym"]
    assert verdict.label == "wrong"
    assert verdict.label is Label.WRONG  # an enum: the one serializer sends plain values to pytest-xdist
    assert verdict.diagnosis.startswith("not symmetric where it must be: claimed [")
    assert verdict.diagnosis.endswith("(the Hessian of a twice-differentiable loss is symmetric)")
    assert verdict.lines == ("its symmetric part (C + C^T) / 2 is the Hessian: symmetrize the claim",)


def test_a_wrong_hessian_names_its_entries(tmp_path):
    v = _verdicts(tmp_path, QUADRATIC, '  - {name: nodiag, wrt: x, hessian: "0.5 * (A + A.T)", expect: fail}\n')
    verdict = v["nodiag"]
    assert verdict.label == "wrong"
    assert verdict.diagnosis.startswith("wrong: ")
    assert verdict.entries, "the worst entries of the full Hessian"
    assert all(len(e.index) == 2 and e.index[0] == e.index[1] for e in verdict.entries)  # the missing diag(exp(x))


def test_a_hessian_of_the_wrong_shape_is_refused_in_the_users_symbols(tmp_path):
    v = _verdicts(tmp_path, QUADRATIC, '  - {name: vec, wrt: x, hessian: "A @ x", expect: fail}\n')
    assert v["vec"].label == "shape-mismatch"
    assert v["vec"].diagnosis == "claimed hessian has shape (n,) but the Hessian of the loss wrt x has shape (n, n)"
    assert v["vec"].lines[0] == "a Hessian's axes are x's (n,) twice"
    assert v["vec"].repair is None


def test_jacobian_claims(tmp_path):
    v = _verdicts(
        tmp_path,
        TANH,
        """\
  - {name: ok, node: a, wrt: x, jacobian: "(1 - a ** 2)[:, None] * W"}
  - {name: ok-W, node: a, wrt: W, jacobian: "einsum('i,ij,k->ijk', 1 - a ** 2, eye(M), x)"}
  - {name: sign, node: a, wrt: x, jacobian: "-(1 - a ** 2)[:, None] * W", expect: fail}
  - {name: T, node: a, wrt: x, jacobian: "((1 - a ** 2)[:, None] * W).T", expect: fail}
""",
    )
    assert v["ok"].label == "pass" and v["ok-W"].label == "pass"
    assert v["ok"].what == "jacobian of node a wrt x"
    assert v["sign"].diagnosis == "sign-flipped: the claim is -1 x the true Jacobian on every entry"
    assert v["T"].label == "shape-mismatch"
    assert v["T"].diagnosis == "claimed jacobian has shape (n, M) but the Jacobian of node a wrt x has shape (M, n)"
    assert v["T"].lines[0] == "a Jacobian's axes are node a's (M,), then x's (n,)"


HEAD = "dims: {n: 3}\ninputs: {x: {shape: [n]}}\ngraph: {a: 2 * x}\nloss: sum(x ** 3)\nclaims:\n"


@pytest.mark.parametrize(
    "claim, message",
    [
        ("{name: h, node: a, wrt: x, hessian: x}", "6:15: claim 'h': node is only for vjp, jvp and jacobian claims"),
        (
            "{name: h, wrt: a, hvp: V}",
            "6:20: claim 'h': 'a' is a graph node; a hvp claim is taken with respect to inputs",
        ),
        (
            "{name: j, wrt: x, jacobian: x}",
            "6:23: claim 'j': a jacobian claim needs node: the graph node whose derivative it applies",
        ),
        ("{name: h, wrt: x, hessian: x, tangent: T}", "6:35: claim 'h': tangent is only for jvp and hvp claims"),
        (
            "{name: h, wrt: x, hessian: x, hvp: V}",
            "6:35: claim 'h': has both hessian and hvp; a claim checks exactly one of gradient, vjp, jvp, hessian, hvp, jacobian",
        ),
        ("{name: h, wrt: [x, x], hvp: V}", "6:20: claim 'h': a hvp claim takes exactly one wrt, got 2"),
    ],
)
def test_claim_errors_of_the_new_kinds(claim, message):
    with pytest.raises(SpecError) as info:
        load_spec_text(HEAD + "  - " + claim + "\n", "t.yaml")
    assert message in str(info.value)


def test_the_tangent_of_an_hvp_has_the_wrt_shape():
    spec = load_spec_text(HEAD + '  - {name: h, wrt: x, hvp: "6 * x * V @ V"}\n', "t.yaml")
    plan = build_problem(spec).plans[0]
    assert plan.static is not None
    assert plan.static.lines[0] == "claimed hvp has shape () but x has shape (n,)"


PYTHON_LOSS = """\
spec: python-loss
dims: {n: [3, 5]}
inputs:
  x: {shape: [n]}
  A: {shape: [n, n]}
loss: {python: "hvp_loss:loss"}
claims:
  - {name: right, wrt: x, hvp: "0.5 * (A + A.T) @ V + exp(x) * V"}
  - {name: right-hessian, wrt: x, hessian: "0.5 * (A + A.T) + diag(exp(x))"}
  - {name: off, wrt: x, hvp: "1.000001 * (0.5 * (A + A.T) @ V + exp(x) * V)", expect: fail}
"""

INDEXED = """\
spec: indexed
dims: {n: [3, 5]}
inputs:
  x: {shape: [n]}
loss: "sum(x[0:2] ** 3) + sum(exp(x))"
claims:
  - {name: right, wrt: x, hvp: "concatenate((6 * x[0:2], zeros((n - 2,)))) * V + exp(x) * V"}
  - {name: off, wrt: x, hvp: "1.000001 * (concatenate((6 * x[0:2], zeros((n - 2,)))) * V + exp(x) * V)", expect: fail}
"""


def test_a_python_loss_gets_finite_differences_of_its_complex_step(tmp_path):
    (tmp_path / "hvp_loss.py").write_text(
        "import numpy as np\n\ndef loss(x, A):\n    return 0.5 * x @ A @ x + np.sum(np.exp(x))\n"
    )
    v = _verdicts(tmp_path, "{claims}", PYTHON_LOSS)
    assert v["right"].label == "pass" and v["right-hessian"].label == "pass"
    assert v["off"].label == "scaled"
    assert (
        "reference: finite differences of the complex step of the loss along V (the loss is Python code), "
        "with their error bar"
    ) in v["right"].notes


def test_a_loss_without_a_derived_gradient_gets_finite_differences(tmp_path):
    v = _verdicts(tmp_path, "{claims}", INDEXED)
    assert v["right"].label == "pass"
    assert v["off"].label == "scaled"
    assert any(
        n.startswith(
            "reference: finite differences of the complex step of the loss along V (the loss's gradient "
            "cannot be derived: "
        )
        for n in v["right"].notes
    ), v["right"].notes
    # why finite differences, said as a design, not as code that failed the complex step
    assert (
        "the reference is a complex step of the loss along V, so its gradient is taken at real points; "
        "finite differences used"
    ) in v["right"].notes, v["right"].notes


def test_a_hessian_that_is_not_symmetric_is_told_so_with_a_python_loss_too(tmp_path):
    (tmp_path / "hvp_loss.py").write_text(
        "import numpy as np\n\ndef loss(x, A):\n    return 0.5 * x @ A @ x + np.sum(np.exp(x))\n"
    )
    claim = '  - {name: nonsym, wrt: x, hessian: "A + diag(exp(x))", expect: fail}\n'
    v = _verdicts(tmp_path, "{claims}", PYTHON_LOSS.split("claims:")[0] + "claims:\n" + claim)
    assert v["nonsym"].label == "wrong"
    assert v["nonsym"].diagnosis.startswith("not symmetric where it must be: claimed [")
    assert v["nonsym"].lines == ()  # without the exact Hessian, no claim about its symmetric part


def test_a_tangent_over_the_evaluation_budget_is_an_error_verdict_that_says_why(tmp_path):
    inputs = "".join(f"  {name}: {{shape: [n, n]}}\n" for name in "xabc")
    text = (
        "dims: {n: 100}\ninputs:\n" + inputs + "loss: sum(x ** 3) + sum(a * b * c)\nclaims:\n"
        "  - {name: h, wrt: x, hvp: 6 * x * V}\nsettings: {max_elements: 10000}\n"
    )
    (tmp_path / "big.yaml").write_text(text)
    (v,) = run([str(tmp_path / "big.yaml")], RunOptions(seed=1, examples=2)).verdicts
    assert v.label == "error"
    assert v.diagnosis == (
        "the hvp claim cannot be checked: one evaluation would hold up to 50000 elements in its inputs and nodes "
        "(budget 40000 = 4 x settings.max_elements); the largest is 'x' with 10000"
    )
    assert v.lines[-1] == "the check draws a tangent V of x's shape beside the inputs: it counts toward the budget"


MATRIX = """\
spec: matrix
dims: {{M: [2, 5], in: [2, 4], out: [2, 4]}}
inputs:
  X: {{shape: [M, in]}}
  W: {{shape: [in, out]}}
loss: 0.5 * sum((X @ W) ** 2)
claims:
{claims}
"""


def test_the_hessian_of_a_matrix_input_has_four_axes(tmp_path):
    v = _verdicts(
        tmp_path,
        MATRIX,
        """\
  - {name: right, wrt: W, hessian: "einsum('ik,jl->ijkl', X.T @ X, eye(out))"}
  - {name: hvp, wrt: W, hvp: "X.T @ X @ V"}
  - {name: two-axes, wrt: W, hessian: "X.T @ X", expect: fail}
  - {name: swapped-pairs, wrt: W, hessian: "einsum('ik,jl->ikjl', X.T @ X, eye(out))", expect: fail}
""",
    )
    assert v["right"].label == "pass" and v["hvp"].label == "pass"
    assert v["right"].expected_shape == "(in, out, in, out)"
    assert v["two-axes"].diagnosis == (
        "claimed hessian has shape (in, in) but the Hessian of the loss wrt W has shape (in, out, in, out)"
    )
    assert v["two-axes"].lines[0] == "a Hessian's axes are W's (in, out) twice"
    assert v["swapped-pairs"].label == "shape-mismatch"


SQUARE = """\
spec: square
dims: {{n: [3, 5]}}
inputs:
  x: {{shape: [n]}}
  W: {{shape: [n, n]}}
graph:
  a: tanh(W @ x)
loss: sum(a ** 2)
claims:
{claims}
"""


def test_a_transposed_square_jacobian_is_named_and_a_wrong_one_says_where(tmp_path):
    v = _verdicts(
        tmp_path,
        SQUARE,
        """\
  - {name: T, node: a, wrt: x, jacobian: "((1 - a ** 2)[:, None] * W).T", expect: fail}
  - {name: diag, node: a, wrt: x, jacobian: "diag(1 - a ** 2)", expect: fail}
""",
    )
    assert v["T"].label == "transposed"
    assert v["T"].diagnosis == (
        "transposed: the claim equals the transpose of the true Jacobian (the Jacobian of node a wrt x is square, (n, n))"
    )
    assert v["diag"].label == "wrong"
    assert len(v["diag"].entries[0].index) == 2  # an entry of the Jacobian [i, j], not of J V


def test_a_python_loss_that_is_not_complex_step_safe_gets_central_differences_along_v(tmp_path):
    """math.exp casts a complex x to real (a ComplexWarning; the imaginary part is dropped): <V, grad L>
    falls back to a central difference along V, and the claims are still judged (the right ones pass,
    1.000001 x is caught as scaled)."""
    (tmp_path / "hvp_loss.py").write_text(
        "import math\nimport numpy as np\n\ndef loss(x, A):\n    return 0.5 * x @ A @ x + sum(math.exp(t) for t in x)\n"
    )
    v = _verdicts(tmp_path, "{claims}", PYTHON_LOSS)
    assert v["right"].label == "pass" and v["right-hessian"].label == "pass", (
        v["right"].diagnosis,
        v["right-hessian"].diagnosis,
    )
    assert v["off"].label == "scaled", v["off"].diagnosis
