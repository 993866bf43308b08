"""End to end, once per combination of ``matrix.END_TO_END`` (one per account strategy): the baked
project's own ``make check`` (ruff, its tests, cfn-lint, checkov, the access matrix, the workflow
scanners) and ``make local-deploy`` (every stack into a local AWS on 127.0.0.1, then checks).

These are the only runs of a bake's full checks; the other test files bake in-process and check
what they are about. checkov runs from one environment of its own shared by every bake:
`make install` at the template root creates it, CHECKOV_VENV points at it.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, TEMPLATE, leftover_template_syntax, run_project
from matrix import END_TO_END, Combination

import multienv_plan

ACCESS_SUMMARY = re.compile(
    r"access matrix: (\d+) designed cases \((\d+) allow, (\d+) deny\), (\d+) generated \([^)]*\), "
    r"(\d+) org-perimeter cases \([^)]*\), all as expected"
)


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
    settings = project / "multienv.toml"
    text, count = re.subn(
        r'source = "account"\nidentity_account = "\w+"\n', combination.sign_in + "\n", settings.read_text()
    )
    assert count == 1
    settings.write_text(text, encoding="utf-8")

    checked = run_project(project, "check", f"CHECKOV_VENV={checkov_venv()}")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
    assert re.search(r"Failed checks: 0, Skipped checks: \d+", checked.stdout), checked.stdout[-2000:]
    access = ACCESS_SUMMARY.search(checked.stdout)
    assert access, checked.stdout[-2000:]
    # Every designed case is simulated, or named as skipped (a rule the simulator cannot decide).
    assert int(access.group(1)) + checked.stdout.count("\nskip ") >= len(plan.access_cases())
    assert "No findings to report" in checked.stdout + checked.stderr  # zizmor
    assert "ok -- validation done" in checked.stdout  # the workflow schema
    if 'source = "account"' not in combination.sign_in:
        # production's administrator MFA is the identity provider's: that one case is named, not simulated
        assert checked.stdout.count("\nskip ") == 1
        assert "MFA is enforced by the identity provider" in checked.stdout

    started = time.monotonic()
    deployed = run_project(project, "local-deploy")
    elapsed = time.monotonic() - started
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-4000:]
    envs = plan.env_names
    summary = re.search(r"local deploy OK: (\d+) stacks in (\d+) account\(s\), (\d+) checks passed", deployed.stdout)
    assert summary, deployed.stdout[-2000:]
    # The DevOps stack, and per environment its bootstrap, persona and app stacks.
    assert int(summary.group(1)) == 1 + 3 * len(envs)
    source = combination.sign_in.split('"')[1]
    for env in envs:
        assert f"{env}'s deployer reads" in deployed.stdout
        assert f"{env}: the artifact's handler resolves {env} from ENV_NAME on aws-lambda" in deployed.stdout
        assert f"{plan.naming.stack(env, 'personas')}: CREATE_COMPLETE" in deployed.stdout
        admin = f"{env}: {plan.naming.persona_role(env, 'project-admin')}"
        assert re.search(rf"ok: {admin} exists and trusts exactly \S+ \({source}\)", deployed.stdout)
        assert f"ok: {admin} carries exactly the persona policies guard, " in deployed.stdout
        assert f"ok: {env}: live -> version 1, the released artifact " in deployed.stdout
    # The release drill, in production: good release live, bad release refused, rollback.
    prd = plan.production.name
    drill = deployed.stdout[deployed.stdout.index(f"== release drill in {prd}") :]
    for line in (
        f"ok: {prd}: the good release passes its smoke test",
        f"ok: {prd}: live -> version 2, the released artifact ",
        f"ok: {prd}: previous -> version 1, the first release",
        "version 3 failed the smoke test; live stays on version 2",
        f"ok: {prd}: the bad release fails its smoke test and says live stays on version 2",
        "rolled back, live -> version 1 (was 2)",
        f"ok: {prd}: a second rollback is refused",
    ):
        assert line in drill, line
    production = f"ok: {plan.production.name}: {plan.naming.persona_role(plan.production.name, 'project-admin')} {{}}"
    if source == "account":
        assert production.format("requires MFA (aws:MultiFactorAuthPresent)") in deployed.stdout
    else:
        assert production.format(f"leaves MFA to the identity provider ({source})") in deployed.stdout
    print(f"local-deploy {combination}: {elapsed:.1f} s")


@pytest.mark.slow
def test_local_deploy_fails_on_a_resource_type_the_emulator_skips(bake):
    """A resource moto's CloudFormation silently skips must fail the run, not pass unnoticed."""
    result = bake(account_strategy="single_account", environments="dev,prd")
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
