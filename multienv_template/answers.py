"""The template's answers read and checked, field by field: every problem named at once.

Parses the environments (names, tiers, promotion order), the account strategy and the account
IDs, and says, for each rejected answer, which field, what value and what is allowed.
``plan.build_plan`` turns the parsed answers into the ``Plan``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .vocabulary import (
    TEMPLATE_ROOT,
    Account,
    AccountStrategy,
    Tier,
    model,
    naming,
    settings,
)

# The questions, in cookiecutter.json's order (its "_" keys are settings, not questions).
FIELDS = tuple(
    key for key in json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text(encoding="utf-8")) if key[0] != "_"
)

# The slug's rule is the naming scheme's: its fences rely on it (no two hyphens in a row).
SLUG_PATTERN = naming.SLUG_PATTERN
SLUG_RULE = naming.SLUG_RULE
# S3 reserves these bucket-name prefixes, and every bucket name here starts with the slug.
SLUG_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
PACKAGE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PACKAGE_RULE = "a Python identifier in lowercase: a letter first, then lowercase letters, digits or underscores"
# Import names the generated repository depends on; a package of the same name would shadow them.
PACKAGE_TAKEN = frozenset({"boto3", "botocore", "moto", "pytest", "hypothesis", "tests", "config", "infra"})
REGION_PATTERN = re.compile(
    r"^(?:af|ap|ca|cn|eu|il|me|mx|sa|us|us-gov)-"
    r"(?:central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9]$"
)
REGION_RULE = "an AWS region name such as us-east-1, eu-central-2 or ap-southeast-4"
GITHUB_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
GITHUB_RULE = (
    "owner/name as GitHub allows them: an owner of 1 to 39 letters, digits or hyphens (a letter or digit "
    "first), a name of 1 to 100 letters, digits, '.', '_' or '-' (not . or ..)"
)
# owner@123/name@456 is how GitHub's immutable subject claim spells a repository, not its name.
GITHUB_WITH_IDS = re.compile(r"^([^@/]+)@([0-9]+)/([^@/]+)@([0-9]+)$")
# CODEOWNERS owners: @user, @org/team or an email address, as GitHub reads them.
CODE_OWNER_PATTERN = re.compile(
    r"^(?:@[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}(?:/[A-Za-z0-9][A-Za-z0-9_-]*)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"
)
CODE_OWNER_RULE = "@user, @org/team or an email address, separated by spaces"
PROJECT_NAME_MAX = 100
PROJECT_NAME_FORBIDDEN = ('"', "\\")


@dataclass(frozen=True)
class Problem:
    """One rejected answer: which field, what value, what is allowed."""

    field: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.value!r} {self.message}"


def check_github_ids(answers) -> list[Problem]:
    """``github_owner_id`` and ``github_repository_id``: digits or empty, and both or neither."""
    problems = []
    given = {}
    repository = str(answers.get("github_repository", "") or "")
    command = settings.github_ids_command(repository if "/" in repository else "OWNER/REPO")
    for key in ("github_owner_id", "github_repository_id"):
        value = str(answers.get(key, "") or "").strip()
        given[key] = value
        if value and not settings.GITHUB_ID_PATTERN.match(value):
            problems.append(Problem(key, value, f"is not {settings.GITHUB_ID_RULE}: {command} prints both"))
    if bool(given["github_owner_id"]) != bool(given["github_repository_id"]):
        missing = "github_repository_id" if given["github_owner_id"] else "github_owner_id"
        problems.append(Problem(missing, "", f"is empty while the other ID is given: give both ({command}) or neither"))
    return problems


def data_stores_of(answers) -> str:
    """The ``data_stores`` answer; answers written before it existed (an older bake's) mean the default."""
    value = answers.get("data_stores", settings.DEFAULT_DATA_STORES)
    return "" if value is None else str(value).strip()


def check_data_stores(answers) -> list[Problem]:
    """``data_stores``: what each environment keeps its data in (``settings.DATA_STORES``)."""
    value = data_stores_of(answers)
    problem = settings.data_stores_problem(value)
    return [Problem("data_stores", value, problem)] if problem else []


class PlanError(ValueError):
    """Raised with every problem found in a set of answers."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------- parsing


def _did_you_mean(value: str, options, otherwise: str) -> tuple[str | None, str]:
    """The closest option and the message tail: ``did you mean x?`` and what is allowed (``otherwise``)."""
    suggestion = model.closest(value, options)
    if not suggestion:
        return suggestion, otherwise
    return (
        suggestion,
        f"did you mean {suggestion}? Otherwise {otherwise}" if otherwise else f"did you mean {suggestion}?",
    )


def parse_environments(raw: str) -> tuple[list[tuple[str, model.Tier]], list[Problem], list[tuple[str, model.Tier]]]:
    """``sbx,dev,uat:staging,prd`` -> ``([(name, tier)], problems, assumed)``.

    ``assumed`` is what the rules across entries (promotion order, account IDs) are checked on:
    the entries that parsed, with a rejected entry standing for its suggestion when it has one,
    so that ``dev,PRD`` reports the name once rather than also "no production environment".
    """
    problems: list[Problem] = []
    parsed: list[tuple[str, model.Tier]] = []
    assumed: list[tuple[str, model.Tier]] = []
    tiers = ", ".join(t.value for t in Tier)
    items = [item.strip() for item in str(raw).split(",")]
    if not any(items):
        return (
            [],
            [Problem("environments", raw, "is empty: give the environments in promotion order, e.g. dev,prd")],
            [],
        )
    seen: set[str] = set()

    def reject(value: str, message: str, stands_for: tuple[str, model.Tier] | None = None) -> None:
        problems.append(Problem("environments", value, message))
        if stands_for is not None and all(stands_for[0] != name for name, _ in assumed):
            assumed.append(stands_for)

    for item in items:
        if not item:
            reject(raw, "has an empty entry: separate names with single commas")
            continue
        name, sep, tier_text = item.partition(":")
        name = name.strip()
        tier_text = tier_text.strip()
        if not model.ENV_NAME_PATTERN.match(name):
            known, tail = _did_you_mean(name, model.KNOWN_TIERS, f"use {model.ENV_NAME_RULE}")
            reject(
                name, f"is not a valid environment name: {tail}", (known, model.KNOWN_TIERS[known]) if known else None
            )
            continue
        if naming.reserved_name_problem(name):
            reject(name, naming.reserved_name_problem(name))
            continue
        if name in seen:
            reject(name, "is listed twice: each environment appears once")
            continue
        seen.add(name)
        if sep:
            try:
                tier = Tier(tier_text)
            except ValueError:
                known, tail = _did_you_mean(tier_text, [t.value for t in Tier], f"the tiers are {tiers}")
                reject(item, f"has an unknown tier: {tail}", (name, Tier(known)) if known else None)
                continue
            known_tier = model.KNOWN_TIERS.get(name)
            if known_tier is not None and tier is not known_tier:
                reject(
                    item,
                    f"gives {name} another tier than its own ({known_tier.value}): "
                    f"write {name} alone, or another name for a {tier.value} environment",
                    (name, known_tier),
                )
                continue
        elif name in model.KNOWN_TIERS:
            tier = model.KNOWN_TIERS[name]
        else:
            known, tail = _did_you_mean(name, model.KNOWN_TIERS, f"write it as {name}:<tier> ({tiers})")
            reject(name, f"has no known tier: {tail}", (known, model.KNOWN_TIERS[known]) if known else None)
            continue
        parsed.append((name, tier))
        if all(name != other for other, _ in assumed):
            assumed.append((name, tier))
    return parsed, problems, assumed


def check_tiers(parsed: list[tuple[str, model.Tier]], raw: str) -> list[Problem]:
    return [Problem("environments", raw, message) for message in model.promotion_problems(parsed)]


def parse_strategy(raw: str) -> tuple[model.AccountStrategy | None, list[Problem], model.AccountStrategy | None]:
    """``(strategy, problems, assumed)``: a mistyped strategy stands for its suggestion in the
    checks that depend on it (account IDs), so those are reported in the same run."""
    try:
        strategy = AccountStrategy(raw)
    except ValueError:
        names = [s.value for s in AccountStrategy]
        known, tail = _did_you_mean(raw, names, f"use {', '.join(names[:-1])} or {names[-1]}")
        problems = [Problem("account_strategy", raw, f"is not an account strategy: {tail}")]
        return None, problems, AccountStrategy(known) if known else None
    return strategy, [], strategy


def parse_account_ids(raw: str) -> tuple[list[tuple[str, str]], list[Problem]]:
    """``devops=111111111111,nonprod=222222222222`` -> ``[(name, id)]``: the pairs whose shape and
    ID are sound, and a problem for each of the others. Which names are allowed is
    ``resolve_account_ids``' question: it depends on the strategy and the environments."""
    problems: list[Problem] = []
    pairs: list[tuple[str, str]] = []
    text = str(raw or "").strip()
    if not text:
        return pairs, problems
    seen: set[str] = set()
    for item in text.split(","):
        item = item.strip()
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            problems.append(Problem("account_ids", item, "is not a name=123456789012 pair"))
            continue
        if key in seen:
            problems.append(Problem("account_ids", key, "is given twice: give each account ID once"))
            continue
        seen.add(key)
        if not model.ACCOUNT_ID_PATTERN.match(value):
            problems.append(Problem("account_ids", f"{key}={value}", "is not an AWS account ID: use exactly 12 digits"))
            continue
        if model.is_placeholder(value):
            problems.append(
                Problem(
                    "account_ids",
                    f"{key}={value}",
                    f"is a placeholder ({model.PLACEHOLDER_PREFIX}NN): give the real ID, or leave account_ids empty",
                )
            )
            continue
        pairs.append((key, value))
    return pairs, problems


def resolve_account_ids(
    strategy: model.AccountStrategy,
    environments: list[tuple[str, model.Tier]],
    pairs: list[tuple[str, str]],
    raw: str,
    skip: frozenset[str] = frozenset(),
    unsound: frozenset[str] = frozenset(),
) -> tuple[dict[str, str], list[Problem]]:
    """``{account name: id}`` from the given pairs, named as ``multienv.toml`` names accounts
    (``devops``, ``nonprod``, ``prod``, ``main``...) or by an environment (or ``devops``) that
    lives in one: an account's own name wins where the two differ.

    Names that share an account must share its ID, separate accounts need separate IDs, and
    either every account has an ID or none does. ``skip``: names not to call unknown (rejected
    environments); ``unsound``: names given with a bad ID, whose account is not "missing".
    """
    members = strategy.accounts(environments)
    account_of = {member: key for key, names in members.items() for member in names}
    account_of.update({key: key for key in members})
    accounts_text = ", ".join(members)
    problems: list[Problem] = []
    given: dict[str, list[tuple[str, str]]] = {}
    for name, account_id in pairs:
        if name in account_of:
            given.setdefault(account_of[name], []).append((name, account_id))
        elif name not in skip:
            meant, tail = _did_you_mean(name, list(account_of), "")
            if meant:
                unsound |= {meant}
            problems.append(
                Problem(
                    "account_ids",
                    name,
                    f"is not an account under {strategy.value}: the accounts are {accounts_text}"
                    + (f"; {tail}" if tail else ""),
                )
            )
    ids: dict[str, str] = {}
    for key, named in given.items():
        distinct = sorted({account_id for _, account_id in named})
        if len(distinct) > 1:
            problems.append(
                Problem(
                    "account_ids",
                    ", ".join(f"{n}={i}" for n, i in named),
                    f"must be one ID: {' and '.join(n for n, _ in named)} are all account {key} under {strategy.value}",
                )
            )
        ids[key] = distinct[0]
    by_id: dict[str, list[str]] = {}
    for key, account_id in ids.items():
        by_id.setdefault(account_id, []).append(key)
    for account_id, keys in by_id.items():
        if len(keys) > 1:
            problems.append(
                Problem(
                    "account_ids",
                    account_id,
                    f"is given to {' and '.join(keys)}: separate accounts under {strategy.value} need separate IDs",
                )
            )
    mentioned = {account_of[name] for name in unsound if name in account_of}
    missing = [key for key in members if key not in ids and key not in mentioned]
    if (pairs or mentioned) and missing:
        problems.append(
            Problem(
                "account_ids",
                raw,
                f"is partial: missing {', '.join(missing)}; give every account ({accounts_text}) or none",
            )
        )
    return ids, problems


def assign_accounts(
    strategy: model.AccountStrategy, parsed: list[tuple[str, model.Tier]], ids: dict[str, str]
) -> dict[str, Account]:
    """Each named account with its ID: the given ones, or one placeholder per account."""
    members = strategy.accounts(parsed)
    if ids:
        return {key: Account(key, ids[key]) for key in members}
    return {key: Account(key, model.placeholder_account_id(i)) for i, key in enumerate(members, start=1)}
