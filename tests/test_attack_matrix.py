"""The generated attacker's matrix and the org perimeter catch a hole put back on purpose.

Each test bakes a project, undoes one layer of the isolation in its templates and runs the
project's own ``make check-access``: the generated cases (or the org-perimeter cases) must
fail, naming the technique and the scope. The designed cases are not what is checked here.
"""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS, platform_copy
from test_access import boundary, check_access, drop, edit_statements, sid

from multienv_template import plan as multienv_plan
from multienv_template import vocabulary as multienv_vocabulary


def failures(run) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith("FAIL")]


@pytest.mark.slow
def test_sabotage_shared_account_administrator_gets_the_account(bake_copy, node_modules):
    # In one account, the administrator's Allow is its environment's names and the account
    # guard denies account-wide settings; with both undone, "full on sbx" is "full on the account".
    result = bake_copy(account_strategy="single_account")
    personas_yaml = result.project / "infra" / "personas.yaml"

    def widen(statement):
        if statement.get("Sid") == "AdministerTheEnvironmentsNames":
            statement.clear()
            statement.update({"Sid": "Widened", "Effect": "Allow", "Action": "*", "Resource": "*"})
            return True
        return False

    assert edit_statements(personas_yaml, widen) == 1
    assert edit_statements(personas_yaml, drop("DenyAccountSettings")) == 1
    run = check_access(result.project, "project-admin")
    assert run.returncode != 0, run.stdout
    generated = [line for line in failures(run) if line.startswith("FAIL generated")]
    for scope in ("(account-settings))", "(other-environment))"):
        assert any(line.endswith(scope) and "project-admin of" in line for line in generated), "\n".join(generated)
    assert any("logs:PutAccountPolicy" in line for line in generated), "\n".join(generated)


@pytest.mark.slow
def test_sabotage_boundary_lets_the_pipeline_rewrite_the_platform_roles(bake_copy, node_modules):
    result = bake_copy()
    bootstrap = result.project / "infra" / "workload-bootstrap.yaml"

    def every_role(statement):  # the boundary's IAM allow reaches past the function roles
        statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*"}

    assert edit_statements(bootstrap, boundary("Roles", every_role)) == 1
    assert edit_statements(bootstrap, boundary("ReadOnly")) == 1
    run = check_access(result.project, "bounded-role")
    assert run.returncode != 0, run.stdout
    plan = multienv_plan.build_plan(dict(DEFAULT_ANSWERS))
    deployer = plan.naming.deployer_role("sbx")
    generated = [line for line in failures(run) if line.startswith("FAIL generated") and "(own-platform))" in line]
    assert any("bounded-role of sbx" in line and deployer in line for line in generated), "\n".join(generated)


@pytest.mark.slow
def test_sabotage_key_fence_forgets_the_project(bake_copy, node_modules):
    # Keys have no names: fenced by the env tag alone, a second project's key of the same
    # environment (same env tag) is the Project Administrator's to administer.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"
    assert edit_statements(personas_yaml, sid("AdministerTheEnvironmentsKeys", _env_tag_only)) == 1
    assert edit_statements(personas_yaml, drop("DenyKeysOfOtherProjects")) == 1
    run = check_access(result.project, "project-admin")
    assert run.returncode != 0, run.stdout
    generated = [line for line in failures(run) if line.startswith("FAIL generated")]
    # Another project's key of sbx (the peers take turns: <slug>-peer, <slug>-sbx-x, ...).
    slug = multienv_plan.build_plan(dict(DEFAULT_ANSWERS)).naming.slug
    peers = [line for line in generated if "project-admin of sbx:" in line and " sbx key (peer-project))" in line]
    assert any(f" on {slug}-peer sbx key" in line or f" on {slug}-sbx-x sbx key" in line for line in peers), "\n".join(
        generated
    )


def _env_tag_only(statement):
    statement["Condition"]["StringEquals"].pop("aws:ResourceTag/project")


