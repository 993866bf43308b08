"""The plan: what a set of answers to this template means, decided once.

``build_plan(answers)`` turns the raw prompt answers into a validated, typed ``Plan``:
the environments in promotion order with their tiers, the account each one lives in
under the chosen strategy, the DevOps account and every name derived from the slug, held
as the generated repository's own ``Settings`` (what its ``multienv.toml`` loads as).
Every violation is collected, so a user sees all of them at once.

The hooks (``multienv_template.hooks``), the Jinja files (through ``multienv_template.jinja``) and
the tests all read this module. The answers are parsed and checked in ``answers``;
the vocabulary (tiers, strategies, the naming scheme, the promotion rules, the persona
table) lives in the generated repository itself, in its ``multienv`` runtime and
``multienv_tools`` packages, which ``vocabulary`` imports from the template tree:
one copy serves the template and every generated repository.
"""

from __future__ import annotations

import json
import keyword
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from . import presets
from .answers import (
    CODE_OWNER_PATTERN,
    CODE_OWNER_RULE,
    FIELDS,
    GITHUB_PATTERN,
    GITHUB_RULE,
    GITHUB_WITH_IDS,
    PACKAGE_PATTERN,
    PACKAGE_RULE,
    PACKAGE_TAKEN,
    PROJECT_NAME_FORBIDDEN,
    PROJECT_NAME_MAX,
    REGION_PATTERN,
    REGION_RULE,
    SLUG_PATTERN,
    SLUG_RESERVED_PREFIXES,
    SLUG_RULE,
    PlanError,
    Problem,
    assign_accounts,
    check_data_stores,
    check_github_ids,
    check_tiers,
    data_stores_of,
    parse_account_ids,
    parse_environments,
    parse_strategy,
    resolve_account_ids,
)
from .vocabulary import (
    Account,
    naming,
    persona_cases,
    settings,
    synth,
)

Settings = settings.Settings
Environment = settings.Environment
SETTINGS_FILE = settings.SETTINGS_FILE


@dataclass(frozen=True)
class Plan(synth.StackPlan):
    """The answers, decided: the generated repository's own ``Settings`` (what its ``multienv.toml``
    says once loaded: names, strategy, accounts, environments in promotion order) and what only
    the template needs (the code owners, the first keys of each configuration file).

    Everything else is the platform's ``StackPlan``, what ``multienv synth`` renders the platform's
    files from: the settings' properties (``default_environment``, ``production``,
    ``environment(name)``...), the CI stages, the persona table. The template's Jinja reads them
    through the plan, so each is decided once, in the platform, for the template and for every
    generated repository.
    """

    code_owners: tuple[str, ...]

    def environment_config(self, environment: Environment) -> dict[str, dict]:
        """The keys ``config/<env>.toml`` starts with: tier-dependent values and secret references."""
        env = environment.name
        return {
            **presets.tier_defaults(environment.tier),
            "secrets": {
                "app": {"store": "secretsmanager", "name": self.naming.secret_name(env, "app")},
                "api_token": {"store": "ssm", "name": self.naming.ssm_parameter(env, "api-token")},
            },
        }

    def access_cases(self) -> list:
        """The rows of access/generated-cases.csv (``multienv synth`` writes them), for the docs' counts."""
        return persona_cases.default_cases(
            ((e.name, e.tier, e.account.id) for e in self.environments), None, self.data_stores
        )


# --------------------------------------------------------------------------- the plan


def _text(answers: Mapping[str, object], key: str) -> str:
    value = answers.get(key, "")
    return "" if value is None else str(value)


def derived_from_name(answers: Mapping[str, object]) -> tuple[bool, bool]:
    """(project_slug is the one cookiecutter.json derives from project_name, package_name the one it
    derives from project_slug): a problem of a derived answer is the typed answer's to fix."""
    name, slug = _text(answers, "project_name"), _text(answers, "project_slug")
    try:
        from slugify import slugify  # cookiecutter's own slugify filter (python-slugify)
    except ImportError:  # pragma: no cover - cookiecutter always brings it
        slug_derived = False
    else:
        slug_derived = slug == slugify(name)
    return slug_derived, _text(answers, "package_name") == slug.replace("-", "_")


