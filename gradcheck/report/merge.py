"""``gradcheck merge DIR... --into OUT``: the report folders of a sharded run joined into one.

Each ``gradcheck check --shard I/N --report DIR`` also writes ``shard.json``: the run's seed, every
(spec, claim, wrt) item of the whole run in run order, and which shard checked which. The merge
checks that the folders belong together (one seed, one item list, every shard once), then puts
the rows back in run order: summary.csv and results.csv are the rows the unsharded run writes,
byte for byte (their text is copied, never re-formatted), and details.json and the pages are
rendered from the merged record as ``gradcheck report`` renders them. A spec that could not be
read is reported by every shard and kept once. Presentation only: nothing is re-checked.

Folders without ``shard.json`` (plain ``--report`` folders) merge in the order given; a claim
found in two of them is refused.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import replace
from pathlib import Path

from ..verdict.model import SPEC_ERROR, SpecFailure
from .atomic import atomic_write_text
from .record import ReportDirError, RunRecord, load

__all__ = ["SHARD", "MergeError", "merge", "write_shard"]

SHARD = "shard.json"
SHARD_FORMAT = "gradcheck-shard/1"


class MergeError(Exception):
    """The folders do not make one run (different seeds, items, a shard missing or given twice)."""


def write_shard(directory: str | Path, plan, seed: int) -> Path:
    """``DIR/shard.json`` for a :class:`gradcheck.run.ShardPlan` run with ``seed``."""
    doc = {
        "format": SHARD_FORMAT,
        "shard": [plan.index, plan.count],
        "seed": seed,
        "files": list(plan.files),
        "items": [list(item) for item in plan.items],
        "costs": list(plan.costs),
        "shard_of": list(plan.shard_of),
    }
    path = Path(directory) / SHARD
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
    return path


def _read_shard(directory: str) -> dict | None:
    path = Path(directory) / SHARD
    if not path.is_file():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != SHARD_FORMAT:
        raise ReportDirError(f"{path}: unknown format {doc.get('format')!r} (expected {SHARD_FORMAT})")
    return doc


def _read_csv(directory: str, name: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of ``DIR/name`` as the text cells written (still escaped)."""
    path = Path(directory) / name
    if not path.is_file():
        raise ReportDirError(f"{directory}: no {name} here (write one with `gradcheck check ... --report {directory}`)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ReportDirError(f"{path}: empty file, not a gradcheck report")
    return rows[0], rows[1:]


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")  # as pandas writes them: minimal quoting
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _check_together(folders: list[str], records: list[RunRecord], shards: list[dict | None]) -> None:
    """Raise MergeError saying what differs when the folders are not parts of one run."""
    seeds = {r.seed for r in records}
    if len(seeds) > 1:
        each = ", ".join(f"{f} has seed {r.seed}" for f, r in zip(folders, records))
        raise MergeError(
            f"the run seeds differ ({each}): run every shard with the same --seed, "
            "e.g. --seed $GITHUB_RUN_ID, so that the merged report is one run's"
        )
    marked = [s for s in shards if s is not None]
    if not marked:
        return
    if len(marked) != len(shards):
        plain = ", ".join(f for f, s in zip(folders, shards) if s is None)
        raise MergeError(f"{plain}: not written by --shard (no {SHARD}): merge the folders of one sharded run")
    first = marked[0]
    for folder, s in zip(folders, shards):
        if s["items"] != first["items"] or s["shard"][1] != first["shard"][1]:
            raise MergeError(
                f"{folder} was split from other specs, claims or options than {folders[0]} "
                "(its list of items differs): run every shard on the same paths with the same options"
            )
    count = first["shard"][1]
    given = [s["shard"][0] for s in shards]
    twice = sorted({i for i in given if given.count(i) > 1})
    missing = sorted(set(range(1, count + 1)) - set(given))
    if twice:
        raise MergeError(f"shard {', '.join(f'{i}/{count}' for i in twice)} given more than once")
    if missing:
        raise MergeError(f"shard {', '.join(f'{i}/{count}' for i in missing)} missing: give all {count} report folders")


def merge(folders: list[str], into: str, all_figures: bool = False) -> tuple[RunRecord, list[Path]]:
    """Write the merged report of ``folders`` into ``into``; returns its record and the report
    files written (not what the folder holds: an earlier run's parquet tables may lie there).

    Raises ReportDirError (a folder holds no report) or MergeError (they are not one run).
    """
    records = [load(f) for f in folders]
    shards = [_read_shard(f) for f in folders]
    _check_together(folders, records, shards)
    parts = _Parts()
    for folder, run in zip(folders, records):
        parts.add(folder, run)
    keys = [c.key for c in parts.claims]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        file, claim, wrt = repeated[0]
        raise MergeError(f"claim '{claim}' (wrt {wrt}) of {file} is in more than one folder: merge each run once")
    order = _order(shards[0]) if shards[0] is not None else None
    ranks = list(range(len(keys))) if order is None else [order.get(k, math.inf) for k in keys]
    by_rank = sorted(range(len(keys)), key=lambda i: (ranks[i], i))
    errors, error_rows = _errors_once(
        parts.errors, parts.error_rows, shards[0]["files"] if shards[0] is not None else []
    )
    merged = replace(
        records[0],
        claims=tuple(parts.claims[i] for i in by_rank),
        errors=tuple(errors),
        seconds=max((r.seconds for r in records), default=math.nan),  # the shards ran side by side
        when=min((r.when for r in records if r.when), default=""),
        incomplete=any(r.incomplete for r in records),
        details=all(r.details for r in records),
    )
    return merged, _write(Path(into), merged, parts, by_rank, error_rows, all_figures)


class _Parts:
    """The folders' claims and their rows (summary.csv's, and each claim's results.csv rows), in folder order."""

    def __init__(self) -> None:
        self.claims, self.errors, self.summary_rows, self.error_rows, self.results_rows = [], [], [], [], []
        self.header: list[str] = []
        self.results_header: list[str] = []

    def add(self, folder: str, run: RunRecord) -> None:
        self.header, rows = _read_csv(folder, "summary.csv")
        self.results_header, results = _read_csv(folder, "results.csv")
        col = {name: i for i, name in enumerate(self.header)}
        rcol = {name: i for i, name in enumerate(self.results_header)}
        self.error_rows += [r for r in rows if r[col["verdict"]] == SPEC_ERROR]
        # results.csv holds each claim's examples together, in summary.csv's order
        at = 0
        for c, row in zip(run.claims, [r for r in rows if r[col["verdict"]] != SPEC_ERROR]):
            mine = []
            while at < len(results) and _same(results[at], rcol, row, col):
                mine.append(results[at])
                at += 1
            self.claims.append(c)
            self.summary_rows.append(row)
            self.results_rows.append(mine)
        self.errors += run.errors


def _write(
    out: Path, merged: RunRecord, parts: _Parts, by_rank: list[int], error_rows, all_figures: bool
) -> list[Path]:
    """The merged folder's tables, details.json and pages (returned: the files written), and its markers."""
    from . import record
    from .pages import write_pages

    out.mkdir(parents=True, exist_ok=True)
    summary = [parts.summary_rows[i] for i in by_rank] + error_rows
    atomic_write_text(out / "summary.csv", _csv_text(parts.header, summary))
    results = [r for i in by_rank for r in parts.results_rows[i]]
    atomic_write_text(out / "results.csv", _csv_text(parts.results_header, results))
    atomic_write_text(out / record.DETAILS, record.details_json(merged))
    written = [out / "summary.csv", out / "results.csv", out / record.DETAILS]
    written += write_pages(merged, out, all_figures=all_figures)
    marker = out / "INCOMPLETE"
    if merged.incomplete:
        atomic_write_text(marker, "interrupted: a shard was stopped before it checked all its claims\n")
    else:
        marker.unlink(missing_ok=True)
    (out / SHARD).unlink(missing_ok=True)  # the merged folder is one whole run
    return written


def _order(shard: dict) -> dict[tuple[str, str, str], int]:
    return {tuple(item): i for i, item in enumerate(shard["items"])}


def _same(result_row: list[str], rcol: dict, summary_row: list[str], col: dict) -> bool:
    return all(result_row[rcol[k]] == summary_row[col[k]] for k in ("spec", "claim", "wrt"))


def _errors_once(errors, rows, files: list[str]):
    """Each spec error once (every shard reports it), in run order: paths that do not exist first,
    then the spec files in the order they were read."""
    seen: dict = {}
    for e, row in zip(errors, rows):
        seen.setdefault((e.path, e.line, e.message), row)
    position = {f: i for i, f in enumerate(files)}
    keys = sorted(seen, key=lambda k: position.get(k[0], -1))  # stable: first appearance within a file
    return [SpecFailure(path, message, line) for path, line, message in keys], [seen[k] for k in keys]
