"""The generated cases of the access matrix, from ``personas.TABLE`` and the environments of
``multienv.toml``: for each persona and environment, probes its grant must allow and probes it must
not, and the platform roles' and releases' fences. ``multienv synth`` writes them to
``access/generated-cases.csv`` (``GENERATED_CASES_FILE``); the team's own cases live in
``access/cases.csv`` (``TEAM_CASES_FILE``); ``secret_cases`` are made by ``make check-access`` from
``config/*.toml`` as it runs (a configuration change needs no rendering step to be checked).

Standard library and the runtime's vocabulary only: the template that generated this repository
loads this file by path (its loader registers the packages) to write the default cases.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from multienv.naming import PERSONAS

from .personas import (
    SUBSET_TARGET_TIERS,
    C,
    Capability,
    DataAccess,
    grant,
    subset_runners,
)

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
    # Reaches the environment's own data store: with data stores, its data rule decides (``DATA_PROBES``).
    store: str = ""


PROBES = (
    Probe("view metadata", "lambda:ListAliases", "function", C.VIEW),
    # A build runs as its project's role with whatever source the request names: the administrator's only.
    Probe("start a build", "codebuild:StartBuild", "build-project", C.ADMINISTER),
    Probe("write a resource", "lambda:UpdateFunctionCode", "function", C.CHANGE),
    Probe("write data", "s3:PutObject", "data-object", C.CHANGE, store="write"),
    Probe("read data", "s3:GetObject", "data-object", C.READ_DATA, data=True, store="read"),
    Probe("read an item", "dynamodb:GetItem", "table", C.READ_DATA, data=True, store="read"),
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
    Probe("read a build project's variables", "codebuild:BatchGetProjects", "build-project", C.VIEW, data=True),
    Probe("read a build's variables", "codebuild:BatchGetBuilds", "build-project", C.VIEW, data=True),
    Probe("read a build batch's variables", "codebuild:BatchGetBuildBatches", "build-project", C.VIEW, data=True),
    Probe("read a function version's variables", "lambda:ListVersionsByFunction", "function", C.VIEW, data=True),
    # ResourceProperties of each event: what was submitted, a function's variables included.
    Probe(
        "read what a stack submitted (its events)", "cloudformation:DescribeStackEvents", "app-stack", C.VIEW, data=True
    ),
    Probe("read a stack's template", "cloudformation:GetTemplate", "app-stack", C.VIEW, data=True),
    Probe("read a stack's template summary", "cloudformation:GetTemplateSummary", "app-stack", C.VIEW, data=True),
    Probe("read a change set", "cloudformation:DescribeChangeSet", "app-stack", C.VIEW, data=True),
)


# Every way a build is started, retried or reconfigured to run other code as its project's role,
# and every per-build override of StartBuild (CodeBuild API reference, StartBuild): refused to every
# persona but the Project Administrator. Only the buildspec has a condition key (and only for Null),
# so the Deny names the actions: each case holds whatever the request carries.
BUILD_OVERRIDES = (
    ("buildspecOverride", "buildspec"),
    ("sourceVersion: another branch or commit, no condition key", ""),
    ("sourceVersion pr/<n>: a fork's pull request", ""),
    ("sourceLocationOverride and sourceTypeOverride: another source", ""),
    ("secondarySourcesOverride and secondarySourcesVersionOverride", ""),
    ("imageOverride: another image", ""),
    ("environmentVariablesOverride: other variables", ""),
    ("serviceRoleOverride: another role", ""),
    ("gitSubmodulesConfigOverride and insecureSslOverride", ""),
)


BUILD_ACTIONS = (
    ("codebuild:StartBuildBatch", "build-project", "start a build batch"),
    ("codebuild:RetryBuild", "build-project", "retry a build with its overrides"),
    ("codebuild:RetryBuildBatch", "build-project", "retry a build batch"),
    ("codebuild:UpdateProject", "build-project", "change a project's source, buildspec or role"),
    ("codebuild:CreateProject", "build-project", "create a project with a role of the environment"),
    ("codebuild:CreateWebhook", "build-project", "let a fork's pull requests start builds"),
    ("codebuild:UpdateWebhook", "build-project", "widen which events start builds"),
    ("codebuild:UpdateProjectVisibility", "build-project", "make build results public"),
    ("codebuild:ImportSourceCredentials", "any", "swap the account's source credentials"),
)


def build_cases(env: str, persona: str, mfa: str) -> list[Case]:
    """``persona`` of ``env`` (not the Project Administrator) starts no build in any way (``BUILD_*``)."""
    cases = []
    for override, flag in BUILD_OVERRIDES:
        context = ",".join(filter(None, [mfa, flag]))
        why = f"run other code as a build's role ({override})"
        cases.append(Case(persona, env, "codebuild:StartBuild", "build-project", env, "deny", context, why))
    for action, resource, why in BUILD_ACTIONS:
        cases.append(Case(persona, env, action, resource, env, "deny", mfa, why))
    return cases


# Denied to every persona, the Project Administrator included: the Guard policy keeps "full"
# inside the environment, which is what holds where environments share an account.
SELF = "self"  # the persona's own role


GUARD_PROBES = (
    Probe("shed the guard policy", "iam:DetachRolePolicy", SELF, C.ADMINISTER),
    Probe("add to its own role's permissions", "iam:PutRolePolicy", SELF, C.ADMINISTER),
    Probe("change its own role's trust", "iam:UpdateAssumeRolePolicy", SELF, C.ADMINISTER),
    Probe("rewrite a persona policy", "iam:CreatePolicyVersion", "persona-policy", C.ADMINISTER),
    Probe("create a role without the boundary", "iam:CreateRole", "new-role", C.ADMINISTER),
    # The request carries the boundary in place (iam:PermissionsBoundary), its own environment's.
    Probe("drop a role's boundary", "iam:DeleteRolePermissionsBoundary", "new-role", C.ADMINISTER, context="boundary"),
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
    Probe("tag a resource as another project's", "lambda:TagResource", "function", C.ADMINISTER, context="reproject"),
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
    # Every function's variables, another project's in the same account too.
    Probe("list every function's variables", "lambda:ListFunctions", "any", C.ADMINISTER),
    Probe(
        "read another project's function variables", "lambda:GetFunctionConfiguration", "peer-function", C.ADMINISTER
    ),
    Probe("read another project's stack events", "cloudformation:DescribeStackEvents", "peer-app-stack", C.ADMINISTER),
    Probe("read another project's build variables", "codebuild:BatchGetProjects", "peer-build-project", C.ADMINISTER),
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


def reaching(env: str, names: list[str], probes: tuple, offset: int, accounts: dict[str, str] | None = None) -> list:
    """``(probe, other)`` pairs from ``env`` into the other environments: every probe once, and every
    other environment at least once. The probes rotate over the others (from ``offset``, so that
    each principal lands a probe in a different environment): ``max(probes, others)`` cases, not
    ``probes x others``. The generated attacker's matrix does the same.

    With ``accounts`` (environment -> account), the others in ``env``'s own account and those in
    other accounts are two rotations: every probe lands in each group there is, because within
    one account only the policies deny, while across accounts the account boundary denies too."""
    accounts = accounts or {}
    home = accounts.get(env)
    others = [name for name in names if name != env]
    groups = ([n for n in others if accounts.get(n) == home], [n for n in others if accounts.get(n) != home])
    return [
        (probes[i % len(probes)], group[(i + offset) % len(group)])
        for group in groups
        if group
        for i in range(max(len(probes), len(group)))
    ]


def _environments(environments: Iterable[tuple[str, ...]]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``(name, tier)`` pairs and the account of each name, from ``(name, tier[, account])``."""
    envs, accounts = [], {}
    for name, tier, *account in environments:
        envs.append((str(name), str(tier)))
        if account:
            accounts[str(name)] = str(account[0])
    return envs, accounts


