"""Claims about complex parameters: the convention, the two usual mistakes, the oracle."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gradcheck.api import check_gradient
from gradcheck.errors import SchemaError
from gradcheck.options import RunOptions
from gradcheck.run import run

SPEC = """\
spec: clsq
dims: {M: [4, 6], n: [2, 3]}
inputs:
  A: {shape: [M, n]}
  b: {shape: [M], dtype: complex128}
  z: {shape: [n], dtype: complex128}
graph:
  r: A @ z - b
loss: 0.5 * sum(abs(r) ** 2)
claims:
  - {name: right, wrt: z, gradient: A.T @ r}
  - {name: right-b, wrt: b, gradient: b - A @ z}
  - {name: wirtinger, wrt: z, gradient: 0.5 * A.T @ r, expect: fail}
  - {name: wrong, wrt: z, gradient: A.T @ r + z * z, expect: fail}
"""

FD_NOTE = (
    "complex inputs (b, z): finite differences on the real and imaginary parts "
    "(the complex step needs the imaginary unit that complex inputs already use)"
)


ERROR_BARS = (
    r"the finite-difference error bars reach [0-9.e+-]+ \(absolute, on a directional derivative\); "
    r"the tolerance adds them"
)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    path = tmp_path_factory.mktemp("c") / "clsq.yaml"
    path.write_text(SPEC)
    result = run([str(path)], RunOptions(seed=1, examples=6))
    assert not result.failures, result.failures
    return {v.claim: v for v in result.verdicts}


def test_the_torch_convention_passes_in_a_spec(verdicts):
    for name in ("right", "right-b"):
        v = verdicts[name]
        assert v.label == "pass", (v.diagnosis, v.lines)
        assert v.oracle == "finite-difference"
        assert FD_NOTE in v.notes
        bars = [n for n in v.notes if re.fullmatch(ERROR_BARS, n)]
        assert len(bars) == 1, v.notes


def test_the_missing_factor_2_is_named_in_a_spec(verdicts):
    v = verdicts["wirtinger"]
    assert v.label == "scaled" and v.factor == 0.5
    assert v.diagnosis == (
        "scaled: the claim is 0.5 x the gradient on every entry (factor 0.5): "
        "the Wirtinger derivative ∂L/∂conj(z) without its factor 2"
    )


def test_another_wrong_claim_is_wrong_with_the_parts_named(verdicts):
    v = verdicts["wrong"]
    assert v.label == "wrong"
    assert "index [0, ...] is the real part of z, [1, ...] its imaginary part" in v.lines


def _loss(A, b, z):
    return 0.5 * np.sum(np.abs(A @ z - b) ** 2)


def _torch_convention(A, b, z):
    return A.conj().T @ (A @ z - b)


INPUTS = {
    "A": {"shape": "M n", "dtype": "complex128"},
    "b": {"shape": "M", "dtype": "complex128"},
    "z": {"shape": "n", "dtype": "complex128"},
}


def _check(gradient, **kwargs):
    kwargs = {"wrt": "z", "inputs": INPUTS, "dims": {"M": 5, "n": 3}, "seed": 1, "examples": 4, **kwargs}
    return check_gradient(_loss, gradient, **kwargs).verdict


def test_the_api_takes_complex_inputs():
    assert _check(_torch_convention).label == "pass"


def test_the_conjugate_is_its_own_verdict():
    v = _check(lambda A, b, z: np.conj(_torch_convention(A, b, z)))
    assert v.label == "conjugated"
    assert v.diagnosis == "conjugated: the claim is conj(the gradient) on every entry"
    assert v.lines[0] == (
        "gradcheck takes the gradient of a real loss as torch returns it, ∂L/∂Re z + i ∂L/∂Im z "
        "(= 2 ∂L/∂conj(z)); jax's grad returns its conjugate (gradcheck.adapters.jax converts it): conj() the claim"
    )


def test_the_wirtinger_derivative_is_named():
    v = _check(lambda A, b, z: np.conj(_torch_convention(A, b, z)) / 2)
    assert v.label == "conjugated" and v.factor == 0.5
    assert (
        v.diagnosis == "conjugated: the claim is conj(the gradient) / 2 on every entry: the Wirtinger derivative ∂L/∂z"
    )
    assert v.lines[0] == (
        "the gradient of a real loss is 2 conj(∂L/∂z) = ∂L/∂Re z + i ∂L/∂Im z: conjugate the claim and double it"
    )


def test_the_half_gradient_is_the_conjugate_wirtinger_derivative():
    v = _check(lambda A, b, z: _torch_convention(A, b, z) / 2)
    assert v.label == "scaled" and v.factor == 0.5
    assert v.diagnosis.endswith(": the Wirtinger derivative ∂L/∂conj(z) without its factor 2")


def test_a_real_parameter_beside_complex_data():
    def loss(w, z):
        return np.sum(np.abs(w * z) ** 2)

    def grad(w, z):
        return 2 * w * np.abs(z) ** 2

    inputs = {"w": "n", "z": {"shape": "n", "dtype": "complex128"}}
    v = check_gradient(loss, grad, wrt="w", inputs=inputs, dims={"n": 3}, seed=1, examples=4).verdict
    assert v.label == "pass", (v.diagnosis, v.lines)
    v = check_gradient(loss, lambda w, z: grad(w, z) * 2, wrt="w", inputs=inputs, dims={"n": 3}, seed=1, examples=4)
    assert v.verdict.label == "scaled" and "Wirtinger" not in v.verdict.diagnosis


def test_a_loss_that_is_not_real_is_refused():
    v = check_gradient(
        lambda z: np.sum(z * z), lambda z: 2 * z, wrt="z", inputs={"z": INPUTS["z"]}, dims={"n": 3}, seed=1, examples=3
    ).verdict
    assert v.label == "error"
    assert re.fullmatch(
        r"the loss raised ValueError: the loss is not real-valued at complex inputs \(imaginary part [0-9.e+-]+\): "
        r"a gradient of a complex parameter is defined for a real loss, e\.g\. sum\(abs\(r\) \*\* 2\)",
        v.rejected_reason,
    ), v.rejected_reason


def test_a_claim_of_another_shape_names_the_complex_parameter_s_shape():
    v = _check(lambda A, b, z: np.outer(z, z))
    assert v.label == "shape-mismatch"
    assert v.diagnosis == "claimed gradient has shape (n, n) = (3, 3) but z has shape (n,) = (3,)   [M=5 n=3]"


def test_the_api_refuses_a_domain_complex_inputs_do_not_have():
    with pytest.raises(SchemaError) as info:
        check_gradient(_loss, _torch_convention, wrt="z", inputs={**INPUTS, "z": {**INPUTS["z"], "domain": "positive"}})
    assert info.value.message == "domain 'positive' is not defined for the complex128 input 'z'"


def test_given_complex_points_are_checked_as_complex_parameters():
    rng = np.random.default_rng(4)
    point = {
        "A": rng.standard_normal((4, 2)) + 1j * rng.standard_normal((4, 2)),
        "b": rng.standard_normal(4) + 1j * rng.standard_normal(4),
        "z": rng.standard_normal(2) + 1j * rng.standard_normal(2),
    }
    right = check_gradient(_loss, _torch_convention, wrt="z", at=[point], seed=1).verdict
    assert right.label == "pass", (right.diagnosis, right.lines)
    conj = check_gradient(_loss, lambda A, b, z: np.conj(_torch_convention(A, b, z)), wrt="z", at=[point], seed=1)
    assert conj.verdict.label == "conjugated"


def test_the_conjugated_label_crosses_the_xdist_channel():
    # the pytest plugin sends ("gradcheck_verdict", str(verdict.label)) from a worker to the controller
    gateway_base = pytest.importorskip("execnet.gateway_base")
    v = _check(lambda A, b, z: np.conj(_torch_convention(A, b, z)))
    assert gateway_base.loads(gateway_base.dumps(("gradcheck_verdict", v.label))) == (
        "gradcheck_verdict",
        "conjugated",
    )


ORDERED_SPEC = """\
spec: ordered
dims: {n: [2, 3]}
inputs:
  z: {shape: [n], dtype: complex128}
loss: sum(relu(z))
claims:
  - {name: g, wrt: z, gradient: z}
"""


def test_an_ordering_function_of_complex_data_is_the_spec_s_error_not_gradcheck_s(tmp_path: Path):
    # complex_kernels refuses relu(z) on purpose: the user's graph, not a bug to report
    spec = tmp_path / "ordered.yaml"
    spec.write_text(ORDERED_SPEC)
    (v,) = run([str(spec)], RunOptions(seed=1, examples=3)).verdicts
    assert v.label == "error"
    assert "internal error" not in v.diagnosis, v.diagnosis
    assert v.rejected_reason == (
        "the loss raised ValueError: relu() needs real arguments: complex numbers have no order; "
        "apply it to abs() of the complex value"
    ), v.rejected_reason
