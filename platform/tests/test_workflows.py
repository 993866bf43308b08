"""The GitHub Actions workflows follow multienv.toml, pipeline.py and the naming scheme.

Add an environment to multienv.toml without a deploy job for it, reorder the chain, point a
job at the wrong role or let a non-deploy job mint an OIDC token, and a test here fails.
"""

import re

import pytest
import yaml
from baked import ROOT

from multienv.model import Tier
from multienv.settings import load_settings
from multienv_tools import ci, pipeline

WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = "$/.github/workflows/deploy-environment.yml"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
ROLE_OUTPUT = re.compile(r"steps\.roles\.outputs\.([a-z_]+)")


def expression(text: str) -> str:
    """``${{ text }}``, a GitHub expression as it is written in a workflow."""
    return "${{ " + text + " }}"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


@pytest.fixture(scope="module")
def settings():
    return load_settings(ROOT / "multienv.toml")


@pytest.fixture(scope="module")
def stages(settings):
    return pipeline.stages((env.name, env.tier) for env in settings.environments)


@pytest.fixture(scope="module")
def deploy():
    return load("deploy.yml")


@pytest.fixture(scope="module")
def deploy_jobs(deploy):
    return {name: job for name, job in deploy["jobs"].items() if job.get("uses") == REUSABLE}


@pytest.fixture(scope="module")
def environment_job():
    (job,) = load("deploy-environment.yml")["jobs"].values()
    return job


@pytest.fixture(scope="module")
def workflows():
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def test_every_environment_has_a_deploy_job_in_promotion_order(settings, deploy_jobs):
    assert list(deploy_jobs) == [pipeline.job_name(env.name) for env in settings.environments]
    assert [job["with"]["environment"] for job in deploy_jobs.values()] == list(settings.names)


def test_each_deploy_job_waits_for_what_the_pipeline_says(stages, deploy_jobs):
    for stage in stages:
        assert deploy_jobs[stage.job]["needs"] == list(stage.needs), stage.environment


def test_production_waits_for_every_earlier_environment_but_sandboxes(settings, deploy_jobs):
    production = settings.production
    earlier = [pipeline.job_name(e.name) for e in settings.environments if e != production and e.tier != Tier.SANDBOX]
    assert set(deploy_jobs[pipeline.job_name(production.name)]["needs"]) == {pipeline.BUILD_JOB, *earlier}


def test_each_deploy_job_runs_when_the_pipeline_says(stages, deploy_jobs):
    for stage in stages:
        assert deploy_jobs[stage.job]["if"] == stage.condition, stage.environment


def test_sandboxes_are_manual_and_production_needs_the_default_branch(settings, deploy_jobs):
    for env in settings.environments:
        condition = deploy_jobs[pipeline.job_name(env.name)]["if"]
        if env.tier == Tier.SANDBOX:
            assert condition.startswith(pipeline.DISPATCHED + " && "), env.name
        else:
            assert pipeline.PROMOTING in condition, env.name
        assert (pipeline.ON_DEFAULT_BRANCH in condition) == (env == settings.production), env.name


def test_triggers_are_the_default_branch_and_a_dispatch_per_target(settings, deploy):
    assert deploy["on"]["push"] == {"branches": [pipeline.DEFAULT_BRANCH]}
    target = deploy["on"]["workflow_dispatch"]["inputs"]["target"]
    sandboxes = [env.name for env in settings.environments if env.tier == Tier.SANDBOX]
    assert target["options"] == [pipeline.PROMOTE, *sandboxes]
    assert target["default"] == pipeline.PROMOTE


