"""A derived formula is a claim like any other: checked by gradcheck's own oracles before it is shown.

:func:`verify_derivation` turns every derived gradient into an ordinary gradient claim of the
same spec (parsed back from its printed text, which also proves the printer round-trips) and
runs :func:`gradcheck.check.check_plan` on it with the run's settings. A derived gradient that
does not parse back to the same expression, or that fails its check, is a bug of gradcheck: it
is reported as such with the failing example, never printed as right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..expr.functions import WHITELIST
from ..expr.parse import parse
from ..spec.model import Claim, Source
from ..verdict.model import Verdict
from .algebra import key
from .reverse import Derivation

__all__ = ["Checked", "verify_derivation", "verify_vjp"]


@dataclass(frozen=True)
class Checked:
    """One derived gradient and what its check said."""

    wrt: str
    text: str
    verdict: Verdict | None  # None when it could not even be parsed back (a printer bug)
    problem: str = ""  # what went wrong, for a derived gradient that is not verified

    @property
    def verified(self) -> bool:
        return self.verdict is not None and self.verdict.passed


def verify_vjp(problem, node: str, wrt: str, cotangent: str, text: str, expr, cfg) -> Checked:
    """Check a derived VJP of one node as an ordinary vjp claim."""
    from ..check import check_plan
    from ..problem.build import build_problem

    spec = problem.spec
    parsed = parse(text, WHITELIST | set(spec.define))
    if key(parsed) != key(expr):
        return Checked(wrt, text, None, "the printed formula does not parse back to the derived one")
    claim = Claim(
        name=f"derived-vjp-{node}-{wrt}",
        kind="vjp",
        wrt=(wrt,),
        bodies={wrt: Source(text, parsed, spec.location)},
        location=spec.location,
        node=node,
        cotangent=cotangent,
        description="derived by gradcheck",
    )
    derived = build_problem(replace(spec, claims=(claim,)), max_elements=problem.max_elements)
    verdict = check_plan(derived, derived.plans[0], replace(cfg, repair=False))
    note = "" if verdict.passed else f"gradcheck's own derived vjp failed its check: {verdict.diagnosis}"
    return Checked(wrt, text, verdict, note)


def claim_name(wrt: str) -> str:
    return f"derived-{wrt}"


def verify_derivation(problem, derivation: Derivation, cfg, wrt: tuple[str, ...] = ()) -> dict[str, Checked]:
    """Check every derived input gradient (or those in ``wrt``) as an ordinary claim."""
    from ..check import check_plan
    from ..problem.build import build_problem

    spec = problem.spec
    callables = WHITELIST | set(spec.define)
    claims, out = [], {}
    for name, adjoint in derivation.inputs.items():
        if adjoint.expr is None or (wrt and name not in wrt):
            continue
        text = adjoint.text
        parsed = parse(text, callables)
        if key(parsed) != key(adjoint.expr):
            out[name] = Checked(name, text, None, "the printed formula does not parse back to the derived one")
            continue
        claims.append(
            Claim(
                name=claim_name(name),
                kind="gradient",
                wrt=(name,),
                bodies={name: Source(text, parsed, spec.location)},
                location=spec.location,
                description="derived by gradcheck",
            )
        )
    if not claims:
        return out
    derived = build_problem(replace(spec, claims=tuple(claims)), max_elements=problem.max_elements)
    cfg = replace(cfg, repair=False)
    for plan in derived.plans:
        verdict = check_plan(derived, plan, cfg)
        note = "" if verdict.passed else f"gradcheck's own derived gradient failed its check: {verdict.diagnosis}"
        out[plan.wrt] = Checked(plan.wrt, plan.body.text, verdict, note)
    return out
