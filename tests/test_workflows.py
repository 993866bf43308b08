"""The generated GitHub Actions workflows: promotion wiring per plan, the baked repository's own
workflow test failing when multienv.toml and CI drift, and template-update.yml run for real. That
the scanners pass and the baked workflow test passes is checked end to end (test_infra.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, outside_this_environment, run_platform_tests
from matrix import BY_ID

from multienv_template.vocabulary import naming

# The defaults' names, from the scheme itself.
NAMES = naming.Naming("my-multienv-app", "us-east-1")

WORKFLOWS = Path(".github") / "workflows"

# What the rules say, written out by hand for two environment sets: the deploy jobs in
# order with their `needs:`, and the targets a manual run offers.
EXPECTED = {
    "sbx,dev,tst,prd": (
        {
            "deploy-sbx": ["build"],
            "deploy-dev": ["build"],
            "deploy-tst": ["build", "deploy-dev"],
            "deploy-prd": ["build", "deploy-dev", "deploy-tst"],
        },
        ["promote", "sbx"],
    ),
    "sbx,play:sandbox,dev,uat:staging,qa,prd": (
        {
            "deploy-sbx": ["build"],
            "deploy-play": ["build"],
            "deploy-dev": ["build"],
            "deploy-uat": ["build", "deploy-dev"],
            "deploy-qa": ["build", "deploy-dev", "deploy-uat"],
            "deploy-prd": ["build", "deploy-dev", "deploy-uat", "deploy-qa"],
        },
        ["promote", "sbx", "play"],
    ),
}


def load(project: Path, name: str) -> dict:
    workflow = yaml.safe_load((project / WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def run_baked_workflow_test(project: Path, test_file: str = "test_workflows.py") -> subprocess.CompletedProcess:
    return run_platform_tests(project, test_file, timeout=300)


def failed(run: subprocess.CompletedProcess, test: str) -> bool:
    """pytest's summary names ``test`` (``file.py::name``, a prefix of it) as failed."""
    return any(line.startswith("FAILED ") and test in line for line in run.stdout.splitlines())


