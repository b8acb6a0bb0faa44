"""Large and deeply layered specs: loading is linear in the number of graph nodes, helper
calls are inferred once per helper and arguments, and helper nesting is bounded with a
located error instead of a RecursionError or an exponential hang."""

from __future__ import annotations

import os
import sys

import pytest

import gradcheck
from gradcheck.errors import SpecError
from gradcheck.spec.load import load_spec_text

ROOT = os.path.dirname(gradcheck.__file__)


def layered(n: int) -> str:
    """n graph nodes, each using the previous one."""
    lines = ["inputs: {x: {shape: [3]}}", "graph:", "  a0: x * 2"]
    lines += [f"  a{i}: a{i - 1} + 1" for i in range(1, n)]
    lines += [f"loss: sum(a{n - 1})", "claims: [{name: g, wrt: x, gradient: 2 * ones_like(x)}]"]
    return "\n".join(lines) + "\n"


def lines_run(text: str) -> int:
    """Lines of gradcheck's own code executed to load ``text``: a count of operations, not a time."""
    executed = 0

    def local(frame, event, arg):
        nonlocal executed
        executed += event == "line"
        return local

    def enter(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(ROOT) else None

    sys.settrace(enter)
    try:
        load_spec_text(text, "specs/big.yaml")
    finally:
        sys.settrace(None)
    return executed


def test_loading_is_linear_in_the_number_of_graph_nodes():
    small, large = lines_run(layered(200)), lines_run(layered(1000))
    # 5x the nodes: linear work grows 5x, the quadratic loader grew about 20x
    assert large / small < 8, (small, large)


def helpers(n: int, calls: int) -> str:
    """f0 calls f1 ``calls`` times, f1 calls f2, ..., f{n} doubles its argument."""
    lines = ["inputs: {x: {shape: [3]}}", "define:"]
    for i in range(n):
        lines.append(f"  f{i}(z): " + " + ".join([f"f{i + 1}(z)"] * calls))
    lines.append(f"  f{n}(z): z * 2")
    lines += ["loss: sum(f0(x))", "claims: [{name: g, wrt: x, gradient: ones_like(x)}]"]
    return "\n".join(lines) + "\n"


def test_two_hundred_chained_helpers_are_a_located_error_not_a_recursion_error(tmp_path):
    from gradcheck.run import read_problem

    deep = tmp_path / "deep.yaml"
    deep.write_text(helpers(200, 1))
    with pytest.raises(SpecError):  # what the CLI and pytest's collection call
        read_problem(str(deep))
    with pytest.raises(SpecError) as caught:
        load_spec_text(helpers(200, 1), "specs/deep.yaml")
    error = caught.value
    assert str(error).splitlines() == [
        "specs/deep.yaml:3:10: define 'f0' nests helpers too deeply: inlined, it is 202 levels deep (at most 100)",
        "  f1(z)",
        "  ^^",
        "  every helper call nests its helper's body inside the caller; shorten the chain of helpers, "
        "or compute intermediate values as graph nodes",
    ]


def test_a_chain_of_helpers_that_each_call_the_next_twice_is_refused_at_once():
    with pytest.raises(SpecError) as caught:
        load_spec_text(helpers(40, 2), "specs/wide.yaml")
    assert str(caught.value).splitlines() == [
        "specs/wide.yaml:3:10: define 'f0' grows to more than 10000 operations once its helpers are inlined",
        "  f1(z) + f1(z)",
        "  ^^",
        "  every call evaluates its helper's body again; compute a shared value once as a graph node and use its name",
    ]


def test_a_chain_of_helpers_at_the_bound_is_checked_without_exhausting_the_stack(tmp_path):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    text = helpers(96, 1)  # the loss, sum(f0(x)), is 100 levels deep inlined: the most allowed
    assert len(load_spec_text(text, "specs/ok.yaml").define) == 97
    path = tmp_path / "deep.yaml"
    path.write_text(text.replace("gradient: ones_like(x)", "gradient: 2 * ones_like(x)"))
    result = run([str(path)], RunOptions(seed=1, examples=2))
    assert not result.failures and [v.label for v in result.verdicts] == ["pass"]


def test_shape_inference_works_out_each_helper_once_per_argument_shapes(monkeypatch):
    from gradcheck.expr import shapes
    from gradcheck.problem.build import build_problem

    spec = load_spec_text(helpers(8, 2), "specs/wide.yaml")  # 2**8 calls of f8 once inlined
    bodies = []
    run = shapes._Inferrer.run

    def counting(self, expr):
        bodies.append(self.text)
        return run(self, expr)

    monkeypatch.setattr(shapes._Inferrer, "run", counting)
    build_problem(spec)
    helper_bodies = [text for text in bodies if text.startswith("f") or text == "z * 2"]
    assert len(helper_bodies) <= 2 * 9, len(helper_bodies)  # the loss and the claim each infer f0..f8 once


def test_shape_checking_is_linear_in_the_number_of_graph_nodes():
    import dataclasses
    import time

    from gradcheck.errors import Location
    from gradcheck.expr.functions import WHITELIST
    from gradcheck.expr.parse import parse
    from gradcheck.problem.build import build_problem
    from gradcheck.spec.model import GraphNode, Source

    base = load_spec_text(layered(2), "specs/big.yaml")
    at = Location("specs/big.yaml", 1, 1)

    def source(text):
        return Source(text, parse(text, WHITELIST), at)

    def seconds(n):
        graph = [GraphNode("a0", source("x * 2"), at)]
        graph += [GraphNode(f"a{i}", source(f"a{i - 1} + 1"), at) for i in range(1, n)]
        spec = dataclasses.replace(base, graph=tuple(graph), loss=source(f"sum(a{n - 1})"))
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            build_problem(spec)
            best = min(best, time.process_time() - start)
        return best

    small, large = seconds(1000), seconds(16000)
    # 16x the nodes: linear work grows about 16x; copying every earlier node's shape for each node
    # grew 23x already from 1000 to 8000 nodes (0.0095 s -> 0.22 s)
    assert large / small < 60, (small, large)
