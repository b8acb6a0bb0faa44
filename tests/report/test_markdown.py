"""summary.md is GitHub-flavoured Markdown whose tables survive any text a spec can hold."""

from __future__ import annotations

import csv

import pytest

from gradcheck.report import markdown
from gradcheck.report.record import RunRecord
from gradcheck.verdict.serialize import from_report

from .readback import code, inline_text, split_row, tables

HOSTILE = [
    "plain words",
    "a | pipe",
    "`c | d` is a code span with a pipe",
    "*not emphasis* and _not either_ and **nor this**",
    "<b>not html</b> & [not](a link) # nor a heading",
    "an odd ` backtick | and a pipe",
    "back\\slash \\| escaped-looking pipe",
    "`c * -dh(a) * X` multiplies (M, out) by (M, in)",
    "two\nlines",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_reads_back_as_its_text(text):
    row = "| " + markdown.cell(text) + " | next |"
    cells = split_row(row)
    assert len(cells) == 2 and cells[1] == "next"
    assert inline_text(cells[0]) == text


def test_table_rows_have_the_header_width_and_alignment():
    lines = markdown.table(("verdict", "claims"), [("pass", "3"), ("a | b", "")], align="lr")
    assert lines[1] == "|---|---:|"
    (t,) = tables("\n".join(lines))
    assert t == [["verdict", "claims"], ["pass", "3"], ["a \\| b".replace("\\|", "|"), ""]]


def _rows(report) -> list[dict[str, str]]:
    with (report / "summary.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_summary_md_has_the_counts_then_one_row_per_unexpected_claim(unexpected_report):
    text = (unexpected_report / "summary.md").read_text()
    assert text.startswith("### 🔴 gradcheck: 6 passed, 4 failed\n")
    counts, unexpected = tables(text)
    assert counts[0] == ["verdict", "claims", "unexpected"]
    rows = _rows(unexpected_report)
    assert sum(int(r[1]) for r in counts[1:]) == len(rows)
    by_verdict = {r[0]: (int(r[1]), int(r[2] or 0)) for r in counts[1:]}
    assert by_verdict["scaled"] == (1, 1) and by_verdict["pass"] == (6, 0)
    failing = {r["claim"]: r for r in rows if r["outcome"] == "fail"}
    assert unexpected[0] == ["", "claim", "derivative", "where", "verdict", "diagnosis"]
    assert len(unexpected) - 1 == len(failing) == 4
    for label, claim, derivative, where, verdict, diagnosis in unexpected[1:]:
        row = failing[code(claim)]
        assert label == "FAIL" and verdict == row["verdict"]
        assert code(where) == f"{row['file']}:{row['line']}"
        assert row["diagnosis"].endswith(inline_text(diagnosis))
    answerer = next(r for r in unexpected[1:] if code(r[1]) == "answerer")
    assert inline_text(answerer[5]) == "the claim is 2 x the gradient on every entry (factor 2)"


def test_summary_md_puts_expected_failures_in_a_collapsed_block(seed_report):
    text = (seed_report / "summary.md").read_text()
    assert "No unexpected results: every claim is as expected." in text
    block = text[text.index("<details>") : text.index("</details>")]
    assert "<summary>4 expected failures" in block
    (xfails,) = tables(block[block.index("\n|") :])
    assert [code(r[1]) for r in xfails[1:]] == ["asker", "answerer", "step-a-transposed", "step-b-h-not-dh"]


def test_hostile_diagnoses_keep_the_table_whole():
    claims = tuple(
        from_report(
            dict(
                spec="s",
                claim=f"c{i}",
                wrt="x",
                file="s.yaml",
                line=i + 1,
                verdict="wrong",
                outcome="fail",
                diagnosis=f"wrong: {text}",
            )
        )
        for i, text in enumerate(HOSTILE)
    )
    text = markdown.render(RunRecord(claims=claims, seed=3, paths=("s.yaml",)))
    counts, unexpected = tables(text)
    assert len(unexpected) == len(HOSTILE) + 1
    assert [inline_text(r[5]) for r in unexpected[1:]] == HOSTILE


def test_a_real_gfm_parser_agrees(unexpected_report):
    """Cross-check with markdown-it-py's GFM tables when it is installed (not a dependency)."""
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render((unexpected_report / "summary.md").read_text())
    assert html.count("<table>") == 2
    assert html.count("<tr>") == 1 + 5 + 1 + 4  # counts: header + 5 verdicts; unexpected: header + 4 claims
    assert "<td>the claim is 2 x the gradient on every entry (factor 2)</td>" in html
