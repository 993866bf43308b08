"""multienv.toml is the single record: it must be coherent, and every file that depends on it must follow it."""

import re
import tomllib

import pytest
from baked import ROOT

from multienv.model import AccountStrategy, Tier, is_placeholder
from multienv.naming import LIMITS
from multienv.settings import SettingsError, load_settings, parse_settings

SETTINGS_PATH = ROOT / "multienv.toml"


@pytest.fixture(scope="module")
def settings():
    return load_settings(SETTINGS_PATH)


@pytest.fixture
def raw():
    return tomllib.loads(SETTINGS_PATH.read_text(encoding="utf-8"))


def test_local_default_is_the_first_development_environment(raw):
    strategy = AccountStrategy(raw["project"]["account_strategy"])
    envs = [("sbx", Tier.SANDBOX), ("feature", Tier.DEVELOPMENT), ("dev", Tier.DEVELOPMENT), ("prd", Tier.PRODUCTION)]
    raw.update(settings_file(strategy, envs))
    assert parse_settings(raw, SETTINGS_PATH).default_environment.name == "feature"


# --- accounts follow the strategy: the loader refuses a file that places them otherwise

# sbx, dev and prd as the template writes them under each strategy (devops account, then environments').
PLACED = {
    "full_isolation": ("devops", {"devops": 1, "sbx": 2, "dev": 3, "prd": 4}, ["sbx", "dev", "prd"]),
    "hybrid": ("devops", {"devops": 1, "nonprod": 2, "prod": 3}, ["nonprod", "nonprod", "prod"]),
    "consolidated_nonprod": ("devops", {"devops": 1, "workloads": 2}, ["workloads"] * 3),
    "single_account": ("main", {"main": 1}, ["main"] * 3),
}
TIERS = {"sbx": "sandbox", "dev": "development", "prd": "production"}


def literal_file(strategy: str, devops: str, accounts: dict[str, int], placed: list[str]) -> dict:
    return {
        "project": {
            **tomllib.loads(SETTINGS_PATH.read_text(encoding="utf-8"))["project"],
            "account_strategy": strategy,
        },
        "accounts": {key: str(111111111111 * n) for key, n in accounts.items()},
        "devops": {"account": devops},
        "environments": [
            {"name": name, "tier": tier, "account": account}
            for (name, tier), account in zip(TIERS.items(), placed, strict=True)
        ],
    }


def settings_file(strategy: AccountStrategy, envs: list[tuple[str, Tier]]) -> dict:
    """The [accounts], [devops] and [[environments]] of a file that places ``envs`` as ``strategy`` says."""
    members = strategy.accounts(envs)
    return {
        "accounts": {key: str(111111111111 * number) for number, key in enumerate(members, start=1)},
        "devops": {"account": strategy.devops_account_key()},
        "environments": [
            {"name": name, "tier": tier.value, "account": strategy.account_key(name, tier)} for name, tier in envs
        ],
    }


@pytest.mark.parametrize("strategy", list(PLACED))
def test_a_file_that_follows_its_strategy_loads(strategy):
    devops, accounts, placed = PLACED[strategy]
    loaded = parse_settings(literal_file(strategy, devops, accounts, placed), SETTINGS_PATH)
    assert [e.account.key for e in loaded.environments] == placed
    assert loaded.devops.key == devops


# (strategy, what a team edited, the error expected): one misplacement each.
MISPLACED = [
    pytest.param(
        "full_isolation",
        lambda f: f["environments"][1].update(account="sbx"),
        r"environments\[1\]\.account: dev \(development\) is in 'sbx': under full_isolation it lives in 'dev'",
        id="full_isolation-dev-in-sbx",
    ),
    pytest.param(
        "full_isolation",
        lambda f: f["environments"][2].update(account="dev"),
        r"environments\[2\]\.account: prd \(production\) is in 'dev': under full_isolation it lives in 'prd'",
        id="full_isolation-prd-in-dev",
    ),
    pytest.param(
        "hybrid",
        lambda f: f["environments"][2].update(account="nonprod"),
        r"environments\[2\]\.account: prd \(production\) is in 'nonprod': under hybrid it lives in 'prod'",
        id="hybrid-prd-in-nonprod",
    ),
    pytest.param(
        "hybrid",
        lambda f: f["environments"][0].update(account="prod"),
        r"environments\[0\]\.account: sbx \(sandbox\) is in 'prod': under hybrid it lives in 'nonprod'",
        id="hybrid-sbx-in-prod",
    ),
    pytest.param(
        "consolidated_nonprod",
        lambda f: (f["accounts"].update(prod="999999999999"), f["environments"][2].update(account="prod")),
        r"environments\[2\]\.account: prd \(production\) is in 'prod': "
        r"under consolidated_nonprod it lives in 'workloads'",
        id="consolidated_nonprod-prd-in-prod",
    ),
    pytest.param(
        "consolidated_nonprod",
        lambda f: f["devops"].update(account="workloads"),
        r"devops\.account: is 'workloads': under consolidated_nonprod the DevOps side lives in 'devops'",
        id="consolidated_nonprod-devops-in-workloads",
    ),
    pytest.param(
        "single_account",
        lambda f: (f["accounts"].update(devops="999999999999"), f["devops"].update(account="devops")),
        r"devops\.account: is 'devops': under single_account the DevOps side lives in 'main'",
        id="single_account-devops-apart",
    ),
    pytest.param(
        "single_account",
        lambda f: (f["accounts"].update(prd="999999999999"), f["environments"][2].update(account="prd")),
        r"environments\[2\]\.account: prd \(production\) is in 'prd': under single_account it lives in 'main'",
        id="single_account-prd-apart",
    ),
]


