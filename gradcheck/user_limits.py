"""Limits on user code: a per-claim wall-clock deadline, and tracebacks trimmed to the user's frames."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback

__all__ = ["ClaimTimeout", "deadline", "user_traceback"]


class ClaimTimeout(BaseException):
    """Raised by the per-claim alarm. A BaseException, so neither user code's ``except Exception``
    nor Hypothesis (which stops at once on non-Exception errors, without shrinking) swallows it."""


_ends: list[float] = []  # the monotonic end times of the deadlines in force, outermost first


@contextlib.contextmanager
def deadline(seconds: float):
    """Raise :class:`ClaimTimeout` in the main thread after ``seconds`` of wall time.

    Uses SIGALRM, so it interrupts Python code (a hung loop, a sleep) but not a single long
    call inside a C extension (the worker's supervisor kills those: :mod:`gradcheck.workers`);
    off the main thread (or on Windows) there is no limit. Deadlines nest: an inner one never
    outlasts the outer one, and leaving it re-arms the outer one's remaining time.
    """
    usable = (
        seconds
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise ClaimTimeout()

    now = time.monotonic()
    end = min([now + seconds, *_ends])
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(end - now, 1e-6))
    _ends.append(end)
    try:
        yield
    finally:
        _ends.pop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if _ends:  # the outer deadline goes on with the time it has left (at once if none)
            signal.setitimer(signal.ITIMER_REAL, max(_ends[-1] - time.monotonic(), 1e-6))


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_traceback(exc: BaseException, limit: int = 6) -> tuple[str, ...]:
    """The exception's traceback trimmed to the user's frames (none from gradcheck itself)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)
    ]
    lines = []
    for f in frames[-limit:]:
        lines.append(f'File "{f.filename}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"  {f.line}")
    return tuple(lines)
