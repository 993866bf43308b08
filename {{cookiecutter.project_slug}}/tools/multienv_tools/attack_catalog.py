"""The attacker's matrix: escalation and isolation-breaking techniques, expanded into cases.

``access/cases.csv`` holds the designed cases: what each persona and platform role must and
must not do. This module adds cases nobody picks by hand. ``TECHNIQUES`` is a catalog of
ways to gain power or leave an environment (pass a stronger role to a service, rewrite a
policy, mint credentials, reuse a stack's role, run code on someone's instance, rewrite a
key or resource policy, retag to dodge a tag Deny, change an account-wide setting);
``attack_cases`` applies every technique that fits to every target a principal must not
reach, for every principal these templates create:

- each persona role, the Deployer Role, the CloudFormation execution role, the CI role, the
  application's function role and any role created under the permissions boundary;
- against every other environment's roles and resources, the DevOps account's platform,
  the platform roles and stacks of its own environment, account-wide settings, and the
  roles and resources of a second project generated from this template into the same
  accounts (``PEER``).

Every generated case expects a Deny. Principals, targets and names come from
``multienv.toml`` (``settings.py``), ``naming.py``, ``stack_specs`` and the rendered
templates: nothing here retypes a name. ``make check-access`` simulates them together with
the designed cases and prints how many of each kind there are.

A case this template does not close yet is listed in ``KNOWN_OPEN`` with the reason; it is
reported on every run, and an entry that no longer matches an allowed case is an error.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from multienv.naming import APP_STACK, BOOTSTRAP_STACK, DEVOPS, DEVOPS_STACK, PERSONAS_STACK, Naming
from multienv.settings import Settings

from .personas import IDENTITY, PERSONAS, Capability, Case, grant, policy_name

# The second project generated into the same accounts: ``<slug>-<PEER>``. It extends this
# project's slug with a hyphen on purpose, the closest a legitimate neighbour can get.
PEER = "peer"
ENV_TAG = "env"

# Target kinds.
ROLE = "role"
POLICY = "policy"
FUNCTION = "function"
BUCKET = "bucket"
OBJECT = "object"
QUEUE = "queue"
TOPIC = "topic"
SECRET = "secret"  # noqa: S105 - a kind of target, not a password
KEY = "key"
REPOSITORY = "repository"
STACK = "stack"
PROJECT = "build-project"
INSTANCE = "instance"
ACCOUNT = "account"  # an account-wide setting: the technique names its own resource
USER = "user"
OIDC = "oidc-provider"

# Scopes: why a target is out of a principal's reach.
OTHER_ENV = "other-environment"
DEVOPS_PLATFORM = "devops-platform"
OWN_PLATFORM = "own-platform"
ACCOUNT_WIDE = "account-settings"
PEER_PROJECT = "peer-project"
SCOPES = (OTHER_ENV, DEVOPS_PLATFORM, OWN_PLATFORM, ACCOUNT_WIDE, PEER_PROJECT)

PASSROLE_SERVICES = (
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "cloudformation.amazonaws.com",
    "codebuild.amazonaws.com",
    "glue.amazonaws.com",
    "sagemaker.amazonaws.com",
    "states.amazonaws.com",
)


@dataclass(frozen=True)
class Technique:
    """One way to gain power or leave an environment: an action on a kind of target."""

    key: str
    action: str
    target: str
    why: str
    # Request context beyond the principal's: values may name "{env}" (the principal's
    # environment) or "{target_env}" (the target's), filled in per case.
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    # For ACCOUNT techniques: the resource, "*" or an ARN with {p}, {region}, {account}.
    resource: str = "*"


def _passrole(service: str) -> Technique:
    name = service.split(".")[0]
    return Technique(
        f"passrole-{name}",
        "iam:PassRole",
        ROLE,
        f"pass a stronger role to {name}",
        {"iam:PassedToService": service},
    )


TAG_DODGE = {"aws:TagKeys": (ENV_TAG,), f"aws:RequestTag/{ENV_TAG}": "{env}"}
TECHNIQUES: tuple[Technique, ...] = (
    *(_passrole(s) for s in PASSROLE_SERVICES),
    Technique("assume", "sts:AssumeRole", ROLE, "assume a role"),
    Technique("put-role-policy", "iam:PutRolePolicy", ROLE, "write an inline policy on a role"),
    Technique("attach-role-policy", "iam:AttachRolePolicy", ROLE, "attach a policy to a role"),
    Technique("update-trust", "iam:UpdateAssumeRolePolicy", ROLE, "rewrite a role's trust"),
    Technique("put-boundary", "iam:PutRolePermissionsBoundary", ROLE, "swap a role's boundary"),
    Technique("delete-boundary", "iam:DeleteRolePermissionsBoundary", ROLE, "drop a role's boundary"),
    Technique("untag-role", "iam:UntagRole", ROLE, "untag a role to dodge a tag Deny", {"aws:TagKeys": (ENV_TAG,)}),
    Technique("tag-role", "iam:TagRole", ROLE, "retag a role to dodge a tag Deny", TAG_DODGE),
    Technique("create-policy-version", "iam:CreatePolicyVersion", POLICY, "rewrite a managed policy"),
    Technique("set-default-version", "iam:SetDefaultPolicyVersion", POLICY, "roll a policy back to a wider version"),
    Technique("update-code", "lambda:UpdateFunctionCode", FUNCTION, "run code as the function's role"),
    Technique(
        "update-configuration",
        "lambda:UpdateFunctionConfiguration",
        FUNCTION,
        "swap a function's role or layers",
    ),
    Technique("function-policy", "lambda:AddPermission", FUNCTION, "let another account invoke a function"),
    Technique(
        "untag-function",
        "lambda:UntagResource",
        FUNCTION,
        "untag a function to dodge a tag Deny",
        {"aws:TagKeys": (ENV_TAG,)},
    ),
    Technique("tag-function", "lambda:TagResource", FUNCTION, "retag a function to dodge a tag Deny", TAG_DODGE),
    Technique("bucket-policy", "s3:PutBucketPolicy", BUCKET, "rewrite a bucket policy"),
    Technique("delete-bucket-policy", "s3:DeleteBucketPolicy", BUCKET, "drop a bucket policy's Denies"),
    Technique("read-object", "s3:GetObject", OBJECT, "read data"),
    Technique("write-object", "s3:PutObject", OBJECT, "plant data or code"),
    Technique("queue-policy", "sqs:SetQueueAttributes", QUEUE, "rewrite a queue policy"),
    Technique("queue-permission", "sqs:AddPermission", QUEUE, "grant a queue to another account"),
    Technique("topic-policy", "sns:SetTopicAttributes", TOPIC, "rewrite a topic policy"),
    Technique("topic-permission", "sns:AddPermission", TOPIC, "grant a topic to another account"),
    Technique("secret-policy", "secretsmanager:PutResourcePolicy", SECRET, "rewrite a secret's policy"),
    Technique("secret-read", "secretsmanager:GetSecretValue", SECRET, "read a secret"),
    Technique("secret-write", "secretsmanager:PutSecretValue", SECRET, "overwrite a secret"),
    Technique("key-policy", "kms:PutKeyPolicy", KEY, "rewrite a key policy"),
    Technique("key-grant", "kms:CreateGrant", KEY, "grant oneself a key"),
    Technique("key-deletion", "kms:ScheduleKeyDeletion", KEY, "destroy a key and what it encrypts"),
    Technique("untag-key", "kms:UntagResource", KEY, "untag a key to dodge a tag Deny", {"aws:TagKeys": (ENV_TAG,)}),
    Technique("repository-policy", "ecr:SetRepositoryPolicy", REPOSITORY, "rewrite an image repository's policy"),
    Technique("push-image", "ecr:PutImage", REPOSITORY, "plant an image"),
    Technique(
        "update-stack",
        "cloudformation:UpdateStack",
        STACK,
        "reuse a stack's role to deploy anything",
        {"cloudformation:RoleArn": "{stack_role}"},
    ),
    Technique(
        "execute-change-set",
        "cloudformation:ExecuteChangeSet",
        STACK,
        "run a change set with the stack's role",
    ),
    Technique("delete-stack", "cloudformation:DeleteStack", STACK, "delete a stack"),
    Technique("start-build", "codebuild:StartBuild", PROJECT, "run a build with a buildspec override"),
    Technique("update-project", "codebuild:UpdateProject", PROJECT, "change a build project's role or buildspec"),
    Technique("send-command", "ssm:SendCommand", INSTANCE, "run commands on an instance"),
    Technique("start-session", "ssm:StartSession", INSTANCE, "open a shell on an instance"),
    Technique("oidc-client", "iam:AddClientIDToOpenIDConnectProvider", OIDC, "widen the OIDC audience"),
    Technique("oidc-thumbprint", "iam:UpdateOpenIDConnectProviderThumbprint", OIDC, "trust another OIDC issuer"),
    # Credentials of people and machines outside the naming scheme.
    Technique("access-key", "iam:CreateAccessKey", USER, "mint an access key for a user"),
    Technique("login-profile", "iam:CreateLoginProfile", USER, "give a user a console password"),
    Technique("update-login-profile", "iam:UpdateLoginProfile", USER, "reset a user's console password"),
    Technique("deactivate-mfa", "iam:DeactivateMFADevice", USER, "remove a user's MFA"),
    Technique("service-credential", "iam:CreateServiceSpecificCredential", USER, "mint a service credential"),
    Technique("ssh-key", "iam:UploadSSHPublicKey", USER, "add an SSH key to a user"),
    Technique("user-policy", "iam:PutUserPolicy", USER, "write an inline policy on a user"),
    Technique("join-group", "iam:AddUserToGroup", USER, "add a user to a stronger group", resource="group"),
    Technique("attach-user-policy", "iam:AttachUserPolicy", USER, "attach a policy to a user"),
    Technique("group-policy", "iam:PutGroupPolicy", USER, "write an inline policy on a group", resource="group"),
    Technique("attach-group-policy", "iam:AttachGroupPolicy", USER, "attach a policy to a group", resource="group"),
    # Settings that act on the whole account: in a shared account, no environment owns them.
    Technique("account-log-policy", "logs:PutAccountPolicy", ACCOUNT, "set the account's log policies"),
    Technique("register-type", "cloudformation:RegisterType", ACCOUNT, "register a CloudFormation extension"),
    Technique(
        "activate-type",
        "cloudformation:ActivateType",
        ACCOUNT,
        "activate a third-party extension",
    ),
    Technique(
        "type-configuration",
        "cloudformation:SetTypeConfiguration",
        ACCOUNT,
        "configure an extension account-wide",
    ),
    Technique("stop-recorder", "config:StopConfigurationRecorder", ACCOUNT, "stop AWS Config"),
    Technique("delete-recorder", "config:DeleteConfigurationRecorder", ACCOUNT, "delete AWS Config's recorder"),
    Technique(
        "stop-trail",
        "cloudtrail:StopLogging",
        ACCOUNT,
        "stop the audit trail",
        resource="arn:{p}:cloudtrail:{region}:{account}:trail/audit",
    ),
    Technique(
        "delete-trail",
        "cloudtrail:DeleteTrail",
        ACCOUNT,
        "delete the audit trail",
        resource="arn:{p}:cloudtrail:{region}:{account}:trail/audit",
    ),
    Technique("public-access-block", "s3:PutAccountPublicAccessBlock", ACCOUNT, "lift the account's S3 block"),
    Technique("password-policy", "iam:UpdateAccountPasswordPolicy", ACCOUNT, "weaken the password policy"),
    Technique("account-alias", "iam:CreateAccountAlias", ACCOUNT, "rename the account"),
    Technique("ebs-encryption", "ec2:DisableEbsEncryptionByDefault", ACCOUNT, "turn off default EBS encryption"),
    Technique(
        "delete-detector",
        "guardduty:DeleteDetector",
        ACCOUNT,
        "turn off GuardDuty",
        resource="arn:{p}:guardduty:{region}:{account}:detector/0123456789abcdef0123456789abcdef",
    ),
    Technique("leave-organization", "organizations:LeaveOrganization", ACCOUNT, "leave the organization"),
)
BY_KEY = {t.key: t for t in TECHNIQUES}


@dataclass(frozen=True)
class Target:
    """Something a principal must not reach: its kind, ARN, owning account and why it is out of reach."""

    scope: str
    kind: str
    label: str  # e.g. "prd deployer role", "peer dev function"
    arn: str
    account: str
    env: str = ""  # the environment it belongs to ("" for the DevOps account and account settings)
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    stack_role: str = ""  # for stacks: the role CloudFormation uses for it
    techniques: tuple[str, ...] | None = None  # None: every technique of the kind


@dataclass(frozen=True)
class Principal:
    """A role these templates create: how the access matrix names it, and where it lives."""

    symbol: str  # a persona, "deployer", "cfn-exec", "ci", "bounded-role" or a role ARN
    kind: str  # what docs/personas.md calls it
    env: str
    account: str
    arn: str
    administers: bool = False  # the Project Administrator of an environment whose access is "full"


@dataclass(frozen=True)
class Attack:
    """One generated case: a principal, a technique and a target; the answer must be a Deny."""

    principal: Principal
    technique: Technique
    target: Target

    @property
    def case(self) -> Case:
        why = f"{self.target.scope}: {self.technique.why} ({self.target.label})"
        # "any" is the access matrix's symbol for the resource "*" (account-wide actions).
        resource = "any" if self.target.arn == "*" else self.target.arn
        return Case(
            self.principal.symbol,
            self.principal.env,
            self.technique.action,
            resource,
            self.target.env or self.principal.env,
            "deny",
            "",
            why,
        )

    def context(self) -> dict[str, str | list[str]]:
        values = {"env": self.principal.env, "target_env": self.target.env, "stack_role": self.target.stack_role}
        out: dict[str, str | list[str]] = {}
        for key, value in {**self.target.context, **self.technique.context}.items():
            if isinstance(value, tuple):
                out[key] = [v.format(**values) for v in value]
            else:
                out[key] = value.format(**values)
        return out

    @property
    def label(self) -> str:
        p = self.principal
        return f"{p.kind} of {p.env}: {self.technique.key} on {self.target.label} ({self.target.scope})"


# --------------------------------------------------------------------------- known open


@dataclass(frozen=True)
class KnownOpen:
    """Generated cases the template does not close yet: glob patterns on the case's label, and why."""

    pattern: str
    reason: str
    strategies: tuple[str, ...] = ()  # empty: every strategy


