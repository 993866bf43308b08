"""The attacker's catalog: what it holds, whom it reaches, how it judges the simulator's answers."""

import pytest
from baked import ROOT

from multienv.settings import load_settings
from multienv_tools import attack_catalog as ac
from multienv_tools import attack_expansion, attack_verdict, attack_world
from multienv_tools.access_policies import attack_layout, collect_policies, render_all

# The techniques an attacker's matrix must try, at the least.
REQUIRED_ACTIONS = {
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "cloudformation:UpdateStack",
    "cloudformation:ExecuteChangeSet",
    "codebuild:StartBuild",
    "ssm:SendCommand",
    "ssm:StartSession",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:ScheduleKeyDeletion",
    "s3:PutBucketPolicy",
    "sqs:SetQueueAttributes",
    "sns:SetTopicAttributes",
    "lambda:AddPermission",
    "secretsmanager:PutResourcePolicy",
    "ecr:SetRepositoryPolicy",
    "lambda:TagResource",
    "lambda:UntagResource",
    "iam:TagRole",
    "iam:UntagRole",
    "logs:PutAccountPolicy",
}
PASSED_TO = {"lambda", "ec2", "ecs-tasks", "cloudformation", "codebuild", "glue", "sagemaker", "states"}


@pytest.fixture(scope="module")
def layout():
    settings = load_settings(ROOT / "multienv.toml")
    return attack_layout(settings, collect_policies(render_all(settings)))


def test_the_catalog_holds_every_required_technique():
    assert {t.action for t in ac.TECHNIQUES} >= REQUIRED_ACTIONS
    passed = {t.context["iam:PassedToService"].split(".")[0] for t in ac.TECHNIQUES if t.action == "iam:PassRole"}
    assert passed == PASSED_TO


def test_every_principal_reaches_for_every_other_environment_and_every_scope(layout):
    attacks = attack_expansion.attack_cases(layout)
    names = layout.settings.names
    for principal in attack_world.principals(layout):
        own = [a for a in attacks if a.principal == principal]
        scopes = {a.target.scope for a in own}
        assert scopes >= {ac.OTHER_ENV, ac.DEVOPS_PLATFORM, ac.OWN_PLATFORM, ac.PEER_PROJECT}, principal
        reached = {a.target.env for a in own if a.target.scope == ac.OTHER_ENV}
        assert reached == set(names) - {principal.env}, principal


def test_every_principal_kind_is_an_attacker(layout):
    kinds = {a.principal.kind for a in attack_expansion.attack_cases(layout)}
    assert {"deployer", "cfn-exec", "ci", "bounded-role", "app-role", "project-admin"} <= kinds


def test_the_cases_of_some_kinds_are_exactly_those_the_whole_set_holds_for_them(layout):
    """check-access --only: a sabotage must meet the very cases the full run would put to its principals."""
    everything = attack_expansion.attack_cases(layout)
    for kinds in ({"project-admin"}, {"ci", "app-role"}, {"deployer", "cfn-exec", "bounded-role"}):
        chosen = attack_expansion.attack_cases(layout, kinds=frozenset(kinds))
        assert chosen == [a for a in everything if a.principal.kind in kinds], kinds
        assert chosen


def _answer(decision):
    return {"decision": decision, "errors": None, "deciding": []}


def test_an_allowed_or_unsimulated_case_fails_and_a_stale_entry_is_named(layout):
    attacks = attack_expansion.attack_cases(layout)[:3]
    entry = ac.KnownOpen(attacks[1].label, "open on purpose")
    stale = ac.KnownOpen("nobody of nowhere: *", "closed long ago")
    answers = [_answer("error"), _answer("Allowed"), _answer("ExplicitlyDenied")]
    verdict = attack_verdict.judge(attacks, answers, layout.settings.strategy.value, [entry, stale])
    assert [a for a, _ in verdict.failed] == [attacks[0]]
    assert verdict.open == {entry: 1, stale: 0}
    assert verdict.stale == [stale]
    assert not verdict.ok
