"""Evaluation: values against numpy for every whitelisted function, and complex-step safety."""

import math

import numpy as np
import pytest

from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.kernels import KERNELS
from gradcheck.expr.parse import called_functions, parse

CALLABLES = WHITELIST | {"dh"}
DEFINES = {"dh": (("z",), parse("1 - tanh(z)**2", CALLABLES), "1 - tanh(z)**2")}

rng = np.random.default_rng(20240611)
X = rng.normal(size=(4, 3))
W = rng.normal(size=(3, 2))
S = rng.normal(size=(3, 3)) + 3 * np.eye(3)
x = rng.normal(size=3)
w = rng.normal(size=3)
p = rng.uniform(0.5, 2.0, size=3)
y = np.array([0, 2, 1, 1])
ENV = dict(X=X, W=W, S=S, x=x, w=w, p=p, y=y, M=4, k=3, T3=rng.normal(size=(2, 3, 3)))


def ev(text, env=ENV, **kwargs):
    return evaluate(parse(text, CALLABLES), env, DEFINES, **kwargs)


def _logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _erf(a):
    return np.array([math.erf(v) for v in a])


def _gelu(a):
    return a * 0.5 * (1 + _erf(a / math.sqrt(2)))


def _triangular(S, x, X):
    upper = np.linalg.solve(np.triu(S), x)
    lower = np.linalg.solve(np.tril(S), X.T)
    return upper + lower[:, 0]


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))


