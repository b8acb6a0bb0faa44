"""junit.xml: one testcase per claim with file and line; failures carry the failure block,
expected failures are skipped with their diagnosis, unreadable specs are errors."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

from gradcheck.cli import main


def _rows(report) -> list[dict[str, str]]:
    with (report / "summary.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_testcase_per_claim_with_file_and_line(unexpected_report):
    root = ET.parse(unexpected_report / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("10", "4", "0", "0")
    cases = root.findall("./testsuite/testcase")
    rows = _rows(unexpected_report)
    assert [(c.get("name"), c.get("file"), c.get("line")) for c in cases] == [
        (r["claim"], r["file"], r["line"]) for r in rows
    ]
    answerer = next(c for c in cases if c.get("name") == "answerer")
    failure = answerer.find("failure")
    assert failure.get("type") == "scaled"
    assert failure.get("message") == "scaled: the claim is 2 x the gradient on every entry (factor 2)"
    assert "reproduce: gradcheck check" in failure.text and "index" in failure.text
    assert next(c for c in cases if c.get("name") == "answer").find("failure") is None


def test_expected_failures_are_skipped_with_their_diagnosis(seed_report):
    root = ET.parse(seed_report / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("10", "0", "4")
    skipped = {c.get("name"): c.find("skipped") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert set(skipped) == {"asker", "answerer", "step-a-transposed", "step-b-h-not-dh"}
    assert skipped["asker"].get("message") == (
        "expected failure: shape-mismatch: claimed gradient has shape (M, in) but Theta has shape (in, out)"
    )


def test_an_unreadable_spec_is_an_error_testcase(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(
        "inputs: {x: {shape: [n]}}\nloss: sum(x)\nclaims: [{name: g, wrt: x, gradient: ones_like(x)}]\n"
    )
    (tmp_path / "good.yaml").write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x)\nclaims: [{name: g, wrt: x, gradient: ones_like(x)}]\n"
    )
    assert main(["check", str(tmp_path), "--seed", "1", "--report", str(tmp_path / "r")]) == 2
    root = ET.parse(tmp_path / "r" / "junit.xml").getroot()
    assert (root.get("tests"), root.get("errors")) == ("2", "1")
    error = root.find(".//testcase/error")
    assert error.get("type") == "spec-error" and "unknown dim 'n'" in error.text
