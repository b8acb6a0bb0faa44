"""One (claim, wrt) pair -> a Verdict: the examples are drawn (Hypothesis, or a plain loop over
seeds when every dim is fixed), each is examined (:mod:`gradcheck.examine`), the first failing
one — shrunk to the smallest dims — is explained, and the findings become one Verdict.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import SpecError
from .examine import CheckSettings, InvalidSample, check_example, examine, explained
from .expr.dims import bind_shape, name_shape, shape_str
from .internal import InternalFailure, internal_error, ours
from .oracle import complex_params
from .oracle.choice import OracleChoice
from .problem.build import ClaimTarget, Problem, claim_fields
from .samples.draw import Sample, example_sizes
from .spec.complex_inputs import complex_names
from .spec.model import SECOND_ORDER, PythonRef, Source
from .user_limits import ClaimTimeout, deadline
from .verdict.model import ExampleRecord, Finding, Label, Verdict


def claim_seed(run_seed: int, spec: str, plan: ClaimTarget) -> int:
    """A per-(spec, claim, wrt) seed: stable under reordering and under ``--claim`` filtering."""
    h = hashlib.sha256(f"{run_seed}\0{spec}\0{plan.claim.name}\0{plan.wrt}".encode()).digest()
    return int.from_bytes(h[:4], "little")


class _Failed(Exception):
    """The first failing example: its sample and Finding; ``pending`` while the Finding stands in
    for evidence not yet explained (inside Hypothesis's search, explained once shrunk)."""

    def __init__(self, sample: Sample, finding: Finding, pending: bool = False) -> None:
        super().__init__(finding.summary)
        self.sample = sample
        self.finding = finding
        self.pending = pending


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
    if finding.label in (Label.SCALED, Label.SIGN_FLIPPED) and finding.factor is not None:
        return finding.factor
    return None


def _refine_factor(problem: Problem, plan: ClaimTarget, failing: "_Failed", cfg: CheckSettings, oracle) -> "_Failed":
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
            if g.label in (Label.PASS, Label.INCONCLUSIVE):  # within tolerance there: the factor was not measured
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


def _symbolic_claimed(plan: ClaimTarget, shape: tuple[int, ...], sizes: dict[str, int]) -> str:
    """A Python claim's concrete shape, in the user's symbols where the sizes say which dims."""
    expected = plan.expected_shape
    if shape == bind_shape(expected, sizes):
        return shape_str(expected)
    if shape == bind_shape(tuple(reversed(expected)), sizes):
        return shape_str(tuple(reversed(expected)))
    return name_shape(shape, sizes)


@dataclass(eq=False)
class _Search:
    """What both ways of drawing examples share: the claim, the oracle, the example database,
    and what they collect (the examples' records, the rejected draws, a misused callable)."""

    problem: Problem
    plan: ClaimTarget
    cfg: CheckSettings
    oracle: OracleChoice
    seed: int
    db: object
    digest: bytes
    records: list[ExampleRecord] = field(default_factory=list)
    invalid: list[InvalidSample] = field(default_factory=list)
    misuse: list[SpecError] = field(default_factory=list)  # a misused callable: no example can say more

    @property
    def ranged(self) -> bool:
        """Whether Hypothesis searches and shrinks. With every dim fixed there is nothing to shrink
        but the arrays' seed, and any failing seed is as small as another: a plain loop over seeds."""
        return self.cfg.shrink and any(lo != hi for lo, hi in self.problem.dim_ranges.values())

    def check(self, sample: Sample, explain: bool) -> tuple[Finding, bool] | None:
        """One example, recorded: its Finding, and whether it is a failure left pending (when not
        ``explain``). None for a rejected draw (counted)."""
        try:
            result = check_example(self.problem, self.plan, sample, self.cfg, self.oracle)
        except InvalidSample as exc:
            self.invalid.append(exc)
            return None
        pending = not isinstance(result, Finding) and not explain
        if isinstance(result, Finding):
            finding = result
        else:
            finding = result.pending() if pending else explained(result)
        self.records.append(ExampleRecord(len(self.records), dict(sample.sizes), sample.seed, finding))
        return finding, pending


def _failed(finding: Finding) -> bool:
    return finding.label not in (Label.PASS, Label.INCONCLUSIVE)


def _seed_loop(search: _Search) -> None:
    """Every dim fixed: an example is only the arrays' seed, nothing shrinks, and any failing
    seed is as small as another, so the examples are a plain loop over seeds (no Hypothesis
    engine per example). With ``cfg.shrink`` off (confirming a repair) the same loop draws each
    example's sizes from its seed. Like Hypothesis: seed 0 first, a failing seed saved in the example
    database is replayed first by later runs, and invalid draws are skipped up to ten times the
    examples. Raises :class:`_Failed` at the first failing example, already explained.
    """
    problem, cfg, db = search.problem, search.cfg, search.db
    fixed = {name: lo for name, (lo, _) in problem.dim_ranges.items()}
    fixed = {name: fixed[name] for name in problem.spec.dims}
    ranged = any(lo != hi for lo, hi in problem.dim_ranges.values())  # (cfg.shrink off): sizes per seed
    key = search.digest + b"\0fixed"
    saved = sorted({int.from_bytes(v[:8], "little") for v in db.fetch(key)}) if db is not None else []
    attempts, budget = 0, 10 * cfg.examples + 10
    if all(_constant(i.domain) for i in problem.spec.inputs.values()):
        budget = cfg.examples  # every seed draws the same point: a rejection is final
    for s in _seeds(saved, np.random.default_rng([search.seed, 9])):
        if len(search.records) >= cfg.examples or attempts >= budget:
            return
        attempts += 1
        sizes = (
            example_sizes(problem.spec.dims, problem.reserved_sizes(), s, problem.derived_dims()) if ranged else fixed
        )
        sample = Sample(dict(sizes), s)
        checked = search.check(sample, explain=True)
        if checked is None:
            continue
        if _failed(checked[0]):
            if db is not None:
                db.save(key, s.to_bytes(8, "little"))
            raise _Failed(sample, checked[0])
        if db is not None and s in saved:
            db.delete(key, s.to_bytes(8, "little"))  # fixed since: forget it


def _seeds(saved: list[int], rng: np.random.Generator):
    """The saved failing seeds, then 0, then fresh seeds from ``rng``, each once."""
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


def _hypothesis_loop(search: _Search) -> None:
    """Some dim ranges: Hypothesis draws the examples, and shrinks the first failure to the
    smallest dims. Raises :class:`_Failed` with that failure, still pending."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
    from hypothesis import seed as hseed

    from .samples.draw import sample_strategy, without_mined_constants

    problem = search.problem
    failed: dict[
        tuple, tuple[Finding, bool]
    ] = {}  # Hypothesis replays a failing example before raising: not re-examined

    def inner(sample: Sample) -> None:
        key = (tuple(sample.sizes.items()), sample.seed)
        if search.misuse:  # shrinking a misuse explains nothing: every later call fails at once
            raise _Failed(sample, Finding(Label.ERROR, search.misuse[0].message))
        checked = failed.get(key)
        if checked is None:
            try:
                checked = search.check(sample, explain=False)
            except SpecError as err:
                search.misuse.append(err)
                raise _Failed(sample, Finding(Label.ERROR, err.message)) from None
            except Exception as exc:  # gradcheck's own failure: out of Hypothesis at once, not shrunk as a bug
                raise InternalFailure(exc) from exc
            if checked is None:
                reject()
        if _failed(checked[0]):
            failed[key] = checked
            raise _Failed(sample, *checked)  # one raise site: Hypothesis tells bugs apart by it

    phases = (
        [Phase.explicit]
        + ([Phase.reuse] if search.db is not None else [])
        + [Phase.generate]
        + ([Phase.shrink] if search.ranged else [])
    )
    inner._hypothesis_internal_add_digest = search.digest
    test = settings(
        max_examples=search.cfg.examples,
        deadline=None,
        database=search.db,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=phases,
    )(
        hseed(search.seed)(
            given(sample_strategy(problem.spec.dims, problem.reserved_sizes(), problem.derived_dims()))(inner)
        )
    )
    with without_mined_constants():  # the same seed draws the same examples, whatever else is imported
        test()


@dataclass(frozen=True)
class _Ended:
    """How the search ended: the first failure (shrunk), no example satisfied the domains, or the time ran out."""

    failing: _Failed | None = None
    unsatisfiable: bool = False
    timed_out: bool = False


def _given_loop(search: _Search) -> None:
    """Known points (``cfg.given``: the API's ``at=``), each examined once, as Hypothesis's
    ``@example``: nothing is drawn or shrunk, and a rejected one is final. Raises
    :class:`_Failed` at the first failing one, already explained."""
    for sample in search.cfg.given:
        checked = search.check(sample, explain=True)
        if checked is not None and _failed(checked[0]):
            raise _Failed(sample, *checked)


def _search(search: _Search) -> _Ended:
    """Check the examples, one of three ways (given points, Hypothesis's draws and shrinking, or a
    loop over seeds when every dim is fixed), within the claim's --timeout."""
    from hypothesis.errors import Unsatisfiable

    loop = _given_loop if search.cfg.given else _hypothesis_loop if search.ranged else _seed_loop
    try:
        with deadline(search.cfg.timeout):
            loop(search)
    except ClaimTimeout:
        return _Ended(timed_out=True)
    except _Failed as exc:
        return _Ended(failing=exc)
    except SpecError as err:  # from the plain loop over seeds
        search.misuse.append(err)
    except Unsatisfiable:
        return _Ended(unsatisfiable=True)
    except BaseExceptionGroup as group:  # several distinct failures despite report_multiple_bugs=False
        found = [e for e in group.exceptions if isinstance(e, _Failed)]
        if not found:
            raise
        return _Ended(failing=found[0])
    return _Ended()


def _constant(domain) -> bool:
    """A domain with one value (``range: [c, c]``, or one integer)."""
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


def check_plan(problem: Problem, plan: ClaimTarget, cfg: CheckSettings) -> Verdict:
    """The Verdict of one (claim, wrt) pair; a failing one carries its repair (a verified fix,
    the derived gradient) when the claim is an expression or the loss is (``cfg.repair``).

    The phases: the static verdict (a callable that cannot be imported, a shape mismatch found
    without sampling); the search (:func:`_search`: Hypothesis, or the loop over seeds); the
    explanation of the shrunk failure and the factor's refinement (:func:`_failure_verdict`);
    the repair search (:func:`_with_repair`). Every Verdict is built by :meth:`_Run.verdict`.
    A failure of gradcheck's own machinery is an ``error`` verdict that says so.
    """
    begun = time.monotonic()
    try:
        if plan.claim.kind in SECOND_ORDER and plan.static is None:  # checked by reduction to a first-order claim
            from .second_order import check_second_order

            return check_second_order(problem, plan, cfg)
        verdict = _verdict(problem, plan, cfg)
    except InternalFailure as failure:  # out of Hypothesis's loop
        return _internal_verdict(problem, plan, cfg, failure.error, time.monotonic() - begun)
    except Exception as exc:  # noqa: BLE001  the check's boundary: gradcheck's own failure becomes its verdict
        if not ours(exc):
            raise
        return _internal_verdict(problem, plan, cfg, exc, time.monotonic() - begun)
    return _with_repair(problem, plan, cfg, verdict, begun)


def _with_repair(problem: Problem, plan: ClaimTarget, cfg: CheckSettings, verdict: Verdict, begun: float) -> Verdict:
    """A failing expression claim (or a claim on an expression loss) with its repair search's result."""
    if not cfg.repair or verdict.passed or verdict.label not in REPAIRABLE or plan.claim.kind in SECOND_ORDER:
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


def _internal_verdict(problem: Problem, plan: ClaimTarget, cfg: CheckSettings, exc: BaseException, seconds: float):
    """A failure of gradcheck's own machinery: an ``error`` verdict that says so, never a weaker check.
    User code's exceptions that reached this far are not gradcheck's: they go on (the worker reports them)."""
    if not ours(exc):
        raise exc
    diagnosis, lines = internal_error(exc)
    return _Run(problem, plan, cfg, time.perf_counter() - seconds).verdict(Label.ERROR, diagnosis, lines)


# verdicts a different formula can fix (not errors, NaNs or inconclusive examples)
REPAIRABLE = (Label.SHAPE_MISMATCH, Label.TRANSPOSED, Label.SCALED, Label.SIGN_FLIPPED, Label.WRONG)


@dataclass(eq=False)
class _Run:
    """One check of one (claim, wrt): what every Verdict it builds says, and when it began."""

    problem: Problem
    plan: ClaimTarget
    cfg: CheckSettings
    started: float
    search: _Search | None = None
    seconds: float | None = None  # fixed when the search ends (the explanation is not counted) ...
    examples: int | None = None  # ... as the examples are (not the shrunk failure's re-check)

    @property
    def refs(self) -> list[PythonRef]:
        return [r for r in (self.problem.spec.loss, self.plan.body) if isinstance(r, PythonRef)]

    def verdict(self, label: Label, diagnosis: str, lines: tuple[str, ...] = (), **fields) -> Verdict:
        """The one place a Verdict is built: the claim's fields, the search's records and rejected
        draws, the time; ``fields`` override (max_rel_error is NaN unless given)."""
        search = self.search
        collected = {}
        if search is not None:
            examples = self.examples if self.examples is not None else len(search.records)
            collected = {"examples": examples, "records": tuple(search.records), **_rejected(search.invalid)}
        seconds = self.seconds if self.seconds is not None else time.perf_counter() - self.started
        base = {"max_rel_error": float("nan"), "examples": 0, **collected, "seconds": seconds}
        common = claim_fields(self.problem, self.plan, self.cfg.seed)
        common.update({k: fields.pop(k) for k in list(fields) if k in common})
        return Verdict(**common, label=label, diagnosis=diagnosis, lines=lines, **{**base, **fields})


def _verdict(problem: Problem, plan: ClaimTarget, cfg: CheckSettings) -> Verdict:
    """Draw and check examples of one (claim, wrt) pair, and return its Verdict."""
    from hypothesis.database import DirectoryBasedExampleDatabase

    run = _Run(problem, plan, cfg, time.perf_counter())
    static = _static_verdict(run)
    if static is not None:
        return static
    db = DirectoryBasedExampleDatabase(".hypothesis/gradcheck") if cfg.database else None
    oracle = OracleChoice(
        guard=isinstance(problem.spec.loss, PythonRef) and plan.claim.kind == "gradient", unsafe=problem.complex_unsafe
    )
    digest = f"gradcheck\0{problem.spec.name}\0{plan.claim.name}\0{plan.wrt}".encode()
    run.search = _Search(problem, plan, cfg, oracle, claim_seed(cfg.seed, problem.spec.name, plan), db, digest)
    ended = _search(run.search)
    if ended.timed_out:
        return run.verdict(
            Label.ERROR,
            f"timed out after {cfg.timeout:g} s",
            (
                f"{len(run.search.records)} examples finished before the limit; a hung or very slow claim?",
                "raise the limit with --timeout SECONDS (0 = none)",
            ),
        )
    run.seconds, run.examples = time.perf_counter() - run.started, len(run.search.records)
    if run.search.misuse:
        err = run.search.misuse[0]
        lines = (str(err.location),) + ((err.hint,) if err.hint else ())
        return run.verdict(Label.ERROR, err.message, lines, usage_error=err)
    failing = _explained(run, ended.failing)
    if failing is not None:
        return _failure_verdict(run, failing)
    if ended.unsatisfiable or not run.search.records:
        return _no_example_verdict(run)
    return _passing_verdict(run)


def _static_verdict(run: _Run) -> Verdict | None:
    """Before any example: a Python callable that cannot be resolved, or a shape mismatch the
    shapes alone prove (a transpose needs numbers to tell)."""
    from .problem.callables import resolve

    problem, plan = run.problem, run.plan
    try:
        for ref in run.refs:
            resolve(ref)
    except SpecError as err:
        lines = (str(err),) if err.hint is None else (str(err.location), err.hint)
        return run.verdict(Label.ERROR, err.message, lines)
    if plan.static is None or plan.static.transposed:
        return None
    seed = claim_seed(run.cfg.seed, problem.spec.name, plan)
    sizes = example_sizes(problem.spec.dims, problem.reserved_sizes(), seed, problem.derived_dims())
    bound_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    lines = tuple(plan.static.lines) + (f"[{bound_text}]",)
    finding = Finding(
        Label.SHAPE_MISMATCH, plan.static.lines[0], lines=lines[1:], max_rel_error=float("nan"), oracle=""
    )
    record = ExampleRecord(0, sizes, 0, finding, shrunk=True)
    return run.verdict(Label.SHAPE_MISMATCH, plan.static.lines[0], lines[1:], failing=record, records=(record,))


def _explained(run: _Run, failing: _Failed | None) -> _Failed | None:
    """The shrunk failure explained (it was pending inside Hypothesis's search) and, for a
    constant factor, refined across the dims; None if the explanation finds it passes after all."""
    search = run.search
    if failing is not None and failing.pending:
        try:
            final = examine(run.problem, run.plan, failing.sample, run.cfg, search.oracle, explain=True)
        except InvalidSample as exc:  # cannot happen for a sample that just failed, but never crash
            final = Finding(Label.INCONCLUSIVE, f"the failing example could not be re-checked: {exc}")
        failing = _Failed(failing.sample, final)
        if final.label in (Label.PASS, Label.INCONCLUSIVE):
            sample = failing.sample
            search.records.append(
                ExampleRecord(len(search.records), dict(sample.sizes), sample.seed, final, shrunk=True)
            )
            failing = None
    if failing is not None and failing.finding.label == Label.SCALED and failing.finding.factor is not None:
        failing = _refine_factor(run.problem, run.plan, failing, run.cfg, search.oracle)
    return failing


def _failure_verdict(run: _Run, failing: _Failed) -> Verdict:
    """The Verdict of a failing claim: the shrunk example's Finding."""
    f, sample, records = failing.finding, failing.sample, run.search.records
    record = ExampleRecord(len(records), dict(sample.sizes), sample.seed, f, shrunk=True)
    records.append(record)
    claimed_shape = claim_fields(run.problem, run.plan, run.cfg.seed)["claimed_shape"]
    if not claimed_shape and f.claimed_shape is not None:
        claimed_shape = _symbolic_claimed(run.plan, tuple(f.claimed_shape), sample.sizes)
    return run.verdict(
        f.label,
        f.summary,
        f.lines,
        claimed_shape=claimed_shape,
        max_rel_error=f.max_rel_error,
        factor=f.factor,
        oracle=f.oracle,
        entries=f.entries,
        failing=record,
        notes=f.notes + _keywords(run.refs),
    )


def _no_example_verdict(run: _Run) -> Verdict:
    """No example could be checked: code that raises on every draw is an error, with its traceback;
    otherwise the draws were outside the loss's domain, and the verdict is inconclusive."""
    invalid = run.search.invalid
    top = _most_common(invalid)
    if not run.search.records and top is not None and top.raised:
        n = len(invalid)
        return run.verdict(
            Label.ERROR,
            f"{top.who} raised on every draw ({n} of {n}): {top.error}",
            top.lines + (EVERY_DRAW_HINT,),
            notes=_keywords(run.refs),
        )
    reason = top.reason if top is not None else "no valid example could be drawn"
    return run.verdict(
        Label.INCONCLUSIVE, f"no valid example: {reason} (declare a domain for the inputs?)", notes=_keywords(run.refs)
    )


def _passing_verdict(run: _Run) -> Verdict:
    """Every example passed, or some could not decide: pass, unless the undecided outnumber the passes."""
    records = run.search.records
    passes = [r for r in records if r.finding.label == Label.PASS]
    unsure = [r for r in records if r.finding.label == Label.INCONCLUSIVE]
    notes = sorted({n for r in records for n in r.finding.notes})
    rel = max((r.finding.max_rel_error for r in passes), default=float("nan"))
    oracle_used = ", ".join(sorted({r.finding.oracle for r in records if r.finding.oracle}))
    if unsure and len(unsure) >= len(passes):
        f = unsure[0].finding
        lines = f.lines + (f"{len(unsure)} of {len(records)} examples inconclusive",)
        return run.verdict(
            Label.INCONCLUSIVE,
            f.summary,
            lines,
            max_rel_error=rel,
            oracle=oracle_used,
            failing=unsure[0],
            notes=tuple(notes),
        )
    if unsure:
        notes.append(f"{len(unsure)} of {len(records)} examples inconclusive ({unsure[0].finding.summary})")
    notes.extend(complex_params.error_bar_notes(run.problem, [r.finding for r in passes]))
    return run.verdict(
        Label.PASS, f"agrees on {len(passes)} examples", max_rel_error=rel, oracle=oracle_used, notes=tuple(notes)
    )
