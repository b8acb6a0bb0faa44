"""Stochastic estimate of rounding error (Monte Carlo arithmetic, in the style of CESTAC).

Every intermediate result of an expression is multiplied by (1 + eps*u), u uniform in
[-1, 1], and the computation is repeated a few times; the spread of the results estimates
how much rounding alone moves the value. This is what lets a correct claim pass under
saturated activations (1 - sigmoid(30) has a relative rounding error near 1e-3) or
ill-conditioned matrices, while a wrong claim — off by far more than its rounding — is
still caught.

References
----------
Parker, D. S. (1997). Monte Carlo arithmetic: exploiting randomness in floating-point
arithmetic. UCLA CSD-970002. Vignes, J. (1993). A stochastic arithmetic for reliable
scientific computation. Math. Comput. Simul. 35, 233-261.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

RUNS = 4
_EPS = float(np.finfo(np.float64).eps)


def perturber(rng: np.random.Generator, eps: float = _EPS) -> Callable[[np.ndarray], np.ndarray]:
    """Multiply every entry by 1 ± eps with a random sign.

    Signs rather than uniform draws: 1 + eps·u with |u| < 1/2 rounds to exactly 1, so a uniform
    draw leaves many entries unperturbed, and an unlucky draw can miss the one direction an
    ill-conditioned solve amplifies (seen at condition number 1e8).
    """

    def signs(shape):
        return rng.integers(0, 2, shape) * 2.0 - 1.0

    def perturb(a):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            return a * (1 + eps * signs(a.shape))
        if a.dtype.kind == "c":
            re = a.real * (1 + eps * signs(a.shape))
            im = a.imag * (1 + eps * signs(a.shape))
            return re + 1j * im
        return a

    return perturb


def spread(
    run: Callable[[Callable[[np.ndarray], np.ndarray]], np.ndarray],
    base: np.ndarray,
    seed: int,
    eps: float = _EPS,
    runs: int = RUNS,
) -> np.ndarray:
    """Max |run(perturb) - base| over a few perturbed runs, entrywise (an absolute error bar)."""
    rng = np.random.default_rng([seed, 7])
    base = np.asarray(base, dtype=np.float64)
    worst = np.zeros(base.shape)
    for _ in range(runs):
        value = np.asarray(run(perturber(rng, eps)), dtype=np.float64)
        if value.shape != base.shape:
            return np.full(base.shape, np.inf)
        worst = np.maximum(worst, np.abs(value - base))
    return np.where(np.isfinite(worst), worst, np.inf)
