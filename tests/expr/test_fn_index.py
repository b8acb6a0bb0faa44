"""fn-index: gathers, shape manipulation and the complex-data functions (conj, real, imag).

The kernels are checked against references over the whole table by test_table_property.py and
the VJP rules by tests/derive/test_rules.py; here: what those cannot say — messages, the
complex-step flag and the oracle's choice it drives, parser forms.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.check import check_plan
from gradcheck.errors import ExpressionError, ShapeError
from gradcheck.examine import CheckSettings
from gradcheck.expr.dims import Dim, shape_str
from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.functions import TABLE, WHITELIST
from gradcheck.expr.parse import complex_unsafe_calls, parse
from gradcheck.expr.shapes import ShapeEnv, infer_shape
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text


def _run(text: str, claim: str | None = None, seed: int = 3):
    problem = build_problem(load_spec_text(text, "c.yaml"))
    plans = [p for p in problem.plans if claim is None or p.claim.name == claim]
    return [check_plan(problem, plan, CheckSettings(examples=4, seed=seed)) for plan in plans]


# -- conj, real, imag: not complex-step safe ---------------------------------------------------


def test_conj_real_imag_are_marked_not_complex_step_safe_and_nothing_else_is():
    unsafe = {name for name, fn in TABLE.items() if not fn.complex_safe}
    assert {"conj", "real", "imag"} <= unsafe


def test_the_complex_step_really_is_wrong_through_them():
    """The flag is honest: Im f(x + i h v) / h is not the derivative for conj and real, so the
    evaluator refuses them a complex step by name (complex data is evaluated with complex_data=True)."""
    from gradcheck.expr.evaluate import NoComplexContinuation

    x, v, h = np.array([0.3, -1.2]), np.array([1.0, 2.0]), 1e-30
    for text, derivative in (("real(x)", v), ("conj(x)", v)):
        stepped = np.real(x + 1j * h * v) if text == "real(x)" else np.conj(x + 1j * h * v)
        assert not np.allclose(np.imag(stepped) / h, derivative), text  # numpy's kernel drops the step
        with pytest.raises(NoComplexContinuation, match=f"^{text[:4]} has no complex-step continuation$"):
            evaluate(parse(text, WHITELIST), {"x": x + 1j * h * v}, {})
        z = x + 1j * v  # complex data (a complex parameter): numpy's meaning
        expected = np.real(z) if text == "real(x)" else np.conj(z)
        assert np.allclose(evaluate(parse(text, WHITELIST), {"x": z}, {}, complex_data=True), expected)


def test_unsafe_calls_are_found_through_helpers_order_kept():
    expr = parse("sum(real(x) * exp(imag(x))) + conj(x)[0]", WHITELIST)
    assert complex_unsafe_calls(expr) == ["real", "imag", "conj"]
    assert complex_unsafe_calls(parse("sum(exp(x))", WHITELIST)) == []


REAL_LOSS = """\
spec: real-data
dims: {n: [2, 4]}
define:
  h(z): real(z) * z
inputs:
  x: {shape: [n]}
loss: sum(h(x) + imag(x) + conj(x) ** 3)
claims:
  - {name: right, wrt: x, gradient: 2 * x + 3 * x ** 2}
  - {name: wrong, wrt: x, gradient: x + 3 * x ** 2, expect: fail}
