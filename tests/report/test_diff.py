"""`gradcheck diff OLD NEW`: a planted regression is listed first and exits 1."""

from __future__ import annotations

import shutil

import pytest

from gradcheck.cli import main
from gradcheck.report import diff

from .conftest import ROOT, SEED_SPEC
from .readback import code, tables

CLAIMS = ["--claim", "answer", "--claim", "answerer", "--claim", "step-b-h-not-dh"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """OLD: the seed spec. NEW: `answer` gets a factor 3 (a regression), `step-b-h-not-dh` loses its
    `expect: fail` (now unexpected), `step-c` is renamed (one removed, one added)."""
    base = tmp_path_factory.mktemp("diff")
    old_spec = base / "old" / "least_squares.yaml"
    new_spec = base / "new" / "least_squares.yaml"
    for spec in (old_spec, new_spec):
        spec.parent.mkdir()
        shutil.copy(ROOT / "specs" / "gallery_code.py", spec.parent)
    text = SEED_SPEC.read_text()
    old_spec.write_text(text)
    planted = (
        text.replace("    gradient: X.T @ ((b - Y) * dh(a))\n", "    gradient: 3 * X.T @ ((b - Y) * dh(a))\n", 1)
        .replace("    vjp: G * h(a)\n    expect: fail\n", "    vjp: G * h(a)\n")
        .replace("  - name: step-c\n", "  - name: step-c-renamed\n")
    )
    assert planted.count("3 * X.T") == 1 and "step-c-renamed" in planted
    new_spec.write_text(planted)
    args = ["--seed", "2", "--examples", "5", *CLAIMS, "-q"]  # a --claim that matches no claim is exit 5
    assert main(["check", str(old_spec), "--report", str(base / "OLD"), *args, "--claim", "step-c"]) == 0
    assert main(["check", str(new_spec), "--report", str(base / "NEW"), *args, "--claim", "step-c-renamed"]) == 1
    return base / "OLD", base / "NEW"


def test_a_planted_regression_comes_first_and_exits_1(two_runs, capsys):
    old, new = two_runs
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"gradcheck diff {old} -> {new}: 1 regression, 1 now unexpected, 1 added, 1 removed (3 claims compared)"
    )
    assert out[1].split() == ["change", "spec", "claim", "before", "now", "diagnosis"]
    assert out[2].split()[:7] == [
        "regression",
        "least-squares-sigmoid",
        "answer[Theta]",
        "PASS",
        "pass",
        "FAIL",
        "scaled",
    ]
    assert out[2].endswith("scaled: the claim is 3 x the gradient on every entry (factor 3)")
    assert out[3].split()[:7] == [
        "now",
        "unexpected",
        "least-squares-sigmoid",
        "step-b-h-not-dh[a]",
        "XFAIL",
        "wrong",
        "FAIL",
    ]
    assert out[4].split()[:3] == ["added", "least-squares-sigmoid", "step-c-renamed[b]"]
    assert out[5].split()[:3] == ["removed", "least-squares-sigmoid", "step-c[b]"]
    assert out[-1] == f"written to {new / 'diff.md'}"


def test_the_markdown_diff_is_a_gfm_table(two_runs, capsys):
    old, new = two_runs
    assert main(["diff", str(old), str(new), "--markdown"]) == 1
    printed = capsys.readouterr().out
    assert printed == (new / "diff.md").read_text()
    assert printed.startswith("### 🔴 gradcheck diff: 1 regression")
    (table,) = tables(printed)
    assert [r[0] for r in table[1:]] == ["regression", "now unexpected", "added", "removed"]
    assert code(table[1][2]) == "answer[Theta]" and table[1][3:5] == ["PASS pass", "FAIL scaled"]


def test_no_change_exits_0_and_a_fix_is_not_a_regression(two_runs, capsys):
    old, new = two_runs
    assert main(["diff", str(old), str(old)]) == 0
    assert "no verdict changed (4 claims compared)" in capsys.readouterr().out
    backwards = diff.compare(new, old)
    assert backwards.exit_code == 0
    assert [c.kind for c in backwards.changes] == ["fixed", "fixed", "added", "removed"]


def test_a_spec_that_no_longer_reads_is_a_regression_for_its_passing_claims(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n]}}\nloss: sum(x ** 2)\n"
        "claims:\n  - {name: g, wrt: x, gradient: 2 * x}\n  - {name: h, wrt: x, gradient: x, expect: fail}\n"
    )
    assert main(["check", str(spec), "--seed", "1", "--report", str(tmp_path / "OLD"), "-q"]) == 0
    spec.write_text(spec.read_text().replace("dims: {n: 3}\n", ""))  # now `n` is an unknown dim
    assert main(["check", str(spec), "--seed", "1", "--report", str(tmp_path / "NEW"), "-q"]) == 2
    found = diff.compare(tmp_path / "OLD", tmp_path / "NEW")
    assert found.exit_code == 1
    assert [(c.claim, c.kind) for c in found.changes] == [("g", "regression"), ("h", "now unexpected")]
    assert found.changes[0].new.short() == "ERROR spec-error" and "unknown dim 'n'" in found.changes[0].now


def test_a_folder_without_a_report_exits_2(tmp_path, capsys):
    assert main(["diff", str(tmp_path), str(tmp_path)]) == 2
    assert "no summary.csv here" in capsys.readouterr().err
