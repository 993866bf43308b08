"""Reads ``multienv.toml``, the single record of environments, tiers, accounts, region and names.

Standard library only, so the environment resolver can use it on the cold-start path.
The file is found through ``MULTIENV_HOME`` when set, else by walking up from this
package (a checkout, or an artifact that ships ``multienv.toml`` beside the package).
"""

from __future__ import annotations

import os
import tomllib
from collections import namedtuple
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from .env import Layout
from .model import ACCOUNT_ID_PATTERN, ENV_NAME_PATTERN, Account, AccountStrategy, Tier, promotion_problems
from .naming import Naming

SETTINGS_FILE = "multienv.toml"
HOME_VARIABLE = "MULTIENV_HOME"


class SettingsError(ValueError):
    """``multienv.toml`` is missing or says something that cannot be true."""


class Environment(namedtuple("Environment", "name tier account")):
    """An environment: its name, its ``Tier`` and the ``Account`` it lives in."""

    __slots__ = ()


class Settings(
    namedtuple(
        "Settings",
        "path project_name slug package region github_repository strategy accounts devops environments",
    )
):
    """``multienv.toml``, checked: ``path`` (a ``Path``), the project's names, ``strategy`` (``AccountStrategy``),
    ``accounts`` and ``devops`` (``Account``), ``environments`` (``Environment``, in promotion order)."""

    __slots__ = ()

    @property
    def root(self) -> Path:
        """The folder that holds ``multienv.toml`` and ``config/``."""
        return self.path.parent

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    @property
    def layout(self) -> Layout:
        """What the resolver needs: names, tiers, the local default and production."""
        return Layout(
            self.names,
            {e.name: e.tier for e in self.environments},
            self.default_environment.name,
            self.production.name,
        )

    @property
    def naming(self) -> Naming:
        return Naming(slug=self.slug, region=self.region)

    @property
    def default_environment(self) -> Environment:
        """Where a local run lands when nothing says otherwise."""
        return next(e for e in self.environments if e.tier is Tier.DEVELOPMENT)

    @property
    def production(self) -> Environment:
        return next(e for e in self.environments if e.tier is Tier.PRODUCTION)

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise SettingsError(f"unknown environment {name!r}: the environments are {', '.join(self.names)}")

    @property
    def uses_placeholders(self) -> bool:
        return any(a.placeholder for a in self.accounts)


def find_settings_file(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    home = environ.get(HOME_VARIABLE, "").strip()
    if home:
        path = Path(home) / SETTINGS_FILE
        if not path.is_file():
            raise SettingsError(f"{HOME_VARIABLE}={home!r} has no {SETTINGS_FILE}")
        return path
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents[:3]):
        if (folder / SETTINGS_FILE).is_file():
            return folder / SETTINGS_FILE
    raise SettingsError(f"no {SETTINGS_FILE} found above {here}: set {HOME_VARIABLE} to the folder that holds it")


def parse_settings(data: Mapping, path: Path) -> Settings:
    """Check the parsed file and build ``Settings``; every error names the file and the key."""

    def fail(key: str, message: str) -> SettingsError:
        return SettingsError(f"{path}: {key}: {message}")

    try:
        project = data["project"]
        raw_accounts = data["accounts"]
        devops_key = data["devops"]["account"]
        raw_envs = data["environments"]
        strategy = AccountStrategy(project["account_strategy"])
        accounts = {key: Account(key, str(value)) for key, value in raw_accounts.items()}
    except KeyError as missing:
        raise fail(str(missing.args[0]), "is missing") from None
    except ValueError:
        allowed = ", ".join(s.value for s in AccountStrategy)
        raise fail("project.account_strategy", f"{project['account_strategy']!r} is not one of {allowed}") from None

    for account in accounts.values():
        if not ACCOUNT_ID_PATTERN.match(account.id):
            raise fail(f"accounts.{account.key}", f"{account.id!r} is not a 12-digit AWS account ID")
    if devops_key not in accounts:
        raise fail("devops.account", f"{devops_key!r} is not one of the accounts ({', '.join(accounts)})")

    environments: list[Environment] = []
    for index, raw in enumerate(raw_envs):
        key = f"environments[{index}]"
        name = raw.get("name", "")
        if not ENV_NAME_PATTERN.match(name):
            raise fail(f"{key}.name", f"{name!r} is not a valid environment name")
        try:
            tier = Tier(raw.get("tier"))
        except ValueError:
            allowed = ", ".join(t.value for t in Tier)
            raise fail(f"{key}.tier", f"{raw.get('tier')!r} is not one of {allowed}") from None
        if raw.get("account") not in accounts:
            raise fail(f"{key}.account", f"{raw.get('account')!r} is not one of the accounts ({', '.join(accounts)})")
        environments.append(Environment(name, tier, accounts[raw["account"]]))
    problems = promotion_problems([(e.name, e.tier) for e in environments])
    if problems:
        raise fail("environments", "; ".join(problems))

    by_id: dict[str, str] = {}
    for account in accounts.values():
        if account.id in by_id:
            raise fail(
                f"accounts.{account.key}",
                f"{account.id} is also accounts.{by_id[account.id]}: under {strategy.value} they are separate accounts",
            )
        by_id[account.id] = account.key

    return Settings(
        path=path,
        project_name=project["name"],
        slug=project["slug"],
        package=project["package"],
        region=project["region"],
        github_repository=project["github_repository"],
        strategy=strategy,
        accounts=tuple(accounts.values()),
        devops=accounts[devops_key],
        environments=tuple(environments),
    )


def load_settings(path: Path | None = None) -> Settings:
    """Parse and check ``multienv.toml`` (found as the module docstring says when ``path`` is None)."""
    path = find_settings_file() if path is None else path
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    return parse_settings(data, path)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
