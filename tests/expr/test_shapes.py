"""Symbolic shape inference: results, pinned messages, recovered shapes, budgets, defines."""

import pytest

from gradcheck.errors import ShapeError
from gradcheck.expr.dims import Dim, shape_str
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.expr.shapes import ShapeEnv, infer_shape

D = Dim.of
ONE = Dim.const(1)
CALLABLES = WHITELIST | {"dh", "h", "g", "f", "f1", "f2"}


def _define(params, body):
    return (params, parse(body, CALLABLES), body)


ENV = ShapeEnv(
    arrays={
        "c": (D("M"), D("out")),
        "a": (D("M"), D("out")),
        "X": (D("M"), D("p")),
        "A": (D("M"), D("p")),
        "B": (D("out"), D("p")),
        "W": (D("p"), D("out")),
        "x": (D("n"),),
        "v": (D("n"),),
        "y": (D("M"),),
        "S": (D("n"), D("n")),
        "T3": (D("M"), D("n"), D("n")),
    },
    scalars=frozenset({"lr"}),
    dims={"M": (2, 6), "p": (2, 5), "out": (1, 4), "n": (3, 7), "k": (2, 3), "N": (1, 5000)},
    defines={
        "dh": _define(("z",), "1 - tanh(z)**2"),
        "h": _define(("z",), "z @ W"),
        "g": _define(("u", "v"), "u * v"),
        "f": _define(("z",), "f(z)"),
        "f1": _define(("z",), "f2(z) + 1"),
        "f2": _define(("z",), "f1(z)"),
    },
)


def shape(text, env=ENV):
    return shape_str(infer_shape(parse(text, CALLABLES), env, text))


