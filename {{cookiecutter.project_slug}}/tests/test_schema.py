"""The service's own keys (schema.py): checked beside the platform's, and the handler reads through them."""

import shutil
from pathlib import Path

import pytest
from multienv.config import ConfigError, Key
from multienv.config_files import schema as combined_schema
from multienv.settings import load_settings

import {{ cookiecutter.package_name }}.handler as handler
import {{ cookiecutter.package_name }}.schema as schema

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = load_settings(ROOT / "multienv.toml")
DEV = SETTINGS.default_environment.name


@pytest.fixture
def folder(tmp_path):
    """A copy of this repository's config/ to edit."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path / "config"


def append(folder, name, text):
    path = folder / f"{name}.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_every_team_key_is_set_for_every_environment():
    """The loader refuses a key of the schema missing from an environment's files, naming both."""
    for env in SETTINGS.names:
        schema.load(env, settings=SETTINGS)


# (text of config/shared.toml, what replaces it, fragments of the error)
TEAM_ERRORS = {
    "below the minimum": (
        "request_timeout_seconds = 10",
        "request_timeout_seconds = 0",
        ["shared.toml: service.request_timeout_seconds: 0 is below the minimum of 1"],
    ),
    "wrong type": (
        "max_retries = 3",
        'max_retries = "three"',
        ["shared.toml: service.max_retries: must be an integer, not string 'three'"],
    ),
    "misspelt key": (
        "max_retries = 3",
        "max_retry = 3",
        ["shared.toml: service.max_retry: is not a known key", "did you mean 'max_retries'?"],
    ),
    "key left out": ("max_retries = 3", "", ["service.max_retries: is missing; set it in", "shared.toml or"]),
}


@pytest.mark.parametrize(("old", "new", "fragments"), TEAM_ERRORS.values(), ids=TEAM_ERRORS.keys())
def test_the_team_keys_are_checked_with_the_file_and_the_key(folder, old, new, fragments):
    path = folder / "shared.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        schema.load(DEV, settings=SETTINGS, config_dir=folder)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_team_key_cannot_redefine_a_platform_key():
    with pytest.raises(ConfigError, match=r"service\.debug is the platform's"):
        combined_schema({"service": {"debug": Key(str)}})
    with pytest.raises(ConfigError, match=r"\[secrets\] is the platform's table"):
        combined_schema({"secrets": {"x": Key(str)}})


def test_a_new_team_table_is_checked_like_the_others(folder):
    keys = {**schema.KEYS, "cache": {"ttl_seconds": Key(int, minimum=0)}}
    with pytest.raises(ConfigError, match=r"cache: is missing"):
        schema.load_config(DEV, keys=keys, settings=SETTINGS, config_dir=folder)
    append(folder, "shared", "\n[cache]\nttl_seconds = 30\n")
    assert schema.load_config(DEV, keys=keys, settings=SETTINGS, config_dir=folder).cache.ttl_seconds == 30


def test_the_handler_reads_its_configuration_through_the_schema(monkeypatch):
    monkeypatch.setenv("ENV_NAME", DEV)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.delenv("USER_ENV_NAME", raising=False)
    seen = []
    monkeypatch.setattr(schema, "load", lambda env: seen.append(env) or schema.load_config(env, settings=SETTINGS))
    answer = handler.handler({}, None)
    assert seen == [DEV]
    expected = schema.load_config(DEV, settings=SETTINGS).service.request_timeout_seconds
    assert answer["config"]["request_timeout_seconds"] == expected
