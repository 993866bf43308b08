"""The naming scheme: every AWS resource of this project is called ``<slug>--<env>-<name>``.

The double hyphen is the fence's delimiter. A slug never holds two hyphens in a row and an
environment name holds none, so ``<slug>--<env>-`` starts another project's name only when both
slugs and both environments are equal: no other project's names (``<slug>-<env>-x``,
``<slug>-devops``, a slug ours extends) fall inside any of our patterns, nor ours inside theirs
(``platform/tests/test_fences.py`` checks every rendered pattern against such names).

One scheme, one module. The IaC parameters, the persona policies, the deploy tool,
the CI workflows and the access matrix all derive their names from here, and the
template that generated this repository imports this very file to check that every
name fits inside AWS limits before it writes anything. Standard library only.
"""

from __future__ import annotations

import re
from collections import namedtuple

from .config_schema import SHARED

TYPE_CHECKING = False

# AWS hard limits on the names this project creates (characters).
LIMITS = {
    "iam_role": 64,
    "iam_policy": 128,
    "s3_bucket": 63,
    "lambda_function": 64,
    "cloudformation_stack": 128,
    "ecr_repository": 256,
    "secret": 512,
    "log_group": 512,
}

# What a slug may be (the template refuses any other): no two hyphens in a row, none at either end.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SLUG_RULE = "kebab-case: a lowercase letter first, then lowercase letters, digits and single hyphens"
# Between the slug and the rest of every name: what no slug contains. With environment names of
# letters and digits only (model.ENV_NAME_PATTERN), ``<slug>--<env>-`` starts another project's or
# environment's prefix only when it is the same one.
SEPARATOR = "--"

DEVOPS = "devops"
# The env part of the people-facing role names in an identity account (``<slug>--identity-<persona>``).
IDENTITY = "identity"
# Names whose prefix the scheme already uses for something that is no environment: an environment
# so named would own (and be fenced into) those resources.
RESERVED_ENV_NAMES = {
    DEVOPS: "<slug>--devops-* names the DevOps account's resources and CI roles",
    IDENTITY: "<slug>--identity-* names the people-facing roles of the identity account",
    SHARED: f"config/{SHARED}.toml is the configuration every environment shares",
}


def reserved_name_problem(env: str) -> str:
    """Why ``env`` cannot name an environment ("" when it can)."""
    if env in RESERVED_ENV_NAMES:
        reserved = ", ".join(sorted(RESERVED_ENV_NAMES))
        return f"is reserved ({reserved} are): {RESERVED_ENV_NAMES[env]}; choose another name"
    return ""


# The stacks, ``<slug>--devops-platform`` and ``<slug>--<env>-<stack>`` for the others.
DEVOPS_STACK = "platform"
BOOTSTRAP_STACK = "bootstrap"
PERSONAS_STACK = "personas"
APP_STACK = "app"
# The environment's data store, key and transfer roles: a platform stack of its own (``infra/data.yaml``).
DATA_STACK = "data"

# The aliases of every function: callers invoke ``live``; ``previous`` is what rollback returns to.
LIVE_ALIAS = "live"
PREVIOUS_ALIAS = "previous"

# Roles the platform owns in each workload account, and the policies that fence them.
DEPLOYER = "deployer"
CFN_EXECUTION = "cfn-exec"
CI = "ci"
DRIFT = "drift"
BOUNDARY = "boundary"
PERSONAS = ("project-admin", "devops-engineer", "software-developer", "qa-engineer")

# The DevOps account's secret of each environment, ``<slug>/<env>/deploy``: its Deployer Role's, never
# the application's (``Naming.deploy_secret``).
DEPLOY_SECRET = "deploy"  # noqa: S105 - a name, not a value


