"""What a report shows, as plain values: built from a live run, or read back from the files an
earlier run wrote (``summary.csv`` plus ``details.json``), so that ``gradcheck report DIR``
renders exactly what ``--report DIR`` rendered.

``details.json`` holds what the CSV contract has no column for: each claim's failure block,
explanation lines and notes, the arrays behind its pictures (claimed, true, the step-size
curve), and the run's header (when, spec paths, seed, versions). Arrays are written as nested
lists of exact floats (``repr`` round-trips); non-finite numbers as ``null``.
"""

from __future__ import annotations

import csv
import json
import math
import platform
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ..verdict import serialize
from ..verdict.model import (
    SPEC_ERROR,
    VERDICTS,
    Evidence,
    Label,
    Outcome,
    RunResult,
    SpecFailure,
    Verdict,
    exit_code,
)
from . import text

DETAILS = "details.json"
DETAILS_FORMAT = "gradcheck-report-details/1"
VERSIONED = ("gradcheck", "numpy", "scipy", "hypothesis", "pandas", "matplotlib")
OUTCOMES = tuple(o.value for o in Outcome)
ARRAY_LIMIT = 65_536  # entries per stored array; a larger one (a big node's jvp) is not kept for pictures


@dataclass(frozen=True)
class RunRecord:
    """What a report shows of one run: its verdicts as reported (:func:`as_reported`), live or read back."""

    claims: tuple[Verdict, ...]
    errors: tuple[SpecFailure, ...] = ()
    seed: int = 0
    paths: tuple[str, ...] = ()
    seconds: float = math.nan
    when: str = ""  # ISO 8601, UTC; empty when unknown
    versions: dict[str, str] = field(default_factory=dict)
    incomplete: bool = False  # the run was interrupted: these are the claims that finished
    details: bool = True  # False when read back from a folder without details.json (text from the CSV only)

    def outcome_counts(self) -> dict[Outcome, int]:
        return text.outcome_counts(c.outcome for c in self.claims)

    def verdict_counts(self) -> dict[str, tuple[int, int]]:
        """verdict -> (claims, unexpected), in the order of :data:`VERDICTS`."""
        counts: dict[str, list[int]] = {}
        for c in self.claims:
            n = counts.setdefault(c.label, [0, 0])
            n[0] += 1
            n[1] += not c.as_expected
        order = {v: i for i, v in enumerate(VERDICTS)}
        return {k: (n[0], n[1]) for k, n in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))}

    @property
    def unexpected(self) -> list[Verdict]:
        return [c for c in self.claims if not c.as_expected]

    @property
    def expected_failures(self) -> list[Verdict]:
        return [c for c in self.claims if c.outcome == Outcome.XFAIL]

    @property
    def exit_code(self) -> int:
        return exit_code(self.claims, self.errors)

    def headline(self) -> str:
        """``6 passed, 0 failed, 4 expected failures`` (the terminal's summary words)."""
        return text.outcome_headline(self.outcome_counts(), len(self.errors)) + (
            " (interrupted)" if self.incomplete else ""
        )

    def scope(self) -> str:
        """``10 claims in 1 spec file``."""
        from .text import counted

        files = len({c.path for c in self.claims} | {e.path for e in self.errors})
        return f"{counted(len(self.claims), 'claim')} in {counted(files, 'spec file')}"

    def reproduce(self, most: int = 6) -> str:
        """The command that runs the same examples again (with ``SPEC...`` for more than ``most`` files)."""
        import shlex

        if len(self.paths) > most:
            return f"gradcheck check SPEC... --seed {self.seed}  (SPEC...: the run's {len(self.paths)} spec files)"
        paths = " ".join(shlex.quote(p) for p in self.paths) or "SPEC..."
        return f"gradcheck check {paths} --seed {self.seed}"


# --- from a live run ---------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _as_csv(x: float | None) -> float | None:
    """``x`` as summary.csv holds it (6 significant digits), so a redrawn page is the same page."""
    return None if x is None else float(f"{x:.6g}")


def _bounded(e: Evidence | None) -> Evidence | None:
    """The evidence without its arrays when they are too big to store (the step curve stays)."""
    import numpy as np

    if e is None or max(np.size(e.claimed), np.size(e.truth)) <= ARRAY_LIMIT:
        return e
    return Evidence(steps=e.steps, fd_errors=e.fd_errors, cs_value=e.cs_value, cs_error=e.cs_error)