"""


def test_a_loss_through_real_uses_finite_differences_and_says_so():
    problem = build_problem(load_spec_text(REAL_LOSS, "c.yaml"))
    assert problem.complex_unsafe == ("real", "imag", "conj")
    right, wrong = _run(REAL_LOSS)
    assert right.passed, right.lines
    assert not wrong.passed
    note = (
        "not complex-step safe (the loss calls real(), imag(), conj(), which drop the complex step); "
        "finite differences used"
    )
    assert note in right.notes
    assert note in wrong.notes


# -- shapes: results and pinned messages -------------------------------------------------------


D = Dim.of
ENV = ShapeEnv(
    arrays={
        "X": (D("M"), D("p")),
        "lp": (D("M"), D("k")),
        "x": (D("n"),),
        "T3": (D("M"), D("n"), D("p")),
        "R": (D("M"), Dim.const(1), D("p")),
        "Y": (D("M"), Dim.const(2)),
        "y": (D("M"),),
        "z": (D("n"),),
        "w": (D("M"),),
        "big": (D("M"),),
        "t": (D("M"), Dim.const(1)),
    },
    scalars=frozenset({"M", "p", "n", "k"}),
    dims={"M": (2, 6), "p": (2, 5), "n": (1, 7), "k": (2, 4)},
    defines={},
    integers={"y": (0, "k"), "z": (0, "k"), "big": (0, 5), "t": (0, "p")},
)


def shape(text, env=ENV):
    return shape_str(infer_shape(parse(text, WHITELIST), env, text))


def failure(text, env=ENV):
    with pytest.raises(ShapeError) as info:
        infer_shape(parse(text, WHITELIST), env, text)
    return info.value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("expand_dims(x, 0)", "(1, n)"),
        ("expand_dims(X, axis=-1)", "(M, p, 1)"),
        ("expand_dims(X, (0, 2))", "(1, M, 1, p)"),
        ("squeeze(R, 1)", "(M, p)"),
        ("squeeze(R)", "(M, p)"),
        ("squeeze(R, axis=(1,))", "(M, p)"),
        ("tile(x, 3)", "(3*n,)"),
        ("tile(X, (2, 1))", "(2*M, p)"),
        ("tile(x, (M, 2))", "(M, 2*n)"),
        ("repeat(X, 2, axis=1)", "(M, 2*p)"),
        ("repeat(X, 3)", "(3*M*p,)"),
        ("pad(X, 1)", "(M + 2, p + 2)"),
        ("pad(X, ((1, 0), (0, p)))", "(M + 1, 2*p)"),
        ("pad(x, (2, 3))", "(n + 5,)"),
        ("transpose(T3)", "(p, n, M)"),
        ("transpose(T3, (1, 0, 2))", "(n, M, p)"),
        ("transpose(T3, axes=(0, -1, 1))", "(M, p, n)"),
        ('einsum("...ij,jk->...ik", T3, X.T)', "(M, n, M)"),
        ('einsum("i...->...", T3)', "(n, p)"),
        ('einsum("...j,...j", X, lp @ ones((k, p)))', "(M,)"),
        ("arange(M)", "(M,)"),
        ("lp[arange(M), y]", "(M,)"),
        ("lp[:, z]", "(M, n)"),
        ("T3[arange(M), 0]", "(M, p)"),
        ("T3[arange(M), :, 0]", "(M, n)"),
        ("T3[0, :, arange(p)]", "(p, n)"),
        ("lp[arange(M)[:, None] * 0 + arange(M)[:, None], y]", None),
        ("take_along_axis(X, t, axis=1)", "(M, 1)"),
        ("take_along_axis(X, t, 1)", "(M, 1)"),
        ("take_along_axis(lp, y[:, None], axis=1)", "(M, 1)"),
        ("take_along_axis(lp, expand_dims(y, 1), axis=1)", "(M, 1)"),
        ("conj(X) + real(X) + imag(X)", "(M, p)"),
    ],
)
def test_shapes(text, expected):
    if expected is None:
        with pytest.raises(ExpressionError):
            parse(text, WHITELIST)
        return
    assert shape(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("expand_dims(x)", "expand_dims() needs axis (an integer or a tuple of integers)"),
        ("expand_dims(x, 2)", "expand_dims(): axis 2 is out of range for a 2-D result"),
        ("expand_dims(x, x)", "expand_dims(): axis must be an integer or a tuple of integers, not `x`"),
        ("expand_dims(x, 0, axis=0)", "expand_dims(): axis is given twice (as an argument and as axis=)"),
        ("squeeze(X, 1)", "squeeze(): axis 1 has size p, not 1"),
        (
            "squeeze(x)",
            "squeeze() without axis: n may be 1 (n ranges over 1..7), and numpy would drop it too; give axis=",
        ),
        ("tile(x, (2, 2.5))", "shape argument 2.5 is not an integer"),
        ("repeat(X, 2, axis=(0, 1))", "repeat() takes one axis= (an integer), not a tuple"),
        ("repeat(X, 2, axis=2)", "repeat(): axis 2 is out of range for shape (M, p)"),
        ("pad(X, ((1, 0), (0, 1), (2, 2)))", "pad(): pad_width has 3 (before, after) pairs but the array has 2 axes"),
        (
            "pad(X, (1, 2, 3))",
            "pad(): pad_width must be an integer, (before, after), or one (before, after) pair per axis",
        ),
        ("pad(X, M - 9)", "shape argument M - 9 may be negative (it ranges over -7..-3)"),
        ("transpose(T3, (1, 0))", "transpose(): axes (1, 0) are not a permutation of the 3 axes of (M, n, p)"),
        ("transpose(T3, (1, 1, 0))", "transpose(): axes (1, 1, 0) are not a permutation of the 3 axes of (M, n, p)"),
        (
            'einsum("...ij,jk->ik", T3, X.T)',
            "einsum(): subscripts '...ij,jk->ik' broadcast over (M,) by '...' but the output has no '...'",
        ),
        ('einsum("...i,...i", X, T3)', "einsum(): the '...' axes (M,) and (M, n) do not broadcast"),
        ('einsum("..i", X)', "einsum(): subscripts '..i' may use only letters, ',', '->' and '...'"),
        ('einsum("...i...", X)', "einsum(): subscripts '...i...' use '...' twice in one operand"),
        ("lp[arange(M), w]", "an array index must be arange(n) or an integer input (domain integers): 'w' is real"),
        ("lp[arange(M), big]", "index `big` may be out of range for dim k (2..4): its values are drawn from [0, 5)"),
        ("lp[arange(p), y]", "index `arange(p)` may be out of range for dim M (2..6): it counts up to p (2..5)"),
        ("lp[arange(M), z]", "`lp[arange(M), z]`: the index arrays (M,) and (n,) do not broadcast"),
        ("X[arange(M), 7]", "index 7 may be out of range for dim p (2..5)"),
        ("take_along_axis(lp, t)", "take_along_axis() needs axis= (an integer)"),
        (
            "take_along_axis(lp, w[:, None], axis=1)",
            "an array index must be arange(n) or an integer input (domain integers): `w[:, None]` is not",
        ),
        ("take_along_axis(lp, y, axis=0)", "take_along_axis(): indices (M,) need as many axes as the array (M, k)"),
        (
            "take_along_axis(lp, t, axis=1)",
            "index `t` may be out of range for dim k (2..4): its values are drawn from [0, p)",
        ),
    ],
)
def test_pinned_messages(text, message):
    err = failure(text)
    assert err.message == message


OUT_OF_RANGE = """\
spec: labels
dims: {M: [2, 5], k: [2, 4]}
inputs:
  Z: {shape: [M, k]}
  y: {shape: [M], domain: {integers: [0, 5]}}
