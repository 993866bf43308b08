"""The repository's conventions: code owners, dependency updates and pre-commit hooks stay true to the tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from baked import ROOT

# What the production gate relies on reviews of: who may deploy, with what rights, where.
REVIEWED_PATHS = (
    "/infra/",
    "/access/",
    "/multienv.toml",
    "/.github/",
    "/requirements-platform.txt",
    "/requirements-deploy.txt",
    "/Makefile",
    "/make/",
    "/tests/smoke.py",
    "/renovate.json",
    "/data/masking.toml",
)
# Each pinned thing and the Dependabot ecosystem and folder that keeps it current. (The actions the
# rendered workflows pin are the platform's: a platform release moves them, see test_synth.py.)
PINNED = (
    ("requirements-dev.txt", "pip", "/"),
    ("requirements-uv.txt", "pip", "/"),
    ("requirements-deploy.txt", "pip", "/"),
    ("requirements-checkov.txt", "pip", "/"),
)


def codeowners() -> dict[str, list[str]]:
    rules = {}
    for line in (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *owners = line.split()
            rules[pattern] = owners
    return rules


@pytest.mark.parametrize("path", REVIEWED_PATHS)
def test_code_owners_review_what_the_production_gate_relies_on(path):
    # The template checked the owners' spelling; GitHub flags unknown ones on the file's page.
    assert codeowners().get(path), f"CODEOWNERS has no owner for {path}"


def test_every_code_owners_path_exists():
    missing = [pattern for pattern in codeowners() if not (ROOT / pattern.strip("/")).exists()]
    assert missing == [], "CODEOWNERS names paths that are gone"


@pytest.mark.parametrize("pinned,ecosystem,directory", PINNED)
def test_dependabot_keeps_every_pin_current(pinned, ecosystem, directory):
    assert (ROOT / pinned).is_file(), f"{pinned} moved: update this table and .github/dependabot.yml"
    updates = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))["updates"]
    assert any(u["package-ecosystem"] == ecosystem and u["directory"] == directory for u in updates)


def test_pre_commit_hooks_are_local_and_run_installed_tools():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"], "only local hooks work offline"
    for hook in config["repos"][0]["hooks"]:
        tool = Path(hook["entry"].split()[0])
        assert tool.parent == Path(".venv/bin"), hook["id"]
        assert (Path(sys.executable).parent / tool.name).exists(), f"{hook['id']}: {tool.name} is not a dev tool"
