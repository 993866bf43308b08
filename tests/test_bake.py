"""The supported combinations (``matrix.SUPPORTED``) bake cleanly and record the plan; bakes are
byte-identical, leave no git repository and work from a git URL; the CLI refuses cleanly."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, leftover_template_syntax, run_project, template_as_git_repo
from matrix import LARGEST, SUPPORTED

from multienv_template import plan as multienv_plan
from multienv_template import vocabulary as multienv_vocabulary


def grouped(combinations):
    """One xdist group per combination: its tests run in one process and share one bake (bake_once)."""
    return [pytest.param(c, id=str(c), marks=pytest.mark.xdist_group(str(c))) for c in combinations]


@pytest.mark.parametrize("combination", grouped(SUPPORTED))
def test_combination_bakes_without_leftover_template_syntax(bake_once, combination):
    result = bake_once(**combination.answers)
    assert result.exit_code == 0, result.exception
    assert leftover_template_syntax(result.project) == []


@pytest.mark.parametrize("combination", grouped(SUPPORTED))
def test_settings_file_records_the_plan(bake_once, combination):
    result = bake_once(**combination.answers)
    plan = multienv_plan.build_plan({**multienv_plan.answers_of(result.result.context), **combination.answers})
    # The generated repository's own loader reads back the plan's Settings, every field of it.
    loaded = multienv_vocabulary.settings.load_settings(result.project / "multienv.toml")
    assert loaded._replace(file=plan.settings.file) == plan.settings
    assert loaded.strategy.value == combination.strategy
    config_files = sorted(p.stem for p in (result.project / "config").glob("*.toml"))
    assert config_files == sorted(["shared", *plan.env_names])


def test_same_answers_give_byte_identical_output(bake):
    first = bake(environments="sbx,dev,uat:staging,prd", account_strategy="hybrid")
    second = bake(environments="sbx,dev,uat:staging,prd", account_strategy="hybrid")
    files = sorted(p.relative_to(first.project) for p in first.project.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.project) for p in second.project.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(first.project, second.project, [str(f) for f in files], shallow=False)
    assert (mismatch, errors) == ([], [])


def test_no_git_repository_is_created(bake):
    assert not (bake().project / ".git").exists()


def _cookiecutter_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'cache'}\nreplay_dir: {tmp_path / 'replay'}\n")
    cli = Path(sys.executable).parent / "cookiecutter"
    return subprocess.run(
        [str(cli), *args, "--config-file", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bake_from_a_git_url_like_users_do(tmp_path):
    repo = template_as_git_repo(tmp_path)
    out = tmp_path / "out"
    run = _cookiecutter_cli(tmp_path, f"git+file://{repo}", "--no-input", "--output-dir", str(out))
    assert run.returncode == 0, run.stderr
    project = out / "my-multienv-app"
    assert (project / "config" / "sbx.toml").is_file()
    assert leftover_template_syntax(project) == []
    # The last lines say where the project is and what to run next, in the README's order.
    steps = [line.split("#")[0].strip() for line in run.stdout.splitlines()[-3:]]
    assert steps == [f"cd '{project}'", "make install", "make check"], run.stdout


def test_make_config_takes_config_env_not_the_shells_env(bake, monkeypatch):
    """Shells set ENV to their start-up file; `make config` must not read it as an environment name."""
    import json

    monkeypatch.setenv("ENV", str(Path.home() / ".shrc"))
    for marker in multienv_vocabulary.generated_module("multienv.env").CI_MARKERS:
        monkeypatch.delenv(marker, raising=False)  # a workstation, even when this suite runs in CI
    project = bake(environments="dev,prd").project
    for args, expected in [((), "dev"), (("CONFIG_ENV=prd",), "prd")]:
        run = run_project(project, "config", *args)
        assert run.returncode == 0, run.stdout + run.stderr
        # the JSON object alone: under a parent make, "Leaving directory" follows it
        printed, _ = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("{") :])
        assert printed["env"] == expected


def test_cli_rejection_prints_error_lines_and_leaves_no_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    run = _cookiecutter_cli(
        tmp_path, str(TEMPLATE), "--no-input", "--output-dir", str(out), "environments=dev,stg", "aws_region=moon-1"
    )
    assert run.returncode != 0
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
    assert "ERROR: environments: 'dev,stg' needs exactly one production-tier environment (found: none)" in errors
    assert any(line.startswith("ERROR: aws_region: 'moon-1' is not an AWS region") for line in errors)
    assert list(out.iterdir()) == []


def test_files_copied_without_rendering_are_exactly_those_without_jinja():
    """`_copy_without_render` skips Jinja for plain files (bake time); a file listed there must hold no Jinja."""
    import json
    import re

    project_template = TEMPLATE / "{{cookiecutter.project_slug}}"
    listed = json.loads((TEMPLATE / "cookiecutter.json").read_text())["_copy_without_render"]
    jinja = re.compile(r"\{\{|\{%|\{#")
    plain = sorted(
        path.relative_to(project_template).as_posix()
        for path in project_template.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and ".ruff_cache" not in path.parts
        and not jinja.search(path.read_text(encoding="utf-8"))
    )
    assert sorted(listed) == plain


@pytest.mark.slow
@pytest.mark.parametrize("combination", grouped(LARGEST))
def test_every_rendered_policy_keeps_its_headroom(bake_once, combination):
    """policy_sizes renders every stack of the bake and fails when a policy passes its share of AWS's limit."""
    result = bake_once(**combination.answers)
    assert result.exit_code == 0, result.exception
    run = subprocess.run(
        [sys.executable, "-m", "multienv_tools.policy_sizes"],
        cwd=result.project,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    "strategy,says,never",
    [
        ("single_account", "share one AWS account, `main`", "workload environments run them"),
        ("hybrid", "one DevOps\naccount builds and stores artifacts", "share one AWS account"),
    ],
)
def test_the_readme_describes_the_accounts_of_its_strategy(bake, strategy, says, never):
    project = bake(account_strategy=strategy).project
    intro = (project / "README.md").read_text(encoding="utf-8").split("## Start")[0]
    assert says in intro
    assert never not in intro
    if strategy == "single_account":
        runbook = (project / "docs" / "first-deploy.md").read_text(encoding="utf-8")
        assert "make regenerate ACCOUNT_IDS=main=<id>\n" in runbook  # one account, one ID
