"""The plugin's gate never passes silently: a --gradcheck-claim that matches nothing, the summary
line that counts the API's checks too, and AssertionError messages whose first line is the verdict."""

from __future__ import annotations

from support import SSE_SOURCE

SEED = ["--gradcheck-seed", "3", "-p", "no:cacheprovider", "-ra"]


def test_a_claim_option_that_matches_nothing_exits_5_with_a_did_you_mean(project):
    result = project.runpytest("specs", "tests", *SEED, "--gradcheck-claim", "Right")
    assert result.ret == 5
    result.stdout.fnmatch_lines(
        ["*--gradcheck-claim Right matches no claim in the collected spec files: did you mean 'right'?*"]
    )
    result.assert_outcomes()  # nothing ran


def test_one_claim_option_that_matches_nothing_is_an_error_even_when_another_matches(project):
    result = project.runpytest("specs", *SEED, "--gradcheck-claim", "right", "--gradcheck-claim", "nope")
    assert result.ret == 5
    result.stdout.fnmatch_lines(
        [
            "*--gradcheck-claim nope matches no claim in the collected spec files (their claims: both, doubled, known-doubled, right)*"
        ]
    )


def test_a_claim_option_that_matches_nothing_exits_5_under_xdist_too(project):
    result = project.runpytest_subprocess("specs", *SEED, "-n", "2", "--gradcheck-claim", "Right")
    assert result.ret == 5
    result.stdout.fnmatch_lines(
        ["*--gradcheck-claim Right matches no claim in the collected spec files: did you mean 'right'?"]
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_the_summary_line_counts_the_api_checks_too(project):
    result = project.runpytest("specs", "tests", *SEED)
    result.assert_outcomes(passed=4, failed=2, xfailed=1)
    result.stdout.fnmatch_lines(["*-- gradcheck --*", "7 claims: * (4 passed, 2 failed, 1 expected failure)  seed 3"])


def test_an_api_assertion_message_starts_with_the_verdict(project):
    result = project.runpytest("tests", *SEED)  # the short summary line, cut to 80 columns
    result.stdout.fnmatch_lines(["FAILED tests/test_api_use.py::test_relu_grad_no_mask - AssertionError: FAIL t*"])
    verbose = project.runpytest("tests", *SEED, "-vv")
    verbose.stdout.fnmatch_lines(
        [
            "FAILED tests/test_api_use.py::test_relu_grad_no_mask - AssertionError: "
            "FAIL tests/test_api_use.py:28:5 claim 'relu_grad_no_mask' (d loss / d W)"
        ]
    )


def test_a_report_written_by_pytest_removes_a_stale_incomplete_marker(project):
    report = project.path / "out"
    report.mkdir()
    (report / "INCOMPLETE").write_text("interrupted: 0 claims were checked before the run was stopped\n")
    # in a subprocess: the report writer may load modules (pyarrow) that cannot be loaded twice
    result = project.runpytest_subprocess("specs", *SEED, "--gradcheck-claim", "right", "--gradcheck-report", "out")
    result.assert_outcomes(passed=1, deselected=4)
    assert (report / "summary.csv").exists() and not (report / "INCOMPLETE").exists()


def test_a_claim_option_when_no_spec_was_collected_says_so(project):
    result = project.runpytest("tests", *SEED, "--gradcheck-claim", "right")
    assert result.ret == 5
    result.stdout.fnmatch_lines(["*--gradcheck-claim right matches no claim in any spec file: none was collected*"])


def test_a_claim_left_out_by_k_is_not_called_a_typo(project):
    result = project.runpytest("specs", *SEED, "-k", "doubled", "--gradcheck-claim", "right")
    assert "matches no claim" not in result.stdout.str()
    assert result.ret == 5  # pytest's own exit: -k and the claim together leave nothing to run
    result.assert_outcomes(deselected=5)


def test_the_api_checks_are_counted_under_xdist_too(project):
    result = project.runpytest_subprocess("specs", "tests", *SEED, "-n", "2")
    result.assert_outcomes(passed=4, failed=2, xfailed=1)
    result.stdout.fnmatch_lines(["7 claims: * (4 passed, 2 failed, 1 expected failure)  seed 3"])


def test_a_spec_that_cannot_be_read_is_no_claim_typo_under_xdist(project):
    (project.path / "specs" / "broken.yaml").write_text("loss: [\n")
    result = project.runpytest_subprocess("specs", *SEED, "-n", "2", "--gradcheck-claim", "secret")
    assert result.ret != 0
    assert "matches no claim" not in result.stdout.str()
    result.stdout.fnmatch_lines(["ERROR specs/broken.yaml*"])


CHECK_AS_VALUE = (
    SSE_SOURCE
    + """

from gradcheck import check_gradient


def test_the_checker_catches_a_doubled_gradient():
    result = check_gradient(
        sse, sse_grad_doubled, inputs={"X": "M in", "Y": "M out", "Theta": "in out"}, wrt="Theta", examples=3
    )
    assert not result.passed
"""
)


def test_a_check_whose_result_the_test_judges_is_not_counted(project):
    project.path.joinpath("tests", "test_values.py").write_text(CHECK_AS_VALUE)
    result = project.runpytest("tests/test_values.py", *SEED)
    result.assert_outcomes(passed=1)
    assert "failed" not in result.stdout.str().split("-- gradcheck --")[-1].split("seed 3")[0]
