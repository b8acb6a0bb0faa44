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

from .complex_step import STEP

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


def complex_step_rounding(
    many: Callable[[np.ndarray, Callable[[np.ndarray], np.ndarray]], np.ndarray],
    x: np.ndarray,
    v: np.ndarray,
    value: float,
    seed: int,
    chunk: int = RUNS,
    step=None,
) -> float:
    """The complex step's rounding along v: max |Im many(z, p) / h - value| over RUNS perturbed
    evaluations at z = x + ihv, in batches of ``chunk`` (the memory budget's), each batch item
    drawing its own perturbation signs, with the estimate's own step ``step`` (larger than
    STEP where h·Jv would be subnormal). ``many(zs, perturb)`` evaluates the function at each
    row of ``zs`` with every intermediate perturbed by ``perturb``. Infinite when it is not finite.
    """
    h = step or STEP
    z = x.astype(np.complex128) + 1j * h * v

    def run(p, count):
        zs = np.broadcast_to(z, (count,) + z.shape)
        return np.asarray(many(zs, p)).imag / h

    p = perturber(np.random.default_rng([seed + 1, 7]), _EPS)
    size = max(1, min(chunk, RUNS))
    runs = np.concatenate([run(p, min(size, RUNS - start)) for start in range(0, RUNS, size)])
    worst = float(np.max(np.abs(runs - float(value))))
    return worst if np.isfinite(worst) else float("inf")
