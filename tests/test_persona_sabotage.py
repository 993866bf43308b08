"""The persona fixes for builds, no-data reads and sign-in, each undone on purpose: builds, no-data read paths, listing every
function, and sign-in per tier. Each test bakes a project, puts the hole back in its templates or
tooling and runs the project's own ``make check-access`` for the principals concerned: the cases
that guard the fix must fail, by name.
"""

from __future__ import annotations

import pytest
from conftest import platform_copy
from test_access import assert_caught, drop, edit_statements, sid

NON_ADMINISTRATORS = "devops-engineer,software-developer,qa-engineer"


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["full_isolation", "single_account"])
def test_sabotage_builds_with_the_buildspec_deny_only(bake_copy, node_modules, strategy):
    # As it was: Execute allows StartBuild on the environment's projects and only the buildspec
    # override is denied; a build from another branch, a fork's pull request, another image or
    # other variables runs as the project's role.
    result = bake_copy(account_strategy=strategy)
    personas_yaml = result.project / "infra" / "personas.yaml"

    def start_builds(statement):
        statement["Action"].append("codebuild:StartBuild")
        statement["Resource"].append(
            {"Fn::Sub": "arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:project/${ResourcePrefix}*"}
        )

    assert edit_statements(personas_yaml, drop("DenyBuildsAndTheirOverrides")) == 1
    assert edit_statements(personas_yaml, sid("Execute", start_builds)) == 1
    assert_caught(
        result.project,
        "qa-engineer codebuild:StartBuild",
        "(run other code as a build's role (sourceVersion: another branch or commit, no condition key))",
        "(run other code as a build's role (sourceVersion pr/<n>: a fork's pull request))",
        "(run other code as a build's role (imageOverride: another image))",
        "(run other code as a build's role (environmentVariablesOverride: other variables))",
        only=NON_ADMINISTRATORS,
    )


@pytest.mark.slow
def test_sabotage_reconfiguring_builds_is_caught(bake_copy, node_modules):
    # The Deny dropped and the Change block's project writes back: the build tiers' DevOps Engineer
    # and Software Developer rewrite a project's source, buildspec or role, or add a webhook.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"

    def project_writes(statement):
        statement["Action"] += ["codebuild:*Project", "codebuild:*Webhook"]

    assert edit_statements(personas_yaml, drop("DenyBuildsAndTheirOverrides")) == 1
    assert edit_statements(personas_yaml, sid("ChangeTheEnvironmentsResources", project_writes)) == 1
    assert_caught(
        result.project,
        "sbx-devops-engineer codebuild:UpdateProject",
        "sbx-software-developer codebuild:CreateWebhook",
        only=NON_ADMINISTRATORS,
    )


@pytest.mark.slow
def test_sabotage_no_data_personas_read_stack_events_again(bake_copy, node_modules):
    # Stack events carry each resource's submitted properties (a function's variables); templates
    # and change sets the same.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"
    reads = ("cloudformation:DescribeStackEvents", "cloudformation:GetTemplate", "codebuild:BatchGetBuilds")

    def deny_as_before(statement):
        statement["Action"] = [a for a in statement["Action"] if a not in reads]

    def view_reads(statement):  # what a careless later Allow would add
        statement["Action"] = sorted({*statement["Action"], *reads})

    assert edit_statements(personas_yaml, sid("DenyDataReads", deny_as_before)) == 1
    assert edit_statements(personas_yaml, sid("DescribeStacks", view_reads)) == 1
    assert_caught(
        result.project,
        "prd-devops-engineer cloudformation:DescribeStackEvents ",
        "prd-software-developer cloudformation:GetTemplate ",
        only="devops-engineer,software-developer",
    )


@pytest.mark.slow
def test_sabotage_personas_list_every_function_again(bake_copy, node_modules):
    # As it was: only shared accounts denied the listing, and every persona could view it; in an
    # account of its own, another project's functions (and their variables) were listed.
    result = bake_copy(account_strategy="full_isolation")
    personas_yaml = result.project / "infra" / "personas.yaml"

    def list_everything(statement):
        statement["Action"].append("lambda:ListFunctions")

    assert edit_statements(personas_yaml, drop("DenyListingEveryFunctionsConfiguration")) == 1
    assert edit_statements(personas_yaml, sid("ListEverywhere", list_everything)) == 1
    run_needles = ("qa-engineer lambda:ListFunctions", "(list every function's variables)")
    assert_caught(result.project, *run_needles, only="qa-engineer")


SIGN_IN = {
    "account": "",
    "identity-center": 'source = "identity-center"\npermission_set_prefix = "app-"',
    "saml": 'source = "saml"\nsaml_provider = "corp-idp"',
}


@pytest.mark.slow
@pytest.mark.parametrize("source", SIGN_IN)
@pytest.mark.parametrize("strategy", ["single_account", "full_isolation"])
def test_sabotage_production_trusts_the_lower_tiers_sign_in(bake_copy, node_modules, source, strategy):
    # As it was: one sign-in name per persona for every tier. Where production shares the account
    # (single_account) only the name tells production's sign-in apart; in an account of its own
    # (full_isolation) the same name exists there too (identity account, permission set, provider).
    result = bake_copy(account_strategy=strategy)
    if SIGN_IN[source]:
        toml = result.project / "multienv.toml"
        text = toml.read_text()
        assert 'source = "account"' in text
        toml.write_text(text.replace('source = "account"', SIGN_IN[source], 1))
    trust_py = platform_copy(result.project) / "multienv_tools" / "persona_trust.py"
    text = trust_py.read_text()
    fixed = '    return str(tier) == "production"\n'
    assert fixed in text
    trust_py.write_text(text.replace(fixed, "    return False\n"))
    if source == "account" or strategy == "single_account":
        assert_caught(result.project, "(sign in to a lower environment, assume production's role)", only="identity")
    else:
        # Identity Center and SAML sign in per account: production's account has its own
        # permission set roles and provider, so the account boundary alone holds there.
        from test_access import check_access

        assert check_access(result.project, "identity").returncode == 0
