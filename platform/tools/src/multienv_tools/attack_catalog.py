"""The attacker's matrix: escalation and isolation-breaking techniques, expanded into cases.

``access/generated-cases.csv`` and ``access/cases.csv`` hold the designed cases: what each persona and platform role must and
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
  roles and resources of other projects generated from this template into the same
  accounts: ``<slug>-peer`` and the peers whose slugs are chosen to collide with ours
  (``attack_world.Layout.peers``: ``<slug>-<env>-x``, ``<slug>-devops``, ``<slug>-identity``,
  and slugs ours extends);
- with names of their own that would squat another's: a role created under a path of the
  principal's own prefix that carries another environment's (or the identity account's) role
  name (IAM names are unique per account whatever the path), and a rule on the account's
  default event bus, which every environment's AWS service events reach.

Every generated case expects a Deny. Principals, targets and names come from
``multienv.toml`` (``settings.py``), ``naming.py``, ``stack_specs`` and the rendered
templates: nothing here retypes a name. ``make check-access`` simulates them together with
the designed cases and prints how many of each kind there are.

A case this template does not close yet is listed in ``KNOWN_OPEN`` with the reason; it is
reported on every run, and an entry that no longer matches an allowed case is an error.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .persona_cases import Case

# The second project generated into the same accounts: ``<slug>-<PEER>``. It extends this
# project's slug with a hyphen on purpose; the peers of ``attack_world.Layout.peers`` go further
# and choose their slugs so that, under a single-hyphen scheme, their names would be ours.
PEER = "peer"


ENV_TAG = "env"


# Keys have no names: the env tag says whose environment, this tag (the slug) whose project.
PROJECT_TAG = "project"


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


# A role ARN under a path of the principal's own prefix that ends in another's role name.
ROLE_PATH = "role-path"


# A rule on the account's default event bus, named under the principal's own prefix.
DEFAULT_BUS_RULE = "default-bus-rule"


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
    # A read of what a resource runs with (its variables, its submitted properties): out of reach
    # outside the principal's environment; inside it, the designed cases say who may (no-data personas not).
    reads: bool = False


def _passrole(service: str) -> Technique:
    name = service.split(".")[0]
    return Technique(
        f"passrole-{name}",
        "iam:PassRole",
        ROLE,
        f"pass a stronger role to {name}",
        {"iam:PassedToService": service},
    )


TAG_DODGE: dict[str, str | tuple[str, ...]] = {"aws:TagKeys": (ENV_TAG,), f"aws:RequestTag/{ENV_TAG}": "{env}"}


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
    Technique(
        "untag-key-project",
        "kms:UntagResource",
        KEY,
        "untag a key's project to dodge a tag Deny",
        {"aws:TagKeys": (PROJECT_TAG,)},
    ),
    Technique(
        "tag-key",
        "kms:TagResource",
        KEY,
        "retag a key as this project's environment",
        {
            "aws:TagKeys": (ENV_TAG, PROJECT_TAG),
            f"aws:RequestTag/{ENV_TAG}": "{env}",
            f"aws:RequestTag/{PROJECT_TAG}": "{project}",
        },
    ),
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
    Technique("start-build-batch", "codebuild:StartBuildBatch", PROJECT, "run a build batch with overrides"),
    Technique("retry-build", "codebuild:RetryBuild", PROJECT, "retry a build with its overrides"),
    Technique("build-webhook", "codebuild:CreateWebhook", PROJECT, "let a fork's pull requests start builds"),
    Technique("update-project", "codebuild:UpdateProject", PROJECT, "change a build project's role or buildspec"),
    # What a resource runs with, read through its configuration, its stack or its builds.
    Technique(
        "function-configuration",
        "lambda:GetFunctionConfiguration",
        FUNCTION,
        "read a function's variables",
        reads=True,
    ),
    Technique("stack-events", "cloudformation:DescribeStackEvents", STACK, "read what a stack submitted", reads=True),
    Technique("stack-template", "cloudformation:GetTemplate", STACK, "read a stack's template", reads=True),
    Technique("build-configuration", "codebuild:BatchGetProjects", PROJECT, "read a build's variables", reads=True),
    Technique("build-history", "codebuild:BatchGetBuilds", PROJECT, "read past builds' variables", reads=True),
    Technique("list-functions", "lambda:ListFunctions", ACCOUNT, "list every function's variables", reads=True),
    Technique("send-command", "ssm:SendCommand", INSTANCE, "run commands on an instance"),
    Technique("start-session", "ssm:StartSession", INSTANCE, "open a shell on an instance"),
    Technique("oidc-client", "iam:AddClientIDToOpenIDConnectProvider", OIDC, "widen the OIDC audience"),
    # Names unique per account whatever the path: the role created first takes the name.
    Technique("squat-role-name", "iam:CreateRole", ROLE_PATH, "take another's role name first, under a path"),
    # The default bus receives every AWS service event of the account, every environment's.
    Technique("default-bus-rule", "events:PutRule", DEFAULT_BUS_RULE, "copy every environment's events"),
    Technique("default-bus-target", "events:PutTargets", DEFAULT_BUS_RULE, "send the default bus's events away"),
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
    project: str = ""  # the slug of the project that created it (its keys' project tag)


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
        values = {
            "env": self.principal.env,
            "target_env": self.target.env,
            "stack_role": self.target.stack_role,
            "project": self.principal.project,
        }
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


# --------------------------------------------------------------------------- known open


@dataclass(frozen=True)
class KnownOpen:
    """Generated cases the template does not close yet: glob patterns on the case's label, and why."""

    pattern: str
    reason: str
    strategies: tuple[str, ...] = ()  # empty: every strategy


ALL_STRATEGIES = ("full_isolation", "hybrid", "consolidated_nonprod", "single_account")


KNOWN_OPEN: tuple[KnownOpen, ...] = ()


def known_open(attack: Attack, strategy: str, entries: Iterable[KnownOpen] = KNOWN_OPEN) -> KnownOpen | None:
    for entry in entries:
        if entry.strategies and strategy not in entry.strategies:
            continue
        if fnmatch.fnmatchcase(attack.label, entry.pattern):
            return entry
    return None
