"""ARCHITECTURE.md stays true: every package and module it names exists, and every package
and top-level module of gradcheck/ is named there."""

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
