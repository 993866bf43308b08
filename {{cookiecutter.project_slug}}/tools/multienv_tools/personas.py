"""Who may do what in each environment: the persona table, written once.

Access is decided by an environment's tier, so a custom environment (``uat:staging``)
gets the same access as every other environment of its tier. The persona stacks
(``infra/personas.yaml``) take their parameters from ``stack_parameters``; the persona
table of ``docs/personas.md`` and the default cases of the access matrix (``access/cases.csv``) come from
``TABLE`` too. Nothing else decides access.

Standard library only and free of package-relative imports: the template that generated
this repository loads this file by path to render the persona table and the default cases.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

# The persona roles' names end in these (``naming.persona_role(env, persona)``).
PROJECT_ADMIN = "project-admin"
DEVOPS_ENGINEER = "devops-engineer"
SOFTWARE_DEVELOPER = "software-developer"
QA_ENGINEER = "qa-engineer"
PERSONAS = (PROJECT_ADMIN, DEVOPS_ENGINEER, SOFTWARE_DEVELOPER, QA_ENGINEER)
TITLES = {
    PROJECT_ADMIN: "Project Administrator",
    DEVOPS_ENGINEER: "DevOps Engineer",
    SOFTWARE_DEVELOPER: "Software Developer",
    QA_ENGINEER: "QA Engineer",
}


class Capability(StrEnum):
    """One block of permissions; each is one managed policy in ``infra/personas.yaml``."""

    VIEW = "view"  # list and describe the environment's resources: metadata only
    READ_DATA = "read-data"  # objects, items, messages, parameters of the environment
    READ_LOGS = "read-logs"  # log events of the environment's log groups
    READ_SECRETS = "read-secrets"  # secret values of the environment
    EXECUTE = "execute"  # invoke functions, start executions and test builds
    CHANGE = "change"  # create, change and delete the environment's resources; roles only under the boundary
    ADMINISTER = "administer"  # everything in the account except other environments' resources

    @property
    def parameter(self) -> str:
        """The persona stack parameter listing the roles that get this block."""
        return "".join(part.title() for part in self.value.split("-")) + "Roles"


@dataclass(frozen=True)
class Access:
    """A named level of access: what docs/personas.md says and the blocks it grants."""

    key: str
    summary: str
    capabilities: frozenset[Capability]
    # An explicit Deny on every data read, so nothing attached later can grant one.
    no_data: bool = False

    @property
    def grants_anything(self) -> bool:
        return bool(self.capabilities)


C = Capability
FULL = Access("full", "full", frozenset(C))
FULL_ENVIRONMENT = Access(
    "full-environment",
    "full on the environment's resources",
    frozenset({C.VIEW, C.READ_DATA, C.READ_LOGS, C.READ_SECRETS, C.EXECUTE, C.CHANGE}),
)
READ_EXECUTE = Access(
    "read-execute",
    "read + execute (start tests, invoke, read logs), no infrastructure changes",
    frozenset({C.VIEW, C.READ_DATA, C.READ_LOGS, C.EXECUTE}),
)
READ_LOGS = Access("read-logs", "read-only + logs", frozenset({C.VIEW, C.READ_DATA, C.READ_LOGS}))
READ_ONLY = Access("read-only", "read-only", frozenset({C.VIEW, C.READ_DATA}))
VIEW_ONLY = Access("view-only", "read-only, no data", frozenset({C.VIEW}), no_data=True)
NO_ACCESS = Access("none", "no access", frozenset())
ACCESS_LEVELS = (FULL, FULL_ENVIRONMENT, READ_EXECUTE, READ_LOGS, READ_ONLY, VIEW_ONLY, NO_ACCESS)

SESSION_SECONDS = 4 * 3600
SHORT_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Grant:
    """What one persona gets in one environment."""

    access: Access
    mfa: bool = False
    max_session_seconds: int = SESSION_SECONDS

    @property
    def summary(self) -> str:
        extra = []
        if self.max_session_seconds < SESSION_SECONDS:
            extra.append(f"{self.max_session_seconds // 3600} h sessions")
        if self.mfa:
            extra.append("MFA required")
        return ", ".join([self.access.summary, *extra])


_NONPROD_BUILD = {
    PROJECT_ADMIN: Grant(FULL),
    DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT),
    SOFTWARE_DEVELOPER: Grant(FULL_ENVIRONMENT),
    QA_ENGINEER: Grant(READ_ONLY),
}
_NONPROD_TEST = {
    PROJECT_ADMIN: Grant(FULL),
    DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT),
    SOFTWARE_DEVELOPER: Grant(READ_LOGS),
    QA_ENGINEER: Grant(READ_EXECUTE),
}

# tier -> persona -> grant. Keys are the tier values of ``model.Tier``.
TABLE: dict[str, dict[str, Grant]] = {
    "sandbox": _NONPROD_BUILD,
    "development": _NONPROD_BUILD,
    "testing": _NONPROD_TEST,
    "qa": _NONPROD_TEST,
    "staging": {
        PROJECT_ADMIN: Grant(FULL),
        DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT),
        SOFTWARE_DEVELOPER: Grant(READ_ONLY),
        QA_ENGINEER: Grant(READ_EXECUTE),
    },
    "production": {
        PROJECT_ADMIN: Grant(FULL, mfa=True, max_session_seconds=SHORT_SESSION_SECONDS),
        DEVOPS_ENGINEER: Grant(VIEW_ONLY),
        SOFTWARE_DEVELOPER: Grant(VIEW_ONLY),
        QA_ENGINEER: Grant(NO_ACCESS),
    },
}


def grant(tier: str, persona: str) -> Grant:
    """The grant of ``persona`` in an environment of ``tier``; unknown values are errors."""
    if str(tier) not in TABLE:
        raise ValueError(f"tier {tier!r} has no row in the persona table: the tiers are {', '.join(TABLE)}")
    row = TABLE[str(tier)]
    if persona not in row:
        raise ValueError(f"persona {persona!r} is not one of {', '.join(PERSONAS)}")
    return row[persona]


# --------------------------------------------------------------------------- who assumes a persona role

TRUST_SOURCES = ("account", "identity-center", "saml")
# The audience of AWS sign-in SAML assertions, per partition.
SAML_AUDIENCE = {
    "aws": "https://signin.aws.amazon.com/saml",
    "aws-cn": "https://signin.amazonaws.cn/saml",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/saml",
}
IDENTITY = "identity"  # the env part of the people-facing role names in an identity account


@dataclass(frozen=True)
class Trust:
    """Who may assume the persona roles: read from ``[personas]`` in ``multienv.toml``.

    ``account``: people sign in to an identity account (``identity_account``, default the
    DevOps account) and assume ``<slug>-identity-<persona>`` there, which may assume the
    persona role of each environment. ``identity-center``: the IAM Identity Center
    permission set ``<permission_set_prefix><persona>`` in the environment's account.
    ``saml``: the SAML provider ``saml_provider`` in the environment's account.
    """

    source: str = "account"
    identity_account: str = ""
    permission_set_prefix: str = ""
    saml_provider: str = ""


def parse_trust(table: Mapping[str, object], accounts: Mapping[str, str], devops_key: str, where: str) -> Trust:
    """Check the ``[personas]`` table; every error names the key, the value and what is allowed."""
    known = {"source", "identity_account", "permission_set_prefix", "saml_provider"}
    for key in table:
        if key not in known:
            raise ValueError(f"{where}: personas.{key}: unknown key; the keys are {', '.join(sorted(known))}")
    source = str(table.get("source", "account"))
    if source not in TRUST_SOURCES:
        raise ValueError(f"{where}: personas.source: {source!r} is not one of {', '.join(TRUST_SOURCES)}")
    identity = str(table.get("identity_account", devops_key))
    if identity not in accounts:
        raise ValueError(f"{where}: personas.identity_account: {identity!r} is not one of {', '.join(accounts)}")
    prefix = str(table.get("permission_set_prefix", ""))
    saml = str(table.get("saml_provider", ""))
    if source == "saml" and not saml:
        raise ValueError(f"{where}: personas.saml_provider: needed when personas.source is 'saml'")
    return Trust(source, identity, prefix, saml)


def trusted_principal(trust: Trust, naming, accounts: Mapping[str, str], env_account_id: str, persona: str) -> str:
    """The ARN (pattern) that may assume ``persona``'s role in an environment of account ``env_account_id``."""
    if trust.source == "account":
        return naming.role_arn(accounts[trust.identity_account], naming.name(IDENTITY, persona))
    if trust.source == "identity-center":
        permission_set = f"{trust.permission_set_prefix}{persona}"
        # Identity Center's roles live under this path, with or without a region segment.
        return naming.role_arn(env_account_id, f"aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{permission_set}_*")
    return f"arn:{naming.partition}:iam::{env_account_id}:saml-provider/{trust.saml_provider}"


