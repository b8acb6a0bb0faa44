"""The pytest plugin: spec files become test files, each (claim, wrt) a test item.

Thin on purpose, like the CLI: options come from the one table in
:mod:`gradcheck.options` (``--examples`` is ``--gradcheck-examples`` here), a verdict comes
from :func:`gradcheck.check.check_plan`, text from :mod:`gradcheck.report.text`, files from
:func:`gradcheck.report.frames.write_reports`. This module decides only what pytest sees:

- which files are specs: the ``gradcheck_specs`` ini option, glob patterns (default
  ``*.gradcheck.yaml *.gradcheck.yml``, so no other YAML in a repository is ever read; a
  pattern with a ``/`` is matched against the path from the rootdir, ``specs/*.yaml``);
  a YAML file named on the command line is always collected;
- item ids ``specs/least_squares.yaml::answer`` (``::answer[W]`` for a claim with several
  wrt); ``reportinfo`` is the claim's line in the YAML, so JUnit and IDEs show file:line;
- a spec that cannot be read is one collection error, its located message (no traceback);
- a failing claim's report is the CLI's failure block; ``expect: fail`` claims are strict
  xfails (their failure is an xfail with the diagnosis as reason, a pass fails);
- one seed for the session (``--gradcheck-seed``, else drawn once by the controller and
  handed to pytest-xdist workers), printed in the header; per-claim seeds derive from it,
  so ``pytest -n 2`` gives the same verdicts as ``pytest``;
- verdicts travel on the test reports as plain JSON-able values (the whole verdict, through
  :mod:`gradcheck.verdict.serialize`, only for ``--gradcheck-report``), so the controller counts
  them for the summary line and writes one merged report; a spec that cannot be read travels
  as its message and location; the summary
  line also counts the Python API's assertions (``assert_gradient`` in a test function);
- the gate never passes by checking nothing: a ``--gradcheck-claim`` name that matches no
  collected claim ends the session with pytest's exit 5 before any test runs (with a
  did-you-mean); a ``--gradcheck-report`` folder that cannot be written is a usage error.

Importing this module, and collecting, imports neither numpy, scipy, pandas nor Hypothesis:
specs are read by the loader (ruamel) at collection and checked on the first run.
"""

from __future__ import annotations

import fnmatch
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .options import OPTIONS, RunOptions
from .session import API_VERDICTS, SESSION_SEED, SessionSeed
from .verdict.model import Expect

DEFAULT_PATTERNS = ("*.gradcheck.yaml", "*.gradcheck.yml")
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class _State:
    """The session's gradcheck state, kept in ``config.stash``."""

    options: RunOptions
    seed: int
    patterns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per claim, as reports arrive
    api_rows: list[dict[str, Any]] = field(default_factory=list)  # one per Python API verdict
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # spec path -> collection error
    started: float = field(default_factory=time.perf_counter)


STATE = pytest.StashKey[_State]()
_API_ROWS: list[dict[str, Any]] = []  # the Python API's verdicts in the running test, until its report


def api_checked(verdicts: Any) -> None:
    """``assert_gradient`` (and ``assert_vjp``, ``assert_jvp``) in a test checked these: the summary
    line counts them, as pytest counts the test. Published as :data:`gradcheck.session.API_VERDICTS`;
    ``check_gradient``'s results are values the test judges for itself (a test may expect a wrong
    claim to be caught), so they are not handed here."""
    _API_ROWS.extend(_row(v) for v in verdicts)


def _row(verdict: Any) -> dict[str, Any]:
    """A verdict as the plain values the summary line counts (they travel to the xdist controller)."""
    return {
        "path": verdict.path,
        "claim": verdict.claim,
        "wrt": verdict.wrt,
        "verdict": str(verdict.label),
        "outcome": str(verdict.outcome),
    }


class ClaimFailed(Exception):
    """A claim whose verdict is not as expected; its report is the verdict's failure block."""

    def __init__(self, verdict: Any) -> None:
        super().__init__(f"{verdict.claim}: {verdict.label}: {verdict.diagnosis}")
        self.verdict = verdict