def failure(text, env=ENV):
    with pytest.raises(ShapeError) as info:
        infer_shape(parse(text, CALLABLES), env, text)
    err = info.value
    assert err.location is None and err.source == text
    return err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("X @ W", "(M, out)"),
        ("X.T @ (c * dh(a))", "(p, out)"),
        ("c * -dh(a) + 1", "(M, out)"),
        ("sum(X, axis=0, keepdims=True) / M", "(1, p)"),
        ("sum(X, axis=(0, 1))", "()"),
        ("mean(X, axis=-1)", "(M,)"),
        ("prod(X, axis=0)", "(p,)"),
        ("max(X)", "()"),
        ("min(X, axis=0)", "(p,)"),
        ("amax(T3, axis=(1, 2), keepdims=True)", "(M, 1, 1)"),
        ("amin(X, axis=-1)", "(M,)"),
        ("argmax(X, axis=1)", "(M,)"),
        ("argmin(X)", "()"),
        ("argmax(X, axis=0, keepdims=True)", "(1, p)"),
        ("var(X, axis=0, ddof=1)", "(p,)"),
        ("std(X, keepdims=True)", "(1, 1)"),
        ("cumsum(X, axis=1)", "(M, p)"),
        ("cumprod(x)", "(n,)"),
        ("cumsum(X)", "(M*p,)"),
        ("logaddexp(X, 0)", "(M, p)"),
        ("clip(c, 0, a[0])", "(M, out)"),
        ("sign(x) + erf(x) + gelu(x) + gelu(x, approximate='tanh')", "(n,)"),
        ("log_sigmoid(X) + abs2(X) + reciprocal(X)", "(M, p)"),
        ("tril(X, k=-1) + triu(X)", "(M, p)"),
        ("triu(T3, k=1)", "(M, n, n)"),
        ("cholesky(S) + cholesky(T3)", "(M, n, n)"),
        ("solve_triangular(S, x, lower=True)", "(n,)"),
        ("solve_triangular(T3, S)", "(M, n, n)"),
        ("eigvalsh(S)", "(n,)"),
        ("eigvalsh(T3)", "(M, n)"),
        ("eigvecsh(T3)", "(M, n, n)"),
        ("pinv(X)", "(p, M)"),
        ("pinv(T3)", "(M, n, n)"),
        ("logsumexp(X, axis=1, keepdims=True)", "(M, 1)"),
        ("norm(X)", "()"),
        ("0.5 * sum(c ** 2) + lr", "()"),
        ("X - sum(X, axis=0, keepdims=True)", "(M, p)"),
        ("x[:, None] * x[None, :]", "(n, n)"),
        ('einsum("ij,jk->ik", X, W)', "(M, out)"),
        ('einsum("ij,ij", X, A)', "()"),
        ('einsum("ij,jk", X, W)', "(M, out)"),
        ('einsum("ii->i", S)', "(n,)"),
        ('einsum("mij,j->mi", T3, x)', "(M, n)"),
        ("where(x > 0, x, 0.01 * x)", "(n,)"),
        ("maximum(X, 0)", "(M, p)"),
        ("softmax(X)", "(M, p)"),
        ("log_softmax(X, axis=0)", "(M, p)"),
        ("trace(S) + det(S) + logdet(S)", "()"),
        ("det(T3)", "(M,)"),
        ("inv(S) @ x", "(n,)"),
        ("solve(S, x)", "(n,)"),
        ("solve(S, x[:, None])", "(n, 1)"),
        ("solve(T3, T3)", "(M, n, n)"),
        ("diag(x)", "(n, n)"),
        ("diag(S)", "(n,)"),
        ("outer(x, y)", "(n, M)"),
        ("kron(X, W)", "(M*p, out*p)"),
        ("eye(n)", "(n, n)"),
        ("ones((M, 3))", "(M, 3)"),
        ("zeros(M)", "(M,)"),
        ("ones((2*M + 1, M**2))", "(2*M + 1, M**2)"),
        ("ones_like(X) + zeros_like(X)", "(M, p)"),
        ("transpose(X)", "(p, M)"),
        ("X.T", "(p, M)"),
        ("reshape(X, (M*p,))", "(M*p,)"),
        ("reshape(X, (p, M))", "(p, M)"),
        ("reshape(X, (M, -1))", "(M, p)"),
        ("reshape(X, -1)", "(M*p,)"),
        ("dot(X, W)", "(M, out)"),
        ("dot(x, v)", "()"),
        ("dot(S, x)", "(n,)"),
        ("dot(2, X)", "(M, p)"),
        ("onehot(y, k)", "(M, k)"),
        ("stack([x, v])", "(2, n)"),
        ("stack((x, v), axis=-1)", "(n, 2)"),
        ("concatenate((X, A))", "(2*M, p)"),
        ("concatenate([X, c], axis=1)", "(M, out + p)"),
        ("X[:, 0]", "(M,)"),
        ("X[1]", "(p,)"),
        ("x[-3]", "()"),
        ("X[None, :, 1]", "(1, M)"),
        ("x[1:3]", "(2,)"),
        ("x[-2:]", "(2,)"),
        ("x[0:3:2]", "(2,)"),
        ("g(x, v)", "(n,)"),
        ("h(X)", "(M, out)"),
        ("sum(x) / M", "()"),
        ("eye(3)[1:2]", "(1, 3)"),
    ],
)
def test_shapes(text, expected):
    assert shape(text) == expected


def test_symbolic_slices_stay_symbolic():
    assert infer_shape(parse("x[1:]", CALLABLES), ENV, "x[1:]") == (D("n") - Dim.const(1),)
    assert infer_shape(parse("X[:-2]", CALLABLES), ENV, "X[:-2]") == (D("M") - Dim.const(2), D("p"))


def test_elementwise_mismatch_message_and_recovered_shape():
    err = failure("c * -dh(a) * X")
    assert err.message == "`c * -dh(a) * X` multiplies (M, out) by (M, p)"
    assert err.span == (0, 14)
    assert err.recovered == (D("M"), D("p"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("c + X", "`c + X` adds (M, out) and (M, p)"),
        ("c - X", "`c - X` subtracts (M, p) from (M, out)"),
        ("c / X", "`c / X` divides (M, out) by (M, p)"),
        ("c ** X", "`c ** X` raises (M, out) to the power (M, p)"),
    ],
)
def test_elementwise_verbs(text, message):
    assert failure(text).message == message


def test_transposed_operand_gets_a_hint():
    err = failure("X * X.T")
    assert err.hint == "the shapes differ by a transpose: is a `.T` missing or extra?"


