"""One (claim, wrt) pair -> a Verdict: the examples are drawn (Hypothesis, or a plain loop over
seeds when every dim is fixed), each is examined (:mod:`gradcheck.examine`), the first failing
one — shrunk to the smallest dims — is explained, and the findings become one Verdict.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import replace

import numpy as np

from .errors import SpecError
from .examine import PENDING, CheckSettings, InvalidSample, examine
from .expr.dims import bind_shape, name_shape, shape_str
from .limits import ClaimTimeout, deadline
from .oracle import complex_params
from .oracle.choice import OracleChoice
from .problem.build import ClaimPlan, Problem, claim_fields
from .samples.draw import Sample, example_sizes
from .spec.complex_inputs import complex_names
from .spec.model import PythonRef, Source
from .verdict.model import ExampleRecord, Finding, Verdict


def claim_seed(run_seed: int, spec: str, plan: ClaimPlan) -> int:
    """A per-(spec, claim, wrt) seed: stable under reordering and under ``--claim`` filtering."""
    h = hashlib.sha256(f"{run_seed}\0{spec}\0{plan.claim.name}\0{plan.wrt}".encode()).digest()
    return int.from_bytes(h[:4], "little")


class _Failed(Exception):
    def __init__(self, sample: Sample, finding: Finding) -> None:
        super().__init__(finding.summary)
        self.sample = sample
        self.finding = finding


VARIATIONS_PER_DIM = 2  # one size reads a dim's power off the factor; the second checks it


def _alternative_sizes(problem: Problem, sizes: dict[str, int], name: str) -> list[int]:
    """Up to VARIATIONS_PER_DIM other sizes of one dim, smallest first, pairwise distinct from
    the other dims when the range allows (a transpose hides when in == out)."""
    lo, hi = problem.dim_ranges[name]
    others = {v for k, v in sizes.items() if k != name}
    distinct, any_other = [], []
    for v in range(lo, hi + 1):
        if v == sizes[name]:
            continue
        (any_other if v in others else distinct).append(v)
        if len(distinct) >= VARIATIONS_PER_DIM:
            break
    return (distinct or any_other)[:VARIATIONS_PER_DIM]


def _factor_seen(finding: Finding) -> float | None:
    """The claim's constant factor at one example: None when it is not a constant multiple there."""
    if finding.label in ("scaled", "sign-flipped") and finding.factor is not None:
        return finding.factor
    return None


def _refine_factor(problem: Problem, plan: ClaimPlan, failing: "_Failed", cfg: CheckSettings, oracle) -> "_Failed":
    """Which dims does a factor follow? A factor of 2 at d = 4 may be a dropped 1/2 or a dropped
    1/sqrt(d): re-run the same seed with every ranged dim changed, one at a time, fit the factor
    as a constant times a product of dim powers (:func:`gradcheck.diagnosis.factor.fit_dim_powers`),
    and name a cause only when the fit predicts every variation; otherwise the numbers alone."""
    from .diagnosis.factor import (
        Observation,
        dim_hint,
        fit_dim_powers,
        hidden_dims,
        hidden_hint,
        unfitted_hint,
    )

    f = failing.finding
    sizes = failing.sample.sizes
    base = Observation(dict(sizes), f.factor, f.factor_error or 1e-9 * abs(f.factor))
    variations: list[Observation] = []
    unvaried: dict[str, int] = {}
    for name in sizes:
        seen = 0
        for value in _alternative_sizes(problem, sizes, name):
            alt = Sample({**sizes, name: value}, failing.sample.seed)
            try:
                g = examine(problem, plan, alt, cfg, oracle)
            except InvalidSample:
                continue
            if g.label in ("pass", "inconclusive"):  # within tolerance there: the factor was not measured
                continue
            seen += 1
            factor = _factor_seen(g)
            error = g.factor_error if g.factor_error is not None else 1e-9 * abs(factor or 1.0)
            variations.append(Observation(dict(alt.sizes), factor, error))
        if not seen:
            unvaried[name] = sizes[name]
    fit = fit_dim_powers(base, variations, tuple(sizes)) if variations else None
    fields: dict = {}
    if variations and fit is None:
        lines = (unfitted_hint(base, variations),)
    else:
        constant = fit is None or fit.constant_only  # a constant might be a fixed dim's size in disguise
        hidden = hidden_dims(fit.constant if fit is not None else f.factor, unvaried) if constant else []
        if hidden:
            lines = (hidden_hint(f.factor, hidden, unvaried, base, variations),)
        elif fit is None:
            return failing
        else:
            lines = (dim_hint(fit, base, variations, problem.spec.constants),)
        if fit is not None:
            fields = {"dim_powers": tuple((k, float(p)) for k, p in fit.powers), "factor_constant": float(fit.constant)}
    return _Failed(failing.sample, Finding(**{**f.__dict__, "lines": lines, **fields}))


