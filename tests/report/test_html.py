"""report.html: self-contained, one row per claim, one section and one figure per failing claim,
readable without matplotlib, and rendered by a real browser without a console message."""

from __future__ import annotations

import base64
import csv
import json
import re
import struct
import sys

import pytest

from gradcheck.report import figures, html, record

from .readback import Elements, open_in_chromium

pictures = pytest.mark.skipif(
    not figures.available(), reason="pictures need matplotlib: pip install 'gradcheck[report]'"
)


def _summary_rows(report) -> list[dict[str, str]]:
    with (report / "summary.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _pictured(report) -> list[str]:
    """Claims that failed (as expected or not) and recorded arrays: each should have a figure."""
    details = json.loads((report / "details.json").read_text())
    outcomes = {(r["file"], r["claim"], r["wrt"]): r["outcome"] for r in _summary_rows(report)}
    return [
        d["claim"]
        for d in details["claims"]
        if d["evidence"] is not None and outcomes[(d["file"], d["claim"], d["wrt"])] != "ok"
    ]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_page_is_self_contained(unexpected_report):
    text = (unexpected_report / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "<link" not in text and "@import" not in text and "url(" not in text
    for attr, value in re.findall(r'\b(src|href)="([^"]*)"', text):
        assert value.startswith(("data:image/png;base64,", "#")), f"{attr}={value[:60]}"
    assert "<script src" not in text


@pictures
def test_every_claim_has_a_row_and_every_unexpected_failure_a_section_with_a_figure(unexpected_report):
    page = Elements((unexpected_report / "report.html").read_text())
    rows = _summary_rows(unexpected_report)
    body_rows = [a for a, path in page.all("tr") if any(p.startswith("tbody") for p in path)]
    assert len(body_rows) == len(rows) == 10
    articles = page.all("article", "claim")
    unexpected = [r["claim"] for r in rows if r["outcome"] in ("fail", "xpass")]
    assert len(articles) == len(unexpected) == 4
    images = page.all("img")
    assert len(images) == len(_pictured(unexpected_report)) == 3  # the static shape-mismatch has no arrays
    for attrs, path in images:
        assert any(p.startswith("article.") for p in path), "a figure outside its claim's section"
        assert _png_size(base64.b64decode(attrs["src"].split(",", 1)[1])) == (1200, 360)
    text = (unexpected_report / "report.html").read_text()
    assert "reproduce: gradcheck check" in text
    assert "found before any example was drawn: no arrays to picture" in text  # asker, said instead of a figure


def test_header_says_when_what_seed_and_versions(seed_report):
    text = (seed_report / "report.html").read_text()
    header = text[text.index("<header") : text.index("</header>")]
    assert re.search(r"<dt>when</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</dd>", header)
    assert "specs/least_squares.yaml</code>" in header
    assert "<dt>seed</dt><dd>1</dd>" in header
    assert "gradcheck 0." in header and "numpy " in header and "python 3." in header
    assert "6 passed, 0 failed, 4 expected failures" in header


@pictures
def test_expected_failures_are_collapsed_with_their_pictures(seed_report):
    page = Elements((seed_report / "report.html").read_text())
    sections = page.all("details", "claim")
    assert len(sections) == 4 and not any("open" in a for a, _ in sections)
    assert len(page.all("img")) == len(_pictured(seed_report)) == 3
    assert not page.all("article", "claim")


def test_without_matplotlib_the_page_has_tables_and_says_how_to_get_pictures(seed_report, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert not figures.available()
    run = record.load(seed_report)
    text = html.render(run, figures.draw_all(run.claims))
    assert "pip install &#x27;gradcheck[report]&#x27;" in text
    assert "<img" not in text
    assert len(Elements(text).all("tr")) == 11  # header + 10 claims


@pictures
def test_pictures_are_deterministic_and_budgeted(seed_report):
    run = record.load(seed_report)
    answerer = next(c for c in run.claims if c.claim == "answerer")
    assert figures.evidence_figure(answerer) == figures.evidence_figure(answerer)
    pictures = figures.draw_all(run.claims, expected_budget=1)
    drawn = [k for k, v in pictures.items() if isinstance(v, bytes)]
    assert len(drawn) == 1
    skipped = [v for v in pictures.values() if isinstance(v, str) and "first 1 expected failures" in v]
    assert len(skipped) == 2


def test_heatmap_reduces_higher_dimensions_keeping_the_sign():
    import numpy as np

    diff = np.zeros((2, 3, 4))
    diff[1, 2, 3] = -5.0
    diff[0, 0, 1] = 2.0
    matrix, rows, cols, note = figures.reduce_to_2d(diff, ["a", "b", "c"])
    assert matrix.shape == (2, 3) and matrix[1, 2] == -5.0 and matrix[0, 0] == 2.0
    assert (rows, cols) == ("a", "b") and note == "largest |difference| over (c)"
    assert figures.reduce_to_2d(np.arange(3.0), ["n"])[0].shape == (1, 3)
    assert figures.reduce_to_2d(np.float64(1.0), [])[0].shape == (1, 1)


def test_a_transposed_claim_is_pictured_as_its_transpose():
    import numpy as np

    from gradcheck.verdict.model import Evidence

    truth = np.arange(6.0).reshape(2, 3)
    claimed, aligned_truth, note = figures.aligned(Evidence(claimed=truth.T.copy(), truth=truth))
    assert claimed.shape == (2, 3) and np.array_equal(claimed, aligned_truth)
    assert note == "claim has shape (3, 2): shown transposed"


# --- in a browser -----------------------------------------------------------------------------


@pictures
def test_chromium_renders_the_table_and_one_figure_per_failing_claim(unexpected_report, tmp_path):
    dom, console = open_in_chromium((unexpected_report / "report.html").as_uri(), tmp_path / "profile", "--dump-dom")
    assert console == [], "\n".join(console)
    page = Elements(dom)
    assert len(page.all("table", "claims")) == 1
    assert len([a for a, path in page.all("tr") if any(p.startswith("tbody") for p in path)]) == 10
    assert len(page.all("figure", "evidence")) == len(_pictured(unexpected_report)) == 3


def test_chromium_runs_the_script_that_opens_every_section(seed_report, tmp_path):
    dom, console = open_in_chromium((seed_report / "report.html").as_uri() + "#all", tmp_path / "profile", "--dump-dom")
    assert console == [], "\n".join(console)
    sections = Elements(dom).all("details", "claim")
    assert len(sections) == 4 and all("open" in a for a, _ in sections)


@pictures
def test_chromium_console_check_catches_a_broken_figure(unexpected_report, tmp_path):
    """The control: a figure that does not decode must show up as a console message."""
    text = (unexpected_report / "report.html").read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]{40}", "data:image/png;base64,AAAA", text, count=1))
    _, console = open_in_chromium(broken.as_uri(), tmp_path / "profile", "--dump-dom")
    assert any("a figure did not load" in line for line in console), console


@pictures
def test_chromium_screenshot_shows_the_pictures(seed_report, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    _, console = open_in_chromium(
        (seed_report / "report.html").as_uri() + "#all",
        tmp_path / "profile",
        "--screenshot=" + str(shot),
        "--window-size=1280,2000",
    )
    assert console == []
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    colours = {tuple(p) for p in (pixels[::7, ::7, :3] * 255).astype(int).reshape(-1, 3)}
    assert len(colours) > 200  # heatmaps and plots, not a blank or text-only page


def test_an_interrupted_run_says_so():
    from gradcheck.report.record import RunRecord
    from gradcheck.verdict.serialize import from_report

    claim = from_report(
        dict(
            spec="s",
            claim="g",
            wrt="x",
            file="s.yaml",
            line=3,
            verdict="pass",
            outcome="ok",
            diagnosis="agrees on 5 examples",
        )
    )
    text = html.render(RunRecord(claims=(claim,), seed=1, paths=("s.yaml",), incomplete=True))
    assert "<title>gradcheck: 1 passed, 0 failed (interrupted)</title>" in text
    assert "The run was interrupted: these are the claims that finished." in text