def test_matmul_mismatch():
    err = failure("1 + A @ B")
    assert err.message == "`A @ B` multiplies (M, p) @ (out, p): inner dimensions p and out differ"
    assert err.span == (4, 9)
    assert err.recovered == (D("M"), D("p"))


def test_first_error_is_raised_and_inference_continues():
    err = failure("sum((c * X) @ W.T, axis=1) + y")
    assert err.message == "`c * X` multiplies (M, out) by (M, p)"
    assert err.recovered == (D("M"),)


@pytest.mark.parametrize(
    "text, message, recovered",
    [
        ("det(X)", "det needs a square matrix, got (M, p)", "()"),
        ("inv(X)", "inv needs a square matrix, got (M, p)", "(M, p)"),
        ("trace(x)", "trace needs a square matrix, got (n,)", "()"),
        ("diag(X)", "diag needs a vector or a square matrix, got (M, p)", "(M,)"),
        ("solve(S, X)", "solve(A, B) needs B with n rows for A (n, n), got (M, p)", "(M, p)"),
        ("solve(S, y)", "solve(A, b) needs b of shape (n,) for A (n, n), got (M,)", "(n,)"),
        ("cholesky(X)", "cholesky needs a square matrix, got (M, p)", "(M, p)"),
        ("solve_triangular(X, x)", "solve_triangular needs a square matrix, got (M, p)", "(n,)"),
        (
            "solve_triangular(S, X, lower=True)",
            "solve_triangular(A, B) needs B with n rows for A (n, n), got (M, p)",
            "(M, p)",
        ),
        ("solve_triangular(S, y)", "solve_triangular(A, b) needs b of shape (n,) for A (n, n), got (M,)", "(n,)"),
        ("solve_triangular(S, x, axis=0)", "solve_triangular() does not take axis= (only lower=)", "(n,)"),
        ("sum(x, lower=True)", "sum() does not take lower= (only axis= and keepdims=)", "()"),
        ("eigvalsh(X)", "eigvalsh needs a square matrix, got (M, p)", "(M,)"),
        ("eigvecsh(X)", "eigvecsh needs a square matrix, got (M, p)", "(M, p)"),
        ("pinv(x)", "pinv needs a matrix (at least 2 axes), got (n,)", "(n,)"),
        ("sum(X, axis=2)", "sum(): axis 2 is out of range for shape (M, p)", "()"),
        ("sum(X, axis=(0, -2))", "sum(): axis -2 is repeated", "()"),
        ("softmax(lr)", "softmax() needs at least a 1-D array, got ()", "()"),
        ("reshape(X, (M, 3))", "reshape() cannot turn (M, p) (M*p elements) into (M, 3) (3*M elements)", "(M, 3)"),
        ("dot(X, x)", "dot() shapes (M, p) and (n,) are not aligned: p and n differ", "(M,)"),
        ("where(y > 0, x, 0)", "where() arguments (M,), (n,) and () do not broadcast", "(n,)"),
        ("stack([x, y])", "stack() needs equal shapes, got (n,) and (M,)", "(2, M)"),
        ("concatenate([X, c])", "concatenate() along axis 0 needs matching shapes, got (M, p) and (M, out)", "(M, p)"),
        ('einsum("ij,jk->ik", X, B)', "einsum(): index 'j' is p in one place and out in another", "(M, p)"),
        ('einsum("ij,jk->ik", X)', "einsum(): subscripts 'ij,jk->ik' name 2 operand(s), got 1", "()"),
        ('einsum("ijk,jk", X, W)', "einsum(): operand 1 has shape (M, p) but its subscripts 'ijk' name 3 axes", "(1,)"),
        ('einsum("ijk,jk", T3, W)', "einsum(): index 'j' is n in one place and p in another", "(M,)"),
        ("x[3]", "index 3 may be out of range for dim n (3..7)", "()"),
        ("x[-4]", "index -4 may be out of range for dim n (3..7)", "()"),
        ("eye(3)[3]", "index 3 is out of range for dim 3", "(3,)"),
        ("X[0, 0, 0]", "`X[0, 0, 0]` has 3 indices but (M, p) has 2 axes", "()"),
        ("x[:5]", "slice :5 may be out of range for dim n (3..7)", "(n,)"),
        ("zz + 1", "unknown name 'zz'", "()"),
        ("exp + 1", "'exp' is a function; call it as exp(...)", "()"),
        ("exp(x, v)", "exp(x) takes 1 argument, got 2", "()"),
        ("exp(x, axis=0)", "exp() takes no keyword arguments", "(n,)"),
        ("softmax(X, keepdims=True)", "softmax() does not take keepdims= (only axis=)", "(M, p)"),
        ("sum(X, ddof=1)", "sum() does not take ddof= (only axis= and keepdims=)", "()"),
        ("var(X, k=1)", "var() does not take k= (only axis=, ddof= and keepdims=)", "()"),
        ("gelu(x, k=1)", "gelu() does not take k= (only approximate=)", "(n,)"),
        ("argmax(X, axis=(0, 1))", "argmax() takes one axis= (an integer), not a tuple", "()"),
        ("cumsum(X, axis=(0, 1))", "cumsum() takes one axis= (an integer), not a tuple", "(M, p)"),
        ("cumsum(X, axis=2)", "cumsum(): axis 2 is out of range for shape (M, p)", "(M, p)"),
        ("max(X, axis=2)", "max(): axis 2 is out of range for shape (M, p)", "()"),
        ("tril(x)", "tril() needs an array with at least 2 axes, got (n,)", "(n,)"),
        ("clip(x, y, 1)", "clip() arguments (n,), (M,) and () do not broadcast", "(M,)"),
        ("stack(x)", "stack() needs a list of arrays: stack([a, b])", "(1, n)"),
        ("ones(lr)", "shape argument 'lr' is not a dim", "(1,)"),
        ("ones(2.5)", "shape argument 2.5 is not an integer", "(1,)"),
        ("ones(sum(x))", "shape argument `sum(x)` is not a static integer expression", "(1,)"),
        ("zeros(M - 10)", "shape argument M - 10 may be negative (it ranges over -8..-4)", "(1,)"),
        ("2 @ x", "`2 @ x` multiplies () @ (n,): @ needs arrays with at least one axis", "(n,)"),
    ],
)
def test_pinned_errors(text, message, recovered):
    err = failure(text)
    assert err.message == message
    assert shape_str(err.recovered) == recovered