def _blame(problem: Problem, answers: Mapping[str, object]) -> Problem:
    """A problem of project_slug or package_name, told of the answer the user typed when they were derived."""
    slug_derived, package_derived = derived_from_name(answers)
    name, slug = _text(answers, "project_name"), _text(answers, "project_slug")
    if problem.field == "project_slug" and slug_derived:
        return Problem(
            "project_name",
            name,
            f"makes the slug {slug!r} (project_slug), which {problem.message}: change the name, "
            "or give project_slug yourself",
        )
    if problem.field == "package_name" and package_derived:
        typed = ("project_name", name) if slug_derived else ("project_slug", slug)
        return Problem(
            *typed,
            f"makes the package name {problem.value!r} (package_name), which "
            f"{problem.message.removesuffix(': choose another name')}: change the name, or give package_name yourself",
        )
    return problem


def check_identity(answers: Mapping[str, object]) -> list[Problem]:
    problems: list[Problem] = []
    name = _text(answers, "project_name")
    if not name.strip() or len(name) > PROJECT_NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in name):
        problems.append(Problem("project_name", name, f"must be 1 to {PROJECT_NAME_MAX} printable characters"))
    elif not any(c.isalnum() for c in name):
        problems.append(Problem("project_name", name, "must contain a letter or digit"))
    elif any(c in PROJECT_NAME_FORBIDDEN for c in name):
        problems.append(
            Problem(
                "project_name", name, f"must not contain {' or '.join(PROJECT_NAME_FORBIDDEN)}: it is quoted in code"
            )
        )
    slug = _text(answers, "project_slug")
    identity: list[Problem] = []
    if not SLUG_PATTERN.match(slug):
        identity.append(Problem("project_slug", slug, f"is not {SLUG_RULE}"))
    elif slug.startswith(SLUG_RESERVED_PREFIXES):
        identity.append(
            Problem("project_slug", slug, f"starts with a prefix S3 reserves ({', '.join(SLUG_RESERVED_PREFIXES)})")
        )
    package = _text(answers, "package_name")
    if identity and derived_from_name(answers)[1]:
        pass  # the package name follows the slug: the slug's problem is the one to fix
    elif not PACKAGE_PATTERN.match(package):
        identity.append(Problem("package_name", package, f"is not {PACKAGE_RULE}"))
    elif keyword.iskeyword(package) or package in sys.stdlib_module_names or package in PACKAGE_TAKEN:
        identity.append(
            Problem(
                "package_name",
                package,
                "would shadow a Python keyword or module this project imports: choose another name",
            )
        )
    problems += [_blame(problem, answers) for problem in identity]
    region = _text(answers, "aws_region")
    if not REGION_PATTERN.match(region):
        problems.append(Problem("aws_region", region, f"is not {REGION_RULE}"))
    repo = _text(answers, "github_repository")
    with_ids = GITHUB_WITH_IDS.match(repo)
    if with_ids:
        owner, owner_id, name, repo_id = with_ids.groups()
        problems.append(
            Problem(
                "github_repository",
                repo,
                f"is the repository as GitHub's subject claim writes it: give {owner}/{name} here, "
                f"and github_owner_id={owner_id}, github_repository_id={repo_id}",
            )
        )
    elif not GITHUB_PATTERN.match(repo) or repo.split("/")[-1] in (".", ".."):
        problems.append(Problem("github_repository", repo, f"is not {GITHUB_RULE}"))
    problems += check_github_ids(answers)
    problems += check_data_stores(answers)
    owners = _text(answers, "code_owners")
    if not owners.split():
        problems.append(Problem("code_owners", owners, f"is empty: give {CODE_OWNER_RULE}"))
    for owner in owners.split():
        if not CODE_OWNER_PATTERN.match(owner):
            problems.append(Problem("code_owners", owner, f"is not {CODE_OWNER_RULE}"))
    return problems


