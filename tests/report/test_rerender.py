"""`gradcheck report DIR` renders an earlier run's pages again from its files alone."""

from __future__ import annotations

import json
import shutil

import pytest

from gradcheck.cli import main
from gradcheck.report import record

from .conftest import SEED_SPEC


def test_report_command_redraws_the_same_pages(unexpected_report, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(unexpected_report, copy)
    for name in ("report.html", "summary.md", "junit.xml"):
        (copy / name).unlink()
    assert main(["report", str(copy)]) == 0
    assert "report rendered again in" in capsys.readouterr().out
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (copy / name).read_bytes() == (unexpected_report / name).read_bytes(), name


def test_without_details_json_the_pages_come_from_summary_csv(unexpected_report, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(unexpected_report, copy)
    (copy / "details.json").unlink()
    assert main(["report", str(copy)]) == 0
    text = (copy / "report.html").read_text()
    assert "This folder has no <code>details.json</code>" in text
    assert "<img" not in text
    assert "reproduce: gradcheck check" in text  # the short failure block from the CSV columns
    assert (copy / "summary.md").read_text() == (unexpected_report / "summary.md").read_text()


def test_report_of_a_folder_without_a_report_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no summary.csv here" in capsys.readouterr().err


def test_details_json_is_deterministic_but_for_times(tmp_path):
    def details(name):
        assert (
            main(
                [
                    "check",
                    str(SEED_SPEC),
                    "--seed",
                    "4",
                    "--claim",
                    "answerer",
                    "--claim",
                    "step-b-h-not-dh",
                    "--report",
                    str(tmp_path / name),
                    "-q",
                ]
            )
            == 0
        )
        doc = json.loads((tmp_path / name / "details.json").read_text())
        for key in ("when", "seconds", "versions"):
            doc["run"].pop(key)
        for claim in doc["claims"]:
            claim.pop("seconds")
        return doc

    first, second = details("a"), details("b")
    assert first == second
    assert (tmp_path / "a" / "summary.csv").read_bytes() == (tmp_path / "b" / "summary.csv").read_bytes()
    evidence = {c["claim"]: c["evidence"] for c in first["claims"]}
    assert evidence["answerer"]["claimed"]["shape"] == evidence["answerer"]["truth"]["shape"]
    assert len(evidence["answerer"]["steps"]) == len(evidence["answerer"]["fd_errors"]) > 5


def test_details_json_reads_back_to_itself(unexpected_report):
    """load -> dump gives the same bytes: every array and text survives the round trip exactly."""
    run = record.load(unexpected_report)
    assert record.details_json(run) == (unexpected_report / "details.json").read_text()
    answerer = next(c for c in run.claims if c.claim == "answerer")
    assert answerer.factor == 2.0 and answerer.outcome == "fail"
    assert answerer.evidence.claimed.shape == answerer.evidence.truth.shape


def test_parquet_beside_the_csv_when_pyarrow_is_installed(unexpected_report):
    pytest.importorskip("pyarrow")
    import csv

    import pyarrow.parquet as pq

    for name in ("summary", "results"):
        with (unexpected_report / f"{name}.csv").open(newline="") as fh:
            rows = list(csv.reader(fh))
        table = pq.read_table(unexpected_report / f"{name}.parquet")
        assert table.column_names == rows[0]
        assert table.num_rows == len(rows) - 1


def test_check_says_which_files_it_wrote(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\nclaims: [{name: g, wrt: x, gradient: 2 * x}]\n"
    )
    assert main(["check", str(spec), "--seed", "1", "--report", str(tmp_path / "r"), "-q"]) == 0
    parquet = ", results.parquet" if (tmp_path / "r" / "results.parquet").exists() else ""
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"report written to {tmp_path / 'r'}/: report.html, summary.md, junit.xml, summary.csv, results.csv{parquet}"
    )
    assert sorted(p.name for p in (tmp_path / "r").iterdir() if p.suffix != ".parquet") == [
        "details.json",
        "junit.xml",
        "report.html",
        "results.csv",
        "summary.csv",
        "summary.md",
    ]
