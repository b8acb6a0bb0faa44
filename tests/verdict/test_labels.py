"""Verdict labels and outcomes are types, not text: outside gradcheck/verdict/model.py no string
constant equal to a Label or Outcome value is compared with, used as a dict key, returned or
passed to a call. Code writes ``Label.PASS`` and ``Outcome.XFAIL``; the StrEnums' values stay the
report contract (summary.csv's ``verdict`` and ``outcome`` columns)."""

from __future__ import annotations

import ast
from pathlib import Path

from gradcheck.verdict.model import Label, Outcome

PACKAGE = Path(__file__).resolve().parents[2] / "gradcheck"
WORDS = {m.value for m in Label} | {m.value for m in Outcome}

# where the enums are defined: the one place their values are written
DEFINED = ("verdict/model.py",)

# the same words meaning something else, each place named (file, line text it holds):
ALLOWED = {
    # a markdown table's header: the column holding a spec file's error message
    ("report/markdown.py", '("spec", "error")'),
    # JUnit's element for a test that could not run (a spec that cannot be read)
    ("report/junit.py", 'case, "error", type=SPEC_ERROR'),
    # the heatmap's note says whether the claim was drawn transposed (figure text, not a label)
    ("report/figures.py", '"transposed" in note'),
    # the warnings filter's action: a ComplexWarning raised as an exception
    ("oracle/complex_step.py", 'simplefilter("error", np.exceptions.ComplexWarning)'),
}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _flagged(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    """A word in a comparison, a dict key, a return value or a call's argument (also inside a
    tuple, list or set literal there: ``x in ("ok", "xfail")``, ``f(("pass", "fail"))``)."""
    at, parent = node, parents.get(node)
    while isinstance(parent, (ast.Tuple, ast.List, ast.Set)):
        at, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Compare | ast.Return):
        return True
    if isinstance(parent, ast.Dict):
        return any(key is at for key in parent.keys)
    if isinstance(parent, ast.Call):
        return at in parent.args
    if isinstance(parent, ast.keyword):
        return isinstance(parents.get(parent), ast.Call)
    return False


def bare_literals(root: Path = PACKAGE) -> list[str]:
    """``file:line: 'word'`` for every flagged constant under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in DEFINED:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        parents = _parents(tree)
        for node in sorted(ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS):
                continue
            if not _flagged(node, parents):
                continue
            if any(rel == file and snippet in lines[node.lineno - 1] for file, snippet in ALLOWED):
                continue
            found.append(f"gradcheck/{rel}:{node.lineno}: {node.value!r}")
    return found


def test_no_bare_label_or_outcome_literal_in_the_package():
    found = bare_literals()
    assert not found, "write Label.X / Outcome.X, not the bare string:\n" + "\n".join(found)


def test_the_scan_finds_each_kind_of_use(tmp_path):
    (tmp_path / "m.py").write_text(
        "def f(v, d):\n"
        "    if v.label == 'pass':\n"  # a comparison
        "        return 'ok'\n"  # a return value
        "    g(v, 'scaled', outcome='xfail')\n"  # call arguments
        "    h(('fail', 'xpass'))\n"  # inside a literal passed to a call
        "    d = {'wrong': 1}\n"  # a dict key
        "    words = ['not a label', 'error']\n"  # none of these: a plain list element
        "    d['error'] = 2\n"  # a subscript (JSON you cannot change): not flagged
        "    return v.outcome in {'inconclusive'}\n",
        encoding="utf-8",
    )
    found = [f.split(":", 1)[1] for f in bare_literals(tmp_path)]
    assert found == [
        "2: 'pass'",
        "3: 'ok'",
        "4: 'scaled'",
        "4: 'xfail'",
        "5: 'fail'",
        "5: 'xpass'",
        "6: 'wrong'",
        "9: 'inconclusive'",
    ]


def test_the_allow_list_names_places_that_still_exist():
    for file, snippet in ALLOWED:
        assert snippet in (PACKAGE / file).read_text(encoding="utf-8"), (
            f"{file}: {snippet} is gone: drop it from ALLOWED"
        )
