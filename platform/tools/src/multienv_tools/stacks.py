"""Which CloudFormation stacks exist for these settings, where they go and with what parameters.

The single answer to "what do we deploy": the deploy tool, the policy contract tests and the
access matrix all read ``stack_specs``. Account IDs come from ``multienv.toml`` (through
``settings.py``) and every name from ``naming.py``; the templates under ``infra/`` receive
both as parameters and derive nothing themselves.

Standard library only.
"""

from __future__ import annotations

from multienv.model import Tier
from multienv.naming import APP_STACK, BOOTSTRAP_STACK, DATA_STACK, DEVOPS_STACK
from multienv.naming import DEVOPS as DEVOPS_ENV
from multienv.settings import GITHUB_ID_PLACEHOLDER, Settings

from .persona_parameters import protected_arns, stack_arns
from .persona_stacks import load_trust, persona_spec
from .personas import SUBSET_SOURCE_TIERS, SUBSET_TARGET_TIERS, subset_runners
from .stack_spec import INFRA, PLATFORM_STACKS, StackSpec, environment_stack

DEVOPS_TEMPLATE = f"{INFRA}/devops.yaml"
BOOTSTRAP_TEMPLATE = f"{INFRA}/workload-bootstrap.yaml"
APP_TEMPLATE = f"{INFRA}/app.yaml"
DATA_TEMPLATE = f"{INFRA}/data.yaml"
STACKSET_TEMPLATE = f"{INFRA}/stacksets/workload-bootstrap-stackset.yaml"

# Stack kinds, in the order a first deployment creates them.
DEVOPS = "devops"
BOOTSTRAP = "bootstrap"
DATA = "data"

# The environment's table's key (attribute, DynamoDB type, key type), partition key first: infra/data.yaml
# declares it from here, and the team's data/masking.toml must name the same attributes (``key = [...]``),
# which make data-seed and data-subset check against the deployed table before writing anything.
TABLE_KEY = (("pk", "S", "HASH"), ("sk", "S", "RANGE"))
APP = "app"


# The DevOps stack's resource policies name the Deployer Roles, which must exist first
# (AWS rejects a policy whose principal does not exist): the first DevOps deployment runs
# with this parameter "false", the environments' bootstraps follow, then "true".
DEPLOYER_ACCESS = "DeployerAccess"
# An account holds one GitHub OIDC provider; "false" uses the one that exists.
CREATE_OIDC_PROVIDER = "CreateOidcProvider"


def devops_spec(settings: Settings) -> StackSpec:
    naming = settings.naming
    parameters = {
        "GitHubRepository": settings.github_repository,
        "GitHubRepositoryWithIds": settings.github_repository_with_ids,
        "GitHubOwnerId": settings.github_owner_id or GITHUB_ID_PLACEHOLDER,
        "GitHubRepositoryId": settings.github_repository_id or GITHUB_ID_PLACEHOLDER,
        DEPLOYER_ACCESS: "true",
    }
    for account in settings.accounts:
        if any(env.account.key == account.key for env in settings.environments):
            parameters[naming.account_parameter(account.key)] = account.id
    return StackSpec(
        kind=DEVOPS,
        name=naming.stack(DEVOPS_ENV, DEVOPS_STACK),
        template_path=settings.root / DEVOPS_TEMPLATE,
        account_id=settings.devops.id,
        region=settings.region,
        env=None,
        parameters=parameters,
    )


def bootstrap_spec(settings: Settings, env_name: str) -> StackSpec:
    naming = settings.naming
    devops_id = settings.devops.id
    return environment_stack(
        settings,
        env_name,
        BOOTSTRAP,
        BOOTSTRAP_STACK,
        BOOTSTRAP_TEMPLATE,
        {
            "EnvName": env_name,
            "ResourcePrefix": naming.prefix(env_name),
            "DeployerRoleName": naming.deployer_role(env_name),
            "CfnExecutionRoleName": naming.cfn_execution_role(env_name),
            "BoundaryPolicyName": naming.boundary_policy(env_name),
            "CiRoleArn": naming.role_arn(devops_id, naming.ci_role(env_name)),
            "DriftRoleArn": naming.role_arn(devops_id, naming.drift_role()),
            "DriftReaderRoleName": naming.drift_reader_role(env_name),
            "DevOpsAccountId": devops_id,
            "ArtifactBucketName": naming.artifact_bucket(devops_id),
            "ArtifactPrefix": naming.artifact_prefix(env_name),
            "EcrRepositoryName": naming.ecr_repository(),
            "EventBusName": naming.event_bus(env_name),
            "SecretPrefix": naming.secret_name(env_name, ""),
            "ProtectedArns": ",".join(protected_arns(naming, env_name)),
            "WorkloadRoleNames": naming.function_role(env_name, "*"),
            "PlatformStackArns": ",".join(stack_arns(naming, env_name, PLATFORM_STACKS)),
            "DataStackName": naming.stack(env_name, DATA_STACK),
        },
    )


