"""Reads ``multienv.toml``, the single record of environments, tiers, accounts, region and names.

Standard library only, so the environment resolver can use it on the cold-start path.
The file is found through ``MULTIENV_HOME`` when set, else by walking up from this
package (a checkout, or an artifact that ships ``multienv.toml`` beside the package).
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from collections.abc import Mapping
from functools import lru_cache

from .layout import Layout
from .model import ACCOUNT_ID_PATTERN, ENV_NAME_PATTERN, Account, AccountStrategy, Tier, promotion_problems
from .naming import Naming, reserved_name_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

SETTINGS_FILE = "multienv.toml"
HOME_VARIABLE = "MULTIENV_HOME"

# GitHub's numeric IDs of the repository and its owner, as its OIDC tokens carry them
# (``repository_id``, ``repository_owner_id`` and the immutable ``sub``). Empty: not known yet.
# GitHub's IDs are 64-bit integers: at most 19 digits.
GITHUB_ID_PATTERN = re.compile(r"^[1-9][0-9]{0,18}$")
GITHUB_ID_RULE = "GitHub's numeric ID (digits only), or empty while it is not known"
# Stands for an ID not known yet wherever one must be written (a stack parameter): GitHub
# numbers from 1, so no token ever carries it and a trust naming it lets nobody in.
GITHUB_ID_PLACEHOLDER = "0"


# What each environment keeps its data in (``[data] stores``, the template's ``data_stores``): a DynamoDB
# table, an S3 bucket, both, or none. Decided here once: the stacks, the function's rights, the persona
# rules and the access cases all ask ``Settings.has_table``/``has_bucket``.
DATA_STORES = ("table", "bucket", "both", "none")
DEFAULT_DATA_STORES = "table"
DATA_STORES_RULE = "one of table, bucket, both or none"


def data_stores_problem(value: object) -> str:
    """Why ``value`` cannot be ``data_stores`` ("" when it can)."""
    if value in DATA_STORES:
        return ""
    return f"is not {DATA_STORES_RULE} (a DynamoDB table, an S3 bucket, both, or no data store)"


def github_ids_command(repository: str) -> str:
    """The command that prints a repository's owner ID and its own ID, one a line."""
    return f"gh api repos/{repository} --jq '.owner.id, .id'"


class SettingsError(ValueError):
    """``multienv.toml`` is missing or says something that cannot be true."""


class Environment(namedtuple("Environment", "name tier account")):
    """An environment: its name, its ``Tier`` and the ``Account`` it lives in."""

    __slots__ = ()
    if TYPE_CHECKING:  # namedtuple() types every field Any: their types, for mypy alone
        name: str
        tier: Tier
        account: Account


class Settings(
    namedtuple(
        "Settings",
        "file project_name slug package region github_repository strategy accounts devops environments"
        " github_owner_id github_repository_id data_stores",
        defaults=("", "", DEFAULT_DATA_STORES),
    )
):
    """``multienv.toml``, checked: ``file`` (its path), the project's names, ``strategy`` (``AccountStrategy``),
    ``accounts`` and ``devops`` (``Account``), ``environments`` (``Environment``, in promotion order),
    ``github_owner_id`` and ``github_repository_id`` (GitHub's numeric IDs, "" while not known),
    ``data_stores`` (``[data] stores``: ``table``, ``bucket``, ``both`` or ``none``).

    ``file`` is a string and ``path``/``root`` build ``Path`` objects when asked: resolving and loading
    the configuration on a workstation then never imports ``pathlib``.
    """

    __slots__ = ()
    if TYPE_CHECKING:  # namedtuple() types every field Any: their types, for mypy alone
        file: str
        project_name: str
        slug: str
        package: str
        region: str
        github_repository: str
        strategy: AccountStrategy
        accounts: tuple[Account, ...]
        devops: Account
        environments: tuple[Environment, ...]
        github_owner_id: str
        github_repository_id: str
        data_stores: str

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.file)

    @property
    def folder(self) -> str:
        """The folder that holds ``multienv.toml`` and ``config/``, as a string."""
        return os.path.dirname(self.file) or "."  # noqa: PTH120 - pathlib stays off the resolve path

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

    def environments_in(self, account: Account) -> list[Environment]:
        """The environments that live in ``account``, in promotion order."""
        return [e for e in self.environments if e.account.key == account.key]

    # --- each environment's own data store (``[data] stores``)
    @property
    def has_table(self) -> bool:
        """Each environment has a DynamoDB table ``naming.data_table(env)``."""
        return self.data_stores in ("table", "both")

    @property
    def has_bucket(self) -> bool:
        """Each environment has an S3 bucket ``naming.data_bucket(env, account)``."""
        return self.data_stores in ("bucket", "both")

    @property
    def has_data(self) -> bool:
        """Each environment has a data store (its key, the data stack, the transfer pair)."""
        return self.data_stores != "none"

    @property
    def uses_placeholders(self) -> bool:
        return any(a.placeholder for a in self.accounts)

    # --- the GitHub repository, as its OIDC tokens name it
    @property
    def github_owner(self) -> str:
        return self.github_repository.split("/", 1)[0]

    @property
    def github_ids_known(self) -> bool:
        return bool(self.github_owner_id and self.github_repository_id)

    @property
    def github_repository_with_ids(self) -> str:
        """``owner@<owner id>/name@<repository id>``: the repository in GitHub's immutable subject claim
        (placeholder IDs while the real ones are not known)."""
        owner, _, name = self.github_repository.partition("/")
        owner_id = self.github_owner_id or GITHUB_ID_PLACEHOLDER
        repository_id = self.github_repository_id or GITHUB_ID_PLACEHOLDER
        return f"{owner}@{owner_id}/{name}@{repository_id}"

    def github_id_problems(self) -> list[str]:
        """Why CI cannot be trusted yet: the IDs not filled in, each with the command that finds it."""
        command = github_ids_command(self.github_repository)
        return [
            f"{self.file}: project.{key}: is empty: run {command} (the owner's ID, then the repository's) "
            f"and put the {what} ID there before deploying to AWS"
            for key, what in (("github_owner_id", "owner's"), ("github_repository_id", "repository's"))
            if not getattr(self, key)
        ]


