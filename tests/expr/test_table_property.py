"""Every function of the table, on drawn shapes, against an independent reference.

For each whitelisted function one or more expressions and a reference written with numpy,
scipy.special or math (never the kernel itself). Hypothesis draws the dims and a seed; each
example checks

* the real value against the reference;
* the complex step: Im f(x + i h v) / h against central differences of the *reference*, and
  Re f(x + i h v) against f(x) (for every kernel whose ``complex_safe`` claims it on real data);
* the batched evaluation: each item of a batch of K draws against the reference at that item,
  and the batched complex step against the unbatched one.

A function marked ``complex_safe=False`` (eigvalsh: numpy's eigh takes complex input as
Hermitian, which is not the analytic continuation) is checked to refuse a complex point with
:class:`NoComplexContinuation` instead, so that the oracle falls back to finite differences.

A function added to the table without a kernel, a batch rule or a reference fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as la
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.expr.evaluate import NoComplexContinuation, evaluate, evaluate_batched
from gradcheck.expr.functions import TABLE, WHITELIST
from gradcheck.expr.parse import called_functions, parse

K = 3
H = 1e-30

# Names the expressions use (n, m are dims; m >= 2 so that ddof=1 has something to divide by).
SHAPES = {
    "x": lambda n, m: (n, m),
    "x2": lambda n, m: (n, m),
    "p": lambda n, m: (n, m),
    "w": lambda n, m: (m,),
    "u": lambda n, m: (n,),
    "S": lambda n, m: (n, n),
    "T": lambda n, m: (2, n, n),
    # convolutions and pooling: (N, C, *spatial) inputs, (O, C, *kernel) and (C, O, *kernel) weights
    "I1": lambda n, m: (2, n, m + 4),
    "K1": lambda n, m: (3, n, 2),
    "J1": lambda n, m: (n, 3, 2),
    "I2": lambda n, m: (2, n, m + 3, m + 2),
    "K2": lambda n, m: (3, n, 2, 3),
    "J2": lambda n, m: (n, 3, 3, 2),
    # linear algebra (fn-linalg): a lower-triangular L with a dominant diagonal, a small
    # non-symmetric perturbation N (cholesky/eigvalsh read the symmetric part), a full-rank R
    "L": lambda n, m: (n, n),
    "N": lambda n, m: (n, n),
    "R": lambda n, m: (n, m),
}


def _draw(name, n, m, rng):
    shape = SHAPES[name](n, m)
    if name == "p":
        return rng.uniform(0.5, 2.0, size=shape)
    if name == "S":
        a = rng.normal(size=shape)
        return a @ a.T / n + np.eye(n)  # symmetric positive definite
    if name == "L":
        return np.tril(rng.normal(size=shape) / n) + np.diag(rng.uniform(1.0, 2.0, size=n))
    if name == "N":
        return 0.1 * rng.normal(size=shape)
    if name == "R":
        return rng.normal(size=shape) / max(shape) + 2 * np.eye(*shape)  # full rank, well conditioned
    return rng.normal(size=shape)


def _env(n, m, rng):
    env = {name: _draw(name, n, m, rng) for name in SHAPES}
    env["y"] = rng.integers(0, m, size=n)
    return {**env, "n": n, "m": m}


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))


def _sym(a):
    return (a + a.T) / 2


def _eigvecsh(a):
    """scipy's eigenvectors of the symmetric part, each column signed so its largest entry is positive."""
    v = la.eigh(_sym(a))[1]
    pick = np.argmax(np.abs(v), axis=0)
    return v * np.sign(v[pick, np.arange(v.shape[1])])


def _cumulative(fn, a, axis):
    """A running sum/product by an explicit loop (numpy's cumsum is not the reference)."""
    a = np.moveaxis(np.ravel(a) if axis is None else a, 0 if axis is None else axis, -1)
    out = np.empty_like(a)
    acc = np.zeros(a.shape[:-1]) if fn == "sum" else np.ones(a.shape[:-1])
    for i in range(a.shape[-1]):
        acc = acc + a[..., i] if fn == "sum" else acc * a[..., i]
        out[..., i] = acc
    return np.moveaxis(out, -1, 0 if axis is None else axis)


def _per_axis(value, nd):
    return tuple(value) if isinstance(value, tuple) else (value,) * nd


