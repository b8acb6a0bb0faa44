"""Verdicts are values: what was found, with its evidence. The boundary decides what fails."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..errors import Location


class Label(StrEnum):
    """What was found for one (claim, wrt): the ``verdict`` column. Values are the report contract."""

    PASS = "pass"
    SHAPE_MISMATCH = "shape-mismatch"
    TRANSPOSED = "transposed"
    SCALED = "scaled"
    SIGN_FLIPPED = "sign-flipped"
    WRONG = "wrong"
    NOT_FINITE = "not-finite"
    ERROR = "error"
    INCONCLUSIVE = "inconclusive"
    CONJUGATED = "conjugated"  # a complex parameter's claim is conj(gradient): jax's convention (diagnosis/complex.py)


class Outcome(StrEnum):
    """The label against the spec's ``expect:``: the ``outcome`` column. Values are the report contract."""

    OK = "ok"  # passed, as expected
    XFAIL = "xfail"  # failed, as expected
    XPASS = "xpass"  # passed, although expected to fail
    FAIL = "fail"  # failed, unexpectedly

    @property
    def as_expected(self) -> bool:
        return self in (Outcome.OK, Outcome.XFAIL)

    @classmethod
    def of(cls, label: str, expect: str) -> "Outcome":
        """The outcome of a claim labelled ``label`` whose spec says ``expect:``."""
        passed = label == Label.PASS
        if expect == Expect.FAIL:
            return cls.XPASS if passed else cls.XFAIL
        return cls.OK if passed else cls.FAIL


class Expect(StrEnum):
    """A claim's ``expect:`` in the spec (the ``expect`` column): what its author expects."""

    PASS = "pass"
    FAIL = "fail"


VERDICTS = tuple(label.value for label in Label)
SPEC_ERROR = "spec-error"  # summary.csv's verdict for a spec that could not be read: no claim, so no Label


@dataclass(frozen=True)
class Entry:
    """One entry of the claim against the oracle (for the bounded table of worst entries)."""

    index: tuple[int, ...]
    claimed: float
    oracle: float

    @property
    def ratio(self) -> float:
        return self.claimed / self.oracle if self.oracle != 0 else float("inf") if self.claimed else 1.0


@dataclass(frozen=True)
class Finding:
    """The result of one example."""

    label: str  # one of VERDICTS
    summary: str  # one line, in the user's symbols
    lines: tuple[str, ...] = ()  # further explanation
    max_rel_error: float = 0.0
    oracle: str = "complex-step"
    oracle_error: float = 0.0
    evaluations: int = 0
    directions: int = 0
    factor: float | None = None
    entries: tuple[Entry, ...] = ()
    claimed_shape: tuple[int, ...] | None = None
    notes: tuple[str, ...] = ()
    evidence: "Evidence | None" = None
    factor_error: float | None = None  # the factor's error bar (from the oracle's and the claim's)
    dim_powers: tuple[tuple[str, float], ...] = ()  # factor = factor_constant * prod(size ** power)
    factor_constant: float | None = None  # set when that fit held across every dim varied
    swaps: tuple[tuple[tuple[int, ...], ...], ...] = ()  # wrong entries that trade places: cycles of indices
    reshape_order: str | None = None  # same size, other shape: "C" or "F" if that reshape matches, "" if none


@dataclass(frozen=True)
class Evidence:
    """Arrays behind a failing example, for pictures (kept only for the shrunk failure).

    ``claimed`` and ``truth`` are the claim and the oracle's full array (same shape, or the
    claim's own shape for a shape mismatch); ``steps``/``fd_errors`` the finite-difference
    error |FD(h) - CS| along the worst direction for each step h, beside the complex step's
    value ``cs_value`` and its error bar ``cs_error``.
    """

    claimed: object = None
    truth: object = None
    steps: tuple[float, ...] = ()
    fd_errors: tuple[float, ...] = ()
    cs_value: float = float("nan")
    cs_error: float = float("nan")


@dataclass(frozen=True)
class ExampleRecord:
    index: int
    sizes: dict[str, int]
    seed: int
    finding: Finding
    shrunk: bool = False


