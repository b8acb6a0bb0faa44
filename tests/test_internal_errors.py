"""A bug of gradcheck's own machinery surfaces as an ``error`` verdict that says so; it is never
taken for the user's code refusing a point (a rejected draw, a fallback oracle, a rounding error
of 0), which would make the check silently weaker.

Each test plants a bug in the machinery one formerly broad ``except Exception`` guarded: a
function that raises, compiled as if it were a file of gradcheck (so its frame is gradcheck's,
as a real bug's would be), and checks the verdict. The user's own code raising at the same
places stays the user's (the last tests).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import gradcheck
from gradcheck.check import check_plan
from gradcheck.problem.bound import Bound
from gradcheck.problem.build import build_problem
from gradcheck.settings import CheckSettings
from gradcheck.spec.load import load_spec_text

PLANTED = "RuntimeError: planted bug"


def _planted(when=None, original=None):
    """A function raising RuntimeError('planted bug'), compiled under a file name inside the
    gradcheck package; with ``when``/``original`` it raises only when ``when(args, kwargs)``
    holds, and otherwise calls ``original``."""
    source = (
        "def planted(*args, **kwargs):\n"
        "    if when is None or when(args, kwargs):\n"
        "        raise RuntimeError('planted bug')\n"
        "    return original(*args, **kwargs)\n"
    )
    namespace = {"when": when, "original": original}
    filename = os.path.join(os.path.dirname(gradcheck.__file__), "planted_bug.py")
    exec(compile(source, filename, "exec"), namespace)  # the test's own text: a stand-in for a bug
    return namespace["planted"]


SPEC = """
spec: planted
dims: {{n: {n}}}
inputs:
  x: {{shape: [n]}}
loss: sum(x * x * x)
claims:
  - {{name: right, wrt: x, gradient: "3 * x * x"}}
  - {{name: twice, wrt: x, gradient: "6 * x * x"}}
  - {{name: vjp, wrt: x, node: y, vjp: "3 * x * x * G"}}
  - {{name: jvp, wrt: x, node: y, jvp: "3 * x * x * V"}}
