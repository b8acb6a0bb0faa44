"""Second-order and Jacobian claims, checked by reduction to first-order ones.

A ``hessian``, ``hvp`` or ``jacobian`` claim is turned into a claim the first-order machinery
already checks — with its cheap directional check, error bars, shrinking and diagnosis — on a
rewritten problem, and its verdict is mapped back to the user's claim:

* ``hvp: C(V)`` of the loss L wrt x is the **gradient** of the scalar ⟨V, ∇L(x)⟩ wrt x, with the
  tangent V drawn as an extra input per example: d/dx ⟨V, ∇L(x)⟩ = H V, since the Hessian H of
  a twice-differentiable loss is symmetric. ∇L is gradcheck's own derived gradient
  (:mod:`gradcheck.derive`), verified as an ordinary gradient claim before it is trusted, so the
  complex step of ⟨V, ∇L⟩ gives every ⟨W, H V⟩ to machine precision.
* ``hessian: C`` is the hvp claim ``C V`` (C contracted with V over wrt's axes); a failing one
  is then explained on the full arrays: the claimed Hessian against the true one (n complex
  steps of ∇L), and, when the claim is not symmetric, "not symmetric where it must be".
* ``jacobian: J`` of node n wrt w is the **jvp** claim ``J V`` (J contracted with V over w's axes).

When the loss's gradient cannot be derived (a function without a VJP rule, or a Python loss),
⟨V, ∇L(x)⟩ is the complex step of the loss along V (exact) and its gradient wrt x comes from
finite differences with their error bar: "the complex step of finite differences".

Notes
-----
An hvp claim is compared with the gradient of ⟨V, ∇L⟩, which is Hᵀ V: the two agree because H
is symmetric wherever L is C². At a kink (relu, abs) both sides are piecewise and agree off the
kink, where examples are drawn.

References
----------
Squire & Trapp (1998), complex step; Martins, Sturdza & Alonso (2003), the complex-step
derivative approximation; Pearlmutter (1994), fast exact multiplication by the Hessian.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, replace

import numpy as np

from .errors import SpecError
from .examine import CheckSettings
from .expr.dims import shape_str
from .internal import refusal
from .problem.build import ClaimTarget, Problem, build_problem, claim_fields
from .spec.model import SECOND_ORDER, Claim, ClaimKind, Domain, InputSpec, PythonRef, Source, Spec
from .verdict.model import Label, Verdict

__all__ = ["SECOND_ORDER", "check_second_order", "reduce_plan"]

# a derived gradient that misses its own check by less than this (relative) is rounding at an
# ill-conditioned point (cond 1e8: the graph's solve() rounds at 1e-8), not a wrong rule: it is
# still the reference, whose own rounding the complex step's error bar measures
DERIVED_AGREES = 1e-6


@dataclass(frozen=True)
class Reduction:
    """A second-order plan rewritten as a first-order one on its own problem."""

    problem: Problem
    plan: ClaimTarget
    tangent: str  # the drawn tangent's name in the rewritten problem
    gradient: Source | None  # the verified derived gradient of the loss (hessian, hvp), if any
    note: str  # how the reference was computed, for the verdict's notes


def check_second_order(problem: Problem, plan: ClaimTarget, cfg: CheckSettings) -> Verdict:
    """The Verdict of a ``hessian``, ``hvp`` or ``jacobian`` plan (see the module docstring)."""
    from .check import check_plan

    try:
        reduction = reduce_plan(problem, plan, cfg)
    except SpecError as err:  # the rewritten problem is refused (its tangent over the element budget)
        return Verdict(
            **claim_fields(problem, plan, cfg.seed),
            label=Label.ERROR,
            diagnosis=f"the {plan.claim.kind} claim cannot be checked: {err.message}",
            lines=(str(err.location),) + ((err.hint,) if err.hint else ()) + _tangent_line(plan),
            max_rel_error=float("nan"),
            examples=0,
        )
    verdict = check_plan(reduction.problem, reduction.plan, replace(cfg, repair=False))
    verdict = replace(
        verdict,
        node=plan.claim.node,
        expected_shape=shape_str(plan.expected_shape),
        claimed_shape=shape_str(plan.claimed_shape) if plan.claimed_shape is not None else "",
        notes=verdict.notes + ((reduction.note,) if reduction.note else ()),
    )
    if plan.claim.kind == "hessian" and verdict.failing is not None and verdict.label not in _NOT_NUMERIC:
        from .diagnosis.matrices import explain_hessian

        verdict = explain_hessian(problem, plan, reduction, verdict, cfg)
    if plan.claim.kind == "jacobian" and verdict.failing is not None:
        from .diagnosis.matrices import explain_jacobian

        verdict = explain_jacobian(problem, plan, reduction, verdict, cfg)
    return verdict


def _tangent_line(plan: ClaimTarget) -> tuple[str, ...]:
    if plan.claim.kind == "jacobian":
        return ()
    tangent = plan.claim.tangent if plan.claim.kind == "hvp" else "V"
    return (
        f"the check draws a tangent {tangent} of {plan.wrt}'s shape beside the inputs: it counts toward the budget",
    )


_NOT_NUMERIC = (Label.ERROR, Label.NOT_FINITE, Label.INCONCLUSIVE, Label.SHAPE_MISMATCH)


def reduce_plan(problem: Problem, plan: ClaimTarget, cfg: CheckSettings) -> Reduction:
    """The first-order problem and plan that check ``plan`` (a hessian, hvp or jacobian plan)."""
    spec, claim = problem.spec, plan.claim
    tangent = claim.tangent if claim.kind == "hvp" else fresh_name(spec, "V")
    k = len(plan.wrt_shape)
    body = plan.body if claim.kind == "hvp" else contracted(spec, plan.body, tangent, k, len(plan.expected_shape) - k)
    if claim.kind == "jacobian":
        wording = ("jacobian", f"node {claim.node}")
        reduced = _first_order(claim, plan.wrt, body, "jvp", wording, node=claim.node, tangent=tangent)
        return _built(problem, replace(spec, claims=(reduced,)), tangent, None, "")
    gradient, why = derived_gradient(problem, plan.wrt, cfg)
    reduced = _first_order(claim, plan.wrt, body, "gradient", (claim.kind, "the loss"))
    inputs = {**spec.inputs, tangent: _tangent_input(spec, plan.wrt, tangent, claim)}
    if gradient is not None:
        loss = _inner_product(spec, tangent, gradient)
        note = f"reference: the complex step of <{tangent}, grad L> with gradcheck's derived, verified gradient"
    else:
        loss = _directional_loss(problem, plan.wrt, tangent)
        note = (
            f"reference: finite differences of the complex step of the loss along {tangent} ({why}), "
            "with their error bar"
        )
    rewritten = replace(spec, inputs=inputs, loss=loss, claims=(reduced,))
    return _built(problem, rewritten, tangent, gradient, note)


def _first_order(
    claim: Claim, wrt: str, body: Source | PythonRef, kind: ClaimKind, wording: tuple[str, str], **local
) -> Claim:
    """The user's claim as the first-order claim of ``kind`` that checks it: one wrt and its
    rewritten body, the user's name, location, expectation and description, worded as the
    user's kind (``local``: a jvp's node and tangent)."""
    return Claim(
        name=claim.name,
        kind=kind,
        wrt=(wrt,),
        bodies={wrt: body},
        location=claim.location,
        expect=claim.expect,
        description=claim.description,
        wrt_locations=claim.wrt_locations,
        wording=wording,
        **local,
    )


def _built(problem: Problem, spec: Spec, tangent: str, gradient: Source | None, note: str) -> Reduction:
    reduced = build_problem(spec, max_elements=problem.max_elements)
    return Reduction(reduced, reduced.plans[0], tangent, gradient, note)


def _tangent_input(spec: Spec, wrt: str, tangent: str, claim: Claim) -> InputSpec:
    """The drawn tangent: real entries in the wrt input's shape (as written: derived dims stay derived)."""
    return InputSpec(tangent, spec.inputs[wrt].shape, Domain(), claim.location)


