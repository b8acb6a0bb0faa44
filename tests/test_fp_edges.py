"""No false verdict at the edges of floating point: integer powers of negative numbers, complex-step
imaginary parts that would fall into subnormals, finite-difference cancellation noise, and Python
code whose np.abs silently drops a small term's imaginary part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcheck import RunOptions
from gradcheck.expr.kernels import power
from gradcheck.run import run


def _verdicts(tmp_path: Path, text: str, seeds, examples=None) -> dict[str, list[str]]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    out: dict[str, list[str]] = {}
    for seed in seeds:
        result = run([str(spec)], RunOptions(seed=seed, examples=examples))
        assert not result.failures, result.failures
        for v in result.verdicts:
            out.setdefault(v.claim, []).append(v.verdict)
    return out


# --- integer powers: numpy's complex power goes through exp(p log z) above |p| = 100 --------------


@pytest.mark.parametrize("p", [101, 150, 1001, -101, 7, 0, 1])
def test_the_integer_power_kernel_continues_negative_bases_analytically(p):
    x = np.array([-1.07, -0.93, -1.0, 0.99, 1.3])
    z = x + 1e-30j
    out = power(z, float(p))
    expected_real = x**p
    expected_d = p * x ** (p - 1) if p else np.zeros_like(x)
    np.testing.assert_allclose(out.real, expected_real, rtol=1e-13)
    np.testing.assert_allclose(out.imag / 1e-30, expected_d, rtol=1e-13)


def test_the_integer_power_kernel_leaves_real_and_fractional_powers_to_numpy():
    x = np.array([0.5, 2.0, 3.0])
    np.testing.assert_array_equal(power(x, 101.0), x**101.0)
    z = x + 1e-30j
    np.testing.assert_array_equal(power(z, 1.5), z**1.5)
    np.testing.assert_array_equal(power(z, np.array([2.0, 3.0, 4.0])), z ** np.array([2.0, 3.0, 4.0]))


POWER_SPEC = """\
spec: fp-power
dims: {n: [2, 6]}
inputs:
  x: {shape: [n], domain: {range: [-1.2, -0.5]}}
loss: sum(x ** 101)
claims:
  - {name: ok-pow, wrt: x, gradient: "101 * x ** 100"}
  - {name: bug-scaled-pow, wrt: x, gradient: "100 * x ** 100", expect: fail}
"""


def test_x_to_the_101_at_negative_x_passes_and_a_wrong_factor_is_caught(tmp_path):
    verdicts = _verdicts(tmp_path, POWER_SPEC, seeds=range(3))
    assert verdicts["ok-pow"] == ["pass"] * 3, verdicts
    assert verdicts["bug-scaled-pow"] == ["scaled"] * 3, verdicts
