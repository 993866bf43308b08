"""multienv.toml is the single record: it must be coherent, and every file that depends on it must follow it."""

import tomllib
from pathlib import Path

import pytest

from multienv.model import AccountStrategy, Tier, is_placeholder
from multienv.naming import LIMITS
from multienv.settings import SettingsError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_PATH = ROOT / "multienv.toml"


@pytest.fixture(scope="module")
def settings():
    return load_settings(SETTINGS_PATH)


@pytest.fixture
def raw():
    return tomllib.loads(SETTINGS_PATH.read_text(encoding="utf-8"))


def test_production_is_last_and_unique(settings):
    tiers = [env.tier for env in settings.environments]
    assert tiers[-1] is Tier.PRODUCTION
    assert tiers.count(Tier.PRODUCTION) == 1


def test_local_default_is_the_first_development_environment(raw):
    raw["environments"] = [
        {"name": "sbx", "tier": "sandbox", "account": raw["environments"][0]["account"]},
        {"name": "feature", "tier": "development", "account": raw["environments"][0]["account"]},
        {"name": "dev", "tier": "development", "account": raw["environments"][0]["account"]},
        {**raw["environments"][-1]},
    ]
    assert parse_settings(raw, SETTINGS_PATH).default_environment.name == "feature"


def test_accounts_follow_the_strategy(settings):
    for env in settings.environments:
        assert env.account.key == settings.strategy.account_key(env.name, env.tier)
    assert settings.devops.key == settings.strategy.devops_account_key()
    if settings.strategy is AccountStrategy.FULL_ISOLATION:
        assert len({env.account.id for env in settings.environments}) == len(settings.environments)


def test_every_environment_has_its_config_file(settings):
    config = ROOT / "config"
    assert (config / "shared.toml").is_file()
    for env in settings.environments:
        assert (config / f"{env.name}.toml").is_file(), f"config/{env.name}.toml is missing"
    extra = {p.stem for p in config.glob("*.toml")} - {"shared", *settings.names}
    assert not extra, f"config files for environments not in multienv.toml: {sorted(extra)}"


def test_every_name_fits_aws_limits(settings):
    env_accounts = {env.name: env.account.id for env in settings.environments}
    names = settings.naming.all_names(list(settings.names), settings.devops.id, env_accounts)
    too_long = [(kind, name) for kind, name in names if len(name) > LIMITS[kind]]
    assert not too_long


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


@pytest.mark.parametrize("name", ["devops", "identity"])
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
