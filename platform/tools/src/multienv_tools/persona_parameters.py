"""The persona stack's parameters: which roles each environment gets, the policy blocks each
carries and whom it trusts, as ``infra/personas.yaml`` takes them (from ``personas.TABLE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from multienv.naming import BOUNDARY, PERSONAS

from .persona_trust import (
    IDENTITY,
    SAML_AUDIENCE,
    Trust,
    trusted_account_root,
    trusted_principal,
)
from .personas import (
    Capability,
    DataAccess,
    grant,
)

GUARD = "guard"  # on every persona role: other environments are out of reach


ACCOUNT_GUARD = "account-guard"  # on every persona role: the account's settings, IAM outside the environment, keys


FENCE = "fence"  # on every persona role but the administrator's: hands off the platform


NO_DATA = "no-data"  # where the access says no data


NO_STORE_DATA = "no-store-data"  # where the data rule says inspect or none: the store's data, denied


# The data blocks, by the grant's data rule (``personas.DataAccess``), for the environment's own store.
# The administer block holds its own (the store is under the environment's names), so the Project
# Administrator carries none: a role takes ten managed policies (IAM's default quota).
DATA_BLOCKS = {
    DataAccess.FULL: "data-full",
    DataAccess.READ_WRITE: "data-read-write",
    DataAccess.READ: "data-read",
    DataAccess.INSPECT: NO_STORE_DATA,
    DataAccess.NONE: NO_STORE_DATA,
}


def data_block(tier: str, persona: str) -> str:
    """The data block of a persona in a tier ("" when its administer block already holds the store)."""
    g = grant(tier, persona)
    if Capability.ADMINISTER in g.access.capabilities or not g.access.grants_anything:
        return ""
    return DATA_BLOCKS[g.data]


def policy_blocks(tier: str, persona: str, data: bool = True) -> list[str]:
    """The persona policies (``infra/personas.yaml``) a persona's role carries in a tier; ``data``:
    the project has data stores (``Settings.has_data``), whose rules add a block."""
    access = grant(tier, persona).access
    blocks = [GUARD, ACCOUNT_GUARD]
    if Capability.ADMINISTER not in access.capabilities:
        blocks.append(FENCE)
    if access.no_data:
        blocks.append(NO_DATA)
    if data and data_block(tier, persona):
        blocks.append(data_block(tier, persona))
    return blocks + [c.value for c in Capability if c in access.capabilities]


def policy_name(naming, env: str, block: str) -> str:
    return naming.name(env, f"persona-{block}")


def stack_parameters(
    naming,
    env: str,
    tier: str,
    account_id: str,
    shared_account: bool,
    trust: Trust,
    accounts: Mapping[str, str],
    data: bool = True,
) -> dict[str, str]:
    """Parameters of the persona stack of ``env`` (``infra/personas.yaml``) in account ``account_id``.

    ``shared_account``: the account also holds another environment or the DevOps side; ``data``: the
    project has data stores (``[data] stores`` is not none), whose rules the data blocks carry.
    """
    params: dict[str, str] = {
        "EnvName": env,
        "ResourcePrefix": naming.prefix(env),
        "SecretPrefix": naming.secret_name(env, ""),
        "EventBusName": naming.event_bus(env),
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
        params[f"{key}TrustedPrincipal"] = trusted_principal(trust, naming, accounts, account_id, persona, tier)
        params[f"{key}PolicyArns"] = ",".join(
            naming.policy_arn(account_id, policy_name(naming, env, block))
            for block in policy_blocks(tier, persona, data)
        )
    return params


def persona_setup_arns(naming, env: str, account_id: str = "*") -> list[str]:
    """The persona roles, the persona policies and the permissions boundary of ``env``, and the boundary
    of its masked copy's export role.

    No persona may change them, the Project Administrator included (the Guard policy), and no
    role under the boundary either: the account's administrator deploys them
    (``deploy bootstrap-env``, ``deploy personas``). ``*`` as the account keeps the patterns
    valid in every account a StackSet rolls the bootstrap out to.
    """
    return [
        *(naming.role_arn(account_id, naming.persona_role(env, p)) for p in PERSONAS),
        # The environment's boundary and the masked copy's export role's own (made with the data
        # stack; the roles themselves: the account guard's DenyIdentityProviderAndDataRoleChanges),
        # in one pattern: the guard that holds it has little room left at the longest names.
        naming.policy_arn(account_id, f"{naming.prefix(env)}*{BOUNDARY}"),
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
        naming.role_arn(account_id, naming.drift_reader_role(env)),
        *persona_setup_arns(naming, env, account_id),
        # The CI roles and the identity roles, wherever the DevOps side and the environments share an account.
        *naming.platform_role_patterns(account_id),
    ]


def stack_arns(naming, env: str, stacks: Iterable[str]) -> list[str]:
    """ARN patterns of ``env``'s stacks named ``<slug>--<env>-<stack>``, in any account and region."""
    return [f"arn:{naming.partition}:cloudformation:*:*:stack/{naming.stack(env, stack)}/*" for stack in stacks]


def platform_patterns(naming) -> list[str]:
    """The DevOps and identity resources (``<slug>--devops-*``, ``<slug>--identity-*``), one pattern per service.

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
