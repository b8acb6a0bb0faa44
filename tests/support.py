"""What many tests need, written once: run a spec's text and index the verdicts by claim, run the
CLI in a subprocess, and the sum-of-squares (SSE) problem used by the API and plugin tests.

Importable from every test module as ``support`` (pytest puts ``tests/`` on ``sys.path``: the
folder holds no ``__init__.py``).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# --- run this spec text, and give me the verdicts by claim --------------------------------------


def check_text(text: str, name: str = "spec.yaml", **settings: Any) -> dict[str, Any]:
    """Every (claim, wrt) of the spec ``text`` checked in this process (``check_plan``), by claim
    name (the last wrt of a claim with several). ``settings`` are ``CheckSettings`` fields;
    default 25 examples at seed 1."""
    from gradcheck.check import check_plan
    from gradcheck.examine import CheckSettings
    from gradcheck.problem.build import build_problem
    from gradcheck.spec.load import load_spec_text

    problem = build_problem(load_spec_text(text, name))
    cfg = CheckSettings(**{"examples": 25, "seed": 1, **settings})
    return {target.claim.name: check_plan(problem, target, cfg) for target in problem.plans}


def run_text(folder: Path, text: str, name: str = "spec.yaml", **options: Any):
    """The spec ``text`` written to ``folder/name`` and checked by the whole pipeline
    (``gradcheck.run.run``, workers included) with ``RunOptions(**options)``: the RunResult."""
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    path = folder / name
    path.write_text(text)
    return run([str(path)], RunOptions(**options))


def by_claim(result) -> dict[str, Any]:
    """A run's verdicts by claim name, after asserting that every spec could be read."""
    assert not result.failures, result.failures
    return {v.claim: v for v in result.verdicts}


def verdicts_of(folder: Path, text: str, name: str = "spec.yaml", **options: Any) -> dict[str, Any]:
    """:func:`run_text`, by claim: ``verdicts_of(tmp_path, SPEC, seed=1)["grad-W"].label``."""
    return by_claim(run_text(folder, text, name, **options))


# --- the command line in a subprocess -------------------------------------------------------------


def cli(*args: str, cwd: Path | None = None, env_extra: dict[str, str] | None = None, timeout: float = 300, **kw):
    """``python -m gradcheck.cli ARGS`` in ``cwd`` (default: the repository), without Hypothesis's
    example database; the CompletedProcess, with text output."""
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
        **kw,
    )


# --- the SSE problem: 0.5 ‖Y - σ(X Θ)‖², its gradient wrt Θ, and that gradient doubled ------------

SSE_INPUTS = {"X": "M in", "Y": "M out", "Theta": "in out"}
SSE_DIMS = {"M": (2, 8), "in": (2, 6), "out": (2, 6)}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sse(X, Y, Theta):
    return 0.5 * np.sum((Y - sigmoid(X @ Theta)) ** 2)


def sse_grad(X, Y, Theta):
    s = sigmoid(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))


def sse_grad_doubled(X, Y, Theta):
    return 2 * sse_grad(X, Y, Theta)


SSE_SOURCE = "import numpy as np\n\n\n" + "\n\n".join(
    inspect.getsource(f) for f in (sigmoid, sse, sse_grad, sse_grad_doubled)
)
"""The same functions as a module's text, for tests that write them into a project as user code."""
