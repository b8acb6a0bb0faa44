"""One example of one (claim, wrt) pair: checked cheaply (:func:`check_example`), and a failure
explained expensively (:func:`gradcheck.diagnosis.explain.explain`).

The cheap check, in named phases:

1. :func:`_bind`: draw the inputs, evaluate the graph (a draw where the loss is undefined is
   rejected), build the function the oracles differentiate;
2. :func:`_check_directional`: the oracle along k random directions V (entries uniform, unit
   variance; complex step gives d = <grad, V> to machine precision), then the claim (an
   exception is ``error``, a NaN is ``not-finite``, a wrong concrete shape is ShapeEvidence);
3. :func:`_compare`: <C, V> against d by the one tolerance formula (for VJP claims the
   dot-product test <J v, u> = <v, J^T u>; JVP claims compare J v entrywise, :func:`_examine_jvp`);
4. only if that fails, :func:`_with_rounding`: the claim's and the oracle's rounding estimates,
   and next to a kink (:func:`_kink_check`) an undecidable example; what still fails is a
   frozen :class:`~gradcheck.diagnosis.evidence.DirectionalEvidence`.

Which examples are drawn, and how their findings become a Verdict, is :mod:`gradcheck.check`.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, replace

import numpy as np

from .diagnosis.compare import Names, diagnose, shape_mismatch
from .diagnosis.evidence import FULL_GRADIENT_LIMIT, PENDING, DirectionalEvidence, Example, ShapeEvidence, array_error
from .diagnosis.explain import explain as explain_failure
from .diagnosis.explain import matches_one_side
from .errors import GradcheckError
from .expr.dims import bind_shape
from .internal import ours
from .oracle import complex_params, finite_diff
from .oracle.batch import Batchable, chunk_for
from .oracle.choice import OracleChoice
from .oracle.rounding import RUNS, complex_step_rounding, spread
from .problem.bound import Bound, bind
from .problem.build import ClaimTarget, Problem
from .samples.draw import Sample, direction_rng, draw_direction
from .settings import CheckSettings, auto_directions
from .spec.model import PythonRef, Source
from .user_limits import user_traceback
from .verdict.methods import Oracle
from .verdict.model import Evidence, Finding, Label
from .verdict.tolerance import EPS32, EPS64, SAFETY, Tolerance, projected_error

__all__ = ["PENDING", "CheckSettings", "InvalidSample", "check_example", "examine", "explained"]

GROSS64, GROSS32 = 1e-2, 1e-1  # a relative disagreement no rounding explains (float64, float32 claims)


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


def check_example(
    problem: Problem, plan: ClaimTarget, sample: Sample, cfg: CheckSettings, oracle: OracleChoice
) -> Finding | ShapeEvidence | DirectionalEvidence:
    """The cheap check of one example: a Finding when it decides the example (it passes, the
    claim raised, it is not finite, the example cannot decide), else the evidence of the failure
    for :func:`gradcheck.diagnosis.explain.explain`.

    Never raises except :class:`InvalidSample` (the draw is rejected),
    :class:`~gradcheck.errors.SpecError` (user code is misused: a loss returning a tuple) and
    failures of gradcheck's own machinery (:mod:`gradcheck.internal`).
    """
    with _quiet():
        ex = _bind(problem, plan, sample, cfg, oracle)
        if plan.claim.kind == "jvp":
            return _examine_jvp(ex)
        return _check_directional(ex)


def examine(
    problem: Problem, plan: ClaimTarget, sample: Sample, cfg: CheckSettings, oracle: OracleChoice, explain: bool = True
) -> Finding:
    """:func:`check_example`, and a failure explained (``explain``) or left pending."""
    result = check_example(problem, plan, sample, cfg, oracle)
    if isinstance(result, Finding):
        return result
    if not explain:  # inside Hypothesis's search and shrink: the verdict waits for the minimal example
        return result.pending()
    return explained(result)


def explained(evidence: ShapeEvidence | DirectionalEvidence) -> Finding:
    """:func:`gradcheck.diagnosis.explain.explain`, numpy's warnings silenced as in the check."""
    with _quiet():
        return explain_failure(evidence)