VALUES = [
    ("sum(X)", lambda: X.sum()),
    ("sum(X, axis=0, keepdims=True) / M", lambda: X.sum(axis=0, keepdims=True) / 4),
    ("mean(X, axis=(0, 1))", lambda: X.mean()),
    ("prod(X, axis=1)", lambda: X.prod(axis=1)),
    ("max(X, axis=0) - min(X, axis=1, keepdims=True)", lambda: X.max(axis=0) - X.min(axis=1, keepdims=True)),
    ("amax(X) - amin(X, axis=(0, 1))", lambda: X.max() - X.min()),
    ("argmax(X, axis=1) + argmin(X)", lambda: X.argmax(axis=1) + X.argmin()),
    ("var(X, axis=0, ddof=1) + std(X)", lambda: X.var(axis=0, ddof=1) + X.std()),
    ("cumsum(X, axis=1) * cumprod(X, axis=0)", lambda: np.cumsum(X, axis=1) * np.cumprod(X, axis=0)),
    ("logaddexp(X, x) + clip(X, -0.5, x)", lambda: np.logaddexp(X, x) + np.clip(X, -0.5, x)),
    ("sign(x) + erf(x) + reciprocal(p) + abs2(x)", lambda: np.sign(x) + _erf(x) + 1 / p + x**2),
    ("gelu(x) + gelu(x, approximate='tanh') - log_sigmoid(x)", lambda: _gelu(x) + _gelu_tanh(x) + np.logaddexp(0, -x)),
    ("tril(S, k=1) - triu(T3)", lambda: np.tril(S, 1) - np.triu(ENV["T3"])),
    ("exp(x) + log(p) + log1p(p) + expm1(x)", lambda: np.exp(x) + np.log(p) + np.log1p(p) + np.expm1(x)),
    ("sqrt(p) + square(x)", lambda: np.sqrt(p) + x**2),
    ("sin(x) * cos(x) * tanh(x)", lambda: np.sin(x) * np.cos(x) * np.tanh(x)),
    ("sigmoid(X)", lambda: 1 / (1 + np.exp(-X))),
    ("softplus(X)", lambda: np.log1p(np.exp(X))),
    ("relu(X)", lambda: np.maximum(X, 0)),
    ("abs(X)", lambda: np.abs(X)),
    ("maximum(x, w) - minimum(x, 0)", lambda: np.maximum(x, w) - np.minimum(x, 0)),
    ("where(x > 0, x, 0.01 * x)", lambda: np.where(x > 0, x, 0.01 * x)),
    ("softmax(X)", lambda: _softmax(X)),
    ("log_softmax(X, axis=0)", lambda: np.log(_softmax(X, axis=0))),
    ("logsumexp(X)", lambda: _logsumexp(X)),
    ("logsumexp(X, axis=1, keepdims=True)", lambda: _logsumexp(X, axis=1)[:, None]),
    ("trace(S)", lambda: np.trace(S)),
    ("det(S)", lambda: np.linalg.det(S)),
    ("logdet(-S)", lambda: np.log(abs(np.linalg.det(-S)))),
    ("inv(S)", lambda: np.linalg.inv(S)),
    ("solve(S, x)", lambda: np.linalg.solve(S, x)),
    ("diag(x) + diag(diag(S))", lambda: np.diag(x) + np.diag(np.diag(S))),
    ("outer(x, w)", lambda: np.outer(x, w)),
    ("kron(S, W)", lambda: np.kron(S, W)),
    ("eye(k)", lambda: np.eye(3)),
    ("ones((M, 3)) + zeros(3)", lambda: np.ones((4, 3))),
    ("ones_like(X) - zeros_like(X)", lambda: np.ones((4, 3))),
    ("transpose(X) - X.T", lambda: np.zeros((3, 4))),
    ("reshape(X, (M * 3,))", lambda: X.reshape(12)),
    ("reshape(X, (3, -1))", lambda: X.reshape(3, 4)),
    ("norm(X)", lambda: np.linalg.norm(X)),
    ("norm(X, axis=0)", lambda: np.linalg.norm(X, axis=0)),
    ("dot(X, x) + dot(x, w)", lambda: X @ x + x @ w),
    ('einsum("ij,jk->ik", X, W)', lambda: X @ W),
    ('einsum("ii", S)', lambda: np.trace(S)),
    ("onehot(y, k)", lambda: np.eye(3)[y]),
    ("stack([x, w], axis=1)", lambda: np.stack([x, w], axis=1)),
    ("concatenate((x, w))", lambda: np.concatenate([x, w])),
    ("conv1d(reshape(x, (1, 1, 3)), ones((1, 1, 2)))", lambda: (x[:-1] + x[1:]).reshape(1, 1, 2)),
    (
        "conv2d(reshape(X, (1, 1, 4, 3)), ones((1, 1, 2, 2)))",
        lambda: (X[:-1, :-1] + X[1:, :-1] + X[:-1, 1:] + X[1:, 1:]).reshape(1, 1, 3, 2),
    ),
    (
        "conv_transpose1d(reshape(x, (1, 1, 3)), ones((1, 1, 2)))",
        lambda: np.array([x[0], x[0] + x[1], x[1] + x[2], x[2]]).reshape(1, 1, 4),
    ),
    (
        "conv_transpose2d(reshape(S, (1, 1, 3, 3)), ones((1, 1, 1, 1)), stride=2)",
        lambda: np.kron(S, [[1, 0], [0, 0]])[:5, :5].reshape(1, 1, 5, 5),
    ),
    (
        "max_pool2d(reshape(X, (1, 1, 4, 3)), 2)",
        lambda: np.array([X[:2, :2].max(), X[2:, :2].max()]).reshape(1, 1, 2, 1),
    ),
    (
        "avg_pool2d(reshape(X, (1, 1, 4, 3)), 2, stride=1)",
        lambda: ((X[:-1, :-1] + X[1:, :-1] + X[:-1, 1:] + X[1:, 1:]) / 4).reshape(1, 1, 3, 2),
    ),
    ("X.T @ (X @ W * dh(X @ W))", lambda: X.T @ (X @ W * (1 - np.tanh(X @ W) ** 2))),
    ("X[:, 0] + X[1:, 1][0] + X[None, -1, :2][0, 1]", lambda: X[:, 0] + X[1:, 1][0] + X[None, -1, :2][0, 1]),
    ("2**-1 * x / M", lambda: 0.5 * x / 4),
    ("-x + +x", lambda: np.zeros(3)),
    # -- fn-index --
    ("conj(x) + real(x) - imag(x)", lambda: 2 * x),
    ("X[arange(M), y]", lambda: X[np.arange(4), y]),
    ("take_along_axis(X, y[:, None], axis=1)", lambda: np.take_along_axis(X, y[:, None], axis=1)),
    ("expand_dims(x, 0) + squeeze(expand_dims(w, (0, 2)), axis=2)", lambda: x[None] + w[None]),
    (
        "tile(x, (2, 1)) + repeat(x, 2)[:3] + repeat(W, 2, axis=1)[0, :3]",
        lambda: np.tile(x, (2, 1)) + np.repeat(x, 2)[:3] + np.repeat(W, 2, axis=1)[0, :3],
    ),
    ("pad(S, ((1, 0), (0, 2)))", lambda: np.pad(S, ((1, 0), (0, 2)))),
    ("transpose(T3, (1, 0, 2))", lambda: ENV["T3"].transpose(1, 0, 2)),
    ('einsum("...ij,...jk->...ik", T3, S)', lambda: ENV["T3"] @ S),
    # linear algebra (fn-linalg): on symmetric S the symmetric part is S itself
    ("cholesky(S @ S.T)", lambda: np.linalg.cholesky(S @ S.T)),
    ("solve_triangular(S, x) + solve_triangular(S, X.T, lower=True)[:, 0]", lambda: _triangular(S, x, X)),
    ("eigvalsh(S + S.T)", lambda: np.linalg.eigvalsh(S + S.T)),
    ("eigvecsh(S + S.T) @ diag(eigvalsh(S + S.T)) @ eigvecsh(S + S.T).T", lambda: S + S.T),
    ("pinv(X) @ X", lambda: np.eye(3)),
    ("pinv(W)", lambda: np.linalg.pinv(W)),
]