def resolve_roles(project: Path, env_name: str, command: str = "roles") -> subprocess.CompletedProcess:
    env = outside_this_environment()
    env["PYTHONPATH"] = f"{project / 'src'}"
    return subprocess.run(
        [sys.executable, "-m", "multienv_tools.ci", command, "--env", env_name],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("environments", EXPECTED)
def test_deploy_jobs_promote_in_plan_order(bake, environments):
    result = bake(environments=environments)
    deploy = load(result.project, "deploy.yml")
    needs, targets = EXPECTED[environments]
    deploy_jobs = {name: job for name, job in deploy["jobs"].items() if name.startswith("deploy-")}
    assert {name: job["needs"] for name, job in deploy_jobs.items()} == needs
    assert list(deploy_jobs) == list(needs)  # in promotion order
    assert deploy["on"]["workflow_dispatch"]["inputs"]["target"]["options"] == targets
    for name, job in deploy_jobs.items():
        assert job["with"]["environment"] == name.removeprefix("deploy-")
        sandbox = name.removeprefix("deploy-") in targets
        assert ("workflow_dispatch" in job["if"]) == sandbox, name
        assert ("github.ref == 'refs/heads/main'" in job["if"]) == (name == "deploy-prd"), name
        assert job["permissions"] == {"contents": "read", "id-token": "write", "attestations": "read"}
    # The build job's token signs the artifact's attestation; no AWS role trusts it.
    assert deploy["jobs"]["build"]["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}


def test_github_expressions_survive_rendering(bake):
    project = bake().project
    reusable = (project / WORKFLOWS / "deploy-environment.yml").read_text(encoding="utf-8")
    assert "ENV_NAME: ${{ inputs.environment }}" in reusable
    assert "multienv ci roles" in reusable
    for path in (project / WORKFLOWS).glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "{%" not in text and "cookiecutter" not in text, path.name


def test_roles_come_from_multienv_toml(bake):
    project = bake(**BY_ID["hybrid-named-accounts"].answers).project
    run = resolve_roles(project, "uat")
    assert run.returncode == 0, run.stderr
    assert dict(line.split("=", 1) for line in run.stdout.splitlines()) == {
        "ci_role_arn": NAMES.role_arn("111111111111", NAMES.ci_role("uat")),
        "deployer_role_arn": NAMES.role_arn("222222222222", NAMES.deployer_role("uat")),
        "devops_account_id": "111111111111",
        "env_account_id": "222222222222",
        "region": "us-east-1",
    }


def test_roles_refuse_placeholder_accounts(bake):
    project = bake(account_strategy="hybrid").project
    run = resolve_roles(project, "prd")
    assert run.returncode == 1
    assert run.stdout == ""
    assert "accounts.devops: 000000000001 is a placeholder" in run.stderr
    assert "accounts.prod: 000000000003 is a placeholder" in run.stderr


def steps_of(project: Path) -> tuple[list[dict], list[dict]]:
    """The build job's steps and the environment deploy job's steps."""
    (deploy_job,) = load(project, "deploy-environment.yml")["jobs"].values()
    return load(project, "deploy.yml")["jobs"]["build"]["steps"], deploy_job["steps"]


def test_attestation_is_conditional_on_the_plan_and_the_sha256_check_is_not(bake):
    """Artifact attestations exist for public repositories on every plan and for private or internal
    ones on GitHub Enterprise Cloud only: attest and verify share one condition, the checksum has none."""
    build, deploy = steps_of(bake().project)
    (attest,) = [s for s in build if s.get("uses", "").startswith("actions/attest-build-provenance@")]
    (verify,) = [s for s in deploy if "gh attestation verify" in s.get("run", "")]
    (checksum,) = [s for s in deploy if "sha256sum --check" in s.get("run", "")]
    assert attest["if"] == verify["if"]
    assert attest["if"] == "github.event.repository.visibility == 'public' || vars.ARTIFACT_ATTESTATIONS == 'true'"
    assert "if" not in checksum
    assert deploy.index(checksum) < deploy.index(verify)


@pytest.mark.slow
def test_baked_attestation_test_fails_when_a_private_repository_would_attest(bake):
    project = bake().project
    path = project / WORKFLOWS / "deploy.yml"
    text = path.read_text(encoding="utf-8")
    condition = "        if: github.event.repository.visibility == 'public' || vars.ARTIFACT_ATTESTATIONS == 'true'\n"
    assert text.count(condition) == 1
    path.write_text(text.replace(condition, ""), encoding="utf-8")
    run = run_baked_workflow_test(project, "test_release_workflows.py")
    assert run.returncode == 1, run.stdout[-4000:]
    assert failed(run, "test_release_workflows.py::test_attest_and_verify_run_only_where_"), run.stdout[-4000:]


@pytest.mark.parametrize("command", ["roles", "drift-roles"])
def test_roles_refuse_until_the_github_ids_are_known(bake, command):
    answers = {key: value for key, value in BY_ID["hybrid-named-accounts"].answers.items() if "github" not in key}
    project = bake(**answers).project
    run = resolve_roles(project, "prd", command)
    assert run.returncode == 1 and run.stdout == ""
    command_line = "gh api repos/my-org/my-multienv-app --jq '.owner.id, .id'"
    for key in ("github_owner_id", "github_repository_id"):
        assert f"project.{key}: is empty: run {command_line}" in run.stderr, run.stderr
    assert "placeholder" not in run.stderr  # the account IDs are real


def test_drift_roles_come_from_multienv_toml(bake):
    project = bake(**BY_ID["hybrid-named-accounts"].answers).project
    run = resolve_roles(project, "uat", "drift-roles")
    assert run.returncode == 0, run.stderr
    assert dict(line.split("=", 1) for line in run.stdout.splitlines()) == {
        "drift_role_arn": NAMES.role_arn("111111111111", NAMES.drift_role()),
        "drift_reader_role_arn": NAMES.role_arn("222222222222", NAMES.drift_reader_role("uat")),
        "devops_account_id": "111111111111",
        "env_account_id": "222222222222",
        "region": "us-east-1",
    }


@pytest.mark.parametrize("strategy", ["full_isolation", "single_account"])
def test_every_aws_credentials_step_pins_v6_and_the_account(bake, strategy):
    project = bake(account_strategy=strategy).project
    steps = [
        step
        for path in sorted((project / WORKFLOWS).glob("*.yml"))
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(steps) == 4  # two hops in deploy-environment.yml, two in drift.yml
    for step in steps:
        assert step["uses"] == "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c"
        assert step["with"]["allowed-account-ids"].startswith("${{ steps.roles.outputs.")


def test_drift_waits_for_no_approval_and_no_deploy(bake):
    project = bake().project
    drift = yaml.safe_load((project / WORKFLOWS / "drift.yml").read_text(encoding="utf-8"))["jobs"]["drift"]
    deploy = yaml.safe_load((project / WORKFLOWS / "deploy-environment.yml").read_text(encoding="utf-8"))
    assert "environment" not in drift
    assert drift["concurrency"]["group"] != deploy["jobs"]["deploy"]["concurrency"]["group"]


@pytest.mark.slow
def test_baked_workflow_test_fails_when_an_environment_is_missing_from_ci(bake):
    project = bake().project
    wider = bake(environments="sbx,dev,tst,qa,prd").project
    shutil.copy(wider / "multienv.toml", project / "multienv.toml")
    run = run_baked_workflow_test(project)
    assert run.returncode == 1, run.stdout[-4000:]
    assert failed(run, "/test_workflows.py::test_every_environment_has_a_deploy_job_in_promotion_order"), run.stdout
    assert "deploy-qa" in run.stdout


# --------------------------------------------------------------------------- template-update.yml, run for real

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
UPDATE_STEP = "Update from the template"
PR_STEP = "Open or refresh the pull request"


def template_repo(tmp_path: Path) -> Path:
    """A git repository holding this template as it is in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=TEMPLATE, capture_output=True, check=True
    ).stdout.decode()
    repo = tmp_path / "template"
    for name in filter(None, listed.split("\0")):
        if (TEMPLATE / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(TEMPLATE / name, repo / name)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_all(repo, "template")
    return repo


def commit_all(repo: Path, message: str) -> None:
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=repo, check=True)


def run_update_step(project: Path, tmp_path: Path) -> tuple[int, bool, str]:
    """Run template-update.yml's update step as a runner would; return its exit code, whether the
    pull-request step would run, and the job summary it wrote."""
    steps = {step.get("name"): step for step in load(project, "template-update.yml")["jobs"]["update"]["steps"]}
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.write_text("")
    summary.write_text("")
    env = outside_this_environment()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp_path))
    run = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", steps[UPDATE_STEP]["run"]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert steps[PR_STEP]["if"] == "steps.update.outputs.changed == 'true'"
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return run.returncode, outputs.get("changed") == "true", summary.read_text()


@pytest.fixture
def cruft_project(tmp_path):
    """A project made with `cruft create` from a git template, committed; returns (template, project)."""
    repo = template_repo(tmp_path)
    cruft = Path(sys.executable).parent / "cruft"
    subprocess.run(
        [str(cruft), "create", str(repo), "--no-input", "--output-dir", str(tmp_path / "out")],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "out" / "my-multienv-app"
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=project, check=True)
    commit_all(project, "generated")
    return repo, project


@pytest.mark.slow
def test_template_update_does_nothing_when_current(cruft_project, tmp_path):
    _, project = cruft_project
    assert run_update_step(project, tmp_path) == (0, False, "")


@pytest.mark.slow
def test_template_update_applies_a_clean_update(cruft_project, tmp_path):
    repo, project = cruft_project
    readme = repo / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA line the template gained.\n", encoding="utf-8")
    commit_all(repo, "template moves on")
    assert run_update_step(project, tmp_path) == (0, True, "")
    assert "A line the template gained." in (project / "README.md").read_text(encoding="utf-8")
    changed = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert sorted(line[3:] for line in changed) == [".cruft.json", "README.md"]  # what the PR step commits


@pytest.mark.slow
def test_template_update_reports_conflicts_and_fails(cruft_project, tmp_path):
    repo, project = cruft_project
    local = project / "README.md"
    local.write_text(local.read_text(encoding="utf-8").replace("# My Multienv App\n", "# Our own title\n", 1))
    commit_all(project, "local edit")
    readme = repo / "{{cookiecutter.project_slug}}" / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "# {{ plan.project_name }}\n" in text
    readme.write_text(text.replace("# {{ plan.project_name }}\n", "# {{ plan.project_name }} service\n", 1))
    commit_all(repo, "template changes the same line")
    code, opens_pr, summary = run_update_step(project, tmp_path)
    assert (code, opens_pr) == (1, False)
    assert "needs a hand" in summary
    assert "README.md" in summary