@contextlib.contextmanager
def _quiet():
    """numpy's floating-point warnings silenced: a log(0) in a claim is reported as a
    ``not-finite`` verdict, not as noise on stderr."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _bind(problem: Problem, plan: ClaimTarget, sample: Sample, cfg: CheckSettings, oracle: OracleChoice) -> Example:
    try:
        bound = bind(problem, sample)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's graph, callables and domains run here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        raise _raised(exc, "drawing the inputs or evaluating the graph") from None
    view = complex_params.view_for(problem, plan.wrt, bound.values[plan.wrt])  # None: no complex inputs
    x = view.point(bound.values[plan.wrt]) if view else np.asarray(bound.values[plan.wrt], dtype=np.float64)
    expected = bind_shape(plan.expected_shape, sample.sizes)
    rng = direction_rng(sample, 0)
    f, extra = _function(problem, plan, bound, rng, cfg)
    if view:  # a complex parameter as its real pair (Re, Im); finite differences only
        f = view.function(f)
        view.restrict(oracle)
    return Example(problem, plan, sample, cfg, oracle, bound, x, expected, f, extra, rng, view)


def _directions(cfg: CheckSettings) -> int:
    return cfg.directions or auto_directions(cfg.examples, cfg.rtol)


def _check_directional(ex: Example) -> Finding | ShapeEvidence | DirectionalEvidence:
    """Gradient and VJP claims: the oracle along k random directions against <C, V>."""
    problem, plan, bound = ex.problem, ex.plan, ex.bound
    k = _directions(ex.cfg)
    # user code is called at the real point first: a draw it refuses (it raises there) is rejected
    # before the complex step could mistake the refusal for complex arithmetic it cannot do
    python_loss = plan.claim.kind == "gradient" and isinstance(problem.spec.loss, PythonRef)
    real = _real_value(ex.f, ex.x) if python_loss else None
    # the oracle first otherwise: its evaluation also tells whether the loss is defined at this draw
    dirs = [draw_direction(ex.rng, ex.x.shape) for _ in range(k)]
    ests = _oracle_directions(ex.oracle, ex.f, ex.x, dirs)
    if not all(np.all(np.isfinite(np.asarray(e.at))) for e in ests if e.at is not None):
        raise InvalidSample("the loss is not finite at the drawn inputs")
    if not _defined_at(bound, plan, ex.f, ex.x, real):
        raise InvalidSample("the loss is not defined (not finite) at the drawn inputs")
    c = _claim(bound, plan, ex.extra)
    if isinstance(c, Finding):
        return c
    low_precision = c.dtype == np.float32 or any(v.dtype == np.float32 for v in bound.inputs.values())
    tol = Tolerance(ex.cfg.rtol, ex.cfg.atol)
    if low_precision:
        tol = tol.for_float32()
    if (
        isinstance(plan.body, PythonRef)
        and plan.body.value_and_grad
        and not _same_function(plan.body, problem.spec.loss)
    ):
        wrong_value = _value_finding(bound, plan, ex.x, tol)
        if wrong_value is not None:
            return wrong_value
    if c.shape != ex.expected:
        if ex.view is not None and ex.view.complex_wrt:
            return shape_mismatch(ex.names, c.shape, ex.view.shape, sizes=True)
        return ShapeEvidence(ex, c, tol)
    if ex.view is not None:
        c = ex.view.claimed(c)
    if c.dtype.kind not in "fiu" or not np.all(np.isfinite(c)):
        return _not_finite(c, ex.names)
    c = np.asarray(c, dtype=np.float64)  # the claim's own array: no copy when it is float64 already
    return _compare(ex, _Along(c, tuple(dirs), tuple(ests), tol, low_precision, k))


def _claim(bound: Bound, plan: ClaimTarget, extra) -> np.ndarray | Finding:
    """The claim's value at the example, or the ``error`` Finding of a claim that raised."""
    try:
        return bound.claimed(plan, extra)
    except GradcheckError:  # a misused callable (it returned a tuple): the caller reports it, located
        raise
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's claim runs here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return _claim_raised(exc)


