"""Whole runs: determinism, interruption, timeouts, one bad file among good ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from support import cli

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_gives_byte_identical_reports_across_hash_seeds(tmp_path):
    paths = [str(ROOT / "specs" / "least_squares.yaml"), str(ROOT / "tests" / "corpus")]
    a = cli(
        "check",
        *paths,
        "--seed",
        "5",
        "--examples",
        "8",
        "--report",
        str(tmp_path / "a"),
        env_extra={"PYTHONHASHSEED": "0"},
        timeout=600,
    )
    b = cli(
        "check",
        *paths,
        "--seed",
        "5",
        "--examples",
        "8",
        "--report",
        str(tmp_path / "b"),
        env_extra={"PYTHONHASHSEED": "4242"},
        timeout=600,
    )
    assert a.returncode == b.returncode == 0, a.stdout + a.stderr
    for name in ("summary.csv", "results.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


SLOW = """
import time
import numpy as np

def loss(x):
    return float(np.sum(x ** 2))

def grad(x):
    time.sleep(0.02)
    return 2 * x
"""


def test_interrupted_run_writes_what_it_finished(tmp_path):
    (tmp_path / "slow.py").write_text(SLOW)
    claims = "".join(f'  - {{name: c{i}, wrt: x, gradient: {{python: "slow:grad"}}}}\n' for i in range(40))
    spec = tmp_path / "slow.yaml"
    spec.write_text('dims: {n: [2, 4]}\ninputs: {x: {shape: [n]}}\nloss: {python: "slow:loss"}\nclaims:\n' + claims)
    report = tmp_path / "report"
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gradcheck.cli",
            "check",
            str(spec),
            "--seed",
            "1",
            "--examples",
            "5",
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    # wait until a few claims have been reported, then stop it like a cancelled CI job
    seen = 0
    deadline = time.time() + 120
    while seen < 3 and time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("PASS"):
            seen += 1
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (report / "INCOMPLETE").exists()
    summary = pd.read_csv(report / "summary.csv")
    assert 3 <= len(summary) < 40
    assert set(summary.verdict) == {"pass"}


def test_hung_claim_times_out_and_the_run_continues(tmp_path):
    (tmp_path / "hang.py").write_text(
        "import numpy as np\n\ndef loss(x):\n    return float(np.sum(x ** 2))\n\n"
        "def hang(x):\n    while True:\n        pass\n\ndef good(x):\n    return 2 * x\n"
    )
    spec = tmp_path / "hang.yaml"
    spec.write_text(
        'dims: {n: [2, 4]}\ninputs: {x: {shape: [n]}}\nloss: {python: "hang:loss"}\nclaims:\n'
        '  - {name: hangs, wrt: x, gradient: {python: "hang:hang"}}\n'
        '  - {name: good, wrt: x, gradient: {python: "hang:good"}}\n'
    )
    started = time.time()
    proc = cli("check", str(spec), "--seed", "1", "--timeout", "1", "--report", str(tmp_path / "r"))
    assert time.time() - started < 60
    assert proc.returncode == 1
    assert "hangs  (d loss / d x)  error: timed out after 1 s" in proc.stdout
    summary = pd.read_csv(tmp_path / "r" / "summary.csv").set_index("claim")
    assert summary.loc["hangs", "verdict"] == "error" and summary.loc["good", "verdict"] == "pass"


def test_raising_claim_keeps_the_users_traceback(tmp_path):
    (tmp_path / "boom.py").write_text(
        "def grad(x):\n    return helper(x)\n\ndef helper(x):\n    return x.reshape(7, 7)\n"
    )
    spec = tmp_path / "boom.yaml"
    spec.write_text(
        "dims: {n: [2, 4]}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\nclaims:\n"
        '  - {name: boom, wrt: x, gradient: {python: "boom:grad"}}\n'
    )
    proc = cli("check", str(spec), "--seed", "1")
    assert proc.returncode == 1
    assert "error: the claim raised ValueError: cannot reshape array" in proc.stdout
    assert f'File "{tmp_path / "boom.py"}", line 5, in helper' in proc.stdout
    assert "gradcheck/check.py" not in proc.stdout and "gradcheck/examine.py" not in proc.stdout
