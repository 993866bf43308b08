"""The plan: what a set of answers to this template means, decided once.

``build_plan(answers)`` turns the raw prompt answers into a validated, typed ``Plan``:
the environments in promotion order with their tiers, the account each one lives in
under the chosen strategy, the DevOps account and every name derived from the slug.
Every violation is collected, so a user sees all of them at once.

The pre-gen hook, the post-gen hook, the Jinja files (through ``local_extensions``)
and the tests all read this module. The vocabulary (tiers, strategies, the naming
scheme, the promotion rules, the persona table) lives in the generated repository
itself, in its ``multienv`` runtime and ``multienv_tools`` packages, which this module
imports from the template tree: one copy serves the template and every generated
repository.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import posixpath
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

TEMPLATE_ROOT = Path(__file__).resolve().parent
PROJECT_TEMPLATE = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
RUNTIME_TEMPLATE = PROJECT_TEMPLATE / "src" / "multienv"
TOOLS_TEMPLATE = PROJECT_TEMPLATE / "tools" / "multienv_tools"
PER_ENVIRONMENT_TEMPLATES = TEMPLATE_ROOT / "per_environment"
ENV_PLACEHOLDER = "__env__"
# The generated repository's two stdlib-importable packages, by import name.
_PACKAGES = {"multienv": RUNTIME_TEMPLATE, "multienv_tools": TOOLS_TEMPLATE}


def generated_module(qualified: str) -> ModuleType:
    """A module of the generated repository (``multienv.model``, ``multienv_tools.personas``), imported
    from the template tree. Its package is registered from the template's folder first, so the module's
    own imports (``from multienv.naming import ...``) resolve to the same files: one copy of each rule."""
    package_name = qualified.partition(".")[0]
    if package_name not in sys.modules:
        folder = _PACKAGES[package_name]
        spec = importlib.util.spec_from_file_location(
            package_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec and spec.loader
        package = importlib.util.module_from_spec(spec)
        sys.modules[package_name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(qualified)


model = generated_module("multienv.model")
naming = generated_module("multienv.naming")
personas = generated_module("multienv_tools.personas")
pipeline = generated_module("multienv_tools.pipeline")
Tier = model.Tier
AccountStrategy = model.AccountStrategy
Account = model.Account

# The questions, in cookiecutter.json's order (its "_" keys are settings, not questions).
FIELDS = tuple(
    key for key in json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text(encoding="utf-8")) if key[0] != "_"
)

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SLUG_RULE = "kebab-case: a lowercase letter first, then lowercase letters, digits and single hyphens"
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
GITHUB_RULE = "owner/name, as in github.com/owner/name"
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


class PlanError(ValueError):
    """Raised with every problem found in a set of answers."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Environment:
    name: str
    tier: model.Tier
    account: Account
    position: int

    @property
    def is_production(self) -> bool:
        return self.tier.is_production


@dataclass(frozen=True)
class Plan:
    project_name: str
    project_slug: str
    package_name: str
    strategy: model.AccountStrategy
    region: str
    github_repository: str
    code_owners: tuple[str, ...]
    environments: tuple[Environment, ...]
    devops: Account
    accounts: tuple[Account, ...]
    account_ids_given: bool
    naming: naming.Naming = field(compare=False)

    @property
    def env_names(self) -> list[str]:
        return [e.name for e in self.environments]

    @property
    def default_environment(self) -> Environment:
        """Where a local run lands when nothing says otherwise: the first development-tier one."""
        return next(e for e in self.environments if e.tier is Tier.DEVELOPMENT)

    @property
    def production(self) -> Environment:
        return next(e for e in self.environments if e.is_production)

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)

    def environments_in(self, account: Account) -> list[Environment]:
        return [e for e in self.environments if e.account.key == account.key]

    def environment_config(self, environment: Environment) -> dict[str, dict]:
        """The keys ``config/<env>.toml`` starts with: tier-dependent values and secret references."""
        env = environment.name
        return {
            **model.tier_defaults(environment.tier),
            "secrets": {
                "app": {"store": "secretsmanager", "name": self.naming.secret_name(env, "app")},
                "api_token": {"store": "ssm", "name": self.naming.ssm_parameter(env, "api-token")},
            },
        }

    @property
    def pipeline(self) -> ModuleType:
        """The generated package's ``pipeline.py``: CI's rules and names."""
        return pipeline

    @property
    def ci_stages(self) -> list:
        """The deploy workflow's environment jobs, in promotion order, as ``pipeline.py`` decides them."""
        return pipeline.stages((e.name, e.tier) for e in self.environments)

    @property
    def ci_dispatch_targets(self) -> list[str]:
        return pipeline.dispatch_targets((e.name, e.tier) for e in self.environments)

    # --- personas and the access matrix (decided in the generated package's personas.py)
    def persona_rows(self) -> list[tuple[str, list[str]]]:
        """(persona title, its grant in each environment) for the persona table of docs/personas.md."""
        return [
            (personas.TITLES[p], [personas.grant(e.tier, p).summary for e in self.environments])
            for p in personas.PERSONAS
        ]

    def access_cases(self) -> list:
        return personas.default_cases((e.name, e.tier) for e in self.environments)

    def access_cases_csv(self) -> str:
        return personas.render_cases(self.access_cases())

    def to_dict(self) -> dict:
        return {
            "project_name": self.project_name,
            "project_slug": self.project_slug,
            "package_name": self.package_name,
            "account_strategy": self.strategy.value,
            "aws_region": self.region,
            "github_repository": self.github_repository,
            "code_owners": list(self.code_owners),
            "devops_account": self.devops.key,
            "accounts": {a.key: a.id for a in self.accounts},
            "account_ids_given": self.account_ids_given,
            "environments": [
                {"name": e.name, "tier": e.tier.value, "account": e.account.key} for e in self.environments
            ],
        }


