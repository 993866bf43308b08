"""Comparing two environments' configurations: every differing key, the file of each value, secrets by reference."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from baked import ROOT
from fixture_schema import KEYS
from test_config import SHARED

from multienv.config import ConfigError
from multienv.settings import load_settings, parse_settings
from multienv_tools.config_diff import differences

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

REPO_SETTINGS = load_settings(ROOT / "multienv.toml")

LAYOUT = parse_settings(
    {
        "project": {
            "name": "Diff test",
            "slug": "ct",
            "package": "ct",
            "region": "eu-west-1",
            "github_repository": "owner/ct",
            "account_strategy": "single_account",
        },
        "accounts": {"main": "111111111111"},
        "devops": {"account": "main"},
        "environments": [
            {"name": "dev", "tier": "development", "account": "main"},
            {"name": "tst", "tier": "testing", "account": "main"},
            {"name": "prd", "tier": "production", "account": "main"},
        ],
    },
    Path("multienv.toml"),
)

FILES = {
    "shared": SHARED,  # the same shared.toml as the loader's tests
    "dev": """
[service]
debug = true

[features]
beta_search = true
only_in_dev = true

[secrets.app]
store = "secretsmanager"
name = "ct/dev/app"
""",
    "tst": """
[service]
debug = true

[features]
beta_search = true
only_in_dev = true

[secrets.app]
store = "secretsmanager"
name = "ct/tst/app"
""",
    "prd": """
[log]
level = "WARNING"

[service]
max_retries = 3

[secrets.app]
store = "ssm"
name = "/ct/prd/app"
""",
}

# (A, B) -> {key: (A's value, A's file, B's value, B's file)}; None where a key is not set.
EXPECTED = {
    ("dev", "prd"): {
        "features.beta_search": (True, "dev.toml", False, "shared.toml"),
        "features.only_in_dev": (True, "dev.toml", None, None),
        "log.level": ("INFO", "shared.toml", "WARNING", "prd.toml"),
        "secrets.app.name": ("ct/dev/app", "dev.toml", "/ct/prd/app", "prd.toml"),
        "secrets.app.store": ("secretsmanager", "dev.toml", "ssm", "prd.toml"),
        "service.debug": (True, "dev.toml", False, "shared.toml"),
        "tier": ("development", "multienv.toml", "production", "multienv.toml"),
    },
    ("dev", "tst"): {
        "secrets.app.name": ("ct/dev/app", "dev.toml", "ct/tst/app", "tst.toml"),
        "tier": ("development", "multienv.toml", "testing", "multienv.toml"),
    },
    ("dev", "dev"): {},
}


@pytest.fixture
def folder(tmp_path):
    for name, text in FILES.items():
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def side(found):
    return (found.value, Path(found.source).name) if found else (None, None)


@pytest.mark.parametrize(("a", "b"), EXPECTED, ids=[f"{a}-{b}" for a, b in EXPECTED])
def test_every_differing_key_with_the_file_of_each_value(folder, a, b):
    found = {d.key: (*side(d.a), *side(d.b)) for d in differences(a, b, LAYOUT, config_dir=folder, keys=KEYS)}
    assert found == EXPECTED[(a, b)]


def test_a_value_set_to_the_same_in_an_environment_file_is_no_difference(folder):
    keys = {d.key for d in differences("dev", "prd", LAYOUT, config_dir=folder, keys=KEYS)}
    assert "service.max_retries" not in keys  # prd.toml repeats the shared value


def test_an_environment_whose_configuration_does_not_load_is_an_error(folder):
    (folder / "prd.toml").write_text("[service]\ndebug = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be false in prd"):
        differences("dev", "prd", LAYOUT, config_dir=folder, keys=KEYS)


def run_diff(*args):
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tools'}"}
    return subprocess.run(
        [sys.executable, "-m", "multienv_tools.config_diff", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_compares_the_first_and_the_production_environment_of_this_repository():
    first, production = REPO_SETTINGS.names[0], REPO_SETTINGS.production.name
    done = run_diff(first, production)
    assert done.returncode == 0, done.stderr
    assert f'{production}: "production" (multienv.toml)' in done.stdout
    for d in differences(first, production, REPO_SETTINGS):
        assert d.key in done.stdout
        for one in (d.a, d.b):
            if one:
                assert f"({one.source})" in done.stdout


@pytest.mark.parametrize(("a", "b", "bad"), [("nope", None, "A='nope'"), (None, "prod", "B='prod'")])
def test_cli_refuses_an_unknown_environment_with_the_allowed_names(a, b, bad):
    done = run_diff(a or REPO_SETTINGS.names[0], b or REPO_SETTINGS.production.name)
    assert (done.returncode, done.stdout) == (2, "")
    assert bad in done.stderr
    assert ", ".join(REPO_SETTINGS.names) in done.stderr


COMPARE = """
import sys
before = set(sys.modules)
from multienv_tools.config_diff import differences
from multienv.settings import load_settings
settings = load_settings()
differences(settings.names[0], settings.production.name, settings)
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_secrets_are_compared_by_reference_never_fetched():
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tools'}"}
    done = subprocess.run(
        [sys.executable, "-c", COMPARE], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert not {m for m in loaded if m.startswith(("boto", "multienv.secrets"))}
