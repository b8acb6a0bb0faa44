"""The pytest plugin on a sample user project (tests/plugin/conftest.py): collection, failure
blocks, strict xfails, spec errors, the summary line, JUnit, pytest-xdist and the merged report."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import pytest

SEED = ["--gradcheck-seed", "3", "-p", "no:cacheprovider", "-ra"]
SPEC_IDS = [
    "specs/linear.yaml::right",
    "specs/linear.yaml::doubled",
    "specs/linear.yaml::known-doubled",
    "specs/linear.yaml::both[X]",
    "specs/linear.yaml::both[Theta]",
]


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_one_ini_line_enables_collection_of_specs_and_nothing_else(project):
    result = project.runpytest("--collect-only", "-q", "specs", "config")
    assert collected(result) == SPEC_IDS
    assert "deploy.yaml" not in result.stdout.str()  # other YAML is never read

    project.makeini("[pytest]\n")  # without the line: only *.gradcheck.yaml files
    assert collected(project.runpytest("--collect-only", "-q", "specs")) == []
    (project.path / "specs" / "linear.yaml").rename(project.path / "specs" / "linear.gradcheck.yaml")
    ids = collected(project.runpytest("--collect-only", "-q", "specs"))
    assert ids == [i.replace("linear.yaml", "linear.gradcheck.yaml") for i in SPEC_IDS]


def test_a_yaml_file_named_on_the_command_line_is_collected(project):
    project.makeini("[pytest]\n")
    assert collected(project.runpytest("--collect-only", "-q", "specs/linear.yaml")) == SPEC_IDS


def test_wrong_numpy_gradient_fails_with_the_failure_block(project):
    result = project.runpytest("specs", *SEED)
    result.assert_outcomes(passed=3, failed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "gradcheck: seed 3 (given), spec files specs/*.yaml",
            "*_ doubled (d loss / d Theta) _*",
            "FAIL specs/linear.yaml:11:5 claim 'doubled' (d loss / d Theta)",
            "  example * (shrunk)  dims M=* in=* out=*  example seed *  run seed 3",
            "  expected shape (in, out)*",
            "  diagnosis: scaled: the claim is 2 x the gradient on every entry (factor 2)",
            "    a 1/2 was dropped*",
            "    index * | claimed * | oracle * | ratio",
            "  reproduce: gradcheck check specs/linear.yaml --claim doubled --seed 3",
            "  or: pytest 'specs/linear.yaml::doubled' --gradcheck-seed 3",
        ]
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "check.py" not in out  # no traceback into gradcheck internals
    result.stdout.fnmatch_lines(
        [
            "*- gradcheck -*",
            "5 claims: pass 3, scaled 2 (3 passed, 1 failed, 1 expected failure)  seed 3",
            "XFAIL specs/linear.yaml::known-doubled - scaled: the claim is 2 x the gradient on every entry (factor 2)",
        ]
    )


def test_expect_fail_is_a_strict_xfail(project):
    spec = project.path / "specs" / "linear.yaml"
    spec.write_text(spec.read_text().replace('sse_grad_doubled"}\n    expect: fail', 'sse_grad"}\n    expect: fail'))
    result = project.runpytest("specs", *SEED, "-k", "known")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "XPASS specs/linear.yaml:14:5 claim 'known-doubled' (d loss / d Theta)",
            "  the claim is marked `expect: fail` but it passed*",
        ]
    )
    result.stdout.fnmatch_lines(["1 claim: pass 1 (0 passed, 0 failed, 1 unexpected pass)  seed 3"])


def test_runxfail_reports_a_known_wrong_claim_as_failed(project):
    result = project.runpytest("specs", *SEED, "-k", "known", "--runxfail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["XFAIL specs/linear.yaml:14:5 claim 'known-doubled' (d loss / d Theta)", "  diagnosis: scaled: *"]
    )


def test_unreadable_spec_is_one_located_collection_error(project):
    bad = (project.path / "specs" / "linear.yaml").read_text().replace("[in, out]}", "[in, outt]}")
    (project.path / "specs" / "broken.yaml").write_text(bad)
    result = project.runpytest("specs", *SEED)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting specs/broken.yaml*",
            "specs/broken.yaml:5:23: unknown dim 'outt' in the shape of input 'Theta'",
            "  did you mean 'out'?",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_claim_option_selects_claims_and_reportinfo_points_at_the_yaml(project):
    result = project.runpytest("specs", *SEED, "--gradcheck-claim", "right", "-v")
    result.assert_outcomes(passed=1, deselected=4)
    result.stdout.fnmatch_lines(["specs/linear.yaml::right PASSED*"])
    item_lines = project.runpytest("--collect-only", "specs", *SEED)
    item_lines.stdout.fnmatch_lines(["*<ClaimItem right>*"])


def test_options_share_the_cli_table(project):
    from gradcheck.options import OPTIONS

    help_text = project.runpytest("--help").stdout.str()
    assert "gradcheck:" in help_text
    for opt in OPTIONS:
        assert f"--gradcheck-{opt.flag}" in help_text
    assert "gradcheck_specs" in help_text


def test_junit_has_the_failing_claims_file_and_line(project):
    result = project.runpytest("specs", *SEED, "--junitxml=junit.xml", "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=3, failed=1, xfailed=1)
    cases = {c.get("name"): c for c in ET.parse(project.path / "junit.xml").iter("testcase")}
    doubled = cases["doubled"]
    assert (doubled.get("file"), doubled.get("line")) == ("specs/linear.yaml", "10")  # 0-based, as pytest writes it
    failure = doubled.find("failure")
    assert failure.get("message").startswith("FAIL specs/linear.yaml:11:5 claim 'doubled'")
    props = {p.get("name"): p.get("value") for p in doubled.iter("property")}
    assert props == {"gradcheck_location": "specs/linear.yaml:11:5", "gradcheck_verdict": "scaled"}
    assert cases["known-doubled"].find("skipped").get("type") == "pytest.xfail"


def read(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_xdist_gives_the_same_verdicts_and_one_merged_report(project):
    def outcomes(result):
        return sorted(
            line.split(" - ")[0] for line in result.outlines if line.startswith(("PASSED", "FAILED", "XFAIL"))
        )

    serial = project.runpytest("specs", *SEED, "-rA")
    # in a subprocess: the report writer may load modules (pyarrow) that cannot be loaded twice
    parallel = project.runpytest_subprocess("specs", *SEED, "-rA", "-n", "2", "--gradcheck-report", "parallel")
    for result in (serial, parallel):
        result.assert_outcomes(passed=3, failed=1, xfailed=1)
        result.stdout.fnmatch_lines(["5 claims: pass 3, scaled 2 (*)  seed 3"])
    assert outcomes(parallel) == outcomes(serial) and len(outcomes(serial)) == 5
    parallel.stdout.fnmatch_lines([f"gradcheck report written to {project.path}/parallel"])
    rows = read(project.path / "parallel" / "summary.csv")
    assert [(r["claim"], r["wrt"], r["verdict"]) for r in rows] == [
        ("right", "Theta", "pass"),
        ("doubled", "Theta", "scaled"),
        ("known-doubled", "Theta", "scaled"),
        ("both", "X", "pass"),
        ("both", "Theta", "pass"),
    ]
    # the merged report is the one the command line writes for the same seed, byte for byte
    # (the command line in its own process, as users run it: see the note in the closing report
    # on an in-process divergence after pytester runs)
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "check", "specs", "--seed", "3", "--report", "cli", "-q"],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in ("summary.csv", "results.csv"):
        assert (project.path / "cli" / name).read_bytes() == (project.path / "parallel" / name).read_bytes()


def test_assert_gradient_in_a_user_test_judges_non_complex_safe_code(project):
    result = project.runpytest("tests", *SEED)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_relu_grad_no_mask _*",
            "E       AssertionError: FAIL tests/test_api_use.py:28:5 claim 'relu_grad_no_mask' (d loss / d W)",
            "E         expected shape (n, k)*",
            "E         diagnosis: wrong: *",
            "E         note: not complex-step safe (*); finite differences used",
            "E         reproduce: assert_gradient(..., seed=3)",
            "E         or: pytest --gradcheck-seed 3",
        ]
    )
    assert "gradcheck/api" not in result.stdout.str()  # the traceback stops at the user's call


def test_collection_imports_nothing_heavy(project):
    project.makeconftest("""