ALL_STRATEGIES = ("full_isolation", "hybrid", "consolidated_nonprod", "single_account")
KNOWN_OPEN: tuple[KnownOpen, ...] = (
    KnownOpen(
        "project-admin of *: * on *-peer * key (peer-project)",
        "key administration is fenced by the env tag alone, and a second project tags its keys with the same"
        " environment names: the Project Administrator administers the other project's key of its environment",
        ALL_STRATEGIES,
    ),
    KnownOpen(
        "project-admin of *: * on *-peer * (peer-project)",
        "in an account of its own the Project Administrator's access is 'full', i.e. the account: a second"
        " project deployed into the same account is within its reach",
        ("full_isolation", "hybrid"),
    ),
    KnownOpen(
        "bounded-role of *: passrole-cloudformation on * execution role (own-platform)",
        "the boundary lets every role under it pass the execution role (the Deployer needs to); any role the"
        " pipeline creates can deploy a stack as the execution role (within the same boundary)",
        ALL_STRATEGIES,
    ),
)


def known_open(attack: Attack, strategy: str, entries: Iterable[KnownOpen] = KNOWN_OPEN) -> KnownOpen | None:
    for entry in entries:
        if entry.strategies and strategy not in entry.strategies:
            continue
        if fnmatch.fnmatchcase(attack.label, entry.pattern):
            return entry
    return None


