"""End to end, once per combination of ``matrix.END_TO_END`` (one per account strategy): the baked
project's own ``make check`` (ruff, its tests, cfn-lint, checkov, the access matrix, the workflow
scanners) and ``make local-deploy`` (every stack into a local AWS on 127.0.0.1, then checks).

These and the newcomer's run (test_install.py, the defaults) are the only runs of a bake's full
checks; the other test files bake in-process and check what they are about. checkov runs from one environment of its own shared by every bake:
`make install` at the template root creates it, CHECKOV_VENV points at it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, TEMPLATE, leftover_template_syntax, run_project, sign_in_as
from end_to_end import assert_every_check_ran, assert_local_deploy_checked_everything
from matrix import END_TO_END, Combination

from multienv_template import plan as multienv_plan


def checkov_venv() -> Path:
    path = Path(os.environ.get("CHECKOV_VENV", TEMPLATE / ".venv-checkov"))
    if not (path / "bin" / "checkov").is_file():
        pytest.fail(f"no checkov in {path}: run `make install` at the template root, or set CHECKOV_VENV")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("combination", END_TO_END, ids=str)
def test_end_to_end_check_and_local_deploy(bake, node_modules, combination: Combination):
    result = bake(**combination.answers)
    assert result.exit_code == 0, result.exception
    project = result.project
    plan = multienv_plan.build_plan({**DEFAULT_ANSWERS, **combination.answers})
    assert not leftover_template_syntax(project)
    sign_in_as(project, combination.sign_in)

    checked = run_project(project, "check", f"CHECKOV_VENV={checkov_venv()}")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
    source = combination.sign_in.split('"')[1]
    assert_every_check_ran(checked.stdout + checked.stderr, plan, source)

    started = time.monotonic()
    deployed = run_project(project, "local-deploy")
    elapsed = time.monotonic() - started
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-4000:]
    assert_local_deploy_checked_everything(deployed.stdout, plan, source)
    print(f"local-deploy {combination}: {elapsed:.1f} s")


@pytest.mark.slow
def test_local_deploy_fails_on_a_resource_type_the_emulator_skips(bake):
    """A resource moto's CloudFormation silently skips must fail the run, not pass unnoticed."""
    result = bake(account_strategy="single_account", environments="dev,prd", data_stores="none")
    assert result.exit_code == 0, result.exception
    app = result.project / "infra" / "app.yaml"
    text = app.read_text(encoding="utf-8")
    skipped = (
        "  Schedule:\n    Type: AWS::Scheduler::Schedule\n    Properties:\n      ScheduleExpression: rate(1 hour)\n"
    )
    app.write_text(text.replace("\nOutputs:\n", f"\n{skipped}\nOutputs:\n"), encoding="utf-8")
    deployed = run_project(result.project, "local-deploy")
    assert deployed.returncode != 0
    assert "AWS::Scheduler::Schedule" in deployed.stderr
    assert "moto skipped resource types nobody applies" in deployed.stderr
    # At the deploy that skipped it (dev's service stack), not after every environment's checks.
    assert "failed: deploy app --env dev " in deployed.stderr
    assert "prd: the artifact's handler resolves" not in deployed.stdout