import sys

def pytest_collection_finish(session):
    heavy = sorted(m for m in ("numpy", "scipy", "pandas", "hypothesis") if m in sys.modules)
    print("HEAVY MODULES:", heavy or "none")
""")
    result = project.runpytest_subprocess("--collect-only", "-q", "-s", "specs", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["HEAVY MODULES: none"])
    assert collected(result) == SPEC_IDS


def test_no_python_ini_refuses_python_entries_at_collection(project):
    project.makeini("[pytest]\ngradcheck_specs = specs/*.yaml\ngradcheck_no_python = true\n")
    result = project.runpytest("specs", *SEED)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*specs/linear.yaml:*: loss names Python code (userpkg.losses:sse), and --no-python refuses every {python: ...} entry*"
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_every_error_of_a_spec_and_a_deep_helper_chain_are_located_collection_errors(project):
    text = (project.path / "specs" / "linear.yaml").read_text()
    bad = text.replace("[in, out]}", "[in, outt]}").replace('Theta: "X.T @ (X', 'Theta: "zz @ (X')
    (project.path / "specs" / "broken.yaml").write_text(bad)
    chain = "\n".join(f"  f{i}(z): f{i + 1}(z)" for i in range(200)) + "\n  f200(z): z"
    (project.path / "specs" / "deep.yaml").write_text(
        f"inputs: {{x: {{shape: [3]}}}}\ndefine:\n{chain}\nloss: sum(f0(x))\n"
        "claims: [{name: g, wrt: x, gradient: ones_like(x)}]\n"
    )
    result = project.runpytest("specs/broken.yaml", "specs/deep.yaml", *SEED)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting specs/broken.yaml*",
            "specs/broken.yaml:5:23: unknown dim 'outt' in the shape of input 'Theta'",
            "  did you mean 'out'?",
            "specs/broken.yaml:20:56: claim 'both': unknown name 'zz'",
            "*ERROR collecting specs/deep.yaml*",
            "specs/deep.yaml:3:10: define 'f0' nests helpers too deeply: inlined, it is 201 levels deep (at most 100)",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "RecursionError" not in result.stdout.str()


def test_a_failure_that_real_labels_could_explain_says_so_under_pytest(project):
    from tests.spec.test_integer_domains import REAL_LABELS

    (project.path / "specs" / "labels.yaml").write_text(REAL_LABELS)
    result = project.runpytest(*SEED, "specs/labels.yaml")
    result.assert_outcomes(failed=1)
    assert "input 'y' is drawn real-valued (domain real) but is compared with 1 (`y == 1`)" in result.stdout.str()


def test_a_spec_error_travels_with_its_line_not_parsed_from_its_message(project):
    """The report's spec-error row has the error's own line, even when the path holds ': '
    (a message's text is never parsed back for its location)."""
    bad = (project.path / "specs" / "linear.yaml").read_text().replace("[in, out]}", "[in, outt]}")
    (project.path / "specs" / "odd: name.yaml").write_text(bad)
    result = project.runpytest_subprocess("specs", *SEED, "--gradcheck-report", "rep")
    result.assert_outcomes(errors=1)
    (row,) = [r for r in read(project.path / "rep" / "summary.csv") if r["verdict"] == "spec-error"]
    assert (row["file"], row["line"]) == ("specs/odd: name.yaml", "5")
    assert row["diagnosis"].startswith("specs/odd: name.yaml:5:23: unknown dim 'outt'")
