"""One example of one (claim, wrt) pair -> a Finding: checked cheaply, explained expensively.

Per example (:func:`examine`):

1. draw the inputs, evaluate the graph; a draw where the loss is undefined is rejected;
2. evaluate the claim (an exception is ``error``, a NaN is ``not-finite``, a wrong concrete
   shape goes straight to the diagnosis);
3. cheap check: k random directions V (entries uniform, unit variance), complex step gives
   the directional derivative d = <grad, V> to machine precision, compared with <C, V> by the
   one tolerance formula (for VJP claims the dot-product test <J v, u> = <v, J^T u>; JVP claims
   compare J v entrywise);
4. only if that fails: estimate the claim's and the oracle's rounding, cross-check with
   finite differences (disagreeing oracles make the example ``inconclusive``), compute the
   full true array (n complex-step evaluations, small n only) and diagnose.

Which examples are drawn, and how their findings become a Verdict, is :mod:`gradcheck.check`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .diagnosis.compare import Names, diagnose
from .diagnosis.directional import directional_diagnosis
from .errors import GradcheckError
from .expr.dims import bind_shape, shape_str
from .limits import user_traceback
from .oracle import complex_params, complex_step, finite_diff
from .oracle.batch import MEMORY_BUDGET_MIB, Batchable, chunk_for
from .oracle.choice import OracleChoice, cross_check, step_curve
from .oracle.rounding import RUNS, perturber, spread
from .problem.bound import Bound, bind
from .problem.build import ClaimPlan, Problem
from .samples.draw import Sample, direction_rng, draw_direction
from .spec.model import PythonRef, Source
from .verdict.model import Evidence, Finding
from .verdict.tolerance import EPS32, EPS64, SAFETY, Tolerance, projected_error

FULL_GRADIENT_LIMIT = 4096  # entries; above this the diagnosis stays directional
GROSS64, GROSS32 = 1e-2, 1e-1  # a relative disagreement no rounding explains (float64, float32 claims)


@dataclass(frozen=True)
class CheckSettings:
    examples: int = 25
    rtol: float = 1e-9
    atol: float = 0.0
    directions: int | None = None  # None: from the detection bound (auto_directions)
    seed: int = 0
    database: bool = False
    timeout: float = 60.0  # wall-clock seconds per (claim, wrt); 0 = none
    memory_mib: float = MEMORY_BUDGET_MIB  # batched evaluation stays within this many MiB
    repair: bool = True  # a failing expression claim gets the repair search (gradcheck.repair)
    shrink: bool = True  # False: a plain loop over seeded examples, nothing shrunk (confirming a repair)


DETECT_RELATIVE = 1e-6  # the relative error (‖C - G‖ / ‖G‖) every run promises to catch ...
MISS_PROBABILITY = 1e-9  # ... except with at most this probability


def auto_directions(examples: int, rtol: float) -> int:
    """Directions per example from the detection bound.

    For V with independent entries uniform on [-√3, √3], the density of <E, V> is at most
    ‖E‖⁻¹/sqrt(6) everywhere (Ball's cube slicing; a normal V gives ‖E‖⁻¹/sqrt(2π)), and the
    tolerance is about rtol·‖G‖, so one direction misses an error E with probability
    p ≤ sqrt(2/3)·rtol·‖G‖/‖E‖. Over k directions in each of ``examples`` examples the error
    survives with p^(k·examples): k is the least integer with p^(k·examples) ≤ MISS_PROBABILITY
    for ‖E‖/‖G‖ = DETECT_RELATIVE.
    """
    p = min(0.5, np.sqrt(2 / 3) * max(rtol, 1e-16) / DETECT_RELATIVE)
    need = np.log(MISS_PROBABILITY) / np.log(p)
    return max(1, int(np.ceil(need / max(examples, 1))))


class InvalidSample(Exception):
    """The drawn point is outside where the loss is defined: it raised there, or is not finite.

    ``reason`` says which, in one line (``the loss raised ValueError: ...``); ``raised`` is
    whether an exception was the reason, and ``lines`` its traceback trimmed to the user's frames.
    """

    def __init__(self, reason: str, raised: BaseException | None = None, who: str = "the loss") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raised = raised is not None
        self.who = who  # what raised: the loss, or drawing the inputs and evaluating the graph
        self.error = f"{type(raised).__name__}: {raised}" if raised is not None else ""
        self.lines: tuple[str, ...] = tuple(user_traceback(raised)) if raised is not None else ()


def _raised(exc: BaseException, who: str = "the loss") -> InvalidSample:
    return InvalidSample(f"{who} raised {type(exc).__name__}: {exc}", exc, who)


def _names(problem: Problem, plan: ClaimPlan, sizes: dict[str, int] | None = None) -> Names:
    target = plan.wrt if plan.claim.kind != "jvp" else f"node {plan.claim.node}"
    axes = tuple(str(d) for d in plan.expected_shape)
    truth = {"gradient": "the gradient", "vjp": "the true vjp (J^T G)", "jvp": "the true jvp (J V)"}[plan.kind_word]
    return Names(
        target=target, noun=plan.noun, axes=axes, shape_sym=shape_str(plan.expected_shape), sizes=sizes, truth=truth
    )


def examine(
    problem: Problem, plan: ClaimPlan, sample: Sample, cfg: CheckSettings, oracle: OracleChoice, explain: bool = True
) -> Finding:
    """Check one example; never raises except :class:`InvalidSample` (the draw is rejected) and
    :class:`~gradcheck.errors.SpecError` (user code is misused: a loss returning a tuple).

    numpy's floating-point warnings are silenced here: a log(0) in a claim is reported as a
    ``not-finite`` verdict, not as noise on stderr.
    """
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _examine(problem, plan, sample, cfg, oracle, explain)


PENDING = "fails the directional check (diagnosis pending)"


def _examine(
    problem: Problem, plan: ClaimPlan, sample: Sample, cfg: CheckSettings, oracle: OracleChoice, explain: bool
) -> Finding:
    try:
        bound = bind(problem, sample)
    except Exception as exc:
        raise _raised(exc, "drawing the inputs or evaluating the graph") from None
    claim = plan.claim
    view = complex_params.view_for(problem, plan.wrt, bound.values[plan.wrt])  # None: no complex inputs
    x = view.point(bound.values[plan.wrt]) if view else np.asarray(bound.values[plan.wrt], dtype=np.float64)
    expected = bind_shape(plan.expected_shape, sample.sizes)
    rng = direction_rng(sample, 0)

    f, extra = _function(problem, plan, bound, rng, cfg)
    if view:  # a complex parameter as its real pair (Re, Im); finite differences only
        f = view.function(f)
        view.restrict(oracle)
    low_precision = any(v.dtype == np.float32 for v in bound.inputs.values())
    tol = Tolerance(cfg.rtol, cfg.atol)
    k = cfg.directions or auto_directions(cfg.examples, cfg.rtol)
    if claim.kind == "jvp":
        return _examine_jvp(problem, plan, bound, f, x, expected, rng, tol, low_precision, oracle, cfg)

    # user code is called at the real point first: a draw it refuses (it raises there) is rejected
    # before the complex step could mistake the refusal for complex arithmetic it cannot do
    real = _real_value(f, x) if claim.kind == "gradient" and isinstance(problem.spec.loss, PythonRef) else None
    # the oracle first otherwise: its evaluation also tells whether the loss is defined at this draw
    dirs = [draw_direction(rng, x.shape) for _ in range(k)]
    ests = _oracle_directions(oracle, f, x, dirs)
    if not all(np.all(np.isfinite(np.asarray(e.at))) for e in ests if e.at is not None):
        raise InvalidSample("the loss is not finite at the drawn inputs")
    if not _defined_at(bound, plan, f, x, real):
        raise InvalidSample("the loss is not defined (not finite) at the drawn inputs")

    try:
        c = bound.claimed(plan, extra)
    except GradcheckError:  # a misused callable (it returned a tuple): the caller reports it, located
        raise
    except Exception as exc:
        return Finding("error", f"the claim raised {type(exc).__name__}: {exc}", lines=user_traceback(exc), oracle="")
    if c.dtype == np.float32:
        low_precision = True
    if low_precision:
        tol = tol.for_float32()
    if (
        isinstance(plan.body, PythonRef)
        and plan.body.value_and_grad
        and not _same_function(plan.body, problem.spec.loss)
    ):
        wrong_value = _value_finding(bound, plan, x, tol)
        if wrong_value is not None:
            return wrong_value
    if c.shape != expected:
        if not explain:
            return Finding("shape-mismatch", PENDING, claimed_shape=tuple(c.shape), max_rel_error=float("nan"))
        if view and view.complex_wrt:
            return view.shape_finding(c, _names(problem, plan, bound.sizes))
        return _shape_finding(plan, bound, f, x, c, expected, tol, _names(problem, plan, bound.sizes), oracle)
    if view:
        c = view.claimed(c)
    if c.dtype.kind not in "fiu" or not np.all(np.isfinite(c)):
        return _not_finite(c, _names(problem, plan, bound.sizes))
    c = c.astype(np.float64)

    claimed_d, dot_err = _projections(c, dirs)
    oracle_d = np.array([float(e.value) for e in ests])
    oracle_err = np.array([float(e.error) for e in ests])
    n = max(c.size, 1)
    eps = EPS32 if low_precision else EPS64  # the claim's own precision (for its rounding estimate)
    typical = np.array([float(np.linalg.norm(c)) * float(np.linalg.norm(v)) / np.sqrt(n) for v in dirs])
    evals = sum(e.evaluations for e in ests)
    method = ests[0].method
    note = tuple(sorted({e.note for e in ests if e.note}))
    if not np.all(np.isfinite(oracle_d)):
        raise InvalidSample("the oracle's derivative is not finite at the drawn inputs")
    excess = tol.excess(claimed_d, oracle_d, dot_err, oracle_err, typical)
    rel = tol.error(claimed_d, oracle_d, dot_err, oracle_err, typical)
    if np.all(excess <= 1):
        return Finding(
            "pass",
            "agrees along every direction",
            max_rel_error=rel,
            oracle=method,
            oracle_error=float(np.max(oracle_err)),
            evaluations=evals,
            directions=k,
            notes=note,
        )

    # --- expensive path: rounding estimates, second oracle, full gradient, diagnosis -------
    names = _names(problem, plan, bound.sizes)
    # at large n a gross disagreement (a factor, a sign, a transpose) is not the complex step's
    # rounding, and the diagnosis is directional: the oracle's rounding estimate is skipped. The
    # claim's is always made: cancellation can give a correct claim a rounding error that large.
    gross = GROSS32 if low_precision else GROSS64
    scale = np.maximum(np.maximum(np.abs(claimed_d), np.abs(oracle_d)), typical)
    skip_oracle_rounding = c.size > FULL_GRADIENT_LIMIT and bool(np.any(np.abs(claimed_d - oracle_d) > gross * scale))
    skip_rounding = False
    c64 = None
    if low_precision and isinstance(plan.body, PythonRef) and c.size > FULL_GRADIENT_LIMIT:
        # at large n the rounding allowance of a float32 claim along V (13 ‖δ‖₂, measured by
        # perturbation) can hide a 1e-4 error; the same code on the same values in float64
        # separates the formula from the rounding: if it still disagrees beyond float32's
        # tolerance, the disagreement is the formula's, and no rounding estimate may excuse it
        c64 = _claim_in_float64(bound, plan, extra, c)
        if c64 is not None:
            d64, err64 = _projections(c64, dirs)
            if np.all(tol.excess(d64, oracle_d, err64, oracle_err, typical) <= 1):
                c64 = None  # the formula agrees: the float32 rounding decides, below
            else:
                c, claimed_d, dot_err, skip_rounding = c64, d64, err64, True
                note = note + (
                    "judged by the claim's own code on the same values in float64 (it differs from the "
                    "float32 result only by rounding)",
                )
    claim_err = np.zeros(c.shape) if skip_rounding else _claim_rounding(bound, plan, extra, c, sample, eps, view)
    oracle_err2 = oracle_err.copy()
    if (
        not isinstance(problem.spec.loss, PythonRef)
        and method == "complex-step"
        and not (skip_rounding or skip_oracle_rounding)
    ):
        for j, v in enumerate(dirs):
            oracle_err2[j] = max(
                oracle_err2[j],
                float(
                    _cs_rounding(
                        bound, plan, claim, extra, x, v, oracle_d[j], sample, getattr(f, "chunk", RUNS), ests[j].step
                    )
                ),
            )
    dot_err2 = dot_err + np.array([projected_error(claim_err, v) for v in dirs])
    excess2 = tol.excess(claimed_d, oracle_d, dot_err2, oracle_err2, typical)
    rel = tol.error(claimed_d, oracle_d, dot_err2, oracle_err2, typical)  # with the rounding estimates
    if np.all(excess2 <= 1):
        return Finding(
            "pass",
            "agrees within its own rounding error",
            max_rel_error=rel,
            oracle=method,
            oracle_error=float(np.max(oracle_err2)),
            evaluations=evals,
            directions=k,
            notes=note + ("passed only after accounting for the claim's rounding error",),
        )
    worst = int(np.argmax(excess2))
    if method == "finite-difference":
        # the only oracle is finite differences (code that is not complex-step safe): next to a kink
        # the example cannot decide, and Hypothesis draws on
        summary, line, used = _kink_adjacent(
            plan, f, x, dirs[worst], oracle_d[worst], oracle_err2[worst], claimed_d[worst]
        )
        evals += used
        if summary is not None:
            return Finding(
                "inconclusive",
                summary,
                lines=(line,),
                max_rel_error=rel,
                oracle=method,
                evaluations=evals,
                directions=k,
                notes=note,
            )
    if not explain:  # inside Hypothesis's search and shrink: the verdict waits for the minimal example
        return Finding("wrong", PENDING, max_rel_error=rel, oracle=method, evaluations=evals, directions=k)
    if method == "complex-step":
        fd = cross_check(f, x, dirs[worst], oracle_d[worst], claimed_d[worst])
        evals += fd.evaluations
        fd_v, fd_e = float(fd.value), float(fd.error)
        # finite differences only get a say where they are informative: near-singular inputs or
        # steps that leave the domain make them useless, not the complex step wrong
        informative = finite_diff.informative(fd)
        disagree = abs(fd_v - oracle_d[worst]) > (
            SAFETY * (fd_e + oracle_err2[worst]) + tol.rtol * abs(oracle_d[worst]) + 1e-7 * abs(oracle_d[worst])
        )
        if informative and disagree:
            claim_matches_fd = abs(claimed_d[worst] - fd_v) <= SAFETY * (fd_e + dot_err2[worst]) + 1e-7 * abs(fd_v)
            if claim_matches_fd:
                return Finding(
                    "inconclusive",
                    f"the oracles disagree: complex step gives {oracle_d[worst]:.10g}, finite differences "
                    f"{fd_v:.10g} ± {fd_e:.2g} along the same direction, and the claim ({claimed_d[worst]:.10g}) "
                    f"sides with finite differences",
                    lines=(
                        "the loss may not be analytic here (a kink: relu, abs, maximum), or complex "
                        "arithmetic does not continue it (conjugation, abs of a complex value)",
                    ),
                    max_rel_error=rel,
                    oracle="complex-step+finite-difference",
                    evaluations=evals,
                    directions=k,
                )
            note = note + (
                f"finite differences disagree with the complex step here ({fd_v:.6g} ± {fd_e:.2g}), "
                f"but the claim matches neither",
            )
        elif not informative:
            if oracle.guard:  # user code whose complex step no finite difference has yet confirmed
                return Finding(
                    "inconclusive",
                    f"the complex step of this Python code is unconfirmed here: finite differences are not "
                    f"informative at this example (estimate {fd_v:.6g} ± {fd_e:.2g}), so it cannot decide",
                    lines=("a kink (abs, maximum, a branch) may lie next to the drawn point; other examples decide",),
                    max_rel_error=rel,
                    oracle="complex-step+finite-difference",
                    evaluations=evals,
                    directions=k,
                )
            note = note + (f"finite differences could not cross-check this example (estimate {fd_v:.6g} ± {fd_e:.2g})",)
    if c.size <= FULL_GRADIENT_LIMIT:
        g_est = oracle.gradient(f, x)
        evals += g_est.evaluations
        finding = (view.diagnose if view else diagnose)(c, g_est.value, tol, names, claim_err * 1.0, g_est.error)
        if finding.label == "pass":
            return Finding(
                "inconclusive",
                "directional check failed but every entry agrees within tolerance",
                max_rel_error=rel,
                oracle=g_est.method,
                evaluations=evals,
                directions=k,
            )
        evidence = step_curve(f, x, dirs[worst], oracle_d[worst], oracle_err2[worst], c, g_est.value)
        return Finding(
            **{
                **finding.__dict__,
                "max_rel_error": _array_error(tol, c, g_est.value, claim_err, g_est.error),
                "oracle": g_est.method,
                "evaluations": evals + len(evidence.steps) * 2,
                "directions": k,
                "oracle_error": float(np.max(oracle_err2)),
                "notes": note,
                "evidence": evidence,
            }
        )
    finding = directional_diagnosis(
        c,
        dirs,
        claimed_d,
        oracle_d,
        tol,
        dot_err2,
        oracle_err2,
        names,
        rel,
        method,
        evals,
        k,
        x,
        f=f,
        oracle=oracle,
        claim_err=claim_err,
        sample=sample,
    )
    return Finding(**{**finding.__dict__, "notes": tuple(finding.notes) + note})


def _real_value(f, x: np.ndarray) -> np.ndarray:
    """f at the real point x; a refusal (an exception) rejects the draw. A gradcheck error (a
    misused API, a loss returning a tuple) is not a refusal: it propagates."""
    try:
        return np.asarray(f(x.copy()))
    except GradcheckError:
        raise
    except Exception as exc:
        raise _raised(exc) from None


def _oracle_directions(oracle: OracleChoice, f, x: np.ndarray, dirs) -> list:
    """The oracle's directional derivatives; a draw where they cannot be evaluated is rejected.

    An exception at the complex point switches the oracle to finite differences for good, but it
    is evidence that the code is not complex-step safe only if the same point succeeds in real
    arithmetic: when the real point raises too, the draw is rejected and the switch undone.
    """
    before = oracle.unsafe_note
    try:
        return oracle.directions(f, x, dirs)
    except GradcheckError:
        raise
    except Exception as exc:
        if before is None and oracle.unsafe_note is not None:
            try:
                f(x.copy())
            except Exception as real:
                oracle.unsafe_note = before  # the code refuses the point itself, not complex arithmetic
                raise _raised(real) from None
        raise _raised(exc) from None


def _function(problem: Problem, plan: ClaimPlan, bound: Bound, rng, cfg: CheckSettings):
    """The function the oracles differentiate (with its batched form for expression code) and
    the claim's extra inputs (a VJP's cotangent)."""
    claim = plan.claim
    spec = problem.spec
    chunk = chunk_for(bound.largest(), cfg.memory_mib)
    if claim.kind == "gradient":
        if isinstance(spec.loss, PythonRef):
            return Batchable(lambda z: bound.loss_at(plan.wrt, z), None, chunk), {}
        return Batchable(lambda z: bound.loss_at(plan.wrt, z), lambda z: bound.loss_many(plan.wrt, z), chunk), {}
    if claim.kind == "vjp":
        u = draw_direction(rng, bound.shapes[claim.node])

        def one(z):
            return np.sum(bound.node_local(claim.node, plan.wrt, z) * u)

        def many(z):
            out = bound.node_local_many(claim.node, plan.wrt, z) * u
            return np.sum(out, axis=tuple(range(1, out.ndim)))

        return Batchable(one, many, chunk), {claim.cotangent: u}
    return Batchable(
        lambda z: bound.node_local(claim.node, plan.wrt, z),
        lambda z: bound.node_local_many(claim.node, plan.wrt, z),
        chunk,
    ), {}


def _projections(c: np.ndarray, dirs) -> tuple[np.ndarray, np.ndarray]:
    """<C, V> for each direction, and its summation error (float64's, whatever C's dtype)."""
    n = max(c.size, 1)
    claimed = np.array([float(np.vdot(c, v)) for v in dirs])
    error = np.array([8 * np.sqrt(n) * EPS64 * float(np.vdot(np.abs(c), np.abs(v))) for v in dirs])
    return claimed, error


def _kink_adjacent(
    plan: ClaimPlan, f, x, v, oracle_value: float, oracle_error: float, claimed_value: float
) -> tuple[str | None, str, int]:
    """When finite differences are the only oracle: (summary, line, evaluations spent), with a
    summary only if a kink next to x makes the example undecidable.

    A kink within the step makes finite differences wrong with a confident error bar: a second
    estimate with a 100x smaller step must agree. A kink closer than even that step fools both
    alike; the one-sided slopes then jump, and a claim matching one side cannot be condemned.
    """
    fine = finite_diff.directional(f, x, v, step_scale=0.01)
    used = fine.evaluations
    if abs(float(fine.value) - oracle_value) > SAFETY * (float(fine.error) + oracle_error) + 1e-9 * abs(oracle_value):
        return (
            f"kink-adjacent: finite differences change with the step ({oracle_value:.10g} vs "
            f"{float(fine.value):.10g} with a 100x smaller step), so this example cannot decide",
            "the code is not complex-step safe and a kink (relu, abs, maximum) lies within the finite-difference step",
            used,
        )
    if plan.claim.kind == "jvp" or np.ndim(oracle_value) != 0:
        return None, "", used
    fwd, bwd = finite_diff.one_sided(f, x, v)
    used += 3
    jump = abs(fwd - bwd)
    if (
        jump > SAFETY * (float(fine.error) + oracle_error)
        and min(abs(claimed_value - fwd), abs(claimed_value - bwd)) <= 0.1 * jump
    ):
        return (
            f"kink-adjacent: the one-sided slopes differ ({fwd:.10g} forward, {bwd:.10g} backward) "
            f"and the claim ({claimed_value:.10g}) matches one side, so this example cannot decide",
            "the code is not complex-step safe and a kink (relu, abs, maximum) lies closer to the "
            "drawn point than the finite-difference steps",
            used,
        )
    return None, "", used


def _array_error(tol: Tolerance, c, g, claim_err=0.0, oracle_err=0.0) -> float:
    """max_rel_error of a whole claimed array against the true one: normwise (the scale is
    max(‖c‖∞, ‖g‖∞)), by the tolerance's own formula (:meth:`Tolerance.error`). NaN when the
    claim as given has another shape (a transposed non-square claim): no entry compares."""
    c, g = np.asarray(c, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if c.shape != g.shape or c.size == 0:
        return float("nan")
    scale = max(float(np.max(np.abs(c))), float(np.max(np.abs(g))))
    return tol.error(c, g, claim_err, oracle_err, scale)


FLOAT64_AGREES = 1e-2  # ‖C32 - C64‖ / ‖C32‖ above this is not rounding: the code depends on the dtype


def _claim_in_float64(bound: Bound, plan: ClaimPlan, extra, c32: np.ndarray) -> np.ndarray | None:
    """The user's claim on the same input values in float64, when that is a float64 computation
    differing from the float32 result ``c32`` only as rounding would; else None (code that
    returns float32 whatever it is given, or that depends on the dtype)."""
    try:
        c64 = np.asarray(bound.claimed(plan, extra, float64=True))
    except Exception:
        return None
    if c64.shape != c32.shape or c64.dtype != np.float64 or not np.all(np.isfinite(c64)):
        return None
    if np.array_equal(c64, c32) or np.linalg.norm(c64 - c32) > FLOAT64_AGREES * np.linalg.norm(c32):
        return None
    return c64


def _claim_rounding(bound: Bound, plan: ClaimPlan, extra, c, sample: Sample, eps: float, view=None) -> np.ndarray:
    as_compared = view.claimed if view else np.asarray  # a complex parameter's claim is compared as its real pair
    try:
        return spread(lambda p: as_compared(bound.claimed(plan, extra, perturb=p)), c, sample.seed, eps=eps)
    except Exception:
        return np.zeros(c.shape)


def _cs_rounding(
    bound: Bound, plan: ClaimPlan, claim, extra, x, v, value, sample: Sample, chunk: int = RUNS, step=None
) -> float:
    """The oracle's rounding along v: the RUNS perturbed complex-step evaluations in batches of
    ``chunk`` (the memory budget's), each batch item drawing its own perturbation signs, with the
    estimate's own step (larger than STEP where h·Jv would be subnormal)."""
    h = step or complex_step.STEP
    z = x.astype(np.complex128) + 1j * h * v

    def run(p, count):
        zs = np.broadcast_to(z, (count,) + z.shape)
        if claim.kind == "gradient":
            out = bound.loss_many(plan.wrt, zs, perturb=p)
        else:
            u = extra[claim.cotangent]
            local = bound.node_local_many(claim.node, plan.wrt, zs, perturb=p) * u
            out = np.sum(local, axis=tuple(range(1, local.ndim)))
        return np.asarray(out).imag / h

    try:
        p = perturber(np.random.default_rng([sample.seed + 1, 7]), EPS64)
        step = max(1, min(chunk, RUNS))
        runs = np.concatenate([run(p, min(step, RUNS - start)) for start in range(0, RUNS, step)])
        worst = float(np.max(np.abs(runs - float(value))))
        return worst if np.isfinite(worst) else float("inf")
    except Exception:
        return 0.0


def _same_function(ref: PythonRef, loss) -> bool:
    """The claim's value_and_grad is the loss's own: its value is the loss by definition."""
    return isinstance(loss, PythonRef) and loss.value_and_grad and loss.target == ref.target


def _value_finding(bound: Bound, plan: ClaimPlan, x: np.ndarray, tol: Tolerance) -> Finding | None:
    """A ``value_and_grad`` claim's value against the spec's loss at the same inputs (None: they agree)."""
    try:
        value = bound.returned_value(plan)
    except Exception as exc:
        return Finding("error", f"the claim raised {type(exc).__name__}: {exc}", lines=user_traceback(exc), oracle="")
    loss = float(np.real(bound.loss_at(plan.wrt, x.copy())))
    if bool(tol.within(np.array([value]), np.array([loss]))[0]):
        return None
    ratio = f" (ratio {value / loss:.4g})" if loss != 0 else ""
    return Finding(
        "wrong",
        f"the value {plan.body.function} returns is not the loss: {value:.6g} where the loss is {loss:.6g}{ratio}",
        lines=("value_and_grad returns (value, gradient): the value must be the spec's loss at the same inputs",),
        max_rel_error=abs(value - loss) / max(abs(value), abs(loss)),
        oracle="",
    )


def _defined_at(bound: Bound, plan: ClaimPlan, f, x: np.ndarray, real: np.ndarray | None = None) -> bool:
    """Whether the function is finite at the real point x.

    The complex step's real part is not enough: complex arithmetic continues log(-2) or
    sqrt(-1) to finite complex values. Expressions without such functions (no log, log1p,
    sqrt or fractional power: ``Problem.branch_cuts``) need no re-check; other expression losses
    re-check from the bound graph (one formula); Python losses cost one real call.
    """
    spec = bound.problem.spec
    python_loss = plan.claim.kind == "gradient" and isinstance(spec.loss, PythonRef)
    if not python_loss and not bound.problem.branch_cuts:
        return True  # expressions without log/sqrt/fractional powers: the finite complex step settles it
    if plan.claim.kind == "gradient" and isinstance(spec.loss, Source):
        from .expr.evaluate import evaluate

        nodes = {**bound.values}
        value = evaluate(spec.loss.expr, nodes, bound.problem.defines, complex_data=bound.complex_data)
    elif real is not None:
        value = real  # already evaluated (the Python loss at the real point)
    else:
        try:
            value = f(x.copy())
        except Exception as exc:
            raise _raised(exc) from None
    value = np.asarray(value)
    # on complex data the loss is real up to rounding (complex_params.real_loss judges that)
    return bool(np.all(np.isfinite(value)) and (bound.complex_data or np.all(np.imag(value) == 0)))


def _not_finite(c: np.ndarray, names: Names) -> Finding:
    if c.dtype.kind not in "fiu":  # complex, bool, object: not a real derivative at all
        return Finding("error", f"the claim returned {c.dtype} values, not real numbers")
    bad = ~np.isfinite(c)
    where = [tuple(int(i) for i in idx) for idx in zip(*np.nonzero(bad))][:5]
    return Finding(
        "not-finite",
        f"{names.noun} has {int(bad.sum())} non-finite entries of {c.size} (first at {where[0] if where else ()})",
        claimed_shape=tuple(c.shape),
    )


def _shape_finding(plan, bound, f, x, c, expected, tol, names, oracle) -> Finding:
    # a transpose, or the same entries in another shape (a raveled matrix): the full gradient says which
    same_entries = c.ndim >= 2 and c.T.shape == tuple(expected) or c.size == int(np.prod(expected))
    if same_entries and c.size <= FULL_GRADIENT_LIMIT and np.all(np.isfinite(c)):
        g = oracle.gradient(f, x) if plan.claim.kind != "jvp" else None
        if g is not None:
            finding = diagnose(c.astype(np.float64), g.value, tol, names, 0.0, g.error)
            evidence = Evidence(claimed=c.astype(np.float64), truth=g.value)
            return Finding(
                **{
                    **finding.__dict__,
                    "max_rel_error": _array_error(tol, c, g.value),  # the claim as given: NaN, not its transpose's
                    "oracle": g.method,
                    "evaluations": g.evaluations,
                    "evidence": evidence,
                }
            )
    sizes = " ".join(f"{k}={v}" for k, v in bound.sizes.items())
    return Finding(
        "shape-mismatch",
        f"{names.noun} has shape {names.symbolic(c.shape)} but {names.target} has shape {names.shape_sym} = {tuple(expected)}   [{sizes}]",
        claimed_shape=tuple(c.shape),
        max_rel_error=float("nan"),
    )


def _examine_jvp(problem, plan, bound, f, x, expected, rng, tol, low_precision, oracle, cfg) -> Finding:
    claim = plan.claim
    names = _names(problem, plan, bound.sizes)
    worst_excess, worst = -1.0, None
    evals = 0
    rels: list[float] = []
    method = "complex-step"
    k = cfg.directions or auto_directions(cfg.examples, cfg.rtol)
    tangents = [draw_direction(rng, x.shape) for _ in range(k)]
    claims = []
    for v in tangents:
        try:
            c = bound.claimed(plan, {claim.tangent: v})
        except GradcheckError:
            raise
        except Exception as exc:
            return Finding(
                "error", f"the claim raised {type(exc).__name__}: {exc}", lines=user_traceback(exc), oracle=""
            )
        if c.dtype == np.float32:
            low_precision = True
        if c.shape != expected:
            return Finding(
                "shape-mismatch",
                f"{names.noun} has shape {names.symbolic(c.shape)} but {names.target} has shape {names.shape_sym} = {tuple(expected)}",
                claimed_shape=tuple(c.shape),
                max_rel_error=float("nan"),
            )
        if not np.all(np.isfinite(c)):
            return _not_finite(c, names)
        claims.append(c.astype(np.float64))
    t = tol.for_float32() if low_precision else tol
    for v, c, est in zip(tangents, claims, _oracle_directions(oracle, f, x, tangents)):  # one batched call
        method = est.method
        evals += est.evaluations
        ex = t.excess(c, est.value, 8 * EPS64 * np.abs(c), est.error)
        rels.append(_array_error(t, c, est.value, 8 * EPS64 * np.abs(c), est.error))
        if float(np.max(ex, initial=0)) > worst_excess:
            worst_excess, worst = float(np.max(ex, initial=0)), (v, c, est, t)
    rel = max(rels, default=0.0)
    if worst_excess <= 1:
        return Finding(
            "pass",
            "agrees with J v along every tangent",
            max_rel_error=rel,
            oracle=method,
            evaluations=evals,
            directions=k,
        )
    v, c, est, t = worst
    eps = EPS32 if low_precision else EPS64
    claim_err = _claim_rounding(bound, plan, {claim.tangent: v}, c, bound.sample, eps)
    finding = diagnose(c, est.value, t, names, claim_err, est.error)
    # the worst tangent's error with the claim's rounding estimate, as the pass below judged it
    rels[rels.index(max(rels))] = _array_error(t, c, est.value, claim_err + 8 * EPS64 * np.abs(c), est.error)
    rel = max(rels)
    if finding.label == "pass":
        return Finding(
            "pass",
            "agrees with J v within its own rounding error",
            max_rel_error=rel,
            oracle=method,
            evaluations=evals,
            directions=k,
        )
    return Finding(
        **{
            **finding.__dict__,
            "max_rel_error": rel,
            "oracle": method,
            "evaluations": evals,
            "directions": k,
            "evidence": Evidence(claimed=c, truth=est.value),
        }
    )
