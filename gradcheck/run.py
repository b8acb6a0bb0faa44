"""The pipeline in one function: paths -> specs -> problems -> verdicts -> (report)."""

from __future__ import annotations

import contextlib
import glob
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

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
    entries += [(f"constant '{a.name}'", a.source) for a in getattr(spec, "arrays", {}).values()]
    for what, body in entries:
        if isinstance(body, PythonRef):
            raise SpecError(
                f"{what} names Python code ({body.target}), and --no-python refuses every {{python: ...}} entry",
                body.location,
                hint="run without --no-python only for specs whose code you trust",
            )


class Discovered(NamedTuple):
    """The spec files under the paths, the paths that do not exist, and what matched nothing."""

    files: list[str]
    missing: list[SpecFailure]  # no such file or folder: a spec error (exit 2)
    empty: list[str]  # a folder or a pattern with no spec file in it, one message each (exit 5)


def discover(paths: Iterable[str]) -> Discovered:
    """Files as given; a folder means every .yaml/.yml below it, sorted; a pattern that is not a
    path (``'specs/**/*.yaml'``, quoted so the shell leaves it alone) every .yaml/.yml it matches."""
    found: list[str] = []
    missing: list[SpecFailure] = []
    empty: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            below = _specs_below(path)
            if not below:
                empty.append(f"{p}: no .yaml or .yml file in this folder: nothing to check")
            found += below
        elif path.is_file():
            found.append(str(path))
        elif glob.has_magic(str(p)):
            matched = []
            for f in sorted(glob.glob(str(p), recursive=True)):
                if Path(f).is_dir():
                    matched += _specs_below(Path(f))
                elif Path(f).suffix in SPEC_SUFFIXES:
                    matched.append(f)
            if not matched:
                empty.append(f"{p}: the pattern matches no .yaml or .yml file")
            found += dict.fromkeys(matched)  # ``specs/**`` matches a folder and the files in it
        else:
            missing.append(SpecFailure(str(p), f"{p}: no such file or folder"))
    return Discovered(found, missing, empty)


def _nothing(files: list[str], empty: list[str], options: RunOptions) -> list[str]:
    return empty + (unmatched_claims(files, options.claim) if options.claim and files else [])


def _specs_below(folder: Path) -> list[str]:
    return sorted(str(f) for f in folder.rglob("*") if f.suffix in SPEC_SUFFIXES and f.is_file())


def unmatched_claims(files: list[str], names: Iterable[str]) -> list[str]:
    """One message per ``--claim`` name that matches no claim in any of the spec files.

    A name found in one file but not in another is fine. When a file cannot be read, its claims
    are unknown and nothing is reported here (the run reports the spec error, exit 2).
    """
    from .spec.load import load_spec

    known: list[str] = []
    for file in files:
        try:
            known += [c.name for c in load_spec(file).claims]
        except SpecError:
            return []
    where = files[0] if len(files) == 1 else f"the {len(files)} spec files"
    return unmatched_names(names, known, where, "--claim")


def unmatched_names(names: Iterable[str], known: Iterable[str], where: str, flag: str) -> list[str]:
    """``--claim grad-w matches no claim in spec.yaml: did you mean 'grad-W'?``, per unknown name
    (CLI and pytest alike; without a close name, the claims there are listed instead)."""
    from .spec.fields import did_you_mean

    known = sorted(set(known))
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    out = []
    for name in dict.fromkeys(names):
        if name in known:
            continue
        hint = did_you_mean(name, known)
        tail = f": {hint}" if hint else (f" (their claims: {shown})" if known else "")
        out.append(f"{flag} {name} matches no claim in {where}{tail}")
    return out


def report_problem(directory: str, flag: str = "--report", specs: Iterable[str] = ()) -> str | None:
    """Why the report cannot be written into ``directory`` (``None``: it can), asked before the run
    so that a typo does not cost the whole run. Tries: makes the folder, writes a probe file, and
    removes both again (the run makes the folder when it writes the report)."""
    import tempfile

    path = Path(directory)
    if path.exists() and not path.is_dir():
        spec = any(path.resolve() == Path(s).resolve() for s in specs)
        what = "this is a spec file to check" if spec else "a file is in the way"
        return f"{flag} {directory}: {what}, not a folder: give a folder for the report (it holds several files)"
    made = [p for p in (path, *path.parents) if not p.exists()]  # deepest first
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        return f"{flag} {directory}: cannot write there ({err.strerror or err}): give a folder you can write to"
    finally:
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
    return None