def _claim_raised(exc: Exception) -> Finding:
    """The ``error`` Finding of a claim (or a value_and_grad's value) that raised, with the user's traceback."""
    return Finding(Label.ERROR, f"the claim raised {type(exc).__name__}: {exc}", lines=user_traceback(exc), oracle="")


@dataclass(frozen=True, eq=False)
class _Along:
    """The claim and the oracle's estimates along the example's directions, before any comparison."""

    c: np.ndarray
    dirs: tuple[np.ndarray, ...]
    ests: tuple
    tol: Tolerance
    low_precision: bool
    k: int
    spent: int = 0  # evaluations of an oracle whose estimates these replaced (dual numbers, on a failure)


def _compare(ex: Example, along: _Along) -> Finding | DirectionalEvidence:
    """<C, V> against the oracle by the one tolerance formula: a pass, or on to the rounding estimates."""
    c, dirs, ests, tol = along.c, along.dirs, along.ests, along.tol
    claimed_d, dot_err = _projections(c, dirs)
    oracle_d = np.array([float(e.value) for e in ests])
    oracle_err = np.array([float(e.error) for e in ests])
    n = max(c.size, 1)
    typical = np.array([float(np.linalg.norm(c)) * float(np.linalg.norm(v)) / np.sqrt(n) for v in dirs])
    evals = sum(e.evaluations for e in ests)
    method = ests[0].method
    notes = tuple(sorted({e.note for e in ests if e.note}))
    if not np.all(np.isfinite(oracle_d)):
        raise InvalidSample("the oracle's derivative is not finite at the drawn inputs")
    excess = tol.excess(claimed_d, oracle_d, dot_err, oracle_err, typical)
    if not np.all(excess <= 1) and method == Oracle.DUAL:
        # a disagreement is judged by the complex step: no verdict but pass rests on dual numbers alone
        again = _oracle_directions(ex.oracle, ex.f, ex.x, dirs, exact=False)
        return _compare(ex, replace(along, ests=tuple(again), spent=along.spent + evals))
    evals += along.spent
    rel = tol.error(claimed_d, oracle_d, dot_err, oracle_err, typical)
    if np.all(excess <= 1):
        return Finding(
            Label.PASS,
            "agrees along every direction",
            max_rel_error=rel,
            oracle=method,
            oracle_error=float(np.max(oracle_err)),
            evaluations=evals,
            directions=along.k,
            notes=notes,
        )
    ev = DirectionalEvidence(
        ex,
        c,
        dirs,
        claimed_d,
        oracle_d,
        dot_err,
        oracle_err,
        np.zeros(c.shape),
        tol,
        rel,
        method,
        evals,
        along.k,
        notes,
        0,
    )
    return _with_rounding(ex, along, typical, ev)


def _with_rounding(ex: Example, along: _Along, typical: np.ndarray, ev: DirectionalEvidence):
    """The comparison again with the claim's and the oracle's rounding estimates: a pass within
    them, the kink check when finite differences are the only oracle, or the evidence."""
    # at large n a gross disagreement (a factor, a sign, a transpose) is not the complex step's
    # rounding, and the diagnosis is directional: the oracle's rounding estimate is skipped. The
    # claim's is always made: cancellation can give a correct claim a rounding error that large.
    gross = GROSS32 if along.low_precision else GROSS64
    scale = np.maximum(np.maximum(np.abs(ev.claimed_d), np.abs(ev.oracle_d)), typical)
    gross_miss = bool(np.any(np.abs(ev.claimed_d - ev.oracle_d) > gross * scale))
    skip_oracle_rounding = ev.claimed.size > FULL_GRADIENT_LIMIT and gross_miss
    ev, skip_rounding = _float64_rerun(ex, along, typical, ev)
    eps = EPS32 if along.low_precision else EPS64  # the claim's own precision (for its rounding estimate)
    c = ev.claimed
    claim_err = (
        np.zeros(c.shape) if skip_rounding else _claim_rounding(ex.bound, ex.plan, ex.extra, c, ex.sample, eps, ex.view)
    )
    oracle_err = ev.oracle_err.copy()
    python_loss = isinstance(ex.problem.spec.loss, PythonRef)
    if not python_loss and ev.method == Oracle.COMPLEX_STEP and not (skip_rounding or skip_oracle_rounding):
        for j, v in enumerate(ev.dirs):
            oracle_err[j] = max(oracle_err[j], float(_cs_rounding(ex, v, ev.oracle_d[j], along.ests[j].step)))
    dot_err = ev.dot_err + np.array([projected_error(claim_err, v) for v in ev.dirs])
    excess = ev.tol.excess(ev.claimed_d, ev.oracle_d, dot_err, oracle_err, typical)
    rel = ev.tol.error(ev.claimed_d, ev.oracle_d, dot_err, oracle_err, typical)  # with the rounding estimates
    if np.all(excess <= 1):
        return Finding(
            Label.PASS,
            "agrees within its own rounding error",
            max_rel_error=rel,
            oracle=ev.method,
            oracle_error=float(np.max(oracle_err)),
            evaluations=ev.evaluations,
            directions=ev.directions,
            notes=ev.notes + ("passed only after accounting for the claim's rounding error",),
        )
    ev = replace(ev, claim_err=claim_err, oracle_err=oracle_err, dot_err=dot_err, rel=rel, worst=int(np.argmax(excess)))
    return _kink_check(ex, ev)


