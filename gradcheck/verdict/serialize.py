"""The one serializer of :class:`~.model.Verdict`: to the plain values that reports and transports
hold, and back.

=====================  =======================================================================
:func:`summary_row`    summary.csv's row (the report contract: its columns are
                       :data:`SUMMARY_COLUMNS`, extended at the end, never renamed)
:func:`example_rows`   results.csv's rows, one per example (:data:`RESULTS_COLUMNS`)
:func:`details_entry`  details.json's entry: what the CSV has no column for (the failure block,
                       lines, notes, the arrays behind the pictures)
:func:`payload`        the three above as one JSON-able value: what a pytest report carries to the
                       xdist controller (:func:`from_payload` reads it back)
:func:`from_report`    a Verdict read back from a summary.csv row (strings) and its details entry
=====================  =======================================================================

A verdict read back has no ``failing`` example nor ``records`` (a report folder keeps their
text and arrays, not the values): its ``block`` and ``evidence`` hold what the pages show. Arrays
are nested lists of exact floats (``repr`` round-trips); non-finite numbers are ``null``.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import Location
from ..expr.dims import dims_text
from .model import SPEC_ERROR, Evidence, ExampleRecord, Expect, Finding, Label, Outcome, Repair, SpecFailure, Verdict

SUMMARY_COLUMNS = [
    "spec",
    "claim",
    "wrt",
    "verdict",
    "diagnosis",
    "expected_shape",
    "claimed_shape",
    "max_rel_error",  # normwise, against the tolerance's scale: <= rtol exactly when the claim passed
    "examples",
    "seed",
    "file",
    "line",
    "kind",
    "node",
    "expect",
    "outcome",
    "factor",
    "oracle",
    "rejected",  # draws the loss rejected (raised, or not finite there): not counted in examples
    "rejected_reason",  # the most frequent reason, one line; empty when none was rejected
    "fix",  # the verified smallest edit of a failing expression claim ("" if none)
    "fix_edits",  # how many edits it is (0 if none)
    "derived",  # the derived correct gradient or vjp, verified ("" if none was needed or derivable)
]
RESULTS_COLUMNS = [
    "spec",
    "claim",
    "wrt",
    "example",
    "shrunk",
    "dims",
    "example_seed",
    "verdict",
    "max_rel_error",
    "oracle",
    "oracle_error",
    "directions",
    "evaluations",
    "diagnosis",
]


# --- Verdict -> plain values ---------------------------------------------------------------


def summary_row(v: Verdict) -> dict[str, Any]:
    """summary.csv's row for ``v`` (numbers as numbers: the table writer formats them)."""
    r = v.repair
    return {
        "spec": v.spec,
        "claim": v.claim,
        "wrt": v.wrt,
        "verdict": str(v.label),
        "diagnosis": v.diagnosis,
        "expected_shape": v.expected_shape,
        "claimed_shape": v.claimed_shape,
        "max_rel_error": v.max_rel_error,
        "examples": v.examples,
        "seed": v.seed,
        "file": v.path,
        "line": v.location.line,
        "kind": v.kind,
        "node": v.node or "",
        "expect": str(v.expect),
        "outcome": str(v.outcome),
        "factor": v.factor if v.factor is not None else math.nan,
        "oracle": v.oracle,
        "rejected": v.rejected,
        "rejected_reason": v.rejected_reason,
        "fix": r.fix if r else "",
        "fix_edits": r.edits if r else 0,
        "derived": r.derived if r else "",
    }


def spec_error_row(f: SpecFailure, spec: str, seed: int) -> dict[str, Any]:
    """summary.csv's row for a spec file that could not be read (its other columns stay empty)."""
    return {
        "spec": spec,
        "claim": "",
        "wrt": "",
        "verdict": SPEC_ERROR,
        "diagnosis": f.message.splitlines()[0],
        "file": f.path,
        "line": f.line,
        "outcome": str(Outcome.FAIL),
        "seed": seed,
        "examples": 0,
    }


def example_rows(v: Verdict) -> list[dict[str, Any]]:
    """results.csv's rows for ``v``: one per example it examined."""
    return [
        {
            "spec": v.spec,
            "claim": v.claim,
            "wrt": v.wrt,
            "example": r.index,
            "shrunk": r.shrunk,
            "dims": dims_text(r.sizes),
            "example_seed": r.seed,
            "verdict": str(r.finding.label),
            "max_rel_error": r.finding.max_rel_error,
            "oracle": r.finding.oracle,
            "oracle_error": r.finding.oracle_error,
            "directions": r.finding.directions,
            "evaluations": r.finding.evaluations,
            "diagnosis": r.finding.summary,
        }
        for r in v.records
    ]


def details_entry(v: Verdict) -> dict[str, Any]:
    """details.json's entry for ``v`` (as reported: its ``block`` and ``evidence`` set)."""
    return {
        "file": v.path,
        "claim": v.claim,
        "wrt": v.wrt,
        "col": v.location.col,
        "what": v.what,
        "block": v.block or "",
        "lines": list(v.lines),
        "notes": list(v.notes),
        "seconds": number(v.seconds),
        "evidence": evidence_json(v.evidence),
        "fix_changes": list(v.repair.changes) if v.repair else [],
        "claimed": v.claimed_text,
    }


