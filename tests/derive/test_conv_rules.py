"""Convolution and pooling backward passes that the expression language cannot write are reported
as not derivable, with a reason that says what to write instead (pinned here)."""

from __future__ import annotations

import pytest

from gradcheck.derive import derive_problem
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

SPEC = """
dims: {{N: [1, 2], C: [1, 3], F: [2, 4], h: [2, 4], k: [2, 3]}}
inputs:
  X: {{shape: [{x}]}}
  K: {{shape: [{w}]}}
graph:
  Y: "{expression}"
loss: sum(Y * Y)
claims:
  - {{name: g, wrt: X, gradient: X}}
"""


def reason(x: str, w: str, expression: str) -> str:
    problem = build_problem(load_spec_text(SPEC.format(x=x, w=w, expression=expression), "c.yaml"))
    adjoint = derive_problem(problem).inputs["X"]
    assert adjoint.expr is None
    return adjoint.reason


@pytest.mark.parametrize(
    "w, expression",
    [("F, C, k, 3", "conv2d(X, K, padding='same')"), ("F, C, 2, 3", "conv2d(X, K, padding='same')")],
)
def test_same_padding_with_a_symbolic_or_even_kernel_is_not_derivable(w, expression):
    assert "conv2d(padding='same') with a kernel size that is a dim or even (torch pads the odd one after: " in (
        reason("N, C, 2*h, 2*h", w, expression)
    )
    assert reason("N, C, 2*h, 2*h", w, expression).endswith("write padding= as a number)")


def test_max_pooling_with_overlapping_windows_is_not_derivable():
    text = reason("N, C, 2*h + 1, 2*h + 1", "F, C, 3, 3", "max_pool2d(X, 3, stride=2)")
    assert "max_pool2d() with a stride= other than the pool size (overlapping or gapped windows)" in text


def test_a_pool_size_written_as_an_expression_is_not_derivable():
    text = reason("N, C, 2*h, 2*h", "F, C, 3, 3", "avg_pool2d(X, 1 + 1)")
    assert "avg_pool2d() with a pool size written as an expression (write the integer)" in text


def test_same_padding_with_an_odd_kernel_derives():
    text = SPEC.format(x="N, C, 2*h, 2*h", w="F, C, 3, 3", expression="conv2d(X, K, padding='same')")
    derivation = derive_problem(build_problem(load_spec_text(text, "c.yaml")))
    assert derivation.inputs["X"].expr is not None