def partition(region: str) -> str:
    """The ARN partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class Naming(namedtuple("Naming", "slug region")):
    """Names and ARNs for one project, derived from its slug, region and accounts."""

    __slots__ = ()
    if TYPE_CHECKING:  # namedtuple() types every field Any: their types, for mypy alone
        slug: str
        region: str

    @property
    def partition(self) -> str:
        return partition(self.region)

    def name(self, env: str, thing: str) -> str:
        """``<slug>--<env>-<thing>``: the one shape of every resource name."""
        return f"{self.slug}{SEPARATOR}{env}-{thing}"

    def project_prefix(self) -> str:
        """What every resource of every environment starts with: ``<slug>--``, which no other slug's starts with."""
        return f"{self.slug}{SEPARATOR}"

    def prefix(self, env: str) -> str:
        """What every resource of ``env`` starts with; the trailing hyphen keeps ``dev`` off ``dev2``."""
        return f"{self.slug}{SEPARATOR}{env}-"

    def devops_prefix(self) -> str:
        """What every resource of the DevOps account starts with."""
        return self.prefix(DEVOPS)

    # --- roles and policies -------------------------------------------------
    def deployer_role(self, env: str) -> str:
        return self.name(env, DEPLOYER)

    def cfn_execution_role(self, env: str) -> str:
        return self.name(env, CFN_EXECUTION)

    def ci_role(self, env: str) -> str:
        """The role GitHub Actions assumes in the DevOps account for ``env``: ``<slug>--devops-<env>-ci``.

        Named under the DevOps prefix, never ``<slug>--<env>-``: where the DevOps side shares an
        account with the environments, every name under an environment's prefix is that
        environment's to change, and a CI role there would let an environment's roles make
        themselves its deployer.
        """
        return self.name(DEVOPS, f"{env}-{CI}")

    def drift_role(self) -> str:
        """The role the drift workflow assumes in the DevOps account, ``<slug>--devops-drift``: one for every
        environment, as its job runs in no GitHub environment; it may only chain to the drift readers."""
        return self.name(DEVOPS, DRIFT)

    def drift_reader_role(self, env: str) -> str:
        """``env``'s read-only role for drift detection, ``<slug>--<env>-drift``: trusts the drift role only."""
        return self.name(env, DRIFT)

    def platform_role_patterns(self, account_id: str = "*") -> list[str]:
        """Roles no environment's principal may change: the DevOps side's (CI roles) and the identity roles."""
        return [self.role_arn(account_id, f"{self.prefix(owner)}*") for owner in (DEVOPS, IDENTITY)]

    def boundary_policy(self, env: str) -> str:
        return self.name(env, BOUNDARY)

    def persona_role(self, env: str, persona: str) -> str:
        return self.name(env, persona)

    def role_arn(self, account_id: str, role_name: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{role_name}"

    def policy_arn(self, account_id: str, policy_name: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:policy/{policy_name}"

    # --- DevOps account resources -------------------------------------------
    def artifact_bucket(self, devops_account_id: str) -> str:
        """Bucket names are global: the account ID keeps ours unique."""
        return f"{self.name(DEVOPS, 'artifacts')}-{devops_account_id}"

    def ecr_repository(self) -> str:
        """``<slug>/devops-images``: ECR refuses two separators in a row, so its fence is the ``/`` of a
        namespace, which no slug holds either."""
        return f"{self.slug}/{DEVOPS}-images"

    # --- events ----------------------------------------------------------------
    def event_bus(self, env: str) -> str:
        """The environment's own event bus, ``<slug>--<env>-bus``: the only bus its roles put rules on.

        The account's default bus receives every AWS service event of the account, every
        environment's alike, so a rule there would copy another environment's events.
        """
        return self.name(env, "bus")

    def event_rule_pattern(self, account_id: str, env: str) -> str:
        """Rules on the environment's bus (``rule/<bus>/<rule>``); a default-bus rule's ARN has no ``/``."""
        return f"arn:{self.partition}:events:{self.region}:{account_id}:rule/{self.event_bus(env)}/*"

    def artifact_prefix(self, env: str) -> str:
        """Key prefix in the artifact bucket that ``env``'s deployer may read."""
        return f"{env}/"

    # --- secrets and parameters ----------------------------------------------
    # An environment's application secrets live in its own account, under a path of its own:
    # ``<slug>/<env>/`` (Secrets Manager) and ``/<slug>/<env>/`` (SSM). The ``/`` fences by path:
    # slugs hold no ``/``, so no other project's names fall inside (a single-hyphen prefix,
    # ``<slug>-<env>-``, would take in a project slugged ``<slug>-<env>-x``), and no other environment's do.
    def secret_name(self, env: str, name: str) -> str:
        """Secrets Manager name, ``<slug>/<env>/<name>``; the path form keeps ARNs prefix-matchable."""
        return f"{self.slug}/{env}/{name}"

    def ssm_parameter(self, env: str, name: str) -> str:
        """SSM parameter name, ``/<slug>/<env>/<name>``."""
        return f"/{self.slug}/{env}/{name}"

    def deploy_secret(self, env: str) -> str:
        """The Deployer Role's own secret of ``env`` in the DevOps account, for deploy-time use only.

        Inside the environment's path, so the DevOps side's fences (key policy, deployer grants)
        keep one pattern per environment; named apart from every application secret, so the
        two never meet where the DevOps side shares the environment's account.
        """
        return self.secret_name(env, DEPLOY_SECRET)

    def secret_prefix(self, env: str) -> str:
        """What every Secrets Manager name of ``env`` starts with."""
        return self.secret_name(env, "")

    def ssm_prefix(self, env: str) -> str:
        """What every SSM parameter name of ``env`` starts with."""
        return self.ssm_parameter(env, "")

    def secret_arn_prefix(self, account_id: str, env: str) -> str:
        """Secrets Manager ARNs of ``env`` start with this (AWS appends ``-`` and six random characters)."""
        return f"arn:{self.partition}:secretsmanager:{self.region}:{account_id}:secret:{self.secret_prefix(env)}"

    def secret_arn_pattern(self, account_id: str, env: str) -> str:
        return f"{self.secret_arn_prefix(account_id, env)}*"

    def ssm_parameter_arn_pattern(self, account_id: str, env: str) -> str:
        """SSM parameter ARNs drop the leading slash of the name: ``parameter/<slug>/<env>/*``."""
        return f"arn:{self.partition}:ssm:{self.region}:{account_id}:parameter{self.ssm_prefix(env)}*"

    def secret_arn(self, account_id: str, name: str, suffix: str) -> str:
        """The ARN AWS gives secret ``name``: the name, ``-`` and six random characters (``suffix``)."""
        return f"arn:{self.partition}:secretsmanager:{self.region}:{account_id}:secret:{name}-{suffix}"

    def ssm_parameter_arn(self, account_id: str, name: str) -> str:
        """The ARN of parameter ``name`` (``/a/b`` is ``parameter/a/b``; a name without ``/`` gets one)."""
        return f"arn:{self.partition}:ssm:{self.region}:{account_id}:parameter/{name.lstrip('/')}"

    # --- workload resources --------------------------------------------------
    def stack(self, env: str, thing: str) -> str:
        return self.name(env, thing)

    def function(self, env: str, thing: str = "app") -> str:
        return self.name(env, thing)

    def log_group(self, env: str, thing: str = "app") -> str:
        return f"/aws/lambda/{self.function(env, thing)}"

    def function_role(self, env: str, thing: str = "app") -> str:
        """The execution role of a function; it carries the environment's permissions boundary.

        ``<slug>--<env>-<thing>-role``: the only role names the pipeline may create or change
        (``function_role(env, "*")`` in the boundary). No platform role ends in ``-role``.
        """
        return self.name(env, f"{thing}-role")

    def artifact_key(self, env: str, sha256: str) -> str:
        """Content-addressed: the same bytes always land on the same key."""
        return f"{self.artifact_prefix(env)}app-{sha256}.zip"

    def account_parameter(self, account_key: str) -> str:
        """CloudFormation parameter that carries a named account's ID, e.g. ``NonprodAccountId``."""
        return f"{account_key[:1].upper()}{account_key[1:]}AccountId"

    def data_bucket(self, env: str, account_id: str) -> str:
        return f"{self.name(env, 'data')}-{account_id}"

    def data_table(self, env: str) -> str:
        """The environment's DynamoDB table: ``<slug>--<env>-data``."""
        return self.name(env, "data")

    def data_key_alias(self, env: str) -> str:
        """The environment's own customer-managed KMS key for its data: ``alias/<slug>--<env>-data``."""
        return f"alias/{self.name(env, 'data')}"

    def data_transfer_bucket(self, env: str, account_id: str) -> str:
        """Where a masked subset of production lands for ``env`` (in ``env``'s account): ``<slug>--<env>-xfer-<account>``."""
        return f"{self.name(env, 'xfer')}-{account_id}"

    def data_export_role(self, env: str) -> str:
        """In production ``env``'s account: reads its store, writes a masked copy to a target's transfer bucket."""
        return self.name(env, "data-export")

    def data_import_role(self, env: str) -> str:
        """In a testing/QA/staging ``env``'s account: reads its transfer bucket, writes its own store."""
        return self.name(env, "data-import")

    def data_export_boundary(self, env: str) -> str:
        """The permissions boundary of production ``env``'s export role (its data stack makes it)."""
        return self.name(env, "data-export-boundary")

    def arn_pattern(self, service: str, account_id: str, env: str, resource_type: str = "") -> str:
        """ARN matching every resource of ``env`` for a service, e.g. ``lambda`` ``function:``."""
        region = "" if service in ("iam", "s3") else self.region
        account = "" if service == "s3" else account_id
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource_type}{self.prefix(env)}*"

    def all_names(self, envs: list[str], devops_account_id: str, env_accounts: dict[str, str]) -> list[tuple[str, str]]:
        """Every fixed name this project creates, as ``(kind, name)``, for limit checks."""
        names: list[tuple[str, str]] = [
            ("s3_bucket", self.artifact_bucket(devops_account_id)),
            ("ecr_repository", self.ecr_repository()),
            ("cloudformation_stack", self.stack(DEVOPS, DEVOPS_STACK)),
        ]
        for env in envs:
            names += [
                ("iam_role", self.deployer_role(env)),
                ("iam_role", self.cfn_execution_role(env)),
                ("iam_role", self.ci_role(env)),
                ("iam_role", self.drift_reader_role(env)),
                ("iam_policy", self.boundary_policy(env)),
                ("lambda_function", self.function(env)),
                ("iam_role", self.function_role(env)),
                ("log_group", self.log_group(env)),
                ("s3_bucket", self.data_bucket(env, env_accounts[env])),
                ("s3_bucket", self.data_transfer_bucket(env, env_accounts[env])),
                ("iam_role", self.data_export_role(env)),
                ("iam_role", self.data_import_role(env)),
                ("cloudformation_stack", self.stack(env, DATA_STACK)),
                ("cloudformation_stack", self.stack(env, BOOTSTRAP_STACK)),
                ("cloudformation_stack", self.stack(env, PERSONAS_STACK)),
                ("cloudformation_stack", self.stack(env, APP_STACK)),
                ("secret", self.secret_name(env, "app")),
                ("secret", self.deploy_secret(env)),
            ]
            names += [("iam_role", self.persona_role(env, p)) for p in PERSONAS]
        return names

    def too_long(
        self, envs: list[str], devops_account_id: str, env_accounts: dict[str, str]
    ) -> list[tuple[str, str, int]]:
        """``(kind, longest name, limit)`` for every kind of name that breaks its AWS limit."""
        longest: dict[str, str] = {}
        for kind, name in self.all_names(envs, devops_account_id, env_accounts):
            if len(name) > len(longest.get(kind, "")):
                longest[kind] = name
        return [(kind, name, LIMITS[kind]) for kind, name in longest.items() if len(name) > LIMITS[kind]]

    def slug_limit(self, envs: list[str], devops_account_id: str, env_accounts: dict[str, str]) -> int:
        """The most characters a slug may have with these environments and accounts: every name holds
        the slug once, so each allows its AWS limit less the rest of the name (32 with any environments,
        from the artifact bucket; 43 less the longest environment name when that is less)."""
        return min(
            LIMITS[kind] - (len(name) - len(self.slug))
            for kind, name in self.all_names(envs, devops_account_id, env_accounts)
        )

    def too_long_problems(self, envs: list[str], devops_account_id: str, env_accounts: dict[str, str]) -> list[str]:
        """What the slug makes too long, one message for each kind of name (``too_long``), with the
        slug's limit, and whether shorter environment names would help."""
        fixed = {name for _, name in self.all_names([], devops_account_id, {})}
        problems = []
        for kind, name, limit in self.too_long(envs, devops_account_id, env_accounts):
            room = limit - (len(name) - len(self.slug))
            now = len(self.slug)
            if name in fixed:
                fix = f"whatever the environments, the slug may have at most {room} characters ({now} now): shorten it"
            else:
                fix = (
                    f"with these environment names, the slug may have at most {room} characters ({now} now): "
                    "shorten it or the longest environment names"
                )
            what = f"{kind.replace('_', ' ')} name {name!r} {len(name)} characters long"
            problems.append(f"makes the {what}; AWS allows {limit}: {fix}")
        return problems
