"""One --timeout covers a claim's check and its repair search together (in-process too: the
pytest plugin and the API have no worker whose deadline would cap the sum)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from gradcheck.check import check_plan
from gradcheck.options import RunOptions
from gradcheck.run import check_settings, read_problem

SLOW = """\
import time
import numpy as np

def loss(x):
    time.sleep(0.01)
    return np.sum(x ** 2)
"""
SPEC = """\
dims: {n: [3, 5]}
inputs:
  x: {shape: [n]}
loss: {python: "slow_repair_loss:loss"}
claims:
  - {name: doubled, wrt: x, gradient: 4 * x}
"""


def test_the_timeout_covers_the_check_and_the_repair_together(tmp_path, monkeypatch):
    (tmp_path / "slow_repair_loss.py").write_text(SLOW)
    (tmp_path / "s.yaml").write_text(SPEC)
    monkeypatch.syspath_prepend(str(tmp_path))
    problem = read_problem(str(tmp_path / "s.yaml"))
    cfg = replace(check_settings(problem.spec, RunOptions(seed=1), 1), timeout=1.0)
    started = time.monotonic()
    verdict = check_plan(problem, problem.plans[0], cfg)
    took = time.monotonic() - started
    assert verdict.label == "scaled"  # the check's verdict stands when the search is cut short
    assert verdict.repair.exhausted == "the --timeout of 1 s"
    assert took < 1.0 + 0.4, f"{took:.2f} s for a 1 s --timeout"
    sys.modules.pop("slow_repair_loss", None)
