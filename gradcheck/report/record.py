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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ..verdict.model import Evidence, RunResult, Verdict
from . import text

DETAILS = "details.json"
DETAILS_FORMAT = "gradcheck-report-details/1"
VERSIONED = ("gradcheck", "numpy", "scipy", "hypothesis", "pandas", "matplotlib")
OUTCOMES = ("fail", "xpass", "xfail", "ok")  # most urgent first
ARRAY_LIMIT = 65_536  # entries per stored array; a larger one (a big node's jvp) is not kept for pictures


@dataclass(frozen=True)
class ClaimRecord:
    """One row of summary.csv, with the text and arrays the rendered reports need."""

    spec: str
    claim: str
    wrt: str
    file: str
    line: int
    verdict: str
    outcome: str  # ok, xfail, xpass, fail
    diagnosis: str
    kind: str = "gradient"
    node: str = ""
    expect: str = "pass"
    expected_shape: str = ""
    claimed_shape: str = ""
    max_rel_error: float = math.nan
    examples: int = 0
    seed: int = 0
    factor: float | None = None
    oracle: str = ""
    col: int = 0
    what: str = ""
    block: str = ""  # the terminal's failure block; empty for a claim that passed as expected
    lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = math.nan
    evidence: Evidence | None = None
    rejected: int = 0  # draws the loss rejected (summary.csv's ``rejected``)
    rejected_reason: str = ""
    fix: str = ""  # the verified fix of a failing expression claim (summary.csv's fix column)
    fix_edits: int = 0
    fix_changes: tuple[str, ...] = ()
    derived: str = ""
    claimed: str = ""  # the claim's expression text, shown beside its fix

    @property
    def label(self) -> str:
        return text.LABEL[self.outcome]

    @property
    def as_expected(self) -> bool:
        return self.outcome in ("ok", "xfail")

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.file, self.claim, self.wrt)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def statement(self) -> str:
        """``scaled: the claim is 2 x ...``: the verdict, then the diagnosis (said once)."""
        d = self.diagnosis
        return (d if d.startswith(self.verdict) else f"{self.verdict}: {d}") + text.rejected_text(self)

    @property
    def explanation(self) -> str:
        """The diagnosis without a leading ``verdict:`` (for a table that has a verdict column)."""
        prefix = f"{self.verdict}: "
        return self.diagnosis[len(prefix) :] if self.diagnosis.startswith(prefix) else self.diagnosis

    @property
    def derivative(self) -> str:
        """``d loss / d Theta``, ``vjp of node a wrt Theta`` (from the CSV columns when not stored)."""
        if self.what:
            return self.what
        return (
            f"d loss / d {self.wrt}" if self.kind == "gradient" else f"{self.kind} of node {self.node} wrt {self.wrt}"
        )

    @property
    def title(self) -> str:
        """``answer (d loss / d Theta)``."""
        return f"{self.claim} ({self.derivative})"


@dataclass(frozen=True)
class SpecErrorRecord:
    path: str
    line: int
    message: str


@dataclass(frozen=True)
class RunRecord:
    claims: tuple[ClaimRecord, ...]
    errors: tuple[SpecErrorRecord, ...] = ()
    seed: int = 0
    paths: tuple[str, ...] = ()
    seconds: float = math.nan
    when: str = ""  # ISO 8601, UTC; empty when unknown
    versions: dict[str, str] = field(default_factory=dict)
    incomplete: bool = False  # the run was interrupted: these are the claims that finished
    details: bool = True  # False when read back from a folder without details.json (text from the CSV only)

    def outcome_counts(self) -> dict[str, int]:
        counts = {o: 0 for o in OUTCOMES}
        for c in self.claims:
            counts[c.outcome] += 1
        return counts

    def verdict_counts(self) -> dict[str, tuple[int, int]]:
        """verdict -> (claims, unexpected), in the order of :data:`VERDICTS`."""
        from ..verdict.model import VERDICTS

        counts: dict[str, list[int]] = {}
        for c in self.claims:
            n = counts.setdefault(c.verdict, [0, 0])
            n[0] += 1
            n[1] += not c.as_expected
        order = {v: i for i, v in enumerate(VERDICTS)}
        return {k: (n[0], n[1]) for k, n in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))}

    @property
    def unexpected(self) -> list[ClaimRecord]:
        return [c for c in self.claims if not c.as_expected]

    @property
    def expected_failures(self) -> list[ClaimRecord]:
        return [c for c in self.claims if c.outcome == "xfail"]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.unexpected else 0

    def headline(self) -> str:
        """``6 passed, 0 failed, 4 expected failures`` (the terminal's summary words)."""
        from .text import counted

        n = self.outcome_counts()
        parts = [f"{n['ok']} passed", f"{n['fail']} failed"]
        if n["xfail"]:
            parts.append(counted(n["xfail"], "expected failure"))
        if n["xpass"]:
            parts.append(counted(n["xpass"], "unexpected pass"))
        if self.errors:
            parts.append(counted(len(self.errors), "spec error"))
        return ", ".join(parts) + (" (interrupted)" if self.incomplete else "")

    def scope(self) -> str:
        """``10 claims in 1 spec file``."""
        from .text import counted

        files = len({c.file for c in self.claims} | {e.path for e in self.errors})
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


