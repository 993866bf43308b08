"""Environment resolver and per-environment config in baked projects, custom ``name:tier`` sets included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, leftover_template_syntax
from matrix import pick

from multienv_template import plan as multienv_plan
from multienv_template import presets
from multienv_template.vocabulary import Tier

BASE = DEFAULT_ANSWERS
# The combinations whose resolver and config run here: the defaults, custom tiers, another identity.
MATRIX = {c.id: c.answers for c in pick("defaults", "hybrid-six-custom", "tiny-single-account")}


def answers(case: str) -> dict[str, str]:
    return {**BASE, **MATRIX[case]}


@pytest.fixture(params=list(MATRIX))
def baked(request, bake):
    given = answers(request.param)
    result = bake(**given)
    assert result.exit_code == 0, result.exception
    return Path(result.project), multienv_plan.build_plan(given)


def run_module(project: Path, package: str, module: str, *args: str, **variables: str):
    """``python -m <package>.<module>`` in the baked project with only the given variables set."""
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(project / "src"), **variables}
    return subprocess.run(
        [sys.executable, "-m", f"{package}.{module}", *args],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_each_environment_file_holds_what_the_plan_decides(baked):
    project, plan = baked
    for env in plan.environments:
        written = tomllib.loads((project / "config" / f"{env.name}.toml").read_text(encoding="utf-8"))
        assert written == plan.environment_config(env)
        debug, level = TIER_DEFAULTS[env.tier]
        assert (written["service"]["debug"], written["log"]["level"]) == (debug, level)
        for reference in written.get("secrets", {}).values():
            name = reference.get("name", reference) if isinstance(reference, dict) else reference
            assert f"{plan.project_slug}/{env.name}/" in str(name), f"{env.name}: {name} is outside its namespace"
    assert sorted(p.stem for p in (project / "config").glob("*.toml")) == sorted(["shared", *plan.env_names])


def test_the_baked_files_hold_no_template_syntax(baked):
    project, _ = baked
    assert leftover_template_syntax(project) == []


def test_the_resolver_of_a_baked_project_follows_its_plan(baked):
    project, plan = baked
    default = plan.default_environment
    done = run_module(project, plan.package_name, "env", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "env": default.name,
        "source": "default",
        "runtime": "local",
        "tier": default.tier.value,
    }
    for env in plan.environments:
        done = run_module(project, plan.package_name, "env", "--json", ENV_NAME=env.name, CI="true")
        assert json.loads(done.stdout)["tier"] == env.tier.value
    refused = run_module(project, plan.package_name, "env", USER_ENV_NAME=plan.production.name)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "ALLOW_LOCAL_PRODUCTION=true" in refused.stderr
    done = run_module(project, plan.package_name, "config", "--env", plan.production.name)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["service"]["debug"] is False


def test_the_artifact_snapshot_answers_as_the_files_do_in_every_environment(baked):
    """The baked project's own snapshot tests: every environment alike from the snapshot and the files."""
    project, _ = baked
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_snapshot.py"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_custom_tiers_resolve_to_their_own_tier(bake):
    given = answers("hybrid-six-custom")
    project = Path(bake(**given).project)
    expected = {"sbx": "sandbox", "dev": "development", "qa": "qa", "uat": "staging", "perf": "testing"}
    for name, tier in expected.items():
        done = run_module(project, given["package_name"], "env", "--json", USER_ENV_NAME=name)
        assert json.loads(done.stdout) == {"env": name, "source": "USER_ENV_NAME", "runtime": "local", "tier": tier}
    misspelt = run_module(project, given["package_name"], "env", ENV_NAME="staging")
    assert misspelt.returncode == 2
    assert "did you mean 'uat'" in misspelt.stderr


def test_the_configuration_page_explains_the_precedence_with_this_projects_names(baked):
    project, plan = baked
    page = (project / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("## Which environment am I in?")[1]
    assert f"`{plan.default_environment.name}`, the first development-tier environment" in section
    assert f"USER_ENV_NAME={plan.production.name} ALLOW_LOCAL_PRODUCTION=true" in section
    for name in plan.env_names:
        assert f"`{name}`" in section


TIER_DEFAULTS = {
    Tier.SANDBOX: (True, "DEBUG"),
    Tier.DEVELOPMENT: (True, "DEBUG"),
    Tier.TESTING: (False, "INFO"),
    Tier.QA: (False, "INFO"),
    Tier.STAGING: (False, "INFO"),
    Tier.PRODUCTION: (False, "WARNING"),
}


@pytest.mark.parametrize("tier", list(Tier))
def test_tier_defaults_keep_debug_out_of_production(tier):
    values = presets.tier_defaults(tier)
    assert (values["service"]["debug"], values["log"]["level"]) == TIER_DEFAULTS[tier]


@pytest.mark.parametrize(
    "data",
    [
        {"service": {"debug": True}},
        {"log": {"level": "INFO", "json": False}, "features": {"a": True, "b": False}},
        {"secrets": {"app": {"store": "ssm", "name": "/x/dev/app"}, "b": {"store": "ssm", "name": 'q"uote'}}},
        {"a": {"x": 1, "b": {"y": [1, 2], "c": {"z": "deep"}}}},
    ],
)
def test_toml_tables_round_trips(data):
    assert tomllib.loads(multienv_plan.toml_tables(data)) == data