def build_plan(answers: Mapping[str, object]) -> Plan:
    """Validate the answers and return the plan, or raise ``PlanError`` with every problem.

    Each rule is checked on what parsed (with a mistyped value standing for its suggestion),
    so one run reports everything: bad names, the promotion order and account IDs together.
    """
    problems = check_identity(answers)
    raw_envs = _text(answers, "environments")
    parsed, env_problems, assumed = parse_environments(raw_envs)
    problems += env_problems
    if assumed:
        problems += check_tiers(assumed, raw_envs)

    strategy, strategy_problems, assumed_strategy = parse_strategy(_text(answers, "account_strategy"))
    problems += strategy_problems

    raw_ids = _text(answers, "account_ids")
    pairs, id_problems = parse_account_ids(raw_ids)
    problems += id_problems
    ids: dict[str, str] = {}
    if assumed_strategy is not None and assumed:
        rejected = frozenset(p.value.partition(":")[0] for p in env_problems)
        ids, account_problems = resolve_account_ids(
            assumed_strategy, assumed, pairs, raw_ids, skip=rejected, unsound=unsound_names(id_problems)
        )
        problems += account_problems

    # The name-length and policy-size rules, on what parsed: without problems, that is the plan.
    accounts: dict[str, Account] = {}
    if assumed_strategy is not None and assumed and not problems_in(problems, "account_ids"):
        accounts = assign_accounts(assumed_strategy, assumed, ids)

    slug = _text(answers, "project_slug")
    region = _text(answers, "aws_region")
    if accounts and assumed_strategy is not None and SLUG_PATTERN.match(slug):
        scheme = naming.Naming(slug=slug, region=region)
        devops_id = accounts[assumed_strategy.devops_account_key()].id
        env_ids = {name: accounts[assumed_strategy.account_key(name, tier)].id for name, tier in assumed}
        for message in scheme.too_long_problems([n for n, _ in assumed], devops_id, env_ids):
            problems.append(_blame(Problem("project_slug", slug, message), answers))

    if problems:
        raise PlanError(problems)

    assert strategy is not None
    environments = tuple(Environment(name, tier, accounts[strategy.account_key(name, tier)]) for name, tier in parsed)
    return Plan(
        settings=Settings(
            file=SETTINGS_FILE,
            project_name=_text(answers, "project_name"),
            slug=slug,
            package=_text(answers, "package_name"),
            region=region,
            github_repository=_text(answers, "github_repository"),
            strategy=strategy,
            accounts=tuple(accounts.values()),
            devops=accounts[strategy.devops_account_key()],
            environments=environments,
            github_owner_id=_text(answers, "github_owner_id").strip(),
            github_repository_id=_text(answers, "github_repository_id").strip(),
            data_stores=data_stores_of(answers),
        ),
        code_owners=tuple(_text(answers, "code_owners").split()),
    )


def unsound_names(id_problems: list[Problem]) -> frozenset[str]:
    """The names in ``name=id`` pairs that ``parse_account_ids`` refused for their ID."""
    return frozenset(p.value.partition("=")[0] for p in id_problems if "=" in p.value)


def problems_in(problems: list[Problem], field_name: str) -> list[Problem]:
    return [p for p in problems if p.field == field_name]


def answers_of(cookiecutter: Mapping[str, object]) -> dict[str, str]:
    """The user's answers only: cookiecutter's ``_`` keys hold machine-local paths."""
    return {key: str(cookiecutter.get(key, "")) for key in FIELDS}


# --------------------------------------------------------------------------- helpers for templates


def toml_value(value: object) -> str:
    """A TOML literal for a string, bool, int or list (JSON's string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def toml_tables(data: Mapping[str, object], prefix: str = "") -> str:
    """A TOML document for nested tables of scalars: ``[a]``, ``[a.b]`` ... in the order given."""
    blocks: list[str] = []
    scalars = [f"{key} = {toml_value(value)}" for key, value in data.items() if not isinstance(value, Mapping)]
    if prefix and scalars:
        blocks.append("\n".join([f"[{prefix}]", *scalars]))
    for key, value in data.items():
        if isinstance(value, Mapping):
            blocks.append(toml_tables(value, f"{prefix}.{key}" if prefix else key))
    return "\n\n".join(block for block in blocks if block)