# --------------------------------------------------------------------------- the world


@dataclass
class Layout:
    """Who lives where, from the settings: accounts, shared accounts, the peer project's names."""

    settings: Settings
    trusts: Mapping[str, dict]  # role ARN -> trust policy, from the rendered templates
    devops_key_arn: str = ""

    @property
    def naming(self) -> Naming:
        return self.settings.naming

    @property
    def peer(self) -> Naming:
        """A second project of this template in the same accounts, named ``<slug>-peer`` so that its
        names start with ours (the hardest case for a name fence). Where that would pass AWS's name
        limits, as the template would refuse it, the peer keeps our slug's length instead."""
        s, slug = self.settings, self.naming.slug
        envs = [e.name for e in s.environments]
        accounts = {e.name: e.account.id for e in s.environments}
        peer = Naming(f"{slug}-{PEER}", self.naming.region)
        if peer.too_long(envs, s.devops.id, accounts):
            peer = Naming(f"{slug[: len(slug) - len(PEER) - 1].rstrip('-')}-{PEER}", self.naming.region)
        return peer

    def shared(self, account_id: str) -> bool:
        """Whether an account holds more than one environment, or an environment and the DevOps platform."""
        homes = [e for e in self.settings.environments if e.account.id == account_id]
        return len(homes) + (self.settings.devops.id == account_id) > 1