def find_settings_file(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    home = environ.get(HOME_VARIABLE, "").strip()
    # os.path, not pathlib: this runs on every workstation start (settings.py's docstring).
    if home:
        path = os.path.join(home, SETTINGS_FILE)  # noqa: PTH118
        if not os.path.isfile(path):  # noqa: PTH113
            raise SettingsError(f"{HOME_VARIABLE}={home!r} has no {SETTINGS_FILE}")
        return path
    here = os.path.dirname(os.path.realpath(__file__))  # noqa: PTH120
    folder = here
    for _ in range(4):  # this package's folder, then up to three above it: the artifact's root
        path = os.path.join(folder, SETTINGS_FILE)  # noqa: PTH118
        if os.path.isfile(path):  # noqa: PTH113
            return path
        folder = os.path.dirname(folder)  # noqa: PTH120
    # Installed (a workstation, CI): the repository the command runs in, or one of its parents.
    start = folder = os.getcwd()  # noqa: PTH109
    while True:
        path = os.path.join(folder, SETTINGS_FILE)  # noqa: PTH118
        if os.path.isfile(path):  # noqa: PTH113
            return path
        parent = os.path.dirname(folder)  # noqa: PTH120
        if parent == folder:
            break
        folder = parent
    raise SettingsError(
        f"no {SETTINGS_FILE} found above {here} or {start}: run at the repository's root, "
        f"or set {HOME_VARIABLE} to the folder that holds it"
    )


def parse_settings(data: Mapping[str, Any], path: str | Path) -> Settings:
    """Check the parsed file and build ``Settings``, or raise ``SettingsError`` naming the file,
    the key and what is allowed for every problem found (one line each)."""
    problems: list[str] = []

    def fail(key: str, message: str) -> None:
        problems.append(f"{path}: {key}: {message}")

    def refuse() -> SettingsError:
        return SettingsError("\n".join(problems))

    try:
        project = data["project"]
        raw_accounts = data["accounts"]
        devops_key = data["devops"]["account"]
        raw_envs = data["environments"]
        strategy = AccountStrategy(project["account_strategy"])
        accounts = {key: Account(key, str(value)) for key, value in raw_accounts.items()}
    except KeyError as missing:
        fail(str(missing.args[0]), "is missing")
        raise refuse() from None
    except ValueError:
        allowed = ", ".join(s.value for s in AccountStrategy)
        fail("project.account_strategy", f"{project['account_strategy']!r} is not one of {allowed}")
        raise refuse() from None

    for account in accounts.values():
        if not ACCOUNT_ID_PATTERN.match(account.id):
            fail(f"accounts.{account.key}", f"{account.id!r} is not a 12-digit AWS account ID")
    if devops_key not in accounts:
        fail("devops.account", f"{devops_key!r} is not one of the accounts ({', '.join(accounts)})")

    environments: list[Environment] = []
    for index, raw in enumerate(raw_envs):
        key = f"environments[{index}]"
        name = raw.get("name", "")
        if not ENV_NAME_PATTERN.match(name):
            fail(f"{key}.name", f"{name!r} is not a valid environment name")
            continue
        if reserved_name_problem(name):
            fail(f"{key}.name", f"{name!r} {reserved_name_problem(name)}")
            continue
        try:
            tier = Tier(raw.get("tier"))
        except ValueError:
            allowed = ", ".join(t.value for t in Tier)
            fail(f"{key}.tier", f"{raw.get('tier')!r} is not one of {allowed}")
            continue
        if raw.get("account") not in accounts:
            fail(f"{key}.account", f"{raw.get('account')!r} is not one of the accounts ({', '.join(accounts)})")
            continue
        environments.append(Environment(name, tier, accounts[raw["account"]]))
    if problems:
        raise refuse()
    for message in promotion_problems([(e.name, e.tier) for e in environments]):
        fail("environments", message)

    by_id: dict[str, str] = {}
    for account in accounts.values():
        if account.id in by_id:
            fail(
                f"accounts.{account.key}",
                f"{account.id} is also accounts.{by_id[account.id]}: under {strategy.value} they are separate accounts",
            )
        by_id.setdefault(account.id, account.key)
    for key, message in placement_problems(strategy, devops_key, accounts, environments):
        fail(key, message)
    if problems:
        raise refuse()
    github_ids = {key: _github_id(project.get(key, "")) for key in ("github_owner_id", "github_repository_id")}
    for key, value in github_ids.items():
        if value and not GITHUB_ID_PATTERN.match(value):
            fail(f"project.{key}", f"{project[key]!r} is not {GITHUB_ID_RULE}")
    if bool(github_ids["github_owner_id"]) != bool(github_ids["github_repository_id"]):
        fail("project", "github_owner_id and github_repository_id are filled in together: both, or neither")
    stores = data.get("data", {}).get("stores", DEFAULT_DATA_STORES)
    if data_stores_problem(stores):
        fail("data.stores", f"{stores!r} {data_stores_problem(stores)}")
    if problems:
        raise refuse()
    naming = Naming(slug=project["slug"], region=project["region"])
    env_accounts = {e.name: e.account.id for e in environments}
    for message in naming.too_long_problems([e.name for e in environments], accounts[devops_key].id, env_accounts):
        fail("project.slug", f"{project['slug']!r} {message}")
    if problems:
        raise refuse()

    return Settings(
        file=os.fspath(path),
        project_name=project["name"],
        slug=project["slug"],
        package=project["package"],
        region=project["region"],
        github_repository=project["github_repository"],
        strategy=strategy,
        accounts=tuple(accounts.values()),
        devops=accounts[devops_key],
        environments=tuple(environments),
        data_stores=stores,
        **github_ids,
    )


def _github_id(value: object) -> str:
    """A GitHub ID as written in the file: a string of digits, or a TOML integer (``bool`` is no ID)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else repr(value)


def _sharing(members: list[str], name: str) -> str:
    others = [("the DevOps side" if m == "devops" else m) for m in members if m != name]
    return f", with {' and '.join(others)}" if others else ", alone"


def placement_problems(
    strategy: AccountStrategy, devops_key: str, accounts: Mapping[str, Account], environments: list[Environment]
) -> list[tuple[str, str]]:
    """``(key, message)`` for each account that does not follow ``strategy``: the DevOps side and every
    environment must live in the account ``AccountStrategy.accounts`` names for it (the rule the
    template placed them by), and ``[accounts]`` holds those accounts and no other."""
    wanted = strategy.accounts((e.name, e.tier) for e in environments)
    where = f"under {strategy.value}"
    problems = []
    if devops_key != strategy.devops_account_key():
        problems.append(
            ("devops.account", f"is {devops_key!r}: {where} the DevOps side lives in {strategy.devops_account_key()!r}")
        )
    for index, env in enumerate(environments):
        key = strategy.account_key(env.name, env.tier)
        if env.account.key != key:
            problems.append(
                (
                    f"environments[{index}].account",
                    f"{env.name} ({env.tier.value}) is in {env.account.key!r}: {where} it lives in {key!r}"
                    + _sharing(wanted[key], env.name),
                )
            )
    for key in accounts:
        if key not in wanted:
            problems.append((f"accounts.{key}", f"is not an account {where}: the accounts are {', '.join(wanted)}"))
    missing = [key for key in wanted if key not in accounts]
    if missing:
        problems.append(("accounts", f"has no {', '.join(missing)}: {where} the accounts are {', '.join(wanted)}"))
    return problems


def load_settings(path: str | Path | None = None) -> Settings:
    """Parse and check ``multienv.toml`` (found as the module docstring says when ``path`` is None)."""
    import tomllib  # here, not at the top: the template builds Settings from its answers and reads no file

    path = find_settings_file() if path is None else path
    with open(path, "rb") as handle:  # noqa: PTH123 - pathlib stays off the resolve path
        data = tomllib.load(handle)
    return parse_settings(data, path)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