def _float64_rerun(ex: Example, along: _Along, typical: np.ndarray, ev: DirectionalEvidence):
    """(the evidence, whether the claim's rounding estimate is skipped).

    At large n the rounding allowance of a float32 claim along V (13 ‖δ‖₂, measured by
    perturbation) can hide a 1e-4 error; the same code on the same values in float64
    separates the formula from the rounding: if it still disagrees beyond float32's
    tolerance, the disagreement is the formula's, and no rounding estimate may excuse it.
    """
    c = ev.claimed
    if not (along.low_precision and isinstance(ex.plan.body, PythonRef) and c.size > FULL_GRADIENT_LIMIT):
        return ev, False
    c64 = _claim_in_float64(ex.bound, ex.plan, ex.extra, c)
    if c64 is None:
        return ev, False
    d64, err64 = _projections(c64, ev.dirs)
    if np.all(ev.tol.excess(d64, ev.oracle_d, err64, ev.oracle_err, typical) <= 1):
        return ev, False  # the formula agrees: the float32 rounding decides
    note = (
        "judged by the claim's own code on the same values in float64 (it differs from the "
        "float32 result only by rounding)"
    )
    return replace(ev, claimed=c64, claimed_d=d64, dot_err=err64, notes=ev.notes + (note,)), True


def _kink_check(ex: Example, ev: DirectionalEvidence) -> Finding | DirectionalEvidence:
    """The only oracle is finite differences (code that is not complex-step safe): next to a
    kink the example cannot decide, and Hypothesis draws on."""
    if ev.method != Oracle.FINITE_DIFFERENCE:
        return ev
    w = ev.worst
    summary, line, used = _kink_adjacent(ex.f, ex.x, ev.dirs[w], ev.oracle_d[w], ev.oracle_err[w], ev.claimed_d[w])
    ev = replace(ev, evaluations=ev.evaluations + used)
    if summary is None:
        return ev
    return ev.undecided(summary, line, ev.method, notes=ev.notes)


def _real_value(f, x: np.ndarray) -> np.ndarray:
    """f at the real point x; a refusal (an exception) rejects the draw. A gradcheck error (a
    misused API, a loss returning a tuple) is not a refusal: it propagates."""
    try:
        return np.asarray(f(x.copy()))
    except GradcheckError:
        raise
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's loss runs here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        raise _raised(exc) from None


