"""GitHub's tokens against the roles that trust them: the claims file, the two operators evaluated in
Python (``aud`` and ``sub``, which the simulator drops), and the CI resolver's refusals.

``make check-access`` runs ``github_oidc.attack_tokens`` through the simulator; these tests hold the
parts that do not need it.
"""

import json

import pytest

from multienv.settings import GITHUB_ID_PLACEHOLDER, load_settings
from multienv_tools import ci, github_oidc, pipeline
from multienv_tools.github_oidc import ClaimsError, condition_holds

SUB = f"{github_oidc.PROVIDER}:sub"
AUD = f"{github_oidc.PROVIDER}:aud"


@pytest.fixture(scope="module")
def settings():
    return load_settings()


# --------------------------------------------------------------------------- the operators


@pytest.mark.parametrize(
    ("operator", "expected", "claim", "holds"),
    [
        ("StringEquals", "repo:o/r:environment:prd", "repo:o/r:environment:prd", True),
        ("StringEquals", "repo:o/r:environment:prd", "repo:O/r:environment:prd", False),  # case counts
        ("StringEquals", "repo:o/r:environment:prd", "repo:o/r:environment:prd2", False),
        (
            "StringEquals",
            ["repo:o/r:environment:prd", "repo:o@1/r@2:environment:prd"],
            "repo:o@1/r@2:environment:prd",
            True,
        ),
        (
            "StringEquals",
            ["repo:o/r:environment:prd", "repo:o@1/r@2:environment:prd"],
            "repo:o@1/r@3:environment:prd",
            False,
        ),
        ("StringEquals", "repo:o/*", "repo:o/r", False),  # no wildcard in StringEquals
        ("StringLike", "repo:o/*", "repo:o/r:environment:prd", True),
        ("StringLike", "repo:o/*", "repo:o2/r", False),
        ("StringLike", "repo:o/r:environment:pr?", "repo:o/r:environment:prd", True),
        ("StringLike", "repo:o/r:environment:pr?", "repo:o/r:environment:prod", False),
        ("StringLike", "repo:o/r.x", "repo:o/rax", False),  # a dot is a dot
        ("StringLike", "*", "anything", True),
    ],
)
def test_the_two_operators_follow_aws_semantics(operator, expected, claim, holds):
    assert condition_holds(operator, SUB, expected, {"sub": claim}) is holds


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike"])
def test_a_claim_the_token_lacks_matches_nothing(operator):
    assert condition_holds(operator, AUD, "*", {"sub": "repo:o/r:ref:refs/heads/main"}) is False


@pytest.mark.parametrize("operator", ["ForAllValues:StringLike", "StringNotEquals", "StringEqualsIgnoreCase"])
def test_a_trust_using_another_operator_on_aud_or_sub_is_refused(operator):
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::111111111111:oidc-provider/{github_oidc.PROVIDER}"},
                "Action": github_oidc.ACTION,
                "Condition": {operator: {SUB: "repo:o/r:*"}},
            }
        ]
    }
    with pytest.raises(ClaimsError, match=operator):
        github_oidc.checks({"arn:aws:iam::111111111111:role/x": ("111111111111", trust)})


def test_the_simulated_part_keeps_every_other_condition_and_drops_aud_and_sub(settings):
    checks = github_oidc.checks(github_oidc.role_trusts(settings))
    roles = {c.role.rsplit("/", 1)[-1] for c in checks}
    n = settings.naming
    assert roles == {n.ci_role(e.name) for e in settings.environments} | {n.drift_role()}
    for check in checks:
        kept = {key for block in check.statement.get("Condition", {}).values() for key in block}
        assert {key.split(":", 1)[1] for key in kept} <= github_oidc.SIMULATED
        assert {f"{github_oidc.PROVIDER}:repository_id", f"{github_oidc.PROVIDER}:job_workflow_ref"} <= kept
        assert sorted(key for _, key, _ in check.local) == [AUD, SUB]


# --------------------------------------------------------------------------- the claims file