loss: -mean(Z[arange(M), y])
claims:
  - {name: g, wrt: Z, gradient: zeros_like(Z)}
"""


def test_labels_that_may_not_fit_the_axis_are_a_located_spec_error_with_what_to_do():
    with pytest.raises(ShapeError) as info:
        build_problem(load_spec_text(OUT_OF_RANGE, "labels.yaml"))
    text = str(info.value)
    assert text.splitlines()[0] == (
        "labels.yaml:6:13: index `y` may be out of range for dim k (2..4): its values are drawn from [0, 5)"
    )
    assert "give 'y' the domain {integers: [0, k]} (half-open), so that every label fits" in text


def test_a_constant_index_out_of_range_beside_an_array_is_a_located_spec_error():
    text = OUT_OF_RANGE.replace("domain: {integers: [0, 5]}", "domain: {integers: [0, k]}").replace(
        "Z[arange(M), y]", "Z[arange(M), 4]"
    )
    with pytest.raises(ShapeError) as info:
        build_problem(load_spec_text(text, "labels.yaml"))
    assert str(info.value).splitlines()[0] == "labels.yaml:6:13: index 4 may be out of range for dim k (2..4)"


def test_a_gathered_loss_with_labels_in_range_checks():
    text = OUT_OF_RANGE.replace("domain: {integers: [0, 5]}", "domain: {integers: [0, k]}").replace(
        "gradient: zeros_like(Z)", "gradient: '-(onehot(y, k) / M)'"
    )
    (verdict,) = _run(text)
    assert verdict.passed, verdict.lines


@pytest.mark.parametrize(
    "text, message, hint",
    [
        (
            "lp[arange(M), M]",
            "an array index must be arange(n) or an integer input (domain integers): 'M' is not an integer input",
            None,
        ),
        (
            "take_along_axis(lp, t, axis=1)",
            "index `t` may be out of range for dim k (2..4): its values are drawn from [0, p)",
            "give 't' the domain {integers: [0, k]} (half-open), so that every label fits",
        ),
        (
            "take_along_axis(lp, t[:, :], axis=1)",
            "index `t[:, :]` may be out of range for dim k (2..4): its values are drawn from [0, p)",
            "draw the labels in the axis's range: domain {integers: [0, k]} (half-open)",
        ),
        (
            "lp[arange(p), y]",
            "index `arange(p)` may be out of range for dim M (2..6): it counts up to p (2..5)",
            "index this axis with arange(M), or an integer input drawn in [0, M)",
        ),
    ],
)
def test_pinned_index_messages_and_what_to_do(text, message, hint):
    err = failure(text)
    assert (err.message, err.hint) == (message, hint)