@pytest.mark.slow
def test_sabotage_administrator_alone_in_its_account_gets_the_account(bake_copy, node_modules):
    # "full" as the whole account where an environment has one to itself: a second project
    # deployed into that account is then within the Project Administrator's reach.
    result = bake_copy(account_strategy="full_isolation")
    personas_yaml = result.project / "infra" / "personas.yaml"

    def everything(statement):
        statement.clear()
        statement.update({"Sid": "Administer", "Effect": "Allow", "Action": "*", "Resource": "*"})

    assert edit_statements(personas_yaml, sid("AdministerTheEnvironmentsNames", everything)) == 1
    run = check_access(result.project, "project-admin")
    assert run.returncode != 0, run.stdout
    generated = [line for line in failures(run) if line.startswith("FAIL generated")]
    assert any("project-admin of prd:" in line and line.endswith("(peer-project))") for line in generated), "\n".join(
        generated
    )


@pytest.mark.slow
def test_sabotage_every_bounded_role_passes_the_execution_role(bake_copy, node_modules):
    # The boundary lets only the Deployer Role pass the execution role; unconditioned, a role
    # the pipeline creates deploys any stack as the execution role.
    result = bake_copy()
    bootstrap = result.project / "infra" / "workload-bootstrap.yaml"
    assert edit_statements(bootstrap, boundary("PassExec", lambda statement: statement.pop("Condition"))) == 1
    run = check_access(result.project, "bounded-role")
    assert run.returncode != 0, run.stdout
    execution = multienv_plan.build_plan(dict(DEFAULT_ANSWERS)).naming.cfn_execution_role("sbx")
    generated = [line for line in failures(run) if line.startswith("FAIL generated")]
    assert any(
        "bounded-role of sbx: passrole-cloudformation" in line and execution in line and "(own-platform))" in line
        for line in generated
    ), "\n".join(generated)


@pytest.mark.slow
def test_sabotage_perimeter_lets_outsiders_and_other_tenants_in(bake_copy, node_modules):
    result = bake_copy()
    perimeter = result.project / "org" / "perimeter.yaml"
    # The tenant is pinned three ways (sub, repository_owner_id, repository): the simulator decides the last two.
    tenant = drop("EnforceOrgIdentities", "EnforceTrustedOidcTenantRepository", "EnforceTrustedOidcTenantId")
    assert edit_statements(perimeter, tenant) == 3
    run = check_access(result.project, "org-perimeter")
    assert run.returncode != 0, run.stdout
    lines = [line for line in failures(run) if line.startswith("FAIL org perimeter")]
    assert any("trusting an account outside the organization" in line for line in lines), run.stdout
    assert any("a job of another GitHub tenant, on any role" in line for line in lines), run.stdout
    assert all("with the perimeter: expected deny, got Allowed" in line for line in lines), "\n".join(lines)


@pytest.mark.slow
def test_a_closed_known_open_entry_must_be_removed(bake_copy, node_modules):
    # An entry that matches no allowed case is itself a failure, so the list cannot go stale.
    result = bake_copy(account_strategy="single_account")
    catalog = platform_copy(result.project) / "multienv_tools" / "attack_catalog.py"
    text = catalog.read_text()
    marker = "KNOWN_OPEN: tuple[KnownOpen, ...] = ("
    assert marker in text
    stale = '\n    KnownOpen("ci of *: * on * qa-engineer role (other-environment)", "never allowed"),'
    catalog.write_text(text.replace(marker, marker + stale, 1))
    run = check_access(result.project)
    assert run.returncode != 0, run.stdout
    needle = "'ci of *: * on * qa-engineer role (other-environment)' matches no allowed case"
    assert any(needle in line for line in failures(run)), run.stdout


def _perimeter_failures(project, edit, count: int = 1) -> list[str]:
    """The org-perimeter FAIL lines of ``make check-access ONLY=org-perimeter`` after ``edit``."""
    perimeter = project / "org" / "perimeter.yaml"
    assert edit_statements(perimeter, edit) == count
    run = check_access(project, "org-perimeter")
    assert run.returncode != 0, run.stdout
    lines = [line for line in failures(run) if line.startswith("FAIL org perimeter")]
    assert all("with the perimeter: expected " in line for line in lines), "\n".join(lines)
    return lines