def _oracle_directions(oracle: OracleChoice, f, x: np.ndarray, dirs, exact: bool = True) -> list:
    """The oracle's directional derivatives; a draw where they cannot be evaluated is rejected.

    An exception at the complex point switches the oracle to finite differences for good, but it
    is evidence that the code is not complex-step safe only if the same point succeeds in real
    arithmetic: when the real point raises too, the draw is rejected and the switch undone.
    """
    before = oracle.unsafe_note
    try:
        return oracle.directions(f, x, dirs, exact=exact)
    except GradcheckError:
        raise
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's function runs inside the oracle; gradcheck's own failures re-raised
        if ours(exc):
            raise
        if before is None and oracle.unsafe_note is not None:
            try:
                f(x.copy())
            except Exception as real:  # noqa: BLE001  user-code boundary: the user's function at the real point; gradcheck's own failures re-raised
                if ours(real):
                    raise
                oracle.unsafe_note = before  # the code refuses the point itself, not complex arithmetic
                raise _raised(real) from None
        raise _raised(exc) from None


def _function(problem: Problem, plan: ClaimTarget, bound: Bound, rng, cfg: CheckSettings):
    """The function the oracles differentiate (with its batched form for expression code) and
    the claim's extra inputs (a VJP's cotangent)."""
    claim = plan.claim
    spec = problem.spec
    chunk = chunk_for(bound.largest(), cfg.memory_mib)
    if claim.kind == "gradient":
        if isinstance(spec.loss, PythonRef):
            return Batchable(lambda z: bound.loss_at(plan.wrt, z), None, chunk), {}
        return Batchable(
            lambda z: bound.loss_at(plan.wrt, z),
            lambda z: bound.loss_many(plan.wrt, z),
            chunk,
            forward=lambda z, dirs: bound.loss_forward(plan.wrt, z, dirs),
        ), {}
    if claim.kind == "vjp":
        u = draw_direction(rng, bound.shapes[claim.node])

        def one(z):
            return np.sum(bound.node_local(claim.node, plan.wrt, z) * u)

        def many(z):
            out = bound.node_local_many(claim.node, plan.wrt, z) * u
            return np.sum(out, axis=tuple(range(1, out.ndim)))

        def forward(z, dirs):
            value, tangents = bound.node_local_forward(claim.node, plan.wrt, z, dirs)
            return np.sum(value * u), np.sum(tangents * u, axis=tuple(range(1, tangents.ndim)))

        return Batchable(one, many, chunk, forward), {claim.cotangent: u}
    return Batchable(
        lambda z: bound.node_local(claim.node, plan.wrt, z),
        lambda z: bound.node_local_many(claim.node, plan.wrt, z),
        chunk,
    ), {}


def _projections(c: np.ndarray, dirs) -> tuple[np.ndarray, np.ndarray]:
    """<C, V> for each direction, and its summation error (float64's, whatever C's dtype).

    The error bound 8 √n eps <|C|, |V|> is taken with Cauchy-Schwarz, <|C|, |V|> <= ‖C‖ ‖V‖:
    at most ~1.3x looser for the uniform directions drawn here, and it costs two BLAS dot products
    instead of two n-sized temporaries (|C|, |V|) per direction (at n = 1e6, 5 ms an example)."""
    n = max(c.size, 1)
    flat = c.reshape(-1)
    norm_c = float(np.sqrt(np.dot(flat, flat)))
    claimed = np.array([float(np.vdot(c, v)) for v in dirs])
    error = np.array([8 * np.sqrt(n) * EPS64 * norm_c * float(np.linalg.norm(v)) for v in dirs])
    return claimed, error


