"""summary.md: GitHub-flavoured Markdown fit for a CI job summary or a PR comment.

The verdict counts, then one row per unexpected result with its diagnosis; the expected
failures follow inside a collapsed ``<details>``. Every cell goes through :func:`cell`, so
text from a spec (claim names, diagnoses with code spans) cannot break the table.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..verdict.model import Outcome, Verdict
from .record import RunRecord
from .text import LABEL, derivative, explanation, outcome_words

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#&!])")


def cell(text: str) -> str:
    """One GFM table cell: `code spans` kept, everything else escaped, ``|`` escaped everywhere.

    Outside code spans Markdown's punctuation is backslash-escaped (so ``*`` never starts
    emphasis and ``<b>`` is not HTML); inside them only ``|`` is (GFM splits cells on ``|``
    before it parses code spans, and removes the backslash again). Newlines become ``<br>``.
    """
    pieces = text.replace("\r", "").split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: no code spans at all
        pieces = [text.replace("\r", "")]
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            body = piece.replace("|", "\\|").replace("\n", " ")
            fence = "``" if body.startswith("`") or body.endswith("`") else "`"
            out.append(f"{fence}{body}{fence}" if body.strip() else "` `")
        else:
            out.append(_SPECIAL.sub(r"\\\1", piece))
    return "<br>".join(s.strip() for s in "".join(out).split("\n")).strip()


def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> list[str]:
    """A GFM table; ``align`` holds one of l/r per column (default left)."""
    rule = {"l": "---", "r": "---:"}
    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join(rule[a] for a in (align or "l" * len(header)).ljust(len(header), "l")) + "|",
    ]
    lines += ["| " + " | ".join(cell(str(c)) for c in row) + " |" for row in rows]
    return lines


def _claim_rows(claims: Iterable[Verdict]) -> list[tuple[str, ...]]:
    return [(LABEL[c.outcome], f"`{c.claim}`", derivative(c), f"`{c.where}`", c.label, explanation(c)) for c in claims]


CLAIM_HEADER = ("", "claim", "derivative", "where", "verdict", "diagnosis")


def render(run: RunRecord) -> str:
    icon = "🔴" if run.errors or run.unexpected else "🟢"
    lines = [
        f"### {icon} gradcheck: {run.headline()}",
        "",
        f"{run.scope()} · seed {run.seed} · reproduce: `{run.reproduce()}`",
        "",
    ]
    counts = run.verdict_counts()
    lines += table(
        ("verdict", "claims", "unexpected"),
        [(v, str(n), str(bad) if bad else "") for v, (n, bad) in counts.items()],
        align="lrr",
    )
    lines.append("")
    unexpected = run.unexpected
    if unexpected:
        lines += [f"#### Unexpected results ({len(unexpected)})", ""]
        lines += table(CLAIM_HEADER, _claim_rows(unexpected))
    else:
        lines.append("No unexpected results: every claim is as expected.")
    lines.append("")
    if run.errors:
        lines += [f"#### Specs that could not be read ({len(run.errors)})", ""]
        lines += table(
            ("spec", "error"),
            [(f"`{e.path}:{e.line}`", e.message.splitlines()[0] if e.message else "") for e in run.errors],
        )
        lines.append("")
    expected = run.expected_failures
    if expected:
        lines += [
            "<details>",
            f"<summary>{len(expected)} {outcome_words(Outcome.XFAIL, len(expected))} "
            "(claims marked <code>expect: fail</code>)</summary>",
            "",
        ]
        lines += table(CLAIM_HEADER, _claim_rows(expected))
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
