"""Batched evaluation inside the oracles: same numbers as one point at a time, within the memory budget."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from gradcheck.expr.evaluate import evaluate, evaluate_batched
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.oracle import complex_step
from gradcheck.oracle.batch import TEMPORARIES, Batchable, chunk_for
from gradcheck.oracle.choice import OracleChoice

LOSS = parse("0.5 * sum((Y - sigmoid(X @ T)) ** 2)", WHITELIST)
rng = np.random.default_rng(3)
X, Y = rng.standard_normal((6, 5)), rng.standard_normal((6, 4))
T0 = rng.standard_normal((5, 4))


def one(t):
    return evaluate(LOSS, {"X": X, "Y": Y, "T": t}, {})


def many(ts):
    return evaluate_batched(LOSS, {"X": X, "Y": Y, "T": ts}, {}, {"T"})[0]


def grad(t):
    s = 1 / (1 + np.exp(-X @ t))
    return X.T @ ((s - Y) * s * (1 - s))


@pytest.mark.parametrize("chunk", [1, 3, 7, 20, 1000])
def test_batched_gradient_equals_the_looped_one_for_every_chunk(chunk):
    batched = complex_step.gradient(Batchable(one, many, chunk), T0)
    looped = complex_step.gradient(one, T0)
    np.testing.assert_array_equal(batched.value, looped.value)
    np.testing.assert_allclose(batched.value, grad(T0), rtol=1e-13, atol=1e-15)
    assert batched.evaluations == looped.evaluations == T0.size


def test_batched_directions_equal_one_at_a_time():
    dirs = [rng.standard_normal(T0.shape) for _ in range(5)]
    f = Batchable(one, many, 2)
    batched = complex_step.directional_many(f, T0, dirs)
    looped = [complex_step.directional(one, T0, v) for v in dirs]
    assert [float(b.value) for b in batched] == [float(v.value) for v in looped]
    assert [float(b.at) for b in batched] == pytest.approx([float(one(T0))] * 5, rel=1e-15)
    via_choice = OracleChoice().directions(f, T0, dirs)
    assert [float(b.value) for b in via_choice] == [float(v.value) for v in looped]


def test_a_batched_form_is_used_in_as_few_calls_as_the_chunk_allows():
    calls = []

    def counting(ts):
        calls.append(len(ts))
        return many(ts)

    complex_step.gradient(Batchable(one, counting, 8), T0)
    assert calls == [8, 8, 4]  # 20 entries in chunks of 8


def test_user_code_without_a_batched_form_is_looped():
    calls = []

    def f(t):
        calls.append(1)
        return one(t)

    complex_step.gradient(Batchable(f, None, 100), T0)
    assert len(calls) == T0.size


def test_chunk_comes_from_the_budget_and_the_cache():
    from gradcheck.oracle.batch import CACHE_BYTES, MAX_CHUNK

    assert chunk_for(10**9, 512) == 1  # never zero
    assert chunk_for(1000, 1) == 2**20 // (TEMPORARIES * 16 * 1000)  # the budget binds: 8 points
    assert chunk_for(4096, 512) == CACHE_BYTES // (16 * 4096)  # the cache binds: 32 points
    assert chunk_for(12, 512) == MAX_CHUNK
    assert chunk_for(10**6, 512) == 1


def test_a_small_budget_bounds_the_peak_memory_of_a_batched_gradient():
    n_in, n_out, m = 40, 30, 50
    Xb = rng.standard_normal((m, n_in))
    Yb = rng.standard_normal((m, n_out))
    T = rng.standard_normal((n_in, n_out))
    largest = max(Xb.size, Yb.size, T.size)

    def many_b(ts):
        return evaluate_batched(LOSS, {"X": Xb, "Y": Yb, "T": ts}, {}, {"T"})[0]

    def peak(budget_mib, chunk=None):
        chunk = chunk if chunk is not None else chunk_for(largest, budget_mib)
        f = Batchable(lambda t: evaluate(LOSS, {"X": Xb, "Y": Yb, "T": t}, {}), many_b, chunk)
        tracemalloc.start()
        try:
            complex_step.gradient(f, T)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, unbounded = peak(0.25), peak(None, chunk=T.size)
    assert small <= 0.25 * 2**20  # within a 0.25 MiB budget
    assert unbounded > 4 * small  # all 1200 points at once would not be


def test_finite_difference_stencils_are_batched_and_agree_with_the_looped_ones():
    from gradcheck.oracle import finite_diff

    calls = []

    def counting(ts):
        calls.append(len(ts))
        return many(ts)

    v = np.random.default_rng(11).standard_normal(T0.shape)
    batched = finite_diff.directional(Batchable(one, counting, 64), T0, v)
    looped = finite_diff.directional(one, T0, v)
    exact = float(np.vdot(grad(T0), v))
    assert abs(float(batched.value) - exact) <= float(batched.error)  # within its own error bar
    assert float(batched.value) == pytest.approx(float(looped.value), rel=1e-9, abs=float(looped.error))
    assert batched.evaluations == looped.evaluations
    assert len(calls) < batched.evaluations / 2  # the stencil points of an iteration share a call
    c_batched = finite_diff.central(Batchable(one, counting, 64), T0, v)
    assert float(c_batched) == pytest.approx(float(finite_diff.central(one, T0, v)), rel=1e-8)