# --------------------------------------------------------------------------- parsing


def _did_you_mean(value: str, options, otherwise: str) -> tuple[str | None, str]:
    """The closest option and the message tail: ``did you mean x?`` or ``otherwise``."""
    suggestion = model.closest(value, options)
    return suggestion, (f"did you mean {suggestion}?" if suggestion else otherwise)


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
            if known:
                tail += f" Or write {name}:<tier>."
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


# --------------------------------------------------------------------------- the plan


def _text(answers: Mapping[str, object], key: str) -> str:
    value = answers.get(key, "")
    return "" if value is None else str(value)


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
    if not SLUG_PATTERN.match(slug):
        problems.append(Problem("project_slug", slug, f"is not {SLUG_RULE}"))
    elif slug.startswith(SLUG_RESERVED_PREFIXES):
        problems.append(
            Problem("project_slug", slug, f"starts with a prefix S3 reserves ({', '.join(SLUG_RESERVED_PREFIXES)})")
        )
    package = _text(answers, "package_name")
    if not PACKAGE_PATTERN.match(package):
        problems.append(Problem("package_name", package, f"is not {PACKAGE_RULE}"))
    elif keyword.iskeyword(package) or package in sys.stdlib_module_names or package in PACKAGE_TAKEN:
        problems.append(
            Problem(
                "package_name",
                package,
                "would shadow a Python keyword or module this project imports: choose another name",
            )
        )
    region = _text(answers, "aws_region")
    if not REGION_PATTERN.match(region):
        problems.append(Problem("aws_region", region, f"is not {REGION_RULE}"))
    repo = _text(answers, "github_repository")
    if not GITHUB_PATTERN.match(repo) or repo.split("/")[-1] in (".", ".."):
        problems.append(Problem("github_repository", repo, f"is not {GITHUB_RULE}"))
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
    if accounts and SLUG_PATTERN.match(slug):
        scheme = naming.Naming(slug=slug, region=region)
        devops_id = accounts[assumed_strategy.devops_account_key()].id
        env_ids = {name: accounts[assumed_strategy.account_key(name, tier)].id for name, tier in assumed}
        for kind, name, limit in scheme.too_long([n for n, _ in assumed], devops_id, env_ids):
            problems.append(
                Problem(
                    "project_slug",
                    slug,
                    f"makes the {kind.replace('_', ' ')} name {name!r} {len(name)} characters long; "
                    f"AWS allows {limit}: shorten the slug or the environment names",
                )
            )

    if problems:
        raise PlanError(problems)

    assert strategy is not None
    environments = tuple(
        Environment(name, tier, accounts[strategy.account_key(name, tier)], position)
        for position, (name, tier) in enumerate(parsed)
    )
    return Plan(
        project_name=_text(answers, "project_name"),
        project_slug=slug,
        package_name=_text(answers, "package_name"),
        strategy=strategy,
        region=region,
        github_repository=_text(answers, "github_repository"),
        code_owners=tuple(_text(answers, "code_owners").split()),
        environments=environments,
        devops=accounts[strategy.devops_account_key()],
        accounts=tuple(accounts.values()),
        account_ids_given=bool(ids),
        naming=naming.Naming(slug=slug, region=region),
    )


