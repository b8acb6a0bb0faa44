"""Hostile specs are refused with located messages; nothing is executed, written or allocated."""

from __future__ import annotations

import os

import pytest

from gradcheck.options import RunOptions
from gradcheck.run import run

from .catalogue import CATALOGUE, PYTHON_CATALOGUE


@pytest.mark.parametrize("name, text, where, message", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_hostile_spec_is_refused_with_a_located_message(tmp_path, monkeypatch, name, text, where, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
    result = run([str(path)], RunOptions(seed=1, examples=3))
    assert not result.verdicts
    assert len(result.failures) == 1
    first = result.failures[0].message.splitlines()[0]
    assert first.startswith(f"{path}:{where}"), first
    assert message in result.failures[0].message
    assert result.exit_code == 2
    assert sorted(os.listdir(tmp_path)) == [path.name]  # nothing written (no 'pwned')


@pytest.mark.parametrize("name, target, message", PYTHON_CATALOGUE, ids=[c[0] for c in PYTHON_CATALOGUE])
def test_python_entries_never_reach_foreign_callables(tmp_path, monkeypatch, name, target, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "spec.yaml"
    path.write_text(
        "dims: {n: [2, 3]}\ninputs: {command: {shape: [n]}}\nloss: sum(command ** 2)\n"
        f'claims:\n  - name: evil\n    wrt: command\n    gradient: {{python: "{target}"}}\n'
    )
    result = run([str(path)], RunOptions(seed=1, examples=3))
    (verdict,) = result.verdicts
    assert verdict.label == "error"
    assert message in verdict.diagnosis
    assert f"{path}:7:" in " ".join(verdict.lines)
    assert sorted(os.listdir(tmp_path)) == ["spec.yaml"]


def test_no_python_refuses_every_python_entry(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "dims: {n: [2, 3]}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\n"
        'claims:\n  - name: mine\n    wrt: x\n    gradient: {python: "mycode:grad"}\n'
    )
    result = run([str(path)], RunOptions(seed=1, no_python=True))
    assert result.exit_code == 2
    assert result.failures[0].message.startswith(
        f"{path}:7:24: claim 'mine' names Python code (mycode:grad), and --no-python refuses every {{python: ...}} entry"
    )


def test_catalogue_size():
    assert len(CATALOGUE) + len(PYTHON_CATALOGUE) >= 25