def as_reported(v: Verdict) -> Verdict:
    """``v`` as a report holds it: numbers to summary.csv's digits, its failure block rendered
    (none for a claim that passed as expected), the arrays of its failing example (bounded).
    A verdict already reported (read back, or carried by a pytest report) is returned as it is."""
    if v.block is not None:
        return v
    failing = v.failing
    explained = v.label != Label.PASS or v.outcome != Outcome.OK
    return replace(
        v,
        max_rel_error=_as_csv(v.max_rel_error),
        factor=_as_csv(v.factor),
        block=text.failure_block(v) if explained else "",
        evidence=_bounded(failing.finding.evidence if failing is not None else None),
    )


def from_result(result: RunResult, when: datetime | None = None) -> RunRecord:
    if when is None and result.started_at:
        when = datetime.fromisoformat(result.started_at)
    when = when or datetime.now(timezone.utc)
    return RunRecord(
        claims=tuple(as_reported(v) for v in result.verdicts),
        errors=tuple(result.failures),
        seed=result.seed,
        paths=tuple(result.inputs or result.paths),
        seconds=result.seconds,
        when=when.replace(microsecond=0).isoformat(),
        versions=versions(),
        incomplete=result.incomplete,
    )


# --- details.json ------------------------------------------------------------------------


def details_json(run: RunRecord) -> str:
    doc = {
        "format": DETAILS_FORMAT,
        "run": {
            "when": run.when,
            "seed": run.seed,
            "paths": list(run.paths),
            "seconds": serialize.number(run.seconds),
            "versions": run.versions,
            "incomplete": run.incomplete,
        },
        "spec_errors": [{"path": e.path, "line": e.line, "message": e.message} for e in run.errors],
        "claims": [serialize.details_entry(c) for c in run.claims],
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


# --- read back ---------------------------------------------------------------------------


class ReportDirError(Exception):
    """The folder holds no report gradcheck can read."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs such a cell as a formula


def csv_cell(text: str) -> str:
    """A text cell as the CSV files hold it: ``'=SUM(1,2)`` for ``=SUM(1,2)`` (OWASP's CSV
    injection advice: a leading ``'`` makes a spreadsheet show it as text). A leading ``'`` is
    doubled, so :func:`csv_text` gives back every name exactly."""
    return "'" + text if text.startswith(FORMULA_STARTS + ("'",)) else text


def csv_text(cell: str) -> str:
    """The text a :func:`csv_cell` stands for (cells written before the escaping read as they are)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS + ("'",)) else cell


def read_summary(directory: str | Path) -> list[dict[str, str]]:
    """The rows of ``DIR/summary.csv`` as strings (stdlib csv: no type guessing), unescaped."""
    path = Path(directory) / "summary.csv"
    if not path.is_file():
        raise ReportDirError(
            f"{directory}: no summary.csv here (write one with `gradcheck check ... --report {directory}`)"
        )
    with path.open(newline="", encoding="utf-8") as fh:
        return [{k: csv_text(v) if isinstance(v, str) else v for k, v in row.items()} for row in csv.DictReader(fh)]


# what details.json may hold: every field is checked before anything is drawn from it, so a
# crafted file is refused with a message instead of reaching the pages (which escape text anyway)
_RUN_FIELDS = {"seed": "integer", "seconds": "number?", "paths": "strings", "versions": "string map", "when": "string?"}
_CLAIM_FIELDS = {
    "file": "string",
    "claim": "string",
    "wrt": "string",
    "col": "integer",
    "what": "string",
    "block": "string",
    "lines": "strings",
    "notes": "strings",
    "seconds": "number?",
    "fix_changes": "strings",
    "claimed": "string",
}
_ERROR_FIELDS = {"path": "string", "line": "integer", "message": "string"}


def _fits(value, kind: str) -> bool:
    if kind.endswith("?") and value is None:
        return True
    kind = kind.rstrip("?")
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


_KIND_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "strings": "a list of strings",
    "string map": "a mapping of strings",
}