def trusted_account_root(trust: Trust, naming, accounts: Mapping[str, str], env_account_id: str) -> str:
    """The account a persona role's trust names as its principal; ``aws:PrincipalArn`` then narrows it.

    Naming the account, not the role, keeps the trust valid before the identity roles exist
    (AWS refuses a trust policy naming a role that does not exist yet) and after one is recreated
    (a role principal is pinned to the role's unique ID); the condition keeps it to that one role.
    """
    if trust.source == "account":
        return f"arn:{naming.partition}:iam::{accounts[trust.identity_account]}:root"
    if trust.source == "identity-center":
        return f"arn:{naming.partition}:iam::{env_account_id}:root"
    return ""  # saml: the provider is the principal


# --------------------------------------------------------------------------- stack parameters


GUARD = "guard"  # on every persona role: other environments are out of reach
ACCOUNT_GUARD = "account-guard"  # on every persona role: the account's settings, IAM outside the environment, keys
FENCE = "fence"  # on every persona role but the administrator's: hands off the platform
NO_DATA = "no-data"  # where the access says no data


def policy_blocks(tier: str, persona: str) -> list[str]:
    """The persona policies (``infra/personas.yaml``) a persona's role carries in a tier."""
    access = grant(tier, persona).access
    blocks = [GUARD, ACCOUNT_GUARD]
    if Capability.ADMINISTER not in access.capabilities:
        blocks.append(FENCE)
    if access.no_data:
        blocks.append(NO_DATA)
    return blocks + [c.value for c in Capability if c in access.capabilities]


