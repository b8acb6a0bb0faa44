"""Repair: the smallest edit of a wrong expression claim that passes, verified before it is shown.

Candidates are the claim's own expression with one edit (:mod:`gradcheck.repair.edits`), then
two. Each is checked cheaply first: its symbolic shape must be the expected one (free), then
its value must match the complex-step reference on two fixed examples (one evaluation of the
candidate each). The first candidate that survives is confirmed as an ordinary claim with the
run's full settings; only a confirmed fix is returned. The search is bounded in candidates and
seconds and says when the bound was reached.

For a gradient claim of an expression loss the derived gradient (:mod:`gradcheck.derive`) is
also computed and verified: it is what the user is shown when no edit within the bound passes,
and its additive terms are candidates for a missing term.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..derive.algebra import key
from ..derive.printer import to_text
from ..errors import GradcheckError
from ..expr import ir
from ..expr.evaluate import SubtreeValues
from ..expr.functions import WHITELIST
from ..expr.parse import parse
from ..expr.shapes import ShapeEnv, SubtreeShapes
from ..internal import ours
from ..problem.build import integer_ranges
from ..spec.model import Source
from ..verdict.model import Expect, Repair
from .edits import Change, Context, edits, tidy

__all__ = ["Repair", "repair"]

MAX_EDITS = 2
MAX_CANDIDATES = 600  # candidates per claim: the bound that decides (deterministic); every gallery fix needs <= 504
MAX_SECONDS = 5.0  # a safety net on a slow machine or a costly expression (then reported as exhausted)


def _print(e: ir.Expr, source: str, callables) -> str:
    """The candidate in the user's own spelling where it is unchanged (checked to parse back
    to the same expression; the plain printer's text otherwise)."""
    text = to_text(e, source=source)
    try:
        if key(parse(text, callables)) == key(e):
            return text
    except GradcheckError:
        pass
    return to_text(e)


def _text_of(e: ir.Expr, source: str) -> str:
    if e.span != (0, 0) and e.span[1] <= len(source):
        return source[e.span[0] : e.span[1]]
    return to_text(e)


def repair(problem, plan, cfg, *, max_seconds: float = MAX_SECONDS, max_candidates: int = MAX_CANDIDATES) -> Repair:
    """Search for the smallest edit of ``plan``'s expression that passes; derive the gradient too."""
    derivation = _derivation(problem, plan)
    terms = tuple(_terms(derivation.expr)) if derivation is not None and derivation.expr is not None else ()
    body = plan.body
    if not isinstance(body, Source):
        return Repair(**_verified(problem, plan, derivation, cfg))
    references = _references(problem, plan, cfg)
    if not references:
        return Repair(**_verified(problem, plan, derivation, cfg), exhausted="no valid example to compare with")
    callables = WHITELIST | set(problem.spec.define)
    shapes = SubtreeShapes(_env(problem, plan))
    walkers = [(SubtreeValues(problem.defines, values), ref, err) for values, ref, err in references]
    dims = tuple(d for d in problem.spec.dims if d in problem.scalars)
    ctx = Context(dims=dims, helpers={h: len(d.params) for h, d in problem.spec.define.items()}, terms=terms)
    started = time.perf_counter()
    seen = {key(body.expr)}
    frontier: list[tuple[ir.Expr, tuple[Change, ...]]] = [(body.expr, ())]
    tried = 0
    for _level in range(MAX_EDITS):
        next_frontier = []
        for expr, changes in frontier:
            for new, change in edits(expr, ctx):
                if change.kind == "term" and any(c.kind == "term" for c in changes):
                    continue  # add a derived term, then drop the user's: that is not an edit of theirs
                k = key(new)
                if k in seen:
                    continue
                seen.add(k)
                tried += 1
                if tried > max_candidates or time.perf_counter() - started > max_seconds:
                    which = f"{max_candidates} candidates" if tried > max_candidates else f"{max_seconds:g} s"
                    return Repair(**_verified(problem, plan, derivation, cfg), tried=tried, exhausted=which)
                path = (*changes, change)
                shaped = shapes.ok(new, plan.expected_shape)
                next_frontier.append((not shaped, len(next_frontier), new, path))
                if not shaped or not _matches(new, walkers):
                    continue
                new = tidy(new, problem.scalars)
                confirmed = _confirm(problem, plan, new, cfg)
                if confirmed:
                    shown = tuple(
                        f'"{_text_of(c.before, body.text)}" -> "{_print(tidy(c.after, problem.scalars), body.text, callables)}"'
                        for c in path
                    )
                    fix = _print(new, body.text, callables)
                    return Repair(fix=fix, edits=len(path), changes=shown, examples=confirmed, tried=tried)
        # the next edit starts from the candidates that already have the right shape
        frontier = [(expr, changes) for _, _, expr, changes in sorted(next_frontier, key=lambda t: t[:2])]
    return Repair(**_verified(problem, plan, derivation, cfg), tried=tried)