@dataclass(frozen=True)
class Repair:
    """What the repair search found for a failing expression claim (:mod:`gradcheck.repair`).

    Everything here was verified by the oracles before it was recorded: ``fix`` passed the
    claim's full check on ``examples`` examples, ``derived`` on ``derived_examples``.
    """

    fix: str = ""  # the fixed claim's expression; "" if no edit within the budget passed
    edits: int = 0
    changes: tuple[str, ...] = ()  # '"before" -> "after"' for each edit
    examples: int = 0
    derived: str = ""  # the derived gradient (gradient claims of expression losses), verified
    derived_examples: int = 0
    tried: int = 0  # candidates shape-checked
    exhausted: str = ""  # which budget ran out, if one did
    internal_error: str = ""  # the search itself failed: a bug of gradcheck, shown with a request to report it


@dataclass(frozen=True)
class Verdict:
    """The verdict on one (claim, wrt) pair, with its evidence."""

    spec: str
    path: str
    claim: str
    wrt: str
    kind: str
    node: str | None
    location: Location
    expect: str  # an Expect
    label: str  # a Label: the ``verdict`` column
    diagnosis: str
    lines: tuple[str, ...]
    expected_shape: str
    claimed_shape: str
    max_rel_error: float
    examples: int
    seed: int
    what: str = ""
    factor: float | None = None
    oracle: str = ""
    entries: tuple = ()
    failing: ExampleRecord | None = None
    records: tuple[ExampleRecord, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    rejected: int = 0  # draws the loss rejected (it raised, or was not finite there): not examples
    rejected_reason: str = ""  # the most frequent reason, one line ("the loss raised ValueError: ...")
    usage_error: Exception | None = None  # a misused API or callable (a SpecError, located): the API raises it
    repair: Repair | None = None  # failing expression claims: the verified fix and derived gradient
    claimed_text: str = ""  # the claim's expression as written (set beside a repair, to show them side by side)
    # as a report holds the verdict (set by gradcheck.report.record.as_reported, or read back from a
    # report folder, where failing and records are not kept): the terminal's failure block ("" for a
    # claim that passed as expected; None: not rendered yet) and the arrays behind its pictures
    block: str | None = None
    evidence: Evidence | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """(file, claim, wrt): what identifies the verdict within a run."""
        return (self.path, self.claim, self.wrt)

    @property
    def where(self) -> str:
        """``specs/x.yaml:41``."""
        return f"{self.path}:{self.location.line}"

    @property
    def verdict(self) -> str:
        """Deprecated alias of :attr:`label` (read-only; removed in the next release)."""
        warnings.warn("Verdict.verdict is deprecated: use Verdict.label", DeprecationWarning, stacklevel=2)
        return self.label

    @property
    def passed(self) -> bool:
        return self.label == Label.PASS

    @property
    def outcome(self) -> Outcome:
        """``ok`` (passed as expected), ``xfail`` (failed as expected), ``xpass`` or ``fail``."""
        return Outcome.of(self.label, self.expect)

    @property
    def as_expected(self) -> bool:
        return self.outcome.as_expected


@dataclass(frozen=True)
class SpecFailure:
    """A spec that could not be read or compiled: one located message, no verdicts."""

    path: str
    message: str
    line: int = 0


@dataclass
class RunResult:
    verdicts: list[Verdict] = field(default_factory=list)
    failures: list[SpecFailure] = field(default_factory=list)
    seed: int = 0
    seconds: float = 0.0
    paths: list[str] = field(default_factory=list)
    incomplete: bool = False  # interrupted (Ctrl-C, SIGTERM): the verdicts are what finished
    inputs: list[str] = field(default_factory=list)  # the paths as the user typed them (``specs/``)
    started_at: str = ""  # ISO 8601 UTC, when the run began
    nothing: list[str] = field(default_factory=list)  # what matched nothing (a folder, a --claim name)
    written: list[Path] = field(default_factory=list)  # the report files this run wrote (--report)

    @property
    def exit_code(self) -> int:
        if self.incomplete:
            return 130
        if not self.failures and (self.nothing or not self.verdicts):
            return 5  # nothing was checked, as pytest's exit 5 when it collects no test
        return exit_code(self.verdicts, self.failures)


def exit_code(verdicts, failures) -> int:
    """2 when a spec could not be read, 1 when a verdict is not as expected, else 0: the gate's
    decision for a run (and for a report read back, ``gradcheck report`` and ``merge``)."""
    if failures:
        return 2
    return 0 if all(v.as_expected for v in verdicts) else 1
