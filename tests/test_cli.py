"""The CLI end to end: exit codes, messages, reports, reproducibility, start-up cost."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import cli

from gradcheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED_SPEC = ROOT / "specs" / "least_squares.yaml"


def test_seed_spec_shows_every_claims_verdict(capsys):
    code = main(["check", str(SEED_SPEC), "--seed", "11"])
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[2]: line for line in out.splitlines() if line.startswith(("PASS", "XFAIL", "FAIL", "XPASS"))}
    assert lines["answer"].startswith("PASS")
    assert "shape-mismatch: claimed gradient has shape (M, in) but Theta has shape (in, out)" in lines["asker"]
    assert "`c * -dh(a) * X` multiplies (M, out) by (M, in)" in out
    assert "scaled: the claim is 2 x the gradient on every entry (factor 2)" in lines["answerer"]
    assert (
        lines["step-a"].startswith("PASS") and lines["step-b"].startswith("PASS") and lines["step-c"].startswith("PASS")
    )
    assert "transposed" in lines["step-a-transposed"]
    assert lines["step-b-h-not-dh"].startswith("XFAIL") and "wrong" in lines["step-b-h-not-dh"]
    assert "seed 11" in out.splitlines()[-1]


def _copy_unexpected(tmp_path: Path) -> Path:
    text = SEED_SPEC.read_text().replace("    expect: fail\n", "")
    path = tmp_path / "least_squares.yaml"
    path.write_text(text)
    shutil.copy(ROOT / "specs" / "gallery_code.py", tmp_path)
    return path


def test_unexpected_failure_exits_1_with_a_failure_block(tmp_path, capsys):
    path = _copy_unexpected(tmp_path)
    code = main(["check", str(path), "--seed", "5", "--claim", "answerer"])
    out = capsys.readouterr().out
    assert code == 1
    line = path.read_text().splitlines().index("  - name: answerer") + 1
    assert f"FAIL {path}:{line}:5 claim 'answerer' (d loss / d Theta)" in out
    assert "(shrunk)" in out and "run seed 5" in out
    assert "index" in out and "| ratio" in out
    assert f"reproduce: gradcheck check {path} --claim answerer --seed 5" in out
    assert "1 failed" in out.splitlines()[-1]


def test_expected_failure_that_passes_fails_the_gate(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(
        "dims: {n: [2, 4]}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\n"
        "claims:\n  - {name: g, wrt: x, gradient: 2 * x, expect: fail}\n"
    )
    assert main(["check", str(path), "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("XPASS")
    assert "marked `expect: fail` but it passed" in out


def test_reproduce_command_reproduces_the_same_example(tmp_path):
    path = _copy_unexpected(tmp_path)
    first = cli("check", str(path), "--seed", "9", "--claim", "answerer", "--report", str(tmp_path / "a"))
    second = cli("check", str(path), "--seed", "9", "--claim", "answerer", "--report", str(tmp_path / "b"))
    assert first.returncode == second.returncode == 1
    assert (tmp_path / "a" / "summary.csv").read_bytes() == (tmp_path / "b" / "summary.csv").read_bytes()
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()


def test_report_columns_and_symbolic_shapes(tmp_path):
    out = tmp_path / "rep"
    assert main(["check", str(SEED_SPEC), "--seed", "3", "--report", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    for col in [
        "spec",
        "claim",
        "wrt",
        "verdict",
        "diagnosis",
        "expected_shape",
        "claimed_shape",
        "max_rel_error",
        "examples",
        "seed",
    ]:
        assert col in summary.columns
    row = summary.set_index("claim").loc["asker"]
    assert row["verdict"] == "shape-mismatch"
    assert row["expected_shape"] == "(in, out)" and row["claimed_shape"] == "(M, in)"
    assert summary.set_index("claim").loc["answerer", "factor"] == pytest.approx(2.0)
    results = pd.read_csv(out / "results.csv")
    answer = results[results.claim == "answer"]
    assert len(answer) == 25
    # an expression claim is checked by dual numbers; a failing example is judged by the complex step
    assert set(answer.oracle) == {"dual-number"}
    assert set(results[(results.claim == "answerer") & (results.verdict != "pass")].oracle) == {"complex-step"}
    assert answer.dims.str.contains("M=").all()


def test_unreadable_spec_exits_2_but_others_still_run(tmp_path, capsys):
    bad = tmp_path / "a_bad.yaml"
    bad.write_text("inputs: {x: {shape: [n]}}\nloss: sum(x)\nclaims: [{name: g, wrt: x, gradient: ones_like(x)}]\n")
    good = tmp_path / "b_good.yaml"
    good.write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x)\nclaims: [{name: g, wrt: x, gradient: ones_like(x)}]\n"
    )
    code = main(["check", str(tmp_path), "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 2
    assert f"ERROR {bad}:1:" in out and "unknown dim 'n'" in out
    assert "PASS" in out and "b_good.yaml" in out


def test_missing_path_exits_2(capsys):
    assert main(["check", "does/not/exist.yaml"]) == 2
    assert "no such file or folder" in capsys.readouterr().out


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os')", "names starting with '_' are not allowed"),
        ("().__class__", "not allowed"),
        ("X.tofile('x')", "attribute access is not allowed"),
        ("10**10**10", "constant 10**10**10 is too large"),
        ("sum(ones(10**9))", "would allocate 1000000000 elements"),
        ("(" * 200 + "X" + ")" * 200, "nested too deeply"),
        ("lambda: 0", "not allowed"),
        ("[x for x in X]", "not allowed"),
    ],
)
def test_hostile_expressions_exit_2_located_and_write_nothing(tmp_path, expression, message):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(
        "dims: {n: 3}\ninputs: {X: {shape: [n]}}\nloss: sum(X ** 2)\n"
        f"claims:\n  - name: evil\n    wrt: X\n    gradient: {json.dumps(expression)}\n"
    )
    before = set(tmp_path.iterdir())
    proc = cli("check", str(spec), "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{spec}:7:" in proc.stdout
    assert message in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert set(tmp_path.iterdir()) == before


def test_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom gradcheck.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'scipy', 'pandas', 'hypothesis', 'ruamel') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "usage: gradcheck" in proc.stdout
    assert "HEAVY []" in proc.stdout


def test_console_script_is_installed():
    exe = shutil.which("gradcheck")
    if exe is None:
        pytest.skip("the gradcheck console script is not on PATH (package not installed?)")
    proc = subprocess.run([exe, "check", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--seed" in proc.stdout and "--report" in proc.stdout


def test_reproduce_command_is_quoted_for_the_shell():
    from gradcheck.report.text import check_command

    assert (
        check_command("my specs/a b.yaml", "it's", 7)
        == "gradcheck check 'my specs/a b.yaml' --claim 'it'\"'\"'s' --seed 7"
    )


def test_a_tiny_memory_budget_gives_the_same_verdicts(capsys):
    """--memory only chunks the batched evaluations: one point per call gives the same verdicts."""

    def verdicts(*extra):
        code = main(["check", str(SEED_SPEC), "--seed", "5", *extra])
        out = capsys.readouterr().out
        return code, [
            line.split("(")[0] for line in out.splitlines() if line.startswith(("PASS", "XFAIL", "FAIL", "XPASS"))
        ]

    default, tiny = verdicts(), verdicts("--memory", "0.0001")
    assert default == tiny and default[0] == 0 and len(default[1]) == 10
    from gradcheck.options import RunOptions
    from gradcheck.oracle.batch import chunk_for
    from gradcheck.run import check_settings, read_problem

    spec = read_problem(str(SEED_SPEC)).spec
    cfg = check_settings(spec, RunOptions(memory=0.0001), 5)
    assert cfg.memory_mib == 0.0001 and chunk_for(100, cfg.memory_mib) == 1  # the option reaches the chunking


def test_check_help_explains_the_process_options(capsys):
    from gradcheck.cli import main

    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--memory-limit MIB address-space limit of each process that checks claims, in MiB (default: the machine's "
        "memory; 0 = none; command line only: the pytest plugin checks in its own process)"
    ) in text
    assert (
        "--jobs N claims checked at once, each in a worker process of its own (default: the number of usable "
        "cores; 1 = one at a time; the report is the same whatever N; command line only: under pytest use "
        "pytest-xdist's -n)"
    ) in text


def test_the_cli_parses_each_spec_once(monkeypatch, tmp_path):
    """The progress plan, the --claim check and the run share one parse of each file (its workers,
    other processes, read it themselves)."""
    from gradcheck.spec import load

    calls = []
    original = load._Loader.load

    def counted(self):
        calls.append(self.path)
        return original(self)

    monkeypatch.setattr(load._Loader, "load", counted)
    monkeypatch.setattr(load, "_LOADED", {})  # nothing parsed before this run
    monkeypatch.setenv("CI", "1")  # plain progress lines: the plan is read
    code = main(["check", str(SEED_SPEC), "--seed", "2", "--examples", "2", "--claim", "answer"])
    assert code == 0
    assert calls == [str(SEED_SPEC)], calls


# --- the report stage: run() returns the paths it wrote; the CLI names those, not what is on disk ----


SMALL_SPEC = (
    "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\nclaims: [{name: g, wrt: x, gradient: 2 * x}]\n"
)


def test_run_returns_the_report_files_it_wrote(tmp_path):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    spec = tmp_path / "s.yaml"
    spec.write_text(SMALL_SPEC)
    result = run([str(spec)], RunOptions(seed=1, report=str(tmp_path / "r")))
    assert sorted(Path(p).name for p in result.written) == sorted(p.name for p in (tmp_path / "r").iterdir())
    assert all(Path(p).parent == tmp_path / "r" for p in result.written)
    assert run([str(spec)], RunOptions(seed=1)).written == []


def test_check_names_the_files_this_run_wrote_not_a_stale_one(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SMALL_SPEC)
    folder = tmp_path / "r"
    folder.mkdir()
    stale = folder / "results.parquet"  # an earlier run's, with pyarrow; this run may write none
    stale.write_bytes(b"old")
    assert main(["check", str(spec), "--seed", "1", "--report", str(folder), "-q"]) == 0
    parquet = ", results.parquet" if stale.read_bytes() != b"old" else ""
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"report written to {folder}/: report.html, summary.md, junit.xml, summary.csv, results.csv{parquet}"
    )
