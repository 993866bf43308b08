"""The README and docs/ point at what exists: files, headings, make targets, the paths of the tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from baked import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", flags=re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MAKE_TARGET = re.compile(r"(?:`|^)make ([a-z][a-z-]*)", flags=re.M)
RULE = re.compile(r"^([a-z][a-z-]*)(?:\s+[a-z][a-z-]*)*\s*:(?!=)", flags=re.M)


def prose(page: Path) -> str:
    """The page without its fenced blocks (console sessions, diagrams, samples)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of ``page``: lower case, punctuation dropped, spaces as ``-``."""
    headings = re.findall(r"^#+ (.+)$", prose(page), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page)) if not re.match(r"[a-z]+:", target)]


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.relative_to(ROOT)}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_relative_link_points_at_what_exists(page):
    assert relative_links(page) or page.name != "README.md", "the README links nothing"
    assert broken_links(page) == []


def makefile_targets() -> set[str]:
    import multienv_tools

    # The repository's wiring and the platform's make rules it includes (multienv_tools/make/platform.mk).
    shipped = Path(multienv_tools.__file__).parent / "make" / "platform.mk"
    makefiles = [ROOT / "Makefile", *sorted(ROOT.glob("make/*.mk")), shipped]
    return {target for path in makefiles for target in RULE.findall(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_make_target_named_exists(page):
    named = set(MAKE_TARGET.findall(page.read_text(encoding="utf-8")))
    assert named - makefile_targets() == set()


def tree_paths() -> list[str]:
    """The paths of the README's annotated tree; an indented entry is inside the entry above it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## Where your code goes", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    paths, parent = [], ""
    for line in tree.splitlines():
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if line.startswith(" "):
            paths += [parent + name for name in names.split(", ")]
        else:
            parent = names
            paths.append(names)
    return paths


def test_the_readme_tree_names_what_is_there():
    paths = tree_paths()
    assert "requirements-platform.txt" in paths and not [p for p in paths if p.startswith("tools/")]
    assert [path for path in paths if not (ROOT / path).exists()] == []


def test_the_local_deploy_time_the_infrastructure_page_quotes_is_within_the_benchmark_target():
    text = " ".join((ROOT / "docs" / "infrastructure.md").read_text(encoding="utf-8").split())
    quoted = re.search(r"It takes (\d+) to (\d+) seconds for four environments.*?the target \(at most (\d+) s\)", text)
    assert quoted, "docs/infrastructure.md no longer says how long the local deploy takes, or its target"
    from multienv_tools.bench_local_deploy import TARGET_SECONDS as target

    low, high, said_target = map(int, quoted.groups())
    assert said_target == target
    assert low < high <= target
