"""The repository's conventions: code owners, dependency updates and pre-commit hooks stay true to the tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
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
    "/renovate.json",
)
# Each pinned thing and the Dependabot ecosystem and folder that keeps it current.
PINNED = (
    (".github/workflows/checks.yml", "github-actions", "/"),
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


PROBE = """
import {package}.{module}


def test_probe():
    pass
"""


def run_platform_probe(tmp_path: Path, module: str):
    """pytest on one test in a copy of tests/platform/ that imports ``module`` of the service package."""
    import os
    import shutil
    import subprocess

    from multienv.settings import load_settings

    package = load_settings(ROOT / "multienv.toml").package
    for name in ("Makefile", "multienv.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    platform = tmp_path / "tests" / "platform"
    platform.mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("conftest.py"), platform / "conftest.py")
    (platform / "test_probe.py").write_text(PROBE.format(package=package, module=module), encoding="utf-8")
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'src'}"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/platform"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_platform_tests_may_not_import_the_service_code(tmp_path):
    """make does not rerun tests/platform/ when the service's code changes: an import of it must fail."""
    done = run_platform_probe(tmp_path, "handler")
    assert done.returncode != 0, done.stdout
    assert "the platform's tests do not rerun when the service's code changes" in done.stdout, done.stdout


def test_the_platform_tests_may_import_what_the_makefile_lists(tmp_path):
    done = run_platform_probe(tmp_path, "schema")
    assert done.returncode == 0, done.stdout