def policy_name(naming, env: str, block: str) -> str:
    return naming.name(env, f"persona-{block}")


def stack_parameters(
    naming, env: str, tier: str, account_id: str, shared_account: bool, trust: Trust, accounts: Mapping[str, str]
) -> dict[str, str]:
    """Parameters of the persona stack of ``env`` (``infra/personas.yaml``) in account ``account_id``.

    ``shared_account``: the account also holds another environment or the DevOps side.
    """
    params: dict[str, str] = {
        "EnvName": env,
        "ResourcePrefix": naming.prefix(env),
        "SecretPrefix": naming.secret_name(env, ""),
        "BoundaryPolicyName": naming.boundary_policy(env),
        "ProtectedArns": ",".join(protected_arns(naming, env, account_id)),
        "TrustSource": trust.source,
        "TrustedAccountRoot": trusted_account_root(trust, naming, accounts, account_id),
        "SamlAudience": SAML_AUDIENCE[naming.partition],
        "SharedAccount": "true" if shared_account else "false",
        "PersonaSetupArns": ",".join(persona_setup_arns(naming, env, account_id)),
        "PlatformResources": ",".join(platform_patterns(naming)),
    }
    for persona in PERSONAS:
        key = persona_key(persona)
        g = grant(tier, persona)
        params[f"{key}RoleName"] = naming.persona_role(env, persona) if g.access.grants_anything else ""
        params[f"{key}MaxSession"] = str(g.max_session_seconds)
        params[f"{key}RequireMfa"] = "true" if g.mfa else "false"
        params[f"{key}TrustedPrincipal"] = trusted_principal(trust, naming, accounts, account_id, persona)
        params[f"{key}PolicyArns"] = ",".join(
            naming.policy_arn(account_id, policy_name(naming, env, block)) for block in policy_blocks(tier, persona)
        )
    return params


def persona_setup_arns(naming, env: str, account_id: str = "*") -> list[str]:
    """The persona roles, the persona policies and the permissions boundary of ``env``.

    No persona may change them, the Project Administrator included (the Guard policy), and no
    role under the boundary either: the account's administrator deploys them
    (``deploy bootstrap-env``, ``deploy personas``). ``*`` as the account keeps the patterns
    valid in every account a StackSet rolls the bootstrap out to.
    """
    return [
        *(naming.role_arn(account_id, naming.persona_role(env, p)) for p in PERSONAS),
        naming.policy_arn(account_id, naming.boundary_policy(env)),
        naming.policy_arn(account_id, policy_name(naming, env, "*")),
    ]


