"""The README stays true to the code: its function table lists every whitelisted function."""

from __future__ import annotations

import re
from pathlib import Path

from gradcheck.expr.functions import TABLE

README = Path(__file__).resolve().parents[1] / "README.md"


def _function_table() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Expression functions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = []
    for row in rows:
        first_cell = row.split("|")[1]
        names += re.findall(r"`([a-z_0-9]+)\(", first_cell)
    return names


def test_readme_function_table_lists_every_function_once():
    names = _function_table()
    assert len(names) == len(set(names)), "a function is listed twice"
    assert set(names) == set(TABLE), (
        f"missing from the README: {sorted(set(TABLE) - set(names))}; not functions: {sorted(set(names) - set(TABLE))}"
    )


def test_readme_function_signatures_match_the_table():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Expression functions", 1)[1].split("\n## ", 1)[0]
    for name, fn in TABLE.items():
        if fn.variadic or fn.params and fn.params[0][1] in ("shape", "size", "arrays"):
            continue
        assert f"`{fn.signature}`" in section, f"README's signature for {name} differs from {fn.signature}"


def test_readme_install_line_matches_the_makefile():
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    extras = re.search(r"pip install --quiet -e '(\.\[[^]]*\])'", makefile).group(1)
    assert f"pip install -e '{extras}'" in README.read_text(encoding="utf-8")
