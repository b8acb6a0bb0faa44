"""ARCHITECTURE.md stays true: every package and module it names exists, every package and
top-level module of gradcheck/ is named there, and every module of a package in its entry."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "ARCHITECTURE.md"


def _named() -> set[str]:
    block = PAGE.read_text(encoding="utf-8").split("```", 2)[1]  # the layout block
    return set(re.findall(r"^  ([a-z_]+(?:/|\.py))\s", block, flags=re.M))


def test_every_name_in_the_layout_exists():
    missing = [n for n in _named() if not (ROOT / "gradcheck" / n.rstrip("/")).exists()]
    assert not missing, f"ARCHITECTURE.md names what gradcheck/ does not have: {missing}"


def test_every_package_and_module_is_in_the_layout():
    present = {p.name + "/" for p in (ROOT / "gradcheck").iterdir() if (p / "__init__.py").is_file()}
    present |= {p.name for p in (ROOT / "gradcheck").glob("*.py")}
    unnamed = sorted(present - _named())
    assert not unnamed, f"ARCHITECTURE.md does not describe: {unnamed}"


def _entries() -> dict[str, str]:
    """The layout block's entries: each package or module named there, with its description."""
    entries: dict[str, str] = {}
    for line in PAGE.read_text(encoding="utf-8").split("```", 2)[1].splitlines():
        start = re.match(r"^  ([a-z_]+(?:/|\.py))\s+(.*)", line)
        if start:
            entries[start.group(1)] = start.group(2)
        elif entries and line.startswith("    "):
            entries[next(reversed(entries))] += " " + line.strip()
    return entries


def test_every_module_of_a_package_is_named_in_its_entry():
    unnamed = [
        f"{package}{path.name}"
        for package, text in _entries().items()
        if package.endswith("/")
        for path in sorted((ROOT / "gradcheck" / package).glob("[!_]*.py"))
        if not re.search(rf"\b{path.stem}\b", text)
    ]
    assert unnamed == [], f"ARCHITECTURE.md's layout does not name these modules in their package's entry: {unnamed}"


def test_renamed_modules_and_classes_keep_their_old_names_importable():
    from gradcheck import limits, user_limits
    from gradcheck.problem.build import ClaimPlan, ClaimTarget

    assert ClaimPlan is ClaimTarget
    assert (limits.ClaimTimeout, limits.deadline, limits.user_traceback) == (
        user_limits.ClaimTimeout,
        user_limits.deadline,
        user_limits.user_traceback,
    )


def _paths_in_text() -> set[str]:
    """Every `path.py` or `folder/` the page names in backticks, outside the layout block too."""
    text = PAGE.read_text(encoding="utf-8")
    return set(re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:\.py|\.md|/))`", text))


def test_every_module_the_page_names_in_its_text_exists():
    def exists(name: str) -> bool:
        return any((base / name.rstrip("/")).exists() for base in (ROOT / "gradcheck", ROOT))

    missing = sorted(n for n in _paths_in_text() if not exists(n))
    assert missing == [], f"ARCHITECTURE.md names what the repository does not have: {missing}"
    assert {"problem/bound.py", "samples/draw.py", "report/record.py", "session.py"} <= _paths_in_text()


def test_the_docs_page_is_the_top_level_file():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert '--8<-- "ARCHITECTURE.md"' in page


def _stages() -> tuple[str, ...]:
    """The pipeline's stages, earliest first, as the page's import rule lists them: each may import
    only the ones before it (at module level, inside functions too; a TYPE_CHECKING block names
    types only, and is not counted)."""
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    (chain,) = re.findall(r"No stage imports a later one, inside functions either: ([a-z_ →]+),", text)
    return tuple(chain.split(" → "))


STAGES = _stages()


def test_the_import_rule_is_read_from_the_page():
    assert STAGES[:3] == ("errors", "internal", "user_limits") and STAGES[-1] == "examine"
    assert all(
        (ROOT / "gradcheck" / stage).is_dir() or (ROOT / "gradcheck" / f"{stage}.py").is_file() for stage in STAGES
    )
    assert {"expr", "verdict", "spec", "problem", "samples", "oracle", "settings", "diagnosis"} <= set(STAGES)


def _imports(path: Path, package: tuple[str, ...]) -> set[str]:
    """The top-level gradcheck packages and modules ``path`` (a file of ``gradcheck/<package...>``)
    imports, relative imports resolved."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for statement in node.body  # the else branch runs
        for n in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):  # import gradcheck.oracle.dual
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gradcheck.")}
        elif isinstance(node, ast.ImportFrom):
            module = [m for m in (node.module or "").split(".") if m]
            if node.level:  # relative: resolved against the file's package
                parts = list(package[: len(package) - (node.level - 1)]) + module
            elif module[:1] == ["gradcheck"]:
                parts = module[1:]
            else:
                continue
            found |= {parts[0]} if parts else {a.name for a in node.names}  # from .. import a, b
    return found


def _stage_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "gradcheck").parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def test_no_stage_imports_a_later_one():
    wrong = []
    for path in sorted((ROOT / "gradcheck").rglob("*.py")):
        stage = _stage_of(path)
        if stage not in STAGES:
            continue
        earlier = set(STAGES[: STAGES.index(stage) + 1])
        package = path.relative_to(ROOT / "gradcheck").parts[:-1]
        later = {m for m in _imports(path, package) if m in STAGES and m not in earlier}
        wrong += [f"{path.relative_to(ROOT)} imports {m}" for m in sorted(later)]
    assert wrong == [], wrong


def test_the_stage_rule_sees_an_import_that_runs_back_up(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\nfrom .dims import Dim\nif TYPE_CHECKING:\n    from ..examine import X\n"
        "def f():\n    from ..oracle import dual\n    return dual\n",
        encoding="utf-8",
    )
    assert _imports(planted, ("expr",)) == {"expr", "oracle"}  # a function's import counts, a type's does not


def test_the_stage_rule_sees_every_form_of_import(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import gradcheck.examine\nfrom gradcheck import diagnosis\nfrom .. import errors, oracle\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..settings import X\n"
        "else:\n    from ..samples import draw\n",
        encoding="utf-8",
    )
    # absolute imports of gradcheck's stages, every name of `from .. import a, b`, and the else branch
    # of a TYPE_CHECKING block (it runs) count
    assert _imports(planted, ("expr",)) == {"examine", "diagnosis", "errors", "oracle", "samples"}
