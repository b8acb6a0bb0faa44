"""Batched evaluation: item i of a batched result is the unbatched result at item i.

Every expression of the value and complex-step tables is evaluated with each of its array
names batched alone and with all of them batched at once (k = 3 items that differ), in real
and in complex arithmetic, and compared with k separate walks. A batch rule that drops,
swaps or broadcasts the batch axis wrongly shows up as a mismatch or a shape error here.
"""

import itertools

import numpy as np
import pytest

from gradcheck.expr.evaluate import NoComplexContinuation, evaluate, evaluate_batched
from gradcheck.expr.functions import TABLE
from gradcheck.expr.parse import called_functions, parse

from .test_evaluate import CALLABLES, CASES, DEFINES, ENV, VALUES

K = 3
_rng = np.random.default_rng(7)
ARRAYS = [name for name, value in ENV.items() if isinstance(value, np.ndarray) and value.dtype.kind == "f"]


def _items(name, value, complex_):
    """K values of ``name``: the original and two nearby points (positive stays positive)."""
    out = [value]
    for _ in range(K - 1):
        scale = 1 + 0.05 * _rng.uniform(-1, 1, size=value.shape)
        item = value * scale
        if complex_:
            item = item + 1j * 1e-3 * _rng.normal(size=value.shape)
        out.append(item)
    if complex_:
        out[0] = out[0] + 0j
    return np.stack(out)


def _used(text):
    expr = parse(text, CALLABLES)
    names = set()

    def walk(node):
        for field in getattr(node, "__dataclass_fields__", {}):
            child = getattr(node, field)
            for c in child if isinstance(child, tuple) else (child,):
                if type(c).__name__ == "Name":
                    names.add(c.id)
                elif hasattr(c, "__dataclass_fields__"):
                    walk(c)

    walk(expr)
    return expr, [n for n in ARRAYS if n in names]


TEXTS = sorted({t for t, _ in VALUES} | set(CASES))


def _subsets(names):
    return [(n,) for n in names] + ([tuple(names)] if len(names) > 1 else [])


CASES_BATCHED = [(text, subset, c) for text in TEXTS for subset in _subsets(_used(text)[1]) for c in (False, True)]


@pytest.mark.parametrize(
    "text, names, complex_",
    CASES_BATCHED,
    ids=[f"{t} [{','.join(n)}]{' complex' if c else ''}" for t, n, c in CASES_BATCHED],
)
def test_batched_items_equal_separate_evaluations(text, names, complex_):
    expr, _ = _used(text)
    batch = {n: _items(n, ENV[n], complex_) for n in names}
    if complex_ and any(f in TABLE and not TABLE[f].complex_safe for f, _ in called_functions(expr)):
        with pytest.raises(NoComplexContinuation):  # refused batched as unbatched (eigvalsh, eigvecsh)
            evaluate_batched(expr, {**ENV, **batch}, DEFINES, names)
        return
    out, has_axis = evaluate_batched(expr, {**ENV, **batch}, DEFINES, names)
    assert has_axis
    assert out.shape[0] == K
    for i in range(K):
        single = evaluate(expr, {**ENV, **{n: batch[n][i] for n in names}}, DEFINES)
        assert out[i].shape == single.shape
        np.testing.assert_allclose(out[i], single, rtol=1e-12, atol=1e-12)


def test_every_value_expression_has_a_batched_case():
    covered = {t for t, _, _ in CASES_BATCHED}
    constant = {t for t in TEXTS if not _used(t)[1]}
    assert covered | constant == set(TEXTS)
    assert len(covered) > 60


def test_a_result_independent_of_the_batch_has_no_batch_axis():
    expr, _ = _used("sum(W) + 1")
    out, has_axis = evaluate_batched(expr, {**ENV, "X": np.stack([ENV["X"]] * K)}, DEFINES, ["X"])
    assert not has_axis
    np.testing.assert_allclose(out, ENV["W"].sum() + 1)


def test_batched_complex_step_gives_k_directional_derivatives_in_one_call():
    expr, _ = _used("sum(sigmoid(X @ W) ** 2) + logdet(S)")
    h = 1e-30
    V = _rng.normal(size=(K,) + ENV["W"].shape)
    Z = ENV["W"] + 1j * h * V
    out, _ = evaluate_batched(expr, {**ENV, "W": Z}, DEFINES, ["W"])
    for i in range(K):
        one = evaluate(expr, {**ENV, "W": Z[i]}, DEFINES)
        assert np.imag(out[i]) / h == pytest.approx(np.imag(one) / h, rel=1e-13)


def test_perturbation_applies_to_batched_intermediates():
    seen = []

    def perturb(a):
        seen.append(a.shape)
        return a

    expr, _ = _used("sum(X * 2)")
    evaluate_batched(expr, {**ENV, "X": np.stack([ENV["X"]] * K)}, DEFINES, ["X"], perturb=perturb)
    assert seen == [(K, 4, 3), (K,)]


@pytest.mark.parametrize("a, b", list(itertools.product(["x", "X", "X.T", "T3"], repeat=2)))
def test_matmul_of_every_rank_pair(a, b):
    """`@` with a vector, a matrix or a stack on either side, each side batched or not."""
    env = {**ENV, "T3": _rng.normal(size=(2, 3, 3)), "X": _rng.normal(size=(3, 3))}
    text = f"{a} @ {b}"
    expr, used = _used(text)
    for names in _subsets(used):
        batch = {n: _items(n, env[n], False) for n in names}
        out, _ = evaluate_batched(expr, {**env, **batch}, DEFINES, names)
        for i in range(K):
            single = evaluate(expr, {**env, **{n: batch[n][i] for n in names}}, DEFINES)
            np.testing.assert_allclose(out[i], single, rtol=1e-12, atol=1e-12)
