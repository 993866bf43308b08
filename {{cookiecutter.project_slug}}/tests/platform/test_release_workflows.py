"""The workflows carry the release: attestation at build, its verification and the release
after each deploy, and the scheduled drift detection with the read-only drift roles.

Drop the attestation, verify after publishing, release before deploying, give another job
the right to write attestations or forget an environment in the drift matrix, and a test
here fails.
"""

from pathlib import Path

import yaml
from multienv_tools import pipeline

from multienv.settings import load_settings
{% raw %}
ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ATTEST = "actions/attest-build-provenance@"
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
REUSABLE = "$/.github/workflows/deploy-environment.yml"


def expression(text: str) -> str:
    return "${{ " + text + " }}"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def index_of(steps: list[dict], predicate) -> int:
    (found,) = [i for i, step in enumerate(steps) if predicate(step)]
    return found


def runs(text: str):
    return lambda step: text in " ".join(step.get("run", "").split())


def test_the_build_job_attests_the_artifact_it_uploads():
    build = load("deploy.yml")["jobs"][pipeline.BUILD_JOB]
    steps = build["steps"]
    attest = index_of(steps, lambda s: s.get("uses", "").startswith(ATTEST))
    upload = index_of(steps, lambda s: s.get("uses", "").startswith("actions/upload-artifact@"))
    assert steps[attest]["with"] == {"subject-path": pipeline.ARTIFACT_PATH}
    assert index_of(steps, runs("deploy build")) < attest < upload
    assert build["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}


def test_only_the_build_job_may_write_attestations():
    writers = [
        (path.name, name)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in load(path.name)["jobs"].items()
        if (job.get("permissions") or {}).get("attestations") == "write"
    ]
    assert writers == [("deploy.yml", pipeline.BUILD_JOB)]


def test_each_deploy_verifies_the_attestation_before_publishing_then_releases_after_deploying():
    deploy = load("deploy.yml")
    for name, job in deploy["jobs"].items():
        if job.get("uses") == REUSABLE:
            assert job["permissions"]["attestations"] == "read", name
    (job,) = load("deploy-environment.yml")["jobs"].values()
    assert job["permissions"]["attestations"] == "read"
    steps = job["steps"]
    checksum = index_of(steps, runs("sha256sum --check"))
    verify = index_of(
        steps,
        runs(
            f'gh attestation verify {pipeline.ARTIFACT_PATH} --repo "${{GITHUB_REPOSITORY}}" '
            '--signer-workflow "${GITHUB_REPOSITORY}/.github/workflows/deploy.yml"'
        ),
    )
    assert steps[verify]["env"] == {"GH_TOKEN": expression("github.token")}
    publish = index_of(steps, runs(" publish "))
    app = index_of(steps, runs(" app "))
    release = index_of(steps, runs(f'deploy release --env "${{ENV_NAME}}" --artifact {pipeline.ARTIFACT_PATH}'))
    assert checksum < verify < publish < app < release == len(steps) - 1


def test_drift_runs_on_a_schedule_in_every_environment_outside_the_github_environments():
    workflow = load("drift.yml")
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["environment"] == list(load_settings(ROOT / "multienv.toml").names)
    assert job["strategy"]["fail-fast"] is False
    # No GitHub environment: required reviewers of production would be asked every day.
    assert "environment" not in job
    # Its own concurrency group: a drift run never queues a deploy behind it.
    deploy = load("deploy-environment.yml")["jobs"]["deploy"]["concurrency"]["group"]
    assert job["concurrency"]["group"] == "drift-" + expression("matrix.environment")
    assert not deploy.startswith("drift-")
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["steps"][-1]["run"].endswith('deploy drift --env "${ENV_NAME}"')


def test_drift_assumes_the_drift_role_then_the_drift_reader_with_the_accounts_pinned():
    (job,) = load("drift.yml")["jobs"].values()
    steps = job["steps"]
    roles = index_of(steps, lambda s: s.get("id") == "roles")
    assert steps[roles]["run"].endswith('-m multienv_tools.ci drift-roles --env "${ENV_NAME}" >> "${GITHUB_OUTPUT}"')
    hops = [(i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(CREDENTIALS_ACTION)]
    # configure-aws-credentials v6.2.3, pinned by its commit, on both hops.
    assert [s["uses"].split("@")[1] for _, s in hops] == ["e6de054238d6b7531b4efff3b6587d9aade6a06c"] * 2
    assert [
        (s["with"]["role-to-assume"], s["with"]["allowed-account-ids"], s["with"].get("role-chaining")) for _, s in hops
    ] == [
        (expression("steps.roles.outputs.drift_role_arn"), expression("steps.roles.outputs.devops_account_id"), None),
        (
            expression("steps.roles.outputs.drift_reader_role_arn"),
            expression("steps.roles.outputs.env_account_id"),
            True,
        ),
    ]
    assert roles < hops[0][0]


{%- endraw %}
