"""The expensive path, for a failure that is shown: evidence -> a Finding that explains it.

A shape mismatch is compared with the full gradient when the same entries may be there (a
transpose, a raveled matrix). A directional failure gets the second oracle along its worst
direction (finite differences that disagree with the complex step make the example
``inconclusive``), then the full true array and :func:`~gradcheck.diagnosis.compare.diagnose`
at small n, or :func:`~gradcheck.diagnosis.directional.directional_diagnosis` at large n.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..oracle import finite_diff
from ..oracle.choice import cross_check, step_curve
from ..verdict.methods import Oracle
from ..verdict.model import Evidence, Finding, Label
from ..verdict.tolerance import SAFETY
from .compare import diagnose
from .complex import diagnose_complex
from .directional import directional_diagnosis
from .evidence import FULL_GRADIENT_LIMIT, DirectionalEvidence, ShapeEvidence, array_error

__all__ = ["explain", "matches_one_side"]


def explain(evidence: ShapeEvidence | DirectionalEvidence) -> Finding:
    """The diagnosis of one failing example."""
    if isinstance(evidence, ShapeEvidence):
        return _shape(evidence)
    settled = _second_opinion(evidence)
    if isinstance(settled, Finding):
        return settled
    if settled.claimed.size <= FULL_GRADIENT_LIMIT:
        return _full_gradient(settled)
    finding = directional_diagnosis(settled)
    return replace(finding, notes=tuple(finding.notes) + settled.notes)


def _shape(ev: ShapeEvidence) -> Finding:
    """A transpose, or the same entries in another shape (a raveled matrix): the full gradient says which."""
    ex, c, expected = ev.example, ev.claimed, ev.example.expected
    names = ex.names
    same_entries = c.size == int(np.prod(expected))  # a transpose, or the entries in another shape
    if same_entries and c.size <= FULL_GRADIENT_LIMIT and np.all(np.isfinite(c)):
        g = ex.oracle.gradient(ex.f, ex.x)
        finding = diagnose(c.astype(np.float64), g.value, ev.tol, names, 0.0, g.error)
        return replace(
            finding,
            max_rel_error=array_error(ev.tol, c, g.value),  # the claim as given: NaN, not its transpose's
            oracle=g.method,
            evaluations=g.evaluations,
            evidence=Evidence(claimed=c.astype(np.float64), truth=g.value),
        )
    sizes = " ".join(f"{k}={v}" for k, v in ex.bound.sizes.items())
    return Finding(
        Label.SHAPE_MISMATCH,
        f"{names.noun} has shape {names.symbolic(c.shape)} but {names.target} has shape {names.shape_sym} = "
        f"{tuple(expected)}   [{sizes}]",
        claimed_shape=tuple(c.shape),
        max_rel_error=float("nan"),
    )


def _second_opinion(ev: DirectionalEvidence) -> Finding | DirectionalEvidence:
    """Finite differences along the worst direction, when the complex step answered: the
    evidence with their note, or an ``inconclusive`` Finding when they make the example undecidable.

    Finite differences only get a say where they are informative: near-singular inputs or
    steps that leave the domain make them useless, not the complex step wrong.
    """
    if ev.method != Oracle.COMPLEX_STEP:
        return ev
    ex, w = ev.example, ev.worst
    fd = cross_check(ex.f, ex.x, ev.dirs[w], ev.oracle_d[w], ev.claimed_d[w])
    ev = replace(ev, evaluations=ev.evaluations + fd.evaluations)
    fd_v, fd_e = float(fd.value), float(fd.error)
    cs_v = ev.oracle_d[w]
    informative = finite_diff.informative(fd)
    disagree = abs(fd_v - cs_v) > SAFETY * (fd_e + ev.oracle_err[w]) + ev.tol.rtol * abs(cs_v) + 1e-7 * abs(cs_v)
    if informative and disagree:
        if abs(ev.claimed_d[w] - fd_v) <= SAFETY * (fd_e + ev.dot_err[w]) + 1e-7 * abs(fd_v):
            return ev.undecided(
                f"the oracles disagree: complex step gives {cs_v:.10g}, finite differences {fd_v:.10g} ± "
                f"{fd_e:.2g} along the same direction, and the claim ({ev.claimed_d[w]:.10g}) sides with "
                f"finite differences",
                "the loss may not be analytic here (a kink: relu, abs, maximum), or complex arithmetic does "
                "not continue it (conjugation, abs of a complex value)",
                Oracle.BOTH,
            )
        note = f"finite differences disagree with the complex step here ({fd_v:.6g} ± {fd_e:.2g}), but the claim matches neither"
        return replace(ev, notes=ev.notes + (note,))
    if not informative:
        if ex.oracle.guard:  # user code whose complex step no finite difference has yet confirmed
            return ev.undecided(
                f"the complex step of this Python code is unconfirmed here: finite differences are not "
                f"informative at this example (estimate {fd_v:.6g} ± {fd_e:.2g}), so it cannot decide",
                "a kink (abs, maximum, a branch) may lie next to the drawn point; other examples decide",
                Oracle.BOTH,
            )
        note = f"finite differences could not cross-check this example (estimate {fd_v:.6g} ± {fd_e:.2g})"
        return replace(ev, notes=ev.notes + (note,))
    # unconfirmed code: central differences and the complex step may both average a kink's sides
    if ex.oracle.guard:
        return _one_side(ev, fd_e)
    return ev


def _one_side(ev: DirectionalEvidence, fd_error: float) -> Finding | DirectionalEvidence:
    """A claim matching one of the one-sided slopes, when they jump (a kink next to the point), is
    undecided: the complex step of unconfirmed code and central differences both average the sides."""
    ex, w = ev.example, ev.worst
    fwd, bwd, rounding = finite_diff.one_sided(ex.f, ex.x, ev.dirs[w])
    ev = replace(ev, evaluations=ev.evaluations + 3)
    claimed = ev.claimed_d[w]
    if matches_one_side(claimed, fwd, bwd, rounding + fd_error):
        return ev.undecided(
            f"the complex step of this Python code is unconfirmed here: the one-sided slopes differ "
            f"({fwd:.10g} forward, {bwd:.10g} backward) and the claim ({claimed:.10g}) matches one side, so "
            f"this example cannot decide",
            "a kink (abs, maximum, a branch) lies next to the point, where the complex step and central "
            "differences both average its two sides; other examples decide",
            Oracle.BOTH,
        )
    return ev


def matches_one_side(claimed: float, forward: float, backward: float, noise: float) -> bool:
    """Whether the one-sided slopes jump (by more than SAFETY x ``noise``: a kink, not noise) and
    the claim matches one of them (within a tenth of the jump): then a claim that central
    differences or an unconfirmed complex step condemn may be right on the point's side, and
    the example cannot decide. The one rule for the cheap check's kink test
    (:func:`gradcheck.examine._kink_adjacent`) and the explanation's (:func:`_one_side`)."""
    jump = abs(forward - backward)
    return bool(jump > SAFETY * noise and min(abs(claimed - forward), abs(claimed - backward)) <= 0.1 * jump)


