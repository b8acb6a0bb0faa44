"""User-facing texts that no other test pinned: verdict summaries, spec errors and their hints,
API misuse. Each is triggered through the public entry points and compared in full."""

from __future__ import annotations

import numpy as np
import pytest
from support import verdicts_of

from gradcheck.api import check_gradient
from gradcheck.errors import SchemaError, SpecError
from gradcheck.options import RunOptions
from gradcheck.problem.build import build_problem
from gradcheck.run import run
from gradcheck.spec.load import load_spec_text

BASE = """\
spec: msgs
dims: {{n: 3, k: 4}}
inputs:
  x: {{shape: [n]}}
  S: {{shape: [n, n]}}
  A: {{shape: [n, k]}}
loss: {loss}
claims:
{claims}
"""


def _verdicts(tmp_path, loss, claims, examples=3):
    return verdicts_of(tmp_path, BASE.format(loss=loss, claims=claims), "msgs.yaml", seed=1, examples=examples)


def test_verdict_summaries_at_small_n(tmp_path):
    v = _verdicts(
        tmp_path,
        "sum(x ** 3) + sum(S ** 3) / 3 + sum(A ** 2) * 0 + x @ S @ x",
        """\
  - {name: flipped, wrt: x, gradient: "-(3 * x ** 2 + (S + S.T) @ x)", expect: fail}
  - {name: square-t, wrt: S, gradient: "(S ** 2 + outer(x, x)).T", expect: fail}
  - {name: right, wrt: x, gradient: "3 * x ** 2 + (S + S.T) @ x"}
""",
    )
    assert v["flipped"].diagnosis == "sign-flipped: the claim is -1 x the gradient on every entry"
    assert v["square-t"].diagnosis == "transposed: the claim equals the transpose of the gradient (S is square, (n, n))"
    assert {r.finding.summary for r in v["right"].records} == {"agrees along every direction"}


def test_a_claim_with_the_transposed_shape(tmp_path):
    v = _verdicts(tmp_path, "sum(A ** 2)", "  - {name: t, wrt: A, gradient: 2 * A.T, expect: fail}\n")
    assert v["t"].diagnosis == (
        "transposed: the claim has shape (k, n) = (4, 3), the transpose of A's (n, k), and its transpose matches"
    )


def test_verdict_summaries_at_large_n(tmp_path):
    """Above 4096 entries the diagnosis is directional: the check's 2 directions (2 examples) + 2 more."""
    path = tmp_path / "big.yaml"
    path.write_text("""\
spec: big
dims: {n: 80}
inputs:
  S: {shape: [n, n]}
  B: {shape: [n, n]}
loss: sum(S ** 3) / 3 + sum(S * B)
claims:
  - {name: flipped, wrt: S, gradient: "-(S ** 2 + B)", expect: fail}
  - {name: t, wrt: S, gradient: "(S ** 2 + B).T", expect: fail}
""")
    result = run([str(path)], RunOptions(seed=1, examples=2))
    v = {x.claim: x for x in result.verdicts}
    assert v["flipped"].diagnosis == "sign-flipped: the claim is -1 x the gradient along all 4 directions"
    assert v["t"].diagnosis == "transposed: the claim's transpose matches along all 4 directions"


@pytest.mark.parametrize(
    "claims, message",
    [
        ("  - {}\n", "a claim must not be empty"),
        ("  - {name: '', wrt: x, gradient: x}\n", "a claim name must be a one-line string, got an empty string"),
    ],
)
def test_claim_schema_errors(claims, message):
    with pytest.raises(SchemaError) as info:
        load_spec_text(BASE.format(loss="sum(x ** 2)", claims=claims), "m.yaml")
    assert info.value.message == message


def test_empty_spec_name():
    with pytest.raises(SchemaError) as info:
        load_spec_text(
            "spec: ' '\n" + BASE.split("\n", 1)[1].format(loss="sum(x)", claims="  - {name: a, wrt: x, gradient: x}"),
            "m.yaml",
        )
    assert info.value.message == "spec (the spec's name) must not be empty"


def test_a_loss_that_is_not_a_scalar_is_refused_with_a_hint():
    spec = load_spec_text(BASE.format(loss="x ** 2", claims="  - {name: a, wrt: x, gradient: 2 * x}\n"), "m.yaml")
    with pytest.raises(SpecError) as info:
        build_problem(spec)
    assert info.value.message == "the loss must be a scalar, but `x ** 2` has shape (n,)"
    assert info.value.hint == "reduce it, e.g. sum(...) or mean(...)"