# --- each environment's own data store ([data] stores): what each data rule allows (personas.DataAccess)
NEEDS = {
    "inspect": lambda d: d is not DataAccess.NONE,
    "read": lambda d: d.reads,
    "write": lambda d: d.writes,
    "manage": lambda d: d.manages,
}


# (why, action, resource, what the data rule must allow, context); table probes, then the bucket's.
TABLE_PROBES = (
    ("describe the table", "dynamodb:DescribeTable", "table", "inspect", ""),
    ("query the table", "dynamodb:Query", "table", "read", ""),
    ("scan the table", "dynamodb:Scan", "table", "read", ""),
    ("read the table's stream", "dynamodb:GetRecords", "table-stream", "read", ""),
    ("use the data key to read items", "kms:Decrypt", "data-key", "read", "via-dynamodb"),
    ("write an item", "dynamodb:PutItem", "table", "write", ""),
    ("back up the table", "dynamodb:CreateBackup", "table", "manage", ""),
    ("restore a backup", "dynamodb:RestoreTableFromBackup", "table-backup", "manage", ""),
    ("export the table to S3", "dynamodb:ExportTableToPointInTime", "table", "manage", ""),
)


BUCKET_PROBES = (("use the data key to read objects", "kms:Decrypt", "data-key", "read", "via-s3"),)


