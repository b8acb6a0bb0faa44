"""Measuring instruments: CPU-time medians, costs paired with the unit T measured right beside
them, and gradcheck run through its real pipeline (spec file on disk -> ``gradcheck.run.run``)
with the calls to the user's code counted.

Why pairing: on the shared machine the same numpy call runs 20x slower for a second or so and
then fast again (other tenants; it shows in CPU time too, not only in wall time). A cost and the
T it is divided by are therefore measured back to back, and the *ratio* is taken per repeat
before the median, so that a slow phase inflates both and cancels.
"""

from __future__ import annotations

import importlib
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import problems as P
from anchors import Outcome, clock, with_budget


def per_call(fn: Callable[[], object], *, batch_seconds: float = 0.005, repeats: int = 11) -> float:
    """Median CPU seconds per call of a fast function: batches of ~``batch_seconds``, ``repeats`` batches."""
    fn()  # warm-up
    started = clock()
    fn()
    once = max(clock() - started, 1e-7)
    number = max(1, int(batch_seconds / once))
    samples = []
    for _ in range(repeats):
        started = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - started) / number)
    return statistics.median(samples)


class Unit:
    """T = T_loss + T_grad of the seed problem's numpy code on fixed data, sampled on demand."""

    def __init__(self, data: dict, loss=P.loss, grad=P.grad) -> None:
        self.data, self.loss, self.grad = data, loss, grad
        self.samples: list[float] = []

    def sample(self, repeats: int = 3) -> float:
        d = self.data
        t = per_call(lambda: self.loss(**d), batch_seconds=0.002, repeats=repeats) + per_call(
            lambda: self.grad(**d), batch_seconds=0.002, repeats=repeats
        )
        self.samples.append(t)
        return t

    @property
    def T(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """max / min of the samples: how much T itself moved during the measurement."""
        return max(self.samples) / min(self.samples) if self.samples else float("nan")


@dataclass
class Timed:
    """A check timed over repeats, each repeat paired with a sample of T.

    ``ratio`` is the median over repeats of (CPU seconds of the check) / (T sampled right after);
    ``seconds`` the median CPU seconds; ``outcome`` the last run's verdict; ``cold`` the first
    (warm-up) run's CPU seconds, which includes tracing/compilation for jax.
    """

    seconds: float
    ratio: float
    reps: int
    outcome: Outcome
    cold: float = 0.0

    @property
    def over_budget(self) -> bool:
        return self.outcome.over_budget


def time_check(
    run: Callable[[], tuple[bool, str]], budget: float, unit: Unit, *, max_reps: int = 5, total: float = 3.0
) -> Timed:
    """Time one anchor's check: a warm-up run under the budget, then up to ``max_reps`` warm runs
    while their sum stays under ``total`` CPU seconds. A run over 2 s is timed once."""
    first = with_budget(run, budget)
    if first.over_budget or first.seconds > 2.0:
        return Timed(first.seconds, first.seconds / unit.sample(), 1, first, cold=first.seconds)
    times, ratios, last, spent = [], [], first, 0.0
    while len(times) < max_reps and (spent < total or len(times) < 2):
        last = with_budget(run, budget)
        if last.over_budget:
            break
        times.append(last.seconds)
        ratios.append(last.seconds / unit.sample())
        spent += last.seconds
    if not times:
        return Timed(first.seconds, first.seconds / unit.sample(), 1, last, cold=first.seconds)
    return Timed(statistics.median(times), statistics.median(ratios), len(times), last, cold=first.seconds)


@dataclass
class GcRun:
    verdict: object  # gradcheck.verdict.model.Verdict, or None when the spec failed to load
    cpu: float  # CPU seconds for the whole run() call (load, build, examples, shrinking, diagnosis)
    wall: float
    examples: int
    calls: dict = field(default_factory=dict)
    error: str = ""

    @property
    def label(self) -> str:
        return str(self.verdict.label) if self.verdict is not None else "spec-error"

    @property
    def flagged(self) -> bool:
        """Reported as wrong in some way (``pass`` and ``inconclusive`` are not flags)."""
        return self.label not in ("pass", "inconclusive")

    @property
    def evaluations(self) -> int:
        return sum(self.calls.values())


class Gradcheck:
    """gradcheck through its public pipeline: a spec file in a temp folder beside a small module
    (``benchmod``) that re-exports the benchmark's numpy code."""

    def __init__(self, folder: Path) -> None:
        from gradcheck.options import RunOptions
        from gradcheck.run import run

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{P.MODULE}.py").write_text(P.MODULE_TEXT)
        importlib.invalidate_caches()  # the folder is new: no stale "nothing here" in the finder caches
        self._run, self._options = run, RunOptions

    def write(self, name: str, text: str) -> Path:
        path = self.folder / f"{name}.yaml"
        path.write_text(text)
        return path

    def run(self, path: Path, *, examples: int | None = None, seed: int = 1) -> GcRun:
        """One spec checked **in this process** (load, build, check_plan: what a worker process
        does with a claim, and what the pytest plugin does), so that the benchmark's module state
        (the planted ε of the sweeps, the call counts) is the user code's, and the profiler sees
        the checking. The CLI's process isolation is measured as a whole in section 7."""
        from gradcheck.check import check_plan
        from gradcheck.errors import GradcheckError
        from gradcheck.run import check_settings, read_problem

        options = self._options(seed=seed, examples=examples, timeout=0)
        P.reset_counts()
        started, cpu = time.perf_counter(), clock()
        try:
            problem = read_problem(str(path), options)
            plan = problem.plans[0]
            v = check_plan(problem, plan, check_settings(problem.spec, options, seed))
        except GradcheckError as exc:
            cpu, wall = clock() - cpu, time.perf_counter() - started
            return GcRun(None, cpu, wall, 0, dict(P.CALLS), error=str(exc))
        cpu, wall = clock() - cpu, time.perf_counter() - started
        return GcRun(v, cpu, wall, int(getattr(v, "examples", 0) or 0), dict(P.CALLS))

    def timed(
        self, path: Path, *, examples: int, seed: int = 1, repeats: int = 3, unit: Unit | None = None
    ) -> tuple[float, float | None, GcRun]:
        """Median CPU seconds of ``repeats`` runs; with ``unit``, also the median of
        (CPU seconds / T sampled right after); and the last run."""
        cpus, ratios, r = [], [], None
        for _ in range(repeats):
            r = self.run(path, examples=examples, seed=seed)
            cpus.append(r.cpu)
            if unit is not None:
                ratios.append(r.cpu / unit.sample())
        return statistics.median(cpus), (statistics.median(ratios) if ratios else None), r