def test_a_module_that_cannot_be_imported(tmp_path):
    text = BASE.format(loss="{python: 'no_such_module_xyz:f'}", claims="  - {name: a, wrt: x, gradient: 2 * x}\n")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    result = run([str(path)], RunOptions(seed=1))
    (v,) = result.verdicts  # found when the claim runs: an error verdict, the other claims go on
    assert v.label == "error"
    assert (
        v.diagnosis
        == "cannot import module 'no_such_module_xyz': ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )
    assert v.lines[-1] == "install the package, or put the module beside the spec or in the current directory"


def test_a_spec_over_1_mb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * 1_000_001 + "\n")
    result = run([str(path)], RunOptions(seed=1))
    (failure,) = result.failures
    assert "the spec is larger than 1 MB" in failure.message and "split it into several spec files" in failure.message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "give the inputs' shapes (inputs={...}) or fixed points (at=[...])"),
        ({"inputs": {"x": "n"}, "examples": 0}, "nothing to check: examples=0 and no fixed points (at=[...])"),
        ({"inputs": {"x": "n"}, "expect": "maybe"}, "expect must be 'pass' or 'fail', got 'maybe'"),
    ],
)
def test_api_misuse_messages(kwargs, message):
    with pytest.raises(SchemaError) as info:
        check_gradient(lambda x: np.sum(x), lambda x: np.ones_like(x), wrt="x", **kwargs)
    assert info.value.message == message


def test_a_tiny_factor_at_large_n_is_neither_a_half_nor_a_mean(tmp_path):
    """The directional diagnosis rounds and hints its factor like the full-array one."""
    path = tmp_path / "big.yaml"
    path.write_text("""\
spec: big
dims: {n: 80}
inputs:
  S: {shape: [n, n]}
loss: sum(S ** 3) / 3
claims:
  - {name: tiny, wrt: S, gradient: "1.000001 * S ** 2", expect: fail}
  - {name: triple, wrt: S, gradient: "3 * S ** 2", expect: fail}
""")
    result = run([str(path)], RunOptions(seed=1, examples=2))
    v = {x.claim: x for x in result.verdicts}
    assert (
        v["tiny"].diagnosis == "scaled: the claim is 1.000001 x the gradient along all 4 directions (factor 1.000001)"
    )
    assert v["tiny"].lines == (
        "too close to 1 for a dropped 1/2, a 1/n or a mean against a sum: a constant typed with too few digits, "
        "float32 arithmetic, or an epsilon or step size left in the formula? (relative error 1e-06)",
    )
    assert v["triple"].factor == 3.0
    assert v["triple"].lines == ("a 1/3 was dropped (a sum where a mean over 3 entries belongs?)",)


def test_a_float32_factor_is_rounded_within_its_error_bar(tmp_path):
    """A float32 claim twice the gradient measures 1.999999773: inside its rounding error bar the
    one simple rational is 2, so it reads 2, keeps the 1/2 hint, and not 'mean vs sum'."""
    (tmp_path / "f32.py").write_text(
        "import numpy as np\n"
        "def grad2_f32(X, w):\n"
        "    X32 = X.astype(np.float32)\n"
        "    s = np.tanh(X32 @ w.astype(np.float32))\n"
        "    return np.float32(2) * (X32.T @ (np.float32(1) - s * s))\n"
    )
    path = tmp_path / "f32.yaml"
    path.write_text(
        "dims: {M: [2, 6], n: [2, 5]}\ninputs:\n  X: {shape: [M, n]}\n  w: {shape: [n]}\n"
        "loss: sum(tanh(X @ w))\nclaims:\n"
        "  - {name: double32, wrt: w, gradient: {python: 'f32:grad2_f32'}, expect: fail}\n"
    )
    (v,) = run([str(path)], RunOptions(seed=1)).verdicts
    assert v.diagnosis == "scaled: the claim is 2 x the gradient on every entry (factor 2)"
    assert v.factor == 2.0
    assert v.lines[0].startswith(
        "a 1/2 was dropped: the claim fits the loss without its 1/2 (or d(x^2) = 2x was doubled) "
        "(the factor stays 2 when M changes from "
    )


def test_a_constant_factor_that_a_fixed_dim_could_explain_says_it_cannot_tell(tmp_path):
    """Every dim fixed: 2 may be a dropped 1/2 or a dropped 1/sqrt(k) with k = 4; nothing can be varied."""
    v = _verdicts(tmp_path, "0.5 * sum(x ** 2) + sum(A)", "  - {name: double, wrt: x, gradient: 2 * x, expect: fail}\n")
    assert v["double"].lines == (
        "a constant factor, or sqrt(k): a dim that could not be changed, so the two cannot be told apart "
        "(factor 2 at k = 4)",
    )


def test_the_entries_table_shows_a_ratio_near_1_with_the_digits_that_differ_from_1(tmp_path):
    from gradcheck.report.text import entries_table

    v = _verdicts(tmp_path, "sum(x ** 3) / 3", "  - {name: tiny, wrt: x, gradient: 1.000001 * x ** 2, expect: fail}\n")
    table = entries_table(v["tiny"])
    assert table[0].split("|")[-1].strip() == "ratio"
    assert {row.split("|")[-1].strip() for row in table[1:]} == {"1.000001"}


# -- the repair line under a failing expression claim (gradcheck.repair): every form pinned --------