def subset_targets(settings: Settings) -> list:
    """The environments a masked subset of production may be copied to (none without a table)."""
    if not settings.has_table:
        return []
    return [e for e in settings.environments if e.tier in SUBSET_TARGET_TIERS]


def data_spec(settings: Settings, env_name: str) -> StackSpec:
    """The environment's data stack (``infra/data.yaml``): its key, store, and transfer role, in its own account."""
    naming = settings.naming
    env = settings.environment(env_name)
    account_id = env.account.id
    production = env.tier is Tier.PRODUCTION
    source_tier = env.tier in SUBSET_SOURCE_TIERS
    targets = subset_targets(settings)
    target = any(t.name == env.name for t in targets)
    source = settings.production
    p = naming.partition
    parameters = {
        "EnvName": env.name,
        "Production": "true" if production else "false",
        "ResourcePrefix": naming.prefix(env.name),
        "KeyAlias": naming.data_key_alias(env.name),
        "TableName": naming.data_table(env.name) if settings.has_table else "",
        "BucketName": naming.data_bucket(env.name, account_id) if settings.has_bucket else "",
        "TransferBucketName": naming.data_transfer_bucket(env.name, account_id) if target else "",
        "BoundaryPolicyArn": naming.policy_arn(account_id, naming.boundary_policy(env.name)),
        "RunnerRoleArns": ",".join(
            naming.role_arn(account_id, naming.persona_role(env.name, persona)) for persona in subset_runners(env.tier)
        ),
        "ExportRoleName": naming.data_export_role(env.name) if source_tier and targets else "",
        "ExportTargetObjects": ",".join(
            f"arn:{p}:s3:::{naming.data_transfer_bucket(t.name, t.account.id)}/from-{env.name}/*" for t in targets
        )
        if source_tier
        else "",
        "ExportTargetKeys": ",".join(sorted({f"arn:{p}:kms:{settings.region}:{t.account.id}:key/*" for t in targets}))
        if source_tier
        else "",
        "ImportRoleName": naming.data_import_role(env.name) if target else "",
        "SourceExportRoleArn": naming.role_arn(source.account.id, naming.data_export_role(source.name))
        if target
        else "",
        "SourceObjects": f"arn:{p}:s3:::{naming.data_transfer_bucket(env.name, account_id)}/from-{source.name}/*"
        if target
        else "",
    }
    return environment_stack(settings, env_name, DATA, DATA_STACK, DATA_TEMPLATE, parameters)


def data_environment_variables(settings: Settings, env_name: str) -> dict[str, str]:
    """What the function is told of its store, from ``naming`` (``DATA_TABLE``, ``DATA_BUCKET``; "" for none)."""
    naming = settings.naming
    account_id = settings.environment(env_name).account.id
    return {
        "DataTableName": naming.data_table(env_name) if settings.has_table else "",
        "DataBucketName": naming.data_bucket(env_name, account_id) if settings.has_bucket else "",
    }


def app_spec(settings: Settings, env_name: str, artifact_sha256: str) -> StackSpec:
    naming = settings.naming
    account_id = settings.environment(env_name).account.id
    return environment_stack(
        settings,
        env_name,
        APP,
        APP_STACK,
        APP_TEMPLATE,
        {
            "EnvName": env_name,
            "FunctionName": naming.function(env_name),
            "FunctionRoleName": naming.function_role(env_name),
            "LogGroupName": naming.log_group(env_name),
            "BoundaryPolicyArn": naming.policy_arn(account_id, naming.boundary_policy(env_name)),
            "SecretArnPattern": naming.secret_arn_pattern(account_id, env_name),
            "ParameterArnPattern": naming.ssm_parameter_arn_pattern(account_id, env_name),
            "ArtifactBucketName": naming.artifact_bucket(settings.devops.id),
            "ArtifactKey": naming.artifact_key(env_name, artifact_sha256),
            "Handler": f"{settings.package}.handler.handler",
            **data_environment_variables(settings, env_name),
        },
    )


def stack_specs(settings: Settings, artifact_sha256: str | None = None) -> list[StackSpec]:
    """Every stack for these settings, in first-deployment order.

    The DevOps stack, then per environment, in its own account, the bootstrap stack, the
    persona stack (``persona_stacks.py``) and the data stack (unless ``[data] stores`` is none), then (when an artifact's sha256 is given) one
    application stack per environment.
    """
    trust = load_trust(settings)
    specs = [devops_spec(settings)]
    for env in settings.environments:
        specs += [bootstrap_spec(settings, env.name), persona_spec(settings, env.name, trust)]
        if settings.has_data:
            specs.append(data_spec(settings, env.name))
    if artifact_sha256 is not None:
        specs += [app_spec(settings, env.name, artifact_sha256) for env in settings.environments]
    return specs