def protected_arns(naming, env: str, account_id: str = "*") -> list[str]:
    """What only the Project Administrator may change: the platform roles, the boundary, the persona setup.

    The permissions boundary and the execution role's policy deny every change to all of these
    (creating them included), so nothing the pipeline deploys can touch them.
    """
    return [
        naming.role_arn(account_id, naming.deployer_role(env)),
        naming.role_arn(account_id, naming.cfn_execution_role(env)),
        *persona_setup_arns(naming, env, account_id),
        # The CI roles and the identity roles, wherever the DevOps side and the environments share an account.
        *naming.platform_role_patterns(account_id),
    ]


def stack_arns(naming, env: str, stacks: Iterable[str]) -> list[str]:
    """ARN patterns of ``env``'s stacks named ``<slug>-<env>-<stack>``, in any account and region."""
    return [f"arn:{naming.partition}:cloudformation:*:*:stack/{naming.stack(env, stack)}/*" for stack in stacks]


def platform_patterns(naming) -> list[str]:
    """The DevOps and identity resources (``<slug>-devops-*``, ``<slug>-identity-*``), one pattern per service.

    Denied to every persona role: in a shared account they sit next to the environments. Each
    pattern names its service (AWS matches no wildcard in an ARN's service segment).
    """
    p, devops = naming.partition, naming.devops_prefix()
    return [
        # The identity side is roles and their policies only.
        *(
            f"arn:{p}:iam::*:{kind}/{prefix}*"
            for prefix in (devops, naming.prefix(IDENTITY))
            for kind in ("role", "policy")
        ),
        f"arn:{p}:s3:::{devops}*",
        f"arn:{p}:ecr:*:*:repository/{devops}*",
        f"arn:{p}:cloudformation:*:*:stack/{devops}*",
        f"arn:{p}:kms:*:*:alias/{devops}*",
    ]


def persona_key(persona: str) -> str:
    """``devops-engineer`` -> ``DevopsEngineer``: the persona's part of parameter and resource names."""
    return "".join(part.title() for part in persona.split("-"))


# --------------------------------------------------------------------------- default access cases

# A case names its principal, resource and environments symbolically; ``access_matrix``
# turns the symbols into ARNs from ``multienv.toml``, so the file survives real account IDs.
CASE_FIELDS = ("principal", "principal_env", "action", "resource", "resource_env", "expect", "context", "why")


@dataclass(frozen=True)
class Probe:
    """A representative action and the capability that must allow it."""

    why: str
    action: str
    resource: str
    needs: Capability
    data: bool = False
    context: str = ""


PROBES = (
    Probe("view metadata", "lambda:ListAliases", "function", C.VIEW),
    Probe("start a test build", "codebuild:StartBuild", "build-project", C.EXECUTE),
    Probe("write a resource", "lambda:UpdateFunctionCode", "function", C.CHANGE),
    Probe("write data", "s3:PutObject", "data-object", C.CHANGE),
    Probe("read data", "s3:GetObject", "data-object", C.READ_DATA, data=True),
    Probe("read an item", "dynamodb:GetItem", "table", C.READ_DATA, data=True),
    Probe("read a secret", "secretsmanager:GetSecretValue", "secret", C.READ_SECRETS, data=True),
    Probe("read logs", "logs:FilterLogEvents", "log-group", C.READ_LOGS, data=True),
    Probe("start a test", "lambda:InvokeFunction", "function", C.EXECUTE),
    Probe("create a role under the boundary", "iam:CreateRole", "new-role", C.CHANGE, context="boundary"),
    Probe("change the deployer's trust", "iam:UpdateAssumeRolePolicy", "deployer-role", C.ADMINISTER),
    Probe("change the deployer's permissions", "iam:PutRolePolicy", "deployer-role", C.ADMINISTER),
    Probe("hand the deployer to a service", "iam:PassRole", "deployer-role", C.ADMINISTER),
)
# Data reads only the no-data Deny refuses where some later Allow grants them: every persona
# whose access says "no data" must be refused each, whatever else it carries.
NO_DATA_PROBES = (
    Probe("read a parameter's history", "ssm:GetParameterHistory", "parameter", C.READ_DATA, data=True),
    Probe("read a table's stream", "dynamodb:GetRecords", "table-stream", C.READ_DATA, data=True),
    Probe("read an execution's history", "states:GetExecutionHistory", "execution", C.EXECUTE, data=True),
    Probe("read an execution's input", "states:DescribeExecution", "execution", C.EXECUTE, data=True),
    Probe("read a log query's results", "logs:GetQueryResults", "any", C.READ_LOGS, data=True),
    Probe("read a stream's records", "kinesis:GetRecords", "stream", C.READ_DATA, data=True),
    Probe("read a query's results", "athena:GetQueryResults", "workgroup", C.READ_DATA, data=True),
    Probe("read a function's variables", "lambda:GetFunctionConfiguration", "function", C.VIEW, data=True),
    Probe("read every function's variables", "lambda:ListFunctions", "any", C.VIEW, data=True),
    Probe("read a build project's variables", "codebuild:BatchGetProjects", "build-project", C.VIEW, data=True),
)