@pytest.mark.parametrize("text, reference", VALUES, ids=[t for t, _ in VALUES])
def test_values_match_numpy(text, reference):
    np.testing.assert_allclose(ev(text), reference(), rtol=1e-12, atol=1e-12)


def test_every_whitelisted_function_has_a_value_test_and_a_kernel():
    used = {name for text, _ in VALUES for name, _ in called_functions(parse(text, CALLABLES))}
    assert WHITELIST <= used
    assert set(KERNELS) == WHITELIST


def test_results_are_arrays():
    out = ev("sum(x)")
    assert isinstance(out, np.ndarray) and out.shape == ()
    assert isinstance(ev("2.0"), np.ndarray)


def test_float32_stays_float32():
    env = dict(ENV, x=x.astype(np.float32))
    assert ev("2 * exp(x) + 1", env).dtype == np.float32
    assert ev("sigmoid(x) + relu(x) + softplus(x)", env).dtype == np.float32


def test_large_arguments_do_not_overflow():
    z = np.array([-800.0, 0.0, 800.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(ev("sigmoid(z)", {"z": z}), [0.0, 0.5, 1.0])
        np.testing.assert_allclose(ev("softplus(z)", {"z": z}), [0.0, np.log(2), 800.0])
        np.testing.assert_allclose(ev("logsumexp(z)", {"z": z}), 800.0)
        np.testing.assert_allclose(ev("softmax(z)", {"z": z}), [0.0, 0.0, 1.0])


def test_onehot_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match="label 3 is out of range for k=3"):
        ev("onehot(y, k)", dict(ENV, y=np.array([0, 3])))


def test_singular_matrix_propagates_as_numpy_error():
    with pytest.raises(np.linalg.LinAlgError):
        ev("inv(S)", dict(ENV, S=np.zeros((3, 3))))


def test_cholesky_refuses_a_matrix_that_is_not_positive_definite():
    with pytest.raises(np.linalg.LinAlgError, match="cholesky\\(\\): the matrix is not positive definite"):
        ev("cholesky(-S @ S.T)")
    with pytest.raises(np.linalg.LinAlgError, match="cholesky\\(\\): the matrix is not positive definite"):
        ev("cholesky(Z)", {"Z": -S @ S.T + 1e-30j * S})  # the recurrence, at a complex point


def test_solve_triangular_refuses_a_zero_on_the_diagonal():
    with pytest.raises(np.linalg.LinAlgError, match="singular \\(a zero on its diagonal\\)"):
        ev("solve_triangular(S - diag(diag(S)), x)")


def test_cholesky_and_solve_triangular_do_not_conjugate():
    """numpy factors a complex A as L L^H; the kernel's L L^T is the analytic continuation."""
    Z = S @ S.T + 1e-3j * (W @ W.T)
    L = ev("cholesky(Z)", {"Z": Z})
    np.testing.assert_allclose(L @ L.T, Z, rtol=1e-12, atol=1e-12)
    assert np.all(L == np.tril(L))
    np.testing.assert_allclose(L @ ev("solve_triangular(L, x, lower=True)", {"L": L, "x": x}), x, atol=1e-12)


def test_an_unsafe_function_refuses_a_complex_point_by_name():
    from gradcheck.expr.evaluate import NoComplexContinuation
    from gradcheck.oracle.estimate import NotComplexSafe

    with pytest.raises(NoComplexContinuation, match="^eigvalsh has no complex-step continuation$") as caught:
        ev("sum(eigvalsh(Z))", {"Z": S + 1e-30j * S})
    assert isinstance(caught.value, NotComplexSafe) and caught.value.function == "eigvalsh"
    np.testing.assert_allclose(ev("eigvalsh(S + S.T)"), np.linalg.eigvalsh(S + S.T))  # real points evaluate


def test_transpose_never_conjugates():
    Z = X + 1j * rng.normal(size=X.shape)
    np.testing.assert_array_equal(ev("Z.T", {"Z": Z}), Z.T)
    np.testing.assert_array_equal(ev("transpose(Z)", {"Z": Z}), Z.T)


def test_perturb_applies_to_floating_non_leaf_results_only():
    seen = []

    def perturb(a):
        seen.append(a.shape)
        return a * (1 + 1e-3)

    out = ev("sum(onehot(y, k) * 2)", perturb=perturb)
    assert seen == [(4, 3), (4, 3), ()]  # onehot, the product, the sum
    np.testing.assert_allclose(out, 8 * (1 + 1e-3) ** 3)
    assert ev("y[0] + 0", perturb=lambda a: a * 2) == 0  # int index result untouched, then 0 + 0.0 -> 0


# -- complex step ---------------------------------------------------------------------------

H = 1e-30
DIRS = {name: rng.normal(size=np.shape(value)) for name, value in ENV.items() if isinstance(value, np.ndarray)}
CASES = [
    "exp(x)",
    "log(p)",
    "log1p(p)",
    "expm1(x)",
    "sqrt(p)",
    "square(x)",
    "sin(x)",
    "cos(x)",
    "tanh(x)",
    "sigmoid(30 * x)",
    "softplus(30 * x)",
    "relu(x)",
    "abs(x)",
    "maximum(x, w)",
    "minimum(x, w)",
    "where(x > 0, x, 0.01 * x)",
    "max(X, axis=0) + amin(X, axis=1, keepdims=True)",
    "var(X, axis=1, ddof=1) + std(X, axis=1)",
    "cumsum(X) + cumprod(X)",
    "logaddexp(30 * X, x)",
    "clip(X, -0.5, w) + sign(X)",
    "erf(x) + gelu(3 * x) + gelu(x, approximate='tanh')",
    "log_sigmoid(-30 * x) + abs2(x) + reciprocal(p)",
    "tril(S, k=-1) + triu(S)",
    "softmax(X)",
    "log_softmax(X, axis=0)",
    "logsumexp(X, axis=1)",
    "sum(X ** 3)",
    "mean(X, axis=0)",
    "prod(X, axis=1)",
    "norm(X)",
    "norm(X, axis=0)",
    "trace(S @ S)",
    "det(S)",
    "logdet(S)",
    "logdet(-S)",
    "logdet(T3)",
    "inv(S)",
    "solve(S, x)",
    "diag(x)",
    "diag(S)",
    "outer(x, w)",
    "kron(S, W)",
    "dot(X, x)",
    'einsum("ij,jk->ik", X, W)',
    "stack([x, w])",
    "concatenate((x, w))",
    "reshape(X, (3, 4))",
    "transpose(X) @ X",
    "X.T @ X",
    "ones_like(x) * x + zeros_like(x)",
    "X[:, 1:] * X[0, 0]",
    "X.T @ (X @ W * dh(X @ W))",
    "onehot(y, k) * X",
    "x / (1 + x ** 2) - 2 ** x",
    "cholesky(S @ S.T + X.T @ X)",
    "solve_triangular(S, X.T) + solve_triangular(S, X.T, lower=True)",
    "solve_triangular(S, x, lower=True)",
    "pinv(X).T @ pinv(W).T",
]


@pytest.mark.parametrize("text", CASES)
def test_complex_step_matches_central_differences(text):
    names = [n for n in DIRS if n in text and n != "y"]
    step = lambda t: {**ENV, **{n: ENV[n] + t * DIRS[n] for n in names}}  # noqa: E731
    cs = np.imag(ev(text, step(1j * H))) / H
    delta = 1e-6
    fd = (ev(text, step(delta)) - ev(text, step(-delta))) / (2 * delta)
    scale = max(np.max(np.abs(fd)), 1e-3)
    assert np.max(np.abs(cs - fd)) <= 1e-6 * scale, (cs, fd)
    np.testing.assert_allclose(np.real(ev(text, step(1j * H))), ev(text), rtol=1e-12, atol=1e-12)


def test_kinked_functions_follow_the_real_branch():
    z = np.array([-2.0, 3.0]) + 1j * H * np.array([1.0, 1.0])
    np.testing.assert_allclose(np.imag(ev("abs(z)", {"z": z})) / H, [-1.0, 1.0])
    np.testing.assert_allclose(np.imag(ev("relu(z)", {"z": z})) / H, [0.0, 1.0])
    np.testing.assert_allclose(np.imag(ev("maximum(z, 0)", {"z": z})) / H, [0.0, 1.0])
    np.testing.assert_allclose(np.imag(ev("minimum(z, 0)", {"z": z})) / H, [1.0, 0.0])
    np.testing.assert_allclose(np.imag(ev("norm(z)", {"z": z})) / H, (-2.0 + 3.0) / np.sqrt(13))
    np.testing.assert_allclose(np.imag(ev("max(z) + 10 * min(z)", {"z": z})) / H, 11.0)
    np.testing.assert_allclose(np.imag(ev("clip(z, -1, 1)", {"z": z})) / H, [0.0, 0.0])
    np.testing.assert_allclose(np.imag(ev("clip(z, -3, 4)", {"z": z})) / H, [1.0, 1.0])
    np.testing.assert_allclose(ev("sign(z)", {"z": z}), [-1.0, 1.0])
    assert ev("argmax(z)", {"z": z}) == 1


def test_sigmoid_is_complex_safe_for_large_arguments():
    z = np.array([-800.0, 800.0, -30.0]) + 1j * H
    with np.errstate(over="raise", invalid="raise"):
        out = ev("sigmoid(z) + softplus(z)", {"z": z})
    s = 1 / (1 + np.exp(30.0))
    np.testing.assert_allclose(np.imag(out) / H, [0.0, 1.0, s * (1 - s) + s], rtol=1e-12, atol=1e-300)
