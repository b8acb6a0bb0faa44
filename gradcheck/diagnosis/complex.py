"""Diagnosis of a complex parameter's claim: the conjugate, and the Wirtinger derivatives.

The claim and the truth arrive as real pairs (Re, Im) stacked on a first axis
(:mod:`gradcheck.oracle.complex_params`); the truth g is torch's convention,
∂L/∂Re z + i ∂L/∂Im z = 2 ∂L/∂conj(z). For a real loss, ∂L/∂z = conj(∂L/∂conj(z)), so the usual
mistakes are constant maps of g:

=============  ====================================  ==========================
claim          what it is                            verdict
=============  ====================================  ==========================
conj(g)        2 ∂L/∂z, what jax's grad returns      ``conjugated``
g / 2          ∂L/∂conj(z) without the factor 2      ``scaled`` (factor 0.5)
conj(g) / 2    ∂L/∂z, the Wirtinger derivative       ``conjugated`` (factor 0.5)
=============  ====================================  ==========================

Anything else is diagnosed on the real pair by :func:`gradcheck.diagnosis.compare.diagnose`,
with a line saying which half of the index is the real part.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..verdict.model import Finding, Label
from ..verdict.tolerance import EPS64, Tolerance, relative_error
from .compare import Names, diagnose, worst_entries

__all__ = ["diagnose_complex"]

WIRTINGER_HALF = "the Wirtinger derivative ∂L/∂conj({z}) without its factor 2"
CONVENTION = (
    "gradcheck takes the gradient of a real loss as torch returns it, ∂L/∂Re {z} + i ∂L/∂Im {z} "
    "(= 2 ∂L/∂conj({z})); jax's grad returns its conjugate (gradcheck.adapters.jax converts it): conj() the claim"
)
WIRTINGER = (
    "the gradient of a real loss is 2 conj(∂L/∂{z}) = ∂L/∂Re {z} + i ∂L/∂Im {z}: conjugate the claim and double it"
)


def _close(c, g, tol: Tolerance, ec, eg) -> bool:
    floor = 8 * EPS64 * np.sqrt(max(g.size, 1)) * float(np.max(np.abs(g), initial=0.0))
    return bool(np.all(np.abs(c - g) <= tol.allowed(c, g, ec, eg) + floor))


def _conj(pair: np.ndarray) -> np.ndarray:
    return np.stack([pair[0], -pair[1]])


def diagnose_complex(c, g, tol: Tolerance, names: Names, claim_err=0.0, oracle_err=0.0) -> Finding:
    """Classify a complex parameter's claim ``c`` against the true gradient ``g`` (real pairs)."""
    c = np.asarray(c, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    z = names.target
    rel = relative_error(c, g)
    if np.any(g[1]) and not _close(c, g, tol, claim_err, oracle_err):
        # with Im g == 0 the conjugate is the gradient itself: nothing to tell apart
        for factor in (1.0, 0.5):
            truth = factor * _conj(g)
            if _close(c, truth, tol, claim_err, factor * np.asarray(oracle_err)):
                half = " / 2" if factor != 1 else ""
                summary = f"conjugated: the claim is conj({names.truth}){half} on every entry"
                line = CONVENTION if factor == 1 else WIRTINGER
                if factor != 1:
                    summary += f": the Wirtinger derivative ∂L/∂{z}"
                return Finding(
                    Label.CONJUGATED.value,  # the plain string, as every Finding's label (xdist sends it as is)
                    summary,
                    lines=(line.format(z=z),),
                    max_rel_error=rel,
                    factor=None if factor == 1 else factor,
                    entries=worst_entries(c, g),
                    claimed_shape=tuple(c.shape[1:]),
                )
    part_names = Names(
        target=names.target,
        noun=names.noun,
        axes=("part",) + tuple(names.axes),
        shape_sym=names.shape_sym,
        sizes=names.sizes,
        truth=names.truth,
    )
    finding = replace(diagnose(c, g, tol, part_names, claim_err, oracle_err), claimed_shape=tuple(c.shape[1:]))
    if finding.label == Label.SCALED and finding.factor == 0.5:
        finding = replace(finding, summary=f"{finding.summary}: {WIRTINGER_HALF.format(z=z)}")
    if finding.entries:  # the table of worst entries indexes the real pair
        where = f"index [0, ...] is the real part of {z}, [1, ...] its imaginary part"
        finding = replace(finding, lines=tuple(finding.lines) + (where,))
    return finding
