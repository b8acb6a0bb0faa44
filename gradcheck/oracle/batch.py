"""A function the oracles differentiate, with its batched form when it has one.

Expression losses evaluate k points in one vectorised numpy call
(:func:`gradcheck.expr.evaluate.evaluate_batched`); user Python callables have no batched form
and are looped. ``chunk`` caps the points per call so that a batch's temporaries stay within
the memory budget: at n = 1e6 a batch of k directions never allocates k complex copies of
every intermediate at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Batchable", "MEMORY_BUDGET_MIB", "chunk_for"]

MEMORY_BUDGET_MIB = 512
TEMPORARIES = 8  # live complex temporaries per point, each as large as the largest input or node


@dataclass(frozen=True)
class Batchable:
    """``one(z)`` evaluates f at one point; ``many(Z)`` at each ``Z[i]`` in one call (or None);
    ``forward(x, V)`` gives f(x) and its derivative along each ``V[i]`` by dual numbers (or None)."""

    one: Callable[[np.ndarray], np.ndarray]
    many: Callable[[np.ndarray], np.ndarray] | None = None
    chunk: int = 1
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.one(z)


CACHE_BYTES = 2 * 2**20  # a batch's largest array should stay cache-sized ...
MAX_CHUNK = 64  # ... and a batch this long already amortises the walker's Python overhead


def chunk_for(largest: int, budget_mib: float = MEMORY_BUDGET_MIB, itemsize: int = 16) -> int:
    """Points per batched call: at most what the memory budget allows, and no more than keeps
    the batch's arrays cache-sized.

    ``largest`` is the element count of the largest array of one evaluation (an input or a
    graph node); each point is charged :data:`TEMPORARIES` complex arrays of that size against
    the budget (the hard limit). Beyond a cache-sized batch, numpy's broadcast matmul runs the
    same small products from main memory: measured here, a full gradient at n = 4096 took
    216 ms in chunks of 32, 483 ms in chunks of 512 and 374 ms one entry at a time.
    """
    size = itemsize * max(int(largest), 1)
    by_budget = int(budget_mib * 2**20) // (TEMPORARIES * size)
    by_cache = CACHE_BYTES // size
    return max(1, min(by_budget, by_cache, MAX_CHUNK))


def batches(k: int, chunk: int):
    """``(start, stop)`` ranges covering ``range(k)`` in steps of ``chunk``."""
    for start in range(0, k, max(chunk, 1)):
        yield start, min(k, start + max(chunk, 1))