def _padded(x, padding, k, d):
    """x zero-padded on its spatial axes; 'same' as torch (the odd one of d(k-1) after)."""
    nd = len(k)
    if padding == "same":
        pads = [(d[a] * (k[a] - 1) // 2, d[a] * (k[a] - 1) - d[a] * (k[a] - 1) // 2) for a in range(nd)]
    else:
        pads = [(p, p) for p in _per_axis(padding, nd)]
    return np.pad(x, [(0, 0), (0, 0)] + pads)


def _window(a, pos, k, s, d):
    """The (dilated) window of a padded (C, *spatial) array under output position ``pos``."""
    return a[(slice(None),) + tuple(slice(p * s[i], p * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i, p in enumerate(pos))]


def _conv_loops(x, w, stride=1, padding=0, dilation=1):
    """torch's conv1d/conv2d by a loop over output positions: out[n, o, pos] = sum(w[o] * window)."""
    nd = w.ndim - 2
    k, s, d = w.shape[2:], _per_axis(stride, nd), _per_axis(dilation, nd)
    xp = _padded(x, padding, k, d)
    sizes = [(xp.shape[2 + a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(nd)]
    out = np.zeros((x.shape[0], w.shape[0], *sizes), dtype=np.result_type(x, w))
    for n, o, *pos in np.ndindex(*out.shape):
        out[(n, o, *pos)] = np.sum(w[o] * _window(xp[n], pos, k, s, d))
    return out


def _conv_transpose_loops(x, w, stride=1, padding=0, dilation=1):
    """torch's conv_transpose1d/2d by a loop over input positions: each input entry scatters
    w[c] (dilated, at stride s) into the full output, which loses ``padding`` at both ends."""
    nd = w.ndim - 2
    k, s, d, p = w.shape[2:], _per_axis(stride, nd), _per_axis(dilation, nd), _per_axis(padding, nd)
    full = [s[a] * (x.shape[2 + a] - 1) + d[a] * (k[a] - 1) + 1 for a in range(nd)]
    out = np.zeros((x.shape[0], w.shape[1], *full), dtype=np.result_type(x, w))
    for n, c, *pos in np.ndindex(*x.shape):
        where = tuple(slice(q * s[a], q * s[a] + d[a] * (k[a] - 1) + 1, d[a]) for a, q in enumerate(pos))
        out[(n, slice(None)) + where] += x[(n, c, *pos)] * w[c]
    return out[(slice(None), slice(None)) + tuple(slice(p[a], full[a] - p[a]) for a in range(nd))]


def _pool_loops(x, k, stride=None, how=np.max):
    s = _per_axis(k if stride is None else stride, 2)
    sizes = [(x.shape[2 + a] - k) // s[a] + 1 for a in range(2)]
    out = np.zeros(x.shape[:2] + tuple(sizes), dtype=x.dtype)
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = how(x[n, c, i * s[0] : i * s[0] + k, j * s[1] : j * s[1] + k])
    return out


def _zero_padded(a, *widths):
    """Zero padding by hand: a zero array, a written into its middle."""
    out = np.zeros(tuple(d + b + f for d, (b, f) in zip(a.shape, widths)))
    out[tuple(slice(b, b + d) for d, (b, _) in zip(a.shape, widths))] = a
    return out


# function -> [(expression, reference(env))]
REFERENCES: dict[str, list[tuple[str, object]]] = {
    "sum": [("sum(x, axis=1)", lambda e: e["x"].sum(axis=1))],
    "mean": [("mean(x, axis=0, keepdims=True)", lambda e: e["x"].mean(axis=0, keepdims=True))],
    "prod": [("prod(x)", lambda e: math.prod(e["x"].ravel()))],
    "logsumexp": [("logsumexp(x, axis=0)", lambda e: sp.logsumexp(e["x"], axis=0))],
    "norm": [("norm(x, axis=1)", lambda e: np.sqrt((e["x"] ** 2).sum(axis=1)))],
    "max": [
        ("max(x, axis=1)", lambda e: e["x"].max(axis=1)),
        ("max(T, axis=(0, 2), keepdims=True)", lambda e: e["T"].max(axis=(0, 2), keepdims=True)),
    ],
    "min": [("min(x)", lambda e: min(e["x"].ravel()))],
    "amax": [("amax(x, axis=(0, 1), keepdims=True)", lambda e: e["x"].max(keepdims=True))],
    "amin": [("amin(x, axis=0)", lambda e: e["x"].min(axis=0))],
    "argmax": [("argmax(x, axis=1)", lambda e: e["x"].argmax(axis=1)), ("argmax(x)", lambda e: e["x"].argmax())],
    "argmin": [("argmin(x, axis=0, keepdims=True)", lambda e: e["x"].argmin(axis=0)[None, :])],
    "var": [("var(x, axis=1, ddof=1)", lambda e: np.var(e["x"], axis=1, ddof=1))],
    "std": [("std(x)", lambda e: np.std(e["x"])), ("std(T, axis=(1, 2))", lambda e: np.std(e["T"], axis=(1, 2)))],
    "cumsum": [
        ("cumsum(x, axis=1)", lambda e: _cumulative("sum", e["x"], 1)),
        ("cumsum(x)", lambda e: _cumulative("sum", e["x"], None)),
    ],
    "cumprod": [("cumprod(p, axis=0)", lambda e: _cumulative("prod", e["p"], 0))],
    "logaddexp": [("logaddexp(x, w)", lambda e: np.logaddexp(e["x"], e["w"]))],
    "clip": [("clip(x, w, w + 1)", lambda e: np.clip(e["x"], e["w"], e["w"] + 1))],
    "sign": [("sign(x)", lambda e: np.sign(e["x"]))],
    "erf": [("erf(3 * x)", lambda e: sp.erf(3 * e["x"]))],
    "gelu": [
        ("gelu(3 * x)", lambda e: 3 * e["x"] * sp.ndtr(3 * e["x"])),
        ("gelu(x, approximate='tanh')", lambda e: _gelu_tanh(e["x"])),
    ],
    "log_sigmoid": [("log_sigmoid(30 * x)", lambda e: sp.log_expit(30 * e["x"]))],
    "abs2": [("abs2(x)", lambda e: np.abs(e["x"]) ** 2)],
    "reciprocal": [("reciprocal(p)", lambda e: np.reciprocal(e["p"]))],
    "tril": [("tril(x, k=-1)", lambda e: np.tril(e["x"], -1))],
    "triu": [("triu(T)", lambda e: np.triu(e["T"])), ("triu(x, k=1)", lambda e: np.triu(e["x"], 1))],
    "exp": [("exp(x)", lambda e: np.exp(e["x"]))],
    "log": [("log(p)", lambda e: np.log(e["p"]))],
    "log1p": [("log1p(p)", lambda e: np.log1p(e["p"]))],
    "expm1": [("expm1(x)", lambda e: np.expm1(e["x"]))],
    "sqrt": [("sqrt(p)", lambda e: np.sqrt(e["p"]))],
    "square": [("square(x)", lambda e: e["x"] ** 2)],
    "sin": [("sin(x)", lambda e: np.sin(e["x"]))],
    "cos": [("cos(x)", lambda e: np.cos(e["x"]))],
    "tanh": [("tanh(x)", lambda e: np.tanh(e["x"]))],
    "sigmoid": [("sigmoid(30 * x)", lambda e: sp.expit(30 * e["x"]))],
    "softplus": [("softplus(30 * x)", lambda e: np.logaddexp(0, 30 * e["x"]))],
    "relu": [("relu(x)", lambda e: np.maximum(e["x"], 0))],
    "abs": [("abs(x)", lambda e: np.abs(e["x"]))],
    "ones_like": [("ones_like(x)", lambda e: np.ones_like(e["x"]))],
    "zeros_like": [("zeros_like(x)", lambda e: np.zeros_like(e["x"]))],
    "maximum": [("maximum(x, w)", lambda e: np.maximum(e["x"], e["w"]))],
    "minimum": [("minimum(x, 0)", lambda e: np.minimum(e["x"], 0))],
    "where": [("where(x > 0, x, w)", lambda e: np.where(e["x"] > 0, e["x"], e["w"]))],
    "softmax": [("softmax(x)", lambda e: sp.softmax(e["x"], axis=-1))],
    "log_softmax": [("log_softmax(x, axis=0)", lambda e: sp.log_softmax(e["x"], axis=0))],
    "trace": [("trace(S)", lambda e: np.trace(e["S"]))],
    "det": [("det(S)", lambda e: np.linalg.det(e["S"]))],
    "logdet": [
        ("logdet(S)", lambda e: np.linalg.slogdet(e["S"])[1]),
        ("logdet(T)", lambda e: np.linalg.slogdet(e["T"])[1]),  # negative determinants too
    ],
    "inv": [("inv(S)", lambda e: np.linalg.inv(e["S"]))],
    "solve": [("solve(S, u)", lambda e: np.linalg.solve(e["S"], e["u"]))],
    "diag": [("diag(u)", lambda e: np.diag(e["u"]))],
    "outer": [("outer(u, w)", lambda e: np.outer(e["u"], e["w"]))],
    "kron": [("kron(x, S)", lambda e: np.kron(e["x"], e["S"]))],
    "eye": [("eye(n)", lambda e: np.eye(e["n"]))],
    "ones": [("ones((n, m))", lambda e: np.ones((e["n"], e["m"])))],
    "zeros": [("zeros((m,))", lambda e: np.zeros(e["m"]))],
    "transpose": [("transpose(x)", lambda e: e["x"].T)],
    "reshape": [("reshape(x, (m, -1))", lambda e: e["x"].reshape(e["m"], -1))],
    "dot": [("dot(x, w)", lambda e: e["x"] @ e["w"])],
    "einsum": [('einsum("ij,j->i", x, w)', lambda e: e["x"] @ e["w"])],
    "onehot": [("onehot(y, m)", lambda e: np.eye(e["m"])[e["y"]])],
    "stack": [("stack([u, u], axis=1)", lambda e: np.stack([e["u"], e["u"]], axis=1))],
    "concatenate": [("concatenate([x, x2], axis=1)", lambda e: np.concatenate([e["x"], e["x2"]], axis=1))],
    "conv1d": [
        ("conv1d(I1, K1)", lambda e: _conv_loops(e["I1"], e["K1"])),
        ("conv1d(I1, K1, stride=2, padding=1, dilation=2)", lambda e: _conv_loops(e["I1"], e["K1"], 2, 1, 2)),
        ("conv1d(I1, K1, padding='same')", lambda e: _conv_loops(e["I1"], e["K1"], padding="same")),
    ],
    "conv2d": [
        ("conv2d(I2, K2)", lambda e: _conv_loops(e["I2"], e["K2"])),
        (
            "conv2d(I2, K2, stride=(2, 1), padding=(1, 2), dilation=(1, 2))",
            lambda e: _conv_loops(e["I2"], e["K2"], (2, 1), (1, 2), (1, 2)),
        ),
        ("conv2d(I2, K2, padding='same', dilation=2)", lambda e: _conv_loops(e["I2"], e["K2"], 1, "same", 2)),
        ("conv2d(I2, K2, padding='valid', stride=3)", lambda e: _conv_loops(e["I2"], e["K2"], 3)),
        ("conv2d(I2, ones((3, n, 2, 2)))", lambda e: _conv_loops(e["I2"], np.ones((3, e["n"], 2, 2)))),
    ],
    "conv_transpose1d": [
        ("conv_transpose1d(I1, J1)", lambda e: _conv_transpose_loops(e["I1"], e["J1"])),
        (
            "conv_transpose1d(I1, J1, stride=3, padding=1, dilation=2)",
            lambda e: _conv_transpose_loops(e["I1"], e["J1"], 3, 1, 2),
        ),
    ],
    "conv_transpose2d": [
        ("conv_transpose2d(I2, J2)", lambda e: _conv_transpose_loops(e["I2"], e["J2"])),
        (
            "conv_transpose2d(ones((2, n, 3, 3)), J2)",
            lambda e: _conv_transpose_loops(np.ones((2, e["n"], 3, 3)), e["J2"]),
        ),
        (
            "conv_transpose2d(I2, J2, stride=(2, 3), padding=(1, 0), dilation=(2, 1))",
            lambda e: _conv_transpose_loops(e["I2"], e["J2"], (2, 3), (1, 0), (2, 1)),
        ),
    ],
    "max_pool2d": [
        ("max_pool2d(I2, 2)", lambda e: _pool_loops(e["I2"], 2)),
        ("max_pool2d(I2, 3, stride=(1, 2))", lambda e: _pool_loops(e["I2"], 3, (1, 2))),
    ],
    "avg_pool2d": [
        ("avg_pool2d(I2, 2)", lambda e: _pool_loops(e["I2"], 2, how=np.mean)),
        ("avg_pool2d(I2, 3, stride=2)", lambda e: _pool_loops(e["I2"], 3, 2, how=np.mean)),
    ],
    # -- fn-index --
    "conj": [("conj(x)", lambda e: e["x"])],
    "real": [("real(x) * w", lambda e: e["x"] * e["w"])],
    "imag": [("imag(x) + w", lambda e: np.zeros_like(e["x"]) + e["w"])],
    "arange": [
        ("arange(n) * u", lambda e: np.array([float(i) for i in range(e["n"])]) * e["u"]),
        ("x[arange(n), y]", lambda e: np.array([e["x"][i, e["y"][i]] for i in range(e["n"])])),
        ("T[0, :, arange(n)]", lambda e: e["T"][0].T),  # apart: the index shape goes in front
        ("T[:, arange(n), arange(n)]", lambda e: np.stack([np.diag(t) for t in e["T"]])),
    ],
    "take_along_axis": [
        ("take_along_axis(x, y[:, None], axis=1)", lambda e: np.array([[e["x"][i, e["y"][i]]] for i in range(e["n"])])),
        ("take_along_axis(x.T, y[None, :], 0)", lambda e: np.array([[e["x"][i, e["y"][i]] for i in range(e["n"])]])),
    ],
    "expand_dims": [("expand_dims(x, (0, 2))", lambda e: e["x"].reshape(1, e["n"], 1, e["m"]))],
    "squeeze": [
        ("squeeze(x[:, None, :], 1)", lambda e: e["x"]),
        ("squeeze(w[None, :, None])", lambda e: e["w"]),
    ],
    "tile": [
        ("tile(x, (2, 1, 3))", lambda e: np.kron(np.ones((2, 1, 3)), e["x"][None])),
        ("tile(u, 2)", lambda e: np.concatenate([e["u"], e["u"]])),
    ],
    "repeat": [
        ("repeat(x, 2, axis=1)", lambda e: np.kron(e["x"], np.ones((1, 2)))),
        ("repeat(x, 3)", lambda e: np.kron(e["x"].ravel(), np.ones(3))),
    ],
    "pad": [
        ("pad(x, ((1, 0), (2, 3)))", lambda e: _zero_padded(e["x"], (1, 0), (2, 3))),
        ("pad(u, 1)", lambda e: _zero_padded(e["u"], (1, 1))),
    ],
    # linear algebra (fn-linalg)
    "cholesky": [
        ("cholesky(S)", lambda e: la.cholesky(_sym(e["S"]), lower=True)),
        ("cholesky(S + N)", lambda e: la.cholesky(_sym(e["S"] + e["N"]), lower=True)),
    ],
    "solve_triangular": [
        ("solve_triangular(L, u, lower=True)", lambda e: la.solve_triangular(e["L"], e["u"], lower=True)),
        ("solve_triangular(L.T, x)", lambda e: la.solve_triangular(e["L"].T, e["x"])),
        ("solve_triangular(S, x, lower=False)", lambda e: la.solve_triangular(e["S"], e["x"], lower=False)),
    ],
    "eigvalsh": [("eigvalsh(S + N)", lambda e: la.eigh(_sym(e["S"] + e["N"]), eigvals_only=True))],
    "eigvecsh": [("eigvecsh(S + N)", lambda e: _eigvecsh(e["S"] + e["N"]))],
    "pinv": [("pinv(R)", lambda e: la.pinv(e["R"])), ("pinv(R.T)", lambda e: la.pinv(e["R"].T))],
}
REFERENCES["transpose"].append(("transpose(T, (1, 2, 0))", lambda e: np.einsum("ijk->jki", e["T"])))
REFERENCES["einsum"] += [
    ('einsum("...ij,...j->...i", T, u)', lambda e: np.stack([t @ e["u"] for t in e["T"]])),
    ('einsum("...j,...j", x, w)', lambda e: e["x"] @ e["w"]),
]
CASES = [(function, text, reference) for function, rows in REFERENCES.items() for text, reference in rows]


# eigenvectors from two LAPACK drivers agree to eps / (eigenvalue gap), not to a few ulps
RTOL = {"eigvecsh": 1e-8}


def _expr(text):
    return parse(text, WHITELIST)


def _unsafe(expr):
    return sorted({name for name, _ in called_functions(expr) if not TABLE[name].complex_safe})


def _arrays(expr):
    """The float arrays an expression uses (labels y and the dims stay fixed)."""
    from gradcheck.expr.parse import free_names

    used = {name for name, _ in free_names(expr)}
    return [name for name in SHAPES if name in used]


def test_every_function_of_the_table_has_a_reference():
    assert set(REFERENCES) == set(TABLE), f"no reference for {sorted(set(TABLE) - set(REFERENCES))}"
    for function, text, _ in CASES:
        assert function in {name for name, _ in called_functions(_expr(text))}, text


dims = dict(n=st.integers(1, 4), m=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))


@pytest.mark.parametrize("function, text, reference", CASES, ids=[t for _, t, _ in CASES])
@settings(max_examples=8, deadline=None)
@given(**dims)
def test_kernel_matches_its_reference_real_and_complex_step(function, text, reference, n, m, seed):
    rng = np.random.default_rng(seed)
    env = _env(n, m, rng)
    expr = _expr(text)
    value = evaluate(expr, env, {})
    rtol = RTOL.get(function, 1e-12)
    np.testing.assert_allclose(value, reference(env), rtol=rtol, atol=rtol)

    names = _arrays(expr)
    directions = {name: rng.uniform(-1, 1, size=np.shape(env[name])) for name in names}

    def moved(t):
        return {**env, **{name: env[name] + t * directions[name] for name in names}}

    if _unsafe(expr):  # no complex step claimed: a complex point is refused, by name
        with pytest.raises(NoComplexContinuation, match=f"^{_unsafe(expr)[0]} has no complex-step continuation$"):
            evaluate(expr, moved(1j * H), {})
        return
    stepped = evaluate(expr, moved(1j * H), {})
    np.testing.assert_allclose(np.real(stepped), value, rtol=1e-12, atol=1e-12)
    delta = 1e-6
    fd = (np.asarray(reference(moved(delta)), float) - np.asarray(reference(moved(-delta)), float)) / (2 * delta)
    scale = max(float(np.max(np.abs(fd), initial=0.0)), 1e-3)
    assert np.max(np.abs(np.imag(stepped) / H - fd), initial=0.0) <= 1e-5 * scale, (np.imag(stepped) / H, fd)


@pytest.mark.parametrize("function, text, reference", CASES, ids=[t for _, t, _ in CASES])
@settings(max_examples=5, deadline=None)
@given(**dims)
def test_batched_kernel_matches_its_reference_item_by_item(function, text, reference, n, m, seed):
    rng = np.random.default_rng(seed)
    env = _env(n, m, rng)
    expr = _expr(text)
    names = _arrays(expr)
    if not names:
        return  # nothing to batch: a constant of the dims
    items = [{**env, **{name: _draw(name, n, m, rng) for name in names}} for _ in range(K)]
    batch = {name: np.stack([item[name] for item in items]) for name in names}
    out, has_axis = evaluate_batched(expr, {**env, **batch}, {}, names)
    assert has_axis and out.shape[0] == K
    rtol = RTOL.get(function, 1e-12)
    for i, item in enumerate(items):
        np.testing.assert_allclose(out[i], reference(item), rtol=rtol, atol=rtol)

    steps = {name: 1j * H * rng.uniform(-1, 1, size=batch[name].shape) for name in names}
    if _unsafe(expr):
        with pytest.raises(NoComplexContinuation):
            evaluate_batched(expr, {**env, **{name: batch[name] + steps[name] for name in names}}, {}, names)
        return
    stepped, _ = evaluate_batched(expr, {**env, **{name: batch[name] + steps[name] for name in names}}, {}, names)
    for i, item in enumerate(items):
        single = evaluate(expr, {**item, **{name: item[name] + steps[name][i] for name in names}}, {})
        np.testing.assert_allclose(np.imag(stepped[i]) / H, np.imag(single) / H, rtol=1e-12, atol=1e-12)
