"""The GitHub Action (action.yml) and the GitLab CI snippet in docs/integrations.md: parsed, checked
against what the docs name, and their shell steps run here with a fake GITHUB_STEP_SUMMARY and
GITHUB_OUTPUT (the steps that use other actions, setup-python and upload-artifact, and the pip
install, need GitHub's runner and are only checked for their inputs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "integrations.md"
BIN = str(Path(sys.executable).parent)

SPEC = """\
dims: {n: [2, 4]}
inputs:
  x: {shape: [n]}
loss: sum(x ** 2)
claims:
  - {name: g, wrt: x, gradient: GRADIENT}
settings: {examples: 3}
"""


def action() -> dict:
    return YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))


def yaml_blocks(title: str) -> list[dict]:
    """The ```yaml blocks of the docs section ``title``."""
    section = DOCS.read_text(encoding="utf-8").split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    return [YAML(typ="safe").load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]


def step(name: str) -> dict:
    return next(s for s in action()["runs"]["steps"] if s.get("name") == name)


def test_action_yml_is_a_composite_action_with_documented_inputs():
    spec = action()
    assert spec["runs"]["using"] == "composite"
    inputs = spec["inputs"]
    assert all(value.get("description") for value in inputs.values())
    (workflow,) = yaml_blocks("GitHub Actions")
    uses = [s for s in workflow["jobs"]["gradcheck"]["steps"] if s["uses"].startswith("gradcheck/")]
    assert set(uses[0]["with"]) <= set(inputs)  # every input the example passes exists
    text = DOCS.read_text(encoding="utf-8").split("### GitHub Actions", 1)[1].split("### GitLab", 1)[0]
    named = set(re.findall(r"`([a-z-]+):", text)) | set(uses[0]["with"])
    assert named == set(inputs)  # ... and the docs name every input
    assert set(spec["outputs"]) == {"exit-code", "report"}


def test_action_uploads_the_report_folder_even_when_the_check_fails():
    upload = step("Upload the report")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"].startswith("always()")
    assert upload["with"]["path"] == "${{ inputs.report }}"


def _env(values: dict[str, str], entry: dict, outputs: dict[str, str]) -> dict[str, str]:
    """A step's env: as the runner evaluates it (${{ inputs.X }} and ${{ steps.check.outputs.X }})."""
    inputs = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()} | values

    def value(text: str) -> str:
        text = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], text)
        return re.sub(r"\$\{\{\s*steps\.check\.outputs\.([\w-]+)\s*\}\}", lambda m: outputs.get(m.group(1), ""), text)

    return {k: value(str(v)) for k, v in entry.get("env", {}).items()}


def run_step(name: str, cwd: Path, inputs: dict[str, str], outputs: dict[str, str] | None = None):
    """Run one shell step of action.yml as the runner would (bash, its env, the GitHub files)."""
    entry = step(name)
    assert entry["shell"] == "bash"
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    env |= {"GITHUB_STEP_SUMMARY": str(cwd / "step_summary.md"), "GITHUB_OUTPUT": str(cwd / "github_output")}
    env |= _env(inputs, entry, outputs or {})
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", entry["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def outputs_of(cwd: Path) -> dict[str, str]:
    lines = (cwd / "github_output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize("gradient, code", [("2 * x", 0), ("x", 1)])
def test_the_check_step_appends_the_summary_and_the_last_step_fails_with_gradchecks_code(tmp_path, gradient, code):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "square.yaml").write_text(SPEC.replace("GRADIENT", gradient))
    (tmp_path / "step_summary.md").write_text("an earlier step's summary\n")
    check = run_step("gradcheck check", tmp_path, {"args": "-q --seed 7"})
    assert check.returncode == 0, check.stdout + check.stderr  # the upload runs next
    assert outputs_of(tmp_path) == {"exit-code": str(code)}
    summary = (tmp_path / "step_summary.md").read_text()
    report = (tmp_path / "gradcheck-report" / "summary.md").read_text()
    assert summary == "an earlier step's summary\n" + report
    assert "seed 7" in check.stdout  # the extra args reach gradcheck
    last = run_step("Fail with gradcheck's exit code", tmp_path, {}, outputs_of(tmp_path))
    assert last.returncode == code


def test_the_check_step_takes_several_paths_and_reports_a_missing_report(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one.yaml").write_text(SPEC.replace("GRADIENT", "2 * x"))
    (tmp_path / "b" / "two.yaml").write_text(SPEC.replace("GRADIENT", "2 * x"))
    check = run_step("gradcheck check", tmp_path, {"paths": "a b/two.yaml", "report": "out"})
    assert outputs_of(tmp_path) == {"exit-code": "0"}
    assert "2 passed" in check.stdout
    (tmp_path / "step_summary.md").write_text("")
    (tmp_path / "taken").write_text("a file where the report folder goes")
    run_step("gradcheck check", tmp_path, {"paths": "a", "report": "taken"})
    assert (tmp_path / "github_output").read_text() == "exit-code=0\nexit-code=2\n"
    assert (tmp_path / "step_summary.md").read_text() == "gradcheck wrote no report (exit code 2): see the step's log\n"


def test_the_gitlab_snippet_runs_and_its_junit_artifact_is_written(tmp_path):
    (job,) = [block["gradcheck"] for block in yaml_blocks("GitLab CI")]
    assert job["artifacts"]["when"] == "always"
    junit = job["artifacts"]["reports"]["junit"]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "square.yaml").write_text(SPEC.replace("GRADIENT", "x"))
    commands = [line for line in job["script"] if not line.startswith("pip install")]
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    run = subprocess.run(["bash", "-c", "\n".join(commands)], cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert run.returncode == 1  # the job fails with gradcheck's exit code
    assert "<testsuite" in (tmp_path / junit).read_text()
    assert all((tmp_path / path).is_dir() for path in job["artifacts"]["paths"])
