"""What the cheap check hands the diagnosis: one frozen value per failing example.

:func:`gradcheck.examine.check_example` either decides an example (a Finding: it passes, the
claim raised, it is not finite) or returns the evidence of its failure: a
:class:`ShapeEvidence` (the claim has another concrete shape) or a :class:`DirectionalEvidence`
(it disagrees along the drawn directions beyond every rounding estimate). Only a failure that
is shown pays for :func:`gradcheck.diagnosis.explain.explain`; inside Hypothesis's search the
evidence stands in as :meth:`pending`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..expr.dims import shape_str
from ..verdict.methods import Oracle
from ..verdict.model import Finding, Label
from ..verdict.tolerance import Tolerance
from .compare import Names

if TYPE_CHECKING:
    from ..oracle.choice import OracleChoice
    from ..problem.bound import Bound
    from ..problem.build import ClaimTarget, Problem
    from ..samples.draw import Sample
    from ..settings import CheckSettings

__all__ = ["FULL_GRADIENT_LIMIT", "PENDING", "DirectionalEvidence", "Example", "ShapeEvidence", "array_error"]

FULL_GRADIENT_LIMIT = 4096  # entries; above this the diagnosis stays directional
PENDING = "fails the directional check (diagnosis pending)"  # the summary a failure has until it is explained


@dataclass(frozen=True, eq=False)
class Example:
    """One drawn example, bound: the point ``x`` of the wrt input, the function ``f`` the
    oracles differentiate (with its batched form), the claim's extra inputs (a VJP's
    cotangent) and the directions' generator, beside what the check was asked."""

    problem: Problem
    plan: ClaimTarget
    sample: Sample
    cfg: CheckSettings
    oracle: OracleChoice
    bound: Bound
    x: np.ndarray
    expected: tuple[int, ...]
    f: Any
    extra: dict
    rng: np.random.Generator
    view: Any = None  # a complex parameter's real-pair view (gradcheck.oracle.complex_params), or None

    @property
    def names(self) -> Names:
        """The user's symbols for the messages: the target, its axes, the truth's name, the sizes."""
        plan = self.plan
        target = plan.wrt if plan.claim.kind != "jvp" else f"node {plan.claim.node}"
        truth = {
            "gradient": "the gradient",
            "vjp": "the true vjp (J^T G)",
            "jvp": "the true jvp (J V)",
            "hvp": "the true hvp (H V)",
            "hessian": "the true Hessian",
            "jacobian": "the true Jacobian",
        }[plan.kind_word]
        return Names(
            target=target,
            noun=plan.noun,
            axes=tuple(str(d) for d in plan.expected_shape),
            shape_sym=shape_str(plan.expected_shape),
            sizes=self.bound.sizes,
            truth=truth,
        )


@dataclass(frozen=True, eq=False)
class ShapeEvidence:
    """The claim evaluated to another concrete shape than its target's."""

    example: Example
    claimed: np.ndarray
    tol: Tolerance

    def pending(self) -> Finding:
        return Finding(
            Label.SHAPE_MISMATCH, PENDING, claimed_shape=tuple(self.claimed.shape), max_rel_error=float("nan")
        )


@dataclass(frozen=True, eq=False)
class DirectionalEvidence:
    """The claim ``claimed`` disagrees with the oracle along the directions ``dirs`` beyond
    the tolerance, the rounding estimates included.

    ``claimed_d``/``oracle_d`` are <C, V> and the oracle's <G, V> per direction with their
    error bars ``dot_err`` (the claim's rounding included) and ``oracle_err`` (the complex
    step's included); ``claim_err`` is the claim's entrywise rounding estimate; ``worst`` the
    direction with the largest excess; ``rel`` the max_rel_error; ``evaluations`` the
    function evaluations spent so far; ``directions`` the directions per example.
    """

    example: Example
    claimed: np.ndarray
    dirs: tuple[np.ndarray, ...]
    claimed_d: np.ndarray
    oracle_d: np.ndarray
    dot_err: np.ndarray
    oracle_err: np.ndarray
    claim_err: np.ndarray
    tol: Tolerance
    rel: float
    method: Oracle
    evaluations: int
    directions: int
    notes: tuple[str, ...]
    worst: int

    def pending(self) -> Finding:
        return Finding(
            Label.WRONG,
            PENDING,
            max_rel_error=self.rel,
            oracle=self.method,
            evaluations=self.evaluations,
            directions=self.directions,
        )

    def undecided(self, summary: str, line: str, oracle: Oracle, notes: tuple[str, ...] = ()) -> Finding:
        """This example cannot decide (a kink next to it, oracles that disagree, a complex step
        nothing confirms): ``inconclusive``, with the evidence's error, evaluations and directions."""
        return Finding(
            Label.INCONCLUSIVE,
            summary,
            lines=(line,),
            max_rel_error=self.rel,
            oracle=oracle,
            evaluations=self.evaluations,
            directions=self.directions,
            notes=notes,
        )


def array_error(tol: Tolerance, c, g, claim_err=0.0, oracle_err=0.0) -> float:
    """max_rel_error of a whole claimed array against the true one: normwise (the scale is
    max(‖c‖∞, ‖g‖∞)), by the tolerance's own formula (:meth:`Tolerance.error`). NaN when the
    claim as given has another shape (a transposed non-square claim): no entry compares."""
    c, g = np.asarray(c, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if c.shape != g.shape or c.size == 0:
        return float("nan")
    scale = max(float(np.max(np.abs(c))), float(np.max(np.abs(g))))
    return tol.error(c, g, claim_err, oracle_err, scale)
