"""The pre-commit hooks in .pre-commit-hooks.yaml, run by the real pre-commit against throwaway git
repositories: `pre-commit try-repo` once (it installs into a fresh store every time), then
`pre-commit run` with a config that names the same hook repository, whose environment is
installed once for the module.

The hook repository is a committed copy of what `pip install .` needs (pyproject.toml, README.md,
the package and the hooks file). The hooks are `language: python`: pre-commit builds a virtualenv
and installs gradcheck into it. To keep that quick and free of downloads, the dependencies (numpy,
scipy, pandas, ...) are lent from this test's own environment through PYTHONPATH; gradcheck
itself, its console script, and the hooks' entry, files and exit codes are pre-commit's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

SPEC = """\
dims: {n: [2, 4]}
inputs:
  x: {shape: [n]}
loss: sum(x ** 2)
claims:
  - {name: g, wrt: x, gradient: GRADIENT}
settings: {examples: 3}
"""


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """(hook repository, environment for pre-commit, a config naming the repository)."""
    pytest.importorskip("pre_commit", reason="needs pre-commit: pip install -e '.[test]'")
    if shutil.which("git") is None:
        pytest.skip("needs git")
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "gradcheck", repo / "gradcheck", ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "hooks")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]  # the dependencies, lent (see the docstring)
    config = repo.parent / "pre-commit-config.yaml"
    config.write_text(
        f"repos:\n  - repo: {repo}\n    rev: {_git(repo, 'rev-parse', 'HEAD').strip()}\n    hooks:\n"
        "      - id: gradcheck\n      - id: gradcheck-no-python\n"
        "      - {id: gradcheck, alias: no-such-claim, args: [--claim, no-such-claim], stages: [manual]}\n"
    )
    return repo, env, config


@pytest.fixture
def project(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "README.md").write_text("a project\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    return tmp_path


def pre_commit(hooks, project: Path, *args: str) -> subprocess.CompletedProcess:
    """`pre-commit ARGS` in ``project``, on the staged files as a commit runs it."""
    env = hooks[1]
    run = subprocess.run([*PRE_COMMIT, *args], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    if "No matching distribution found" in run.stdout + run.stderr:
        pytest.skip("pre-commit could not install the hook's environment: no package index reachable for setuptools")
    return run


def run_hooks(hooks, project: Path, *args: str) -> subprocess.CompletedProcess:
    return pre_commit(hooks, project, "run", "-c", str(hooks[2]), *args)


def stage(project: Path, name: str, text: str) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    _git(project, "add", name)


def test_try_repo_runs_both_hooks_on_the_staged_specs(hooks, project):
    stage(project, "specs/square.yaml", SPEC.replace("GRADIENT", "2 * x"))
    stage(project, "specs/code.yaml", SPEC.replace("GRADIENT", "{python: 'grads:square'}"))
    stage(project, "specs/grads.py", "def square(x):\n    return 2 * x\n")
    run = pre_commit(hooks, project, "try-repo", str(hooks[0]))
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("gradcheck......") and line.endswith("Passed") for line in lines), run.stdout
    assert any(line.startswith("gradcheck (--no-python)....") and line.endswith("Failed") for line in lines)
    assert "- hook id: gradcheck-no-python\n- exit code: 2" in run.stdout
    assert "--no-python" in run.stdout.split("- hook id: gradcheck-no-python")[1]


def test_the_hook_fails_with_gradchecks_exit_code_and_its_failure_block(hooks, project):
    stage(project, "specs/square.yaml", SPEC.replace("GRADIENT", "x"))
    run = run_hooks(hooks, project)
    assert run.returncode == 1
    assert "- hook id: gradcheck\n- exit code: 1" in run.stdout
    assert "claim 'g'" in run.stdout and "scaled" in run.stdout  # gradcheck's own diagnosis, passed through


def test_a_commit_that_changes_no_spec_skips_the_hooks(hooks, project):
    stage(project, "README.md", "a project, changed\n")
    stage(project, ".github/workflows/ci.yml", "on: push\n")  # YAML, but in a dot-folder: not a spec
    stage(project, ".pre-commit-config.yaml", "repos: []\n")
    run = run_hooks(hooks, project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("(no files to check)Skipped") == 2


def test_nothing_checked_fails_the_hook_with_exit_5(hooks, project):
    stage(project, "specs/square.yaml", SPEC.replace("GRADIENT", "2 * x"))
    run = run_hooks(hooks, project, "--hook-stage", "manual", "no-such-claim")
    assert run.returncode == 1
    assert "- hook id: gradcheck\n- exit code: 5" in run.stdout
