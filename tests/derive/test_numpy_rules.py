"""`gradcheck derive --numpy` for every function: the pasted backward pass runs and computes
the derived gradients (a function whose name numpy lacks needs a `_NUMPY` entry or a preamble)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.derive import derive_problem
from gradcheck.derive.numpy_code import backward_function
from gradcheck.derive.rules import NOT_DERIVABLE
from gradcheck.expr.dims import bind_shape
from gradcheck.expr.evaluate import evaluate
from gradcheck.problem.build import build_problem
from gradcheck.samples.draw import Sample, draw_inputs
from gradcheck.spec.load import load_spec_text

from .cases import CASES, spec_text


@pytest.mark.parametrize("function", sorted(set(CASES) - set(NOT_DERIVABLE)))
def test_numpy_backward_pass_runs_and_matches_the_derivation(function):
    problem = build_problem(load_spec_text(spec_text(function), f"{function}.yaml"))
    derivation = derive_problem(problem)
    namespace: dict = {}
    exec(compile(backward_function(problem, derivation), "<derived>", "exec"), namespace)  # our own code
    sizes = {"n": 3, "m": 4}
    shapes = {name: bind_shape(problem.input_shapes[name], sizes) for name in problem.spec.inputs}
    values = draw_inputs(problem.spec.inputs, shapes, Sample(sizes=sizes, seed=5))
    grads = namespace["backward"](*values.values())
    nodes: dict = {}
    for g in problem.spec.graph:
        nodes[g.name] = evaluate(g.body.expr, {**values, **sizes, **nodes}, problem.defines)
    for name, adjoint in derivation.inputs.items():
        if adjoint.expr is None:
            continue
        expected = evaluate(adjoint.expr, {**values, **sizes, **nodes}, problem.defines)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-10, atol=1e-12)
