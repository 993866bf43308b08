"""The configuration loader: merge order, every schema error, missing files, secret references, lazy secrets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from baked import ROOT
from botocore.stub import Stubber
from fixture_schema import KEYS

from multienv.config import ConfigError, Key, load_config, merge
from multienv.model import LOG_LEVELS, Tier
from multienv.secrets import AwsFetch, SecretError, Secrets
from multienv.settings import load_settings, parse_settings

PACKAGE = load_settings(ROOT / "multienv.toml").package
REPO_SETTINGS = load_settings(ROOT / "multienv.toml")

LAYOUT = parse_settings(
    {
        "project": {
            "name": "Config test",
            "slug": "ct",
            "package": "ct",
            "region": "eu-west-1",
            "github_repository": "owner/ct",
            "account_strategy": "full_isolation",
        },
        "accounts": {"devops": "111111111111", "dev": "222222222222", "prd": "333333333333"},
        "devops": {"account": "devops"},
        "environments": [
            {"name": "dev", "tier": "development", "account": "dev"},
            {"name": "prd", "tier": "production", "account": "prd"},
        ],
    },
    Path("multienv.toml"),
)

SHARED = """
[service]
debug = false
request_timeout_seconds = 10
max_retries = 3

[log]
level = "INFO"
json = true

[features]
new_checkout = false
beta_search = false

[secrets]
"""
DEV = """
[service]
debug = true

[features]
beta_search = true

[secrets.app]
store = "secretsmanager"
name = "ct/dev/app"

