"""GitHub's tokens against the roles that trust them, in baked projects: ``make who-can-assume`` and
the attacker's tokens of ``make check-access``, in every account strategy.

A bake with ``github_owner_id`` and ``github_repository_id`` trusts its repository's token in both
subject forms GitHub issues (the name form of older repositories, the immutable owner@id/name@id
form of newer ones) and nothing else that names the repository. The claims below are written as
GitHub issues them (GitHub's OIDC reference), not from the project's own token builder.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import DEFAULT_ANSWERS, run_project
from matrix import GITHUB_IDS, STRATEGIES
from test_access import check_access, edit_statements

from multienv_template import plan as multienv_plan
from multienv_template import vocabulary as multienv_vocabulary

github_oidc = multienv_vocabulary.generated_module("multienv_tools.github_oidc")
simulator = multienv_vocabulary.generated_module("multienv_tools.simulator")

PLAN = multienv_plan.build_plan({**DEFAULT_ANSWERS, **GITHUB_IDS})
REPO = PLAN.github_repository
OWNER, NAME = REPO.split("/")
PRD = PLAN.production.name
PRD_CI = PLAN.naming.ci_role(PRD)
DEPLOY_ENV = f"{REPO}/.github/workflows/deploy-environment.yml"

# A production deploy job of deploy.yml calling deploy-environment.yml on main, as GitHub issues its token.
PRODUCTION_DEPLOY = {
    "jti": "example-id",
    "iss": "https://token.actions.githubusercontent.com",
    "aud": "sts.amazonaws.com",
    "sub": f"repo:{REPO}:environment:{PRD}",
    "ref": "refs/heads/main",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "repository": REPO,
    "repository_owner": OWNER,
    "actor_id": "12",
    "repository_visibility": "private",
    "repository_id": "2002",
    "repository_owner_id": "1001",
    "run_id": "9876543210",
    "run_number": "10",
    "run_attempt": "1",
    "runner_environment": "github-hosted",
    "actor": "octocat",
    "workflow": "deploy",
    "head_ref": "",
    "base_ref": "",
    "event_name": "push",
    "ref_type": "branch",
    "environment": PRD,
    "workflow_ref": f"{REPO}/.github/workflows/deploy.yml@refs/heads/main",
    "job_workflow_ref": f"{DEPLOY_ENV}@refs/heads/main",
    "nbf": 1765000000,
    "exp": 1765000900,
    "iat": 1765000300,
}
IMMUTABLE_SUB = f"repo:{OWNER}@1001/{NAME}@2002:environment:{PRD}"

# (what changes in the production deploy's token, the roles it may then assume)
TOKENS = {
    "old-repository-name-subject": ({}, [PRD_CI]),
    "new-repository-immutable-subject": ({"sub": IMMUTABLE_SUB}, [PRD_CI]),
    "squatter-name-subject": ({"repository_id": "3003", "repository_owner_id": "4004"}, []),
    "squatter-immutable-subject": (
        {
            "sub": f"repo:{OWNER}@4004/{NAME}@3003:environment:{PRD}",
            "repository_id": "3003",
            "repository_owner_id": "4004",
        },
        [],
    ),
    "same-owner-new-repository-under-the-freed-name": ({"repository_id": "3003"}, []),
    "transferred-to-another-owner": ({"repository_owner_id": "4004"}, []),
    "another-workflow-file": ({"job_workflow_ref": f"{REPO}/.github/workflows/evil.yml@refs/heads/main"}, []),
    "feature-branch-to-production": (
        {"ref": "refs/heads/feature", "job_workflow_ref": f"{DEPLOY_ENV}@refs/heads/feature"},
        [],
    ),
    "feature-branch-calling-mains-file": ({"ref": "refs/heads/feature"}, []),
    "pull-request": (
        {
            "sub": f"repo:{REPO}:pull_request",
            "environment": None,
            "event_name": "pull_request",
            "ref": "refs/pull/7/merge",
        },
        [],
    ),
    "another-audience": ({"aud": f"https://github.com/{OWNER}"}, []),
    "another-owner": ({"sub": f"repo:someone-else/{NAME}:environment:{PRD}", "repository": f"someone-else/{NAME}"}, []),
}


def claims(changes: dict) -> dict:
    merged = {**PRODUCTION_DEPLOY, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def who_can_assume(project, path) -> list[str]:
    run = run_project(project, "-s", "who-can-assume", f"CLAIMS={path}")
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


@pytest.mark.slow
def test_a_bake_with_ids_trusts_both_forms_of_its_token_and_nothing_else_that_names_it(
    bake_copy, node_modules, tmp_path
):
    project = bake_copy(**GITHUB_IDS).project
    for name, (changes, expected) in TOKENS.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(claims(changes)))
        assert who_can_assume(project, path) == expected, name
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"claims": claims({"sub": IMMUTABLE_SUB})}))
    assert who_can_assume(project, wrapped) == [PRD_CI]


@pytest.mark.slow
def test_who_can_assume_refuses_bad_input_clearly(bake_copy, node_modules, tmp_path):
    project = bake_copy(**GITHUB_IDS).project
    run = run_project(project, "-s", "who-can-assume", f"CLAIMS={tmp_path / 'missing.json'}")
    assert run.returncode != 0 and "missing.json: no such file" in run.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("eyJhbGciOiJSUzI1NiJ9.not-a-json-file")
    run = run_project(project, "-s", "who-can-assume", f"CLAIMS={broken}")
    assert run.returncode != 0 and "broken.json: not JSON" in run.stderr
    run = run_project(project, "-s", "who-can-assume")
    assert run.returncode != 0 and "set CLAIMS=" in run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_attackers_tokens_get_exactly_their_roles_in_every_strategy(bake_copy, node_modules, strategy):
    project = bake_copy(account_strategy=strategy, **GITHUB_IDS).project
    run = check_access(project, "ci")
    assert run.returncode == 0, run.stdout[-3000:]
    (count,) = re.findall(r"(\d+) GitHub tokens", run.stdout)
    environments = len(DEFAULT_ANSWERS["environments"].split(","))
    assert int(count) >= 10 * environments, run.stdout


@pytest.mark.slow
def test_sabotage_ci_trust_without_the_repository_id(bake_copy, node_modules):
    # Without repository_id a new repository of the same owner, under a freed name, deploys.
    project = bake_copy(**GITHUB_IDS).project
    devops = project / "infra" / "devops.yaml"
    lines = devops.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if ":repository_id: !Ref GitHubRepositoryId" not in line]
    assert len(lines) - len(kept) == len(PLAN.environments) + 1  # every CI role and the drift role
    devops.write_text("".join(kept), encoding="utf-8")
    run = check_access(project, "ci")
    assert run.returncode != 0
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL github token")]
    assert any("new repository of the same owner under the freed name" in line for line in failed), run.stdout
    assert any("may assume " + PRD_CI in line for line in failed), run.stdout


@pytest.mark.slow
def test_sabotage_production_trust_without_the_branch(bake_copy, node_modules, tmp_path):
    # Without ref and job_workflow_ref pinned to main, a branch's run reaches production.
    project = bake_copy(**GITHUB_IDS).project
    devops = project / "infra" / "devops.yaml"
    text = devops.read_text(encoding="utf-8")
    pinned = "deploy-environment.yml@refs/heads/main"
    assert text.count(pinned) == 1
    text = text.replace(pinned, "deploy-environment.yml@refs/heads/*").replace(
        "token.actions.githubusercontent.com:ref: refs/heads/main\n      Policies",
        "token.actions.githubusercontent.com:ref: refs/heads/*\n      Policies",
    )
    text = text.replace(
        "StringEquals:\n                token.actions.githubusercontent.com:aud",
        "StringLike:\n                token.actions.githubusercontent.com:aud",
    )
    devops.write_text(text, encoding="utf-8")
    path = tmp_path / "branch.json"
    path.write_text(json.dumps(claims(TOKENS["feature-branch-to-production"][0])))
    assert PRD_CI in who_can_assume(project, path)
    run = check_access(project, "ci")
    assert run.returncode != 0
    assert any(
        line.startswith("FAIL github token") and "called from a branch" in line for line in run.stdout.splitlines()
    ), run.stdout


@pytest.mark.slow
def test_sabotage_drift_reader_allowed_more_than_reading(bake_copy, node_modules):
    # The drift reader is reached without any GitHub approval: an Allow beyond detection and reads
    # (here everything its boundary leaves) shows as changes and data reads it must not make.
    project = bake_copy().project
    bootstrap = project / "infra" / "workload-bootstrap.yaml"

    def everything(statement):
        if statement.get("Sid") == "DriftWithoutResourceScope" and "iam:GetRole" not in str(statement):
            statement["Action"] = "*"
            return True
        return False

    assert edit_statements(bootstrap, everything) == 2  # the Deployer Role's and the drift reader's
    run = check_access(project, "drift-reader")
    assert run.returncode != 0
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL") and "-drift " in line]
    for action in ("cloudformation:UpdateStack", "lambda:UpdateFunctionCode", "s3:GetObject"):
        assert any(f"-drift {action} " in line for line in failed), (action, run.stdout[-3000:])


def _trust(conditions: dict) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::111111111111:oidc-provider/{github_oidc.PROVIDER}"},
                "Action": github_oidc.ACTION,
                "Condition": {"StringEquals": conditions},
            }
        ],
    }


def test_the_simulator_evaluates_the_listed_claim_keys_and_drops_aud_and_sub(node_modules):
    """Why github_oidc splits each statement: iam-simulate decides the keys of SIMULATED (a match
    allows, a mismatch denies) and never matches a condition on aud or sub, even an equal one. If a
    new simulator learns them, this fails, and the Python half of the evaluation can go."""
    role = "arn:aws:iam::111111111111:role/x"
    values = {key: f"value-of-{key}" for key in github_oidc.SIMULATED | github_oidc.EVALUATED_HERE}
    asked = []
    with simulator.Simulator(node_modules, multienv_vocabulary.PROJECT_TEMPLATE) as sim:
        for key in sorted(values):
            for claim in (values[key], "something-else"):
                check = github_oidc.Check(
                    role, "111111111111", _trust({f"{github_oidc.PROVIDER}:{key}": values[key]})["Statement"][0], []
                )
                # the context the command gives the simulator, with aud and sub passed through as well
                request = check.simulation({key: claim})
                request["request"]["contextVariables"][f"{github_oidc.PROVIDER}:{key}"] = claim
                asked.append((key, claim == values[key], sim.submit(request)))
        answers = sim.answers()
    for key, equal, number in asked:
        decision = answers[number]["decision"]
        if key in github_oidc.EVALUATED_HERE:
            assert decision == "ImplicitlyDenied", (key, equal, decision)
        else:
            assert decision == ("Allowed" if equal else "ImplicitlyDenied"), (key, equal, decision)
