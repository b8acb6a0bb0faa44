"""What an oracle returns: a value with an error bar, and how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FiniteDifferencesOnly, NotComplexSafe
from ..verdict.methods import Oracle

__all__ = ["Estimate", "FiniteDifferencesOnly", "NotComplexSafe", "Oracle"]  # the two signals live in errors.py


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
