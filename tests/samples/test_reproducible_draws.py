"""The same seed draws the same examples, whatever else the process has imported.

Hypothesis (6.1xx) mixes literals it mines from every local module in ``sys.modules`` into a
few percent of its choices. gradcheck's draws must not follow them: a pytest run imports the
user's test modules, ``gradcheck check`` does not, and the failure block's ``reproduce:`` line
promises the same example either way.
"""

from __future__ import annotations

import importlib

from gradcheck.check import check_plan
from gradcheck.problem.build import build_problem
from gradcheck.settings import CheckSettings
from gradcheck.spec.load import load_spec_text

SPEC = """
spec: draws
dims: {m: [2, 40], n: [2, 40]}
inputs:
  A: {shape: [m, n]}
loss: sum(A * A)
claims:
  - {name: right, wrt: A, gradient: "2 * A"}
"""


def _draws() -> list[tuple[tuple, int]]:
    problem = build_problem(load_spec_text(SPEC, "draws.yaml"))
    verdict = check_plan(problem, problem.plans[0], CheckSettings(examples=60, seed=3, repair=False))
    assert verdict.label == "pass", verdict.diagnosis
    return [(tuple(r.sizes.items()), r.seed) for r in verdict.records]


def test_importing_a_module_full_of_constants_does_not_change_the_draws(tmp_path, monkeypatch):
    before = _draws()
    literals = ", ".join(str(k) for k in [*range(2, 41), *(7919 * k for k in range(1, 200))])
    (tmp_path / "many_constants_here.py").write_text(f"TABLE = ({literals})\nTEXT = 'x'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("many_constants_here")
    assert _draws() == before
