"""Derive: the gradient of a loss graph in the spec's own symbols (symbolic reverse mode over
the expression IR), simplified, folded into the user's helpers and node names, and verified by
gradcheck's own oracles before it is shown.
"""

from .reverse import Adjoint, Derivation, derive_problem

__all__ = ["Adjoint", "Derivation", "derive_problem"]
