"""The generated IaC, for every account strategy: linted, scanned, contract-tested and deployed.

Each case bakes a project and runs its own `make check` (ruff, tests including the policy
contract, cfn-lint, checkov) and `make local-deploy` (every stack into a local AWS on
127.0.0.1, then checks). checkov runs from one environment of its own shared by every bake:
`make install` at the template root creates it, CHECKOV_VENV points at it.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from conftest import TEMPLATE, leftover_template_syntax, run_project

# One case per strategy, with differing environment lists so custom tiers are deployed too.
STRATEGIES = {
    "full_isolation": "sbx,dev,tst,prd",
    "hybrid": "dev,qa,uat:staging,prd",
    "consolidated_nonprod": "sbx,dev,tst,prd",
    "single_account": "dev,prd",
}
# Who signs in to the persona roles ([personas] of multienv.toml): each source in some case.
SIGN_IN = {
    "full_isolation": 'source = "account"',
    "hybrid": 'source = "identity-center"\npermission_set_prefix = "app-"',
    "consolidated_nonprod": 'source = "account"\nidentity_account = "workloads"',
    "single_account": 'source = "saml"\nsaml_provider = "corp"',
}


def checkov_venv() -> Path:
    path = Path(os.environ.get("CHECKOV_VENV", TEMPLATE / ".venv-checkov"))
    if not (path / "bin" / "checkov").is_file():
        pytest.fail(f"no checkov in {path}: run `make install` at the template root, or set CHECKOV_VENV")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategy_passes_check_and_deploys_locally(bake, strategy):
    result = bake(account_strategy=strategy, environments=STRATEGIES[strategy])
    assert result.exit_code == 0, result.exception
    project = result.project
    assert not leftover_template_syntax(project)
    settings = project / "multienv.toml"
    text, count = re.subn(
        r'source = "account"\nidentity_account = "\w+"\n', SIGN_IN[strategy] + "\n", settings.read_text()
    )
    assert count == 1
    settings.write_text(text, encoding="utf-8")

    checked = run_project(project, "check", f"CHECKOV_VENV={checkov_venv()}")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
    assert re.search(r"Failed checks: 0, Skipped checks: \d+", checked.stdout), checked.stdout[-2000:]

    started = time.monotonic()
    deployed = run_project(project, "local-deploy")
    elapsed = time.monotonic() - started
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-4000:]
    envs = [e.split(":")[0] for e in STRATEGIES[strategy].split(",")]
    summary = re.search(r"local deploy OK: (\d+) stacks in (\d+) account\(s\), (\d+) checks passed", deployed.stdout)
    assert summary, deployed.stdout[-2000:]
    # The DevOps stack, and per environment its bootstrap, persona and app stacks.
    assert int(summary.group(1)) == 1 + 3 * len(envs)
    source = SIGN_IN[strategy].split('"')[1]
    for env in envs:
        assert f"{env}'s deployer reads" in deployed.stdout
        assert f"{env}: the artifact's handler resolves {env} from ENV_NAME on aws-lambda" in deployed.stdout
        assert f"my-multienv-app-{env}-personas: CREATE_COMPLETE" in deployed.stdout
        admin = f"{env}: my-multienv-app-{env}-project-admin"
        assert re.search(rf"ok: {admin} exists and trusts exactly \S+ \({source}\)", deployed.stdout)
        assert f"ok: {admin} carries exactly the persona policies guard, " in deployed.stdout
        assert f"ok: {env}: live -> version 1, the released artifact " in deployed.stdout
    # The release drill, in production: good release live, bad release refused, rollback.
    drill = deployed.stdout[deployed.stdout.index("== release drill in prd") :]
    for line in (
        "ok: prd: the good release passes its smoke test",
        "ok: prd: live -> version 2, the released artifact ",
        "ok: prd: previous -> version 1, the first release",
        "version 3 failed the smoke test; live stays on version 2",
        "ok: prd: the bad release fails its smoke test and says live stays on version 2",
        "rolled back, live -> version 1 (was 2)",
        "ok: prd: a second rollback is refused",
    ):
        assert line in drill, line
    production = "ok: prd: my-multienv-app-prd-project-admin {}"
    if source == "account":
        assert production.format("requires MFA (aws:MultiFactorAuthPresent)") in deployed.stdout
    else:
        assert production.format(f"leaves MFA to the identity provider ({source})") in deployed.stdout
    print(f"local-deploy {strategy}: {elapsed:.1f} s")


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
