"""Samples: distinct dims, domains honoured, reproducible draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.errors import Location
from gradcheck.samples.draw import Sample, draw_array, draw_inputs, sample_strategy
from gradcheck.spec.model import DimSpec, Domain, InputSpec

LOC = Location("t.yaml", 1, 1)
DIMS = {
    "k": DimSpec("k", 3, 3, LOC),
    "M": DimSpec("M", 2, 6, LOC),
    "in": DimSpec("in", 2, 5, LOC),
    "out": DimSpec("out", 2, 5, LOC),
}


@settings(max_examples=100, deadline=None)
@given(sample_strategy(DIMS))
def test_dims_are_pairwise_distinct_where_ranges_allow(sample):
    assert sample.sizes["k"] == 3
    values = list(sample.sizes.values())
    assert len(set(values)) == len(values)
    assert 2 <= sample.sizes["M"] <= 6


@pytest.mark.parametrize("kind", ["spd", "symmetric", "orthogonal", "invertible"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_matrix_domains(kind, seed, n):
    a = draw_array(np.random.default_rng(seed), (2, n, n), Domain(kind), {})
    assert a.shape == (2, n, n)
    for m in a:
        if kind in ("spd", "symmetric"):
            np.testing.assert_allclose(m, m.T, atol=1e-12)
        if kind == "spd":
            assert np.linalg.eigvalsh(m).min() > 0.4
        if kind == "orthogonal":
            np.testing.assert_allclose(m @ m.T, np.eye(n), atol=1e-12)
        if kind == "invertible":
            assert np.linalg.cond(m) < 10


def test_scalar_domains():
    rng = np.random.default_rng(0)
    assert (draw_array(rng, (500,), Domain("positive"), {}) > 0).all()
    u = draw_array(rng, (500,), Domain("unit"), {})
    assert ((u > 0) & (u < 1)).all()
    r = draw_array(rng, (500,), Domain("range", -2.0, -1.0), {})
    assert ((r > -2) & (r < -1)).all()
    s = draw_array(rng, (4, 5), Domain("simplex"), {})
    np.testing.assert_allclose(s.sum(axis=-1), 1.0)
    assert (s > 0).all()
    y = draw_array(rng, (200,), Domain("integers", 0, "k"), {"k": 3})
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1, 2}


def test_inputs_are_reproducible_and_independent_of_hypothesis():
    inputs = {"X": InputSpec("X", ("M", "in"), Domain(), LOC), "w": InputSpec("w", ("in",), Domain(), LOC, "float32")}
    shapes = {"X": (4, 2), "w": (2,)}
    a = draw_inputs(inputs, shapes, Sample({"M": 4, "in": 2}, 123))
    b = draw_inputs(inputs, shapes, Sample({"M": 4, "in": 2}, 123))
    c = draw_inputs(inputs, shapes, Sample({"M": 4, "in": 2}, 124))
    np.testing.assert_array_equal(a["X"], b["X"])
    assert not np.array_equal(a["X"], c["X"])
    assert a["w"].dtype == np.float32
    assert len(np.unique(a["X"])) == a["X"].size  # no repeated background value


# ---- sizes: distinct where the ranges allow, shrunk distinct, never a materialised range --

ATTENTION = {  # specs/attention.yaml: four dims in narrow, overlapping ranges
    "n": DimSpec("n", 2, 4, LOC),
    "m": DimSpec("m", 2, 5, LOC),
    "d": DimSpec("d", 2, 3, LOC),
    "e": DimSpec("e", 2, 4, LOC),
}


@settings(max_examples=100, deadline=None)
@given(sample_strategy(ATTENTION))
def test_overlapping_ranges_still_give_distinct_dims(sample):
    # four dims, sizes 2..5: one distinct assignment exists, so every draw must find one
    assert sorted(sample.sizes.values()) == [2, 3, 4, 5]


def test_the_shrunk_example_keeps_distinct_dims_distinct():
    import random

    from hypothesis import find

    # a failure everywhere but at the largest n and m: the old greedy draw shrank to d = n = 2
    def fails(sample):
        return sample.sizes["n"] + sample.sizes["m"] < 9

    for run in range(10):  # the old draw shrank to a collision in 5 of these 10 runs
        smallest = find(sample_strategy(ATTENTION), fails, settings=settings(database=None), random=random.Random(run))
        assert len(set(smallest.sizes.values())) == 4, smallest.sizes


def test_seeded_sizes_are_distinct_too():
    from gradcheck.samples.draw import example_sizes

    for seed in range(50):
        assert sorted(example_sizes(ATTENTION, frozenset(), seed).values()) == [2, 3, 4, 5]


def test_a_huge_unused_range_is_never_materialised():
    import tracemalloc

    from gradcheck.samples.draw import example_sizes

    dims = {"K": DimSpec("K", 1, 2_000_000, LOC), "n": DimSpec("n", 2, 3, LOC)}
    tracemalloc.start()
    try:
        sizes = example_sizes(dims, frozenset({2}), 7)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak  # a list of the range would be some 70 MB
    assert 1 <= sizes["K"] <= 2_000_000 and sizes["n"] == 3 != sizes["K"]
    huge = {"K": DimSpec("K", 1, 10**12, LOC)}
    assert 1 <= example_sizes(huge, frozenset(), 1)["K"] <= 10**12


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_derived_dims_are_kept_distinct_from_the_others(data):
    from gradcheck.expr.dims import parse_dim

    dims = {"M": DimSpec("M", 2, 6, LOC), "F": DimSpec("F", 1, 4, LOC)}
    sizes = data.draw(sample_strategy(dims, derived=(parse_dim("F + 1", {"F": (1, 4)}),))).sizes
    assert len({sizes["M"], sizes["F"], sizes["F"] + 1}) == 3, sizes


def test_the_factor_refinement_never_materialises_a_dims_range():
    """A factor 1/K re-runs the example with another K: the first free size, not a list of the range."""
    import tracemalloc

    from gradcheck.check import check_plan
    from gradcheck.examine import CheckSettings
    from gradcheck.problem.build import build_problem
    from gradcheck.spec.load import load_spec_text

    text = (
        "spec: huge\ndims:\n  n: [2, 4]\n  K: [2, 2000000]\ninputs:\n  x: {shape: [n]}\n"
        "loss: K * sum(x ** 2)\nclaims:\n  - {name: lost-K, wrt: x, gradient: 2 * x}\n"
    )
    problem = build_problem(load_spec_text(text, "h.yaml"))
    tracemalloc.start()
    try:
        v = check_plan(problem, problem.plans[0], CheckSettings(examples=10, seed=1, database=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert v.label == "scaled" and v.lines[0].startswith("the factor is 1/K: an extra 1/K")
    assert peak < 20_000_000, peak  # the list of K's range alone was some 80 MB


def test_attentions_shrunk_failure_keeps_its_four_dims_distinct():
    """specs/attention.yaml with dV doubled: the old draw shrank to n = d = 2 for every seed tried."""
    from pathlib import Path

    from gradcheck.check import check_plan
    from gradcheck.examine import CheckSettings
    from gradcheck.problem.build import build_problem
    from gradcheck.spec.load import load_spec_text

    text = (Path(__file__).parents[2] / "specs" / "attention.yaml").read_text()
    text = text.replace("    gradient: P.T @ (O - T)", "    gradient: 2 * P.T @ (O - T)", 1)
    problem = build_problem(load_spec_text(text, "attention.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == "grad-V")
    v = check_plan(problem, plan, CheckSettings(examples=25, seed=0, database=False))
    assert v.label == "scaled"
    assert sorted(v.failing.sizes.values()) == [2, 3, 4, 5], v.failing.sizes
