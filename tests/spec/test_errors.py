"""Every error of a spec file in one run: independent errors are all reported, in file order."""

from __future__ import annotations

import textwrap

import pytest

from gradcheck.errors import ExpressionError, SchemaError, SpecError, SpecErrors
from gradcheck.spec.load import MAX_ERRORS, load_spec_text

PATH = "specs/many.yaml"


def errors_of(text: str) -> tuple[SpecError, ...]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(textwrap.dedent(text), PATH)
    error = caught.value
    return error.errors if isinstance(error, SpecErrors) else (error,)


def where(errors) -> list[str]:
    return [f"{e.location.line}:{e.location.col}" for e in errors]


def test_the_comma_trap_in_three_claims_is_reported_three_times():
    errors = errors_of(
        """\
        inputs: {x: {shape: [3]}, y: {shape: [3]}}
        loss: sum(x * y)
        claims:
          - {name: a, wrt: x, gradient: outer(x, y) @ ones(3)}
          - {name: b, wrt: y, gradient: x}
          - {name: c, wrt: y, gradient: maximum(x, y)}
          - {name: d, wrt: x, gradient: stack(x, y)}
        """
    )
    assert where(errors) == ["4:42", "6:44", "7:42"]
    assert [e.claim for e in errors] == ["a", "c", "d"]
    assert all(isinstance(e, SchemaError) and "unknown key" in e.message for e in errors)


def test_independent_errors_in_every_section_are_all_reported_in_file_order():
    errors = errors_of(
        """\
        dims: {n: 0}
        inputs:
          x: {shape: [n], domain: positve}
          w: {shape: [m]}
        define:
          f(z): z * q
        graph:
          a: x * 2 +
          b: w * nope
        loss: sum(a) + sum(b)
        claims:
          - {name: g, wrt: x, gradient: f(x}
          - {name: h, wrt: zz, gradient: x}
        settings: {rtol: -1, examples: 0}
        """
    )
    assert [e.message for e in errors] == [
        "dim 'n' must be at least 1, got 0",
        "unknown domain 'positve' for input 'x'",
        "unknown dim 'm' in the shape of input 'w'",
        "unknown name 'q'",
        "does not parse: invalid syntax",
        "unknown name 'nope'",
        "does not parse: '(' was never closed",
        "wrt 'zz' is not an input",
        "settings rtol must be at least 0, got -1",
        "settings examples must be at least 1, got 0",
    ]
    assert where(errors)[:3] == ["1:11", "3:27", "4:15"]


def test_the_cli_text_shows_each_error_with_its_location():
    with pytest.raises(SpecErrors) as caught:
        load_spec_text(
            "inputs: {x: {shape: [3]}}\nloss: sum(x) + p\nclaims:\n  - {name: g, wrt: xx, gradient: x}\n", PATH
        )
    assert str(caught.value) == (
        "specs/many.yaml:2:16: unknown name 'p'\n"
        "  sum(x) + p\n"
        "           ^\n"
        "specs/many.yaml:4:20: claim 'g': wrt 'xx' is not an input\n"
        "  did you mean 'x'?"
    )
    # SpecError's API stays: the first error's location and message
    assert caught.value.location.line == 2 and caught.value.message == "unknown name 'p'"


def test_a_single_error_is_raised_as_itself():
    errors = errors_of("inputs: {x: {shape: [3]}}\nloss: sum(x) + p\nclaims: [{name: g, wrt: x, gradient: x}]\n")
    assert len(errors) == 1 and type(errors[0]) is ExpressionError


def test_an_unknown_top_level_key_stops_before_the_sections_it_would_confuse():
    errors = errors_of(
        """\
        inputs: {x: {shape: [3]}}
        grpah:
          a: x * 2
        loss: sum(a)
        claim: [{name: g, wrt: x, gradient: 2 * ones_like(x)}]
        """
    )
    # 'claim' says "did you mean 'claims'?", so the missing section is not reported again
    assert [(e.message, e.hint) for e in errors] == [
        ("unknown key 'grpah'", "did you mean 'graph'?"),
        ("unknown key 'claim'", "did you mean 'claims'?"),
    ]


def test_a_broken_define_header_does_not_make_its_calls_unknown():
    errors = errors_of(
        """\
        inputs: {x: {shape: [3]}}
        define:
          f(z, 1): z * 2
        loss: sum(f(x, x))
        claims: [{name: g, wrt: x, gradient: 2 * ones_like(x)}]
        """
    )
    assert [e.message for e in errors] == ["parameter '1' of define 'f' must be an identifier"]


def test_a_broken_dim_or_input_is_not_reported_again_where_it_is_used():
    errors = errors_of(
        """\
        dims: {n: [3, 2]}
        inputs: {x: {shape: [n], domain: {range: [1, 0]}}}
        loss: sum(x)
        claims: [{name: g, wrt: x, gradient: ones_like(x)}]
        """
    )
    assert [e.message for e in errors] == [
        "dim 'n' has an empty range [3, 2]",
        "range of input 'x' is empty: [1.0, 0.0]",
    ]


def test_errors_are_capped_per_file():
    nodes = "\n".join(f"  a{i}: x * q{i}" for i in range(MAX_ERRORS + 5))
    text = f"inputs: {{x: {{shape: [3]}}}}\ngraph:\n{nodes}\nloss: sum(x)\nclaims: [{{name: g, wrt: x, gradient: x}}]\n"
    with pytest.raises(SpecErrors) as caught:
        load_spec_text(text, PATH)
    assert len(caught.value.errors) == MAX_ERRORS
    assert str(caught.value).endswith(
        f"specs/many.yaml: gradcheck stops after {MAX_ERRORS} errors in one file; fix these and run it again"
    )


def test_a_run_records_one_failure_per_file_that_shows_every_error(tmp_path):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: {x: {shape: [3]}}\nloss: sum(x) + p\nclaims:\n  - {name: g, wrt: xx, gradient: x}\n")
    good = tmp_path / "good.yaml"
    good.write_text("inputs: {x: {shape: [3]}}\nloss: sum(x)\nclaims: [{name: g, wrt: x, gradient: ones_like(x)}]\n")
    result = run([str(bad), str(good)], RunOptions(seed=1, examples=2))
    assert [(f.path, f.line) for f in result.failures] == [(str(bad), 2)]
    heads = [line for line in result.failures[0].message.splitlines() if line.startswith(str(bad))]
    assert heads == [f"{bad}:2:16: unknown name 'p'", f"{bad}:4:20: claim 'g': wrt 'xx' is not an input"]
    assert [v.label for v in result.verdicts] == ["pass"]


def test_a_group_of_errors_survives_pickling():
    # xdist workers and isolated runs send errors between processes
    import pickle

    with pytest.raises(SpecErrors) as caught:
        load_spec_text("inputs: {x: {shape: [3]}}\nloss: sum(x) + p\nclaims: [{name: g, wrt: xx, gradient: x}]\n", PATH)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and len(copy.errors) == 2 and not copy.truncated
    assert [type(e) for e in copy.errors] == [ExpressionError, SchemaError]
    assert copy.errors[1].location == caught.value.errors[1].location and copy.errors[1].claim == "g"
