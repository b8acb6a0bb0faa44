"""The package stays in short, typed pieces (issue 12): in the whole of gradcheck/ no blind
``except Exception`` that is neither re-raised nor justified (ruff BLE001; a justification is
``# noqa: BLE001  reason``), no function over 8 parameters (PLR0913), 50 statements (PLR0915) or
60 lines of code (its docstring not counted: the public API documents itself at length), and in
the checking core (ROOMS: the stages that decide a label, second order and the repair search)
no verdict label written as a bare string where it is decided (a comparison, a
Finding's label, a Verdict's ``label=``). ``make test`` runs the same ruff rules (pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from gradcheck.verdict.methods import Oracle
from gradcheck.verdict.model import Label, Outcome

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ["check.py", "examine.py", "internal.py", "settings.py", "second_order.py", "diagnosis", "oracle", "repair"]
LABELS = {member.value for words in (Label, Outcome, Oracle) for member in words}  # every word a report decides
MAX_LINES = 60


def _files() -> list[Path]:
    found = []
    for room in ROOMS:
        path = ROOT / "gradcheck" / room
        found += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return found


def _package() -> list[Path]:
    return sorted((ROOT / "gradcheck").rglob("*.py"))


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The function's lines less its docstring's."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_ruff_finds_no_blind_except_and_no_long_function_in_the_package():
    rules = ["--select", "BLE001,PLR0913,PLR0915", "--config", "lint.pylint.max-args=8"]
    rules += ["--config", "lint.pylint.max-statements=50", "--output-format", "concise", "--no-cache"]
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *rules, *map(str, _package())],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_function_in_the_package_is_longer_than_sixty_lines_of_code():
    long = []
    for path in _package():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = _code_lines(node)
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long


def _bare(node: ast.AST) -> list[str]:
    """String constants in ``node`` that are labels, outcomes or oracle names."""
    values = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [v.value for v in values if isinstance(v, ast.Constant) and v.value in LABELS]


def _bare_labels(source: str) -> list[tuple[int, str]]:
    """(line, label) for each label of ``source`` written as a bare string where it is decided."""
    bare = []
    for node in ast.walk(ast.parse(source)):
        found = []
        if isinstance(node, ast.Compare):
            found = [s for side in [node.left, *node.comparators] for s in _bare(side)]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("Finding", "Verdict", "Estimate") and node.args:
                found = _bare(node.args[0])
            found += [s for k in node.keywords if k.arg in ("verdict", "label", "method") for s in _bare(k.value)]
        elif isinstance(node, ast.Assign):
            found = [s for s in _bare(node.value) if isinstance(node.value, ast.Tuple)]
        bare += [(node.lineno, s) for s in found]
    return bare


def test_no_label_is_decided_by_a_bare_string():
    bare = []
    for path in _files():
        found = _bare_labels(path.read_text(encoding="utf-8"))
        bare += [f"{path.relative_to(ROOT)}:{line} {s!r}" for line, s in found]
    assert not bare, bare


def test_the_label_rule_sees_each_way_of_deciding_a_label():
    planted = (
        'if v.label not in ("error", "not-finite"):\n    pass\n'
        'f = Finding("scaled", summary)\n'
        'v = replace(v, label="wrong")\n'
        'e = Estimate(value, error, method="complex-step")\n'
        'NUMERIC = ("pass", "inconclusive")\n'
        'text = "pass"  # not a decision\n'
        'if finding.label == "conjugated" or estimate.method == "dual-number":\n    pass\n'
    )
    assert sorted(_bare_labels(planted)) == [
        (1, "error"),
        (1, "not-finite"),
        (3, "scaled"),
        (4, "wrong"),
        (5, "complex-step"),
        (6, "inconclusive"),
        (6, "pass"),
        (8, "conjugated"),
        (8, "dual-number"),
    ]
    assert {f.name for f in _files()} >= {"second_order.py", "check.py", "search.py"}  # the core's rooms


def test_the_length_rule_counts_code_and_not_the_docstring():
    body = "".join(f"    x{i} = {i}\n" for i in range(61))
    long = ast.parse("def f():\n" + body).body[0]
    documented = ast.parse('def g():\n    """' + "doc\n" * 70 + '    """\n    return 1\n').body[0]
    assert _code_lines(long) == 62 and _code_lines(long) > MAX_LINES
    assert _code_lines(documented) == 2