"""
NODES = "graph:\n  y: x * x * x\n"


def _verdict(claim: str, n: str = "3", **settings):
    text = SPEC.format(n=n).replace("claims:", NODES + "claims:")
    problem = build_problem(load_spec_text(text, "planted.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == claim)
    return check_plan(problem, plan, CheckSettings(examples=5, seed=1, repair=False, **settings))


def _assert_internal(verdict):
    assert verdict.label == "error", (verdict.label, verdict.diagnosis)
    assert verdict.diagnosis.startswith("internal error in gradcheck (please report it: " + PLANTED), verdict.diagnosis
    assert any("planted_bug.py" in line for line in verdict.lines), verdict.lines


@pytest.mark.parametrize("n", ["3", "[2, 5]"], ids=["fixed-dims", "hypothesis"])
def test_a_bug_binding_the_sample_is_not_a_rejected_draw(monkeypatch, n):
    # formerly: every draw rejected, "drawing the inputs or evaluating the graph raised on every draw"
    monkeypatch.setattr("gradcheck.examine.bind", _planted())
    _assert_internal(_verdict("right", n=n))


@pytest.mark.parametrize("n", ["3", "[2, 5]"], ids=["fixed-dims", "hypothesis"])
def test_a_bug_evaluating_the_claim_is_not_the_claim_raising(monkeypatch, n):
    # formerly: "the claim raised RuntimeError: planted bug", as if the user's claim had raised
    monkeypatch.setattr(Bound, "claimed", _planted())
    _assert_internal(_verdict("right", n=n))


def test_a_bug_evaluating_a_jvp_claim_is_not_the_claim_raising(monkeypatch):
    monkeypatch.setattr(Bound, "claimed", _planted())
    _assert_internal(_verdict("jvp"))


def test_a_bug_in_the_batched_oracle_is_not_code_that_refuses_complex_input(monkeypatch):
    # formerly: complex_step turned it into NotComplexSafe, finite differences raised it again,
    # and the draw was rejected: "no valid example"
    monkeypatch.setattr(Bound, "loss_many", _planted())
    monkeypatch.setattr(Bound, "loss_at", _planted())
    monkeypatch.setattr(Bound, "loss_forward", _planted())
    _assert_internal(_verdict("right"))


def test_a_bug_in_the_dual_number_oracle_is_not_a_rejected_draw_nor_a_fallback(monkeypatch):
    # the expression's first oracle: a bug there must not become "no valid example" or a quiet
    # switch to the complex step
    monkeypatch.setattr(Bound, "loss_forward", _planted())
    _assert_internal(_verdict("right"))


def test_a_bug_in_the_claim_s_rounding_estimate_is_not_a_rounding_error_of_zero(monkeypatch):
    # formerly: a rounding error of 0, and the claim was judged without its allowance
    import gradcheck.oracle.rounding as rounding

    monkeypatch.setattr(rounding, "perturber", _planted())
    _assert_internal(_verdict("twice"))


def test_a_bug_in_the_complex_step_rounding_estimate_is_not_zero(monkeypatch):
    # the claim's rounding estimate runs first: plant the bug only in the oracle's (perturbed loss)
    monkeypatch.setattr(Bound, "loss_many", _planted(lambda a, kw: "perturb" in kw, Bound.loss_many))
    _assert_internal(_verdict("twice"))


def test_a_bug_in_the_finite_difference_cross_check_is_not_skipped(monkeypatch):
    # formerly: cross_check's two-point difference failed silently and SciPy's estimate answered
    import gradcheck.oracle.finite_diff as fd

    monkeypatch.setattr(fd, "central", _planted())
    _assert_internal(_verdict("twice"))


def test_a_bug_in_the_step_curve_is_not_a_missing_point(monkeypatch):
    # formerly: NaN on the picture's curve. Only step_curve calls central with an explicit step
    # here, after cross_check (which calls it with none) sided with the complex step
    import gradcheck.oracle.finite_diff as fd

    monkeypatch.setattr(fd, "central", _planted(lambda a, kw: len(a) == 4, fd.central))
    _assert_internal(_verdict("twice"))


def test_a_bug_evaluating_the_graph_at_the_real_point_is_not_a_rejected_draw(monkeypatch):
    # formerly: _defined_at's real evaluation of a node with a branch cut (sqrt) rejected the draw
    text = SPEC.format(n="3").replace("claims:", "graph:\n  y: sqrt(x * x + 1)\nclaims:")
    text = text.replace('vjp: "3 * x * x * G"', 'vjp: "x / sqrt(x * x + 1) * G"')
    problem = build_problem(load_spec_text(text, "planted.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == "vjp")
    real = _planted(lambda a, kw: not np.iscomplexobj(a[3]), Bound.node_local)
    monkeypatch.setattr(Bound, "node_local", real)
    _assert_internal(check_plan(problem, plan, CheckSettings(examples=3, seed=1, repair=False)))


def test_the_internal_error_message_names_the_bug_and_asks_for_a_report(monkeypatch):
    monkeypatch.setattr(Bound, "claimed", _planted())
    v = _verdict("right")
    assert re.fullmatch(
        r"internal error in gradcheck \(please report it: RuntimeError: planted bug at "
        r"\w+\.py:\d+ in \w+; \w+\.py:\d+ in \w+; planted_bug\.py:3 in planted\)",
        v.diagnosis,
    ), v.diagnosis
    assert v.lines[-1].endswith('planted_bug.py", line 3, in planted'), v.lines
    assert v.max_rel_error != v.max_rel_error and v.examples == 0


# --- Python code: the guard's finite-difference cross-check, the real point, the value ----------


def cube(x):
    return np.sum(x**3)


def real_cube(x):
    """Not complex-step safe (float() drops the imaginary part): finite differences answer."""
    return float(np.sum(x**3))


def cube_grad(x):
    return 3 * x**2


def test_a_bug_in_the_guard_s_cross_check_is_not_agreement(monkeypatch):
    # formerly: the guard's two-point difference failed silently (then SciPy's estimate answered)
    import gradcheck.oracle.finite_diff as fd

    monkeypatch.setattr(fd, "sides", _planted())  # the two points of the guard's difference
    v = gradcheck.check_gradient(cube, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    _assert_internal(v.verdict)


def test_a_bug_in_the_guard_s_adaptive_estimate_is_not_agreement(monkeypatch):
    # formerly: "the real code fails near x: nothing to compare", and the complex step was trusted
    import gradcheck.oracle.finite_diff as fd

    monkeypatch.setattr(fd, "sides", lambda f, x, v, h: (np.full(np.shape(f(x)), np.nan),) * 2)
    monkeypatch.setattr(fd, "noise", _planted())
    v = gradcheck.check_gradient(cube, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    _assert_internal(v.verdict)


SECOND_ORDER = """
spec: planted-hessian
dims: {n: 3}
inputs:
  x: {shape: [n]}
