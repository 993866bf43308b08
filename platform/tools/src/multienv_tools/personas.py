"""Who may do what in each environment: the persona table, written once.

Access is decided by an environment's tier, so a custom environment (``uat:staging``)
gets the same access as every other environment of its tier. The persona stacks
(``infra/personas.yaml``) take their parameters from ``persona_parameters.py``; the persona
table of ``docs/personas.md`` and the generated cases of the access matrix (``access/generated-cases.csv``,
``persona_cases.py``) come from ``TABLE`` too. Nothing else decides access.

Standard library and the runtime's vocabulary (``multienv.model``, ``multienv.naming``) only, with
no package-relative import: the template that generated this repository loads this file by path
(its loader registers both packages) to render the persona table and the default cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from multienv.model import Tier
from multienv.naming import PERSONAS

# The persona roles' names end in these (``naming.persona_role(env, persona)``).
PROJECT_ADMIN, DEVOPS_ENGINEER, SOFTWARE_DEVELOPER, QA_ENGINEER = PERSONAS
# The persona table of docs/personas.md (rendered by `multienv synth`), by the roles' name suffixes.
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
    EXECUTE = "execute"  # invoke functions and start executions (builds are the pipeline's and the administrator's)
    CHANGE = "change"  # create, change and delete the environment's resources; roles only under the boundary
    ADMINISTER = "administer"  # everything under the environment's names and its keys, never the account

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
    "read + execute (invoke, start executions, read logs), no infrastructure changes",
    frozenset({C.VIEW, C.READ_DATA, C.READ_LOGS, C.EXECUTE}),
)


READ_LOGS = Access("read-logs", "read-only + logs", frozenset({C.VIEW, C.READ_DATA, C.READ_LOGS}))


READ_ONLY = Access("read-only", "read-only", frozenset({C.VIEW, C.READ_DATA}))


VIEW_ONLY = Access("view-only", "read-only, no data", frozenset({C.VIEW}), no_data=True)


NO_ACCESS = Access("none", "no access", frozenset())


ACCESS_LEVELS = (FULL, FULL_ENVIRONMENT, READ_EXECUTE, READ_LOGS, READ_ONLY, VIEW_ONLY, NO_ACCESS)


SESSION_SECONDS = 4 * 3600


SHORT_SESSION_SECONDS = 3600


class DataAccess(StrEnum):
    """What a persona may do with the environment's own data store (``[data] stores``: its table,
    its bucket, their key), by tier as the design text says. Each level but ``inspect`` and
    ``none`` is one persona policy (``data-<level>``); ``inspect`` and ``none`` carry the
    ``no-store-data`` Deny, so nothing attached later reads, writes or exports the store."""

    FULL = "full"  # read, scan, write, stream, back up, restore, export; the key through its stores
    READ_WRITE = "read-write"  # read, scan, write, stream; the key through its stores
    READ = "read"  # read, scan, stream; the key through its stores
    INSPECT = "inspect"  # describe the table and its metrics: no item, object, stream or key use
    NONE = "none"  # nothing

    @property
    def reads(self) -> bool:
        return self in (DataAccess.FULL, DataAccess.READ_WRITE, DataAccess.READ)

    @property
    def writes(self) -> bool:
        return self in (DataAccess.FULL, DataAccess.READ_WRITE)

    @property
    def manages(self) -> bool:
        """Back up, restore, export: copies of the data outside the table."""
        return self is DataAccess.FULL


@dataclass(frozen=True)
class Grant:
    """What one persona gets in one environment; ``data``, what it may do with the store."""

    access: Access
    mfa: bool = False
    max_session_seconds: int = SESSION_SECONDS
    data: DataAccess = DataAccess.NONE

    @property
    def summary(self) -> str:
        extra = []
        if self.max_session_seconds < SESSION_SECONDS:
            extra.append(f"{self.max_session_seconds // 3600} h sessions")
        if self.mfa:
            extra.append("MFA required")
        return ", ".join([self.access.summary, *extra])


D = DataAccess


# The data rules: developers have full use of sandbox and development data and none above; QA reads
# and writes testing and QA data (reads sandbox, development and staging data) and no production data;
# DevOps engineers run and inspect production without reading its data; the Project Administrator all.
_NONPROD_BUILD = {
    PROJECT_ADMIN: Grant(FULL, data=D.FULL),
    DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT, data=D.FULL),
    SOFTWARE_DEVELOPER: Grant(FULL_ENVIRONMENT, data=D.FULL),
    QA_ENGINEER: Grant(READ_ONLY, data=D.READ),
}


_NONPROD_TEST = {
    PROJECT_ADMIN: Grant(FULL, data=D.FULL),
    DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT, data=D.FULL),
    SOFTWARE_DEVELOPER: Grant(READ_LOGS, data=D.INSPECT),
    QA_ENGINEER: Grant(READ_EXECUTE, data=D.READ_WRITE),
}


# tier -> persona -> grant.
TABLE: dict[str, dict[str, Grant]] = {
    Tier.SANDBOX: _NONPROD_BUILD,
    Tier.DEVELOPMENT: _NONPROD_BUILD,
    Tier.TESTING: _NONPROD_TEST,
    Tier.QA: _NONPROD_TEST,
    Tier.STAGING: {
        PROJECT_ADMIN: Grant(FULL, data=D.FULL),
        DEVOPS_ENGINEER: Grant(FULL_ENVIRONMENT, data=D.FULL),
        SOFTWARE_DEVELOPER: Grant(READ_ONLY, data=D.INSPECT),
        QA_ENGINEER: Grant(READ_EXECUTE, data=D.READ),
    },
    Tier.PRODUCTION: {
        PROJECT_ADMIN: Grant(FULL, mfa=True, max_session_seconds=SHORT_SESSION_SECONDS, data=D.FULL),
        DEVOPS_ENGINEER: Grant(VIEW_ONLY, data=D.INSPECT),
        SOFTWARE_DEVELOPER: Grant(VIEW_ONLY, data=D.INSPECT),
        QA_ENGINEER: Grant(NO_ACCESS, data=D.NONE),
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


# Where each environment's data comes from, decided once here (``multienv data-seed``, ``data-subset``,
# the data stack's transfer bucket and roles, the access matrix's cases and the docs read these):
# dummy data (the team's fixture, or generated records) into sandbox and development tiers only, where
# the developers' data rule is full; a masked subset of production into testing, QA and staging only.
SEED_TIERS = (Tier.SANDBOX, Tier.DEVELOPMENT)
SUBSET_SOURCE_TIERS = (Tier.PRODUCTION,)
SUBSET_TARGET_TIERS = (Tier.TESTING, Tier.QA, Tier.STAGING)


def subset_runners(tier: str) -> tuple[str, ...]:
    """The personas of an environment of ``tier`` whose roles the transfer role there trusts: the Project
    Administrator and the DevOps Engineer, each only where its data rule reads the store. Whoever assumes
    production's export role can scan production's table with it, so production's view-only DevOps
    Engineer cannot: the copy's production half is the Project Administrator's (with MFA)."""
    return tuple(p for p in (PROJECT_ADMIN, DEVOPS_ENGINEER) if grant(tier, p).data.reads)


def table(tiers: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(persona title, its grant's summary in each tier given) for the persona table of docs/personas.md."""
    tiers = list(tiers)
    return [(TITLES[persona], [grant(tier, persona).summary for tier in tiers]) for persona in PERSONAS]