EVERY_DRAW_HINT = (
    "the loss must return a number wherever the inputs' domains draw: fix it, or declare domains that "
    "exclude the inputs it refuses"
)


def _most_common(invalid: list[InvalidSample]) -> InvalidSample | None:
    """The first rejection with the most frequent reason (None when nothing was rejected)."""
    if not invalid:
        return None
    counts = Counter(r.reason for r in invalid)
    top = max(counts.values())
    return next(r for r in invalid if counts[r.reason] == top)


def _rejected(invalid: list[InvalidSample]) -> dict:
    """The Verdict's ``rejected`` count and ``rejected_reason`` (the most frequent reason)."""
    top = _most_common(invalid)
    return {"rejected": len(invalid), "rejected_reason": top.reason if top is not None else ""}


def _symbolic_claimed(plan: ClaimPlan, shape: tuple[int, ...], sizes: dict[str, int]) -> str:
    """A Python claim's concrete shape, in the user's symbols where the sizes say which dims."""
    expected = plan.expected_shape
    if shape == bind_shape(expected, sizes):
        return shape_str(expected)
    if shape == bind_shape(tuple(reversed(expected)), sizes):
        return shape_str(tuple(reversed(expected)))
    return name_shape(shape, sizes)


def _fixed_examples(
    problem: Problem,
    plan: ClaimPlan,
    cfg: CheckSettings,
    oracle: OracleChoice,
    seed: int,
    records: list[ExampleRecord],
    invalid: list[InvalidSample],
    db,
    digest: bytes,
) -> None:
    """Every dim fixed: an example is only the arrays' seed, nothing shrinks, and any failing
    seed is as small as another, so the examples are a plain loop over seeds (no Hypothesis
    engine per example). With ``cfg.shrink`` off (confirming a repair) the same loop draws each
    example's sizes from its seed. Like Hypothesis: seed 0 first, a failing seed saved in the example
    database is replayed first by later runs, and invalid draws are skipped up to ten times the
    examples. Raises :class:`_Failed` at the first failing example, already explained.
    """
    fixed = {name: lo for name, (lo, _) in problem.dim_ranges.items()}
    fixed = {name: fixed[name] for name in problem.spec.dims}
    ranged = any(lo != hi for lo, hi in problem.dim_ranges.values())  # (cfg.shrink off): sizes per seed
    key = digest + b"\0fixed"
    saved = sorted({int.from_bytes(v[:8], "little") for v in db.fetch(key)}) if db is not None else []
    rng = np.random.default_rng([seed, 9])

    def seeds():
        seen = set()
        for s in [*saved, 0]:
            if s not in seen:
                seen.add(s)
                yield s
        while True:
            s = int(rng.integers(0, 2**32))
            if s not in seen:
                seen.add(s)
                yield s

    attempts, budget = 0, 10 * cfg.examples + 10
    if all(_constant(i.domain) for i in problem.spec.inputs.values()):
        budget = cfg.examples  # every seed draws the same point (the API's at=): a rejection is final
    for s in seeds():
        if len(records) >= cfg.examples or attempts >= budget:
            return
        attempts += 1
        sizes = (
            example_sizes(problem.spec.dims, problem.reserved_sizes(), s, problem.derived_dims()) if ranged else fixed
        )
        sample = Sample(dict(sizes), s)
        try:
            finding = examine(problem, plan, sample, cfg, oracle, explain=True)
        except InvalidSample as exc:
            invalid.append(exc)
            continue
        records.append(ExampleRecord(len(records), dict(sample.sizes), sample.seed, finding))
        if finding.label not in ("pass", "inconclusive"):
            if db is not None:
                db.save(key, s.to_bytes(8, "little"))
            raise _Failed(sample, finding)
        if db is not None and s in saved:
            db.delete(key, s.to_bytes(8, "little"))  # fixed since: forget it