def claim_record(v: Verdict) -> ClaimRecord:
    failing = v.failing
    evidence = _bounded(failing.finding.evidence if failing is not None else None)
    explained = v.verdict != "pass" or v.outcome != "ok"
    return ClaimRecord(
        spec=v.spec,
        claim=v.claim,
        wrt=v.wrt,
        file=v.path,
        line=v.location.line,
        col=v.location.col,
        verdict=v.verdict,
        outcome=v.outcome,
        diagnosis=v.diagnosis,
        kind=v.kind,
        node=v.node or "",
        expect=v.expect,
        expected_shape=v.expected_shape,
        claimed_shape=v.claimed_shape,
        max_rel_error=_as_csv(v.max_rel_error),
        examples=v.examples,
        seed=v.seed,
        factor=_as_csv(v.factor),
        oracle=v.oracle,
        what=v.what,
        block=text.failure_block(v) if explained else "",
        lines=tuple(v.lines),
        notes=tuple(v.notes),
        seconds=v.seconds,
        evidence=evidence,
        rejected=v.rejected,
        rejected_reason=v.rejected_reason,
        fix=v.repair.fix if v.repair else "",
        fix_edits=v.repair.edits if v.repair else 0,
        fix_changes=tuple(v.repair.changes) if v.repair else (),
        derived=v.repair.derived if v.repair else "",
        claimed=v.claimed_text,
    )


def from_result(result: RunResult, when: datetime | None = None) -> RunRecord:
    if when is None and result.started_at:
        when = datetime.fromisoformat(result.started_at)
    when = when or datetime.now(timezone.utc)
    return RunRecord(
        claims=tuple(claim_record(v) for v in result.verdicts),
        errors=tuple(SpecErrorRecord(f.path, f.line, f.message) for f in result.failures),
        seed=result.seed,
        paths=tuple(result.inputs or result.paths),
        seconds=result.seconds,
        when=when.replace(microsecond=0).isoformat(),
        versions=versions(),
        incomplete=result.incomplete,
    )


# --- details.json ------------------------------------------------------------------------