# Another environment's data, by every principal but the transfer pair (``reaching``, as CROSS_ENVIRONMENT_PROBES).
CROSS_ENVIRONMENT_DATA_PROBES = (
    Probe("read another environment's items", "dynamodb:GetItem", "table", C.ADMINISTER),
    Probe("scan another environment's table", "dynamodb:Scan", "table", C.ADMINISTER),
    Probe("export another environment's table", "dynamodb:ExportTableToPointInTime", "table", C.ADMINISTER),
    Probe("use another environment's data key", "kms:Decrypt", "data-key", C.ADMINISTER, context="via-dynamodb"),
)


def store_probes(stores: str) -> tuple:
    """The data probes of a project whose environments keep ``stores`` (``settings.DATA_STORES``)."""
    table = TABLE_PROBES if stores in ("table", "both") else ()
    bucket = BUCKET_PROBES if stores in ("bucket", "both") else ()
    return table + bucket


def data_cases(env: str, tier: str, persona: str, mfa: str, stores: str) -> list[Case]:
    """``persona`` of ``env`` against its own store, as its data rule says."""
    rule = grant(tier, persona).data
    cases = []
    for why, action, resource, needs, context in store_probes(stores):
        allowed = NEEDS[needs](rule)
        flags = ",".join(filter(None, [mfa, context]))
        cases.append(Case(persona, env, action, resource, env, _expect(allowed), flags, f"{why} ({rule.value} data)"))
    return cases


def persona_cases(environments: Iterable[tuple[str, ...]], stores: str = "none") -> list[Case]:
    """Every persona x environment x probe, its assumption, and writes into the other environments
    (``(name, tier[, account])`` each: with accounts, into those of its own account and the others);
    with data ``stores``, each persona's data rule on its own store and no other environment's data."""
    envs, accounts = _environments(environments)
    data = stores != "none"
    cross = CROSS_ENVIRONMENT_PROBES + (CROSS_ENVIRONMENT_DATA_PROBES if stores in ("table", "both") else ())
    names = [name for name, _ in envs]
    cases: list[Case] = []
    for env_index, (env, tier) in enumerate(envs):
        for persona_index, persona in enumerate(PERSONAS):
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
                if data and probe.store:
                    allowed = NEEDS[probe.store](g.data) and g.access.grants_anything
                context = ",".join(filter(None, [mfa, probe.context]))
                cases.append(
                    Case(persona, env, probe.action, probe.resource, env, _expect(allowed), context, probe.why)
                )
            if g.access.no_data:
                for probe in NO_DATA_PROBES:
                    context = ",".join(filter(None, [mfa, probe.context]))
                    cases.append(Case(persona, env, probe.action, probe.resource, env, "deny", context, probe.why))
            if C.ADMINISTER not in caps:
                cases += build_cases(env, persona, mfa)
            for probe in GUARD_PROBES:
                context = ",".join(filter(None, [mfa, probe.context]))
                resource = persona if probe.resource == SELF else probe.resource
                cases.append(Case(persona, env, probe.action, resource, env, "deny", context, probe.why))
            if data:
                cases += data_cases(env, tier, persona, mfa, stores)
            for probe, other in reaching(env, names, cross, env_index + persona_index, accounts):
                context = ",".join(filter(None, [mfa, probe.context]))
                cases.append(Case(persona, env, probe.action, probe.resource, other, "deny", context, probe.why))
    return cases + sign_in_cases(envs)


