"""--memory charges every intermediate the IR can produce, not only inputs and nodes."""

from __future__ import annotations

import tracemalloc

from gradcheck.examine import CheckSettings
from gradcheck.problem.bound import bind
from gradcheck.problem.build import build_problem
from gradcheck.samples.draw import Sample
from gradcheck.spec.load import load_spec_text

SPEC = """\
dims: {n: 700}
define:
  gram(z): outer(z, z)
inputs:
  x: {shape: [n]}
loss: sum(gram(x)) + sum(x ** 2)
claims:
  - {name: g, wrt: x, gradient: 2 * sum(x) * ones_like(x) + 2 * x}
  - {name: forgot-gram, wrt: x, gradient: 2 * x, expect: fail}
"""


def test_the_largest_array_of_an_evaluation_counts_intermediates():
    problem = build_problem(load_spec_text(SPEC, "s.yaml"))
    bound = bind(problem, Sample({"n": 700}, 1))
    assert bound.largest() == 700 * 700  # outer(x, x) inside a helper, though no input or node is that big


def test_a_batched_evaluation_stays_within_the_memory_budget():
    from gradcheck.check import check_plan

    problem = build_problem(load_spec_text(SPEC, "s.yaml"))
    tracemalloc.start()
    try:
        # a wrong claim: its diagnosis takes the full gradient, 700 unit perturbations in batches
        v = check_plan(problem, problem.plans[1], CheckSettings(examples=2, seed=1, memory_mib=32, repair=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert v.label == "wrong", v.lines
    assert peak < 120 * 2**20, f"peak {peak / 2**20:.0f} MiB"  # 64 points of a 700 x 700 complex outer: ~500 MiB
