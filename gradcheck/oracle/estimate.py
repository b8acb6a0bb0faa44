"""What an oracle returns: a value with an error bar, and how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..verdict.methods import Oracle

__all__ = ["Estimate", "NotComplexSafe", "Oracle"]


@dataclass(frozen=True)
class Estimate:
    """A derivative estimate.

    ``value`` and ``error`` have the same shape (``error`` is an absolute error bar);
    ``method`` is an :class:`Oracle` (``COMPLEX_STEP`` or ``FINITE_DIFFERENCE``); ``evaluations`` counts calls
    of the function; ``note`` says why a fallback happened, if one did.
    """

    value: np.ndarray
    error: np.ndarray
    method: Oracle
    evaluations: int
    note: str = ""
    at: object = None  # the function's value at x, when the method saw it (Re f(x + ihv) for complex step)
    step: object = None  # the complex step's h, per entry if it differs (it grows where h·Jv would be subnormal)


class NotComplexSafe(Exception):
    """The function cannot be evaluated at a complex point (or silently drops the imaginary part)."""


class FiniteDifferencesOnly(NotComplexSafe):
    """The function refuses a complex point by design, and its message says why in full (a
    function without a complex-step continuation; a reference that is itself a complex step): the
    oracle's note quotes it as it is, not as code that failed the complex step."""
