"""A failing Hessian or Jacobian claim, explained on the full matrices.

The check itself compares H V along drawn tangents (:mod:`gradcheck.second_order`); only a
failure pays for the whole true Hessian: n complex steps of gradcheck's derived gradient, one
per basis tangent. Then, in this order:

* the claim is **not symmetric where it must be** (the Hessian of a C² loss is symmetric):
  the worst pair of mirrored entries, and whether its symmetric part (C + Cᵀ)/2 is the Hessian
  (the classic ``2 A`` for the Hessian of xᵀ A x, which is A + Aᵀ);
* a constant factor (``scaled``, ``sign-flipped``): the H V diagnosis already says it, with
  the dims the factor follows, and is kept;
* otherwise ``wrong``, with the worst entries at their Hessian indices [i, j].

A failing Jacobian claim (checked as J V) is compared with the true Jacobian (one complex step
of the node per entry of the wrt): ``transposed`` for a square one that is Jᵀ, and ``wrong``
with the entries at their indices.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..expr.dims import shape_str
from ..expr.evaluate import evaluate
from ..internal import ours
from ..oracle.complex_step import directional_many
from ..verdict.model import Label, Verdict
from ..verdict.tolerance import EPS64, Tolerance
from .compare import Names, diagnose, worst_entries

if TYPE_CHECKING:
    from ..problem.build import ClaimTarget, Problem
    from ..second_order import Reduction
    from ..settings import CheckSettings

HESSIAN_FULL_LIMIT = 400  # wrt entries up to which a failing Hessian or Jacobian is explained on the full matrix

__all__ = ["explain_hessian", "explain_jacobian", "mirrored_text", "symmetry_lines"]


def explain_hessian(
    problem: "Problem", plan: "ClaimTarget", reduction: "Reduction", verdict: Verdict, cfg: "CheckSettings"
) -> Verdict:
    """The verdict of a failing hessian claim, explained on the full claimed and true Hessians
    at its failing example (unchanged when the wrt is too large or the oracle is not exact)."""
    if verdict.failing is None:
        return verdict
    try:
        point = _failing_point(plan, reduction, verdict)
        if point is None:
            return verdict
        bound, x, c = point
        truth = error = None
        if reduction.gradient is not None:  # exact: n complex steps of the derived gradient
            truth, error = _true_hessian(bound, plan.wrt, reduction.gradient.expr, x)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the claim's Python code runs again here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return verdict  # the user's code failed at the point it passed before: the verdict stands unexplained
    tol = Tolerance(cfg.rtol, cfg.atol)
    n = x.size
    square = (None, None) if truth is None else (truth.reshape(n, n), error.reshape(n, n))
    symmetry = symmetry_lines(c.reshape(n, n), *square, tol, x.shape)
    if symmetry:
        return replace(
            verdict,
            label=Label.WRONG,
            diagnosis=symmetry[0],
            lines=symmetry[1:],
            factor=None,
            entries=worst_entries(c, truth) if truth is not None else (),
        )
    if verdict.label in (Label.SCALED, Label.SIGN_FLIPPED) or truth is None:
        return verdict  # the factor and the dims it follows, from H V, say it all
    names = _names(plan, bound, f"the Hessian of the loss wrt {plan.wrt}", "Hessian")
    return _on_full_matrices(verdict, c, truth, error, tol, names, decided=(Label.PASS,))


def explain_jacobian(
    problem: "Problem", plan: "ClaimTarget", reduction: "Reduction", verdict: Verdict, cfg: "CheckSettings"
) -> Verdict:
    """The verdict of a failing jacobian claim whose J V was ``wrong``, explained on the full
    claimed and true Jacobians at its failing example (a transpose, or which entries)."""
    if verdict.failing is None or verdict.label != Label.WRONG:
        return verdict
    node = plan.claim.node
    try:
        point = _failing_point(plan, reduction, verdict)
        if point is None:
            return verdict
        bound, x, c = point
        truth, error = _full_jacobian(lambda z: bound.node_local(node, plan.wrt, z), x)
    except Exception as exc:  # noqa: BLE001  user-code boundary: the claim's Python code runs again here; gradcheck's own failures re-raised
        if ours(exc):
            raise
        return verdict  # the user's code failed at the point it passed before: the verdict stands unexplained
    names = _names(plan, bound, f"the Jacobian of node {node} wrt {plan.wrt}", "Jacobian")
    decided = (Label.PASS, Label.SCALED, Label.SIGN_FLIPPED)  # J V decided those
    return _on_full_matrices(verdict, c, truth, error, Tolerance(cfg.rtol, cfg.atol), names, decided)


def _failing_point(plan: "ClaimTarget", reduction: "Reduction", verdict: Verdict):
    """The failing example bound again: (bound, the wrt's value x, the claimed matrix), or None
    when x has more entries than a full matrix is computed for."""
    from ..problem.bound import bind
    from ..samples.draw import Sample

    failing = verdict.failing
    bound = bind(reduction.problem, Sample(dict(failing.sizes), failing.seed))
    x = np.asarray(bound.values[plan.wrt], dtype=np.float64)
    if x.size > HESSIAN_FULL_LIMIT:
        return None
    return bound, x, np.asarray(bound.claimed(plan), dtype=np.float64)


def _names(plan: "ClaimTarget", bound, target: str, matrix: str) -> Names:
    """The user's symbols for a full matrix's messages (``matrix``: Hessian, Jacobian)."""
    return Names(
        target=target,
        noun=f"claimed {matrix.lower()}",
        axes=tuple(str(d) for d in plan.expected_shape),
        shape_sym=shape_str(plan.expected_shape),
        sizes=bound.sizes,
        truth=f"the true {matrix}",
    )


def _on_full_matrices(verdict: Verdict, c, truth, error, tol: Tolerance, names: Names, decided) -> Verdict:
    """The verdict with the diagnosis of the full claimed matrix ``c`` against the true one;
    unchanged when that diagnosis is one of ``decided`` (the check along tangents said it)."""
    finding = diagnose(c, truth, tol, names, 8 * EPS64 * np.abs(c), error)
    if finding.label in decided:
        return verdict
    return replace(
        verdict, label=finding.label, diagnosis=finding.summary, lines=finding.lines, entries=finding.entries
    )


def _full_jacobian(f, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d f / d x (shape f's + x's) and its error bar: one complex step of f per entry of x."""
    basis = [np.eye(x.size)[i].reshape(x.shape) for i in range(x.size)]
    columns = directional_many(f, x, basis)
    out = np.shape(columns[0].value)
    value = np.stack([np.asarray(e.value) for e in columns], axis=-1).reshape(out + x.shape)
    error = np.stack([np.broadcast_to(np.asarray(e.error), out) for e in columns], axis=-1).reshape(out + x.shape)
    return value, error


def _true_hessian(bound, wrt: str, gradient, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian of the loss wrt ``wrt`` (shape x.shape + x.shape) and its error bar: column i
    is Im ∇L(x + i h e_i) / h, the complex step of the derived gradient expression."""
    problem = bound.problem

    def grad_at(z):
        env = {**bound.fixed_values(), **bound.values_inputs(), wrt: z}
        for node in problem.spec.graph:
            env[node.name] = evaluate(node.body.expr, env, problem.defines)
        return np.asarray(evaluate(gradient, env, problem.defines))

    value, error = _full_jacobian(grad_at, x)
    return value.reshape(x.shape + x.shape), error.reshape(x.shape + x.shape)


def symmetry_lines(c: np.ndarray, truth, error, tol: Tolerance, shape) -> tuple[str, ...]:
    """What to say about a claimed Hessian ``c`` (n x n) that is not symmetric beyond its
    tolerance; () when it is symmetric. ``shape`` is the wrt's, to name entries by their index;
    ``truth`` (n x n, with its ``error``) when known says whether symmetrizing fixes it."""
    rounding = 8 * EPS64 * np.abs(c)
    mirrored = tol.excess(c, c.T, rounding, rounding.T)
    if np.all(mirrored <= 1):
        return ()
    i, j = np.unravel_index(int(np.argmax(np.abs(c - c.T))), c.shape)
    lines = [mirrored_text(c, int(i), int(j), shape)]
    half = 0.5 * (c + c.T)
    if truth is not None and np.all(tol.within(half, truth, rounding, error)):
        lines.append("its symmetric part (C + C^T) / 2 is the Hessian: symmetrize the claim")
    return tuple(lines)


def mirrored_text(c: np.ndarray, i: int, j: int, shape) -> str:
    """The diagnosis of a claimed Hessian ``c`` (n x n) whose entries [i, j] and [j, i] differ."""
    at_i, at_j = _index(i, shape), _index(j, shape)
    return (
        f"not symmetric where it must be: claimed [{at_i}, {at_j}] = {c[i, j]:.6g} but [{at_j}, {at_i}] = "
        f"{c[j, i]:.6g} (the Hessian of a twice-differentiable loss is symmetric)"
    )


def _index(flat: int, shape) -> str:
    """An entry of the wrt, as its index: ``2`` for a vector, ``1, 0`` for a matrix."""
    if len(shape) <= 1:
        return str(int(flat))
    return ", ".join(str(int(k)) for k in np.unravel_index(int(flat), shape))
