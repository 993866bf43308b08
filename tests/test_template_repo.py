"""The template repository itself: README, prompts, Makefile, license, changelog and CI say what it does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE

from multienv_template.vocabulary import AccountStrategy, Tier

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
README = (TEMPLATE / "README.md").read_text(encoding="utf-8")
QUESTIONS = [key for key in COOKIECUTTER if not key.startswith("_")]


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table whose header row starts with ``| heading``."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_option_table_lists_every_question_in_order():
    assert [row[0].strip("`") for row in readme_table("variable |")] == QUESTIONS


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_prompt_is_one_short_line(question):
    prompt = COOKIECUTTER["__prompts__"][question]
    assert "\n" not in prompt
    assert len(prompt) <= 90, f"{len(prompt)} characters: details belong in the README"


def test_the_account_names_table_is_what_the_plan_names_accounts():
    rows = {row[0].strip("`"): row[1] for row in readme_table("strategy | account names |")}
    environments = [("dev", Tier.DEVELOPMENT), ("prd", Tier.PRODUCTION)]
    for strategy in AccountStrategy:
        named = re.findall(r"`([a-z]+)`", rows[strategy.value])
        expected = [key for key in strategy.accounts(environments) if key not in ("dev", "prd")]
        assert named == expected, strategy


def test_make_help_lists_the_two_commands():
    run = subprocess.run(["make", "-s", "help"], cwd=TEMPLATE, capture_output=True, text=True, check=True)
    targets = [line.split()[0] for line in run.stdout.splitlines()]
    assert {"bake", "test", "help"} <= set(targets)


def test_the_license_is_mit():
    assert (TEMPLATE / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def test_the_changelog_has_an_unreleased_section_above_the_first_release():
    headings = re.findall(r"^## \[(.+?)\]", (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8"), flags=re.M)
    assert headings[0] == "Unreleased"
    assert headings[-1] == "1.0.0"


CI = TEMPLATE / ".github" / "workflows" / "ci.yml"


def test_the_template_ci_runs_the_readme_test_command():
    workflow = yaml.safe_load(CI.read_text(encoding="utf-8"))
    assert workflow["permissions"] == {}
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert [step["run"] for step in steps if "run" in step] == ["make test"]
    for step in steps:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_the_template_ci_passes_zizmor_and_the_workflow_schema():
    bin_dir = Path(sys.executable).parent
    for command in (
        [bin_dir / "zizmor", "--offline", "--strict-collection", "--no-progress", CI.parent],
        [bin_dir / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", CI],
    ):
        run = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_pre_commit_hooks_are_local_and_run_the_locked_tools():
    """Local hooks only (pre-commit fetches any other from GitHub), each a tool of .venv."""

    config = yaml.safe_load((TEMPLATE / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert {"ruff-check", "ruff-format", "mypy"} <= {hook["id"] for hook in hooks}
    for hook in hooks:
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/") and (Path(sys.prefix) / "bin" / Path(tool).name).is_file(), hook
    run = subprocess.run(
        [Path(sys.prefix) / "bin" / "pre-commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_dependabot_watches_the_template_s_own_locks_where_they_are():

    path = TEMPLATE / ".github" / "dependabot.yml"
    run = subprocess.run(
        [Path(sys.prefix) / "bin" / "check-jsonschema", "--builtin-schema", "vendor.dependabot", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    watched = {
        update["package-ecosystem"]: update["directory"] for update in yaml.safe_load(path.read_text())["updates"]
    }
    lock = {"pip": "requirements-dev.txt", "npm": "package-lock.json", "github-actions": ".github/workflows/ci.yml"}
    assert set(watched) == set(lock)
    for ecosystem, directory in watched.items():
        assert (TEMPLATE / directory.lstrip("/") / lock[ecosystem]).is_file(), (ecosystem, directory)


def test_what_only_a_bake_uses_is_defined_in_the_template_package_alone():
    """The presets are written into a bake once; defined in shipped code, they would ship in every service."""
    from multienv_template import presets

    names = ("tier_defaults",)
    assert all(hasattr(presets, name) for name in names)
    definition = re.compile(rf"^(?:def ({'|'.join(names)})\(|({'|'.join(names)}) = )", re.M)
    skipped = {".git", ".venv", ".venv-checkov", ".make", "multienv_template", "tests", "out"}
    found = [
        f"{path.relative_to(TEMPLATE)}: {match.group(0)}"
        for path in TEMPLATE.rglob("*.py")
        if not skipped & set(path.relative_to(TEMPLATE).parts)
        for match in definition.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def _mypy_options(*args: str):
    from mypy.main import process_options

    return process_options(list(args))


def test_make_typecheck_holds_the_runtime_to_every_flag_of_mypy_strict(tmp_path):
    """The runtime is strict, the tooling and the template are not: one run of mypy, per-module flags.

    ``strict = true`` in an override section turns strict on for every module, so the runtime's
    override lists the flags one by one; this holds that list to what ``--strict`` means in the
    locked mypy, and the files to both platform packages."""
    empty = tmp_path / "mypy.ini"
    empty.write_text("[mypy]\n", encoding="utf-8")
    _, strict = _mypy_options("--strict", "--config-file", str(empty), "-c", "pass")
    _, default = _mypy_options("--config-file", str(empty), "-c", "pass")
    sources, ours = _mypy_options("--config-file", str(TEMPLATE / "pyproject.toml"))
    names = [name for name in dir(default) if not name.startswith("_") and not callable(getattr(default, name))]
    flags = sorted(name for name in names if getattr(strict, name) != getattr(default, name))
    assert "disallow_untyped_defs" in flags and "warn_return_any" in flags
    wanted = {flag: getattr(strict, flag) for flag in flags}
    for module in ("multienv", "multienv.env", "multienv.settings", "multienv.secrets"):
        runtime = ours.clone_for_module(module)
        assert {flag: getattr(runtime, flag) for flag in flags} == wanted, module
    for module in ("multienv_tools.cli", "multienv_template.plan"):
        assert not ours.clone_for_module(module).disallow_untyped_defs, module
    checked = {Path(source.path).resolve().relative_to(TEMPLATE).parts[:4] for source in sources if source.path}
    assert ("platform", "runtime", "src", "multienv") in checked
    assert ("platform", "tools", "src", "multienv_tools") in checked


def test_the_runtime_wheel_ships_its_types():
    """PEP 561: ``py.typed`` in the installed ``multienv`` (the wheel of this tree, tests/conftest.py)."""
    from importlib.metadata import files

    assert "multienv/py.typed" in {path.as_posix() for path in files("multienv") or ()}
