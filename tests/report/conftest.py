"""Report folders shared by the report tests: each is written once per session (in-process, a
second or two each) and only read afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gradcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED_SPEC = ROOT / "specs" / "least_squares.yaml"


def unexpected_copy(folder: Path) -> Path:
    """The seed spec with every ``expect: fail`` removed: its wrong claims become unexpected."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "least_squares.yaml"
    path.write_text(SEED_SPEC.read_text().replace("    expect: fail\n", ""))
    shutil.copy(ROOT / "specs" / "gallery_code.py", folder)
    return path


@pytest.fixture(scope="session")
def seed_report(tmp_path_factory) -> Path:
    """``gradcheck check specs/least_squares.yaml --seed 1 --report DIR``: every claim as expected."""
    out = tmp_path_factory.mktemp("seed") / "report"
    assert main(["check", str(SEED_SPEC), "--seed", "1", "--report", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def unexpected_report(tmp_path_factory) -> Path:
    """The seed spec without its ``expect: fail`` marks: four unexpected failures, exit 1."""
    base = tmp_path_factory.mktemp("unexpected")
    spec = unexpected_copy(base / "specs")
    out = base / "report"
    assert main(["check", str(spec), "--seed", "1", "--report", str(out), "-q"]) == 1
    return out
