"""The rules for complex inputs (``dtype: complex128``), for the spec loader and the Python API.

A complex input is a parameter of a *real-valued* loss: the loss is a real function of the
input's real and imaginary parts, and a claimed gradient follows torch's convention
(∂L/∂Re z + i ∂L/∂Im z, see "Complex parameters" in docs/reference/spec.md). Both parts are drawn from the
input's domain, so only domains that make sense for each part on its own are allowed; the
matrix domains (symmetric, spd, ...) and the positive/unit/simplex ones would each need a
complex meaning of their own (Hermitian, unit modulus, ...) and are refused rather than guessed.
VJP and JVP claims of a spec with complex inputs are refused too: their cotangents and
tangents would need a convention of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import Location, SchemaError
from .model import Claim, Domain, InputSpec

__all__ = ["COMPLEX_DOMAINS", "COMPLEX_DTYPE", "check_domain", "claim_errors", "complex_names"]

COMPLEX_DTYPE = "complex128"
COMPLEX_DOMAINS = ("real", "range")  # each part drawn as a real input of that domain


def check_domain(domain: Domain, dtype: str, name: str, at: Location) -> None:
    """Refuse a domain that has no meaning for a complex input (``at``: where the domain is written)."""
    if dtype == COMPLEX_DTYPE and domain.kind not in COMPLEX_DOMAINS:
        raise SchemaError(
            f"domain '{domain.kind}' is not defined for the {COMPLEX_DTYPE} input '{name}'",
            at,
            hint="complex inputs draw both parts from: real (uniform on [-√3, √3]: mean 0, variance 1) or {range: [low, high]}",
        )


def complex_names(inputs: Mapping[str, InputSpec]) -> tuple[str, ...]:
    """The names of the complex inputs, in declaration order."""
    return tuple(name for name, spec in inputs.items() if spec.dtype == COMPLEX_DTYPE)


def claim_errors(inputs: Mapping[str, InputSpec], claims: Iterable[Claim]) -> list[SchemaError]:
    """One error per VJP/JVP claim of a spec with complex inputs."""
    names = complex_names(inputs)
    if not names:
        return []
    return [
        SchemaError(
            f"claim '{claim.name}': {claim.kind} claims are not supported when the spec has complex inputs "
            f"({', '.join(names)})",
            claim.location,
            hint="write a gradient claim of the real-valued loss instead",
        )
        for claim in claims
        if claim.kind != "gradient"
    ]
