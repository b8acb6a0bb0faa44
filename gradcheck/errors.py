"""Errors raised by gradcheck.

::

    GradcheckError
      SpecError(ValueError)       the spec is wrong; always has .location (file, line, col)
        SchemaError               unknown key, wrong type, duplicate name, YAML tag/anchor
        ExpressionError           does not parse, or uses a name outside the whitelist
        ShapeError                symbolic shapes do not agree (graph, loss), or a budget is exceeded
          BudgetError             an array over the element budget (a spec error, even inside a claim)
        SpecErrors                several independent errors of one file; .errors holds each
      SamplingError               a domain rejected too many draws
      OracleError                 the numerical reference itself failed

    NotComplexSafe                a signal, not an error: this code cannot take a complex point
      FiniteDifferencesOnly       ... by design, and the message says why (the note quotes it)

A spec file's independent errors (different claims, different graph nodes) are reported
together as one :class:`SpecErrors`; it is a SpecError whose location and message are its
first error's, so code that handles one error handles a group.

:class:`NotComplexSafe` is raised by the stages that evaluate code (the expression evaluator,
second-order references, the complex-step oracle) and caught by the oracle, which falls back to
finite differences; it lives here so that an earlier stage can raise it without naming a later one.

A wrong *claim* is never an exception: it is a Verdict. Exceptions are for specs that
cannot be read and for failures of gradcheck's own machinery.

Expression-level errors are raised by :mod:`gradcheck.expr` with a character span inside
the expression text and no file location; the spec layer attaches one with
:meth:`SpecError.located`, which shifts the column by the span's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

__all__ = [
    "Location",
    "GradcheckError",
    "SpecError",
    "SchemaError",
    "ExpressionError",
    "ShapeError",
    "SpecErrors",
    "SamplingError",
    "OracleError",
    "NotComplexSafe",
    "FiniteDifferencesOnly",
]


@dataclass(frozen=True)
class Location:
    """A place in a spec file; ``line`` and ``col`` are 1-based (editor convention)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, columns: int) -> "Location":
        return replace(self, col=self.col + columns)


class GradcheckError(Exception):
    """Base of every error gradcheck raises on purpose."""


class SpecError(GradcheckError, ValueError):
    """The spec is wrong.

    Parameters
    ----------
    message : str
        What is wrong, in the user's symbols.
    location : Location, optional
        Where; every SpecError that reaches a user has one.
    claim : str, optional
        The claim the error belongs to, if any.
    hint : str, optional
        What to do about it ("did you mean ...", "use bare function names ...").
    source : str, optional
        The expression text (or source line) to show under the message.
    span : (int, int), optional
        Character span inside ``source`` to underline with carets.
    """

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        *,
        claim: str | None = None,
        hint: str | None = None,
        source: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.claim = claim
        self.hint = hint
        self.source = source
        self.span = span
        super().__init__(str(self))

    def __reduce__(self):
        # pickled with its fields, not its text: a copy keeps its location (xdist, worker processes)
        fields = (self.message, self.location, self.claim, self.hint, self.source, self.span)
        return _rebuild_error, (type(self), *fields)

    def located(self, expression_start: Location, *, claim: str | None = None) -> "SpecError":
        """Return a copy placed in a file; the column moves to the span's start."""
        offset = self.span[0] if self.span else 0
        return type(self)(
            self.message,
            expression_start.shifted(offset),
            claim=claim if claim is not None else self.claim,
            hint=self.hint,
            source=self.source,
            span=self.span,
        )

    def __str__(self) -> str:
        head = f"{self.location}: " if self.location else ""
        if self.claim:
            head += f"claim '{self.claim}': "
        lines = [head + self.message]
        if self.source is not None and "\n" not in self.source and len(self.source) <= 200:
            lines.append("  " + self.source)
            if self.span:
                start, end = self.span
                lines.append("  " + " " * start + "^" * max(1, end - start))
        if self.hint:
            lines.append("  " + self.hint)
        return "\n".join(lines)


class SchemaError(SpecError):
    """Unknown key, wrong type, duplicate name, forbidden YAML feature."""


class ExpressionError(SpecError):
    """An expression does not parse, or steps outside the whitelist."""


class ShapeError(SpecError):
    """Symbolic shapes do not agree, or an array would exceed the element budget."""


class BudgetError(ShapeError):
    """An array would exceed the element budget (``max_elements``): a spec error even where a
    shape mismatch would only be a claim's verdict."""


class SpecErrors(SpecError):
    """Several located errors of one spec file, in file order.

    Parameters
    ----------
    errors : sequence of SpecError
        At least one; each keeps its own location, claim, hint and caret.
    truncated : bool
        More errors were found than are carried: reading stopped at the cap.

    Notes
    -----
    ``location``, ``message``, ``claim``, ``hint``, ``source`` and ``span`` are the first
    error's; ``str()`` shows every error, each with its location.
    """

    def __init__(self, errors: Sequence[SpecError], *, truncated: bool = False) -> None:
        if not errors:
            raise ValueError("SpecErrors needs at least one error")
        self.errors = tuple(errors)
        self.truncated = truncated
        first = self.errors[0]
        super().__init__(
            first.message, first.location, claim=first.claim, hint=first.hint, source=first.source, span=first.span
        )

    def located(self, expression_start: Location, *, claim: str | None = None) -> "SpecErrors":
        return self  # every error is placed already

    def __reduce__(self):
        return _rebuild_errors, (self.errors, self.truncated)

    def __str__(self) -> str:
        lines = [str(error) for error in self.errors]
        if self.truncated:
            file = self.errors[0].location.file if self.errors[0].location else "the spec"
            lines.append(
                f"{file}: gradcheck stops after {len(self.errors)} errors in one file; fix these and run it again"
            )
        return "\n".join(lines)


def _rebuild_error(cls, message, location, claim, hint, source, span) -> SpecError:
    return cls(message, location, claim=claim, hint=hint, source=source, span=span)


def _rebuild_errors(errors: tuple[SpecError, ...], truncated: bool) -> SpecErrors:
    return SpecErrors(errors, truncated=truncated)


class SamplingError(GradcheckError):
    """A domain could not produce a valid draw."""


class OracleError(GradcheckError):
    """The numerical reference itself failed (loss not finite, no convergence)."""


class NotComplexSafe(Exception):
    """The function cannot be evaluated at a complex point (or silently drops the imaginary part)."""


class FiniteDifferencesOnly(NotComplexSafe):
    """The function refuses a complex point by design, and its message says why in full (a
    function without a complex-step continuation; a reference that is itself a complex step): the
    oracle's note quotes it as it is, not as code that failed the complex step."""