def principals(layout: Layout) -> list[Principal]:
    """Every role these templates create, per environment (the CI roles live in the DevOps account)."""
    s, n = layout.settings, layout.naming
    devops = s.devops.id
    out: list[Principal] = []
    for env in s.environments:
        acct = env.account.id
        for persona in PERSONAS:
            g = grant(env.tier, persona)
            if g.access.grants_anything:
                out.append(
                    Principal(
                        persona,
                        persona,
                        env.name,
                        acct,
                        n.role_arn(acct, n.persona_role(env.name, persona)),
                        administers=Capability.ADMINISTER in g.access.capabilities,
                    )
                )
        out += [
            Principal("deployer", "deployer", env.name, acct, n.role_arn(acct, n.deployer_role(env.name))),
            Principal("cfn-exec", "cfn-exec", env.name, acct, n.role_arn(acct, n.cfn_execution_role(env.name))),
            Principal("ci", "ci", env.name, devops, n.role_arn(devops, n.ci_role(env.name))),
            Principal("bounded-role", "bounded-role", env.name, acct, n.role_arn(acct, n.name(env.name, "bounded"))),
        ]
        app = n.role_arn(acct, n.function_role(env.name))
        out.append(Principal(app, "app-role", env.name, acct, app))
    return out


def _trusts_service(trust: dict | None, service: str) -> bool:
    for statement in (trust or {}).get("Statement", []):
        services = (statement.get("Principal") or {}).get("Service", [])
        if statement.get("Effect") == "Allow" and service in ([services] if isinstance(services, str) else services):
            return True
    return False