# Denied to every persona, the Project Administrator included: the Guard policy keeps "full"
# inside the environment, which is what holds where environments share an account.
SELF = "self"  # the persona's own role
GUARD_PROBES = (
    Probe("shed the guard policy", "iam:DetachRolePolicy", SELF, C.ADMINISTER),
    Probe("add to its own role's permissions", "iam:PutRolePolicy", SELF, C.ADMINISTER),
    Probe("change its own role's trust", "iam:UpdateAssumeRolePolicy", SELF, C.ADMINISTER),
    Probe("rewrite a persona policy", "iam:CreatePolicyVersion", "persona-policy", C.ADMINISTER),
    Probe("create a role without the boundary", "iam:CreateRole", "new-role", C.ADMINISTER),
    Probe("drop a role's boundary", "iam:DeleteRolePermissionsBoundary", "new-role", C.ADMINISTER),
    Probe("grant a role outside the environment", "iam:AttachRolePolicy", "foreign-role", C.ADMINISTER),
    Probe("create a role outside the environment", "iam:CreateRole", "foreign-role", C.ADMINISTER, context="boundary"),
    Probe("change the artifact bucket's policy", "s3:PutBucketPolicy", "artifact-bucket", C.ADMINISTER),
    Probe("change an identity role's permissions", "iam:PutRolePolicy", "identity-role", C.ADMINISTER),
    Probe("change an identity role's trust", "iam:UpdateAssumeRolePolicy", "identity-role", C.ADMINISTER),
    Probe("add to its CI role's permissions", "iam:PutRolePolicy", "ci-role", C.ADMINISTER),
    Probe("attach a policy to its CI role", "iam:AttachRolePolicy", "ci-role", C.ADMINISTER),
    Probe("change its CI role's trust", "iam:UpdateAssumeRolePolicy", "ci-role", C.ADMINISTER),
    Probe("create an OIDC provider", "iam:CreateOpenIDConnectProvider", "oidc-provider", C.ADMINISTER),
    Probe("make a function URL public", "lambda:CreateFunctionUrlConfig", "function", C.ADMINISTER, context="public"),
    Probe("run any code as a build's role", "codebuild:StartBuild", "build-project", C.ADMINISTER, context="buildspec"),
    Probe("tag a resource as another environment's", "lambda:TagResource", "function", C.ADMINISTER, context="retag"),
    Probe("read from a same-named bucket elsewhere", "s3:GetObject", "squatted-object", C.ADMINISTER),
    Probe("write to a same-named bucket elsewhere", "s3:PutObject", "squatted-object", C.ADMINISTER),
    Probe("change the administrator's bootstrap", "cloudformation:UpdateStack", "bootstrap-stack", C.ADMINISTER),
    Probe("delete the administrator's persona stack", "cloudformation:DeleteStack", "personas-stack", C.ADMINISTER),
    # Settings of the whole account: the account's administrator's, in every strategy.
    Probe("stop the account's trail", "cloudtrail:StopLogging", "any", C.ADMINISTER),
    Probe("set the account's log policy", "logs:PutAccountPolicy", "any", C.ADMINISTER),
    Probe("register a CloudFormation type", "cloudformation:RegisterType", "any", C.ADMINISTER),
    Probe("configure a CloudFormation type", "cloudformation:SetTypeConfiguration", "any", C.ADMINISTER),
    Probe("stop the config recorder", "config:StopConfigurationRecorder", "any", C.ADMINISTER),
    Probe("open the account's public access block", "s3:PutAccountPublicAccessBlock", "any", C.ADMINISTER),
    Probe("deactivate a user's MFA device", "iam:DeactivateMFADevice", "foreign-user", C.ADMINISTER),
    Probe("create a user's service credential", "iam:CreateServiceSpecificCredential", "foreign-user", C.ADMINISTER),
    Probe("upload a user's SSH key", "iam:UploadSSHPublicKey", "foreign-user", C.ADMINISTER),
    Probe("create a user's access key", "iam:CreateAccessKey", "foreign-user", C.ADMINISTER),
    Probe("schedule the DevOps key's deletion", "kms:ScheduleKeyDeletion", "devops-key", C.ADMINISTER),
    Probe("rewrite the DevOps key's policy", "kms:PutKeyPolicy", "devops-key", C.ADMINISTER),
    Probe("schedule an untagged key's deletion", "kms:ScheduleKeyDeletion", "untagged-key", C.ADMINISTER),
    Probe("grant itself an untagged key", "kms:CreateGrant", "untagged-key", C.ADMINISTER),
    Probe("let everyone invoke a function", "lambda:AddPermission", "function", C.ADMINISTER, context="public"),
)
CROSS_ENVIRONMENT_PROBES = (
    Probe("write another environment", "lambda:UpdateFunctionCode", "function", C.ADMINISTER),
    Probe("read another environment's data", "s3:GetObject", "data-object", C.ADMINISTER),
    Probe("read another environment's secret", "secretsmanager:GetSecretValue", "secret", C.ADMINISTER),
    Probe("overwrite another environment's secret", "secretsmanager:PutSecretValue", "secret", C.ADMINISTER),
    Probe("read another environment's parameter", "ssm:GetParameter", "parameter", C.ADMINISTER),
    Probe("read another environment's logs", "logs:FilterLogEvents", "log-group", C.ADMINISTER),
    Probe("read another environment's function variables", "lambda:GetFunctionConfiguration", "function", C.ADMINISTER),
    Probe("read another environment's devops secret", "secretsmanager:GetSecretValue", "devops-secret", C.ADMINISTER),
    # A resource outside the naming scheme, known only by its env tag (ABAC).
    Probe(
        "write another environment's tagged resource",
        "lambda:UpdateFunctionCode",
        "tagged-function",
        C.ADMINISTER,
        context="tagged",
    ),
)


