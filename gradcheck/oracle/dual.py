"""Dual numbers as a directional oracle: exact derivatives of expressions in real arithmetic.

For an expression (the loss or a node of the spec) gradcheck owns the evaluator, so it carries
each direction's tangent through every operation (:mod:`gradcheck.expr.forward`): no step, no
complex arithmetic, the k directions of an example in one walk. The result is exact up to the
rounding of the operations themselves, like the complex step's; its error bar is the same few
ulps of the value (the stochastic rounding estimate refines both on a failing example).

The complex step remains the oracle for user Python code, and the second opinion whenever a
claim disagrees with this one: a failing example is judged by the complex step again
(:mod:`gradcheck.examine`), so a verdict other than ``pass`` never rests on this module alone.
"""

from __future__ import annotations

import numpy as np

from ..expr.forward import NotForwardable
from .batch import batches
from .estimate import Estimate, Oracle

__all__ = ["METHOD", "NotForwardable", "directions"]

METHOD = Oracle.DUAL
_EPS = np.finfo(np.float64).eps


def directions(f, x: np.ndarray, dirs) -> list[Estimate]:
    """f's derivative along each direction by dual numbers, ``f.chunk`` directions per walk.

    Raises :class:`NotForwardable` (from the walker) when the expression has a function
    without a tangent rule: the caller uses the complex step instead.
    """
    dirs = [np.asarray(v, dtype=np.float64) for v in dirs]
    out: list[Estimate] = []
    for start, stop in batches(len(dirs), f.chunk):
        block = dirs[start][None] if stop - start == 1 else np.stack(dirs[start:stop])  # one direction: a view
        value, tangents = f.forward(np.asarray(x, dtype=np.float64), block)
        for row in tangents:
            out.append(Estimate(value=row, error=4 * _EPS * np.abs(row), method=METHOD, evaluations=1, at=value))
    return out
