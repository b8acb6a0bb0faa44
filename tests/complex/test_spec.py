"""Complex inputs in a spec: ``dtype: complex128``, the domains it allows, the claims it allows."""

from __future__ import annotations

import pytest

from gradcheck.errors import SpecError
from gradcheck.spec.load import load_spec_text

HEAD = """\
spec: c
dims: {n: 3}
inputs:
  z: {shape: [n], dtype: complex128%s}
loss: sum(abs(z) ** 2)
"""
GRADIENT = "claims:\n  - {name: g, wrt: z, gradient: 2 * z}\n"


def test_complex128_is_a_dtype():
    spec = load_spec_text(HEAD % "" + GRADIENT, "c.yaml")
    assert spec.inputs["z"].dtype == "complex128"


def test_range_domain_is_allowed_for_both_parts():
    spec = load_spec_text(HEAD % ", domain: {range: [-1, 1]}" + GRADIENT, "c.yaml")
    assert spec.inputs["z"].domain.kind == "range"


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "c.yaml")
    return info.value


def test_a_real_only_domain_is_refused_for_complex_inputs():
    err = _error(HEAD % ", domain: positive" + GRADIENT)
    assert str(err).splitlines() == [
        "c.yaml:4:46: domain 'positive' is not defined for the complex128 input 'z'",
        "  complex inputs draw both parts from: real (uniform on [-√3, √3]: mean 0, variance 1) or {range: [low, high]}",
    ]


def test_dtype_error_names_complex128():
    err = _error(HEAD.replace("complex128%s", "complex64") + GRADIENT)
    assert str(err).splitlines()[0] == (
        "c.yaml:4:26: dtype of input 'z' must be float64, float32 or complex128, got 'complex64'"
    )


def test_vjp_claims_are_refused_when_the_spec_has_complex_inputs():
    text = (HEAD % "").replace("loss:", "graph:\n  a: z * z\nloss:").replace("abs(z) ** 2", "abs(a)")
    err = _error(text + "claims:\n  - {name: v, node: a, wrt: z, vjp: 2 * z * G}\n")
    assert str(err).splitlines() == [
        "c.yaml:9:6: claim 'v': vjp claims are not supported when the spec has complex inputs (z)",
        "  write a gradient claim of the real-valued loss instead",
    ]
