"""Each environment's own data store (``infra/data.yaml``, ``[data] stores``): the function's rights on
its own store and key and nothing more, the key's policy as the fence between environments, and the
persona roles within IAM's quota of managed policies. The access matrix (``make check-access``)
proves each by simulation; these read the rendered policies as data.
"""

import fnmatch

import pytest

from multienv.settings import load_settings
from multienv_tools.cfn import as_list, render, statements
from multienv_tools.stacks import APP, DATA, stack_specs

# A role takes ten managed policies unless the account's quota is raised (IAM and STS quotas).
MANAGED_POLICIES_PER_ROLE = 10


@pytest.fixture(scope="module")
def rendered():
    settings = load_settings()
    return settings, [(spec, render(spec)) for spec in stack_specs(settings, "0" * 64)]


def test_the_function_uses_its_own_store_and_key_only(rendered):
    settings, docs = rendered
    naming, p = settings.naming, settings.naming.partition
    for spec, doc in docs:
        if spec.kind != APP:
            continue
        policies = {
            x["PolicyName"]: x["PolicyDocument"] for x in doc["Resources"]["FunctionRole"]["Properties"]["Policies"]
        }
        if not settings.has_data:
            assert "use-own-data" not in policies, spec.name
            continue
        grants = {}
        for statement in statements(policies["use-own-data"]):
            assert statement["Effect"] == "Allow"
            for resource in as_list(statement["Resource"]):
                grants.setdefault(resource, set()).update(as_list(statement["Action"]))
                if resource.startswith(f"arn:{p}:kms:"):
                    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert set(via) == {
                        f"dynamodb.{settings.region}.amazonaws.com",
                        f"s3.{settings.region}.amazonaws.com",
                    }
        table = f"arn:{p}:dynamodb:{settings.region}:{spec.account_id}:table/{naming.data_table(spec.env)}"
        objects = f"arn:{p}:s3:::{naming.data_bucket(spec.env, spec.account_id)}/*"
        key = f"arn:{p}:kms:{settings.region}:{spec.account_id}:key/*"
        expected = {key} | ({table} if settings.has_table else set()) | ({objects} if settings.has_bucket else set())
        assert set(grants) == expected, spec.name
        assert not {
            a for a in grants.get(table, ()) if a.endswith(("Scan", "Backup", "PointInTime", "TableFromBackup"))
        }


def test_each_data_key_admits_its_own_environments_roles_only(rendered):
    settings, docs = rendered
    naming = settings.naming
    data = [(spec, doc) for spec, doc in docs if spec.kind == DATA]
    assert bool(data) == settings.has_data
    for spec, doc in data:
        policy = doc["Resources"]["DataKey"]["Properties"]["KeyPolicy"]
        (own,) = [s for s in statements(policy) if s.get("Sid") == "TheEnvironmentsOwnRolesOnly"]
        pattern = own["Condition"]["ArnLike"]["aws:PrincipalArn"]
        for other in settings.environments:
            roles = [
                naming.function_role(other.name),
                naming.deployer_role(other.name),
                naming.data_import_role(other.name),
            ]
            for role in roles:
                matches = fnmatch.fnmatchcase(naming.role_arn(spec.account_id, role), pattern)
                assert matches == (other.name == spec.env), (spec.name, role)
        # Nothing else in the account: the DevOps side's roles, in a shared account, are not the environment's.
        for role in (naming.ci_role(spec.env), naming.drift_role()):
            assert not fnmatch.fnmatchcase(naming.role_arn(spec.account_id, role), pattern), role


def test_every_persona_role_fits_the_managed_policy_quota(rendered):
    _, docs = rendered
    for spec, doc in docs:
        for logical_id, resource in doc["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role" and "ManagedPolicyArns" in resource["Properties"]:
                arns = as_list(resource["Properties"]["ManagedPolicyArns"])
                assert len(arns) <= MANAGED_POLICIES_PER_ROLE, (spec.name, logical_id, arns)
