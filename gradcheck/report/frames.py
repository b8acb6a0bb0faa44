"""Verdicts as pandas frames, written as CSV: summary.csv (one row per claim and wrt) and
results.csv (one row per example). Presentation only.

Both files are deterministic for a given ``--seed`` (no timings, no dates), so two runs can be
compared byte for byte.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..verdict.model import RunResult

SUMMARY_COLUMNS = [
    "spec", "claim", "wrt", "verdict", "diagnosis", "expected_shape", "claimed_shape", "max_rel_error",
    "examples", "seed", "file", "line", "kind", "node", "expect", "outcome", "factor", "oracle",
]
RESULTS_COLUMNS = [
    "spec", "claim", "wrt", "example", "shrunk", "dims", "example_seed", "verdict", "max_rel_error",
    "oracle", "oracle_error", "directions", "evaluations", "diagnosis",
]


def summary_frame(result: RunResult) -> pd.DataFrame:
    rows = []
    for v in result.verdicts:
        rows.append({
            "spec": v.spec, "claim": v.claim, "wrt": v.wrt, "verdict": v.verdict, "diagnosis": v.diagnosis,
            "expected_shape": v.expected_shape, "claimed_shape": v.claimed_shape,
            "max_rel_error": v.max_rel_error, "examples": v.examples, "seed": v.seed, "file": v.path,
            "line": v.location.line, "kind": v.kind, "node": v.node or "", "expect": v.expect,
            "outcome": v.outcome, "factor": v.factor if v.factor is not None else math.nan, "oracle": v.oracle,
        })
    for f in result.failures:
        rows.append({"spec": Path(f.path).stem, "claim": "", "wrt": "", "verdict": "spec-error",
                     "diagnosis": f.message.splitlines()[0], "file": f.path, "line": f.line,
                     "outcome": "fail", "seed": result.seed, "examples": 0})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def results_frame(result: RunResult) -> pd.DataFrame:
    rows = []
    for v in result.verdicts:
        for r in v.records:
            f = r.finding
            rows.append({
                "spec": v.spec, "claim": v.claim, "wrt": v.wrt, "example": r.index, "shrunk": r.shrunk,
                "dims": " ".join(f"{k}={val}" for k, val in r.sizes.items()), "example_seed": r.seed,
                "verdict": f.label, "max_rel_error": f.max_rel_error, "oracle": f.oracle,
                "oracle_error": f.oracle_error, "directions": f.directions, "evaluations": f.evaluations,
                "diagnosis": f.summary,
            })
    return pd.DataFrame(rows, columns=RESULTS_COLUMNS)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_reports(result: RunResult, directory: str) -> list[Path]:
    out = Path(directory)
    written = []
    for name, frame in (("summary.csv", summary_frame(result)), ("results.csv", results_frame(result))):
        path = out / name
        atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
        written.append(path)
    return written
