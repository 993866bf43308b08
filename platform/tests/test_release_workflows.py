"""The workflows carry the release: attestation at build, its verification and the release
after each deploy, and the scheduled drift detection with the read-only drift roles.

Drop the attestation, let it run where the plan has none, verify after publishing or where the
build did not attest, make the SHA-256 check conditional, release before deploying, give another
job the right to write attestations or forget an environment in the drift matrix, and a test
here fails.
"""

import re

import yaml
from baked import ROOT

from multienv.settings import load_settings
from multienv_tools import pipeline

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


# ---------------------------------------------------------------- GitHub expressions, as the runner evaluates them
TOKEN = re.compile(r"\s*(\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.-]*)")


def evaluate(condition: str, contexts: dict) -> bool:
    """A step's ``if:`` under ``contexts`` (``{"github": {...}, "vars": {...}}``), with GitHub's rules for
    what these workflows use: ``! == != && ||``, parentheses, string literals, context paths. A missing
    property is null, which equals no string; strings compare ignoring case; a bare ``if:`` is wrapped
    in ``${{ }}``."""
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    tokens, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        assert match, f"cannot read {text[position:]!r} in {condition!r}"
        tokens.append(match.group(1))
        position = match.end()

    def value(token: str):
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        found = contexts
        for part in token.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return found

    def equal(left, right) -> bool:
        if isinstance(left, str) and isinstance(right, str):
            return left.lower() == right.lower()
        return left == right

    def parse_or(i):
        result, i = parse_and(i)
        while i < len(tokens) and tokens[i] == "||":
            right, i = parse_and(i + 1)
            result = result or right
        return result, i

    def parse_and(i):
        result, i = parse_not(i)
        while i < len(tokens) and tokens[i] == "&&":
            right, i = parse_not(i + 1)
            result = result and right
        return result, i

    def parse_not(i):
        if tokens[i] == "!":
            result, i = parse_not(i + 1)
            return not result, i
        return parse_compare(i)

    def parse_compare(i):
        if tokens[i] == "(":
            result, i = parse_or(i + 1)
            assert tokens[i] == ")", condition
            return result, i + 1
        left, i = value(tokens[i]), i + 1
        if i < len(tokens) and tokens[i] in ("==", "!="):
            operator, right = tokens[i], value(tokens[i + 1])
            return equal(left, right) == (operator == "=="), i + 2
        return bool(left), i

    result, end = parse_or(0)
    assert end == len(tokens), f"left over in {condition!r}: {tokens[end:]}"
    return bool(result)


def test_the_evaluator_reads_github_expressions_as_github_does():
    contexts = {"github": {"event": {"repository": {"visibility": "public"}}}, "vars": {}}
    assert evaluate("github.event.repository.visibility == 'PUBLIC'", contexts)
    assert not evaluate("vars.X == 'true'", contexts)  # an unset variable is null
    assert evaluate("${{ !(vars.X == 'true') && (github.event.repository.visibility != 'private') }}", contexts)
    assert not evaluate("github.event.nothing.here == ''", contexts)


# Where GitHub offers artifact attestations, by the repository's visibility and the variable a
# team sets (pipeline.ATTESTATIONS_VARIABLE): public repositories on every plan; private and
# internal ones only on GitHub Enterprise Cloud, which says so by setting the variable to "true".
ATTESTED_WHERE = [
    ("public", None, True),
    ("public", "false", True),  # free on every plan: no reason to go without
    ("private", None, False),  # GitHub Free, Pro, Team: the attest step would fail the build
    ("internal", None, False),
    ("private", "false", False),
    ("private", "yes", False),
    ("private", "true", True),  # GitHub Enterprise Cloud
    ("internal", "TRUE", True),
]


def run_contexts(visibility: str, variable: str | None) -> dict:
    variables = {} if variable is None else {pipeline.ATTESTATIONS_VARIABLE: variable}
    return {"github": {"event": {"repository": {"visibility": visibility}}}, "vars": variables}


def runs_under(step: dict, contexts: dict) -> bool:
    return evaluate(step["if"], contexts) if "if" in step else True


def test_attest_and_verify_run_only_where_the_repository_has_attestations():
    (build_steps,) = [load("deploy.yml")["jobs"][pipeline.BUILD_JOB]["steps"]]
    (deploy,) = load("deploy-environment.yml")["jobs"].values()
    attest = build_steps[index_of(build_steps, lambda s: s.get("uses", "").startswith(ATTEST))]
    verify = deploy["steps"][index_of(deploy["steps"], runs("gh attestation verify"))]
    notice = deploy["steps"][index_of(deploy["steps"], runs("::notice::No artifact attestation"))]
    for visibility, variable, expected in ATTESTED_WHERE:
        contexts = run_contexts(visibility, variable)
        case = (visibility, variable)
        assert runs_under(attest, contexts) is expected, case
        assert runs_under(verify, contexts) is expected, case
        assert runs_under(notice, contexts) is not expected, case


def test_the_sha256_check_and_every_other_step_run_on_every_plan():
    """Only the attestation's steps depend on the plan: the artifact is checked, published and deployed alike."""
    (deploy,) = load("deploy-environment.yml")["jobs"].values()
    build_steps = load("deploy.yml")["jobs"][pipeline.BUILD_JOB]["steps"]
    conditional = {"gh attestation verify", "::notice::No artifact attestation", ATTEST}
    for step in [*build_steps, *deploy["steps"]]:
        text = " ".join(step.get("run", "").split()) + step.get("uses", "")
        if not any(marker in text for marker in conditional):
            assert "if" not in step, step.get("name")
    checksum = deploy["steps"][index_of(deploy["steps"], runs("sha256sum --check --strict"))]
    for visibility, variable, _ in ATTESTED_WHERE:
        assert runs_under(checksum, run_contexts(visibility, variable))


def test_the_build_job_attests_the_artifact_it_uploads():
    build = load("deploy.yml")["jobs"][pipeline.BUILD_JOB]
    steps = build["steps"]
    attest = index_of(steps, lambda s: s.get("uses", "").startswith(ATTEST))
    upload = index_of(steps, lambda s: s.get("uses", "").startswith("actions/upload-artifact@"))
    assert steps[attest]["with"] == {"subject-path": pipeline.ARTIFACT_PATH}
    assert steps[attest]["if"] == pipeline.ATTESTING
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
    assert steps[roles]["run"].endswith('multienv ci drift-roles --env "${ENV_NAME}" >> "${GITHUB_OUTPUT}"')
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
