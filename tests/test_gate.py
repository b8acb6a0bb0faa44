"""The CI gate never passes silently: a reader that leaves early, a run that checks nothing,
bad numeric options and report folders are all non-zero exits with a one-line reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_SPEC = ROOT / "specs" / "least_squares.yaml"


def _unexpected(tmp_path: Path) -> Path:
    """The seed spec with its `expect: fail` marks removed: some claims fail unexpectedly."""
    path = tmp_path / "least_squares.yaml"
    path.write_text(SEED_SPEC.read_text().replace("    expect: fail\n", ""))
    shutil.copy(ROOT / "specs" / "gallery_code.py", tmp_path)
    return path


def _piped_to_head(*args: str) -> tuple[int, str, str]:
    """``gradcheck ARGS | head -1`` in a real shell: gradcheck's exit status, head's output, stderr."""
    command = f"{sys.executable} -m gradcheck.cli {' '.join(args)} | head -1; exit ${{PIPESTATUS[0]}}"
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1"}
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_a_reader_that_leaves_early_keeps_the_failing_exit_code(tmp_path):
    path = _unexpected(tmp_path)
    code, out, err = _piped_to_head("check", str(path), "--seed", "3")
    assert code == 1
    assert len(out.splitlines()) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_a_reader_that_leaves_early_keeps_the_spec_error_exit_code(tmp_path):
    bad = tmp_path / "a_bad.yaml"
    bad.write_text("loss: [\n")
    (tmp_path / "b_good.yaml").write_text(SEED_SPEC.read_text())
    shutil.copy(ROOT / "specs" / "gallery_code.py", tmp_path)
    code, out, err = _piped_to_head("check", str(tmp_path), "--seed", "3")
    assert code == 2
    assert out.startswith("ERROR ")
    assert "Traceback" not in err