def environment_targets(layout: Layout, naming: Naming, env: str, account: str, scope: str, tag: str) -> list[Target]:
    """The roles and resources of one environment of a project (``naming``) in ``account``."""
    s = layout.settings
    p, region = naming.partition, s.region
    tagged = {f"aws:ResourceTag/{ENV_TAG}": tag} if tag else {}
    who = f"{naming.slug} {env}"
    roles = [
        ("deployer role", naming.deployer_role(env)),
        ("execution role", naming.cfn_execution_role(env)),
        ("function role", naming.function_role(env)),
        *((f"{persona} role", naming.persona_role(env, persona)) for persona in PERSONAS),
    ]
    targets = [
        Target(scope, ROLE, f"{who} {label}", naming.role_arn(account, name), account, env, tagged)
        for label, name in roles
    ]
    targets.append(
        Target(scope, ROLE, f"{who} ci role", naming.role_arn(s.devops.id, naming.ci_role(env)), s.devops.id, env)
    )
    policies = [("boundary", naming.boundary_policy(env)), ("persona guard", policy_name(naming, env, "guard"))]
    targets += [
        Target(scope, POLICY, f"{who} {label}", naming.policy_arn(account, name), account, env)
        for label, name in policies
    ]
    bucket = naming.data_bucket(env, account)
    function = f"arn:{p}:lambda:{region}:{account}:function:{naming.function(env)}"
    targets += [
        Target(scope, FUNCTION, f"{who} function", function, account, env, tagged),
        Target(scope, BUCKET, f"{who} data bucket", f"arn:{p}:s3:::{bucket}", account, env),
        Target(scope, OBJECT, f"{who} data object", f"arn:{p}:s3:::{bucket}/example.json", account, env),
        Target(
            scope, QUEUE, f"{who} queue", f"arn:{p}:sqs:{region}:{account}:{naming.name(env, 'jobs')}", account, env
        ),
        Target(
            scope, TOPIC, f"{who} topic", f"arn:{p}:sns:{region}:{account}:{naming.name(env, 'events')}", account, env
        ),
        Target(
            scope,
            SECRET,
            f"{who} secret",
            f"arn:{p}:secretsmanager:{region}:{account}:secret:{naming.secret_name(env, 'app')}-AbCdEf",
            account,
            env,
        ),
        # Keys and instances have no names: only their env tag says whose they are.
        Target(
            scope,
            KEY,
            f"{who} key",
            f"arn:{p}:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000",
            account,
            env,
            {f"aws:ResourceTag/{ENV_TAG}": tag or env},
        ),
        Target(
            scope,
            INSTANCE,
            f"{who} instance",
            f"arn:{p}:ec2:{region}:{account}:instance/i-0123456789abcdef0",
            account,
            env,
            {f"aws:ResourceTag/{ENV_TAG}": tag or env},
        ),
        Target(
            scope,
            PROJECT,
            f"{who} build project",
            f"arn:{p}:codebuild:{region}:{account}:project/{naming.name(env, 'build')}",
            account,
            env,
        ),
    ]
    for stack in (APP_STACK, BOOTSTRAP_STACK, PERSONAS_STACK):
        targets.append(
            Target(
                scope,
                STACK,
                f"{who} {stack} stack",
                f"arn:{p}:cloudformation:{region}:{account}:stack/{naming.stack(env, stack)}/0123abcd",
                account,
                env,
                stack_role=naming.role_arn(account, naming.cfn_execution_role(env)),
            )
        )
    return targets