def fresh_name(spec: Spec, base: str) -> str:
    """``base``, or ``base1``, ``base2``, ...: the first not used by the spec."""
    used = {*spec.inputs, *spec.constants, *spec.arrays, *spec.dims, *spec.define, *(n.name for n in spec.graph)}
    if base not in used:
        return base
    return next(f"{base}{i}" for i in range(1, len(used) + 2) if f"{base}{i}" not in used)


def contracted(spec: Spec, body: Source | PythonRef, tangent: str, k: int, lead: int) -> Source | PythonRef:
    """The claim ``body`` (``lead`` axes, then the wrt's ``k``) contracted with the tangent over
    the wrt's axes: ``einsum('cdab,ab->cd', H, V)``, or ``H * V`` for a scalar wrt."""
    if isinstance(body, PythonRef):
        return _contracted_ref(body, tangent, k)
    from .expr.functions import WHITELIST
    from .expr.parse import parse

    if k == 0:
        text = f"({body.text}) * {tangent}"
    else:
        inner, outer = string.ascii_letters[:k], string.ascii_letters[k : k + lead]
        text = f"einsum('{outer}{inner},{inner}->{outer}', {body.text}, {tangent})"
    return Source(text, parse(text, WHITELIST | set(spec.define)), body.location)


def _contracted_ref(body: PythonRef, tangent: str, k: int) -> PythonRef:
    """A Python claim's array contracted with the tangent over its last ``k`` axes (the user's
    callable receives every keyword but the tangent, by the usual rule)."""
    from .problem.callables import FORWARDS, call_user, resolve

    user = resolve(body)

    def contract(**kw):
        v = kw.pop(tangent)
        out = np.asarray(call_user(user, kw, copy=False))
        if out.ndim < k or out.shape[out.ndim - k :] != np.shape(v):
            raise refusal(
                ValueError(
                    f"{body.function} returned shape {out.shape}: its last {k} axes must be the wrt's shape {np.shape(v)}"
                )
            )
        return np.tensordot(out, v, axes=k) if k else out * v

    setattr(contract, FORWARDS, user)
    contract.__name__ = contract.__qualname__ = body.function
    return PythonRef(body.module, body.function, body.location, obj=contract)