def _env(problem, plan) -> ShapeEnv:
    arrays = {**problem.input_shapes, **problem.node_shapes}
    claim = plan.claim
    if claim.kind == "vjp":
        arrays[claim.cotangent] = problem.node_shapes[claim.node]
    elif claim.kind == "jvp":
        arrays[claim.tangent] = plan.wrt_shape
    return ShapeEnv(
        arrays=arrays,
        scalars=problem.scalars,
        dims=problem.dim_ranges,
        defines=problem.defines,
        max_elements=problem.max_elements,
        integers=integer_ranges(problem.spec),
    )


def _matches(e: ir.Expr, references: list[tuple["SubtreeValues", np.ndarray, np.ndarray]]) -> bool:
    for walker, ref, err in references:
        try:
            with np.errstate(all="ignore"):
                c = walker.of(e)
            if np.iscomplexobj(c):  # not a real gradient at a real point: no candidate
                return False
            c = c.astype(np.float64)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError, GradcheckError):
            return False
        scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-300)
        if c.shape != ref.shape or not np.all(np.abs(c - ref) <= np.maximum(1e-7 * scale, 4 * err)):
            return False
    return True


def _references(problem, plan, cfg) -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """Two examples (smallest distinct sizes, then drawn ones): the values there, the true
    derivative, and its error bar (complex step; finite differences for code that is not
    complex-step safe)."""
    from ..errors import NotComplexSafe
    from ..problem.bound import bind
    from ..samples.draw import Sample, pick_sizes

    out = []
    for attempt in range(8):
        rng = np.random.default_rng([cfg.seed, 17, attempt])
        if attempt % 2 == 0:
            sizes = pick_sizes(lambda count: 0, problem.spec.dims, problem.reserved_sizes(), problem.derived_dims())
        else:
            sizes = pick_sizes(
                lambda count: int(rng.integers(count)),
                problem.spec.dims,
                problem.reserved_sizes(),
                problem.derived_dims(),
            )
        try:
            bound = bind(problem, Sample(sizes, int(rng.integers(2**32))))
            with np.errstate(all="ignore"):
                try:
                    extra, ref, err = _reference(bound, plan, rng, cfg, finite=bool(problem.complex_unsafe))
                except NotComplexSafe:
                    extra, ref, err = _reference(bound, plan, rng, cfg, finite=True)
        except GradcheckError:
            continue
        except Exception as exc:  # noqa: BLE001  user-code boundary: the user's loss and graph refuse this point (as a rejected draw); gradcheck's own failures re-raised
            if ours(exc):
                raise
            continue
        if not np.all(np.isfinite(ref)) or not np.all(np.isfinite(err)):
            continue
        out.append(({**bound.values, **extra}, ref, err))
        if len(out) == 2:
            break
    return out


