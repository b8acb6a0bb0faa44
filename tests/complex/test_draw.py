"""Complex inputs are drawn with both parts from the input's domain, reproducibly."""

from __future__ import annotations

import numpy as np

from gradcheck.errors import Location
from gradcheck.samples.draw import Sample, draw_inputs
from gradcheck.spec.model import Domain, InputSpec

AT = Location("c.yaml", 1, 1)


def _draw(domain: Domain, seed: int = 5) -> np.ndarray:
    spec = {"z": InputSpec("z", ("n",), domain, AT, "complex128")}
    return draw_inputs(spec, {"z": (400,)}, Sample({"n": 400}, seed))["z"]


def test_both_parts_are_drawn_standard_normal():
    z = _draw(Domain("real"))
    assert z.dtype == np.complex128
    for part in (z.real, z.imag):
        assert abs(float(np.mean(part))) < 0.2 and 0.8 < float(np.std(part)) < 1.2
    assert not np.allclose(z.real, z.imag)


def test_a_range_bounds_each_part():
    z = _draw(Domain("range", -2.0, -1.0))
    assert np.all((z.real > -2) & (z.real < -1) & (z.imag > -2) & (z.imag < -1))


def test_the_same_seed_draws_the_same_values():
    assert np.array_equal(_draw(Domain("real"), 7), _draw(Domain("real"), 7))
    assert not np.array_equal(_draw(Domain("real"), 7), _draw(Domain("real"), 8))
