"""The attacker's world: every principal these templates create and every target it must not
reach (other environments, the DevOps platform, its own platform, account-wide settings, the
peer project), from ``multienv.toml``, ``naming.py`` and the rendered templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from multienv.naming import APP_STACK, BOOTSTRAP_STACK, DEVOPS, DEVOPS_STACK, PERSONAS_STACK, Naming
from multienv.naming import IDENTITY as IDENTITY_ENV
from multienv.settings import Settings

from .attack_catalog import (
    ACCOUNT,
    ACCOUNT_WIDE,
    BUCKET,
    DEFAULT_BUS_RULE,
    ENV_TAG,
    FUNCTION,
    INSTANCE,
    KEY,
    OBJECT,
    OIDC,
    PEER,
    POLICY,
    PROJECT,
    PROJECT_TAG,
    QUEUE,
    REPOSITORY,
    ROLE,
    ROLE_PATH,
    SECRET,
    STACK,
    TOPIC,
    USER,
    Principal,
    Target,
)
from .persona_parameters import policy_name
from .persona_trust import IDENTITY
from .personas import PERSONAS, Capability, grant


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

    def peers(self, env: str) -> list[Naming]:
        """The projects of this template that share our accounts, as seen from ``env``: ``<slug>-peer``
        and the slugs chosen to collide with ours. Under a single-hyphen scheme (``<slug>-<env>-``)
        ``<slug>-<env>-x`` has every name inside ``env``'s fence, ``<slug>-devops`` and
        ``<slug>-identity`` inside the DevOps and identity names, and a slug ours extends
        (``my-multienv`` for ``my-multienv-app``) holds ours inside its own when its environment
        is named after the rest of ours. Their slugs may be longer than a bake accepts: a name
        that could not exist is still one no fence may take in."""
        slug, region = self.naming.slug, self.naming.region
        parts = slug.split("-")
        slugs = [
            self.peer.slug,
            f"{slug}-{env}-x",
            f"{slug}-{DEVOPS}",
            f"{slug}-{IDENTITY_ENV}",
            *("-".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)),
        ]
        return [Naming(s, region) for s in dict.fromkeys(slugs)]

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
                        project=n.slug,
                    )
                )
        out += [
            Principal(
                "deployer", "deployer", env.name, acct, n.role_arn(acct, n.deployer_role(env.name)), project=n.slug
            ),
            Principal(
                "cfn-exec", "cfn-exec", env.name, acct, n.role_arn(acct, n.cfn_execution_role(env.name)), project=n.slug
            ),
            Principal("ci", "ci", env.name, devops, n.role_arn(devops, n.ci_role(env.name)), project=n.slug),
            Principal(
                "bounded-role",
                "bounded-role",
                env.name,
                acct,
                n.role_arn(acct, n.name(env.name, "bounded")),
                project=n.slug,
            ),
        ]
        app = n.role_arn(acct, n.function_role(env.name))
        out.append(Principal(app, "app-role", env.name, acct, app, project=n.slug))
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
        ("data export role", naming.data_export_role(env)),
        ("data import role", naming.data_import_role(env)),
    ]
    targets = [
        Target(scope, ROLE, f"{who} {label}", naming.role_arn(account, name), account, env, tagged)
        for label, name in roles
    ]
    targets.append(
        Target(scope, ROLE, f"{who} ci role", naming.role_arn(s.devops.id, naming.ci_role(env)), s.devops.id, env)
    )
    policies = [
        ("boundary", naming.boundary_policy(env)),
        ("persona guard", policy_name(naming, env, "guard")),
        ("data export boundary", naming.data_export_boundary(env)),
    ]
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
        # Keys and instances have no names: only their tags say whose they are (a key the
        # project's administrator makes carries the env and project tags its key fence asks for).
        Target(
            scope,
            KEY,
            f"{who} key",
            f"arn:{p}:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000",
            account,
            env,
            {f"aws:ResourceTag/{ENV_TAG}": tag or env, f"aws:ResourceTag/{PROJECT_TAG}": naming.slug},
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
    # The artifact key has no name in its ARN, and its project tag only (infra/devops.yaml).
    project = {f"aws:ResourceTag/{PROJECT_TAG}": naming.slug}
    if naming == layout.naming and layout.devops_key_arn:
        # This project's: the rendered template's ARN.
        targets.append(Target(scope, KEY, f"{who} artifact key", layout.devops_key_arn, devops, context=project))
    elif naming != layout.naming:
        targets.append(
            Target(
                scope,
                KEY,
                f"{who} artifact key",
                f"arn:{p}:kms:{region}:{devops}:key/11111111-1111-4111-8111-111111111111",
                devops,
                context=project,
            )
        )
    return targets


def squatting_targets(
    layout: Layout, env: str, account: str, victims: list[tuple[str, str, str]], scope: str
) -> list[Target]:
    """Roles ``env``'s principals could create in ``account`` to take a victim's name first: the
    path is of ``env``'s own prefix (``role/<prefix>x/<victim>``), so a ``role/<prefix>*`` pattern
    takes it in, and IAM keeps one role per name whatever the path. ``victims``: (label, role
    name, its environment). The request carries ``env``'s boundary: only a fence on paths refuses it."""
    n = layout.naming
    boundary = {"iam:PermissionsBoundary": n.policy_arn(account, n.boundary_policy(env))}
    return [
        Target(
            scope,
            ROLE_PATH,
            f"{label} name under a path of {env}",
            n.role_arn(account, f"{n.prefix(env)}x/{name}"),
            account,
            victim_env,
            boundary,
        )
        for label, name, victim_env in victims
    ]


def default_bus_rule(layout: Layout, env: str, account: str) -> Target:
    """A rule on ``account``'s default event bus named under ``env``'s prefix: the bus every AWS
    service event of the account reaches, every environment's and every project's."""
    n = layout.naming
    arn = f"arn:{n.partition}:events:{layout.settings.region}:{account}:rule/{n.prefix(env)}copy"
    return Target(ACCOUNT_WIDE, DEFAULT_BUS_RULE, f"account {account} default event bus", arn, account)


def foreign_key(layout: Layout, env: str, account: str, scope: str) -> Target:
    """A key in ``account`` tagged with ``env`` but no project: another team's, or one made by hand."""
    n = layout.naming
    return Target(
        scope,
        KEY,
        f"another team's {env} key",
        f"arn:{n.partition}:kms:{layout.settings.region}:{account}:key/22222222-2222-4222-8222-222222222222",
        account,
        env,
        {f"aws:ResourceTag/{ENV_TAG}": env},
    )


def account_targets(layout: Layout, account: str) -> list[Target]:
    """Account-wide settings and the people and groups outside the naming scheme, in one account."""
    n = layout.naming
    return [
        Target(ACCOUNT_WIDE, ACCOUNT, f"account {account} settings", "", account),
        Target(
            ACCOUNT_WIDE, USER, f"account {account} admin user", f"arn:{n.partition}:iam::{account}:user/admin", account
        ),
    ]