@pytest.mark.slow
def test_sabotage_perimeter_leaves_its_exempt_roles_unprotected(bake_copy, node_modules):
    # Exempt names: with the platform roles alone protected, an administrator creates (or retrusts)
    # a role with an exempt name and steps outside every statement.
    result = bake_copy()

    def platform_only(statement):
        statement["Resource"] = {"Ref": "PlatformArns"}

    lines = _perimeter_failures(result.project, sid("ProtectPlatformAndExemptRoles", platform_only))
    org_perimeter = multienv_vocabulary.generated_module("multienv_tools.org_perimeter")
    writes = org_perimeter.role_writes(org_perimeter.iam_actions(node_modules))
    for pattern in org_perimeter.ADMINISTRATOR_ROLES:
        if pattern.startswith(org_perimeter.AWS_RESERVED_PATH):
            continue  # AWS itself refuses writes there: denied without the perimeter too
        for action in writes:
            needle = f"may not {action} the exempt role {pattern})"
            assert any(needle in line for line in lines), needle


@pytest.mark.slow
def test_sabotage_perimeter_lets_permission_sets_be_shaped(bake_copy, node_modules):
    result = bake_copy()

    def providers_only(statement):
        statement["Action"] = [a for a in statement["Action"] if not a.startswith("sso:")]

    lines = _perimeter_failures(result.project, sid("ProtectIdentityProviders", providers_only))
    for action in ("sso:CreatePermissionSet", "sso:PutInlinePolicyToPermissionSet", "sso:CreateAccountAssignment"):
        assert any(f"may not {action} " in line for line in lines), action


@pytest.mark.slow
def test_sabotage_tag_rule_holds_only_for_tagged_principals(bake_copy, node_modules):
    # Untagged principals: the rule as it was, for principals that carry an env tag only.
    result = bake_copy()

    def tagged_only(statement):
        statement["Condition"]["StringNotEquals"]["aws:RequestTag/env"] = "${aws:PrincipalTag/env}"
        statement["Condition"]["Null"]["aws:PrincipalTag/env"] = "false"

    lines = _perimeter_failures(result.project, sid("NoTaggingAsAnotherEnvironment", tagged_only))
    assert lines and all("a principal without an env tag" in line for line in lines), "\n".join(lines)
    for why in ("labels sbx's function", "labels itself", "creates a role labelled", "opens a session labelled"):
        assert any(why in line for line in lines), why


@pytest.mark.slow
def test_sabotage_audit_rule_back_to_ten_actions(bake_copy, node_modules):
    # Audit services: the ten actions the perimeter protected before.
    result = bake_copy()
    ten = [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
        "config:StopConfigurationRecorder",
        "config:DeleteConfigurationRecorder",
        "config:DeleteDeliveryChannel",
        "guardduty:DeleteDetector",
        "guardduty:UpdateDetector",
        "organizations:LeaveOrganization",
    ]
    lines = _perimeter_failures(
        result.project, sid("ProtectAuditAndMembership", lambda statement: statement.update(Action=ten))
    )
    for action in (
        "config:PutConfigurationRecorder",
        "guardduty:CreateFilter",
        "cloudtrail:DeleteEventDataStore",
        "cloudtrail:StopEventDataStoreIngestion",
        "access-analyzer:CreateArchiveRule",
        "securityhub:DisableSecurityHub",
        "detective:DeleteGraph",
        "inspector2:Disable",
    ):
        assert any(f"may not {action})" in line for line in lines), action
    assert not any(f"may not {action})" in line for action in ten for line in lines)