def sign_in_cases(envs: list[tuple[str, str]]) -> list[Case]:
    """Whoever signs in for a lower environment assumes no production persona role, with MFA and all:
    every lower environment's sign-in, as each persona, against every production environment's
    role of that persona (its own environment's is the "assume the role" case)."""
    production = [name for name, tier in envs if tier == "production"]
    cases = []
    for env, tier in envs:
        if tier == "production":
            continue
        for persona in PERSONAS:
            for target in production:
                g = grant("production", persona)
                if not g.access.grants_anything:
                    continue
                why = "sign in to a lower environment, assume production's role"
                cases.append(
                    Case("identity", env, "sts:AssumeRole", persona, target, "deny", "mfa" if g.mfa else "", why)
                )
    return cases


def platform_cases(env_names: Iterable[str]) -> list[Case]:
    """Every deployer x every environment's artifacts and secrets, every CI role x every Deployer Role.

    Every pair, not a rotation (``reaching``): the DevOps account's bucket and secret policies and
    the Deployer Roles' trusts map each environment to its principals one by one, so a mistake in
    one pair is seen only by that pair's case."""
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
        cases += drift_cases(env, names[(names.index(env) + 1) % len(names)])
    return cases


# What the drift reader may do in its environment (detect drift, read what detection reads) and
# what it must not (change anything, read data, chain on): the drift workflow reaches it without
# the environment's GitHub approval.
DRIFT_READER_PROBES = (
    ("cloudformation:DetectStackDrift", "app-stack", "allow", "detect drift of the app"),
    ("cloudformation:DetectStackDrift", "bootstrap-stack", "allow", "detect drift of the bootstrap"),
    ("cloudformation:DescribeStackResourceDrifts", "personas-stack", "allow", "read the personas' drift"),
    ("iam:GetRole", "deployer-role", "allow", "read a role, as detection does"),
    ("lambda:GetFunction", "function", "allow", "read a function, as detection does"),
    ("cloudformation:UpdateStack", "app-stack", "deny", "change a stack"),
    ("cloudformation:DeleteStack", "bootstrap-stack", "deny", "delete a stack"),
    ("lambda:UpdateFunctionCode", "function", "deny", "change the code"),
    ("lambda:InvokeFunction", "function", "deny", "run the function"),
    ("s3:GetObject", "data-object", "deny", "read data"),
    ("dynamodb:GetItem", "table", "deny", "read data"),
    ("secretsmanager:GetSecretValue", "secret", "deny", "read a secret"),
    ("ssm:GetParameter", "parameter", "deny", "read a parameter"),
    ("logs:FilterLogEvents", "log-group", "deny", "read log events"),
    ("iam:PutRolePolicy", "drift-reader-role", "deny", "widen itself"),
    ("iam:PassRole", "cfn-exec-role", "deny", "pass the execution role"),
    ("sts:AssumeRole", "deployer-role", "deny", "chain to the Deployer Role"),
)


def drift_cases(env: str, other: str) -> list[Case]:
    """The drift role (one, in the DevOps account) and ``env``'s drift reader; ``other`` is another environment."""
    cases = [
        Case("drift", env, "sts:AssumeRole", "drift-reader-role", env, "allow", "", "chain to a drift reader"),
        Case("drift", env, "sts:AssumeRole", "deployer-role", env, "deny", "", "the drift role is no deployer"),
        Case("ci", env, "sts:AssumeRole", "drift-reader-role", env, "deny", "", "only the drift role reads drift"),
        Case("outsider", env, "sts:AssumeRole", "drift-reader-role", env, "deny", "", "assume as another DevOps role"),
    ]
    cases += [Case("drift-reader", env, a, r, env, expect, "", why) for a, r, expect, why in DRIFT_READER_PROBES]
    if other != env:
        detect = "cloudformation:DetectStackDrift"
        cases.append(Case("drift-reader", env, detect, "app-stack", other, "deny", "", "another's drift"))
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