@dataclass(frozen=True)
class Case:
    principal: str
    principal_env: str
    action: str
    resource: str
    resource_env: str
    expect: str
    context: str = ""
    why: str = ""

    def row(self) -> list[str]:
        return [getattr(self, name) for name in CASE_FIELDS]


def _expect(allowed: bool) -> str:
    return "allow" if allowed else "deny"


def persona_cases(environments: Iterable[tuple[str, str]]) -> list[Case]:
    """Every persona x environment x probe, its assumption, and writes into every other environment."""
    envs = [(str(name), str(tier)) for name, tier in environments]
    cases: list[Case] = []
    for env, tier in envs:
        for persona in PERSONAS:
            g = grant(tier, persona)
            caps = g.access.capabilities
            mfa = "mfa" if g.mfa else ""
            if g.access.grants_anything:
                cases.append(Case("identity", env, "sts:AssumeRole", persona, env, "allow", mfa, "assume the role"))
                if g.mfa:
                    cases.append(
                        Case("identity", env, "sts:AssumeRole", persona, env, "deny", "", "assume without MFA")
                    )
                cases.append(
                    Case("outsider", env, "sts:AssumeRole", persona, env, "deny", mfa, "assume as someone else")
                )
            for probe in PROBES:
                allowed = probe.needs in caps and not (probe.data and g.access.no_data)
                context = ",".join(filter(None, [mfa, probe.context]))
                cases.append(
                    Case(persona, env, probe.action, probe.resource, env, _expect(allowed), context, probe.why)
                )
            if g.access.no_data:
                for probe in NO_DATA_PROBES:
                    context = ",".join(filter(None, [mfa, probe.context]))
                    cases.append(Case(persona, env, probe.action, probe.resource, env, "deny", context, probe.why))
            for probe in GUARD_PROBES:
                context = ",".join(filter(None, [mfa, probe.context]))
                resource = persona if probe.resource == SELF else probe.resource
                cases.append(Case(persona, env, probe.action, resource, env, "deny", context, probe.why))
            for other, _ in envs:
                if other == env:
                    continue
                for probe in CROSS_ENVIRONMENT_PROBES:
                    context = ",".join(filter(None, [mfa, probe.context]))
                    cases.append(Case(persona, env, probe.action, probe.resource, other, "deny", context, probe.why))
    return cases


