"""Samples: dimension sizes drawn by Hypothesis, array values from a seeded numpy generator.

This is the only module that imports Hypothesis. Hypothesis draws what should shrink (the
sizes, and an integer seed); numpy fills the arrays from that seed, per domain. Hypothesis's
own array filler repeats one background value and shrinks toward all-zero arrays, which
hides exactly the bugs gradcheck looks for (a transpose of a constant matrix is itself).

Sizes of distinct dim symbols are drawn pairwise distinct where the ranges allow, so that a
transposed claim cannot pass by coincidence (in == out would hide it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from hypothesis import strategies as st

from ..errors import SamplingError
from ..spec.model import DimSpec, Domain, InputSpec

__all__ = ["Sample", "sample_strategy", "pick_sizes", "draw_sizes", "example_sizes", "draw_inputs", "draw_direction"]


@dataclass(frozen=True)
class Sample:
    """What one example is made of: the bound sizes and the seed of every array in it."""

    sizes: dict[str, int]
    seed: int

    def dims_text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.sizes.items())


def pick_sizes(
    pick: Callable[[list[int]], int], dims: Mapping[str, DimSpec], reserved: frozenset[int] = frozenset()
) -> dict[str, int]:
    """Every dim: fixed ones first, ranged ones pairwise distinct where the ranges allow.

    ``pick(options)`` chooses one size from a list: a Hypothesis draw (which shrinks toward the
    first, smallest option) or a seeded generator's choice.
    """
    sizes: dict[str, int] = {}
    used = set(reserved)
    for name, d in dims.items():
        if d.lo == d.hi:
            sizes[name] = d.lo
            used.add(d.lo)
    for name, d in dims.items():
        if d.lo == d.hi:
            continue
        free = [v for v in range(d.lo, d.hi + 1) if v not in used] or list(range(d.lo, d.hi + 1))
        sizes[name] = pick(free)
        used.add(sizes[name])
    return {name: sizes[name] for name in dims}


def draw_sizes(draw, dims: Mapping[str, DimSpec], reserved: frozenset[int] = frozenset()) -> dict[str, int]:
    """:func:`pick_sizes` with Hypothesis choosing, so failures shrink to the smallest sizes."""
    return pick_sizes(lambda options: draw(st.sampled_from(options)), dims, reserved)


def example_sizes(dims: Mapping[str, DimSpec], reserved: frozenset[int], seed: int) -> dict[str, int]:
    """:func:`pick_sizes` from a seeded generator: sizes to show where no example is drawn."""
    rng = np.random.default_rng([seed, 3])
    return pick_sizes(lambda options: int(rng.choice(options)), dims, reserved)


def sample_strategy(dims: Mapping[str, DimSpec], reserved: frozenset[int] = frozenset()) -> st.SearchStrategy[Sample]:
    """A Hypothesis strategy of :class:`Sample`; it shrinks toward the smallest sizes."""

    @st.composite
    def samples(draw):
        sizes = draw_sizes(draw, dims, reserved)
        seed = draw(st.integers(0, 2**32 - 1))
        return Sample(sizes, seed)

    return samples()


def _resolve_bound(value, sizes: Mapping[str, int]):
    if isinstance(value, str):
        return sizes[value]
    return value


def _square_batches(rng: np.random.Generator, shape: tuple[int, ...], make) -> np.ndarray:
    n = shape[-1]
    batch = shape[:-2]
    count = int(np.prod(batch)) if batch else 1
    mats = np.stack([make(rng, n) for _ in range(count)]) if count else np.zeros((0, n, n))
    return mats.reshape(shape)


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _spectrum(rng: np.random.Generator, n: int, cond: float | None) -> np.ndarray:
    """Eigen/singular values: uniform in [0.5, 2], or log-spaced from 1 down to 1/cond."""
    if cond is None:
        return rng.uniform(0.5, 2.0, n)
    return rng.permutation(np.logspace(0.0, -np.log10(cond), n)) if n > 1 else np.ones(1)


def _spd(rng: np.random.Generator, n: int, cond: float | None = None) -> np.ndarray:
    q = _orthogonal(rng, n)
    lam = _spectrum(rng, n, cond)
    a = (q * lam) @ q.T
    return (a + a.T) / 2


def _invertible(rng: np.random.Generator, n: int, cond: float | None = None) -> np.ndarray:
    s = _spectrum(rng, n, cond) * rng.choice([-1.0, 1.0], n)
    return (_orthogonal(rng, n) * s) @ _orthogonal(rng, n)


def _symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


def draw_array(
    rng: np.random.Generator, shape: tuple[int, ...], domain: Domain, sizes: Mapping[str, int]
) -> np.ndarray:
    """One array of the given concrete shape inside ``domain``.

    Values stay away from domain boundaries (a margin of 5 %) so that the finite-difference
    oracle's steps stay where the function is defined.
    """
    kind = domain.kind
    if kind == "real":
        return rng.standard_normal(shape)
    if kind == "positive":
        return np.exp(0.5 * rng.standard_normal(shape))
    if kind == "unit":
        return rng.uniform(0.05, 0.95, shape)
    if kind == "range":
        lo, hi = float(domain.low), float(domain.high)
        return lo + (hi - lo) * rng.uniform(0.05, 0.95, shape)
    if kind == "integers":
        lo = int(_resolve_bound(domain.low, sizes))
        hi = int(_resolve_bound(domain.high, sizes))
        if hi <= lo:
            raise SamplingError(f"integers domain [{lo}, {hi}) is empty")
        return rng.integers(lo, hi, shape, dtype=np.int64)
    if kind == "simplex":
        e = -np.log(rng.uniform(0.05, 1.0, shape))
        return e / e.sum(axis=-1, keepdims=True)
    makers = {"symmetric": _symmetric, "spd": _spd, "invertible": _invertible, "orthogonal": _orthogonal}
    if kind in makers:
        make = makers[kind]
        if domain.cond is not None:
            return _square_batches(rng, shape, lambda r, n: make(r, n, domain.cond))
        return _square_batches(rng, shape, make)
    raise SamplingError(f"unknown domain {kind!r}")


def draw_inputs(
    inputs: Mapping[str, InputSpec], shapes: Mapping[str, tuple[int, ...]], sample: Sample
) -> dict[str, np.ndarray]:
    """Every input's array for ``sample``; deterministic in (sample.seed, input order)."""
    rng = np.random.default_rng([sample.seed, 0])
    out: dict[str, np.ndarray] = {}
    for name, spec in inputs.items():
        value = draw_array(rng, shapes[name], spec.domain, sample.sizes)
        if spec.dtype == "float32" and value.dtype.kind == "f":
            value = value.astype(np.float32)
        out[name] = value
    return out


def direction_rng(sample: Sample, stream: int) -> np.random.Generator:
    """A generator for directions/cotangents, independent of the inputs' stream."""
    return np.random.default_rng([sample.seed, 1, stream])


_ROOT3 = 3.0**0.5


def draw_direction(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random direction: independent entries uniform on [-√3, √3] (mean 0, variance 1).

    Signed, so positive and negative errors cannot cancel by design, and continuous, so no
    error cancels exactly (Rademacher signs miss E = (1, -1, 0, ...) half the time). Uniform
    rather than normal because it is 3-4x cheaper to draw (at n = 1e6 a normal direction cost
    more than the loss), and the detection bound barely moves: by Ball's cube-slicing theorem
    the density of <a, V> for a unit vector a is at most 1/sqrt(6) ≈ 0.408 anywhere, against
    1/sqrt(2π) ≈ 0.399 for a normal V (see :func:`gradcheck.examine.auto_directions`).

    References
    ----------
    Ball, K. (1986). Cube slicing in R^n. Proc. AMS 97(3), 465-473.
    """
    return rng.uniform(-_ROOT3, _ROOT3, shape)