def test_the_artifact_is_built_once_and_checked_in_every_environment(deploy, deploy_jobs, environment_job):
    uploads = [
        (name, step["with"])
        for name, job in deploy["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert [(name, w["name"], w["path"]) for name, w in uploads] == [
        (pipeline.BUILD_JOB, pipeline.ARTIFACT_NAME, pipeline.ARTIFACT_PATH)
    ]
    assert deploy["jobs"][pipeline.BUILD_JOB]["needs"] == [pipeline.CHECKS_JOB]
    for job in deploy_jobs.values():
        assert job["with"]["artifact-sha256"] == expression(f"needs.{pipeline.BUILD_JOB}.outputs.sha256")
    steps = environment_job["steps"]
    (download,) = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact@")]
    assert download["with"]["name"] == pipeline.ARTIFACT_NAME
    check = steps[steps.index(download) + 1]["run"]
    assert "sha256sum --check" in check
    assert pipeline.ARTIFACT_PATH in check
    assert environment_job["env"]["EXPECTED_SHA256"] == expression("inputs.artifact-sha256")


def test_deploy_job_runs_in_its_github_environment_with_env_name(environment_job):
    assert environment_job["environment"] == {"name": expression("inputs.environment")}
    assert environment_job["env"]["ENV_NAME"] == expression("inputs.environment")


def test_deploy_job_assumes_the_ci_role_then_chains_to_the_deployer_role(environment_job):
    steps = environment_job["steps"]
    (roles,) = [s for s in steps if s.get("id") == "roles"]
    assert roles["run"] == 'multienv ci roles --env "${ENV_NAME}" >> "${GITHUB_OUTPUT}"'
    hops = [s["with"] for s in steps if s.get("uses", "").startswith(CREDENTIALS_ACTION)]
    assert [(h["role-to-assume"], h["allowed-account-ids"], h.get("role-chaining")) for h in hops] == [
        (expression("steps.roles.outputs.ci_role_arn"), expression("steps.roles.outputs.devops_account_id"), None),
        (expression("steps.roles.outputs.deployer_role_arn"), expression("steps.roles.outputs.env_account_id"), True),
    ]
    runs = [s.get("run", "") for s in steps]
    first, second = (i for i, s in enumerate(steps) if s.get("uses", "").startswith(CREDENTIALS_ACTION))
    publish = next(i for i, run in enumerate(runs) if " publish " in run)
    app = next(i for i, run in enumerate(runs) if " app " in run)
    assert steps.index(roles) < first < publish < second < app


def test_role_outputs_are_the_naming_schemes_roles_in_the_right_accounts(settings):
    naming = settings.naming
    for env in settings.environments:
        assert ci.roles(settings, env.name) == {
            "ci_role_arn": naming.role_arn(settings.devops.id, naming.ci_role(env.name)),
            "deployer_role_arn": naming.role_arn(env.account.id, naming.deployer_role(env.name)),
            "devops_account_id": settings.devops.id,
            "env_account_id": env.account.id,
            "region": settings.region,
        }


def test_the_workflow_reads_only_outputs_the_resolver_prints(settings, environment_job):
    used = set(ROLE_OUTPUT.findall(yaml.safe_dump(environment_job)))
    printed = {line.split("=", 1)[0] for line in ci.output_lines(ci.roles(settings, settings.names[0]))}
    assert used
    assert used <= printed


def test_resolver_refuses_placeholder_accounts(settings, capsys, monkeypatch):
    env = settings.default_environment
    monkeypatch.setattr(ci, "settings", lambda: settings)
    code = ci.main(["roles", "--env", env.name])
    err = capsys.readouterr().err
    if settings.devops.placeholder or env.account.placeholder:
        assert code == 1
        assert f"accounts.{env.account.key}" in err or f"accounts.{settings.devops.key}" in err
    else:
        assert code == 0
    assert ci.main(["roles", "--env", env.name, "--allow-placeholders"]) == 0
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert printed == ci.roles(settings, env.name)


def test_resolver_rejects_a_value_that_could_forge_an_output():
    with pytest.raises(ci.CIError, match="region"):
        ci.output_lines({"region": "us-east-1\nci_role_arn=arn:aws:iam::111111111111:role/x"})


def test_only_deploy_jobs_can_mint_tokens(workflows):
    minting = []
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, f"{name}: top-level permissions must be empty"
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} must declare its permissions"
            if (job["permissions"] or {}).get("id-token") == "write":
                minting.append((name, job_name))
    deploy_jobs = [
        ("deploy.yml", job) for job, spec in workflows["deploy.yml"]["jobs"].items() if spec.get("uses") == REUSABLE
    ]
    # The build job's token signs the attestation; no AWS role trusts it (tests/platform/test_release_workflows.py).
    others = [("deploy-environment.yml", "deploy"), ("deploy.yml", pipeline.BUILD_JOB), ("drift.yml", "drift")]
    assert sorted(minting) == sorted([*deploy_jobs, *others])


def test_one_deploy_per_environment_at_a_time_never_cancelled(environment_job):
    assert environment_job["concurrency"]["cancel-in-progress"] is False
    assert expression("inputs.environment") in environment_job["concurrency"]["group"]


def test_actions_are_pinned_and_checkouts_keep_no_credentials(workflows):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            if "uses" in job:
                assert job["uses"].startswith("$/"), f"{name}:{job_name} calls a workflow outside this repository"
            for step in job.get("steps", []):
                where = f"{name}:{job_name}:{step.get('name') or step.get('uses')}"
                assert "${{" not in step.get("run", ""), f"{where}: pass expressions to run: through env:"
                if "uses" in step:
                    assert PINNED.match(step["uses"]), f"{where}: pin to a full commit SHA"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, where


def test_jobs_that_build_or_deploy_install_only_hashed_pins():
    """Where AWS tokens are minted, no unpinned package (nor a build backend) may run."""
    text = (ROOT / "requirements-deploy.txt").read_text()
    entries = [entry for entry in text.replace("\\\n", " ").splitlines() if entry and not entry.startswith("#")]
    assert entries and all("==" in e.split()[0] and "--hash=sha256:" in e for e in entries), entries
    # The platform itself: a git requirement at the release's commit, built by the hashed backend above.
    platform = "--no-deps --no-build-isolation -r requirements-platform.txt"
    for name in ("deploy.yml", "deploy-environment.yml"):
        for job_name, job in load(name)["jobs"].items():
            installs = [step["run"] for step in job.get("steps", []) if "pip install" in step.get("run", "")]
            for run in installs:
                hashed = "--require-hashes --no-deps -r requirements-deploy.txt" in run
                assert hashed or platform in run, (name, job_name)
            if installs:
                assert "requirements-deploy.txt" in installs[0] and platform in installs[1], (name, job_name)