def devops_targets(layout: Layout, naming: Naming, scope: str) -> list[Target]:
    """The DevOps account's platform of a project: artifacts, images, key, stack, OIDC, CI and identity roles."""
    s = layout.settings
    devops, p, region = s.devops.id, naming.partition, s.region
    who = f"{naming.slug} devops"
    bucket = naming.artifact_bucket(devops)
    targets = [
        Target(scope, BUCKET, f"{who} artifact bucket", f"arn:{p}:s3:::{bucket}", devops),
        Target(
            scope,
            REPOSITORY,
            f"{who} image repository",
            f"arn:{p}:ecr:{region}:{devops}:repository/{naming.ecr_repository()}",
            devops,
        ),
        Target(
            scope,
            STACK,
            f"{who} platform stack",
            f"arn:{p}:cloudformation:{region}:{devops}:stack/{naming.stack(DEVOPS, DEVOPS_STACK)}/0123abcd",
            devops,
        ),
        Target(
            scope,
            OIDC,
            f"{who} GitHub OIDC provider",
            f"arn:{p}:iam::{devops}:oidc-provider/token.actions.githubusercontent.com",
            devops,
        ),
        *(
            Target(
                scope,
                ROLE,
                f"{who} identity {persona} role",
                naming.role_arn(devops, naming.name(IDENTITY, persona)),
                devops,
            )
            for persona in PERSONAS
        ),
    ]
    if naming == layout.naming and layout.devops_key_arn:
        # The artifact key has no name in its ARN: the rendered template's ARN, no tag.
        targets.append(Target(scope, KEY, f"{who} artifact key", layout.devops_key_arn, devops))
    elif naming != layout.naming:
        targets.append(
            Target(
                scope,
                KEY,
                f"{who} artifact key",
                f"arn:{p}:kms:{region}:{devops}:key/11111111-1111-4111-8111-111111111111",
                devops,
            )
        )
    return targets


def account_targets(layout: Layout, account: str) -> list[Target]:
    """Account-wide settings and the people and groups outside the naming scheme, in one account."""
    n = layout.naming
    return [
        Target(ACCOUNT_WIDE, ACCOUNT, f"account {account} settings", "", account),
        Target(
            ACCOUNT_WIDE, USER, f"account {account} admin user", f"arn:{n.partition}:iam::{account}:user/admin", account
        ),
    ]


# --------------------------------------------------------------------------- the expansion


def _technique_resource(technique: Technique, target: Target, layout: Layout) -> str:
    n = layout.naming
    if target.kind == ACCOUNT:
        return technique.resource.format(p=n.partition, region=layout.settings.region, account=target.account)
    if target.kind == USER and technique.resource == "group":
        return f"arn:{n.partition}:iam::{target.account}:group/admins"
    return target.arn