# --- options and configuration ---------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "gradcheck: hand-derived gradients checked from spec files")
    for opt in OPTIONS:
        group.addoption(f"--gradcheck-{opt.flag}", **opt.argparse_kwargs(dest=f"gradcheck_{opt.name}"))
    parser.addini(
        "gradcheck_specs",
        type="args",
        default=list(DEFAULT_PATTERNS),
        help="glob patterns of gradcheck spec files to collect (with a '/': matched against the path "
        f"from the rootdir, e.g. specs/*.yaml); default: {' '.join(DEFAULT_PATTERNS)}",
    )
    parser.addini(
        "gradcheck_no_python",
        type="bool",
        default=False,
        help="refuse every {python: ...} entry in collected specs, as --gradcheck-no-python does "
        "(for repositories that collect specs they did not write)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gradcheck: a claim from a gradcheck spec file")
    values = {o.name: config.getoption(f"gradcheck_{o.name}") for o in OPTIONS}
    values["no_python"] = bool(values.get("no_python")) or bool(config.getini("gradcheck_no_python"))
    options = RunOptions.from_mapping(values)
    if options.shard is not None:  # the option table is shared; sharding is the command line's
        raise pytest.UsageError(
            "--gradcheck-shard splits `gradcheck check` runs only: under pytest, split the claims over "
            "processes with pytest-xdist's -n, or over machines with your CI's own test splitting"
        )
    worker = getattr(config, "workerinput", None)
    if options.seed is not None:
        seed = options.seed
    elif worker is not None and "gradcheck_seed" in worker:
        seed = int(worker["gradcheck_seed"])
    else:
        from .run import draw_seed

        seed = draw_seed()
    if options.report and worker is None:  # before any test runs: a typo must not cost the run
        from .run import report_problem

        where = str(config.invocation_params.dir / options.report)
        problem = report_problem(where, "--gradcheck-report")
        if problem:
            raise pytest.UsageError(problem.replace(where, options.report, 1))
    patterns = tuple(config.getini("gradcheck_specs"))
    config.stash[STATE] = _State(options=options, seed=seed, patterns=patterns)
    _publish(config, SessionSeed(seed, options.seed is not None))
    if worker is None:  # the controller, or a run without xdist: gathers the verdicts
        config.pluginmanager.register(_Reporter(config), "gradcheck-reporter")


_PUBLISHED = pytest.StashKey[tuple]()  # the ContextVar tokens, reset at unconfigure


def _publish(config: pytest.Config, seed: SessionSeed) -> None:
    """The session's seed and verdict sink for the Python API (:mod:`gradcheck.session`)."""
    config.stash[_PUBLISHED] = (SESSION_SEED.set(seed), API_VERDICTS.set(api_checked))


def pytest_unconfigure(config: pytest.Config) -> None:
    tokens = config.stash.get(_PUBLISHED, None)
    if tokens is not None:
        SESSION_SEED.reset(tokens[0])
        API_VERDICTS.reset(tokens[1])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker checks with the controller's seed."""
    node.workerinput["gradcheck_seed"] = node.config.stash[STATE].seed


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    how = "given" if state.options.seed is not None else f"drawn; --gradcheck-seed {state.seed} reproduces"
    return f"gradcheck: seed {state.seed} ({how}), spec files {' '.join(state.patterns) or '(none)'}"


# --- collection --------------------------------------------------------------------------------


