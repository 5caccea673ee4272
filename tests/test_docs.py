"""The README is a short first page; the rest is in docs/, every link resolves, no machine-only path."""

from __future__ import annotations

import re

from conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def pages() -> list:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_is_a_short_first_page_with_the_two_commands_and_the_docs():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 120
    assert "make demo" in text and "make test" in text and "python main.py" in text
    linked = {m.group(1) for m in LINK.finditer(text) if m.group(1).startswith("docs/")}
    assert linked == {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}  # every page is findable


def test_every_relative_link_resolves():
    for page in pages():
        for m in LINK.finditer(page.read_text()):
            target = m.group(1)
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_no_path_that_only_exists_on_our_machines():
    for page in pages():
        text = page.read_text()
        for bad in ("../shared", "/work/", "/tmp/pytest", "/home/"):
            assert bad not in text, f"{page.name} mentions {bad}"


def test_coverage_overlap_and_conflict_are_defined():
    text = (ROOT / "docs" / "sandbox.md").read_text()
    for word in ("coverage", "overlap", "conflict"):
        assert re.search(rf"\*{word}\*\s+is|its \*{word}\*|\*{word}\*", text, re.I), word