def payload(v: Verdict) -> dict[str, Any]:
    """``v`` (as reported) as one JSON-able value: its summary row, details entry and examples."""
    examples = [
        {
            "index": r.index,
            "sizes": dict(r.sizes),
            "seed": r.seed,
            "shrunk": r.shrunk,
            "label": str(r.finding.label),
            "summary": r.finding.summary,
            "max_rel_error": r.finding.max_rel_error,
            "oracle": r.finding.oracle,
            "oracle_error": r.finding.oracle_error,
            "directions": r.finding.directions,
            "evaluations": r.finding.evaluations,
        }
        for r in v.records
    ]
    return _plain({"row": summary_row(v), "details": details_entry(v), "examples": examples})


def _plain(value: Any) -> Any:
    """Plain JSON values: a StrEnum (a label, an oracle's name) as its str, containers walked,
    so that the payload crosses any transport (execnet cannot send an enum)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def from_payload(d: dict[str, Any]) -> Verdict:
    """The verdict a :func:`payload` carries (as reported, with its examples for results.csv)."""
    records = tuple(
        ExampleRecord(
            index=e["index"],
            sizes=dict(e["sizes"]),
            seed=e["seed"],
            shrunk=e["shrunk"],
            finding=Finding(
                label=_label(e["label"]),
                summary=e["summary"],
                max_rel_error=e["max_rel_error"],
                oracle=e["oracle"],
                oracle_error=e["oracle_error"],
                directions=e["directions"],
                evaluations=e["evaluations"],
            ),
        )
        for e in d["examples"]
    )
    return from_report(d["row"], d["details"], records)


# --- plain values -> Verdict ---------------------------------------------------------------


def from_report(row: dict[str, Any], details: dict[str, Any] | None = None, records=()) -> Verdict:
    """A verdict from its summary.csv row (strings, or the numbers :func:`summary_row` gives)
    and its details.json entry (``{}`` when the folder has none)."""
    d = details or {}
    factor = _float(row.get("factor"))
    outcome = row.get("outcome") or Outcome.OK
    expect = row.get("expect") or (Expect.FAIL if outcome in (Outcome.XFAIL, Outcome.XPASS) else Expect.PASS)
    fix, derived, changes = row.get("fix") or "", row.get("derived") or "", tuple(d.get("fix_changes", ()))
    repair = None
    if fix or derived or changes:
        repair = Repair(fix=fix, edits=integer(row.get("fix_edits")), changes=changes, derived=derived)
    return Verdict(
        spec=row["spec"],
        path=row["file"],
        claim=row["claim"],
        wrt=row["wrt"],
        kind=row.get("kind") or "gradient",
        node=row.get("node") or None,
        location=Location(row["file"], integer(row["line"]), d.get("col", 0)),
        expect=_member(Expect, expect),
        label=_label(row["verdict"]),
        diagnosis=row["diagnosis"],
        lines=tuple(d.get("lines", ())),
        expected_shape=row.get("expected_shape", "") or "",
        claimed_shape=row.get("claimed_shape", "") or "",
        max_rel_error=_float(row.get("max_rel_error")),
        examples=integer(row.get("examples")),
        seed=integer(row.get("seed")),
        what=d.get("what", ""),
        factor=None if math.isnan(factor) else factor,
        oracle=row.get("oracle", "") or "",
        records=tuple(records),
        notes=tuple(d.get("notes", ())),
        seconds=_float(d.get("seconds")),
        rejected=integer(row.get("rejected")),
        rejected_reason=row.get("rejected_reason", "") or "",
        repair=repair,
        claimed_text=d.get("claimed", ""),
        block=d.get("block", ""),
        evidence=evidence(d.get("evidence")),
    )


def _member(enum, value):
    """``value`` as a member of ``enum`` when it is one (a hand-edited file may hold another word)."""
    try:
        return enum(value)
    except ValueError:
        return value


def _label(value: str):
    return _member(Label, value)


def _float(x) -> float:
    """A number from a CSV cell or a JSON value; NaN for an empty or unreadable one."""
    try:
        return math.nan if x is None or x == "" else float(x)
    except ValueError:
        return math.nan


def integer(x, default: int = 0) -> int:
    """An integer from a CSV cell (``12``, ``12.0``) or a JSON value; ``default`` for an unreadable one."""
    try:
        return int(float(x))
    except (TypeError, ValueError, OverflowError):
        return default


# --- numbers and arrays as JSON --------------------------------------------------------------


def number(x) -> float | None:
    """``x`` as JSON holds it: None for a non-finite number."""
    x = float(x)
    return x if math.isfinite(x) else None


def _array(a) -> dict | None:
    if a is None:
        return None
    import numpy as np

    arr = np.asarray(a, dtype=np.float64)
    return {"shape": list(arr.shape), "values": [number(x) for x in arr.ravel()]}


def _unarray(d: dict | None):
    if d is None:
        return None
    import numpy as np

    values = [math.nan if x is None else x for x in d["values"]]
    return np.asarray(values, dtype=np.float64).reshape(d["shape"])


def evidence_json(e: Evidence | None) -> dict | None:
    if e is None:
        return None
    return {
        "claimed": _array(e.claimed),
        "truth": _array(e.truth),
        "steps": [number(h) for h in e.steps],
        "fd_errors": [number(x) for x in e.fd_errors],
        "cs_value": number(e.cs_value),
        "cs_error": number(e.cs_error),
    }


def evidence(d: dict | None) -> Evidence | None:
    if d is None:
        return None
    return Evidence(
        claimed=_unarray(d.get("claimed")),
        truth=_unarray(d.get("truth")),
        steps=tuple(_float(h) for h in d.get("steps", ())),
        fd_errors=tuple(_float(x) for x in d.get("fd_errors", ())),
        cs_value=_float(d.get("cs_value")),
        cs_error=_float(d.get("cs_error")),
    )
