"""What environments, tiers and account strategies are: the vocabulary of this project.

Standard library only and free of package-relative imports: the template that generated
this repository loads this file by path to decide what the answers mean, so the rules
below exist once, here, for both the template and the repository it made.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterable
from enum import StrEnum

TYPE_CHECKING = False

ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,11}$")
ENV_NAME_RULE = "a lowercase letter first, then lowercase letters or digits, at most 12 characters"
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")

# Account IDs in this range stand for "not filled in yet". No real AWS account has one,
# so the deploy tool can refuse them when it talks to real AWS.
PLACEHOLDER_PREFIX = "0000000000"


def closest(value: str, options: Iterable[str]) -> str | None:
    """The option a mistyped value most likely meant: the same word in another case first,
    then the nearest spelling; None when nothing is close."""
    options = list(options)
    folded = value.strip().lower()
    for option in options:
        if option.lower() == folded:
            return option
    import difflib  # only on the error path

    close = difflib.get_close_matches(folded, options, n=1, cutoff=0.6)
    return close[0] if close else None


def placeholder_account_id(index: int) -> str:
    return f"{PLACEHOLDER_PREFIX}{index:02d}"


def is_placeholder(account_id: str) -> bool:
    return account_id.startswith(PLACEHOLDER_PREFIX)


class Account(namedtuple("Account", "key id")):
    """A named AWS account (``devops``, ``nonprod``, an environment's name...) and its 12-digit ID."""

    __slots__ = ()
    if TYPE_CHECKING:  # namedtuple() types every field Any: their types, for mypy alone
        key: str
        id: str

    @property
    def placeholder(self) -> bool:
        return is_placeholder(self.id)


class Tier(StrEnum):
    """How close to real users an environment is, in promotion order."""

    SANDBOX = "sandbox"
    DEVELOPMENT = "development"
    TESTING = "testing"
    QA = "qa"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)

    @property
    def is_production(self) -> bool:
        return self is Tier.PRODUCTION


# Environment names whose tier needs no spelling out.
KNOWN_TIERS = {
    "sbx": Tier.SANDBOX,
    "sandbox": Tier.SANDBOX,
    "dev": Tier.DEVELOPMENT,
    "development": Tier.DEVELOPMENT,
    "tst": Tier.TESTING,
    "test": Tier.TESTING,
    "testing": Tier.TESTING,
    "qa": Tier.QA,
    "stg": Tier.STAGING,
    "staging": Tier.STAGING,
    "prd": Tier.PRODUCTION,
    "prod": Tier.PRODUCTION,
    "production": Tier.PRODUCTION,
}


def promotion_problems(environments: list[tuple[str, Tier]]) -> list[str]:
    """What is wrong with a list of ``(name, tier)`` in promotion order; empty when nothing is.

    The template checks the answers with it and ``settings.py`` checks ``multienv.toml``.
    """
    problems = []
    names = [name for name, _ in environments]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        problems.append(f"lists {', '.join(twice)} more than once: each environment appears once")
    production = [name for name, tier in environments if tier.is_production]
    if len(production) != 1:
        problems.append(f"needs exactly one production-tier environment (found: {', '.join(production) or 'none'})")
    elif not environments[-1][1].is_production:
        problems.append(f"must end with the production environment ({production[0]}): it is promoted to last")
    if not any(tier is Tier.DEVELOPMENT for _, tier in environments):
        problems.append(
            "needs at least one development-tier environment (dev, development or name:development): "
            "it is where local runs land"
        )
    return problems


class AccountStrategy(StrEnum):
    """Where the DevOps side and each environment live (the design's four options)."""

    FULL_ISOLATION = "full_isolation"
    HYBRID = "hybrid"
    CONSOLIDATED_NONPROD = "consolidated_nonprod"
    SINGLE_ACCOUNT = "single_account"

    @property
    def summary(self) -> str:
        return _SUMMARIES[self]

    @property
    def separate_devops_account(self) -> bool:
        """False when the DevOps side lives in the one account of every environment."""
        return self is not AccountStrategy.SINGLE_ACCOUNT

    @property
    def shares_workload_accounts(self) -> bool:
        """True when two environments can end up in one account (isolation by name and policy)."""
        return self is not AccountStrategy.FULL_ISOLATION

    def devops_account_key(self) -> str:
        return "main" if self is AccountStrategy.SINGLE_ACCOUNT else "devops"

    def accounts(self, environments: Iterable[tuple[str, Tier]]) -> dict[str, list[str]]:
        """The named accounts (``[accounts]`` of ``multienv.toml``, in its order) and who lives in
        each: ``devops`` for the DevOps side, then the environments' names."""
        members: dict[str, list[str]] = {self.devops_account_key(): ["devops"]}
        for name, tier in environments:
            members.setdefault(self.account_key(name, tier), []).append(name)
        return members

    def account_key(self, env_name: str, tier: Tier) -> str:
        """The named account an environment lives in under this strategy."""
        if self is AccountStrategy.FULL_ISOLATION:
            return env_name
        if self is AccountStrategy.HYBRID:
            return "prod" if tier.is_production else "nonprod"
        if self is AccountStrategy.CONSOLIDATED_NONPROD:
            return "workloads"
        return "main"


_SUMMARIES = {
    AccountStrategy.FULL_ISOLATION: "a DevOps account plus one account per environment, the strongest isolation",
    AccountStrategy.HYBRID: "a DevOps account, one account for all non-production environments, one for production",
    AccountStrategy.CONSOLIDATED_NONPROD: (
        "a DevOps account plus one account shared by every environment, isolated by names and IAM"
    ),
    AccountStrategy.SINGLE_ACCOUNT: "everything in one account, isolated by names and IAM; for experiments only",
}


# --------------------------------------------------------------------------- configuration per tier

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