loss: sum(x * x * x)
claims:
  - {name: right, wrt: x, hessian: "6 * diag(x)"}
  - {name: twice, wrt: x, hessian: "12 * diag(x)", expect: fail}
"""


def _second_order_verdict(claim: str):
    problem = build_problem(load_spec_text(SECOND_ORDER, "planted_hessian.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == claim)
    return check_plan(problem, plan, CheckSettings(examples=5, seed=1, repair=False))


def test_a_bug_deriving_the_loss_s_gradient_is_not_a_reason_for_the_slower_oracle(monkeypatch):
    # formerly: "its gradient could not be derived: RuntimeError: planted bug" in a note, and the
    # Hessian checked against finite differences of the complex step instead
    if _second_order_verdict("right").label != "pass":
        pytest.fail("precondition: the right Hessian passes")
    monkeypatch.setattr("gradcheck.derive.derive_problem", _planted())
    _assert_internal(_second_order_verdict("right"))


def test_a_bug_explaining_a_failing_hessian_is_not_an_unexplained_verdict(monkeypatch):
    # formerly: the verdict of H V, unexplained, as if the explanation could not be made
    if _second_order_verdict("twice").label not in ("scaled", "wrong"):
        pytest.fail("precondition: twice the Hessian fails")
    monkeypatch.setattr("gradcheck.diagnosis.matrices._true_hessian", _planted())
    _assert_internal(_second_order_verdict("twice"))


def _complex_point(args, kwargs) -> bool:
    return any(np.iscomplexobj(v) for v in args[1].values())


def test_a_bug_calling_the_loss_at_a_complex_point_is_not_code_that_refuses_complex_numbers(monkeypatch):
    # check_hvp's reference without gradient=: formerly value None, and finite differences of the
    # loss instead of its complex step, silently
    import gradcheck.problem.callables as callables

    def hvp(x, V):
        return 6 * x * V

    kwargs = {"inputs": {"x": "n"}, "dims": {"n": 3}, "wrt": "x", "seed": 1, "examples": 3}
    if gradcheck.check_hvp(cube, hvp, **kwargs).verdict.label != "pass":
        pytest.fail("precondition: the right hvp passes")
    monkeypatch.setattr(callables, "call_user", _planted(_complex_point, callables.call_user))
    _assert_internal(gradcheck.check_hvp(cube, hvp, **kwargs).verdict)


def test_a_bug_calling_the_loss_on_a_split_complex_view_is_not_code_that_wants_a_plain_array(monkeypatch):
    # formerly: swallowed, and the loss called again with the plain complex array
    import gradcheck.problem.callables as callables

    def split_view(args, kwargs) -> bool:
        return any(isinstance(v, callables.SplitComplex) for v in args[1].values())

    monkeypatch.setattr(callables, "call_user", _planted(split_view, callables.call_user))
    v = gradcheck.check_gradient(cube, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    _assert_internal(v.verdict)


def test_a_bug_in_the_noise_estimate_is_not_a_noise_of_zero(monkeypatch):
    # formerly: sigma = 0, the finite-difference estimate without its noise floor
    import gradcheck.oracle.finite_diff as fd

    monkeypatch.setattr(fd, "_residual", _planted())
    v = gradcheck.check_gradient(real_cube, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    _assert_internal(v.verdict)


def test_a_bug_calling_a_python_loss_at_the_real_point_is_not_a_rejected_draw(monkeypatch):
    monkeypatch.setattr(Bound, "loss_at", _planted())
    v = gradcheck.check_gradient(cube, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    _assert_internal(v.verdict)


def test_a_bug_reading_a_returned_value_is_not_the_claim_raising(monkeypatch, tmp_path):
    from gradcheck.run import read_problem

    (tmp_path / "vg_planted.py").write_text("def vg(x):\n    return float((x**3).sum()), 3 * x**2\n")
    path = tmp_path / "vg.yaml"
    path.write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x * x * x)\n"
        'claims:\n  - {name: vg, wrt: x, value_and_grad: {python: "vg_planted:vg"}}\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    problem = read_problem(str(path))
    monkeypatch.setattr(Bound, "returned_value", _planted())
    _assert_internal(check_plan(problem, problem.plans[0], CheckSettings(examples=3, seed=1, repair=False)))


# --- the user's code raising stays the user's --------------------------------------------------


def test_a_claim_that_raises_is_still_the_claim_raising():
    def grad(x):
        raise ValueError("the user's own")

    v = gradcheck.check_gradient(cube, grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3).verdict
    assert v.label == "error"
    assert v.diagnosis == "the claim raised ValueError: the user's own"


def test_a_loss_that_refuses_complex_input_still_falls_back_to_finite_differences():
    def loss(x):
        if np.iscomplexobj(x):
            raise TypeError("real only")
        return float(np.sum(x**3))

    v = gradcheck.check_gradient(loss, cube_grad, inputs={"x": "n"}, dims={"n": 3}, wrt="x", seed=1, examples=3)
    assert v.verdict.label == "pass", v.verdict.diagnosis
    assert v.verdict.oracle == "finite-difference"


# --- whose an exception is, read from its traceback ---------------------------------------------


def _raised_by(fn):
    """What ``fn()`` raises, with this test's own frame dropped from the traceback (a handler in
    gradcheck sees the frames from its own call down, and no test code among them)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001  the test collects whatever was raised
        exc.__traceback__ = exc.__traceback__.tb_next
        return exc
    raise AssertionError("it did not raise")


