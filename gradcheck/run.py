"""The pipeline in one function: paths -> specs -> problems -> verdicts -> (report)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from .errors import SpecError
from .options import RunOptions
from .verdict.model import RunResult, SpecFailure, Verdict

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_EXAMPLES = 25
DEFAULT_TIMEOUT = 60.0


class _Stop:
    requested = False


@contextlib.contextmanager
def _sigterm_as_interrupt(stop: _Stop):
    """Ctrl-C and SIGTERM (a CI job cancelled) stop the run: what finished is still reported."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        stop.requested = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def refuse_python(spec) -> None:
    """``--no-python``: a spec you did not write may not import code. Raises a located SpecError."""
    from .spec.model import PythonRef

    entries = [("loss", spec.loss)] + [(f"claim '{c.name}'", b) for c in spec.claims for b in c.bodies.values()]
    for what, body in entries:
        if isinstance(body, PythonRef):
            raise SpecError(
                f"{what} names Python code ({body.target}), and --no-python refuses every {{python: ...}} entry",
                body.location,
                hint="run without --no-python only for specs whose code you trust",
            )


def discover(paths: Iterable[str]) -> tuple[list[str], list[SpecFailure]]:
    """Files as given; a folder means every .yaml/.yml below it, sorted."""
    found, missing = [], []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found += sorted(str(f) for f in path.rglob("*") if f.suffix in SPEC_SUFFIXES and f.is_file())
        elif path.is_file():
            found.append(str(path))
        else:
            missing.append(SpecFailure(str(p), f"{p}: no such file or folder"))
    return found, missing


def run(
    paths: Iterable[str],
    options: RunOptions = RunOptions(),
    on_verdict: Callable[[Verdict], None] | None = None,
    on_failure: Callable[[SpecFailure], None] | None = None,
) -> RunResult:
    """Check every claim of every spec under ``paths``.

    A spec that cannot be read is recorded as a :class:`SpecFailure` and the others still run.
    """
    started = time.perf_counter()
    seed = options.seed if options.seed is not None else draw_seed()
    from datetime import datetime, timezone

    paths = list(paths)
    files, failures = discover(paths)
    result = RunResult(
        seed=seed,
        paths=list(files),
        failures=list(failures),
        inputs=[str(p) for p in paths],
        started_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )
    for f in failures:
        if on_failure:
            on_failure(f)
    stop = _Stop()
    try:
        with _sigterm_as_interrupt(stop):
            _run_files(files, options, seed, result, on_verdict, on_failure)
    except KeyboardInterrupt:
        result.incomplete = True
    except Exception:
        # a signal that lands inside Hypothesis's own machinery can come out as another exception
        if not stop.requested:
            raise
        result.incomplete = True
    result.seconds = time.perf_counter() - started
    if options.report:
        from .report.frames import write_reports

        write_reports(result, options.report)
        if result.incomplete:
            from .report.atomic import atomic_write_text

            atomic_write_text(
                Path(options.report) / "INCOMPLETE",
                f"interrupted: {len(result.verdicts)} claims were checked before the run was stopped\n",
            )
    return result


def draw_seed() -> int:
    """A run seed when none is given (CLI and pytest alike): from the system's entropy source."""
    return random.SystemRandom().randrange(2**31)


def read_problem(path: str, options: RunOptions = RunOptions()):
    """Load, vet (``--no-python``) and compile one spec file. Raises a located SpecError."""
    from .problem.build import build_problem
    from .spec.load import load_spec

    spec = load_spec(path)
    if options.no_python:
        refuse_python(spec)
    return build_problem(spec)


def check_settings(spec, options: RunOptions, seed: int):
    """Command-line options over the spec's ``settings:`` over the defaults (CLI and pytest alike)."""
    from .examine import CheckSettings
    from .oracle.batch import MEMORY_BUDGET_MIB

    s = spec.settings
    return CheckSettings(
        examples=options.examples or s.examples or DEFAULT_EXAMPLES,
        rtol=options.rtol if options.rtol is not None else (s.rtol if s.rtol is not None else 1e-9),
        atol=options.atol if options.atol is not None else (s.atol if s.atol is not None else 0.0),
        directions=options.directions or s.directions or None,
        seed=seed,
        database=options.seed is None and os.environ.get("GRADCHECK_NO_DATABASE") is None,
        timeout=options.timeout if options.timeout is not None else DEFAULT_TIMEOUT,
        memory_mib=options.memory if options.memory is not None else MEMORY_BUDGET_MIB,
    )


def _run_files(files, options: RunOptions, seed: int, result: RunResult, on_verdict, on_failure) -> None:
    """Read each spec here; check each claim in a worker process (:mod:`gradcheck.workers`).

    This process runs no user code and no numerics: a claim that crashes, hangs in C, exits or
    forks ends as an ``error`` verdict from its worker, and the next claim runs on. With
    ``--jobs N`` up to N claims run at once; verdicts still arrive in spec order.
    """
    import sys

    from .workers import Died, Task, claim_timeout, default_memory_limit, died_verdict, new_run, pool

    this_run = new_run()

    broken: set[str] = set()  # specs whose python entry could not be imported: their other claims are left out

    def entries():
        for file in files:
            try:
                problem = read_problem(file, options)
            except SpecError as err:
                yield (file, SpecFailure(file, str(err), err.location.line if err.location else 0))
                continue
            for index, plan in enumerate(problem.plans):
                if options.claim and plan.claim.name not in options.claim:
                    continue
                task = Task(file, index, options, seed, os.getcwd(), tuple(sys.path), dict(os.environ), this_run)
                yield (file, (problem, plan, task))

    def work(entry):
        _, item = entry
        return None if isinstance(item, SpecFailure) else (item[2], claim_timeout(options))

    def fail(failure: SpecFailure) -> None:
        result.failures.append(failure)
        if on_failure:
            on_failure(failure)

    limit = options.memory_limit if options.memory_limit is not None else default_memory_limit()
    with pool(limit, options.jobs or 1) as workers:
        workers.start()  # their imports overlap the reading of the first spec
        for (file, item), reply in workers.ordered(entries(), work, skip=lambda e: e[0] in broken):
            if isinstance(item, SpecFailure):
                fail(item)
                continue
            if file in broken:
                continue
            problem, plan, _ = item
            if isinstance(reply, Died):
                verdict = died_verdict(problem, plan, seed, reply)
            elif reply[0] == "failure":  # a python entry that cannot be imported, found at run time
                broken.add(file)
                fail(SpecFailure(file, reply[1], reply[2]))
                continue
            else:
                verdict = reply[1]
            result.verdicts.append(verdict)
            if on_verdict:
                on_verdict(verdict)