def _full_gradient(ev: DirectionalEvidence) -> Finding:
    """Small n: the full true array, compared entry by entry."""
    ex, c, w = ev.example, ev.claimed, ev.worst
    g_est = ex.oracle.gradient(ex.f, ex.x)
    evals = ev.evaluations + g_est.evaluations
    complex_pair = ex.view is not None and ex.view.complex_wrt  # a complex parameter, as its real pair
    finding = (diagnose_complex if complex_pair else diagnose)(
        c, g_est.value, ev.tol, ex.names, ev.claim_err * 1.0, g_est.error
    )
    if finding.label == Label.PASS:
        return Finding(
            Label.INCONCLUSIVE,
            "directional check failed but every entry agrees within tolerance",
            max_rel_error=ev.rel,
            oracle=g_est.method,
            evaluations=evals,
            directions=ev.directions,
        )
    curve = step_curve(ex.f, ex.x, ev.dirs[w], ev.oracle_d[w], ev.oracle_err[w], c, g_est.value)
    return replace(
        finding,
        max_rel_error=array_error(ev.tol, c, g_est.value, ev.claim_err, g_est.error),
        oracle=g_est.method,
        evaluations=evals + len(curve.steps) * 2,
        directions=ev.directions,
        oracle_error=float(np.max(ev.oracle_err)),
        notes=ev.notes,
        evidence=curve,
    )
