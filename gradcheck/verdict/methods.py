"""The oracles' names: the ``oracle`` column's values (the report contract, unchanged).

It lives in ``verdict/`` beside :class:`~gradcheck.verdict.model.Label` because verdicts carry it
across the worker boundary, whose unpickler admits ``gradcheck.verdict`` values only;
:mod:`gradcheck.oracle.estimate` re-exports it.
"""

from __future__ import annotations

from enum import StrEnum


class Oracle(StrEnum):
    """How a derivative estimate was obtained."""

    COMPLEX_STEP = "complex-step"
    FINITE_DIFFERENCE = "finite-difference"
    BOTH = "complex-step+finite-difference"  # the complex step, cross-checked by finite differences
    DUAL = "dual-number"  # forward mode over gradcheck's own expression walker (gradcheck.oracle.dual)