def _matches(path: Path, rootpath: Path, patterns: tuple[str, ...]) -> bool:
    try:
        rel = path.relative_to(rootpath).as_posix()
    except ValueError:
        rel = path.as_posix()
    for pattern in patterns:
        pattern = pattern.removeprefix("./")
        if fnmatch.fnmatchcase(rel if "/" in pattern else path.name, pattern):
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in SPEC_SUFFIXES:
        return None
    config = parent.config
    state = config.stash[STATE]
    if parent.session.isinitpath(file_path) or _matches(file_path, config.rootpath, state.patterns):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    """A spec file: read and compiled at collection (no numpy), one item per (claim, wrt)."""

    problem: Any = None
    spec_error: Any = None  # the SpecError that stopped collection: its location travels as a value

    def collect(self):
        from .errors import SpecError
        from .run import read_problem

        try:
            self.problem = read_problem(_shown(self.path, self.config), self.config.stash[STATE].options)
        except SpecError as err:
            self.spec_error = err
            raise
        for index, plan in enumerate(self.problem.plans):
            yield ClaimItem.from_parent(self, name=plan.key, plan=plan, index=index)

    def repr_failure(self, excinfo):  # type: ignore[override]
        from .errors import SpecError

        if isinstance(excinfo.value, SpecError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _shown(path: Path, config: pytest.Config) -> str:
    """The path as messages and the reproduce command show it: from the invocation folder."""
    rel = os.path.relpath(path, config.invocation_params.dir)
    return str(path) if rel.startswith("..") else rel


class ClaimItem(pytest.Item):
    """One (claim, wrt) pair of a spec file; running it is running ``check_plan``."""

    def __init__(self, *, plan: Any, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.index = index
        self.verdict: Any = None
        self.add_marker("gradcheck")

    def runtest(self) -> None:
        from .check import check_plan

        state = self.config.stash[STATE]
        problem = self.parent.problem
        verdict = problem.annotate(check_plan(problem, self.plan, _check_settings(state, problem.spec)))
        self.verdict = verdict
        loc = verdict.location
        self.user_properties += [
            ("gradcheck_location", f"{loc.file}:{loc.line}:{loc.col}"),
            ("gradcheck_verdict", str(verdict.label)),  # a plain str: execnet (xdist) cannot send a Label
        ]
        if self.config.option.runxfail:  # run known-wrong claims as if they were not marked
            failed = not verdict.passed
        elif verdict.expect == Expect.FAIL and not verdict.passed:
            from .report.text import statement

            pytest.xfail(statement(verdict))
        else:
            failed = not verdict.as_expected
        if failed:
            raise ClaimFailed(verdict)

    def repr_failure(self, excinfo, style=None):  # type: ignore[override]
        if isinstance(excinfo.value, ClaimFailed):
            from .report.text import failure_block, reproduce_command

            v = excinfo.value.verdict
            return failure_block(
                v, reproduce=(reproduce_command(v), f"pytest '{self.nodeid}' --gradcheck-seed {v.seed}")
            )
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        claim = self.plan.claim
        return self.path, claim.location.line - 1, f"{self.plan.key} ({self.plan.what})"


def _check_settings(state: _State, spec: Any):
    """Command-line options over the spec's settings over the defaults: the CLI's own rule."""
    from .run import check_settings

    return check_settings(spec, state.options, state.seed)


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect: a claim they leave out is no typo
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--gradcheck-claim NAME``: keep only those claims (other tests are left alone)."""
    wanted = config.stash[STATE].options.claim
    if not wanted:
        return
    if not session.testsfailed:  # a spec that could not be read may hold the name: its error says enough
        from .run import unmatched_names

        known = [item.plan.claim.name for item in items if isinstance(item, ClaimItem)]
        where = "the collected spec files" if known else "any spec file: none was collected"
        typos = unmatched_names(wanted, known, where, "--gradcheck-claim")
        if typos:  # a typo must not pass the gate by checking nothing: pytest's own exit 5
            if getattr(config, "workerinput", None) is None:
                pytest.exit("; ".join(typos), returncode=pytest.ExitCode.NO_TESTS_COLLECTED)
            # an xdist worker cannot stop the session: it runs nothing (so the controller exits 5)
            # and says why in a warning, which xdist carries to the controller's summary
            import warnings

            config.hook.pytest_deselected(items=list(items))
            items[:] = []
            for typo in typos:
                warnings.warn(pytest.PytestWarning(typo), stacklevel=1)
            return
    keep, drop = [], []
    for item in items:
        (drop if isinstance(item, ClaimItem) and item.plan.claim.name not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- reports: verdicts travel on the test reports to the controller ----------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if _API_ROWS:  # the API's checks during this phase of the test
        report.gradcheck_api = list(_API_ROWS)
        _API_ROWS.clear()
    verdict = getattr(item, "verdict", None) if isinstance(item, ClaimItem) else None
    if call.when == "call" and verdict is not None:
        row = {**_row(verdict), "index": item.index}
        if item.config.stash[STATE].options.report:
            from .report.record import as_reported
            from .verdict.serialize import payload

            row["payload"] = payload(as_reported(verdict))
        report.gradcheck = row
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if isinstance(collector, SpecFile) and report.failed:
        error = collector.spec_error
        line = error.location.line if error is not None and error.location is not None else 0
        path = _shown(collector.path, collector.config)
        report.gradcheck_failure = {"path": path, "message": str(report.longrepr), "line": line}
    return report


class _Reporter:
    """The hooks that gather verdicts, registered per config (so nested sessions stay apart)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def state(self) -> _State:
        return self.config.stash[STATE]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        row = getattr(report, "gradcheck", None)
        if row is not None and report.when == "call":
            self.state.rows.append(row)
        self.state.api_rows += getattr(report, "gradcheck_api", ())

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        failure = getattr(report, "gradcheck_failure", None)
        if failure is not None:
            self.state.failures.setdefault(failure["path"], failure)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        state = self.state
        rows = state.rows + state.api_rows
        if not (rows or state.failures):
            return
        terminalreporter.write_sep("-", "gradcheck")
        terminalreporter.write_line(summary_line(rows, len(state.failures), state.seed))
        if state.options.report:
            terminalreporter.write_line(f"gradcheck report written to {self.report_dir()}")

    def report_dir(self) -> Path:
        directory = Path(self.state.options.report)
        return directory if directory.is_absolute() else self.config.invocation_params.dir / directory

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The controller (or a run without xdist) writes the one merged report."""
        state = self.state
        if not state.options.report:
            return
        from .report.frames import write_reports
        from .verdict.model import RunResult, SpecFailure
        from .verdict.serialize import from_payload

        rows = sorted(state.rows, key=lambda r: (r["path"], r["index"]))
        verdicts = [from_payload(r["payload"]) for r in rows if "payload" in r]
        failures = [SpecFailure(f["path"], f["message"], f["line"]) for _, f in sorted(state.failures.items())]
        result = RunResult(
            verdicts=verdicts,
            failures=failures,
            seed=state.seed,
            seconds=time.perf_counter() - state.started,
            paths=sorted({r["path"] for r in rows} | set(state.failures)),
        )
        write_reports(result, str(self.report_dir()))
        (self.report_dir() / "INCOMPLETE").unlink(missing_ok=True)  # an interrupted CLI run's marker


def summary_line(rows: list[dict[str, Any]], spec_errors: int, seed: int) -> str:
    """``17 claims: pass 12, scaled 2, wrong 3 (12 passed, 0 failed, 5 expected failures)  seed 7``.

    The counts are the CLI's (:func:`gradcheck.report.text.summary_counts`), laid out for pytest.
    """
    from .report.text import counted, summary_counts

    counts, parts = summary_counts(((row["verdict"], row["outcome"]) for row in rows), spec_errors)
    return f"{counted(len(rows), 'claim')}: {counts} ({parts})  seed {seed}"
