"""The scale path: a SERVICE_MANAGED StackSet bootstraps every account of an organizational unit.

Runs in an emulated AWS (moto, in this process): an organization with one unit holding two
accounts, then the StackSets API with the bootstrap template and the parameters that
``infra/stacksets/workload-bootstrap-stackset.yaml`` passes on (a contract test keeps those two
in step). moto has no CloudFormation support for the StackSet resource itself, so the API is
called directly.
"""

import pytest

from multienv.settings import load_settings
from multienv_tools.stacks import bootstrap_spec

ACCOUNTS_IN_UNIT = 2


@pytest.fixture
def emulated_aws(monkeypatch):
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", load_settings().region)
    with mock_aws():
        yield


def client_in(account_id, service):
    import boto3

    sts = boto3.client("sts")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/inspector", RoleSessionName="inspect")["Credentials"]
    return boto3.client(
        service,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def test_a_stackset_bootstraps_every_account_of_the_unit(emulated_aws):
    import boto3

    settings = load_settings()
    env = settings.default_environment
    spec = bootstrap_spec(settings, env.name)
    naming = settings.naming

    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name=env.name)["OrganizationalUnit"]["Id"]
    accounts = []
    for index in range(ACCOUNTS_IN_UNIT):
        status = organizations.create_account(Email=f"{env.name}{index}@example.com", AccountName=f"{env.name}{index}")
        account_id = status["CreateAccountStatus"]["AccountId"]
        organizations.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=unit)
        accounts.append(account_id)

    cloudformation = boto3.client("cloudformation")
    name = naming.stack(env.name, "bootstrap")
    cloudformation.create_stack_set(
        StackSetName=name,
        TemplateBody=spec.template_path.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()],
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cloudformation.create_stack_instances(
        StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [unit]}, Regions=[settings.region]
    )

    instances = cloudformation.list_stack_instances(StackSetName=name)["Summaries"]
    assert sorted(i["Account"] for i in instances) == sorted(accounts)
    assert {i["StackInstanceStatus"]["DetailedStatus"] for i in instances} == {"SUCCEEDED"}
    ci_role = naming.role_arn(settings.devops.id, naming.ci_role(env.name))
    for account_id in accounts:
        role = client_in(account_id, "iam").get_role(RoleName=naming.deployer_role(env.name))["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == naming.policy_arn(
            account_id, naming.boundary_policy(env.name)
        )
        trusted = {statement["Principal"]["AWS"] for statement in role["AssumeRolePolicyDocument"]["Statement"]}
        assert trusted == {ci_role}
