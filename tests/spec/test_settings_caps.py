"""A spec may lower a limit, never raise it: raising needs a command-line option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.errors import SchemaError
from gradcheck.options import RunOptions
from gradcheck.run import read_problem
from gradcheck.spec.load import load_spec_text

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
dims: {{n: [2, 4]}}
inputs:
  x: {{shape: [n]}}
loss: sum(x ** 2)
claims:
  - {{name: g, wrt: x, gradient: 2 * x}}
settings: {{{key}: {value}}}
"""


@pytest.mark.parametrize(
    "key, value, flag",
    [
        ("max_elements", 10**12, "--max-elements"),
        ("directions", 10**9, "--directions"),
        ("examples", 10**7, "--examples"),
    ],
)
def test_a_spec_cannot_raise_a_limit(key, value, flag):
    with pytest.raises(SchemaError) as info:
        load_spec_text(SPEC.format(key=key, value=value), "specs/s.yaml")
    err = info.value
    assert (err.location.line, err.location.col) == (7, 14 + len(key))  # at the value
    assert err.message.startswith(f"settings {key} {value} is above ")
    assert "a spec may lower a limit, never raise it" in err.message
    assert flag in err.hint


def test_a_spec_can_lower_the_element_budget():
    problem_text = SPEC.format(key="max_elements", value=1000)
    spec = load_spec_text(problem_text, "specs/s.yaml")
    assert spec.settings.max_elements == 1000


def test_the_command_line_raises_the_element_budget(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(
        "dims: {n: 20000000}\ninputs:\n  x: {shape: [n]}\nloss: sum(x ** 2)\n"
        "claims:\n  - {name: g, wrt: x, gradient: 2 * x}\n"
    )
    from gradcheck.errors import ShapeError

    with pytest.raises(ShapeError):
        read_problem(str(big))
    assert read_problem(str(big), RunOptions(max_elements=30_000_000)).max_elements == 30_000_000
    proc = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "check", str(big), "--max-elements", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "max-elements" in proc.stderr and "Traceback" not in proc.stderr