def _legitimate(principal: Principal, technique: Technique, target: Target, layout: Layout) -> bool:
    """What a principal may do to its own environment's platform by design (the designed cases check it)."""
    if target.scope != OWN_PLATFORM:
        return False
    n = layout.naming
    home = layout.settings.environment(principal.env).account.id
    own_deployer = n.role_arn(home, n.deployer_role(principal.env))
    own_exec = n.role_arn(home, n.cfn_execution_role(principal.env))
    own_app = n.role_arn(home, n.function_role(principal.env))
    # "full" means the Project Administrator runs the platform roles (never the persona setup).
    if principal.administers and target.arn in (own_deployer, own_exec, own_app):
        return True
    # The deployer hands the execution role to CloudFormation, and deploys the app stack with it.
    if principal.symbol == "deployer" and target.arn == own_exec and technique.key == "passrole-cloudformation":
        return True
    if principal.symbol == "deployer" and target.label.endswith(f"{APP_STACK} stack"):
        return True
    # The execution role (and roles under the boundary) manage the function's role and stack.
    if principal.symbol in ("cfn-exec", "bounded-role") and (
        target.arn == own_app or target.label.endswith(f"{APP_STACK} stack")
    ):
        return True
    # The app role is its own principal; the CI role assumes its own deployer.
    if principal.symbol == "ci" and target.arn == own_deployer and technique.key == "assume":
        return True
    # Personas that change their environment's resources change its app stack and function role.
    caps = (
        grant(layout.settings.environment(principal.env).tier, principal.symbol).access.capabilities
        if (principal.symbol in PERSONAS)
        else frozenset()
    )
    return Capability.CHANGE in caps and (target.arn == own_app or target.label.endswith(f"{APP_STACK} stack"))


def _applies(technique: Technique, target: Target, layout: Layout) -> bool:
    if technique.target != target.kind:
        return False
    if target.techniques is not None and technique.key not in target.techniques:
        return False
    if technique.action == "iam:PassRole":
        # Passing a role is an escalation only to a service the role trusts; roles of other
        # projects or other accounts are passed on their name alone (nobody may).
        trust = layout.trusts.get(target.arn)
        if trust is None:
            # A role of this project no template creates cannot exist (creating one is its own case).
            return target.scope != OWN_PLATFORM
        return _trusts_service(trust, technique.context["iam:PassedToService"])
    return True


def own_platform_targets(layout: Layout, principal: Principal) -> list[Target]:
    """The platform of the principal's own environment: its roles, the persona setup, the platform stacks."""
    n = layout.naming
    # The environment's account: the CI role lives in the DevOps account, its environment does not.
    env, acct = principal.env, layout.settings.environment(principal.env).account.id
    every = environment_targets(layout, n, env, acct, OWN_PLATFORM, "")
    platform_kinds = {ROLE, POLICY, STACK}
    targets = [t for t in every if t.kind in platform_kinds and t.arn != principal.arn]
    return targets


def scoped_targets(layout: Layout, principal: Principal) -> dict[str, list[Target]]:
    """What ``principal`` must not reach, per scope."""
    s, n = layout.settings, layout.naming
    others = [e for e in s.environments if e.name != principal.env]
    home = s.environment(principal.env).account.id
    # Label-major, environment-minor: consecutive picks land in consecutive environments.
    per_env = [environment_targets(layout, n, e.name, e.account.id, OTHER_ENV, "") for e in others]
    other_env = [targets[i] for i in range(len(per_env[0]) if per_env else 0) for targets in per_env]
    scopes = {
        OTHER_ENV: other_env,
        DEVOPS_PLATFORM: devops_targets(layout, n, DEVOPS_PLATFORM),
        OWN_PLATFORM: own_platform_targets(layout, principal),
        # The second project's environment of the same name, in the same account, tagged alike.
        PEER_PROJECT: [
            *environment_targets(layout, layout.peer, principal.env, home, PEER_PROJECT, principal.env),
            *devops_targets(layout, layout.peer, PEER_PROJECT),
        ],
        ACCOUNT_WIDE: [],
    }
    # A dedicated account's settings belong to its Project Administrator ("full"); a shared one's to nobody here.
    if layout.shared(principal.account) or not principal.administers:
        scopes[ACCOUNT_WIDE] = account_targets(layout, principal.account)
    return scopes


