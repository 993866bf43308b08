"""The workflows carry the release: attestation at build, its verification and the release
after each deploy, and the scheduled drift detection with read-only sessions.

Drop the attestation, verify after publishing, release before deploying, give another job
the right to write attestations or forget an environment in the drift matrix, and a test
here fails.
"""

from pathlib import Path

import yaml
from multienv_tools import drift, pipeline

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


def test_drift_runs_on_a_schedule_in_every_environment():
    workflow = load("drift.yml")
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["environment"] == list(load_settings(ROOT / "multienv.toml").names)
    assert job["strategy"]["fail-fast"] is False
    assert job["environment"] == {"name": expression("matrix.environment")}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["steps"][-1]["run"].endswith('deploy drift --env "${ENV_NAME}"')


def test_both_drift_hops_are_narrowed_by_the_session_policies_of_drift_py(capsys):
    (job,) = load("drift.yml")["jobs"].values()
    steps = job["steps"]
    policy = index_of(steps, lambda s: s.get("id") == "policy")
    assert steps[policy]["run"].endswith(f'-m {drift.__name__} session-policy >> "${{GITHUB_OUTPUT}}"')
    hops = [(i, s["with"]) for i, s in enumerate(steps) if s.get("uses", "").startswith(CREDENTIALS_ACTION)]
    assert [(h["role-to-assume"], h["inline-session-policy"], h.get("role-chaining")) for _, h in hops] == [
        (expression("steps.roles.outputs.ci_role_arn"), expression("steps.policy.outputs.chain_policy"), None),
        (expression("steps.roles.outputs.deployer_role_arn"), expression("steps.policy.outputs.policy"), True),
    ]
    assert policy < hops[0][0]
    assert drift.main(["session-policy"]) == 0
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(printed) == {"chain_policy", "policy"}


def test_the_drift_session_can_only_read_and_detect():
    read_only = ("Describe", "Detect", "Get", "List")
    for statement in drift.SESSION_POLICY["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert action.split(":")[1].startswith(read_only), action
    (chain,) = drift.CHAIN_SESSION_POLICY["Statement"]
    assert chain["Action"] == ["sts:AssumeRole", "sts:TagSession"]
{%- endraw %}