def _number(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _array(a) -> dict | None:
    if a is None:
        return None
    import numpy as np

    arr = np.asarray(a, dtype=np.float64)
    return {"shape": list(arr.shape), "values": [_number(x) for x in arr.ravel()]}


def _unarray(d: dict | None):
    if d is None:
        return None
    import numpy as np

    values = [math.nan if x is None else x for x in d["values"]]
    return np.asarray(values, dtype=np.float64).reshape(d["shape"])


def _evidence_json(e: Evidence | None) -> dict | None:
    if e is None:
        return None
    return {
        "claimed": _array(e.claimed),
        "truth": _array(e.truth),
        "steps": [_number(h) for h in e.steps],
        "fd_errors": [_number(x) for x in e.fd_errors],
        "cs_value": _number(e.cs_value),
        "cs_error": _number(e.cs_error),
    }


def _evidence(d: dict | None) -> Evidence | None:
    if d is None:
        return None
    return Evidence(
        claimed=_unarray(d.get("claimed")),
        truth=_unarray(d.get("truth")),
        steps=tuple(_float_or_nan(h) for h in d.get("steps", ())),
        fd_errors=tuple(_float_or_nan(x) for x in d.get("fd_errors", ())),
        cs_value=_float_or_nan(d.get("cs_value")),
        cs_error=_float_or_nan(d.get("cs_error")),
    )


def _float_or_nan(x) -> float:
    return math.nan if x is None else float(x)


def details_json(run: RunRecord) -> str:
    doc = {
        "format": DETAILS_FORMAT,
        "run": {
            "when": run.when,
            "seed": run.seed,
            "paths": list(run.paths),
            "seconds": _number(run.seconds),
            "versions": run.versions,
            "incomplete": run.incomplete,
        },
        "spec_errors": [{"path": e.path, "line": e.line, "message": e.message} for e in run.errors],
        "claims": [
            {
                "file": c.file,
                "claim": c.claim,
                "wrt": c.wrt,
                "col": c.col,
                "what": c.what,
                "block": c.block,
                "lines": list(c.lines),
                "notes": list(c.notes),
                "seconds": _number(c.seconds),
                "evidence": _evidence_json(c.evidence),
                "fix_changes": list(c.fix_changes),
                "claimed": c.claimed,
            }
            for c in run.claims
        ],
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


# --- read back ---------------------------------------------------------------------------


class ReportDirError(Exception):
    """The folder holds no report gradcheck can read."""


def _float(s: str) -> float:
    try:
        return float(s) if s != "" else math.nan
    except ValueError:
        return math.nan


def _int(s: str, default: int = 0) -> int:
    try:
        return int(float(s))
    except ValueError:
        return default


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


OUTCOMES = ("ok", "xfail", "xpass", "fail")

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


def load(directory: str | Path) -> RunRecord:
    """Read an earlier run's report folder back; ``details.json`` is optional (then: text only)."""
    rows = read_summary(directory)
    details_path = Path(directory) / DETAILS
    details: dict = {}
    if details_path.is_file():
        try:
            details = json.loads(details_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ReportDirError(f"{details_path}: details.json is not valid JSON ({error})") from None
        if not isinstance(details, dict) or details.get("format") != DETAILS_FORMAT:
            found = details.get("format") if isinstance(details, dict) else type(details).__name__
            raise ReportDirError(f"{details_path}: unknown format {found!r} (expected {DETAILS_FORMAT})")
        _check_details(details, details_path)
    for index, row in enumerate(rows, start=2):
        if row.get("outcome") not in OUTCOMES + ("", None):
            raise ReportDirError(
                f"{Path(directory) / 'summary.csv'}: row {index}: outcome must be one of {', '.join(OUTCOMES)}, "
                f"got {row.get('outcome')!r}"
            )
    extra = {(d["file"], d["claim"], d["wrt"]): d for d in details.get("claims", ())}
    messages = {(e["path"], e["line"]): e["message"] for e in details.get("spec_errors", ())}
    claims, errors = [], []
    for row in rows:
        if row["verdict"] == "spec-error":
            line = _int(row["line"])
            errors.append(SpecErrorRecord(row["file"], line, messages.get((row["file"], line), row["diagnosis"])))
            continue
        d = extra.get((row["file"], row["claim"], row["wrt"]), {})
        factor = _float(row.get("factor", ""))
        claims.append(
            ClaimRecord(
                spec=row["spec"],
                claim=row["claim"],
                wrt=row["wrt"],
                file=row["file"],
                line=_int(row["line"]),
                verdict=row["verdict"],
                outcome=row["outcome"] or "ok",
                diagnosis=row["diagnosis"],
                kind=row.get("kind") or "gradient",
                node=row.get("node", ""),
                expect=row.get("expect") or "pass",
                expected_shape=row.get("expected_shape", ""),
                claimed_shape=row.get("claimed_shape", ""),
                max_rel_error=_float(row.get("max_rel_error", "")),
                examples=_int(row.get("examples", "0")),
                seed=_int(row.get("seed", "0")),
                factor=None if math.isnan(factor) else factor,
                oracle=row.get("oracle", ""),
                col=d.get("col", 0),
                what=d.get("what", ""),
                block=d.get("block", "") or _fallback_block(row),
                lines=tuple(d.get("lines", ())),
                notes=tuple(d.get("notes", ())),
                seconds=_float_or_nan(d.get("seconds")),
                evidence=_evidence(d.get("evidence")),
                rejected=_int(row.get("rejected") or "0"),
                rejected_reason=row.get("rejected_reason", ""),
                fix=row.get("fix", "") or "",
                fix_edits=_int(row.get("fix_edits", "0")),
                fix_changes=tuple(d.get("fix_changes", ())),
                derived=row.get("derived", "") or "",
                claimed=d.get("claimed", ""),
            )
        )
    run = details.get("run", {})
    seeds = {c.seed for c in claims}
    seed = run.get("seed", seeds.pop() if len(seeds) == 1 else 0)
    paths = run.get("paths") or sorted({c.file for c in claims} | {e.path for e in errors})
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
    if row["outcome"] == "ok" and row["verdict"] == "pass":
        return ""
    label = text.LABEL.get(row["outcome"], row["outcome"].upper())
    return (
        f"{label} {row['file']}:{row['line']} claim '{row['claim']}' (wrt {row['wrt']})\n"
        f"  diagnosis: {row['diagnosis']}\n"
        f"  reproduce: {text.check_command(row['file'], row['claim'], row['seed'])}"
    )