def _check_fields(record, fields: dict[str, str], where: str, path: Path) -> None:
    if not isinstance(record, dict):
        raise ReportDirError(f"{path}: details.json: {where} must be a mapping")
    for name, kind in fields.items():
        if name in record and not _fits(record[name], kind):
            raise ReportDirError(
                f"{path}: details.json: {where}.{name} must be {_KIND_WORDS[kind.rstrip('?')]}, "
                f"got {type(record[name]).__name__}"
            )


def _check_details(details: dict, path: Path) -> None:
    """Every field of details.json that the pages use has the type gradcheck writes."""
    _check_fields(details.get("run", {}), _RUN_FIELDS, "run", path)
    for key, fields in (("claims", _CLAIM_FIELDS), ("spec_errors", _ERROR_FIELDS)):
        items = details.get(key, [])
        if not isinstance(items, list):
            raise ReportDirError(f"{path}: details.json: {key} must be a list")
        for i, item in enumerate(items):
            _check_fields(item, fields, f"{key}[{i}]", path)
            missing = [f for f in (("file", "claim", "wrt") if key == "claims" else ("path", "line")) if f not in item]
            if missing:
                raise ReportDirError(f"{path}: details.json: {key}[{i}] lacks {', '.join(missing)}")


def _read_details(directory: str | Path) -> dict:
    """``DIR/details.json``, its format and field types checked; ``{}`` when the folder has none."""
    details_path = Path(directory) / DETAILS
    if not details_path.is_file():
        return {}
    try:
        details = json.loads(details_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ReportDirError(f"{details_path}: details.json is not valid JSON ({error})") from None
    if not isinstance(details, dict) or details.get("format") != DETAILS_FORMAT:
        found = details.get("format") if isinstance(details, dict) else type(details).__name__
        raise ReportDirError(f"{details_path}: unknown format {found!r} (expected {DETAILS_FORMAT})")
    _check_details(details, details_path)
    return details


def _check_outcomes(rows: list[dict[str, str]], directory: str | Path) -> None:
    for index, row in enumerate(rows, start=2):
        if row.get("outcome") not in OUTCOMES + ("", None):
            raise ReportDirError(
                f"{Path(directory) / 'summary.csv'}: row {index}: outcome must be one of {', '.join(OUTCOMES)}, "
                f"got {row.get('outcome')!r}"
            )


def load(directory: str | Path) -> RunRecord:
    """Read an earlier run's report folder back; ``details.json`` is optional (then: text only)."""
    rows = read_summary(directory)
    details = _read_details(directory)
    _check_outcomes(rows, directory)
    extra = {(d["file"], d["claim"], d["wrt"]): d for d in details.get("claims", ())}
    messages = {(e["path"], e["line"]): e["message"] for e in details.get("spec_errors", ())}
    claims, errors = [], []
    for row in rows:
        if row["verdict"] == SPEC_ERROR:
            line = serialize.integer(row["line"])
            errors.append(SpecFailure(row["file"], messages.get((row["file"], line), row["diagnosis"]), line))
            continue
        v = serialize.from_report(row, extra.get((row["file"], row["claim"], row["wrt"]), {}))
        claims.append(v if v.block else replace(v, block=_fallback_block(row)))
    run = details.get("run", {})
    seeds = {c.seed for c in claims}
    seed = run.get("seed", seeds.pop() if len(seeds) == 1 else 0)
    paths = run.get("paths") or sorted({c.path for c in claims} | {e.path for e in errors})
    seconds = run.get("seconds")
    return RunRecord(
        claims=tuple(claims),
        errors=tuple(errors),
        seed=seed,
        paths=tuple(paths),
        seconds=math.nan if seconds is None else seconds,
        when=run.get("when", ""),
        versions=run.get("versions", {}),
        incomplete=bool(run.get("incomplete", False)),
        details=bool(details),
    )


def _fallback_block(row: dict[str, str]) -> str:
    """Without details.json: the failure block's first lines, from the CSV columns."""
    if row["outcome"] == Outcome.OK and row["verdict"] == Label.PASS:
        return ""
    label = text.LABEL.get(row["outcome"], row["outcome"].upper())
    return (
        f"{label} {row['file']}:{row['line']} claim '{row['claim']}' (wrt {row['wrt']})\n"
        f"  diagnosis: {row['diagnosis']}\n"
        f"  reproduce: {text.check_command(row['file'], row['claim'], row['seed'])}"
    )