PLATFORM_ROLES = (*PERSONAS, "deployer-role", "cfn-exec-role", "ci-role", "drift-reader-role")


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
    # None of them sheds the boundary, its own role's or another's, the request naming the boundary in place.
    for principal in ("cfn-exec", "bounded-role", "deployer"):
        for target in ("new-role", "deployer-role"):
            action = "iam:DeleteRolePermissionsBoundary"
            cases.append(Case(principal, env, action, target, env, "deny", "boundary", "drop a role's boundary"))
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
# environment's function and stacks, and is refused on the other environments' (``reaching``).
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


def release_cases(env_names: Iterable[str], accounts: dict[str, str] | None = None) -> list[Case]:
    names = [str(n) for n in env_names]
    cases = []
    for index, env in enumerate(names):
        cases += [Case("deployer", env, a, r, env, "allow", "", why) for a, r, why in RELEASE_OWN_ENVIRONMENT_ONLY]
        for (action, resource, why), other in reaching(env, names, RELEASE_OWN_ENVIRONMENT_ONLY, index, accounts):
            cases.append(Case("deployer", env, action, resource, other, "deny", "", why))
        cases += [
            Case("deployer", env, action, resource, env, "deny", "", why) for action, resource, why in RELEASE_NEVER
        ]
    return cases


# The function role of an environment (``<slug>--<env>-app-role``) as a case's principal.
APP_ROLE = "app-role"
# A case's resource ``config:<key>``: the secret or parameter ``[secrets.<key>]`` of resource_env's
# configuration names, in that environment's account; ``peer-config:<key>``: the same name in another
# project of the same account, slugged ``<slug>-<env>-x`` (the project a single-hyphen prefix
# ``<slug>-<env>-`` would take in; neither ``<slug>--<env>-`` nor the path ``<slug>/<env>/`` does).
CONFIGURED = "config:"
PEER_CONFIGURED = "peer-config:"
READ_ACTION = {"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameter"}
WHAT = {"secretsmanager": "secret", "ssm": "parameter"}


def secret_cases(references: Mapping[str, Iterable[tuple[str, str]]]) -> list[Case]:
    """Each environment's function role reads every secret and parameter its own configuration
    references, and none another environment's configuration references, nor another project's.

    ``references``: environment -> ``(key, store)`` of each ``[secrets.<key>]`` of its configuration.
    Every pair of environments, not a rotation: the fence is a name pattern per environment, and
    where environments share an account only that pattern (and the boundary) tells them apart."""
    refs = {env: sorted(keys) for env, keys in references.items()}
    cases = []
    for env in refs:
        for target, keys in refs.items():
            for key, store in keys:
                action, what = READ_ACTION[store], WHAT[store]
                why = f"read its own {what}" if target == env else f"read another environment's {what}"
                expect = _expect(target == env)
                cases.append(Case(APP_ROLE, env, action, f"{CONFIGURED}{key}", target, expect, "", why))
        for key, store in refs[env]:
            action, what = READ_ACTION[store], WHAT[store]
            why = f"read another project's {what}"
            cases.append(Case(APP_ROLE, env, action, f"{PEER_CONFIGURED}{key}", env, "deny", "", why))
    return cases


def function_data_cases(names: list[str], stores: str) -> list[Case]:
    """Each environment's function writes and reads its own store, with its own key, and no other
    environment's: every pair, as ``secret_cases`` (the key's policy is the fence where accounts are shared)."""
    probes = []
    if stores in ("table", "both"):
        probes += [
            ("dynamodb:GetItem", "table", ""),
            ("dynamodb:PutItem", "table", ""),
            ("kms:Decrypt", "data-key", "via-dynamodb"),
        ]
    if stores in ("bucket", "both"):
        probes += [("s3:GetObject", "data-object", ""), ("s3:PutObject", "data-object", "")]
    probes += [("kms:GenerateDataKey", "data-key", "via-s3")] if stores in ("bucket", "both") else []
    cases = []
    for env in names:
        for target in names:
            whose = "its own" if target == env else "another environment's"
            for action, resource, context in probes:
                why = f"{action.split(':')[1]} on {whose} store"
                cases.append(Case(APP_ROLE, env, action, resource, target, _expect(target == env), context, why))
    return cases


