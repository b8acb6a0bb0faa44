"""Samples: dimension sizes drawn by Hypothesis, array values from a seeded numpy generator.

This is the only module that imports Hypothesis. Hypothesis draws what should shrink (the
sizes, and an integer seed); numpy fills the arrays from that seed, per domain. Hypothesis's
own array filler repeats one background value and shrinks toward all-zero arrays, which
hides exactly the bugs gradcheck looks for (a transpose of a constant matrix is itself).

Sizes of distinct dim symbols (and of derived dims such as ``F + 1``) are drawn pairwise
distinct where the ranges allow, so that a transposed claim cannot pass by coincidence
(in == out would hide it); a range is never materialised.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from ..errors import SamplingError
from ..expr.dims import Dim, dims_text
from ..spec.model import DimSpec, Domain, InputSpec

__all__ = [
    "Sample",
    "GivenSample",
    "sample_strategy",
    "without_mined_constants",
    "pick_sizes",
    "draw_sizes",
    "example_sizes",
    "other_size",
    "draw_inputs",
    "draw_direction",
]


@dataclass(frozen=True)
class Sample:
    """What one example is made of: the bound sizes and the seed of every array in it."""

    sizes: dict[str, int]
    seed: int

    def dims_text(self) -> str:
        return dims_text(self.sizes)

    def inputs(self, specs: Mapping[str, InputSpec], shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
        """Every input's array: drawn per domain from the seed (:func:`draw_inputs`)."""
        return draw_inputs(specs, shapes, self)