@pytest.mark.parametrize("strategy,edit,expected", MISPLACED)
def test_an_account_that_does_not_follow_the_strategy_is_refused(strategy, edit, expected):
    data = literal_file(strategy, *PLACED[strategy])
    edit(data)
    with pytest.raises(SettingsError, match=rf"^{re.escape(str(SETTINGS_PATH))}: {expected}"):
        parse_settings(data, SETTINGS_PATH)


def test_an_account_the_strategy_does_not_have_is_refused():
    data = literal_file("hybrid", *PLACED["hybrid"])
    data["accounts"]["spare"] = "999999999999"
    with pytest.raises(
        SettingsError, match=r"accounts\.spare: is not an account under hybrid: the accounts are devops, nonprod, prod"
    ):
        parse_settings(data, SETTINGS_PATH)


def test_every_misplaced_account_is_named_at_once():
    data = literal_file("full_isolation", *PLACED["full_isolation"])
    data["environments"][1]["account"] = "sbx"
    data["environments"][2]["account"] = "sbx"
    with pytest.raises(SettingsError) as refused:
        parse_settings(data, SETTINGS_PATH)
    lines = str(refused.value).splitlines()
    assert [line.partition(": ")[2].partition(":")[0] for line in lines] == [
        "environments[1].account",
        "environments[2].account",
    ]


def test_this_repositorys_production_moved_next_to_its_first_environment_is_refused(raw):
    strategy = AccountStrategy(raw["project"]["account_strategy"])
    first, production = raw["environments"][0], raw["environments"][-1]
    if first["account"] == production["account"]:
        pytest.skip(f"under {strategy.value} every environment shares one account")
    production["account"] = first["account"]
    index = len(raw["environments"]) - 1
    with pytest.raises(SettingsError, match=rf"environments\[{index}\]\.account: {production['name']} \(production\)"):
        parse_settings(raw, SETTINGS_PATH)


def test_every_environment_has_its_config_file(settings):
    config = ROOT / "config"
    assert (config / "shared.toml").is_file()
    for env in settings.environments:
        assert (config / f"{env.name}.toml").is_file(), f"config/{env.name}.toml is missing"
    extra = {p.stem for p in config.glob("*.toml")} - {"shared", *settings.names}
    assert not extra, f"config files for environments not in multienv.toml: {sorted(extra)}"


def test_every_name_fits_aws_limits(settings):
    env_accounts = {env.name: env.account.id for env in settings.environments}
    assert settings.naming.too_long(list(settings.names), settings.devops.id, env_accounts) == []


def test_a_slug_that_makes_a_name_too_long_for_aws_is_refused(raw):
    """The bake refuses such a slug; a multienv.toml edited by hand is refused the same way."""
    raw["project"]["slug"] = "a" * 50
    with pytest.raises(SettingsError) as refused:
        parse_settings(raw, SETTINGS_PATH)
    role = f"role name '{'a' * 50}-"
    assert f"project.slug: '{'a' * 50}' makes the iam " in str(refused.value) and role in str(refused.value)
    assert f"AWS allows {LIMITS['iam_role']}" in str(refused.value)


def test_placeholder_ids_are_recognised(raw):
    assert is_placeholder("000000000001") and is_placeholder("000000000042")
    assert not is_placeholder("111111111111") and not is_placeholder("000000010001")
    raw["accounts"] = {key: f"{index:012d}" for index, key in enumerate(raw["accounts"], start=111111111111)}
    assert not parse_settings(raw, SETTINGS_PATH).uses_placeholders
    raw["accounts"][next(iter(raw["accounts"]))] = "000000000001"
    assert parse_settings(raw, SETTINGS_PATH).uses_placeholders


def test_a_production_environment_that_is_not_last_is_rejected(raw):
    raw["environments"].append(raw["environments"].pop(0))
    with pytest.raises(SettingsError, match="must end with the production environment"):
        parse_settings(raw, SETTINGS_PATH)


@pytest.mark.parametrize("name", ["devops", "identity", "shared"])
def test_a_name_the_scheme_uses_is_refused_as_an_environment(raw, name):
    raw["environments"][0]["name"] = name
    with pytest.raises(SettingsError, match=rf"environments\[0\]\.name: '{name}' is reserved"):
        parse_settings(raw, SETTINGS_PATH)


def test_an_unknown_tier_names_the_key(raw):
    raw["environments"][0]["tier"] = "prodution"
    with pytest.raises(SettingsError, match=r"environments\[0\]\.tier: 'prodution'"):
        parse_settings(raw, SETTINGS_PATH)


def test_a_malformed_account_id_names_the_account(raw):
    key = next(iter(raw["accounts"]))
    raw["accounts"][key] = "12345"
    with pytest.raises(SettingsError, match=f"accounts.{key}: '12345'"):
        parse_settings(raw, SETTINGS_PATH)


def test_two_accounts_with_one_id_are_rejected(raw):
    keys = list(raw["accounts"])
    if len(keys) < 2:
        pytest.skip("single account")
    raw["accounts"][keys[1]] = raw["accounts"][keys[0]]
    with pytest.raises(SettingsError, match="separate accounts"):
        parse_settings(raw, SETTINGS_PATH)


def test_two_production_environments_are_rejected(raw):
    raw["environments"].insert(0, {**raw["environments"][-1], "name": "prod2"})
    with pytest.raises(SettingsError, match=r"exactly one production-tier environment \(found: prod2, "):
        parse_settings(raw, SETTINGS_PATH)


def test_an_environment_listed_twice_is_rejected(raw):
    raw["environments"].insert(0, {**raw["environments"][0]})
    with pytest.raises(SettingsError, match="more than once"):
        parse_settings(raw, SETTINGS_PATH)
