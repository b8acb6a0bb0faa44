"""Progress of a run, on stderr: a bar redrawn in place on an interactive terminal (claims done
of the total, the spec being checked, time so far), plain lines when stderr is not a terminal
or the ``CI`` variable is set (one line as each spec starts), nothing when asked to be quiet
off a terminal.

The bar shares the terminal with the verdict lines on stdout: :meth:`Progress.echo` clears
it, prints, and draws it again, so the two never garble each other.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Mapping, Sequence, TextIO

from ..verdict.model import SpecFailure, Verdict
from .text import counted

BAR_WIDTH = 24


def choose_mode(stream: TextIO, quiet: bool, environ: Mapping[str, str] = os.environ) -> str:
    """``bar``, ``lines`` or ``off``.

    A bar needs a terminal that can redraw a line (a TTY, TERM not ``dumb``) and no ``CI``
    variable (CI logs keep every carriage return). ``--quiet`` silences the plain lines; the
    bar stays, since it leaves nothing behind.
    """
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    tty = hasattr(stream, "isatty") and stream.isatty()
    if tty and not ci and environ.get("TERM", "") != "dumb":
        return "bar"
    return "off" if quiet else "lines"


class Progress:
    """Counts verdicts against a plan of (spec file, claims to check) and shows how far the run is."""

    def __init__(
        self,
        plan: Sequence[tuple[str, int]],
        mode: str,
        stream: TextIO | None = None,
        out: TextIO | None = None,
        clock=time.monotonic,
    ) -> None:
        self.mode = mode
        self.stream = stream or sys.stderr  # looked up now, not at import: tests swap them
        self.out = out or sys.stdout
        self.clock = clock
        self.started = clock()
        self.plan = [(f, n) for f, n in plan if n > 0]
        self.total = sum(n for _, n in self.plan)
        self.done = 0
        self.index = 0  # the spec being checked, in plan order
        self.left_in_spec = self.plan[0][1] if self.plan else 0
        self.shown = False
        self._announce()
        self._draw()

    @property
    def current(self) -> str:
        return self.plan[self.index][0] if self.index < len(self.plan) else ""

    # --- events -------------------------------------------------------------------------

    def verdict(self, v: Verdict) -> None:
        self._sync(v.path)
        self.done += 1
        self.left_in_spec -= 1
        if self.left_in_spec <= 0:
            self._next_spec()
        self._draw()

    def failure(self, f: SpecFailure) -> None:
        """A spec that could not be read (or stopped part-way): its remaining claims never come."""
        self._sync(f.path)
        if self.current == f.path:
            self.total -= max(self.left_in_spec, 0)
            self._next_spec()
        self._draw()

    def echo(self, text: str) -> None:
        """Print ``text`` on stdout without tearing the bar."""
        self._clear()
        print(text, file=self.out, flush=True)
        self._draw()

    def close(self) -> None:
        self._clear()

    # --- drawing ------------------------------------------------------------------------

    def _sync(self, path: str) -> None:
        """Move to ``path`` if the run is further on than the plan thinks (a plan is an estimate)."""
        if path == self.current:
            return
        for i in range(self.index + 1, len(self.plan)):
            if self.plan[i][0] == path:
                self.index, self.left_in_spec = i, self.plan[i][1]
                return

    def _next_spec(self) -> None:
        self.index += 1
        self.left_in_spec = self.plan[self.index][1] if self.index < len(self.plan) else 0
        self._announce()

    def _announce(self) -> None:
        if self.mode == "lines" and self.index < len(self.plan):
            file, n = self.plan[self.index]
            print(
                f"gradcheck: [{self.done}/{self.total} claims] checking {file} ({counted(n, 'claim')})",
                file=self.stream,
                flush=True,
            )

    def line(self, width: int) -> str:
        """The bar's text, fitted to ``width`` columns."""
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(round(fraction * BAR_WIDTH))
        elapsed = int(self.clock() - self.started)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        head = f"[{bar}] {self.done}/{self.total} claims  {elapsed // 60}:{elapsed % 60:02d}"
        spec = self.current
        room = width - len(head) - 3
        if spec and room > 8:
            spec = spec if len(spec) <= room else "..." + spec[-(room - 3) :]
            return f"{head}  {spec}"
        return head[: max(width - 1, 0)]

    def _draw(self) -> None:
        if self.mode != "bar":
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r\x1b[2K" + self.line(width))
        self.stream.flush()
        self.shown = True

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False