def _constant(domain) -> bool:
    """A domain with one value (the API's fixed points are inputs drawn from range [0, 0])."""
    if domain.kind == "range":
        return domain.low == domain.high
    return (
        domain.kind == "integers"
        and all(isinstance(b, int) for b in (domain.low, domain.high))
        and (domain.high - domain.low == 1)
    )


def _keywords(refs: list[PythonRef]) -> tuple[str, ...]:
    """The note naming what each Python callable received (none for expression specs)."""
    from .problem.callables import keywords_note

    note = keywords_note(refs)
    return (note,) if note is not None else ()


def check_plan(problem: Problem, plan: ClaimPlan, cfg: CheckSettings) -> Verdict:
    """The Verdict of one (claim, wrt) pair; a failing one carries its repair (a verified fix,
    the derived gradient) when the claim is an expression or the loss is (``cfg.repair``)."""
    begun = time.monotonic()
    verdict = _verdict(problem, plan, cfg)
    if not cfg.repair or verdict.passed or verdict.verdict not in REPAIRABLE:
        return verdict
    if complex_names(problem.spec.inputs):  # the repair search evaluates and derives over real data only
        return verdict
    if not isinstance(plan.body, Source) and not isinstance(problem.spec.loss, Source):
        return verdict
    from .repair import repair
    from .verdict.model import Repair

    started = time.perf_counter()
    # one --timeout for the claim: the search gets what the check left of it (the checks inside
    # the search run under this deadline, not deadlines of their own)
    left = cfg.timeout - (time.monotonic() - begun) if cfg.timeout else 0.0
    try:
        if cfg.timeout and left <= 0:
            raise ClaimTimeout()
        with deadline(left):
            found = repair(problem, plan, replace(cfg, timeout=0))
    except ClaimTimeout:
        found = Repair(exhausted=f"the --timeout of {cfg.timeout:g} s")
    except Exception as exc:  # noqa: BLE001  a bug in the repair search must not cost the claim its verdict: shown, not hidden
        found = Repair(internal_error=f"{type(exc).__name__}: {exc}")
    text = plan.body.text if isinstance(plan.body, Source) else ""
    return replace(verdict, repair=found, claimed_text=text, seconds=verdict.seconds + time.perf_counter() - started)


# verdicts a different formula can fix (not errors, NaNs or inconclusive examples)
REPAIRABLE = ("shape-mismatch", "transposed", "scaled", "sign-flipped", "wrong")