def _kink_adjacent(
    f, x, v, oracle_value: float, oracle_error: float, claimed_value: float
) -> tuple[str | None, str, int]:
    """When finite differences are the only oracle: (summary, line, evaluations spent), with a
    summary only if a kink next to x makes the example undecidable.

    A kink within the step makes finite differences wrong with a confident error bar: a second
    estimate with a 100x smaller step must agree. A kink closer than even that step fools both
    alike; the one-sided slopes then jump, and a claim matching one side cannot be condemned.
    The jump must stand above the noise: the smaller step's error bar when that estimate is
    informative; when it is not (some of its steps cross the kink, some do not), the slopes' own
    rounding.
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
    fwd, bwd, rounding = finite_diff.one_sided(f, x, v)
    used += 3
    noise = float(fine.error) if finite_diff.informative(fine) else rounding
    if matches_one_side(claimed_value, fwd, bwd, noise + oracle_error):
        return (
            f"kink-adjacent: the one-sided slopes differ ({fwd:.10g} forward, {bwd:.10g} backward) "
            f"and the claim ({claimed_value:.10g}) matches one side, so this example cannot decide",
            "the code is not complex-step safe and a kink (relu, abs, maximum) lies closer to the "
            "drawn point than the finite-difference steps",
            used,
        )
    return None, "", used


FLOAT64_AGREES = 1e-2  # ‖C32 - C64‖ / ‖C32‖ above this is not rounding: the code depends on the dtype


def _claim_in_float64(bound: Bound, plan: ClaimTarget, extra, c32: np.ndarray) -> np.ndarray | None:
    """The user's claim on the same input values in float64, when that is a float64 computation
    differing from the float32 result ``c32`` only as rounding would; else None (code that
    returns float32 whatever it is given, or that depends on the dtype)."""
    try:
        c64 = np.asarray(bound.claimed(plan, extra, float64=True))
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's claim in float64; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return None
    if c64.shape != c32.shape or c64.dtype != np.float64 or not np.all(np.isfinite(c64)):
        return None
    if np.array_equal(c64, c32) or np.linalg.norm(c64 - c32) > FLOAT64_AGREES * np.linalg.norm(c32):
        return None
    return c64


def _claim_rounding(bound: Bound, plan: ClaimTarget, extra, c, sample: Sample, eps: float, view=None) -> np.ndarray:
    as_compared = view.claimed if view else np.asarray  # a complex parameter's claim is compared as its real pair
    try:
        return spread(lambda p: as_compared(bound.claimed(plan, extra, perturb=p)), c, sample.seed, eps=eps)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's claim, perturbed; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return np.zeros(c.shape)


def _cs_rounding(ex: Example, v: np.ndarray, value: float, step) -> float:
    """The oracle's rounding along v (:func:`gradcheck.oracle.rounding.complex_step_rounding`)
    for the function the oracles differentiate: the loss, or a VJP's <node, u>."""
    bound, plan, claim = ex.bound, ex.plan, ex.plan.claim

    def many(zs, p):
        if claim.kind == "gradient":
            return bound.loss_many(plan.wrt, zs, perturb=p)
        local = bound.node_local_many(claim.node, plan.wrt, zs, perturb=p) * ex.extra[claim.cotangent]
        return np.sum(local, axis=tuple(range(1, local.ndim)))

    try:
        return complex_step_rounding(many, ex.x, v, value, ex.sample.seed, getattr(ex.f, "chunk", RUNS), step)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's graph, perturbed; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return 0.0


def _same_function(ref: PythonRef, loss) -> bool:
    """The claim's value_and_grad is the loss's own: its value is the loss by definition."""
    return isinstance(loss, PythonRef) and loss.value_and_grad and loss.target == ref.target


def _value_finding(bound: Bound, plan: ClaimTarget, x: np.ndarray, tol: Tolerance) -> Finding | None:
    """A ``value_and_grad`` claim's value against the spec's loss at the same inputs (None: they agree)."""
    try:
        value = bound.returned_value(plan)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the user's value_and_grad runs here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return _claim_raised(exc)
    loss = float(np.real(bound.loss_at(plan.wrt, x.copy())))
    if bool(tol.within(np.array([value]), np.array([loss]))[0]):
        return None
    ratio = f" (ratio {value / loss:.4g})" if loss != 0 else ""
    return Finding(
        Label.WRONG,
        f"the value {plan.body.function} returns is not the loss: {value:.6g} where the loss is {loss:.6g}{ratio}",
        lines=("value_and_grad returns (value, gradient): the value must be the spec's loss at the same inputs",),
        max_rel_error=abs(value - loss) / max(abs(value), abs(loss)),
        oracle="",
    )


def _defined_at(bound: Bound, plan: ClaimTarget, f, x: np.ndarray, real: np.ndarray | None = None) -> bool:
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
        except Exception as exc:  # noqa: BLE001  user-code boundary: the user's function at the real point; gradcheck's own failures re-raised
            if ours(exc):
                raise
            raise _raised(exc) from None
    value = np.asarray(value)
    # on complex data the loss is real up to rounding (complex_params.real_loss judges that)
    return bool(np.all(np.isfinite(value)) and (bound.complex_data or np.all(np.imag(value) == 0)))


