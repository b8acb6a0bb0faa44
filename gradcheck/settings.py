"""The settings of one check: how many examples, which tolerance, which seed; and the detection
bound that picks the number of directions per example."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .oracle.batch import MEMORY_BUDGET_MIB

__all__ = ["CheckSettings", "DETECT_RELATIVE", "MISS_PROBABILITY", "auto_directions"]


@dataclass(frozen=True)
class CheckSettings:
    examples: int = 25
    rtol: float = 1e-9
    atol: float = 0.0
    directions: int | None = None  # None: from the detection bound (auto_directions)
    seed: int = 0
    database: bool = False
    timeout: float = 60.0  # wall-clock seconds per (claim, wrt); 0 = none
    memory_mib: float = MEMORY_BUDGET_MIB  # batched evaluation stays within this many MiB
    repair: bool = True  # a failing expression claim gets the repair search (gradcheck.repair)
    shrink: bool = True  # False: a plain loop over seeded examples, nothing shrunk (confirming a repair)
    given: tuple = ()  # GivenSamples (known points, the API's at=): examined instead of drawn ones, as @example


DETECT_RELATIVE = 1e-6  # the relative error (‖C - G‖ / ‖G‖) every run promises to catch ...
MISS_PROBABILITY = 1e-9  # ... except with at most this probability


def auto_directions(examples: int, rtol: float) -> int:
    """Directions per example from the detection bound.

    For V with independent entries uniform on [-√3, √3], the density of <E, V> is at most
    ‖E‖⁻¹/sqrt(6) everywhere (Ball's cube slicing; a normal V gives ‖E‖⁻¹/sqrt(2π)), and the
    tolerance is about rtol·‖G‖, so one direction misses an error E with probability
    p ≤ sqrt(2/3)·rtol·‖G‖/‖E‖. Over k directions in each of ``examples`` examples the error
    survives with p^(k·examples): k is the least integer with p^(k·examples) ≤ MISS_PROBABILITY
    for ‖E‖/‖G‖ = DETECT_RELATIVE.
    """
    p = min(0.5, np.sqrt(2 / 3) * max(rtol, 1e-16) / DETECT_RELATIVE)
    need = np.log(MISS_PROBABILITY) / np.log(p)
    return max(1, int(np.ceil(need / max(examples, 1))))