# What no platform principal does with an environment's data: only its function and its personas (by
# their data rules) touch it, and only the transfer pair carries it to another environment.
PLATFORM_DATA_PROBES = (
    ("dynamodb:GetItem", "table", "", "read an item"),
    ("dynamodb:Scan", "table", "", "scan the table"),
    ("kms:Decrypt", "data-key", "via-dynamodb", "use the data key"),
)


def transfer_cases(envs: list[tuple[str, str]], stores: str) -> list[Case]:
    """The export/import pair of the masked production subset, the only cross-environment data path:
    who assumes each, what each may do, and every way out of it (toward production, sandbox or
    development, another target's copy, reading what it only writes)."""
    if stores not in ("table", "both"):
        return []
    production = [name for name, tier in envs if tier == "production"]
    targets = [name for name, tier in envs if tier in SUBSET_TARGET_TIERS]
    others = [name for name, tier in envs if tier not in SUBSET_TARGET_TIERS and tier != "production"]
    if not production or not targets:
        return []
    tiers = dict(envs)
    cases = []
    for prod in production:
        for persona in PERSONAS:
            g = grant("production", persona)
            allowed = persona in subset_runners("production")
            why = "run the copy's production half" if allowed else "assume the export role (it scans production)"
            cases.append(
                Case(
                    persona,
                    prod,
                    "sts:AssumeRole",
                    "data-export-role",
                    prod,
                    _expect(allowed),
                    "mfa" if g.mfa else "",
                    why,
                )
            )
        cases += [
            Case("data-export", prod, "dynamodb:Scan", "table", prod, "allow", "", "scan production for a sample"),
            Case(
                "data-export", prod, "kms:Decrypt", "data-key", prod, "allow", "via-dynamodb", "read production's items"
            ),
            Case("data-export", prod, "dynamodb:PutItem", "table", prod, "deny", "", "write production"),
            Case(
                "data-export", prod, "dynamodb:ExportTableToPointInTime", "table", prod, "deny", "", "export unmasked"
            ),
            Case("data-export", prod, "s3:GetObject", "data-object", prod, "deny", "", "read production's objects"),
        ]
        for target in targets:
            cases += [
                Case("data-export", prod, "s3:PutObject", "xfer-object", target, "allow", "", "write a masked copy"),
                Case("data-export", prod, "kms:GenerateDataKey", "data-key", target, "allow", "via-s3", "encrypt it"),
                Case("data-export", prod, "s3:GetObject", "xfer-object", target, "deny", "", "read a copy back"),
                Case("data-export", prod, "dynamodb:PutItem", "table", target, "deny", "", "write a target's table"),
                Case("data-export", prod, "dynamodb:Scan", "table", target, "deny", "", "read a non-production store"),
            ]
        for other in others:
            cases += [
                Case("data-export", prod, "s3:PutObject", "xfer-object", other, "deny", "", f"copy to {tiers[other]}"),
                Case("data-export", prod, "dynamodb:Scan", "table", other, "deny", "", "read a non-production store"),
            ]
    for target in targets:
        runners = subset_runners(tiers[target])
        for persona in PERSONAS:
            g = grant(tiers[target], persona)
            allowed = persona in runners
            why = "run the copy's import" if allowed else "assume the import role"
            cases.append(
                Case(
                    persona,
                    target,
                    "sts:AssumeRole",
                    "data-import-role",
                    target,
                    _expect(allowed),
                    "mfa" if g.mfa else "",
                    why,
                )
            )
        cases += [
            Case(
                PERSONAS[0],
                production[0],
                "sts:AssumeRole",
                "data-import-role",
                target,
                "deny",
                "mfa",
                "another environment's import role",
            ),
            Case("data-import", target, "s3:GetObject", "xfer-object", target, "allow", "", "read the masked copy"),
            Case("data-import", target, "kms:Decrypt", "data-key", target, "allow", "via-s3", "decrypt the copy"),
            Case("data-import", target, "dynamodb:PutItem", "table", target, "allow", "", "write the copy"),
            Case("data-import", target, "dynamodb:Scan", "table", target, "deny", "", "read the table it fills"),
            Case("data-import", target, "dynamodb:GetItem", "table", target, "deny", "", "read the table it fills"),
            Case(
                "data-import",
                target,
                "sts:AssumeRole",
                "data-export-role",
                production[0],
                "deny",
                "",
                "chain to the export role",
            ),
        ]
        for prod in production:
            cases.append(Case("data-import", target, "dynamodb:PutItem", "table", prod, "deny", "", "write production"))
            cases.append(Case("data-import", target, "dynamodb:Scan", "table", prod, "deny", "", "read production"))
        for name, _ in envs:
            if name not in (target, *production):
                cases.append(
                    Case(
                        "data-import",
                        target,
                        "dynamodb:PutItem",
                        "table",
                        name,
                        "deny",
                        "",
                        "write another environment",
                    )
                )
                if name in targets:
                    cases.append(
                        Case(
                            "data-import",
                            target,
                            "s3:GetObject",
                            "xfer-object",
                            name,
                            "deny",
                            "",
                            "read another target's copy",
                        )
                    )
    return cases