def _not_finite(c: np.ndarray, names: Names) -> Finding:
    if c.dtype.kind not in "fiu":  # complex, bool, object: not a real derivative at all
        return Finding(Label.ERROR, f"the claim returned {c.dtype} values, not real numbers")
    bad = ~np.isfinite(c)
    where = [tuple(int(i) for i in idx) for idx in zip(*np.nonzero(bad))][:5]
    count = int(bad.sum())
    return Finding(
        Label.NOT_FINITE,
        f"{names.noun} has {count} non-finite {'entry' if count == 1 else 'entries'} of {c.size} "
        f"(first at {where[0] if where else ()})",
        claimed_shape=tuple(c.shape),
    )


def _examine_jvp(ex: Example) -> Finding:
    """JVP claims: J v compared entrywise along each of k tangents; a failure is diagnosed at once
    (the claim and the oracle's J v are whole arrays already)."""
    k = _directions(ex.cfg)
    tangents = [draw_direction(ex.rng, ex.x.shape) for _ in range(k)]
    claims = _jvp_claims(ex, tangents)
    if isinstance(claims, Finding):
        return claims
    low_precision = any(v.dtype == np.float32 for v in ex.bound.inputs.values())
    low_precision = low_precision or any(c.dtype == np.float32 for c in claims)
    t = Tolerance(ex.cfg.rtol, ex.cfg.atol)
    t = t.for_float32() if low_precision else t
    worst_excess, worst, evals, rels = -1.0, None, 0, []
    method = Oracle.COMPLEX_STEP
    ests = _oracle_directions(ex.oracle, ex.f, ex.x, tangents)  # one batched call
    for v, c, est in zip(tangents, [c.astype(np.float64) for c in claims], ests):
        method = est.method
        evals += est.evaluations
        ex_v = float(np.max(t.excess(c, est.value, 8 * EPS64 * np.abs(c), est.error), initial=0))
        rels.append(array_error(t, c, est.value, 8 * EPS64 * np.abs(c), est.error))
        if ex_v > worst_excess:
            worst_excess, worst = ex_v, (v, c, est)
    fields = {"oracle": method, "evaluations": evals, "directions": k}
    if worst_excess <= 1:
        return Finding(
            Label.PASS, "agrees with J v along every tangent", max_rel_error=max(rels, default=0.0), **fields
        )
    return _jvp_failure(ex, worst, t, rels, low_precision, fields)


def _jvp_claims(ex: Example, tangents) -> list[np.ndarray] | Finding:
    """The claim along each tangent, or the Finding that ends the example (it raised, another
    shape, not finite)."""
    plan, names = ex.plan, ex.names
    claims = []
    for v in tangents:
        c = _claim(ex.bound, plan, {plan.claim.tangent: v})
        if isinstance(c, Finding):
            return c
        if c.shape != ex.expected:
            return shape_mismatch(names, c.shape, ex.expected)
        if not np.all(np.isfinite(c)):
            return _not_finite(c, names)
        claims.append(c)
    return claims


def _jvp_failure(ex: Example, worst, t: Tolerance, rels: list[float], low_precision: bool, fields: dict) -> Finding:
    """The worst tangent with the claim's rounding estimate: a pass within it, or its diagnosis."""
    v, c, est = worst
    eps = EPS32 if low_precision else EPS64
    claim_err = _claim_rounding(ex.bound, ex.plan, {ex.plan.claim.tangent: v}, c, ex.bound.sample, eps)
    finding = diagnose(c, est.value, t, ex.names, claim_err, est.error)
    # the worst tangent's error with the claim's rounding estimate, as the pass below judged it
    rels[rels.index(max(rels))] = array_error(t, c, est.value, claim_err + 8 * EPS64 * np.abs(c), est.error)
    rel = max(rels)
    if finding.label == Label.PASS:
        return Finding(Label.PASS, "agrees with J v within its own rounding error", max_rel_error=rel, **fields)
    return replace(finding, max_rel_error=rel, evidence=Evidence(claimed=c, truth=est.value), **fields)
