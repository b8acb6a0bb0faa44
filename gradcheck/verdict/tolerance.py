"""The one tolerance formula.

A claimed value c agrees with an oracle value o when

    |c - o| <= atol + rtol * max(|c|, |o|) + SAFETY * (claim_err + oracle_err)

where ``oracle_err`` is the oracle's error bar (complex step: a few ulps; finite differences:
SciPy's estimate) and ``claim_err`` is the rounding error of evaluating the claim itself
(estimated by perturbing every intermediate result by a relative eps, see
:mod:`gradcheck.oracle.rounding`). So a claim that is right up to its own rounding passes,
and with the default rtol = 1e-9 a relative error of 1e-6 (indeed 1e-8) is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAFETY = 4.0
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 0.0
FLOAT32_RTOL = 2e-5  # floor for claims computed in float32 (catches 1e-4)


@dataclass(frozen=True)
class Tolerance:
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    normwise: bool = False  # float32: an entry's rtol is relative to the largest entry compared

    def allowed(self, claimed, oracle, claim_err=0.0, oracle_err=0.0, scale=None) -> np.ndarray:
        """``scale`` defaults to max(|c|, |o|); a directional check passes its typical magnitude
        ‖C‖·‖V‖/√n as a floor, so a direction nearly orthogonal to the gradient by chance does
        not shrink the tolerance to nothing."""
        mag = np.maximum(np.abs(claimed), np.abs(oracle))
        if self.normwise and np.size(mag):
            # float32 code rounds each entry relative to the terms it sums, not to its own size:
            # a small entry that came out of cancellation carries the rounding of the large ones
            mag = np.maximum(mag, np.max(mag))
        if scale is not None:
            mag = np.maximum(mag, scale)
        return self.atol + self.rtol * mag + SAFETY * (np.abs(claim_err) + np.abs(oracle_err))

    def excess(self, claimed, oracle, claim_err=0.0, oracle_err=0.0, scale=None) -> np.ndarray:
        """|c - o| / allowed: at most 1 where they agree (0/0 counts as agreement)."""
        diff = np.abs(np.asarray(claimed, dtype=np.float64) - np.asarray(oracle, dtype=np.float64))
        allowed = self.allowed(claimed, oracle, claim_err, oracle_err, scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(diff == 0, 0.0, diff / allowed)
        return np.where(np.isnan(ratio), np.inf, ratio)

    def error(self, claimed, oracle, claim_err=0.0, oracle_err=0.0, scale=None) -> float:
        """The reported relative error (``max_rel_error``): normwise, against the tolerance's scale.

        For each compared value, |c - o| / S with S = max(|c|, |o|, scale), the magnitude the
        tolerance multiplies by rtol; ``scale`` is the normwise floor (the directional check's
        typical |<C, V>| = ‖C‖‖V‖/√n, or max(‖c‖∞, ‖o‖∞) for a whole array). A value the tolerance
        accepts counts its whole allowance as scale, S + (atol + SAFETY (claim_err + oracle_err))
        / rtol, i.e. it reports rtol x |c - o| / allowed: where the true gradient is ~0 and the
        error bars decide, the error is measured against those bars, not against the ~0. So
        ``max_rel_error <= rtol`` exactly when every value is within the tolerance, and a value
        outside it reports its plain relative error (a factor 2 reads 0.5 whatever the oracle's
        error bar). With rtol = 0 every value reports its plain relative error.
        """
        c = np.asarray(claimed, dtype=np.float64)
        o = np.asarray(oracle, dtype=np.float64)
        diff = np.abs(c - o)
        if diff.size == 0:
            return float("nan")
        mag = np.maximum(np.abs(c), np.abs(o))
        if self.normwise and mag.size:
            mag = np.maximum(mag, np.max(mag))
        if scale is not None:
            mag = np.maximum(mag, scale)
        excess = self.excess(c, o, claim_err, oracle_err, scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            plain = np.where(diff == 0, 0.0, diff / mag)
        r = np.where((excess <= 1) & (self.rtol > 0), self.rtol * excess, plain)
        return float(np.max(np.where(np.isnan(r), np.inf, r)))

    def within(self, claimed, oracle, claim_err=0.0, oracle_err=0.0, scale=None) -> np.ndarray:
        return self.excess(claimed, oracle, claim_err, oracle_err, scale) <= 1.0

    def for_float32(self) -> "Tolerance":
        return Tolerance(rtol=max(self.rtol, FLOAT32_RTOL), atol=self.atol, normwise=True)


def relative_error(claimed, oracle) -> float:
    """max |c - o| / max(|o|_inf, |c|_inf): normwise, so zero entries do not blow it up."""
    claimed = np.asarray(claimed, dtype=np.float64)
    oracle = np.asarray(oracle, dtype=np.float64)
    if claimed.shape != oracle.shape or claimed.size == 0:
        return float("nan")
    scale = max(float(np.max(np.abs(oracle))), float(np.max(np.abs(claimed))))
    diff = float(np.max(np.abs(claimed - oracle)))
    if diff == 0:
        return 0.0
    return diff / scale if scale > 0 else float("inf")


HOEFFDING = 13.0  # |<δ, V>| ≤ 13 ‖δ‖₂ except with probability 2·exp(-13²/6) ≈ 1.2e-12


def projected_error(err: np.ndarray, v: np.ndarray) -> float:
    """A bound on |<δ, V>| for rounding errors |δ| ≤ ``err`` entrywise, V a random direction.

    The worst case <err, |V>| assumes every error lines up with V's signs; it grows like ‖err‖₁
    ~ sqrt(n)·‖err‖₂ and, at n = 1e6, hides a float32 claim's 1e-3 error behind its rounding.
    V (independent entries in [-√3, √3]) is drawn independently of the claim, so by Hoeffding's
    inequality |<δ, V>| ≤ HOEFFDING·‖δ‖₂ except with probability about 1e-12; the smaller bound
    is used. Only for directions with independent random entries: structured ones (group
    testing's subsets and row/column patterns) take the worst case.
    """
    err = np.abs(np.asarray(err, dtype=np.float64))
    worst = float(np.vdot(err, np.abs(v)))
    return min(
        worst, HOEFFDING * float(np.linalg.norm(err)) * max(1.0, float(np.max(np.abs(v), initial=0.0)) / 3.0**0.5)
    )