@pytest.mark.slow
def test_sabotage_function_grants_refuse_only_everyone(bake_copy, node_modules):
    # Function grants: only principal * refused; one outside account is granted.
    result = bake_copy()
    lines = _perimeter_failures(
        result.project, drop("FunctionGrantsStayInTheProject", "FunctionGrantsByAccountId"), count=2
    )
    for why in ("an account outside the project", "an outside account by ARN", "a role named like a service"):
        assert any(f"function granted to {why})" in line for line in lines), why


# The fence's delimiter as the generated naming.py and the prefix parameters write it.
DOUBLE_HYPHEN = ('SEPARATOR = "--"', 'SEPARATOR = "-"')
PREFIX_PATTERN = ("^[a-z][a-z0-9]*(-[a-z0-9]+)*--[a-z][a-z0-9]*-$", "^[a-z][a-z0-9-]*-$")


@pytest.mark.slow
def test_sabotage_single_hyphen_fences_take_in_a_colliding_project(bake_copy, node_modules):
    # <slug>-<env>- as the fence: a project slugged <slug>-<env>-x has every name inside it, so
    # the environment's roles reach its roles, functions, data and stacks.
    result = bake_copy()
    naming_py = platform_copy(result.project) / "multienv" / "naming.py"
    text = naming_py.read_text()
    assert DOUBLE_HYPHEN[0] in text
    naming_py.write_text(text.replace(*DOUBLE_HYPHEN))
    infra = result.project / "infra"
    # The data stack's parameters are checked by the same pattern.
    for template in (infra / "workload-bootstrap.yaml", infra / "personas.yaml", infra / "data.yaml"):
        body = template.read_text()
        assert PREFIX_PATTERN[0] in body, template
        template.write_text(body.replace(*PREFIX_PATTERN))
    run = check_access(result.project, "project-admin,bounded-role")
    assert run.returncode != 0, run.stdout
    slug = multienv_plan.build_plan(dict(DEFAULT_ANSWERS)).naming.slug
    generated = [line for line in failures(run) if line.startswith("FAIL generated") and "(peer-project))" in line]
    for who in ("project-admin of sbx:", "bounded-role of sbx:"):
        assert any(who in line and f" {slug}-sbx-x sbx " in line for line in generated), "\n".join(generated)


@pytest.mark.slow
def test_sabotage_paths_let_an_environment_take_another_roles_name(bake_copy, node_modules):
    # role/<prefix>* spans "/": without the path Denies, sbx creates role/<sbx prefix>x/<prd's
    # role name> first, and production's stack can no longer create its role.
    result = bake_copy()
    infra = result.project / "infra"
    assert edit_statements(infra / "workload-bootstrap.yaml", boundary("NoPaths")) == 1
    assert edit_statements(infra / "personas.yaml", drop("DenyIamPaths")) == 2
    run = check_access(result.project, "project-admin,cfn-exec,bounded-role")
    assert run.returncode != 0, run.stdout
    generated = [line for line in failures(run) if line.startswith("FAIL generated") and "squat-role-name" in line]
    for scope in ("(other-environment))", "(devops-platform))"):
        assert any(line.endswith(scope) and "project-admin of" in line for line in generated), "\n".join(generated)
    assert any("cfn-exec of" in line or "bounded-role of" in line for line in generated), "\n".join(generated)


@pytest.mark.slow
def test_sabotage_rules_on_the_default_bus_copy_every_environments_events(bake_copy, node_modules):
    result = bake_copy(account_strategy="consolidated_nonprod")
    infra = result.project / "infra"
    for template in (infra / "workload-bootstrap.yaml", infra / "personas.yaml"):
        body = template.read_text()
        assert "rule/${EventBusName}/*" in body, template
        template.write_text(body.replace("rule/${EventBusName}/*", "rule/${ResourcePrefix}*"))
    run = check_access(result.project, "project-admin,bounded-role")
    assert run.returncode != 0, run.stdout
    generated = [line for line in failures(run) if line.startswith("FAIL generated") and "default event bus" in line]
    for who in ("project-admin of", "bounded-role of"):
        assert any(who in line and "events:PutRule" in line for line in generated), "\n".join(generated)
