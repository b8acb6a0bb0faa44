"""The CI gate never passes silently: a reader that leaves early, a run that checks nothing,
bad numeric options and report folders are all non-zero exits with a one-line reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.cli import main

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


def test_a_pipe_closed_before_the_first_line_keeps_the_failing_exit_code(tmp_path):
    """Deterministic where ``| head -1`` races: the reader is gone before gradcheck writes at all."""
    path = _unexpected(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gradcheck.cli", "check", str(path), "--seed", "3", "--report", str(tmp_path / "r")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    assert (tmp_path / "r" / "summary.csv").exists()  # the run went on to the end


def test_a_reader_that_leaves_early_keeps_the_spec_error_exit_code(tmp_path):
    bad = tmp_path / "a_bad.yaml"
    bad.write_text("loss: [\n")
    (tmp_path / "b_good.yaml").write_text(SEED_SPEC.read_text())
    shutil.copy(ROOT / "specs" / "gallery_code.py", tmp_path)
    code, out, err = _piped_to_head("check", str(tmp_path), "--seed", "3")
    assert code == 2
    assert out.startswith("ERROR ")
    assert "Traceback" not in err


# --- a run that checks nothing exits 5, as pytest does when it collects nothing -------------------

ONE_CLAIM = "dims: {n: [2, 4]}\ninputs: {W: {shape: [n]}}\nloss: sum(W ** 2)\nclaims:\n  - {name: grad-W, wrt: W, gradient: 2 * W}\n"


def test_an_empty_folder_checks_nothing_and_exits_5(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a spec")
    assert main(["check", str(tmp_path)]) == 5
    captured = capsys.readouterr()
    assert captured.err == f"gradcheck check: {tmp_path}: no .yaml or .yml file in this folder: nothing to check\n"
    assert captured.out == ""


def test_a_quoted_glob_is_expanded_and_one_that_matches_nothing_exits_5(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(ONE_CLAIM)
    assert main(["check", str(tmp_path / "*.yaml"), "--seed", "1"]) == 0
    assert "1 passed" in capsys.readouterr().out
    pattern = str(tmp_path / "*.yml")
    assert main(["check", pattern]) == 5
    assert capsys.readouterr().err == f"gradcheck check: {pattern}: the pattern matches no .yaml or .yml file\n"


def test_a_claim_name_that_matches_nothing_exits_5_with_a_did_you_mean(tmp_path, capsys):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    assert main(["check", str(path), "--claim", "grad-w"]) == 5
    captured = capsys.readouterr()
    assert captured.err == f"gradcheck check: --claim grad-w matches no claim in {path}: did you mean 'grad-W'?\n"
    assert captured.out == ""


def test_one_claim_name_that_matches_nothing_is_an_error_even_when_others_match(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(ONE_CLAIM)
    (tmp_path / "b.yaml").write_text(ONE_CLAIM.replace("grad-W", "other"))
    assert main(["check", str(tmp_path), "--claim", "grad-W", "--claim", "zzz", "--report", str(tmp_path / "r")]) == 5
    err = capsys.readouterr().err
    assert err == "gradcheck check: --claim zzz matches no claim in the 2 spec files (their claims: grad-W, other)\n"
    assert not (tmp_path / "r").exists()  # refused before running: nothing checked, nothing written


def test_a_claim_name_found_in_one_file_only_is_fine(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(ONE_CLAIM)
    (tmp_path / "b.yaml").write_text(ONE_CLAIM.replace("grad-W", "other"))
    assert main(["check", str(tmp_path), "--claim", "grad-W", "--seed", "1"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_exit_5_is_documented_in_the_help():
    from gradcheck import cli

    assert "5 nothing to check" in cli.build_parser().epilog
    assert "5 nothing was checked" in cli.__doc__


# --- plurals in the summary lines, computed in one place ------------------------------------------


def test_the_summary_counts_say_one_in_the_singular():
    from gradcheck.report.text import summary_counts

    assert summary_counts([("scaled", "xfail"), ("pass", "xpass")], 1) == (
        "pass 1, scaled 1",
        "0 passed, 0 failed, 1 expected failure, 1 unexpected pass, 1 spec error",
    )
    assert summary_counts([("scaled", "xfail")] * 2 + [("pass", "xpass")] * 2, 2)[1] == (
        "0 passed, 0 failed, 2 expected failures, 2 unexpected passes, 2 spec errors"
    )


def test_the_cli_summary_line_says_1_claim(tmp_path, capsys):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM.replace("2 * W}", "W, expect: fail}"))
    (tmp_path / "bad.yaml").write_text("loss: [\n")
    assert main(["check", str(tmp_path), "--seed", "1"]) == 2
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("0 passed, 0 failed, 1 expected failure, 1 spec error in ")
    assert last.endswith("s  [1 claim: scaled 1]  seed 1")


# --- numeric options are checked when they are read: CLI, pytest and the Python API alike ---------

BAD_OPTIONS = {
    "rtol-negative": (["--rtol", "-1"], "argument --rtol: must be at least 0, got -1"),
    "rtol-inf": (["--rtol", "inf"], "argument --rtol: must be a finite number, got inf"),
    "atol-nan": (["--atol", "nan"], "argument --atol: must be a finite number, got nan"),
    "memory-nan": (["--memory", "nan"], "argument --memory: must be a finite number, got nan"),
    "memory-inf": (["--memory", "inf"], "argument --memory: must be a finite number, got inf"),
    "memory-zero": (["--memory", "0"], "argument --memory: must be greater than 0, got 0"),
    "examples-negative": (["--examples", "-3"], "argument --examples: must be at least 1, got -3"),
    "examples-float": (["--examples", "2.5"], "argument --examples: must be an integer, got '2.5'"),
    "directions-negative": (["--directions", "-1"], "argument --directions: must be at least 1, got -1"),
    "timeout-negative": (["--timeout", "-1"], "argument --timeout: must be at least 0, got -1 (0 = no limit)"),
    "rtol-word": (["--rtol", "tight"], "argument --rtol: must be a number, got 'tight'"),
}


@pytest.mark.parametrize("args, message", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_a_bad_numeric_option_is_a_usage_error_before_anything_runs(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", str(SEED_SPEC), *args])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == f"gradcheck check: error: {message}"
    assert captured.out == ""


def test_a_bad_numeric_option_is_a_usage_error_in_pytest_too(pytester):
    result = pytester.runpytest("--gradcheck-rtol", "-1", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*error: argument --gradcheck-rtol: must be at least 0, got -1"])


def _loss(x, **_):
    import numpy as np

    return np.sum(x**2)


def _grad(x, **_):
    return 2 * x


BAD_KEYWORDS = {
    "rtol-negative": ({"rtol": -1}, "rtol must be at least 0, got -1"),
    "atol-nan": ({"atol": float("nan")}, "atol must be a finite number, got nan"),
    "rtol-inf": ({"rtol": float("inf")}, "rtol must be a finite number, got inf"),
    "rtol-text": ({"rtol": "1e-6"}, "rtol must be a number, got '1e-6'"),
    "directions-zero": ({"directions": 0}, "directions must be at least 1, got 0"),
    "examples-negative": ({"examples": -3}, "examples must be at least 0, got -3"),
    "examples-float": ({"examples": 2.5}, "examples must be an integer, got 2.5"),
    "seed-text": ({"seed": "7"}, "seed must be an integer, got '7'"),
}


@pytest.mark.parametrize("kwargs, message", BAD_KEYWORDS.values(), ids=BAD_KEYWORDS.keys())
def test_a_bad_numeric_keyword_is_the_apis_located_error(kwargs, message):
    from gradcheck import check_gradient
    from gradcheck.errors import SchemaError

    with pytest.raises(SchemaError) as info:
        check_gradient(_loss, _grad, wrt="x", inputs={"x": "n"}, **{"examples": 2, "seed": 1, **kwargs})
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == f"tests/test_gate.py:{line}:9: {message}"


# --- --report is checked before any claim runs ------------------------------------------------------


def _no_check_ran(monkeypatch):
    import gradcheck.check

    def refuse(*args, **kwargs):
        raise AssertionError("a claim was checked")

    monkeypatch.setattr(gradcheck.check, "check_plan", refuse)


def test_report_at_the_spec_itself_is_refused_before_running(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    _no_check_ran(monkeypatch)
    assert main(["check", str(path), "--report", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"gradcheck check: --report {path}: this is a spec file to check, not a folder: "
        "give a folder for the report (it holds several files)\n"
    )
    assert path.read_text() == ONE_CLAIM


def test_report_at_an_existing_file_is_refused_before_running(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    (tmp_path / "notes.txt").write_text("mine")
    _no_check_ran(monkeypatch)
    assert main(["check", str(path), "--report", str(tmp_path / "notes.txt")]) == 2
    assert capsys.readouterr().err == (
        f"gradcheck check: --report {tmp_path / 'notes.txt'}: a file is in the way, not a folder: "
        "give a folder for the report (it holds several files)\n"
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_report_where_no_folder_can_be_made_is_refused_before_running(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    (tmp_path / "notes.txt").write_text("mine")
    _no_check_ran(monkeypatch)
    target = tmp_path / "notes.txt" / "report"
    assert main(["check", str(path), "--report", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"gradcheck check: --report {target}: cannot write there (Not a directory): give a folder you can write to\n"
    )


def test_report_in_a_read_only_place_is_refused_before_running(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    _no_check_ran(monkeypatch)
    target = "/proc/gradcheck-report"  # not writable, even for root
    assert main(["check", str(path), "--report", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradcheck check: --report {target}: cannot write there (")
    assert err.endswith("): give a folder you can write to\n")


def test_report_option_in_pytest_is_checked_at_the_start(pytester):
    (pytester.path / "notes.txt").write_text("mine")
    result = pytester.runpytest("--gradcheck-report", "notes.txt", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--gradcheck-report notes.txt: a file is in the way, not a folder: give a folder for the report*"]
    )


def test_a_complete_run_removes_a_stale_incomplete_marker(tmp_path, capsys):
    path = tmp_path / "a.yaml"
    path.write_text(ONE_CLAIM)
    report = tmp_path / "report"
    report.mkdir()
    (report / "INCOMPLETE").write_text("interrupted: 0 claims were checked before the run was stopped\n")
    assert main(["check", str(path), "--seed", "1", "--report", str(report)]) == 0
    assert not (report / "INCOMPLETE").exists()
    capsys.readouterr()
    assert main(["report", str(report)]) == 0
    assert "interrupted" not in capsys.readouterr().out


# --- claim names that a spreadsheet would run as formulas are escaped in the CSV files only ---------

FORMULAS = (
    "dims: {n: [2, 4]}\ninputs: {W: {shape: [n]}}\nloss: sum(W ** 2)\nclaims:\n"
    '  - {name: "=SUM(1,2)", wrt: W, gradient: 2 * W}\n'
    '  - {name: "-y", wrt: W, gradient: 3 * W, expect: fail}\n'
    '  - {name: "@z", wrt: W, gradient: 2 * W}\n'
    '  - {name: "\'+x", wrt: W, gradient: 2 * W}\n'
    "  - {name: plain, wrt: W, gradient: 2 * W}\n"
)
NAMES = ["=SUM(1,2)", "-y", "@z", "'+x", "plain"]


def test_formula_like_claim_names_are_escaped_in_csv_and_read_back_unchanged(tmp_path, capsys):
    import csv

    from gradcheck.report import diff, record

    path = tmp_path / "formulas.yaml"
    path.write_text(FORMULAS)
    report = tmp_path / "r"
    assert main(["check", str(path), "--seed", "1", "--examples", "2", "--report", str(report)]) == 0
    for name in ("summary.csv", "results.csv"):
        with (report / name).open(newline="") as fh:
            claims = list(dict.fromkeys(row["claim"] for row in csv.DictReader(fh)))
        assert claims == ["'=SUM(1,2)", "'-y", "'@z", "''+x", "plain"], name
    assert [c.claim for c in record.load(report).claims] == NAMES
    assert [c.claim for c in record.load(report).expected_failures] == ["-y"]
    path.write_text(FORMULAS.replace('"=SUM(1,2)", wrt: W, gradient: 2 * W', '"=SUM(1,2)", wrt: W, gradient: 3 * W'))
    assert main(["check", str(path), "--seed", "1", "--examples", "2", "--report", str(tmp_path / "r2")]) == 1
    found = diff.compare(report, tmp_path / "r2")
    assert [(c.claim, c.kind) for c in found.changes] == [("=SUM(1,2)", "regression")]
    capsys.readouterr()
    assert main(["report", str(report)]) == 0
    assert "'=SUM" not in (report / "summary.md").read_text()


def test_a_missing_path_beside_an_empty_folder_says_both_and_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty), str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"ERROR {tmp_path / 'nope.yaml'}: no such file or folder\n"
        f"gradcheck check: {empty}: no .yaml or .yml file in this folder: nothing to check\n"
    )


def test_run_options_built_in_python_obey_the_same_ranges():
    from gradcheck.options import RunOptions

    with pytest.raises(ValueError, match=r"^rtol must be at least 0, got -1$"):
        RunOptions(rtol=-1)
    with pytest.raises(ValueError, match=r"^memory must be a finite number, got nan$"):
        RunOptions(memory=float("nan"))
    assert RunOptions(rtol=0.0, examples=3).rtol == 0.0


def test_a_quoted_glob_that_matches_folders_checks_the_specs_in_them(tmp_path, capsys):
    (tmp_path / "team_a").mkdir()
    (tmp_path / "team_a" / "a.yaml").write_text(ONE_CLAIM)
    (tmp_path / "team_b").mkdir()
    (tmp_path / "team_b" / "b.yml").write_text(ONE_CLAIM.replace("grad-W", "other"))
    assert main(["check", str(tmp_path / "team_*"), "--seed", "1"]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_a_recursive_glob_checks_each_spec_once(tmp_path, capsys):
    (tmp_path / "team_a").mkdir()
    (tmp_path / "team_a" / "a.yaml").write_text(ONE_CLAIM)
    assert main(["check", str(tmp_path / "**"), "--seed", "1"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_an_unknown_claim_name_lists_at_most_12_claims():
    from gradcheck.run import unmatched_names

    known = [f"c{i:02d}" for i in range(13)]
    assert unmatched_names(["zzz", "c00", "zzz"], known, "s.yaml", "--claim") == [
        "--claim zzz matches no claim in s.yaml (their claims: " + ", ".join(known[:12]) + ", ...)"
    ]