[secrets.api_token]
store = "ssm"
name = "/ct/dev/api-token"
"""
PRD = """
[log]
level = "WARNING"
"""


@pytest.fixture
def folder(tmp_path):
    for name, text in (("shared", SHARED), ("dev", DEV), ("prd", PRD)):
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def load(folder, env="dev"):
    return load_config(env, keys=KEYS, settings=LAYOUT, config_dir=folder)


def test_environment_file_wins_key_by_key_and_tables_merge(folder):
    config = load(folder)
    assert config.service.debug is True  # from dev.toml
    assert config.service.request_timeout_seconds == 10  # from shared.toml, same table
    assert config.features == {"new_checkout": False, "beta_search": True}
    assert (config.env, config.tier) == ("dev", Tier.DEVELOPMENT)
    assert set(config.secrets) == {"app", "api_token"}


@pytest.mark.parametrize("kind", [str, bool])
def test_a_minimum_is_refused_on_a_key_that_is_not_a_number(kind):
    with pytest.raises(
        ConfigError, match=rf"^Key\({kind.__name__}, minimum=1\): a minimum is for int and float keys only$"
    ):
        Key(kind, minimum=1)


@pytest.mark.parametrize(("kind", "minimum"), [(int, 0), (float, 0.5)])
def test_a_number_key_takes_a_minimum(kind, minimum):
    assert Key(kind, minimum=minimum).minimum == minimum


def test_the_same_shared_file_serves_every_environment(folder):
    config = load(folder, "prd")
    assert (config.service.debug, config.log.level, config.features["beta_search"]) == (False, "WARNING", False)
    assert config.secrets == {}


def test_merge_is_deep_and_leaves_its_inputs_alone():
    base = {"a": {"x": 1, "y": {"p": 1}}, "b": 1, "c": {"k": 1}}
    override = {"a": {"y": {"q": 2}}, "b": {"now": "table"}, "c": 5}
    merged = merge(base, override)
    assert merged == {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": {"now": "table"}, "c": 5}
    assert base == {"a": {"x": 1, "y": {"p": 1}}, "b": 1, "c": {"k": 1}}


# (file to change, its new text or text to append, fragments of the error)
SCHEMA_ERRORS = {
    "unknown key": ("dev", "append", "[log]\nlevl = 'INFO'\n", ["dev.toml: log.levl: is not a known key", "level"]),
    "unknown table": ("shared", "append", "[servise]\ndebug = true\n", ["shared.toml: servise: is not a known key"]),
    "missing key": (
        "shared",
        "replace",
        SHARED.replace("max_retries = 3\n", ""),
        ["service.max_retries: is missing", "shared.toml or", "dev.toml"],
    ),
    "missing table": (
        "shared",
        "replace",
        SHARED.split("[log]")[0] + SHARED.split("json = true")[1],
        ["log: is missing"],
    ),
    "string for integer": (
        "dev",
        "replace",
        DEV.replace("debug = true", "debug = true\nmax_retries = '3'"),
        ["dev.toml: service.max_retries: must be an integer, not string '3'"],
    ),
    "boolean for integer": (
        "shared",
        "replace",
        SHARED.replace("request_timeout_seconds = 10", "request_timeout_seconds = true"),
        ["shared.toml: service.request_timeout_seconds: must be an integer, not boolean True"],
    ),
    "integer for boolean": (
        "dev",
        "replace",
        DEV.replace("debug = true", "debug = 1"),
        ["dev.toml: service.debug: must be true or false, not integer 1"],
    ),
    "float for integer": (
        "dev",
        "replace",
        DEV.replace("debug = true", "debug = true\nrequest_timeout_seconds = 2.5"),
        ["service.request_timeout_seconds: must be an integer, not float 2.5"],
    ),
    "value not in choices": (
        "dev",
        "append",
        "[log]\nlevel = 'VERBOSE'\n",
        ["dev.toml: log.level: 'VERBOSE' is not one of " + ", ".join(LOG_LEVELS)],
    ),
    "below minimum": (
        "dev",
        "replace",
        DEV.replace("debug = true", "debug = true\nrequest_timeout_seconds = 0"),
        ["service.request_timeout_seconds: 0 is below the minimum of 1"],
    ),
    "scalar for table": ("dev", "replace", "service = 3\n", ["dev.toml: service: must be a table, not integer 3"]),
    "flag not a boolean": (
        "dev",
        "replace",
        DEV.replace("beta_search = true", "beta_search = 'yes'"),
        ["dev.toml: features.beta_search: must be true or false, not string 'yes'"],
    ),
    "unknown secret store": (
        "dev",
        "replace",
        DEV.replace('store = "ssm"', 'store = "vault"'),
        ["dev.toml: secrets.api_token.store: 'vault' is not one of ssm, secretsmanager"],
    ),
    "secret without a name": (
        "dev",
        "replace",
        DEV.replace('name = "ct/dev/app"\n', ""),
        ["secrets.app.name: is missing"],
    ),
    "secret of another environment": (
        "dev",
        "replace",
        DEV.replace("ct/dev/app", "ct/prd/app"),
        ["dev.toml: secrets.app.name: 'ct/prd/app' is outside the secretsmanager names of dev", "'ct/dev/'"],
    ),
    "parameter of another project": (
        "dev",
        "replace",
        DEV.replace("/ct/dev/api-token", "/other/dev/api-token"),
        ["secrets.api_token.name: '/other/dev/api-token' is outside the ssm names of dev", "'/ct/dev/'"],
    ),
    "bare namespace as a name": (
        "dev",
        "replace",
        DEV.replace("/ct/dev/api-token", "/ct/dev/"),
        ["secrets.api_token.name: '/ct/dev/' is outside"],
    ),
    "secret ARN of another account": (
        "dev",
        "replace",
        DEV.replace('"ct/dev/app"', '"arn:aws:secretsmanager:eu-west-1:333333333333:secret:ct/dev/app-AbCdEf"'),
        ["secrets.app.name", "is outside", "arn:aws:secretsmanager:eu-west-1:222222222222:secret:ct/dev/"],
    ),
    "debug in production": (
        "prd",
        "append",
        "[service]\ndebug = true\n",
        ["prd.toml: service.debug: must be false in prd, the production environment"],
    ),
    "DEBUG logs in production": (
        "prd",
        "replace",
        PRD.replace("WARNING", "DEBUG"),
        ["prd.toml: log.level: DEBUG logs are not allowed in prd"],
    ),
    "not TOML": ("dev", "append", "[service\n", ["dev.toml: not valid TOML"]),
}


@pytest.mark.parametrize(("target", "how", "text", "fragments"), SCHEMA_ERRORS.values(), ids=SCHEMA_ERRORS.keys())
def test_schema_errors_name_the_file_and_the_key(folder, target, how, text, fragments):
    path = folder / f"{target}.toml"
    path.write_text((path.read_text(encoding="utf-8") + text) if how == "append" else text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load(folder, "prd" if target == "prd" else "dev")
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_secret_arn_inside_the_environment_is_accepted(folder):
    arn = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:ct/dev/app-AbCdEf"
    (folder / "dev.toml").write_text(DEV.replace('"ct/dev/app"', f'"{arn}"'), encoding="utf-8")
    assert load(folder).secrets["app"].name == arn


@pytest.mark.parametrize("missing", ["dev", "shared"])
def test_a_missing_file_is_an_error_not_an_empty_config(folder, missing):
    (folder / f"{missing}.toml").unlink()
    with pytest.raises(ConfigError, match=rf"{missing}\.toml is missing"):
        load(folder)


def test_an_unknown_environment_is_an_error(folder):
    with pytest.raises(ConfigError, match=r"'prod' is not an environment of this project.*did you mean 'prd'"):
        load(folder, "prod")


def test_without_a_name_the_resolved_environment_is_loaded(folder):
    assert load_config(keys=KEYS, settings=LAYOUT, config_dir=folder, environ={}).env == "dev"
    environ = {"ENV_NAME": "prd", "CI": "true"}
    assert load_config(keys=KEYS, settings=LAYOUT, config_dir=folder, environ=environ).env == "prd"


# --------------------------------------------------------------------------- this repository's files


@pytest.mark.parametrize("env", REPO_SETTINGS.names)
def test_every_environment_of_this_repository_loads(env):
    config = load_config(env, settings=REPO_SETTINGS)
    assert config.env == env
    if config.tier == Tier.PRODUCTION:
        assert not config.service.debug
    naming = REPO_SETTINGS.naming
    for ref in config.secrets.values():
        assert ref.name.startswith((naming.secret_prefix(env), naming.ssm_prefix(env)))


def run(module, *args, **variables):
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src"), **variables}
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{module}", *args], env=environ, capture_output=True, text=True, check=False
    )


def test_cli_prints_the_named_environment_with_secret_references_only():
    production = REPO_SETTINGS.production.name
    done = run("config", "--env", production)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["env"], printed["tier"]) == (production, "production")
    expected = load_config(production, settings=REPO_SETTINGS).as_dict()["secrets"]
    assert printed["secrets"] == json.loads(json.dumps(expected))
    for ref in printed["secrets"].values():
        assert set(ref) == {"store", "name"}


def test_cli_refuses_an_unknown_environment():
    done = run("config", "--env", "nope")
    assert (done.returncode, done.stdout) == (2, "")
    assert "--env='nope'" in done.stderr


COLD_PATH = """
import sys
before = set(sys.modules)
from multienv.config import load_config
from multienv.env import resolve
from multienv.secrets import Secrets
resolution = resolve()
config = load_config()
Secrets.for_config(config, "us-east-1")
loaded = sorted(set(sys.modules) - before)
print("\\n".join(loaded))
"""


def test_resolve_and_load_import_only_the_standard_library():
    done = subprocess.run(
        [sys.executable, "-c", COLD_PATH],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "multienv.config" in loaded
    ours = (PACKAGE, "multienv")
    outside = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] not in ours]
    assert not outside  # boto3 and botocore among them: the secrets client is imported when first used


# --------------------------------------------------------------------------- secrets


def test_injected_values_are_fetched_lazily_and_once(folder):
    config = load(folder)
    calls = []

    def fetch(ref):
        calls.append(ref.name)
        return f"value of {ref.name}"

    secrets = Secrets(config.secrets, fetch)
    assert calls == []
    assert secrets.get("app") == "value of ct/dev/app"
    assert secrets.get("app") == "value of ct/dev/app"
    assert calls == ["ct/dev/app"]
    assert "value of" not in repr(secrets)


def test_from_values_injects_and_checks_names(folder):
    config = load(folder)
    secrets = Secrets.from_values(config, {"app": "s3cr3t"})
    assert secrets.get("app") == "s3cr3t"
    with pytest.raises(SecretError, match=r"'api_token'.*no injected value"):
        secrets.get("api_token")
    with pytest.raises(SecretError, match="no secret named 'nope'"):
        secrets.get("nope")
    with pytest.raises(SecretError, match="no secret named wrong"):
        Secrets.from_values(config, {"wrong": "x"})


def test_aws_fetch_asks_each_store_for_the_referenced_name(folder):
    config = load(folder)
    clients = {service: boto3.client(service, region_name="eu-west-1") for service in ("ssm", "secretsmanager")}
    with Stubber(clients["ssm"]) as ssm, Stubber(clients["secretsmanager"]) as manager:
        ssm.add_response(
            "get_parameter",
            {"Parameter": {"Name": "/ct/dev/api-token", "Value": "token-value", "Type": "SecureString"}},
            {"Name": "/ct/dev/api-token", "WithDecryption": True},
        )
        manager.add_response("get_secret_value", {"SecretString": "app-value"}, {"SecretId": "ct/dev/app"})
        secrets = Secrets.for_config(config, "eu-west-1", client_factory=clients.__getitem__)
        assert secrets.get("api_token") == "token-value"
        assert secrets.get("app") == "app-value"
        assert secrets.get("app") == "app-value"  # no second call: the stubber would fail
        ssm.assert_no_pending_responses()
        manager.assert_no_pending_responses()


def test_a_binary_secret_is_refused(folder):
    config = load(folder)
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_secret_value", {"SecretBinary": b"\x00"}, {"SecretId": "ct/dev/app"})
        fetch = AwsFetch("eu-west-1", client_factory=lambda service: client)
        with pytest.raises(SecretError, match="binary"):
            Secrets(config.secrets, fetch).get("app")


def test_the_configuration_is_read_only_and_names_its_keys(folder):
    config = load(folder)
    with pytest.raises(AttributeError, match=r"no key 'timeout' here: the keys are debug, request_timeout_seconds"):
        _ = config.service.timeout
    with pytest.raises(AttributeError, match="read-only"):
        config.service.debug = False
    assert config.secrets["app"].store == "secretsmanager"
    assert config.as_dict()["service"] == {"debug": True, "request_timeout_seconds": 10, "max_retries": 3}
