"""Usage mistakes are usage errors, not numerical outcomes: through the API a located SchemaError at
the call's file:line saying what came back and what was expected; in a spec's {python:} entry an
``error`` verdict with that message at the entry's location. Never "declare a domain"."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from gradcheck import assert_gradient, check_gradient, check_jvp, check_vjp
from gradcheck.errors import SchemaError
from gradcheck.run import RunOptions, run


def vector_loss(x):
    return x**2


def value_and_grad(x):
    return np.sum(x**2), 2 * x


def no_return(x):
    np.sum(x**2)


def square_grad(x):
    return 2 * x


def outer(x):
    return np.outer(x, x)


def outer_vjp(x, G):
    return (G + G.T) @ x


def outer_jvp(x, V):
    return np.outer(V, x) + np.outer(x, V)


def _line() -> int:
    """The caller's line, less one: the line of the call just before it."""
    return sys._getframe(1).f_lineno - 1


def test_a_loss_returning_a_vector_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_gradient(vector_loss, square_grad, wrt="x", inputs={"x": "n"}, dims={"n": 3}, seed=1)
    line, err = _line(), info.value
    assert (err.location.file, err.location.line) == ("tests/api/test_usage_errors.py", line)
    assert err.message == "the loss 'vector_loss' returned an array of shape (3,), but a loss returns one real number"
    assert err.hint == "sum it to one number; a vector-valued function is checked with check_vjp or check_jvp"


def test_a_loss_returning_value_and_gradient_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_gradient(value_and_grad, square_grad, wrt="x", inputs={"x": "n"}, dims={"n": 3})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message == (
        "the loss 'value_and_grad' returned a tuple (float64, array of shape (3,)), but a loss returns one real number"
    )
    assert err.hint == "return only the loss's value: the gradient is checked from the claim"


def test_a_loss_returning_nothing_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        assert_gradient(no_return, square_grad, wrt="x", inputs={"x": "n"})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message == "the loss 'no_return' returned None, but a loss returns one real number"
    assert err.hint == "a missing `return`?"


def test_a_gradient_returning_value_and_gradient_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_gradient(lambda x: np.sum(x**2), value_and_grad, wrt="x", inputs={"x": "n"}, dims={"n": 3})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message == (
        "the gradient 'value_and_grad' returned a tuple (float64, array of shape (3,)), but a gradient with "
        "respect to x returns one array of x's shape (n,)"
    )
    assert err.hint == "return only the gradient"


def test_a_wrong_output_shape_for_a_vjp_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_vjp(outer, outer_vjp, wrt="x", output_shape="n", inputs={"x": "n"}, dims={"n": 3})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message == "f 'outer' returned shape (3, 3), but output_shape= declares (n,) = (3,)"
    assert err.hint == "give output_shape= the shape f returns, in dim names"


def test_a_wrong_output_shape_for_a_jvp_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_jvp(outer, outer_jvp, wrt="x", output_shape="n m", inputs={"x": "n"}, dims={"n": 3})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message.startswith("f 'outer' returned shape (3, 3), but output_shape= declares (n, m) = (3, ")


def test_a_jvp_returning_the_wrong_shape_is_a_located_usage_error():
    with pytest.raises(SchemaError) as info:
        check_jvp(outer, lambda x, V: V * x, wrt="x", output_shape="n n", inputs={"x": "n"}, dims={"n": 3})
    line, err = _line(), info.value
    assert err.location.line == line
    assert err.message == "jvp returned shape (3,), but output_shape= declares (n, n) = (3, 3)"


def test_an_output_dim_no_fixed_point_binds_is_a_located_usage_error():
    def doubled(x):
        return np.concatenate([x, x])

    def doubled_vjp(x, G):
        return G[:3] + G[3:]

    point = [{"x": np.ones(3)}]
    with pytest.raises(SchemaError) as info:
        check_vjp(doubled, doubled_vjp, wrt="x", output_shape="m", at=point)
    line, err = _line(), info.value
    assert err.location.line == line
    assert (
        err.message == "the output's dim 'm' is bound by no input at the fixed points: declare its size, dims={'m': n}"
    )
    assert check_vjp(doubled, doubled_vjp, wrt="x", output_shape="m", at=point, dims={"m": 6}).passed  # as it says


def test_a_right_output_shape_still_passes():
    r = check_vjp(outer, outer_vjp, wrt="x", output_shape="n n", inputs={"x": "n"}, seed=1, examples=3)
    assert r.passed


SPEC = """\
dims: {n: 3}
inputs:
  x: {shape: [n]}
loss: {python: "usage_%(module)s:%(loss)s"}
claims:
  - {name: c, wrt: x, gradient: {python: "usage_%(module)s:%(grad)s"}}
"""

CODE = """
import numpy as np

def vector_loss(x):
    return x ** 2

def value_and_grad(x):
    return np.sum(x ** 2), 2 * x

def loss(x):
    return np.sum(x ** 2)

def grad(x):
    return 2 * x
"""


@pytest.mark.parametrize(
    "module, loss, grad, message, col",
    [
        (
            "vec",
            "vector_loss",
            "grad",
            "the loss 'usage_vec:vector_loss' returned an array of shape (3,), but a loss returns one real number",
            16,
        ),
        (
            "tup",
            "value_and_grad",
            "grad",
            "the loss 'usage_tup:value_and_grad' returned a tuple (float64, array of shape (3,)), but a loss "
            "returns one real number",
            16,
        ),
        (
            "claim",
            "loss",
            "value_and_grad",
            "the gradient 'usage_claim:value_and_grad' returned a tuple (float64, array of shape (3,)), but a "
            "gradient with respect to x returns one array of x's shape (n,)",
            42,
        ),
    ],
)
def test_the_same_mistakes_in_a_spec_are_error_verdicts_at_the_entry(tmp_path, module, loss, grad, message, col):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC % {"module": module, "loss": loss, "grad": grad})
    (tmp_path / f"usage_{module}.py").write_text(textwrap.dedent(CODE))
    result = run([str(path)], RunOptions(seed=1, examples=5))
    assert not result.failures
    (v,) = result.verdicts
    assert (v.label, v.diagnosis) == ("error", message)
    assert v.lines[0] == f"{path}:{4 if col == 16 else 6}:{col}"
    assert "declare a domain" not in " ".join((v.diagnosis,) + v.lines)


def test_an_f_returning_a_tuple_says_what_came_back():
    with pytest.raises(SchemaError) as info:
        check_vjp(value_and_grad, outer_vjp, wrt="x", output_shape="n", inputs={"x": "n"}, dims={"n": 3})
    assert info.value.message == (
        "f 'value_and_grad' returned a tuple (float64, array of shape (3,)), but output_shape= declares an array "
        "of shape (n,) = (3,)"
    )


def test_a_vjp_returning_a_tuple_is_named_a_vjp():
    def pair_vjp(x, G):
        return (G + G.T) @ x, None

    with pytest.raises(SchemaError) as info:
        check_vjp(outer, pair_vjp, wrt="x", output_shape="n n", inputs={"x": "n"}, dims={"n": 3})
    assert info.value.message == (
        "the vjp 'pair_vjp' returned a tuple (array of shape (3,), None), but a vjp with respect to x returns one "
        "array of x's shape (n,)"
    )
    assert info.value.hint == "return only the vjp"
