"""Failures of gradcheck's own machinery, told apart from failures of the code it checks.

The check calls the user's code (a loss, a claim, a graph node) and the user's graph (evaluated
by gradcheck) at points it draws; either may refuse a point by raising, and the handlers around
those calls turn a refusal into a value (a rejected draw, an ``error`` verdict, an oracle that
falls back to finite differences). A bug of gradcheck must not pass for such a refusal: it
would become a silently weaker check. So every handler at that boundary asks :func:`ours`
first and re-raises what is gradcheck's own; :func:`check_plan <gradcheck.check.check_plan>`
turns it into an ``error`` verdict that says so (:func:`internal_error`), traceback tail included.

Whose an exception is, is read from its traceback: it is the user's when one of its frames is
the user's own code (outside gradcheck, the standard library and the numerical libraries
gradcheck calls), or when it was raised where the user's graph or values are refused on purpose:
inside numpy or SciPy (a singular ``solve``), in gradcheck's kernels (``onehot`` of a label out of
range) or where a Python claim's return is read (a dict without the wrt's entry). Otherwise it is
gradcheck's: raised in gradcheck's own frames, or in the standard library called from them.
A :class:`~gradcheck.errors.GradcheckError` is raised on purpose, located: never an internal
error; each handler decides what it means there.
"""

from __future__ import annotations

import os
import sysconfig
import traceback

from .errors import GradcheckError

__all__ = ["InternalFailure", "internal_error", "ours", "refusal"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB = tuple(
    os.path.abspath(p) + os.sep for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)
_NUMERIC = ("numpy", "scipy")  # the libraries both the user's code and gradcheck's evaluator call
_LIBRARIES = _NUMERIC + ("hypothesis", "_pytest", "pluggy")  # gradcheck's own machinery only
TRACEBACK_TAIL = 3  # frames of an internal error's traceback shown in its verdict


def _top_package(filename: str) -> str:
    """The top-level package a site-packages file belongs to ('' for a file elsewhere)."""
    parts = filename.split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            return rest[0] if rest else ""
    return ""


def _is_library(filename: str, packages: tuple[str, ...]) -> bool:
    return _top_package(filename) in packages


def _is_users(filename: str) -> bool:
    """A frame of the user's own code: not gradcheck's, not the standard library's, not a library gradcheck calls."""
    if filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen "):
        return False
    if _is_library(filename, _LIBRARIES):
        return False
    return not (filename.startswith(_STDLIB) and not _top_package(filename))


# where gradcheck refuses the user's graph or values on purpose: (file inside gradcheck, function or "")
REFUSALS = ((os.path.join("expr", "kernels.py"), ""), (os.path.join("problem", "bound.py"), "_pick"))

_REFUSAL = "__gradcheck_refusal__"


def refusal(exc: Exception) -> Exception:
    """``exc`` marked as gradcheck refusing the user's values on purpose (a claim's array of the
    wrong shape, a loss that is not real-valued): raise ``refusal(ValueError(...))`` where the
    value is read, and :func:`ours` takes it for the user's, whatever frame raised it."""
    setattr(exc, _REFUSAL, True)
    return exc


def _frames(exc: BaseException) -> list[tuple[str, str]]:
    """(absolute file name, function name) of each frame of the traceback, outermost first
    (read from the frames themselves: no source lines are loaded)."""
    return [
        (os.path.abspath(frame.f_code.co_filename), frame.f_code.co_name)
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    ]


def _refused(filename: str, function: str) -> bool:
    if _is_library(filename, _NUMERIC):
        return True
    inside = filename[len(_PACKAGE_DIR) :] if filename.startswith(_PACKAGE_DIR) else None
    return any(inside == file and name in ("", function) for file, name in REFUSALS)


def ours(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of gradcheck's own machinery, not a refusal by the user's
    code or by the numerics of the user's graph (nor a GradcheckError, raised on purpose)."""
    if isinstance(exc, InternalFailure):
        return True
    if isinstance(exc, GradcheckError) or getattr(exc, _REFUSAL, False):
        return False
    frames = _frames(exc)
    if any(_is_users(filename) for filename, _ in frames):
        return False
    return not (frames and _refused(*frames[-1]))


class InternalFailure(BaseException):
    """A bug of gradcheck's machinery, on its way out of Hypothesis's loop (a BaseException, so
    Hypothesis stops at once instead of shrinking it) to :func:`gradcheck.check.check_plan`,
    which makes it an ``error`` verdict. ``error`` is the original exception."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


def internal_error(exc: BaseException) -> tuple[str, tuple[str, ...]]:
    """The ``error`` verdict's diagnosis and lines for a failure of gradcheck's own machinery."""
    frames = traceback.extract_tb(exc.__traceback__)[-TRACEBACK_TAIL:]
    where = "; ".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in frames)
    text = f"{type(exc).__name__}: {exc}" + (f" at {where}" if where else "")
    lines = tuple(f'File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames)
    return f"internal error in gradcheck (please report it: {text})", lines
