"""The rendered pages of a report folder — report.html, summary.md, junit.xml — from a
:class:`~.record.RunRecord`: the same function serves ``--report DIR`` (a live run) and
``gradcheck report DIR`` (an earlier run read back from its files)."""

from __future__ import annotations

from pathlib import Path

from .atomic import atomic_write_text
from .record import RunRecord

PAGES = ("report.html", "summary.md", "junit.xml")


def write_pages(run: RunRecord, directory: str | Path, all_figures: bool = False) -> list[Path]:
    """Write the three pages into ``directory``; pictures need matplotlib (else the HTML says so).

    ``all_figures`` draws every expected failure too (by default only the first
    :data:`~.figures.EXPECTED_BUDGET`; every unexpected result is always drawn).
    """
    from . import figures, html, junit, markdown

    out = Path(directory)
    pictures = figures.draw_all(run.claims, expected_budget=None if all_figures else figures.EXPECTED_BUDGET)
    texts = {
        "report.html": html.render(run, pictures),
        "summary.md": markdown.render(run),
        "junit.xml": junit.render(run),
    }
    written = []
    for name in PAGES:
        atomic_write_text(out / name, texts[name])
        written.append(out / name)
    return written