def platform_cases(env_names: Iterable[str]) -> list[Case]:
    """Every deployer x every environment's artifacts and secrets, every CI role x every Deployer Role."""
    names = [str(n) for n in env_names]
    cases: list[Case] = []
    for env in names:
        for target in names:
            own = _expect(target == env)
            cases.append(Case("deployer", env, "s3:GetObject", "artifact", target, own, "", "read artifacts"))
            cases.append(
                Case("deployer", env, "secretsmanager:GetSecretValue", "devops-secret", target, own, "", "read secrets")
            )
            cases.append(Case("ci", env, "sts:AssumeRole", "deployer-role", target, own, "", "assume a Deployer Role"))
        cases.append(
            Case("outsider", env, "sts:AssumeRole", "deployer-role", env, "deny", "", "assume as another DevOps role")
        )
        cases += pipeline_cases(env)
    return cases


# What the pipeline (the execution role, a role created under the boundary) must never do to
# the platform's roles: each class of IAM role write, on every persona's role, the Deployer Role,
# the execution role and the environment's CI role, existing or not.
PLATFORM_ROLE_WRITES = (
    ("iam:PutRolePolicy", ""),
    ("iam:AttachRolePolicy", ""),
    ("iam:DetachRolePolicy", ""),
    ("iam:DeleteRolePolicy", ""),
    ("iam:UpdateAssumeRolePolicy", ""),
    ("iam:UpdateRole", ""),
    ("iam:UpdateRoleDescription", ""),
    ("iam:DeleteRole", ""),
    ("iam:TagRole", ""),
    ("iam:UntagRole", ""),
    ("iam:PutRolePermissionsBoundary", "boundary"),
    ("iam:DeleteRolePermissionsBoundary", ""),
    ("iam:CreateRole", "boundary"),
)
PLATFORM_ROLES = (*PERSONAS, "deployer-role", "cfn-exec-role", "ci-role")
PERSONA_POLICY_WRITES = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy")


def pipeline_cases(env: str) -> list[Case]:
    """The execution role, a role under the boundary and the Deployer Role against the persona setup."""
    cases = [
        # What they must still do: the environment's own roles, under the boundary.
        Case("cfn-exec", env, "iam:CreateRole", "new-role", env, "allow", "boundary", "create a function role"),
        Case("cfn-exec", env, "iam:PutRolePolicy", "new-role", env, "allow", "", "set a function role's policy"),
        Case("bounded-role", env, "iam:PutRolePolicy", "new-role", env, "allow", "", "change an environment role"),
        Case("deployer", env, "cloudformation:UpdateStack", "app-stack", env, "allow", "cfn-role", "deploy the app"),
    ]
    for principal in ("cfn-exec", "bounded-role"):
        cases += [
            Case(principal, env, "lambda:CreateFunctionUrlConfig", "function", env, "allow", "", "a signed-only URL"),
            Case(principal, env, "lambda:CreateFunctionUrlConfig", "function", env, "deny", "public", "a public URL"),
            Case(
                principal, env, "lambda:UpdateFunctionUrlConfig", "function", env, "deny", "public", "make a URL public"
            ),
            Case(principal, env, "lambda:AddPermission", "function", env, "allow", "", "let a service invoke"),
            Case(principal, env, "lambda:AddPermission", "function", env, "deny", "public", "let everyone invoke"),
            Case(principal, env, "s3:PutObject", "squatted-object", env, "deny", "", "write to a same-named bucket"),
        ]
        for target in PLATFORM_ROLES:
            for action, context in PLATFORM_ROLE_WRITES:
                why = f"{action.split(':')[1]} on a platform role"
                cases.append(Case(principal, env, action, target, env, "deny", context, why))
        for action in PERSONA_POLICY_WRITES:
            why = f"{action.split(':')[1]} on a persona policy"
            cases.append(Case(principal, env, action, "persona-policy", env, "deny", "", why))
    for stack in ("bootstrap-stack", "personas-stack"):
        for action in ("cloudformation:UpdateStack", "cloudformation:DeleteStack", "cloudformation:CreateChangeSet"):
            why = f"{action.split(':')[1]} on the account administrator's stack"
            cases.append(Case("deployer", env, action, stack, env, "deny", "cfn-role", why))
    return cases


