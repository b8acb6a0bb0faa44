"""The documentation site builds strictly, every page is reachable from the nav, and every
relative link in README.md (the landing page, read on GitHub) points at a file that exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
README = ROOT / "README.md"

# Markdown links and images: [text](target) / ![alt](target); the target up to a space or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages += _nav_pages(value)
        else:
            pages.append(value)
    return pages


def _config() -> dict:
    return YAML(typ="safe").load(MKDOCS_YML.read_text(encoding="utf-8"))


def test_every_docs_page_is_in_the_nav():
    nav = _nav_pages(_config()["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(pages) - set(nav)) == [], "docs pages missing from mkdocs.yml's nav"
    assert sorted(set(nav) - set(pages)) == [], "nav entries without a page in docs/"


def test_readme_relative_links_resolve_to_files():
    text = README.read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.startswith(("#", "mailto:"))]
    assert targets, "README.md links to no docs page"
    missing = [t for t in targets if not (ROOT / t.split("#", 1)[0]).is_file()]
    assert missing == [], f"README.md links to files that do not exist: {missing}"


def test_readme_links_every_docs_page():
    linked = {(ROOT / t.split("#", 1)[0]).resolve() for t in LINK.findall(README.read_text(encoding="utf-8"))}
    pages = sorted(p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*.md") if p.resolve() not in linked)
    assert pages == [], f"docs pages more than one link away from README.md: {pages}"


def test_mkdocs_build_strict_passes(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[test]' (mkdocs, mkdocstrings, mkdocstrings-python)")
    pytest.importorskip("mkdocstrings_handlers.python", reason="pip install -e '.[test]' (mkdocstrings-python)")
    start = time.perf_counter()
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, f"mkdocs build --strict failed after {seconds:.1f} s:\n{done.stderr}"
    assert (tmp_path / "site" / "reference" / "api" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="gradcheck.api.check_gradient"' in api, "mkdocstrings rendered no API reference"
