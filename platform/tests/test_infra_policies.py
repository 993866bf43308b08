"""Policy contract: the rendered templates grant exactly what multienv.toml and naming.py say.

Every template is rendered for every stack of ``stacks.stack_specs`` (parameters, account
IDs and conditions filled in, as CloudFormation would), and the policies are read as data.
"""

import pytest

from multienv.naming import LIMITS
from multienv.settings import GITHUB_ID_PLACEHOLDER, load_settings
from multienv_tools import persona_stacks, persona_trust, pipeline, policy_sizes
from multienv_tools.cfn import as_list, policies, principals, render, statements
from multienv_tools.persona_stacks import PERSONAS
from multienv_tools.stacks import APP, BOOTSTRAP, DATA, DEVOPS, stack_specs

SHA = "0" * 64
GITHUB_OIDC = "token.actions.githubusercontent.com"
# Actions AWS cannot scope to a resource: the only ones allowed on "*".
UNSCOPED_ACTIONS = {
    "cloudformation:ValidateTemplate",
    "cloudformation:GetTemplateSummary",
    "ecr:GetAuthorizationToken",
    "lambda:GetAccountSettings",
    "logs:DescribeLogGroups",
    # A drift detection's status is named by its detection ID, not by a stack.
    "cloudformation:DescribeStackDriftDetectionStatus",
    "logs:DescribeResourcePolicies",  # the account's log resource policies (drift of a log group)
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def rendered(settings):
    return {spec.name: (spec, render(spec)) for spec in stack_specs(settings, SHA)}


def of_kind(rendered, kind):
    return [(spec, doc) for spec, doc in rendered.values() if spec.kind == kind]


def devops(rendered):
    (_, doc), *_ = of_kind(rendered, DEVOPS)
    return doc


def props(doc, logical_id):
    return doc["Resources"][logical_id]["Properties"]


def roles_of(settings, env_name):
    naming, env = settings.naming, settings.environment(env_name)
    return {
        naming.role_arn(env.account.id, naming.deployer_role(env_name)),
        naming.role_arn(env.account.id, naming.cfn_execution_role(env_name)),
    }


def deployer(settings, env_name):
    naming, env = settings.naming, settings.environment(env_name)
    return naming.role_arn(env.account.id, naming.deployer_role(env_name))


def every_policy(rendered):
    for spec, doc in rendered.values():
        for policy in policies(doc):
            yield spec, policy


def arns_in(value):
    """Every ARN (pattern) a policy element holds, in resources and conditions alike."""
    if isinstance(value, str):
        return [value] if value.startswith("arn:") else []
    if isinstance(value, list):
        return [arn for item in value for arn in arns_in(item)]
    if isinstance(value, dict):
        return [arn for item in value.values() for arn in arns_in(item)]
    return []


def test_no_arn_pattern_has_a_wildcard_in_its_service_segment(rendered):
    """AWS matches no wildcard in an ARN's service segment (arn:aws:*:...): every pattern names its service."""
    for spec, policy in every_policy(rendered):
        for statement in statements(policy.document):
            for key in ("Resource", "NotResource", "Condition"):
                for arn in arns_in(statement.get(key)):
                    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
                    assert service and "*" not in service and "?" not in service, (
                        f"{spec.name} {policy.name} {statement.get('Sid')}: {arn}"
                    )


def test_every_policy_keeps_its_headroom(settings):
    """Measured on the rendered policies (policy_sizes.py), for every kind AWS limits: each stays
    under HEADROOM of its limit, the bar the bake refuses answers by, leaving room for the team's own."""
    for measure in policy_sizes.measure_settings(settings):
        assert measure.share <= policy_sizes.HEADROOM, (
            f"{measure.where} {measure.name}: {measure.size} of {measure.limit} ({measure.share:.1%})"
        )


# --------------------------------------------------------------------------- DevOps resource policies


def test_bucket_policy_grants_each_environment_its_own_prefix_only(settings, rendered):
    naming = settings.naming
    bucket = naming.artifact_bucket(settings.devops.id)
    document = props(devops(rendered), "ArtifactBucketPolicy")["PolicyDocument"]
    granted = {}
    for statement in statements(document):
        if statement["Effect"] != "Allow":
            continue
        for resource in as_list(statement["Resource"]):
            granted.setdefault(resource, set()).update(principals(statement))
    expected = {
        f"arn:{naming.partition}:s3:::{bucket}/{naming.artifact_prefix(env.name)}*": roles_of(settings, env.name)
        for env in settings.environments
    }
    assert granted == expected


def test_key_policy_lets_each_environment_decrypt_its_own_artifacts_and_secrets_only(settings, rendered):
    naming = settings.naming
    bucket = naming.artifact_bucket(settings.devops.id)
    document = props(devops(rendered), "ArtifactKey")["KeyPolicy"]
    for env in settings.environments:
        mine = [s for s in statements(document) if set(principals(s)) & roles_of(settings, env.name)]
        assert mine, f"no key statement for {env.name}"
        for statement in mine:
            assert set(principals(statement)) <= roles_of(settings, env.name)
            assert as_list(statement["Action"]) == ["kms:Decrypt"]
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via in (f"s3.{settings.region}.amazonaws.com", f"secretsmanager.{settings.region}.amazonaws.com")
            context = statement["Condition"]["StringLike"]
            scope = next(iter(context.values()))
            assert scope.endswith(
                (f"{bucket}/{naming.artifact_prefix(env.name)}*", f"secret:{naming.secret_name(env.name, '')}*")
            )


def test_each_deploy_secret_is_readable_by_its_own_deployer_only(settings, rendered):
    naming = settings.naming
    doc = devops(rendered)
    for env in settings.environments:
        secret_id = f"{env.name.capitalize()}DeploySecret"
        assert props(doc, secret_id)["Name"] == naming.deploy_secret(env.name)
        policy = props(doc, f"{secret_id}Policy")
        allows = [s for s in statements(policy["ResourcePolicy"]) if s["Effect"] == "Allow"]
        assert [principals(s) for s in allows] == [[deployer(settings, env.name)]]
        assert policy["BlockPublicPolicy"] is True


def test_images_are_pulled_by_exactly_the_deployers(settings, rendered):
    document = props(devops(rendered), "ImageRepository")["RepositoryPolicyText"]
    (statement,) = statements(document)
    assert set(principals(statement)) == {deployer(settings, env.name) for env in settings.environments}
    assert not any("Put" in a or "Upload" in a for a in as_list(statement["Action"]))


def test_artifact_storage_is_private_encrypted_and_versioned(rendered):
    bucket = props(devops(rendered), "ArtifactBucket")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert props(devops(rendered), "ArtifactKey")["EnableKeyRotation"] is True
    insecure = [
        s
        for s in statements(props(devops(rendered), "ArtifactBucketPolicy")["PolicyDocument"])
        if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert insecure, "the bucket policy must deny requests without TLS"


# --------------------------------------------------------------------------- isolation between environments


def test_explicit_denies_keep_every_environment_to_itself(settings, rendered):
    """Inside one account an Allow anywhere suffices, so each environment's artifacts and secrets need a Deny."""
    naming = settings.naming
    bucket_policy = props(devops(rendered), "ArtifactBucketPolicy")["PolicyDocument"]
    for env in settings.environments:
        own_roles = f"arn:{naming.partition}:iam::*:role/{naming.prefix(env.name)}*"
        keyed = [
            s
            for s in statements(bucket_policy)
            if s["Effect"] == "Deny"
            and own_roles in as_list(s.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn"))
        ]
        assert keyed, f"no Deny keyed on aws:PrincipalArn guards {env.name}'s artifacts"
        secret_policy = props(devops(rendered), f"{env.name.capitalize()}DeploySecretPolicy")["ResourcePolicy"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == own_roles
            for s in statements(secret_policy)
        )


def test_the_boundary_allows_only_the_environments_own_names_in_its_own_account(settings, rendered):
    """The boundary is the ceiling of every pipeline role: each Allow names the environment's prefix or its
    own artifacts, secrets and images, so no other environment sharing the account is in reach."""
    naming = settings.naming
    for spec, doc in of_kind(rendered, BOOTSTRAP):
        boundary = props(doc, "PermissionsBoundary")["PolicyDocument"]
        own = (naming.prefix(spec.env), naming.secret_prefix(spec.env), naming.artifact_prefix(spec.env))
        for statement in statements(boundary):
            if statement["Effect"] != "Allow" or statement["Resource"] == "*":
                continue
            for resource in as_list(statement["Resource"]):
                assert (
                    any(part in resource for part in own)
                    or resource.endswith(naming.ecr_repository())
                    or (
                        ":kms:" in resource
                        and statement.get("Condition", {}).get("StringLike", {}).get("kms:ViaService")
                    )
                ), f"{spec.name}: {statement.get('Sid', '(no Sid)')} allows {resource}"
            pinned = statement.get("Condition", {}).get("StringEquals", {}).get("aws:ResourceAccount")
            for resource in as_list(statement["Resource"]):
                # IAM acts in the caller's own account only: its ARNs need no account pin.
                if naming.prefix(spec.env) in resource and ":iam::" not in resource:
                    assert f":{spec.account_id}:" in resource or pinned == spec.account_id, (
                        f"{spec.name}: {statement.get('Sid', '(no Sid)')} reaches {resource} in other accounts"
                    )


def test_no_star_principal_without_a_condition(rendered):
    for spec, policy in every_policy(rendered):
        for statement in statements(policy.document):
            if "*" in principals(statement):
                assert statement.get("Condition"), f"{spec.name} {policy.name}: Principal * without Condition"
                assert statement["Effect"] == "Deny", f"{spec.name} {policy.name}: Allow to Principal *"


def test_no_account_root_is_trusted(settings, rendered):
    for spec, policy in every_policy(rendered):
        for statement in statements(policy.document):
            for principal in principals(statement):
                if not principal.endswith(":root"):
                    continue
                if spec.kind == PERSONAS:
                    # A persona role names the identity account (or, with Identity Center, its own
                    # account, whose permission-set roles carry a random suffix) and narrows it to
                    # exactly the identity role or permission set by aws:PrincipalArn.
                    trust = persona_stacks.load_trust(settings)
                    accounts = {a.key: a.id for a in settings.accounts}
                    assert principal == persona_trust.trusted_account_root(
                        trust, settings.naming, accounts, spec.account_id
                    ), f"{spec.name}: trusts {principal}"
                    narrowed = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]
                    assert narrowed in persona_stacks.trusted_principals(spec).values(), narrowed
                    assert "*" not in narrowed or trust.source == "identity-center", narrowed
                    continue
                assert policy.kind == "key", f"{spec.name} {policy.name}: trusts {principal}"
                if spec.kind == DATA:
                    # An environment's data key names its own account, so that IAM decides too, and only
                    # for its own roles (``<slug>--<env>-*``, the trailing hyphen included): in a shared
                    # account no other environment's or project's role meets the condition.
                    own = settings.naming.role_arn(spec.account_id, f"{settings.naming.prefix(spec.env)}*")
                    assert principal == f"arn:{settings.naming.partition}:iam::{spec.account_id}:root"
                    assert statement["Condition"] == {"ArnLike": {"aws:PrincipalArn": own}}, spec.name
                    assert statement["Sid"] == "TheEnvironmentsOwnRolesOnly"
                    continue
                # The key policy's administration statement is AWS's default, for the key's own account.
                assert principal == f"arn:{settings.naming.partition}:iam::{settings.devops.id}:root"
                assert statement["Sid"] == "KeyAdministrationByThisAccount"


# --------------------------------------------------------------------------- roles and trust


def test_each_ci_role_is_assumable_from_its_own_github_environment_only(settings, rendered):
    naming, doc = settings.naming, devops(rendered)
    for env in settings.environments:
        role = props(doc, f"{env.name.capitalize()}CiRole")
        assert role["RoleName"] == naming.ci_role(env.name)
        (statement,) = statements(role["AssumeRolePolicyDocument"])
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        provider = f"arn:{naming.partition}:iam::{settings.devops.id}:oidc-provider/{GITHUB_OIDC}"
        assert statement["Principal"] == {"Federated": provider}
        repository, with_ids = settings.github_repository, settings.github_repository_with_ids
        stage = next(
            s for s in pipeline.stages((e.name, e.tier) for e in settings.environments) if s.environment == env.name
        )
        workflow = f"{repository}/{pipeline.DEPLOY_ENVIRONMENT_WORKFLOW}"
        pinned = {
            f"{GITHUB_OIDC}:job_workflow_ref": f"{workflow}@{stage.trusted_ref}",
            f"{GITHUB_OIDC}:ref": stage.trusted_ref,
        }
        exact = {
            f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
            f"{GITHUB_OIDC}:sub": [
                f"repo:{repository}:environment:{env.name}",
                f"repo:{with_ids}:environment:{env.name}",
            ],
            f"{GITHUB_OIDC}:repository_id": settings.github_repository_id or GITHUB_ID_PLACEHOLDER,
            f"{GITHUB_OIDC}:repository_owner_id": settings.github_owner_id or GITHUB_ID_PLACEHOLDER,
            f"{GITHUB_OIDC}:environment": env.name,
        }
        # Production from the default branch only, exactly; the others from any branch (never a tag or a PR).
        if env.tier.is_production:
            assert stage.trusted_ref == f"refs/heads/{pipeline.DEFAULT_BRANCH}"
            assert statement["Condition"] == {"StringEquals": {**exact, **pinned}}
        else:
            assert stage.trusted_ref == "refs/heads/*"
            assert statement["Condition"] == {"StringEquals": exact, "StringLike": pinned}
        assumable = [
            r
            for p in role["Policies"]
            for s in statements(p["PolicyDocument"])
            if "sts:AssumeRole" in as_list(s["Action"])
            for r in as_list(s["Resource"])
        ]
        assert assumable == [deployer(settings, env.name)]


def test_the_drift_role_trusts_drift_yml_on_the_default_branch_only_and_reaches_only_the_drift_readers(
    settings, rendered
):
    naming, doc = settings.naming, devops(rendered)
    role = props(doc, "DriftRole")
    assert role["RoleName"] == naming.drift_role()
    (statement,) = statements(role["AssumeRolePolicyDocument"])
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    repository, ref = settings.github_repository, f"refs/heads/{pipeline.DEFAULT_BRANCH}"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
            f"{GITHUB_OIDC}:sub": [
                f"repo:{repository}:ref:{ref}",
                f"repo:{settings.github_repository_with_ids}:ref:{ref}",
            ],
            f"{GITHUB_OIDC}:repository_id": settings.github_repository_id or GITHUB_ID_PLACEHOLDER,
            f"{GITHUB_OIDC}:repository_owner_id": settings.github_owner_id or GITHUB_ID_PLACEHOLDER,
            f"{GITHUB_OIDC}:job_workflow_ref": f"{repository}/.github/workflows/drift.yml@{ref}",
            f"{GITHUB_OIDC}:ref": ref,
        }
    }
    (policy,) = role["Policies"]
    (chain,) = statements(policy["PolicyDocument"])
    assert as_list(chain["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert as_list(chain["Resource"]) == [
        naming.role_arn(e.account.id, naming.drift_reader_role(e.name)) for e in settings.environments
    ]


def test_each_drift_reader_trusts_exactly_the_drift_role(settings, rendered):
    naming = settings.naming
    drift_role = naming.role_arn(settings.devops.id, naming.drift_role())
    for spec, doc in of_kind(rendered, BOOTSTRAP):
        role = props(doc, "DriftReaderRole")
        assert role["RoleName"] == naming.drift_reader_role(spec.env)
        trust = statements(role["AssumeRolePolicyDocument"])
        assert {p for s in trust for p in principals(s)} == {drift_role}
        assume = next(s for s in trust if s["Action"] == "sts:AssumeRole")
        assert assume["Condition"] == {"Null": {"sts:ExternalId": "true"}}


def test_no_trust_allows_with_for_all_values(rendered):
    """``ForAllValues:`` is true when the claim is absent: in an Allow it lets a token without the claim in."""
    for spec, doc in rendered.values():
        for name, body in doc["Resources"].items():
            if body["Type"] != "AWS::IAM::Role":
                continue
            for statement in statements(body["Properties"]["AssumeRolePolicyDocument"]):
                operators = statement.get("Condition", {})
                assert not any(op.startswith("ForAllValues:") for op in operators), (spec.name, name)


def test_each_deployer_trusts_exactly_its_ci_role(settings, rendered):
    naming = settings.naming
    for spec, doc in of_kind(rendered, BOOTSTRAP):
        role = props(doc, "DeployerRole")
        ci = naming.role_arn(settings.devops.id, naming.ci_role(spec.env))
        trust = statements(role["AssumeRolePolicyDocument"])
        assert {p for s in trust for p in principals(s)} == {ci}
        assume = next(s for s in trust if s["Action"] == "sts:AssumeRole")
        assert assume["Condition"] == {"Null": {"sts:ExternalId": "true"}}
        assert any(s["Action"] == "sts:TagSession" for s in trust)
        assert role["MaxSessionDuration"] == 3600
        assert role["RoleName"] == naming.deployer_role(spec.env)


def test_every_role_of_an_environment_carries_its_boundary(settings, rendered):
    naming = settings.naming
    for spec, doc in rendered.values():
        # The persona roles are people's: the guard and fence policies bound them, and the
        # access matrix checks what they may do (tests/platform/test_personas.py, make check-access).
        if spec.kind in (DEVOPS, PERSONAS):
            continue
        boundary = naming.policy_arn(spec.account_id, naming.boundary_policy(spec.env))
        for logical_id, resource in doc["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            if spec.kind == DATA and logical_id == "ExportRole":
                # Production's export role writes into the targets' transfer buckets, which the
                # environment's boundary must never admit (it caps every role the pipeline creates):
                # its own boundary is exactly its own policy.
                own = naming.policy_arn(spec.account_id, naming.data_export_boundary(spec.env))
                assert resource["Properties"]["PermissionsBoundary"] == own, spec.name
                (policy,) = resource["Properties"]["Policies"]
                assert props(doc, "ExportBoundary")["PolicyDocument"] == policy["PolicyDocument"], spec.name
                continue
            assert resource["Properties"]["PermissionsBoundary"] == boundary, f"{spec.name} {logical_id}"
        if spec.kind == BOOTSTRAP:
            denies = statements(props(doc, "PermissionsBoundary")["PolicyDocument"])
            # The boundary's statements carry no Sid (its size): found by what they say.
            carry = next(s for s in denies if "StringNotLike" in s.get("Condition", {}))
            assert carry["Effect"] == "Deny"
            partition = boundary.split(":")[1]
            pattern = f"arn:{partition}:iam::*:policy/{naming.boundary_policy(spec.env)}"
            assert carry["Condition"] == {"StringNotLike": {"iam:PermissionsBoundary": pattern}}
            # Shedding it is denied with no condition: the Delete request names the boundary in place.
            stays = next(s for s in denies if s.get("Action") == "iam:Delete*Boundary")
            assert (stays["Effect"], stays["Action"], stays.get("Condition")) == (
                "Deny",
                "iam:Delete*Boundary",
                None,
            )


def test_workload_roles_touch_only_their_own_environment(settings, rendered):
    naming = settings.naming
    bucket = naming.artifact_bucket(settings.devops.id)
    for spec, doc in of_kind(rendered, BOOTSTRAP):
        own = (
            naming.prefix(spec.env),
            f"{bucket}/{naming.artifact_prefix(spec.env)}",
            naming.secret_name(spec.env, ""),
            f"repository/{naming.ecr_repository()}",
            f":kms:{settings.region}:{settings.devops.id}:key/",
        )
        # The environment's data key (this account) and, for production's export role, the targets' data
        # keys (their accounts): any account's key, but only to decrypt or make a data key through the
        # services that hold the data (each key's own policy admits its environment's roles and no other).
        through_services = {"StringLike": {"kms:ViaService": ["s3.*", "secretsmanager.*", "dynamodb.*"]}}
        any_key = f"arn:{naming.partition}:kms:{settings.region}:*:key/*"
        for policy in policies(doc):
            if policy.kind not in ("identity", "managed"):
                continue
            for statement in statements(policy.document):
                if statement["Effect"] != "Allow":
                    continue
                for resource in as_list(statement["Resource"]):
                    if resource == "*":
                        assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS, f"{policy.name}: {statement}"
                    elif resource == any_key:
                        assert set(as_list(statement["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
                        assert statement.get("Condition") == through_services, f"{policy.name}: {statement}"
                    else:
                        assert any(part in resource for part in own), f"{policy.name}: {resource}"


# --------------------------------------------------------------------------- limits


def test_names_and_policies_fit_aws_limits(rendered):
    limits = {
        "AWS::IAM::Role": ("RoleName", "iam_role"),
        "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "iam_policy"),
    }
    limits |= {
        "AWS::S3::Bucket": ("BucketName", "s3_bucket"),
        "AWS::Lambda::Function": ("FunctionName", "lambda_function"),
    }
    for spec, doc in rendered.values():
        assert len(spec.name) <= LIMITS["cloudformation_stack"]
        for logical_id, resource in doc["Resources"].items():
            if resource["Type"] in limits:
                key, kind = limits[resource["Type"]]
                assert len(resource["Properties"][key]) <= LIMITS[kind], f"{spec.name} {logical_id}"


def test_the_app_runs_its_own_environment_from_its_own_artifact(settings, rendered):
    naming = settings.naming
    for spec, doc in of_kind(rendered, APP):
        function = props(doc, "Function")
        assert function["FunctionName"] == naming.function(spec.env)
        # Its own store's names, from naming ([data] stores; "" for a store the project does not have).
        table = naming.data_table(spec.env) if settings.has_table else ""
        bucket = naming.data_bucket(spec.env, spec.account_id) if settings.has_bucket else ""
        assert function["Environment"]["Variables"] == {
            "ENV_NAME": spec.env,
            "DATA_TABLE": table,
            "DATA_BUCKET": bucket,
        }
        assert function["Code"] == {
            "S3Bucket": naming.artifact_bucket(settings.devops.id),
            "S3Key": naming.artifact_key(spec.env, SHA),
        }
        assert props(doc, "LogGroup")["LogGroupName"] == naming.log_group(spec.env)


def test_the_stackset_passes_on_every_bootstrap_parameter(settings):
    """The scale path deploys the same bootstrap: its parameters must not drift from the template's."""
    from multienv_tools.cfn import load_template
    from multienv_tools.stacks import STACKSET_TEMPLATE, bootstrap_spec

    bootstrap = load_template(settings.root / "infra" / "workload-bootstrap.yaml")
    stackset = load_template(settings.root / STACKSET_TEMPLATE)
    passed = stackset["Resources"]["WorkloadBootstrap"]["Properties"]["Parameters"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in passed} == {
        name: {"Ref": name} for name in bootstrap["Parameters"]
    }
    assert set(bootstrap_spec(settings, settings.names[0]).parameters) == set(bootstrap["Parameters"])
    for name, declared in bootstrap["Parameters"].items():
        assert stackset["Parameters"][name]["Type"] == declared["Type"]