def unsound_names(id_problems: list[Problem]) -> frozenset[str]:
    """The names in ``name=id`` pairs that ``parse_account_ids`` refused for their ID."""
    return frozenset(p.value.partition("=")[0] for p in id_problems if "=" in p.value)


def problems_in(problems: list[Problem], field_name: str) -> list[Problem]:
    return [p for p in problems if p.field == field_name]


def answers_of(cookiecutter: Mapping[str, object]) -> dict[str, str]:
    """The user's answers only: cookiecutter's ``_`` keys hold machine-local paths."""
    return {key: str(cookiecutter.get(key, "")) for key in FIELDS}


# --------------------------------------------------------------------------- hooks


def error_lines(answers: Mapping[str, object]) -> list[str]:
    """What the pre-gen hook prints: one ``ERROR:`` line per problem and a summary, or nothing."""
    try:
        build_plan(answers)
    except PlanError as error:
        lines = [f"ERROR: {problem}" for problem in error.problems]
        return [*lines, f"ERROR: {len(error.problems)} answer(s) rejected; nothing was generated."]
    return []


def retry_lines(answers: Mapping[str, object], template: str, output_dir: str | None = None) -> list[str]:
    """After the ERROR lines: the command that bakes again with these answers, to correct and run."""
    pairs = " ".join(shlex.quote(f"{key}={value}") for key, value in answers_of(answers).items())
    where = f" --output-dir {shlex.quote(output_dir)}" if output_dir else ""
    return [
        "To try again without typing every answer, correct this command and run it:",
        f"  cookiecutter {shlex.quote(template)}{where} --no-input {pairs}",
    ]


def pre_gen_shell(answers: Mapping[str, object], template: str | None = None, output_dir: str | None = None) -> str:
    """The body of the pre-gen hook: print the ERROR lines to stderr and fail, or succeed.

    With ``template`` (what cookiecutter was asked to bake), a retry command follows the lines."""
    lines = error_lines(answers)
    if not lines:
        return "exit 0"
    if template:
        lines += retry_lines(answers, template, output_dir)
    return "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines) + " >&2\nexit 1"


def next_steps_shell() -> str:
    """What the post-gen hook prints last: where the project is and the next three commands."""
    return "\n".join(
        [
            "here=$(pwd)",
            "printf '%s\\n' '' \"Generated $here. Next:\" \"  cd '$here'\" "
            "'  make install       # the development tools, in .venv' "
            "'  make check         # everything CI runs, offline; then: make local-deploy'",
        ]
    )


def post_gen_shell(plan: Plan) -> str:
    """The body of the post-gen hook: write each per-environment file, byte for byte."""
    commands = ["set -eu"]
    for name, text in per_environment_contents(plan).items():
        folder = posixpath.dirname(name)
        if folder:
            commands.append(f"mkdir -p {shlex.quote(folder)}")
        commands.append(f"printf '%s' {shlex.quote(text)} > {shlex.quote(name)}")
    commands.append(next_steps_shell())
    return "\n".join(commands)


def per_environment_files() -> list[str]:
    """Paths of the files written once per environment, with ``__env__`` standing for its name."""
    return sorted(
        path.relative_to(PER_ENVIRONMENT_TEMPLATES).as_posix().removesuffix(".j2")
        for path in PER_ENVIRONMENT_TEMPLATES.rglob("*")
        if path.is_file()
    )


def per_environment_contents(plan: Plan) -> dict[str, str]:
    """``{relative path: text}`` of every file written once per environment, in a stable order."""
    import jinja2  # always there: cookiecutter renders with it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PER_ENVIRONMENT_TEMPLATES)),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["toml"] = toml_value
    env.filters["toml_tables"] = toml_tables
    contents: dict[str, str] = {}
    for template_name in sorted(env.list_templates()):
        template = env.get_template(template_name)
        for environment in plan.environments:
            target = template_name.replace(ENV_PLACEHOLDER, environment.name).removesuffix(".j2")
            contents[target] = template.render(plan=plan, environment=environment)
    return contents


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
