"""Verdicts as pandas frames, written as CSV: summary.csv (one row per claim and wrt) and
results.csv (one row per example); the same frames as Parquet when pyarrow is installed.
Presentation only.

``max_rel_error`` (both files) is normwise, against the scale the tolerance uses
(:meth:`gradcheck.verdict.tolerance.Tolerance.error`): |claimed - true| over max(|claimed|,
|true|, the claim's norm-sized floor), where a value within the tolerance counts the tolerance's
absolute allowance (atol and the error bars) as scale too. So a pass reports at most rtol (even
where the true gradient is ~0 and rounding decides), and a failure its plain relative error
(a factor 2 reads 0.5). A failing claim shows the error of the claim as given: a transposed
square claim against the gradient, a transposed non-square one none (blank, as for a shape
mismatch).

Both CSV files are deterministic for a given ``--seed`` (no timings, no dates), so two runs can
be compared byte for byte. Their columns are a contract: extend, never rename or drop.

:func:`write_reports` writes a whole report folder: the tables, ``details.json`` (what the
pictures and texts need beyond the CSV columns) and the pages (report.html, summary.md,
junit.xml; see :mod:`.pages`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from ..verdict import serialize
from ..verdict.model import RunResult
from ..verdict.serialize import RESULTS_COLUMNS, SUMMARY_COLUMNS
from .atomic import atomic_write_bytes, atomic_write_text

__all__ = [
    "SUMMARY_COLUMNS",
    "RESULTS_COLUMNS",
    "summary_frame",
    "results_frame",
    "write_tables",
    "write_reports",
    "atomic_write_text",
]


def summary_frame(result: RunResult) -> pd.DataFrame:
    rows = [serialize.summary_row(v) for v in result.verdicts]
    rows += [serialize.spec_error_row(f, Path(f.path).stem, result.seed) for f in result.failures]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def results_frame(result: RunResult) -> pd.DataFrame:
    rows = [row for v in result.verdicts for row in serialize.example_rows(v)]
    return pd.DataFrame(rows, columns=RESULTS_COLUMNS)


def write_tables(result: RunResult, directory: str | Path) -> list[Path]:
    """summary.csv and results.csv; summary.parquet and results.parquet when pyarrow is installed."""
    out = Path(directory)
    written = []
    frames = {"summary": summary_frame(result), "results": results_frame(result)}
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        text = _escaped(frame).to_csv(index=False, float_format="%.6g", lineterminator="\n")
        atomic_write_text(path, text)
        written.append(path)
    if importlib.util.find_spec("pyarrow") is not None:
        # pyarrow directly, not DataFrame.to_parquet: pandas' engine registers extension types
        # in pyarrow's global registry, which fails if pandas' module is ever imported twice
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        for name, frame in frames.items():
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
            path = out / f"{name}.parquet"
            atomic_write_bytes(path, buf.getvalue())
            written.append(path)
    return written


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as formulas, escaped (CSV only; record.csv_cell)."""
    from .record import csv_cell

    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(lambda x: csv_cell(x) if isinstance(x, str) else x) for c in text})


def write_reports(result: RunResult, directory: str) -> list[Path]:
    """Every file of a report folder for one run; returns the paths written.

    The tables first (the contract), then ``details.json``, then the pages rendered from the
    same record that ``gradcheck report DIR`` reads back.
    """
    from . import pages, record

    out = Path(directory)
    written = write_tables(result, out)
    run = record.from_result(result)
    atomic_write_text(out / record.DETAILS, record.details_json(run))
    written.append(out / record.DETAILS)
    written += pages.write_pages(run, out)
    return written