def test_whose_exception_it_is():
    import functools

    from gradcheck.errors import SpecError
    from gradcheck.expr import kernels
    from gradcheck.internal import InternalFailure, ours

    assert ours(_raised_by(_planted()))  # raised in gradcheck's own code
    assert ours(InternalFailure(RuntimeError("planted")))
    # numpy refusing the user's graph (a singular solve), gradcheck's kernels refusing a label
    singular = _raised_by(functools.partial(np.linalg.solve, np.zeros((2, 2)), np.ones(2)))
    assert isinstance(singular, np.linalg.LinAlgError) and not ours(singular)
    label = _raised_by(functools.partial(kernels.onehot, np.array([5]), 3))
    assert isinstance(label, ValueError) and not ours(label)
    # the user's own code, and errors gradcheck raises on purpose
    assert not ours(_raised_by(functools.partial(cube_grad, "not an array")))
    assert not ours(SpecError("a located error"))


def test_a_refusal_raised_in_gradcheck_s_own_frame_is_the_user_s():
    from gradcheck.internal import ours, refusal

    # a frame of gradcheck's (compiled as the planted bugs above), refusing the user's value
    namespace = {"refusal": refusal, "np": np}
    filename = os.path.join(os.path.dirname(gradcheck.__file__), "planted_refusal.py")
    exec(compile("def read(v):\n    raise refusal(ValueError(f'returned shape {v}'))\n", filename, "exec"), namespace)
    with pytest.raises(ValueError) as info:
        namespace["read"]((3, 2))
    info.value.__traceback__ = info.value.__traceback__.tb_next  # only gradcheck's frame, not this test's
    assert ours(info.value) is False
    plain = {}
    exec(compile("def read(v):\n    raise ValueError(v)\n", filename, "exec"), plain)
    with pytest.raises(ValueError) as info:
        plain["read"]((3, 2))
    info.value.__traceback__ = info.value.__traceback__.tb_next
    assert ours(info.value) is True  # the same error unmarked is gradcheck's bug


def test_a_bug_computing_the_repair_search_s_references_is_shown_not_skipped(monkeypatch):
    # the references skip a point the user's code refuses (tests/repair); a bug of gradcheck's
    # there is not such a refusal: the repair line says the search failed, asking for a report
    text = SPEC.format(n="3").replace("claims:", NODES + "claims:")
    problem = build_problem(load_spec_text(text, "planted.yaml"))
    plan = next(p for p in problem.plans if p.claim.name == "twice")
    monkeypatch.setattr("gradcheck.repair.search._reference", _planted())
    v = check_plan(problem, plan, CheckSettings(examples=5, seed=1))
    assert v.label == "scaled", v.diagnosis
    assert v.repair.internal_error == PLANTED, v.repair
