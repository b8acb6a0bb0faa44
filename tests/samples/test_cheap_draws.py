"""Issue 16's cheaper draws: ``real`` inputs uniform on [-√3, √3] (mean 0, variance 1), ``positive``
ones exp of half of that; and SciPy imported only when finite differences run."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from gradcheck.samples.draw import draw_array
from gradcheck.spec.model import Domain

ROOT3 = 3.0**0.5


def test_real_inputs_are_uniform_on_plus_minus_root_3_with_unit_variance():
    x = draw_array(np.random.default_rng(0), (200_000,), Domain("real"), {})
    assert -ROOT3 <= x.min() < -0.99 * ROOT3 and 0.99 * ROOT3 < x.max() <= ROOT3  # a normal draw passes 1.8
    assert abs(x.mean()) < 0.01 and abs(x.var() - 1) < 0.01
    assert len(np.unique(x)) == x.size  # continuous: distinct values


def test_positive_inputs_are_exp_of_half_a_uniform():
    x = draw_array(np.random.default_rng(1), (100_000,), Domain("positive"), {})
    assert np.exp(-ROOT3 / 2) <= x.min() and x.max() <= np.exp(ROOT3 / 2)
    assert abs(np.log(x).var() - 0.25) < 0.01


def test_checking_an_expression_claim_does_not_import_scipy(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "spec: s\ndims: {n: [2, 4]}\ninputs:\n  x: {shape: [n]}\nloss: sum(exp(x))\n"
        "claims:\n  - {name: g, wrt: x, gradient: exp(x)}\n"
    )
    code = (
        "import sys\nfrom gradcheck.check import check_plan\nfrom gradcheck.run import check_settings, read_problem\n"
        "from gradcheck.options import RunOptions\n"
        f"p = read_problem({str(spec)!r})\n"
        "v = check_plan(p, p.plans[0], check_settings(p.spec, RunOptions(seed=1), 1))\n"
        "print(v.passed, 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]
