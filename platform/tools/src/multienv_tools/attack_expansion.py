"""The attacker's matrix expanded: every technique of ``attack_catalog.TECHNIQUES`` that fits,
applied to every target a principal must not reach, each as a case that expects a Deny.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from itertools import chain, zip_longest

from multienv.naming import APP_STACK, IDENTITY

from .attack_catalog import (
    ACCOUNT,
    ACCOUNT_WIDE,
    DEVOPS_PLATFORM,
    OTHER_ENV,
    OWN_PLATFORM,
    PEER_PROJECT,
    POLICY,
    ROLE,
    SCOPES,
    STACK,
    TECHNIQUES,
    USER,
    Attack,
    Principal,
    Target,
    Technique,
)
from .attack_world import (
    Layout,
    _trusts_service,
    account_targets,
    default_bus_rule,
    devops_targets,
    environment_targets,
    foreign_key,
    principals,
    squatting_targets,
)
from .personas import PERSONAS, Capability, grant


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
    # Its own environment's configuration: the designed cases say who reads it (no-data personas do not).
    if technique.reads:
        return True
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
    # Which persona assumes its own environment's export or import role is the persona table's (the
    # designed transfer cases check each persona); no other principal does, and nobody changes them.
    own_data_roles = (
        n.role_arn(home, n.data_export_role(principal.env)),
        n.role_arn(home, n.data_import_role(principal.env)),
    )
    if principal.symbol in PERSONAS and technique.key == "assume" and target.arn in own_data_roles:
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
        service = technique.context["iam:PassedToService"]
        if not isinstance(service, str):  # _passrole names one service per technique
            raise TypeError(f"{technique.key}: iam:PassedToService is {service!r}, not one service")
        return _trusts_service(trust, service)
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


def _interleaved(groups: list[list[Target]]) -> list[Target]:
    """Label-major, group-minor: consecutive picks of one kind land in consecutive groups."""
    return [t for t in chain.from_iterable(zip_longest(*groups)) if t is not None]


def scoped_targets(layout: Layout, principal: Principal) -> dict[str, list[Target]]:
    """What ``principal`` must not reach, per scope."""
    s, n = layout.settings, layout.naming
    others = [e for e in s.environments if e.name != principal.env]
    home = s.environment(principal.env).account.id
    env = principal.env
    # Label-major, environment-minor: consecutive picks land in consecutive environments.
    per_env = [environment_targets(layout, n, e.name, e.account.id, OTHER_ENV, "") for e in others]
    # Another environment's role names, taken first under a path of this environment's prefix.
    victims = [
        (f"{n.slug} {e.name} {label}", name, e.name)
        for e in others
        for label, name in (("function role", n.function_role(e.name)), ("deployer role", n.deployer_role(e.name)))
    ]
    platform = [(f"{n.slug} identity {p} role", n.name(IDENTITY, p), "") for p in PERSONAS]
    platform.append((f"{n.slug} devops {env} ci role", n.ci_role(env), ""))
    # The other projects of the same accounts (the peer, and the slugs chosen to collide), their
    # environment of the same name, in the same account, tagged alike.
    peers = [
        [
            *environment_targets(layout, peer, env, home, PEER_PROJECT, env),
            *devops_targets(layout, peer, PEER_PROJECT),
        ]
        for peer in layout.peers(env)
    ]
    scopes = {
        OTHER_ENV: [*_interleaved(per_env), *squatting_targets(layout, env, home, victims, OTHER_ENV)],
        DEVOPS_PLATFORM: [
            *devops_targets(layout, n, DEVOPS_PLATFORM),
            *squatting_targets(layout, env, home, platform, DEVOPS_PLATFORM),
        ],
        OWN_PLATFORM: own_platform_targets(layout, principal),
        PEER_PROJECT: [*_interleaved(peers), foreign_key(layout, env, home, PEER_PROJECT)],
        # An account's settings belong to its administrator, never to a role of this project: not
        # even to the Project Administrator of an environment alone in its account ("full" is its names).
        # Its default event bus too, which every AWS service event of the account reaches.
        ACCOUNT_WIDE: [*account_targets(layout, principal.account), default_bus_rule(layout, env, principal.account)],
    }
    return scopes


def attack_cases(layout: Layout, exhaustive: bool = False, kinds: frozenset[str] | None = None) -> list[Attack]:
    """Every principal x every technique x the targets of each scope it must not reach.

    ``kinds``: the cases of principals of these kinds only (``check-access --only``), each the very
    case the whole set holds for it (the rotation counts every principal).

    ``exhaustive``: every technique against every target that fits. Otherwise a covering
    set whose size does not grow with the number of environments: each principal tries
    each technique once per scope, on a target chosen by rotation (principal x technique),
    so that every principal reaches for every other environment (the first techniques land
    in consecutive environments) and, across principals, every target of every kind.
    """
    attacks: list[Attack] = []
    for p_index, principal in enumerate(principals(layout)):
        if kinds is not None and principal.kind not in kinds:
            continue
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
