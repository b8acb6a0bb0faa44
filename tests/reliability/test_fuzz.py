"""Fuzz: every input ends in verdicts or a located SpecError, nothing else escapes."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck.options import RunOptions
from gradcheck.run import run

from .fuzz import TEMPLATE, expressions, mutations, quote

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("GRADCHECK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _check(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = run([str(path)], RunOptions(seed=0, examples=2, timeout=20))  # must not raise
    assert result.verdicts or result.failures
    for f in result.failures:
        assert f.message.startswith(f"{path}:"), f.message
        assert "internal error" not in f.message, f.message


@FUZZ
@given(loss=expressions(), claim=expressions())
def test_grammar_expressions(tmp_path_factory, loss, claim):
    tmp = tmp_path_factory.mktemp("g")
    _check(tmp, TEMPLATE.format(loss=quote(f"sum({loss})"), claim=quote(claim)))


SEED_TEXT = (ROOT / "specs" / "least_squares.yaml").read_text()
CORPUS_TEXT = (ROOT / "tests" / "corpus" / "matrices.yaml").read_text()


@FUZZ
@given(text=st.one_of(mutations(SEED_TEXT), mutations(CORPUS_TEXT)))
def test_mutated_specs(tmp_path_factory, text):
    tmp = tmp_path_factory.mktemp("m")
    (tmp / "gallery_code.py").write_text((ROOT / "specs" / "gallery_code.py").read_text())
    _check(tmp, text)


LOAD_EXAMPLES = int(os.environ.get("GRADCHECK_FUZZ_LOAD_EXAMPLES", "300"))


@settings(max_examples=LOAD_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.one_of(
        mutations(SEED_TEXT),
        mutations(CORPUS_TEXT),
        st.tuples(expressions(), expressions()).map(
            lambda t: TEMPLATE.format(loss=quote(f"sum({t[0]})"), claim=quote(t[1]))
        ),
    )
)
def test_load_and_compile_only(text):
    """The cheap stages alone (no sampling), so the long profile can reach 100,000 inputs."""
    from gradcheck.errors import SpecError
    from gradcheck.problem.build import build_problem
    from gradcheck.spec.load import load_spec_text

    try:
        build_problem(load_spec_text(text, "fuzz.yaml"))
    except SpecError as err:
        assert err.location is not None and err.location.file == "fuzz.yaml"
        assert "internal error" not in err.message, str(err)