def platform_data_cases(names: list[str], stores: str) -> list[Case]:
    """CI, the Deployer Role, the execution role and the drift reader read no environment's data, and
    the pipeline never changes the data stack (the administrator's)."""
    if stores not in ("table", "both"):
        return []
    cases = []
    for env in names:
        for principal in ("ci", "deployer", "cfn-exec", "drift-reader"):
            for action, resource, context, why in PLATFORM_DATA_PROBES:
                cases.append(Case(principal, env, action, resource, env, "deny", context, why))
        for action in ("cloudformation:UpdateStack", "cloudformation:DeleteStack", "cloudformation:CreateChangeSet"):
            why = f"{action.split(':')[1]} on the data stack (the administrator's)"
            cases.append(Case("deployer", env, action, "data-stack", env, "deny", "cfn-role", why))
    return cases


def data_cases_of(envs: list[tuple[str, str]], stores: str) -> list[Case]:
    """Every generated data case beside the personas' own: the functions, the transfer pair, the platform."""
    if stores == "none":
        return []
    names = [name for name, _ in envs]
    return function_data_cases(names, stores) + transfer_cases(envs, stores) + platform_data_cases(names, stores)


def default_cases(
    environments: Iterable[tuple[str, ...]],
    references: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    stores: str = "none",
) -> list[Case]:
    """The generated rows, from each environment's ``(name, tier, account)``, the ``(key, store)``
    of each secret its configuration references (``secret_cases``) and the project's data
    ``stores`` (``[data] stores``: none gives no data case)."""
    given = list(environments)
    envs, accounts = _environments(given)
    names = [name for name, _ in envs]
    cases = persona_cases(given, stores) + platform_cases(names) + release_cases(names, accounts)
    return cases + secret_cases(references or {}) + data_cases_of(envs, stores)


# Where the access matrix's cases live in a repository.
GENERATED_CASES_FILE = "access/generated-cases.csv"
TEAM_CASES_FILE = "access/cases.csv"

CASES_HEADER = """\
# The access matrix's generated cases: every row is one request and the decision it must get.
# `make check-access` simulates each one against the rendered policies of infra/, with the team's
# own rows of access/cases.csv (whose header explains the columns) and, for every [secrets.<key>]
# of config/<env>.toml, the function roles' reads (own allowed, every other environment's and
# another project's denied).
"""


def render_cases(cases: Iterable[Case]) -> str:
    """The text of ``access/generated-cases.csv`` (``multienv synth`` puts its header above)."""
    out = io.StringIO()
    out.write(CASES_HEADER)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CASE_FIELDS)
    for case in cases:
        writer.writerow(case.row())
    return out.getvalue()