CLAIMS = {
    "iss": github_oidc.ISSUER,
    "aud": "sts.amazonaws.com",
    "sub": "repo:octo-org@65/octo-repo@74:environment:prd",
    "repository": "octo-org/octo-repo",
    "repository_id": "74",
    "repository_owner_id": "65",
    "run_number": 10,
    "head_ref": "",
}


@pytest.mark.parametrize("wrapped", [False, True])
def test_claims_are_read_plain_or_wrapped(tmp_path, wrapped):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": CLAIMS} if wrapped else CLAIMS))
    claims = github_oidc.read_claims(path)
    assert claims["sub"] == CLAIMS["sub"] and claims["repository_id"] == "74" and claims["run_number"] == "10"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON (line 1"),
        ('["a", "list"]', "expected a JSON object"),
        ("{}", "expected a JSON object"),
        ('{"sub": ["a"]}', "claim 'sub' is list, not a string"),
    ],
)
def test_bad_claims_files_get_a_clear_error(tmp_path, text, message):
    path = tmp_path / "claims.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ClaimsError) as raised:
        github_oidc.read_claims(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)


def test_the_cli_refuses_a_missing_file_with_exit_2(tmp_path, capsys):
    assert github_oidc.main([str(tmp_path / "nope.json")]) == 2
    assert "nope.json: no such file" in capsys.readouterr().err


# --------------------------------------------------------------------------- the tokens


def test_the_own_tokens_carry_the_subjects_the_ci_trust_names(settings):
    repo, with_ids = settings.github_repository, settings.github_repository_with_ids
    for env in settings.names:
        plain = github_oidc.token(settings, env=env)
        immutable = github_oidc.token(settings, env=env, immutable=True)
        assert plain["sub"] == f"repo:{repo}:environment:{env}"
        assert immutable["sub"] == f"repo:{with_ids}:environment:{env}"
        assert plain["job_workflow_ref"] == f"{repo}/{pipeline.DEPLOY_ENVIRONMENT_WORKFLOW}@{pipeline.DEFAULT_REF}"
        assert plain["workflow_ref"] == f"{repo}/{pipeline.DEPLOY_WORKFLOW}@{pipeline.DEFAULT_REF}"


def test_every_environment_has_the_attackers_tokens_and_its_own(settings):
    tokens = github_oidc.attack_tokens(settings)
    n = settings.naming
    for env in settings.names:
        own = [t for t in tokens if t.claims.get("environment") == env and t.expect]
        assert {t.expect for t in own} == {(n.ci_role(env),)}
        whys = " | ".join(t.why for t in tokens if t.why.startswith(f"{env}:"))
        for attack in ("squatter", "another workflow file", "another audience", "another owner", "freed name"):
            assert attack in whys, (env, attack)
    assert any(t.claims["sub"].endswith(":pull_request") and not t.expect for t in tokens)


# --------------------------------------------------------------------------- the resolver's refusals


def test_the_resolvers_refuse_until_the_github_ids_are_filled_in(settings):
    empty = settings._replace(github_owner_id="", github_repository_id="")
    command = f"gh api repos/{settings.github_repository} --jq '.owner.id, .id'"
    for env in settings.names:
        problems = ci.placeholder_problems(empty, env)
        assert [p for p in problems if command in p and "github_owner_id" in p]
        assert [p for p in problems if command in p and "github_repository_id" in p]
    filled = settings._replace(github_owner_id="1001", github_repository_id="2002")
    assert not [p for env in settings.names for p in ci.placeholder_problems(filled, env) if "gh api" in p]
    assert filled.github_repository_with_ids.endswith("@2002") and "@1001/" in filled.github_repository_with_ids
    assert empty.github_repository_with_ids.count(f"@{GITHUB_ID_PLACEHOLDER}") == 2


def test_drift_roles_name_the_drift_role_and_the_environments_reader(settings):
    n = settings.naming
    for env in settings.environments:
        roles = ci.drift_roles(settings, env.name)
        assert roles["drift_role_arn"] == n.role_arn(settings.devops.id, n.drift_role())
        assert roles["drift_reader_role_arn"] == n.role_arn(env.account.id, n.drift_reader_role(env.name))
        assert (roles["devops_account_id"], roles["env_account_id"]) == (settings.devops.id, env.account.id)