def run(
    paths: Iterable[str],
    options: RunOptions = RunOptions(),
    on_verdict: Callable[[Verdict], None] | None = None,
    on_failure: Callable[[SpecFailure], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_start: Callable[[], None] | None = None,
    shard: ShardPlan | None = None,
) -> RunResult:
    """Check every claim of every spec under ``paths``.

    A spec that cannot be read is recorded as a :class:`SpecFailure` and the others still run.
    A folder or pattern without spec files, or a ``--claim`` name that matches no claim, is
    recorded in ``nothing`` and nothing runs (exit 5); ``on_start`` is called only when the
    run starts (the CLI's progress display begins there). With ``options.shard``, only that
    part of the claims runs: ``shard`` is its :func:`shard_plan` when the caller made it already.
    """
    started = time.perf_counter()
    seed = options.seed if options.seed is not None else draw_seed()
    from datetime import datetime, timezone

    paths = list(paths)
    files, failures, empty = discover(paths)
    result = RunResult(
        seed=seed,
        paths=list(files),
        failures=list(failures),
        inputs=[str(p) for p in paths],
        started_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )
    result.nothing = _nothing(files, empty, options)
    if result.nothing:  # a typo: refused before running, and nothing is written (exit 5)
        return result
    if on_start:
        on_start()
    for f in failures:
        if on_failure:
            on_failure(f)
    stop = _Stop()
    try:
        with _sigterm_as_interrupt(stop):
            if options.shard and shard is None:
                shard = shard_plan(files, options)
            _run_files(files, options, seed, result, on_verdict, on_failure, on_warning, shard)
    except KeyboardInterrupt:
        result.incomplete = True
    except Exception:
        # a signal that lands inside Hypothesis's own machinery can come out as another exception
        if not stop.requested:
            raise
        result.incomplete = True
    result.seconds = time.perf_counter() - started
    if options.report:
        result.written = write_report(result, options.report, shard)
    return result


def write_report(result: RunResult, directory: str, shard: ShardPlan | None = None) -> list[Path]:
    """The report stage: the report folder of ``result`` (tables, details.json, pages), the
    ``INCOMPLETE`` marker of an interrupted run (an earlier one's removed), and ``shard.json`` for
    a shard; returns the report files written (the marker and ``shard.json`` are bookkeeping)."""
    from .report.frames import write_reports

    written = write_reports(result, directory)
    marker = Path(directory) / "INCOMPLETE"
    if result.incomplete:
        from .report.atomic import atomic_write_text

        atomic_write_text(
            marker, f"interrupted: {len(result.verdicts)} claims were checked before the run was stopped\n"
        )
    else:  # an earlier interrupted run's marker would call this complete report partial
        marker.unlink(missing_ok=True)
    if shard is not None:
        from .report.merge import write_shard

        write_shard(directory, shard, result.seed)
    return written


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
    return build_problem(spec, max_elements=options.max_elements)


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


def _run_files(
    files, options: RunOptions, seed: int, result: RunResult, on_verdict, on_failure, on_warning=None, shard=None
) -> None:
    """Read each spec here; check each claim in a worker process (:mod:`gradcheck.workers`).

    This process runs no user code and no numerics: a claim that crashes, hangs in C, exits or
    forks ends as an ``error`` verdict from its worker, and the next claim runs on. With
    ``--jobs N`` up to N claims run at once; verdicts still arrive in spec order.
    """
    from .workers import Died, claim_timeout, default_jobs, default_memory_limit, died_verdict, pool

    broken: set[str] = set()  # specs whose python entry could not be imported: their other claims are left out
    entries = _entries(files, options, seed, shard, on_warning)

    def work(entry):
        _, item = entry
        return None if isinstance(item, SpecFailure) else (item[2], claim_timeout(options))

    def fail(failure: SpecFailure) -> None:
        result.failures.append(failure)
        if on_failure:
            on_failure(failure)

    limit = options.memory_limit if options.memory_limit is not None else default_memory_limit()
    with pool(limit, options.jobs or default_jobs()) as workers:
        workers.start()  # their imports overlap the reading of the first spec
        for (file, item), reply in workers.ordered(entries, work, skip=lambda e: e[0] in broken):
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
            verdict = problem.annotate(verdict)  # the spec's warnings and label hints: data, added here
            result.verdicts.append(verdict)
            if on_verdict:
                on_verdict(verdict)


def _entries(files, options: RunOptions, seed: int, shard: ShardPlan | None, on_warning):
    """What the workers get, in run order: ``(file, SpecFailure)`` for a spec that cannot be read,
    else ``(file, (problem, target, task))`` for each of its claim targets this run checks
    (``--claim``, this ``--shard``); the spec's warnings go to ``on_warning`` as it is read."""
    import sys

    from .workers import Task, new_run

    this_run = new_run()
    read = shard.read if shard else _read_each(options)
    mine = shard.mine if shard else None
    for file in files:
        try:
            problem = read(file)
        except SpecError as err:
            yield (file, SpecFailure(file, str(err), err.location.line if err.location else 0))
            continue
        for warning in problem.warnings if on_warning else ():
            on_warning(warning)
        for index, target in enumerate(problem.plans):
            if options.claim and target.claim.name not in options.claim:
                continue
            if mine is not None and (file, index) not in mine:
                continue
            task = Task(file, index, options, seed, os.getcwd(), tuple(sys.path), dict(os.environ), this_run)
            yield (file, (problem, target, task))


# --- sharding (``--shard I/N``) ---------------------------------------------------------------


def _read_each(options: RunOptions):
    return lambda file: read_problem(file, options)


def _read_all(files: list[str], options: RunOptions):
    """Every spec read once, up front: a shard must know every item to know which are its own."""
    read: dict[str, object] = {}
    for file in files:
        try:
            read[file] = read_problem(file, options)
        except SpecError as err:
            read[file] = err

    def get(file: str):
        found = read[file]
        if isinstance(found, SpecError):
            raise found
        return found

    return get


class ShardPlan(NamedTuple):
    """Every (spec, claim, wrt) item of the whole run in run order, its expected cost and its shard,
    and what this shard checks: ``mine``, as ``(file, plan index)``. Written as ``shard.json`` with
    the report, for ``gradcheck merge``."""

    index: int  # 1-based, as on the command line
    count: int
    files: list[str]
    items: list[tuple[str, str, str]]  # (file, claim, wrt): a report row's key
    costs: list[int]
    shard_of: list[int]  # 1-based
    mine: set[tuple[str, int]]
    read: Callable


def expected_cost(problem, options: RunOptions) -> int:
    """What one claim of ``problem`` is expected to cost: the examples it will run (``--examples``,
    else the spec's ``settings: examples``, else 25). Machine-independent, so every shard computes
    the same split."""
    return options.examples or problem.spec.settings.examples or DEFAULT_EXAMPLES


def split_costs(costs: list[int], count: int) -> list[int]:
    """The shard (1-based) of each item: costliest first, each to the least loaded shard (ties: the
    earlier item, the lower shard). The loads differ by at most the largest single cost, and the
    split depends only on the costs and their order, so every shard computes the same one."""
    loads = [0] * count
    shard_of = [0] * len(costs)
    for position in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        target = min(range(count), key=lambda s: (loads[s], s))
        shard_of[position] = target + 1
        loads[target] += costs[position]
    return shard_of


def shard_plan(files: list[str], options: RunOptions) -> ShardPlan:
    """Read every spec (a shard must know every item to know its own) and split the items.

    A spec that cannot be read has no items: every shard reports it, and ``gradcheck merge`` keeps one.
    """
    read = _read_all(files, options)
    items, costs, where = [], [], []
    for file in files:
        try:
            problem = read(file)
        except SpecError:
            continue
        for index, plan in enumerate(problem.plans):
            if options.claim and plan.claim.name not in options.claim:
                continue
            items.append((file, plan.claim.name, plan.wrt))
            costs.append(expected_cost(problem, options))
            where.append((file, index))
    shard_of = split_costs(costs, options.shard.count)
    mine = {w for w, s in zip(where, shard_of) if s == options.shard.index}
    return ShardPlan(options.shard.index, options.shard.count, list(files), items, costs, shard_of, mine, read)