def _reference(bound, plan, rng, cfg, *, finite: bool):
    """The claim's extra inputs (a cotangent or tangent), the true derivative and its error bar."""
    from ..oracle import complex_step, finite_diff
    from ..oracle.batch import Batchable, chunk_for
    from ..samples.draw import draw_direction

    claim = plan.claim
    oracle = finite_diff if finite else complex_step
    x = np.asarray(bound.values[plan.wrt], dtype=np.float64)
    chunk = chunk_for(bound.largest(), cfg.memory_mib)
    if claim.kind == "jvp":
        v = draw_direction(rng, x.shape)
        est = oracle.directional(lambda z: bound.node_local(claim.node, plan.wrt, z), x, v)
        return {claim.tangent: v}, np.asarray(est.value, dtype=np.float64), np.asarray(est.error, dtype=np.float64)
    if claim.kind == "vjp":
        u = draw_direction(rng, bound.shapes[claim.node])
        f = Batchable(lambda z: np.sum(bound.node_local(claim.node, plan.wrt, z) * u), None, chunk)
        extra = {claim.cotangent: u}
    else:
        f = Batchable(lambda z: bound.loss_at(plan.wrt, z), None, chunk)
        extra = {}
    est = oracle.gradient(f, x)
    return extra, np.asarray(est.value, dtype=np.float64), np.asarray(est.error, dtype=np.float64)


def _confirm(problem, plan, new: ir.Expr, cfg) -> int:
    """The number of examples the fixed claim passed with the full settings (0 if it did not)."""
    from ..check import check_plan
    from ..problem.build import build_problem

    spec = problem.spec
    text = _print(new, plan.body.text, WHITELIST | set(spec.define))
    parsed = parse(text, WHITELIST | set(spec.define))
    claim = plan.claim
    bodies = {plan.wrt: Source(text, parsed, plan.body.location)}
    fixed = replace(claim, name=f"{claim.name}-fix", wrt=(plan.wrt,), bodies=bodies, expect=Expect.PASS)
    rebuilt = build_problem(replace(spec, claims=(fixed,)), max_elements=problem.max_elements)
    verdict = check_plan(rebuilt, rebuilt.plans[0], replace(cfg, repair=False, database=False, shrink=False))
    return verdict.examples if verdict.passed else 0


def _derivation(problem, plan):
    """The derived gradient (or a vjp claim's derived vjp) as an Adjoint, not yet verified."""
    from ..derive import derive_problem
    from ..derive.reverse import derive_vjp

    claim = plan.claim
    if claim.kind == "vjp":
        return derive_vjp(problem, claim.node, plan.wrt, claim.cotangent)
    if claim.kind != "gradient" or not isinstance(problem.spec.loss, Source):
        return None
    return _cached(problem, "derivation", lambda: derive_problem(problem)).inputs.get(plan.wrt)


def _verified(problem, plan, adjoint, cfg) -> dict:
    """``derived`` and ``derived_examples`` for a Repair: the derivation, if its check passes."""
    from ..derive.verify import verify_derivation, verify_vjp

    if adjoint is None or adjoint.expr is None:
        return {}
    claim = plan.claim
    quiet = replace(cfg, repair=False, database=False, shrink=False)
    if claim.kind == "vjp":
        c = verify_vjp(problem, claim.node, plan.wrt, claim.cotangent, adjoint.text, adjoint.expr, quiet)
    else:

        def check():
            derivation = _cached(problem, "derivation", None)
            return verify_derivation(problem, derivation, quiet, (plan.wrt,)).get(plan.wrt)

        c = _cached(problem, ("verified", plan.wrt, cfg.seed, cfg.examples), check)
    if c is None or not c.verified:
        return {}
    return {"derived": c.text, "derived_examples": c.verdict.examples}


_CACHE: dict[int, tuple] = {}  # id(problem) -> (weakref to it, {key: value})


def _cached(problem, key, compute):
    """One derivation (and one verification per wrt) per problem, shared by its failing claims."""
    import weakref

    entry = _CACHE.get(id(problem))
    if entry is None or entry[0]() is not problem:
        for stale in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[stale]
        entry = _CACHE[id(problem)] = (weakref.ref(problem), {})
    values = entry[1]
    if key not in values:
        values[key] = compute()
    return values[key]


def _terms(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "+":
        return _terms(e.left) + _terms(e.right)
    if isinstance(e, ir.Binary) and e.op == "-":
        return _terms(e.left) + [ir.Unary((0, 0), "-", t) for t in _terms(e.right)]
    return [e]
