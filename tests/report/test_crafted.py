"""A crafted report folder cannot put raw HTML into report.html, and a malformed one is refused
with a message (exit 2), never a traceback: `gradcheck report DIR` validates details.json and
summary.csv before it draws anything."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from gradcheck.cli import main

PAYLOAD = "<script>alert(1)</script>"


def _copy(report, tmp_path):
    out = tmp_path / "crafted"
    shutil.copytree(report, out)
    return out


def test_crafted_text_fields_are_escaped(unexpected_report, tmp_path, capsys):
    out = _copy(unexpected_report, tmp_path)
    details = json.loads((out / "details.json").read_text())
    details["run"]["versions"] = {PAYLOAD: PAYLOAD}
    details["run"]["when"] = PAYLOAD
    for claim in details["claims"]:
        claim["block"] = PAYLOAD
        claim["what"] = PAYLOAD
        claim["claimed"] = PAYLOAD
        claim["fix_changes"] = [f'"{PAYLOAD}" -> "{PAYLOAD}"']
        claim["notes"] = [PAYLOAD]
    (out / "details.json").write_text(json.dumps(details))
    rows = list(csv.DictReader((out / "summary.csv").open()))
    for row in rows:
        row["verdict"] = PAYLOAD
        row["diagnosis"] = PAYLOAD
        row["fix"] = PAYLOAD
    with (out / "summary.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["report", str(out)]) == 0
    for name in ("report.html", "summary.md", "junit.xml"):
        assert "<script>alert" not in (out / name).read_text(), name


@pytest.mark.parametrize(
    "where, value, message",
    [
        (("run", "seed"), PAYLOAD, "details.json: run.seed must be an integer"),
        (("run", "seconds"), "soon", "details.json: run.seconds must be a number"),
        (("run", "paths"), "specs", "details.json: run.paths must be a list of strings"),
        (("claims", 0, "col"), PAYLOAD, "details.json: claims[0].col must be an integer"),
        (("claims", 0, "lines"), [1, 2], "details.json: claims[0].lines must be a list of strings"),
        (("claims", 0, "block"), {"x": 1}, "details.json: claims[0].block must be a string"),
    ],
)
def test_malformed_details_are_refused_with_a_message(unexpected_report, tmp_path, capsys, where, value, message):
    out = _copy(unexpected_report, tmp_path)
    details = json.loads((out / "details.json").read_text())
    target = details
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    (out / "details.json").write_text(json.dumps(details))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unknown_outcome_in_summary_csv_is_refused(unexpected_report, tmp_path, capsys):
    out = _copy(unexpected_report, tmp_path)
    text = (out / "summary.csv").read_text().replace(",fail,", f',"{PAYLOAD}",', 1)  # the outcome column
    (out / "summary.csv").write_text(text)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "summary.csv: row 3: outcome must be one of ok, xfail, xpass, fail" in err


def test_details_that_are_not_json_are_refused(unexpected_report, tmp_path, capsys):
    out = _copy(unexpected_report, tmp_path)
    (out / "details.json").write_text("{not json")
    assert main(["report", str(out)]) == 2
    assert "details.json is not valid JSON" in capsys.readouterr().err