def attack_cases(layout: Layout, exhaustive: bool = False) -> list[Attack]:
    """Every principal x every technique x the targets of each scope it must not reach.

    ``exhaustive``: every technique against every target that fits. Otherwise a covering
    set whose size does not grow with the number of environments: each principal tries
    each technique once per scope, on a target chosen by rotation (principal x technique),
    so that every principal reaches for every other environment (the first techniques land
    in consecutive environments) and, across principals, every target of every kind.
    """
    attacks: list[Attack] = []
    for p_index, principal in enumerate(principals(layout)):
        for targets in scoped_targets(layout, principal).values():
            by_kind: dict[str, list[Target]] = {}
            for target in targets:
                by_kind.setdefault(target.kind, []).append(target)
            for t_index, technique in enumerate(TECHNIQUES):
                fits = [
                    t
                    for t in by_kind.get(technique.target, ())
                    if _applies(technique, t, layout) and not _legitimate(principal, technique, t, layout)
                ]
                if not fits:
                    continue
                chosen = fits if exhaustive else [fits[(p_index + t_index) % len(fits)]]
                for target in chosen:
                    target = replace(target, arn=_technique_resource(technique, target, layout))
                    attacks.append(Attack(principal, technique, target))
    return attacks


def counts(attacks: Iterable[Attack]) -> dict[str, int]:
    """How many generated cases there are per scope."""
    out = dict.fromkeys(SCOPES, 0)
    for attack in attacks:
        out[attack.target.scope] += 1
    return out


# --------------------------------------------------------------------------- simulating them


def default_key_policy(partition: str, account: str) -> dict:
    """The key policy AWS gives a key created without one: the account's IAM policies decide."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def requests(attacks: list[Attack], simulate: Callable[[Case, str], dict], first_id: int) -> list[dict]:
    """The simulator's requests for ``attacks``: ``simulate`` turns a case into one, the technique adds its context.

    KMS asks the key policy on every call: a key no template here renders gets AWS's default one.
    """
    out = []
    key_policies: dict[str, dict] = {}
    for index, attack in enumerate(attacks):
        request = simulate(attack.case, attack.label)
        request["request"]["contextVariables"].update(attack.context())
        if attack.target.kind == KEY and "resourcePolicy" not in request:
            account = attack.target.account
            if account not in key_policies:
                key_policies[account] = default_key_policy(attack.target.arn.split(":")[1], account)
            request["resourcePolicy"] = key_policies[account]
        out.append({"id": first_id + index, "simulation": request})
    return out


@dataclass
class Verdict:
    """What the simulator said about the generated cases."""

    failed: list[tuple[Attack, dict]] = field(default_factory=list)
    open: dict[KnownOpen, int] = field(default_factory=dict)
    stale: list[KnownOpen] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stale


def judge(
    attacks: list[Attack], answers: list[dict], strategy: str, entries: Iterable[KnownOpen] = KNOWN_OPEN
) -> Verdict:
    """Every generated case must be denied; a known-open entry must still match an allowed case."""
    entries = [e for e in entries if not e.strategies or strategy in e.strategies]
    verdict = Verdict(open=dict.fromkeys(entries, 0))
    for attack, answer in zip(attacks, answers, strict=True):
        if answer["decision"] in ("ExplicitlyDenied", "ImplicitlyDenied"):
            continue
        entry = known_open(attack, strategy, entries) if answer["decision"] == "Allowed" else None
        if entry is None:
            verdict.failed.append((attack, answer))
        else:
            verdict.open[entry] += 1
    verdict.stale = [entry for entry, n in verdict.open.items() if n == 0]
    return verdict


def report(verdict: Verdict, out) -> None:
    for attack, answer in verdict.failed:
        print(
            f"FAIL generated: {attack.principal.arn} {attack.technique.action} {attack.target.arn}: "
            f"expected deny, got {answer['decision']} ({attack.label})",
            file=out,
        )
        if answer.get("errors"):
            print(f"     simulator: {str(answer['errors'])[:600]}", file=out)
        for statement in answer.get("deciding", []):
            kind, policy, sid, effect = (statement[k] for k in ("kind", "policy", "sid", "effect"))
            print(f"     decided by {kind} policy {policy} statement {sid} ({effect})", file=out)
    for entry, n in verdict.open.items():
        if n:
            print(f"OPEN generated: {n} cases allowed, known open: {entry.pattern}: {entry.reason}", file=out)
    for entry in verdict.stale:
        print(
            f"FAIL known-open entry {entry.pattern!r} matches no allowed case: the hole is closed, remove it", file=out
        )