def derived_gradient(problem: Problem, wrt: str, cfg: CheckSettings) -> tuple[Source | None, str]:
    """gradcheck's own gradient of the loss wrt ``wrt`` as an expression, verified as an
    ordinary gradient claim (:func:`gradcheck.derive.verify.verify_derivation`); None and why not
    when the loss is Python code, a function has no VJP rule, or the derived formula fails its check."""
    spec = problem.spec
    if not isinstance(spec.loss, Source):
        return None, "the loss is Python code"
    from .derive import derive_problem
    from .derive.verify import verify_derivation

    try:
        derivation = derive_problem(problem)
    except SpecError as exc:  # the derivation refuses the loss (a shape it cannot follow): the slower oracle
        return None, f"its gradient could not be derived: {type(exc).__name__}: {exc}"
    adjoint = derivation.inputs.get(wrt)
    if adjoint is None or adjoint.expr is None:
        reason = adjoint.reason if adjoint is not None else "no gradient was derived"
        return None, f"the loss's gradient cannot be derived: {reason}"
    checked = verify_derivation(problem, derivation, replace(cfg, repair=False), wrt=(wrt,)).get(wrt)
    if checked is None or checked.verdict is None:
        return None, "gradcheck's derived gradient could not be checked"
    rel = checked.verdict.max_rel_error
    if not checked.verified and not (math.isfinite(rel) and rel <= DERIVED_AGREES):
        return None, f"gradcheck's derived gradient did not pass its own check ({checked.verdict.label})"
    from .expr.functions import WHITELIST
    from .expr.parse import parse

    text = checked.text
    return Source(text, parse(text, WHITELIST | set(spec.define)), spec.loss.location), ""


def _inner_product(spec: Spec, tangent: str, gradient: Source) -> Source:
    """The scalar ``sum(V * (grad))`` as the rewritten spec's loss."""
    from .expr.functions import WHITELIST
    from .expr.parse import parse

    text = f"sum({tangent} * ({gradient.text}))"
    return Source(text, parse(text, WHITELIST | set(spec.define)), gradient.location)


def _directional_loss(problem: Problem, wrt: str, tangent: str) -> PythonRef:
    """⟨V, ∇L(x)⟩ as the complex step of the original loss along V at a real x (the oracle's own,
    :func:`gradcheck.oracle.complex_step.directional`, which tells code that is not complex-step
    safe: then a central difference along V); complex x is refused, so the oracles differentiate
    it by finite differences (with their error bar)."""
    from .errors import FiniteDifferencesOnly, NotComplexSafe
    from .oracle import complex_step, finite_diff
    from .problem.bound import Bound
    from .samples.draw import Sample

    original = problem

    def directional(**kw):
        x = np.asarray(kw[wrt])
        v = np.asarray(kw[tangent])
        if np.iscomplexobj(x) or np.iscomplexobj(v):  # the oracle's signal to use finite differences
            raise FiniteDifferencesOnly(
                "the reference is a complex step of the loss along V, so its gradient is taken at real points"
            )
        inputs = {k: np.asarray(kw[k]) for k in original.spec.inputs}
        sizes = _sizes(original, inputs)
        values = {k: (a.astype(np.float64) if a.dtype.kind == "f" else a) for k, a in inputs.items()}
        bound = Bound(original, Sample(sizes, 0), inputs, {k: a.shape for k, a in inputs.items()}, values)
        values.update(bound.fixed_values())

        def loss(z):
            return bound.loss_at(wrt, z)

        try:
            return float(complex_step.directional(loss, x, v).value)
        except NotComplexSafe:  # it refused complex input, warned (ComplexWarning) or dropped the imaginary part
            h = 1e-6 * max(1.0, float(np.max(np.abs(x), initial=0.0)))
            return float(finite_diff.central(loss, x, v, h))

    directional.__name__ = directional.__qualname__ = "directional_derivative"
    return PythonRef("gradcheck.second_order", "directional_derivative", problem.spec.location, obj=directional)


def _sizes(problem: Problem, inputs: dict[str, np.ndarray]) -> dict[str, int]:
    """The dims' sizes, read off the inputs' shapes."""
    sizes: dict[str, int] = {}
    for name, shape in problem.input_shapes.items():
        for d, n in zip(shape, np.shape(inputs[name])):
            if d.is_symbol:
                sizes[str(d)] = int(n)
    for name, (lo, hi) in problem.dim_ranges.items():
        sizes.setdefault(name, lo)
    return sizes