def _repaired(**repair):
    from dataclasses import replace

    from gradcheck.verdict.model import Repair

    v = check_gradient(lambda x: np.sum(x**2), lambda x: 4 * x, inputs={"x": "n"}, wrt="x", seed=1, examples=2)
    return replace(v.verdict, repair=Repair(**repair))


@pytest.mark.parametrize(
    "repair, line",
    [
        (
            dict(fix="X.T @ R", edits=1, changes=('"R.T @ X" -> "X.T @ R"',), examples=25),
            'fix: X.T @ R   (1 edit: "R.T @ X" -> "X.T @ R"; verified on 25 examples)',
        ),
        (
            dict(fix="X.T @ R", edits=2, changes=('"2 * X.T" -> "X.T"', '"R.T" -> "R"'), examples=1),
            'fix: X.T @ R   (2 edits: "2 * X.T" -> "X.T"; "R.T" -> "R"; verified on 1 example)',
        ),
        (
            dict(derived="H.T @ dO", derived_examples=20),
            "a correct gradient: H.T @ dO   (derived; verified on 20 examples; "
            "no edit of the claim within 2 steps passes)",
        ),
        (
            dict(derived="H.T @ dO", derived_examples=20, exhausted="600 candidates"),
            "a correct gradient: H.T @ dO   (derived; verified on 20 examples; "
            "no edit found before the search's bound (600 candidates))",
        ),
        (dict(), "no fix: no edit of the claim within 2 steps passes, and no derived gradient to show"),
        (
            dict(internal_error="TypeError: boom"),
            "no fix: the repair search failed (TypeError: boom); this is a bug of gradcheck, please report it",
        ),
    ],
)
def test_the_repair_line_in_every_form(repair, line):
    from gradcheck.report.text import detail_lines, failure_block, repair_lines

    v = _repaired(**repair)
    assert repair_lines(v) == [line]
    assert f"        {line}" in detail_lines(v)
    assert f"\n  {line}\n" in failure_block(v)


def test_a_claim_with_non_finite_entries_says_how_many_and_the_first(tmp_path):
    v = _verdicts(
        tmp_path,
        "sum(x ** 2)",
        """\
  - {name: all, wrt: x, gradient: "2 * x / (x - x)", expect: fail}
  - {name: one, wrt: x, gradient: "2 * x / (x - x[2])", expect: fail}
""",
    )
    assert v["all"].label == v["one"].label == "not-finite"
    assert v["all"].diagnosis == "claimed gradient has 3 non-finite entries of 3 (first at (0,))"
    assert v["one"].diagnosis == "claimed gradient has 1 non-finite entry of 3 (first at (2,))"


def test_a_claim_that_passes_only_within_its_own_rounding_says_so(tmp_path):
    """(x + 1e8) - 1e8 rounds x at ulp(1e8): the plain check fails, the claim's rounding estimate excuses it."""
    v = _verdicts(tmp_path, "sum(x ** 2)", '  - {name: cancel, wrt: x, gradient: "((x + 1e8) - 1e8) + x"}\n')
    assert v["cancel"].label == "pass"
    assert "agrees within its own rounding error" in {r.finding.summary for r in v["cancel"].records}
    assert v["cancel"].notes == ("passed only after accounting for the claim's rounding error",)


def test_a_claim_that_runs_out_of_time_says_how_far_it_got_and_how_to_raise_the_limit(tmp_path):
    (tmp_path / "slow.py").write_text("import time\n\ndef slow(x):\n    time.sleep(30)\n    return 2 * x\n")
    v = verdicts_of(
        tmp_path,
        BASE.format(loss="sum(x ** 2)", claims='  - {name: slow, wrt: x, gradient: {python: "slow:slow"}}\n'),
        "msgs.yaml",
        seed=1,
        examples=3,
        timeout=1,
    )
    assert v["slow"].label == "error"
    assert v["slow"].diagnosis == "timed out after 1 s"
    assert v["slow"].lines == (
        "0 examples finished before the limit; a hung or very slow claim?",
        "raise the limit with --timeout SECONDS (0 = none)",
    )


def test_a_failure_met_during_the_search_is_recorded_as_pending_until_the_shrunk_one_is_explained(tmp_path):
    """Inside Hypothesis's search a failure is not explained (results.csv shows it as pending);
    only the shrunk example pays for the diagnosis."""
    v = verdicts_of(
        tmp_path,
        "dims: {n: [2, 6]}\ninputs:\n  x: {shape: [n]}\nloss: sum(x ** 3) / 3\nclaims:\n"
        '  - {name: twice, wrt: x, gradient: "2 * x ** 2", expect: fail}\n',
        "pending.yaml",
        seed=1,
        examples=5,
    )["twice"]
    unshrunk = [r.finding.summary for r in v.records if not r.shrunk]
    assert unshrunk and set(unshrunk) == {"fails the directional check (diagnosis pending)"}
    (shrunk,) = [r for r in v.records if r.shrunk]
    assert shrunk.finding.summary == "scaled: the claim is 2 x the gradient on every entry (factor 2)"