@dataclass(frozen=True)
class GivenSample(Sample):
    """A sample whose arrays are given, not drawn: a known hard point, as Hypothesis's ``@example``
    (checked through ``CheckSettings.given``). Inputs it does not give are drawn from ``seed``.

    ``sizes`` must be the ones the arrays' shapes bind; ``label`` names the point in messages.
    """

    arrays: Mapping[str, np.ndarray] = field(default_factory=dict, compare=False)
    label: str = ""

    def inputs(self, specs: Mapping[str, InputSpec], shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
        """The given arrays (copies, in the declared dtype; int64 for integer domains), the rest drawn."""
        drawn = draw_inputs({k: v for k, v in specs.items() if k not in self.arrays}, shapes, self)
        return {
            name: drawn[name] if name not in self.arrays else _given(self.arrays[name], spec)
            for name, spec in specs.items()
        }


def _given(value: np.ndarray, spec: InputSpec) -> np.ndarray:
    if spec.domain.is_integer:
        return np.array(value, dtype=np.int64)
    return np.array(value, dtype={"float32": np.float32, "complex128": np.complex128}.get(spec.dtype, np.float64))


def pick_sizes(
    pick: Callable[[int], int],
    dims: Mapping[str, DimSpec],
    reserved: frozenset[int] = frozenset(),
    derived: Sequence[Dim] = (),
) -> dict[str, int]:
    """Every dim: fixed ones first, ranged ones pairwise distinct where the ranges allow.

    ``pick(count)`` chooses an index in ``range(count)``: a Hypothesis draw (which shrinks
    toward 0, the smallest free size) or a seeded generator's choice. The index counts the
    sizes of the dim's range not yet taken, so a range is never materialised (``K: [1, 1e12]``
    costs what ``K: [1, 3]`` does).

    A size is kept only if the dims still to draw can all get distinct sizes too (intervals
    matched to points, earliest upper end first), so whatever the index, overlapping ranges
    such as n: [2, 4], m: [2, 5], d: [2, 3], e: [2, 4] get four distinct sizes and the shrunk
    example keeps them. Derived dims (``F + 1``) of the input shapes are kept distinct from
    the dims and from each other where a few more candidates allow it; they count as taken for
    the dims drawn after them.
    """
    sizes: dict[str, int] = {}
    used = set(reserved)
    for name, d in dims.items():
        if d.lo == d.hi:
            sizes[name] = d.lo
            used.add(d.lo)
    ranged = [name for name, d in dims.items() if d.lo != d.hi]
    pending = list(dict.fromkeys(d for d in derived if not d.is_const and len(d.terms) > 0))
    for i, name in enumerate(ranged):
        d = dims[name]
        rest = [(dims[r].lo, dims[r].hi) for r in ranged[i + 1 :]]
        taken = {u for u in used if d.lo <= u <= d.hi}
        count = d.hi - d.lo + 1 - len(taken)
        if count <= 0:  # every size is taken: any will do
            taken, count = set(), d.hi - d.lo + 1
        sizes[name] = _choose((d.lo, d.hi), taken, pick(count), rest, used, pending, sizes, name)
        used.add(sizes[name])
        for dim in [p for p in pending if p.symbols <= sizes.keys()]:
            used.add(int(dim.bind(sizes)))
            pending.remove(dim)
    return {name: sizes[name] for name in dims}


_CANDIDATES = 64  # free sizes tried after the picked one before settling for it


def _choose(span, taken, index, rest, used, pending, sizes, name) -> int:
    """The ``index``-th free size of ``span`` (lo, hi), or the first free size after it (wrapping
    around) that leaves the other dims assignable and the derived dims distinct; else the first
    that does the former."""
    lo, hi = span
    first = _nth_free(lo, taken, index)
    feasible = None
    for v in itertools.islice(_free_from(first, lo, hi, taken), _CANDIDATES):
        if not _assignable(rest, used | {v}):
            continue
        if feasible is None:
            feasible = v
        if _derived_distinct(pending, {**sizes, name: v}, used | {v}):
            return v
    return first if feasible is None else feasible


def _nth_free(lo: int, taken: set[int], index: int) -> int:
    """The ``index``-th size from ``lo`` up that is not in ``taken`` (which holds sizes >= lo)."""
    v = lo + index
    for t in sorted(taken):
        if t <= v:
            v += 1
    return v


def _free_from(start: int, lo: int, hi: int, taken: set[int]):
    """Sizes not in ``taken``: ``start`` up to ``hi``, then ``lo`` up to ``start - 1``."""
    for a, b in ((start, hi), (lo, start - 1)):
        v = a
        while v <= b:
            if v not in taken:
                yield v
            v += 1


def _assignable(ranges: list[tuple[int, int]], used: set[int]) -> bool:
    """Whether every range can get its own size, distinct from ``used`` and from the others.

    Greedy by earliest upper end, each range taking its smallest free size, is exact for
    intervals (a matching of intervals to points).
    """
    taken = set(used)
    for lo, hi in sorted(ranges, key=lambda r: (r[1], r[0])):
        v = lo
        while v in taken:
            v += 1
        if v > hi:
            return False
        taken.add(v)
    return True


def _derived_distinct(pending: list[Dim], sizes: Mapping[str, int], used: set[int]) -> bool:
    """The derived dims that ``sizes`` now binds differ from ``used`` and from each other."""
    seen = set(used)
    for dim in pending:
        if dim.symbols <= sizes.keys():
            value = int(dim.bind(sizes))
            if value in seen:
                return False
            seen.add(value)
    return True


def other_size(lo: int, hi: int, current: int, others: Collection[int]) -> int | None:
    """The smallest size in ``[lo, hi]`` other than ``current`` and, where possible, ``others``
    (the other dims' sizes); None if ``current`` is the only one. Never a list of the range."""
    for avoid in ({current, *others}, {current}):
        v = lo
        while v in avoid:
            v += 1
        if v <= hi:
            return v
    return None


def draw_sizes(
    draw, dims: Mapping[str, DimSpec], reserved: frozenset[int] = frozenset(), derived: Sequence[Dim] = ()
) -> dict[str, int]:
    """:func:`pick_sizes` with Hypothesis choosing, so failures shrink to the smallest sizes."""
    return pick_sizes(lambda count: draw(st.integers(0, count - 1)), dims, reserved, derived)


def example_sizes(
    dims: Mapping[str, DimSpec], reserved: frozenset[int], seed: int, derived: Sequence[Dim] = ()
) -> dict[str, int]:
    """:func:`pick_sizes` from a seeded generator: sizes to show where no example is drawn."""
    rng = np.random.default_rng([seed, 3])
    return pick_sizes(lambda count: int(rng.integers(count)), dims, reserved, derived)


@contextmanager
def without_mined_constants() -> Iterator[None]:
    """Within: Hypothesis draws without the literals it mines from the process's local modules.

    Hypothesis (6.1xx) mixes constants found in every local module of ``sys.modules`` into a few
    percent of its choices. gradcheck's examples would then depend on what else is imported (a
    pytest run imports the user's test modules, ``gradcheck check`` does not, a lazy import
    happens mid-run), and the failure block's ``reproduce:`` seed would not bring the same
    example back. The hook is Hypothesis's private one: when it is not there, nothing is done
    (``tests/samples/test_reproducible_draws.py`` then fails and says so).
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - another Hypothesis layout
        yield
        return
    mined, cache = getattr(providers, "_get_local_constants", None), getattr(providers, "CONSTANTS_CACHE", None)
    if mined is None or cache is None or not hasattr(providers, "Constants"):  # pragma: no cover
        yield
        return
    cache.cache.clear()  # choices permitted per constraint, cached with the mined ones in them
    providers._get_local_constants = providers.Constants
    try:
        yield
    finally:
        providers._get_local_constants = mined
        cache.cache.clear()


def sample_strategy(
    dims: Mapping[str, DimSpec], reserved: frozenset[int] = frozenset(), derived: Sequence[Dim] = ()
) -> st.SearchStrategy[Sample]:
    """A Hypothesis strategy of :class:`Sample`; it shrinks toward the smallest sizes."""

    @st.composite
    def samples(draw):
        sizes = draw_sizes(draw, dims, reserved, derived)
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


def _signed(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries uniform on [-√3, √3]: mean 0, variance 1 (as the normal draws they replace), signed
    and continuous, so values are distinct and of both signs; 3-4x cheaper than normal draws
    (measured here at n = 1e6: 3.4 against 11.2 ns a value), which cost more than the loss itself
    at large n. What normal draws add, rare large values, is what saturation regimes need: a spec
    asks for those with ``range:`` domains."""
    out = rng.random(shape)
    out *= 2 * _ROOT3
    out -= _ROOT3
    return out


def draw_array(
    rng: np.random.Generator, shape: tuple[int, ...], domain: Domain, sizes: Mapping[str, int]
) -> np.ndarray:
    """One array of the given concrete shape inside ``domain``.

    Values stay away from domain boundaries (a margin of 5 %) so that the finite-difference
    oracle's steps stay where the function is defined.
    """
    kind = domain.kind
    if kind == "real":
        return _signed(rng, shape)
    if kind == "positive":
        return np.exp(0.5 * _signed(rng, shape))
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
        if spec.dtype == "complex128":  # a complex parameter: its imaginary part from the same domain
            value = value + 1j * draw_array(rng, shapes[name], spec.domain, sample.sizes)
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
    1/sqrt(2π) ≈ 0.399 for a normal V (see :func:`gradcheck.settings.auto_directions`).

    References
    ----------
    Ball, K. (1986). Cube slicing in R^n. Proc. AMS 97(3), 465-473.
    """
    return _signed(rng, shape)  # the same numbers as rng.uniform(-√3, √3, shape), without its temporary
