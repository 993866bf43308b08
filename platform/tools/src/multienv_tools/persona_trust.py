"""Who may assume a persona role: the ``[personas]`` table of ``multienv.toml`` read and checked
(an account, IAM Identity Center or a SAML provider), and the principal each role trusts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from multienv.naming import PERSONAS

TRUST_SOURCES = ("account", "identity-center", "saml")


# The audience of AWS sign-in SAML assertions, per partition.
SAML_AUDIENCE = {
    "aws": "https://signin.aws.amazon.com/saml",
    "aws-cn": "https://signin.amazonaws.cn/saml",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/saml",
}


IDENTITY = "identity"  # the env part of the people-facing role names in an identity account


# What a production environment's sign-in names end in: the identity role
# ``<slug>--identity-<persona>-pr``, the permission set ``<prefix><persona>-pr``, the SAML
# provider ``<saml_provider>-pr``. Two letters: ``<slug>--identity-software-developer-pr`` takes
# all of IAM's 64 characters under the longest slug a bake accepts (32).
PRODUCTION_SIGN_IN = "-pr"


# The longest a permission set's name may be (IAM Identity Center, CreatePermissionSet).
PERMISSION_SET_NAME_LIMIT = 32


def production_sign_in(tier) -> bool:
    """Whether an environment of ``tier`` signs people in apart: production's roles trust only
    production's sign-in principals, so being allowed into a lower environment never reaches one."""
    return str(tier) == "production"


def _tiered(name: str, tier) -> str:
    return f"{name}{PRODUCTION_SIGN_IN}" if production_sign_in(tier) else name


@dataclass(frozen=True)
class Trust:
    """Who may assume the persona roles: read from ``[personas]`` in ``multienv.toml``.

    ``account``: people sign in to an identity account (``identity_account``, default the
    DevOps account) and assume ``<slug>--identity-<persona>`` there, which may assume the
    persona role of each environment. ``identity-center``: the IAM Identity Center
    permission set ``<permission_set_prefix><persona>`` in the environment's account.
    ``saml``: the SAML provider ``saml_provider`` in the environment's account. A production
    environment's roles trust only names ending in ``PRODUCTION_SIGN_IN`` (``sign_in_name``).
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
    longest = max(len(_tiered(f"{prefix}{persona}", "production")) for persona in PERSONAS)
    if source == "identity-center" and longest > PERMISSION_SET_NAME_LIMIT:
        room = PERMISSION_SET_NAME_LIMIT - (longest - len(prefix))
        raise ValueError(
            f"{where}: personas.permission_set_prefix: {prefix!r} makes permission set names of {longest} "
            f"characters ({_tiered(prefix + PERSONAS[2], 'production')!r}); IAM Identity Center allows "
            f"{PERMISSION_SET_NAME_LIMIT}: use a prefix of at most {room} characters"
        )
    saml = str(table.get("saml_provider", ""))
    if source == "saml" and not saml:
        raise ValueError(f"{where}: personas.saml_provider: needed when personas.source is 'saml'")
    return Trust(source, identity, prefix, saml)


def sign_in_name(trust: Trust, naming, persona: str, tier) -> str:
    """The name people sign in through for ``persona`` in an environment of ``tier``: the identity
    role (``account``), the permission set (``identity-center``) or the SAML provider (``saml``)."""
    if trust.source == "account":
        return naming.name(IDENTITY, _tiered(persona, tier))
    if trust.source == "identity-center":
        return _tiered(f"{trust.permission_set_prefix}{persona}", tier)
    return _tiered(trust.saml_provider, tier)


def trusted_principal(
    trust: Trust, naming, accounts: Mapping[str, str], env_account_id: str, persona: str, tier
) -> str:
    """The ARN (pattern) that may assume ``persona``'s role in an environment of ``tier`` in account
    ``env_account_id``: production's trusts production's sign-in only (``sign_in_name``)."""
    name = sign_in_name(trust, naming, persona, tier)
    if trust.source == "account":
        return naming.role_arn(accounts[trust.identity_account], name)
    if trust.source == "identity-center":
        # Identity Center's roles live under this path, with or without a region segment; the
        # "_" after the name keeps "<persona>" from matching "<persona>-pr".
        return naming.role_arn(env_account_id, f"aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{name}_*")
    return f"arn:{naming.partition}:iam::{env_account_id}:saml-provider/{name}"


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
