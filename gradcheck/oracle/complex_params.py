"""Complex parameters as the real pair the oracles differentiate.

A real-valued loss L of a complex input z is a real function of (Re z, Im z). gradcheck takes
a claimed gradient g in torch's convention, g = ∂L/∂Re z + i ∂L/∂Im z (= 2 ∂L/∂conj(z)), so that
dL = Re Σ conj(g) dz: along a complex direction V the derivative is Re vdot(g, V). Stacking
the parts, z becomes the real array x = (Re z, Im z) of shape (2, *z.shape) and g the real
array (Re g, Im g); the claim is then an ordinary real gradient of f(x) = L(x[0] + i x[1]),
checked by the ordinary directional test and diagnosed on the real pair.

The oracle is finite differences (SciPy's, with their error bars): the complex step would
need an imaginary unit of its own, and complex inputs already use it. The same holds for a
real parameter of a spec that has complex inputs anywhere, so every claim of such a spec
uses finite differences, and the loss's value must be real (a loss with an imaginary part
is refused: it has no gradient in this sense).

References
----------
Kreutz-Delgado, K. (2009). The complex gradient operator and the CR-calculus. arXiv:0906.4835.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..internal import refusal
from ..spec.complex_inputs import complex_names
from ..verdict.methods import Oracle
from .choice import OracleChoice

__all__ = ["ComplexView", "error_bar_notes", "view_for"]

#: a loss whose imaginary part exceeds this share of its size is not real-valued (rounding stays far below)
IMAGINARY_RTOL = 1e-10


def fd_note(names: tuple[str, ...]) -> str:
    return (
        f"complex inputs ({', '.join(names)}): finite differences on the real and imaginary parts "
        f"(the complex step needs the imaginary unit that complex inputs already use)"
    )


def real_loss(value) -> np.ndarray:
    """The loss's value as a real number; a loss that is not real-valued raises ValueError."""
    value = np.asarray(value)
    if not np.iscomplexobj(value):
        return value
    re, im = np.real(value), np.imag(value)
    if np.any(np.abs(im) > IMAGINARY_RTOL * np.maximum(np.abs(re), 1.0)):
        raise refusal(
            ValueError(
                f"the loss is not real-valued at complex inputs (imaginary part {float(np.max(np.abs(im))):.3g}): "
                f"a gradient of a complex parameter is defined for a real loss, e.g. sum(abs(r) ** 2)"
            )
        )
    return re


@dataclass(frozen=True)
class ComplexView:
    """How one (claim, wrt) of a spec with complex inputs is seen by the oracles.

    ``complex_wrt``: the parameter itself is complex, and is seen as its real pair; otherwise
    only the loss is checked to be real. ``shape`` is the parameter's own shape.
    """

    wrt: str
    complex_wrt: bool
    shape: tuple[int, ...]
    names: tuple[str, ...]  # the spec's complex inputs, for the oracle's note

    def point(self, value) -> np.ndarray:
        """The point the oracles differentiate at: (Re z, Im z) stacked, or the real parameter."""
        if self.complex_wrt:
            z = np.asarray(value)
            return np.stack([z.real, z.imag]).astype(np.float64)
        return np.asarray(value, dtype=np.float64)

    def function(self, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
        """f of the real pair (or of the real parameter), with the loss's value checked to be real."""
        if self.complex_wrt:
            return lambda x: real_loss(f(x[0] + 1j * x[1]))
        return lambda x: real_loss(f(x))

    def restrict(self, oracle: OracleChoice) -> None:
        """Finite differences from the start: the complex step cannot run on complex data."""
        if oracle.unsafe_note is None:
            oracle.unsafe_note = fd_note(self.names)
        oracle.guard = False

    def claimed(self, c: np.ndarray) -> np.ndarray:
        """The claim as the real pair (Re g, Im g) (a real claim has a zero imaginary part)."""
        if not self.complex_wrt:
            return c
        return np.stack([np.real(c), np.imag(c)]).astype(np.float64)


def view_for(problem, wrt: str, value) -> ComplexView | None:
    """The view of ``wrt`` when the spec has complex inputs; None for a spec of real inputs only."""
    names = complex_names(problem.spec.inputs)
    if not names:
        return None
    complex_wrt = np.iscomplexobj(value)
    return ComplexView(wrt, complex_wrt, tuple(np.shape(value)), names)


def error_bar_notes(problem, findings) -> tuple[str, ...]:
    """The finite-difference error bars a passing claim of a spec with complex inputs was judged with."""
    if not complex_names(problem.spec.inputs):
        return ()
    bars = [f.oracle_error for f in findings if f.oracle == Oracle.FINITE_DIFFERENCE]
    if not bars:
        return ()
    return (
        f"the finite-difference error bars reach {max(bars):.2g} (absolute, on a directional derivative); "
        f"the tolerance adds them",
    )
