"""Helpers to read the rendered pages back: an HTML element collector, a GFM table reader, and
headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

# --- HTML ---------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes and the chain of enclosing tags (id or class)."""

    VOID = {"img", "meta", "br", "hr", "input", "link"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str], tuple[str, ...]]] = []
        self.stack: list[tuple[str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        path = tuple(f"{t}.{a}" for t, a in self.stack)
        self.found.append((tag, attrs, path))
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("id") or attrs.get("class", "")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def all(self, tag: str, cls: str | None = None) -> list[tuple[dict[str, str], tuple[str, ...]]]:
        return [(a, p) for t, a, p in self.found if t == tag and (cls is None or cls in a.get("class", "").split())]


# --- GitHub-flavoured Markdown tables -----------------------------------------------------

DELIMITER = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")


def split_row(line: str) -> list[str]:
    """Cells of a GFM table row: split on unescaped ``|``; ``\\|`` becomes ``|`` (also in code)."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cur, escaped = [], "", False
    for ch in line[1:-1]:
        if escaped:
            cur += ch if ch == "|" else "\\" + ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    assert not escaped, line
    cells.append(cur.strip())
    return cells


def inline_text(cell: str) -> str:
    """The Markdown source a cell stands for: backslash escapes undone outside code spans,
    code spans (and their backticks) kept verbatim; ``<br>`` is a newline."""
    out = []
    for piece in re.split(r"(`[^`]+`)", cell):
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            out.append(piece)
        else:
            out.append(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", piece))
    return "".join(out).replace("<br>", "\n")


def code(cell: str) -> str:
    """The text of a cell that is one code span."""
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table (header row first) in a GFM document, checked for shape as it is read.

    A table starts after a blank line (so it does not continue a paragraph or an HTML block),
    has a delimiter row with as many cells as its header, and every row has that many cells.
    """
    lines = markdown.splitlines()
    found = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and DELIMITER.match(lines[i + 1]):
            assert i == 0 or lines[i - 1].strip() == "", f"table at line {i + 1} does not follow a blank line"
            header = split_row(lines[i])
            assert len(split_row(lines[i + 1])) == len(header), lines[i + 1]
            rows = [header]
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = split_row(lines[i])
                assert len(row) == len(header), f"row {lines[i]!r} has {len(row)} cells, header {len(header)}"
                rows.append(row)
                i += 1
            found.append(rows)
        else:
            assert not lines[i].startswith("|"), f"line {i + 1} looks like a table row outside a table: {lines[i]!r}"
            i += 1
    return found


# --- headless Chromium --------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    # wait for every image's load/error event before dumping or shooting: without it a
    # broken figure's console message can arrive after --dump-dom on a loaded machine
    "--virtual-time-budget=10000",
)
CONSOLE = re.compile(r":CONSOLE[(:]")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed: `apt-get install chromium` (Debian/Ubuntu) runs this test")


def open_in_chromium(url: str, profile: Path, *args: str) -> tuple[str, list[str]]:
    """(stdout, console messages) of Chromium loading ``url`` with ``args`` (--dump-dom, --screenshot=...)."""
    proc = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url], capture_output=True, text=True, timeout=90
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]
    return proc.stdout, console