# Releases and drift (release.py, drift.py): what the Deployer Role does to its own
# environment's function and stacks, and is refused on every other environment's.
# (action, resource, why): allowed on the own environment, denied on the others.
RELEASE_OWN_ENVIRONMENT_ONLY = (
    ("lambda:PublishVersion", "function", "publish a version"),
    ("lambda:InvokeFunction", "function", "smoke-test a version"),
    ("lambda:UpdateAlias", "live-alias", "move the live alias"),
    ("lambda:CreateAlias", "function", "create the live alias"),
    ("cloudformation:DetectStackDrift", "app-stack", "detect drift of the app"),
    ("cloudformation:DetectStackDrift", "bootstrap-stack", "detect drift of the bootstrap"),
    ("cloudformation:DetectStackDrift", "personas-stack", "detect drift of the personas"),
    ("cloudformation:DescribeStackResourceDrifts", "app-stack", "read drift of the app"),
)
# Never, not even on the own environment: a release moves aliases, it never removes the way back.
RELEASE_NEVER = (
    ("lambda:DeleteAlias", "live-alias", "delete the live alias"),
    ("lambda:DeleteFunction", "function", "delete the function outside CloudFormation"),
)


def release_cases(env_names: Iterable[str]) -> list[Case]:
    names = [str(n) for n in env_names]
    cases = []
    for env in names:
        for action, resource, why in RELEASE_OWN_ENVIRONMENT_ONLY:
            cases += [Case("deployer", env, action, resource, t, _expect(t == env), "", why) for t in names]
        cases += [
            Case("deployer", env, action, resource, env, "deny", "", why) for action, resource, why in RELEASE_NEVER
        ]
    return cases


def default_cases(environments: Iterable[tuple[str, str]]) -> list[Case]:
    envs = [(str(name), str(tier)) for name, tier in environments]
    names = [name for name, _ in envs]
    return persona_cases(envs) + platform_cases(names) + release_cases(names)


CASES_HEADER = """\
# The access matrix: every row is one request and the decision it must get.
# `make check-access` simulates each one against the rendered policies of infra/.
# principal: a persona (project-admin, devops-engineer, software-developer, qa-engineer),
#   deployer, cfn-exec, ci, bounded-role (any role created under the permissions boundary,
#   whatever its own policies), identity (who signs in, see docs/personas.md) or outsider (any other
#   role of the DevOps account, allowed sts:AssumeRole on everything) - of principal_env.
# resource: function, tagged-function, table, data-object, secret, log-group, new-role,
#   deployer-role, cfn-exec-role, ci-role (the environment's CI role in the DevOps account),
#   artifact, devops-secret, persona-policy, bootstrap-stack, personas-stack,
#   app-stack, foreign-role (a role outside the naming scheme), artifact-bucket, identity-role
#   (<slug>-identity-project-admin), oidc-provider, parameter, table-stream, execution, stream,
#   workgroup, live-alias (the function's alias live), build-project, foreign-user (an IAM user
#   outside the scheme), devops-key (the DevOps account's key), untagged-key (a key without an
#   env tag), squatted-object (in a bucket named like the environment's, in an account not the
#   project's), any (*), a persona name (its role), or a full ARN
#   - of resource_env.
# expect: allow or deny. context: comma-separated flags: mfa (signed in with MFA), boundary
#   (the new role carries the permissions boundary), tagged (the resource has env=<resource_env>),
#   cfn-role (the stack operation hands CloudFormation the environment's execution role),
#   public (a function URL without auth, a permission for principal *), buildspec (a build
#   started with its own buildspec), retag (the request sets the env tag to another environment).
# The rows below `# team cases` are yours; `make access-cases` rewrites the rows above it.
"""
TEAM_MARKER = "# team cases"


def render_cases(cases: Iterable[Case], team_rows: str = "") -> str:
    out = io.StringIO()
    out.write(CASES_HEADER)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CASE_FIELDS)
    for case in cases:
        writer.writerow(case.row())
    out.write(f"{TEAM_MARKER}\n")
    out.write(team_rows)
    return out.getvalue()
