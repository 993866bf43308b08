"""Each environment's own data, its rules undone on purpose: a persona, the function or the transfer pair
given one reach more, and the project's own ``make check-access`` must fail on the cases that guard it,
by name (``persona_cases.data_cases``, ``function_data_cases``, ``transfer_cases``)."""

from __future__ import annotations

import pytest
import yaml
from test_access import assert_caught, boundary, drop, edit_statements, sid

from multienv_template import vocabulary as multienv_vocabulary

ANY_TABLE = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"}


def any_table(statement):
    """A statement's resource widened to every table of the account."""
    statement["Resource"] = ANY_TABLE


@pytest.mark.slow
def test_sabotage_developer_reads_production_data(bake_copy, node_modules):
    # The explicit Denies gone and a careless later Allow on the view block: production's developer reads items.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"

    def reads_items(statement):
        statement["Action"] = [*statement["Action"], "dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem"]

    assert edit_statements(personas_yaml, drop("DenyStoreData", "DenyDataReads")) == 2
    assert edit_statements(personas_yaml, sid("DescribeTables", reads_items)) == 1
    assert_caught(
        result.project,
        "prd-software-developer dynamodb:Scan",
        "prd-software-developer dynamodb:Query",
        "(scan the table (inspect data))",
        only="software-developer",
    )


@pytest.mark.slow
def test_sabotage_testing_developer_keeps_reading_data(bake_copy, node_modules):
    # Without the no-store-data block, testing's developers read testing's items through read-data:
    # "no data above development".
    result = bake_copy()
    assert edit_statements(result.project / "infra" / "personas.yaml", drop("DenyStoreData")) == 1
    assert_caught(result.project, "tst-software-developer dynamodb:Scan", only="software-developer")


def every_table(statement):
    """The boundary's own-names statement, its table pattern widened to every table of the account."""
    statement["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:*:*:table/*"} if "table/${ResourcePrefix}" in str(r) else r
        for r in statement["Resource"]
    ]


@pytest.mark.slow
def test_sabotage_function_reads_another_environments_table(bake_copy, node_modules):
    # Where environments share an account two layers name the function's own table: its policy and
    # the environment's boundary (each alone holds: widening one is not enough). Both widened, it
    # reads another environment's items.
    result = bake_copy(account_strategy="single_account")

    assert edit_statements(result.project / "infra" / "app.yaml", sid("ReadWriteOwnTable", any_table)) == 1
    bootstrap = result.project / "infra" / "workload-bootstrap.yaml"
    assert edit_statements(bootstrap, boundary("Own", every_table)) == 1
    assert_caught(result.project, "(GetItem on another environment's store)", only="app-role")


@pytest.mark.slow
def test_sabotage_data_key_admits_every_role_of_the_account(bake_copy, node_modules):
    # The key policy's condition is the fence between environments sharing an account: without it the
    # account's IAM alone decides, and another environment's function and personas use the key.
    result = bake_copy(account_strategy="single_account")

    def any_role(statement):
        del statement["Condition"]

    assert edit_statements(result.project / "infra" / "data.yaml", sid("TheEnvironmentsOwnRolesOnly", any_role)) == 1
    assert_caught(result.project, "(Decrypt on another environment's store)", only="app-role")


@pytest.mark.slow
def test_sabotage_import_role_writes_production(bake_copy, node_modules):
    # Its policy widened to every table and its boundary (the target environment's, which alone holds
    # it to its own names) left off: in a shared account it writes production.
    result = bake_copy(account_strategy="single_account")
    data_yaml = result.project / "infra" / "data.yaml"

    assert edit_statements(data_yaml, sid("WriteOwnTable", any_table)) == 1
    template = multienv_vocabulary.generated_module("multienv_tools.cfn").load_template(data_yaml)
    del template["Resources"]["ImportRole"]["Properties"]["PermissionsBoundary"]
    data_yaml.write_text(yaml.safe_dump(template, sort_keys=False))
    assert_caught(result.project, "dynamodb:PutItem", "(write production)", only="data-import")


@pytest.mark.slow
def test_sabotage_export_role_reads_a_non_production_store(bake_copy, node_modules):
    # Its policy and its own boundary both widened (the same statement in each).
    result = bake_copy(account_strategy="single_account")

    assert edit_statements(result.project / "infra" / "data.yaml", sid("ReadOwnTable", any_table)) == 2
    assert_caught(result.project, "(read a non-production store)", only="data-export")


@pytest.mark.slow
def test_sabotage_administrator_rewrites_the_copys_roles(bake_copy, node_modules):
    # Without the guard's statement on the data roles, a Project Administrator (who may assume the
    # export or import role, as the persona table says) rewrites them: a policy put on either, a trust
    # widened, each handing production's items further.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"
    assert edit_statements(personas_yaml, drop("DenyIdentityProviderAndDataRoleChanges")) == 1
    assert_caught(result.project, "project-admin iam:PutRolePolicy", "-data-export:", only="project-admin")