def _verdict(problem: Problem, plan: ClaimPlan, cfg: CheckSettings) -> Verdict:
    """Run Hypothesis over examples of one (claim, wrt) pair and return its Verdict."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
    from hypothesis import seed as hseed
    from hypothesis.database import DirectoryBasedExampleDatabase
    from hypothesis.errors import Unsatisfiable

    from .samples.draw import sample_strategy

    started = time.perf_counter()
    spec = problem.spec
    seed = claim_seed(cfg.seed, spec.name, plan)
    common = claim_fields(problem, plan, cfg.seed)

    from .problem.callables import resolve

    refs = [r for r in (spec.loss, plan.body) if isinstance(r, PythonRef)]
    try:
        for ref in refs:
            resolve(ref)
    except SpecError as err:
        return Verdict(
            **common,
            verdict="error",
            diagnosis=err.message,
            lines=(str(err),) if err.hint is None else (str(err.location), err.hint),
            max_rel_error=float("nan"),
            examples=0,
            seconds=time.perf_counter() - started,
        )

    if plan.static is not None and not plan.static.transposed:
        sizes = example_sizes(problem.spec.dims, problem.reserved_sizes(), seed, problem.derived_dims())
        bound_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
        lines = tuple(plan.static.lines) + (f"[{bound_text}]",)
        finding = Finding(
            "shape-mismatch", plan.static.lines[0], lines=lines[1:], max_rel_error=float("nan"), oracle=""
        )
        record = ExampleRecord(0, sizes, 0, finding, shrunk=True)
        return Verdict(
            **common,
            verdict="shape-mismatch",
            diagnosis=plan.static.lines[0],
            lines=lines[1:],
            max_rel_error=float("nan"),
            examples=0,
            failing=record,
            records=(record,),
            seconds=time.perf_counter() - started,
        )

    records: list[ExampleRecord] = []
    oracle = OracleChoice(guard=isinstance(spec.loss, PythonRef) and plan.claim.kind == "gradient")
    invalid: list[InvalidSample] = []
    misuse: list[SpecError] = []  # a misused callable (a loss returning a tuple): no example can say more

    # with every dim fixed there is nothing to shrink but the arrays' seed, and any failing seed
    # is as small as another: skip the shrink phase, and explain the first failing example at once
    ranged = cfg.shrink and any(lo != hi for lo, hi in problem.dim_ranges.values())
    failed: dict[tuple, Finding] = {}  # Hypothesis replays a failing example before raising: not re-examined

    def inner(sample: Sample) -> None:
        key = (tuple(sample.sizes.items()), sample.seed)
        if misuse:  # shrinking a misuse explains nothing: every later call fails at once
            raise _Failed(sample, Finding("error", misuse[0].message))
        finding = failed.get(key)
        if finding is None:
            try:
                finding = examine(problem, plan, sample, cfg, oracle, explain=not ranged)
            except InvalidSample as exc:
                invalid.append(exc)
                reject()
            except SpecError as err:
                misuse.append(err)
                raise _Failed(sample, Finding("error", err.message)) from None
            records.append(ExampleRecord(len(records), dict(sample.sizes), sample.seed, finding))
        if finding.label not in ("pass", "inconclusive"):
            failed[key] = finding
            raise _Failed(sample, finding)  # one raise site: Hypothesis tells bugs apart by it

    db = DirectoryBasedExampleDatabase(".hypothesis/gradcheck") if cfg.database else None
    digest = f"gradcheck\0{spec.name}\0{plan.claim.name}\0{plan.wrt}".encode()
    phases = (
        [Phase.explicit]
        + ([Phase.reuse] if db is not None else [])
        + [Phase.generate]
        + ([Phase.shrink] if ranged else [])
    )
    inner._hypothesis_internal_add_digest = digest
    test = settings(
        max_examples=cfg.examples,
        deadline=None,
        database=db,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=phases,
    )(hseed(seed)(given(sample_strategy(problem.spec.dims, problem.reserved_sizes(), problem.derived_dims()))(inner)))

    failing: _Failed | None = None
    unsatisfiable = False
    try:
        with deadline(cfg.timeout):
            if ranged:
                test()
            else:
                _fixed_examples(problem, plan, cfg, oracle, seed, records, invalid, db, digest)
    except ClaimTimeout:
        return Verdict(
            **common,
            verdict="error",
            diagnosis=f"timed out after {cfg.timeout:g} s",
            lines=(
                f"{len(records)} examples finished before the limit; a hung or very slow claim?",
                "raise the limit with --timeout SECONDS (0 = none)",
            ),
            max_rel_error=float("nan"),
            examples=len(records),
            records=tuple(records),
            seconds=time.perf_counter() - started,
            **_rejected(invalid),
        )
    except _Failed as exc:
        failing = exc
    except SpecError as err:  # from the plain loop over seeds
        misuse.append(err)
    except Unsatisfiable:
        unsatisfiable = True
    except BaseExceptionGroup as group:  # several distinct failures despite report_multiple_bugs=False
        found = [e for e in group.exceptions if isinstance(e, _Failed)]
        if not found:
            raise
        failing = found[0]

    seconds = time.perf_counter() - started
    examples = len(records)
    rejected = _rejected(invalid)
    if misuse:
        err = misuse[0]
        return Verdict(
            **common,
            verdict="error",
            diagnosis=err.message,
            lines=(str(err.location),) + ((err.hint,) if err.hint else ()),
            max_rel_error=float("nan"),
            examples=examples,
            records=tuple(records),
            seconds=seconds,
            usage_error=err,
            **rejected,
        )
    if failing is not None and failing.finding.summary == PENDING:
        try:
            final = examine(problem, plan, failing.sample, cfg, oracle, explain=True)
        except InvalidSample as exc:  # cannot happen for a sample that just failed, but never crash
            final = Finding("inconclusive", f"the failing example could not be re-checked: {exc}")
        failing = _Failed(failing.sample, final)
        if final.label in ("pass", "inconclusive"):
            records.append(
                ExampleRecord(len(records), dict(failing.sample.sizes), failing.sample.seed, final, shrunk=True)
            )
            failing = None
    if failing is not None and failing.finding.label == "scaled" and failing.finding.factor is not None:
        failing = _refine_factor(problem, plan, failing, cfg, oracle)
    if failing is not None:
        f = failing.finding
        record = ExampleRecord(len(records), dict(failing.sample.sizes), failing.sample.seed, f, shrunk=True)
        records.append(record)
        claimed_shape = common["claimed_shape"]
        if not claimed_shape and f.claimed_shape is not None:
            claimed_shape = _symbolic_claimed(plan, tuple(f.claimed_shape), failing.sample.sizes)
        return Verdict(
            **{**common, "claimed_shape": claimed_shape},
            verdict=f.label,
            diagnosis=f.summary,
            lines=f.lines,
            max_rel_error=f.max_rel_error,
            examples=examples,
            factor=f.factor,
            oracle=f.oracle,
            entries=f.entries,
            failing=record,
            records=tuple(records),
            notes=f.notes + _keywords(refs),
            seconds=seconds,
            **rejected,
        )
    if unsatisfiable or not records:
        top = _most_common(invalid)
        if not records and top is not None and top.raised:
            # code that raises on every draw is not a numerical outcome: it says so, with its traceback
            n = len(invalid)
            return Verdict(
                **common,
                verdict="error",
                diagnosis=f"{top.who} raised on every draw ({n} of {n}): {top.error}",
                lines=top.lines + (EVERY_DRAW_HINT,),
                max_rel_error=float("nan"),
                examples=examples,
                records=tuple(records),
                notes=_keywords(refs),
                seconds=seconds,
                **rejected,
            )
        reason = top.reason if top is not None else "no valid example could be drawn"
        return Verdict(
            **common,
            verdict="inconclusive",
            diagnosis=f"no valid example: {reason} (declare a domain for the inputs?)",
            lines=(),
            max_rel_error=float("nan"),
            examples=examples,
            records=tuple(records),
            notes=_keywords(refs),
            seconds=seconds,
            **rejected,
        )
    passes = [r for r in records if r.finding.label == "pass"]
    unsure = [r for r in records if r.finding.label == "inconclusive"]
    notes = sorted({n for r in records for n in r.finding.notes})
    rel = max((r.finding.max_rel_error for r in passes), default=float("nan"))
    oracle_used = ", ".join(sorted({r.finding.oracle for r in records if r.finding.oracle}))
    if unsure and len(unsure) >= len(passes):
        f = unsure[0].finding
        return Verdict(
            **common,
            verdict="inconclusive",
            diagnosis=f.summary,
            lines=f.lines + (f"{len(unsure)} of {len(records)} examples inconclusive",),
            max_rel_error=rel,
            examples=examples,
            oracle=oracle_used,
            failing=unsure[0],
            records=tuple(records),
            notes=tuple(notes),
            seconds=seconds,
            **rejected,
        )
    if unsure:
        notes.append(f"{len(unsure)} of {len(records)} examples inconclusive ({unsure[0].finding.summary})")
    notes.extend(complex_params.error_bar_notes(problem, [r.finding for r in passes]))
    return Verdict(
        **common,
        verdict="pass",
        diagnosis=f"agrees on {len(passes)} examples",
        lines=(),
        max_rel_error=rel,
        examples=examples,
        oracle=oracle_used,
        records=tuple(records),
        notes=tuple(notes),
        seconds=seconds,
        **rejected,
    )