def test_budget_refuses_huge_constant_allocation():
    err = failure("sum(x) * ones(10**9)")
    assert err.message == "`ones(10**9)` would allocate 1000000000 elements (budget 10000000)"
    assert err.span == (9, 20)


def test_budget_refuses_kron_blow_up_at_upper_bounds():
    env = ShapeEnv({"Z": (D("N"), D("N"))}, frozenset(), {"N": (1, 5000)}, {})
    err = failure("kron(Z, Z)", env)
    assert err.message == "`kron(Z, Z)` would allocate 625000000000000 elements at N=5000 (budget 10000000)"
    assert shape("Z[0]", env) == "(N,)"


def test_budget_is_configurable():
    env = ShapeEnv(ENV.arrays, ENV.scalars, ENV.dims, ENV.defines, max_elements=100)
    assert failure("outer(X, X)", env).message == ("`outer(X, X)` would allocate 900 elements at M=6, p=5 (budget 100)")


def test_error_inside_define_is_reported_at_the_call():
    text = "1 + h(c)"
    err = failure(text)
    assert err.message == ("in h(z) = z @ W: `z @ W` multiplies (M, out) @ (p, out): inner dimensions out and p differ")
    assert err.span == (4, 8)
    assert err.recovered == (D("M"), D("out"))


def test_define_arity():
    assert failure("g(x)").message == "g(u, v) takes 2 arguments, got 1"


def test_recursive_defines_are_refused():
    assert failure("f(x)").message == "in f(z) = f(z): define 'f' calls itself recursively"
    assert "calls itself recursively" in failure("f1(x)").message


def test_define_params_shadow_outer_names():
    assert shape("g(X, A)") == "(M, p)"  # the body's `v` is the parameter, not the input v


