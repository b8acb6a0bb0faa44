"""The docs stay true to the code: the function reference lists every whitelisted function, the
README's install line is the Makefile's, and the complex parameters' limits name what the code
refuses."""

from __future__ import annotations

import re
from pathlib import Path

from gradcheck.expr.functions import TABLE

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FUNCTIONS = ROOT / "docs" / "reference" / "functions.md"
SPEC = ROOT / "docs" / "reference" / "spec.md"


def _function_section() -> str:
    return FUNCTIONS.read_text(encoding="utf-8").split("# Expression functions", 1)[1]


def _function_table() -> list[str]:
    rows = [line for line in _function_section().splitlines() if line.startswith("| `")]
    names = []
    for row in rows:
        first_cell = row.split("|")[1]
        names += re.findall(r"`([a-z_0-9]+)\(", first_cell)
    return names


def test_docs_function_table_lists_every_function_once():
    names = _function_table()
    assert len(names) == len(set(names)), "a function is listed twice"
    assert set(names) == set(TABLE), (
        f"missing from {FUNCTIONS.name}: {sorted(set(TABLE) - set(names))}; "
        f"not functions: {sorted(set(names) - set(TABLE))}"
    )


def test_docs_function_signatures_match_the_table():
    section = _function_section()
    for name, fn in TABLE.items():
        if fn.variadic or fn.params and fn.params[0][1] in ("shape", "size", "arrays"):
            continue
        assert f"`{fn.signature}`" in section, f"{FUNCTIONS.name}'s signature for {name} differs from {fn.signature}"


def test_readme_install_line_matches_the_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    extras = re.search(r"pip install --quiet -e '(\.\[[^]]*\])'", makefile).group(1)
    assert f"pip install -e '{extras}'" in README.read_text(encoding="utf-8")


def test_the_readme_counts_the_functions_of_the_table():
    text = README.read_text(encoding="utf-8")
    (count,) = re.findall(r"Expressions use (\d+) whitelisted functions", text)
    assert int(count) == len(TABLE)


def _bullets(page: Path, heading: str) -> list[str]:
    """The bullets of the section ``heading`` of ``page``, each on one line."""
    section = page.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    return [" ".join(item.split()) for item in re.split(r"^- ", section, flags=re.M)[1:]]


def _named(bullets: list[str], start: str) -> set[str]:
    """The names in backticks (`real`, or a mapping's key: `{range: ...}`) of the bullet that starts so."""
    (bullet,) = [b for b in bullets if b.startswith(start)]
    return set(re.findall(r"`\{?([a-z_0-9]+)(?:`|:)", bullet))


def test_the_complex_limits_name_what_the_code_refuses():
    import typing

    from gradcheck.expr.complex_kernels import FIRST_ORDER, ORDERED
    from gradcheck.spec.complex_inputs import COMPLEX_DOMAINS
    from gradcheck.spec.model import ClaimKind

    limits = _bullets(SPEC, "### Limits")
    assert _named(limits, "Domains:") == set(COMPLEX_DOMAINS)
    assert _named(limits, "Only `gradient` claims:") == set(typing.get_args(ClaimKind))  # gradient, and the refused
    expressions = _bullets(SPEC, "### Expressions on complex data")
    assert _named(expressions, "functions that order their arguments") == set(ORDERED) | set(FIRST_ORDER)


def test_the_docs_list_the_report_contract_as_the_code_writes_it():
    """The verdict table (every label once, in Label's order), the outcomes, the summary.csv columns
    in their order and the oracle column's words: the contract, as the docs state it."""
    from gradcheck.verdict.methods import Oracle
    from gradcheck.verdict.model import Label, Outcome
    from gradcheck.verdict.serialize import SUMMARY_COLUMNS

    verdicts = (ROOT / "docs" / "reference" / "verdicts.md").read_text(encoding="utf-8")
    assert re.findall(r"^\| `([a-z-]+)` \|", verdicts, flags=re.M) == list(Label)
    assert [o for o in Outcome if f"`{o}`" not in verdicts] == []
    reports = (ROOT / "docs" / "how-to" / "reports.md").read_text(encoding="utf-8")
    (columns,) = re.findall(r"`summary\.csv` \(one row per claim and wrt: `([^`]*)`", reports)
    assert " ".join(columns.split()).split(", ") == SUMMARY_COLUMNS
    assert [o for o in Oracle if f"`{o}`" not in reports] == []