def test_dims_print_negative_terms_as_subtraction():
    from gradcheck.expr.dims import Dim

    m = Dim.of("M")
    assert str(m - Dim.const(1)) == "M - 1"
    assert str(Dim.const(0) - m) == "-M"
    assert str(m * Dim.const(2) - Dim.const(3)) == "2*M - 3"


# ---- derived dims and bounds over the whole box ------------------------------------------

BOX = ShapeEnv({"x": (D("M"),)}, frozenset(), {"M": (1, 20000), "N": (1, 20000)}, {})


def test_budget_bounds_a_non_monotone_shape_over_the_whole_box():
    # 0 at both corners (M = N = 1 and M = N = 20000), 4e8 in between
    err = failure("ones(((M - N) ** 2,))", BOX)
    assert err.message == "`ones(((M - N) ** 2,))` would allocate 399960001 elements at M=1, N=20000 (budget 10000000)"


def test_shape_argument_negative_somewhere_inside_the_box():
    # M - p is 0 at the lower corner and 1 at the upper one, but -3 at M=2, p=5
    err = failure("ones((M - p,))")
    assert err.message == "shape argument M - p may be negative (it ranges over -3..4)"


def test_shape_arguments_divide_exactly_and_print_as_written():
    env = ShapeEnv({"x": (D("n"),)}, frozenset(), {"n": (2, 9)}, {})
    assert shape("ones((n * (n - 1) / 2, 2 * n))", env) == "(n * (n - 1) / 2, 2 * n)"
    assert shape("ones((n + 1,)) + ones((1 + n,))", env) == "(n + 1,)"  # they agree
    err = failure("ones((n / 2,))", env)
    assert err.message == "shape argument `n / 2` is not an integer at n=3 (3/2)"


def test_dims_with_fractional_coefficients_print_canonically():
    n = Dim.of("n")
    half = (n * (n - Dim.const(1))).divided(2)
    assert str(half) == "1/2*n*n - 1/2*n"
    assert str(Dim.const(0) - half) == "-1/2*n*n + 1/2*n"
    assert half.bind({"n": 4}) == 6 and type(half.bind({"n": 4})) is int
    assert n.divided(2) * Dim.const(2) == n


def test_budget_with_an_interior_maximum_gives_the_interval_bound():
    # M * (20001 - M) is 20000 at both ends of M's range and 1e8 in the middle
    err = failure("ones((M * (20001 - M),))", BOX)
    assert (
        err.message
        == "`ones((M * (20001 - M),))` may allocate up to 400000000 elements for M in 1..20000 (budget 10000000)"
    )


def test_max_of_two_arrays_points_to_maximum():
    err = failure("max(x, 0)")
    assert err.message == "max(x) takes 1 argument, got 2"
    assert err.hint == "max() reduces one array (numpy's second argument is the axis); elementwise: maximum(a, b)"
    assert failure("amin(X, W)").hint == (
        "amin() reduces one array (numpy's second argument is the axis); elementwise: minimum(a, b)"
    )
    assert failure("exp(x, v)").hint is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("var(x, ddof=3)", "var(): ddof=3 leaves no degrees of freedom when n = 3 (n ranges over 3..7)"),
        ("std(X, axis=1, ddof=2)", "std(): ddof=2 leaves no degrees of freedom when p = 2 (p ranges over 2..5)"),
        ("var(X, ddof=4)", "var(): ddof=4 leaves no degrees of freedom when M*p = 4 (M*p ranges over 4..30)"),
        ("var(ones((2, 3)), ddof=6)", "var(): ddof=6 leaves no degrees of freedom: 6 entries"),
    ],
)
def test_ddof_must_leave_degrees_of_freedom(text, message):
    assert failure(text).message == message


def test_ddof_error_says_what_to_do():
    assert failure("var(x, ddof=3)").hint == "raise the lower bounds under dims: so that n > 3, or lower ddof="
    assert failure("var(2.0, ddof=1)").message == "var(): ddof=1 leaves no degrees of freedom: 1 entry"


def test_ddof_below_the_smallest_count_is_fine():
    assert shape("var(x, ddof=2) + std(X, axis=0, ddof=1)[0]") == "()"
