"""The application's secrets: where they live, who may read them, who sets them, and the runtime's region.

An environment's secrets live in its own account under its own path (``naming.py``); the function
role reads exactly those, the boundary allows them, ``make secret-set`` puts them there and
``multienv.secrets`` finds its region without being told. Fixtures of their own: a settings file
and configuration files written here, with the platform's keys only.
"""

import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from baked import ROOT

from multienv.config_files import load
from multienv.config_schema import ConfigError
from multienv.secrets import AwsFetch, Secrets, region_of
from multienv.settings import load_settings, parse_settings
from multienv_tools import secret_store
from multienv_tools.cfn import as_list, render, statements
from multienv_tools.stacks import APP, BOOTSTRAP, stack_specs

# The folder the runtime is installed in (site-packages), or a checkout on PYTHONPATH.
RUNTIME_HOME = Path(importlib.util.find_spec("multienv").origin).parent.parent
PACKAGE = load_settings(ROOT / "multienv.toml").package
REGION = "eu-west-1"
# moto's account for the credentials it is given (sts:GetCallerIdentity answers it).
MOTO_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "222222222222"

SHARED = """
[service]
debug = false

[log]
level = "INFO"
json = true

[features]

[secrets]
"""
ENV_FILE = """
[secrets.app]
store = "secretsmanager"
name = "st/{env}/app"

[secrets.api_token]
store = "ssm"
name = "/st/{env}/api-token"
"""


@pytest.fixture
def project(tmp_path):
    """Settings of a project ``st`` (dev in moto's account, prd in another) and its configuration files."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "shared.toml").write_text(SHARED, encoding="utf-8")
    for env in ("dev", "prd"):
        (tmp_path / "config" / f"{env}.toml").write_text(ENV_FILE.format(env=env), encoding="utf-8")
    return parse_settings(
        {
            "project": {
                "name": "Secrets test",
                "slug": "st",
                "package": PACKAGE,
                "region": REGION,
                "github_repository": "owner/st",
                "account_strategy": "full_isolation",
            },
            "accounts": {"devops": "111111111111", "dev": MOTO_ACCOUNT, "prd": OTHER_ACCOUNT},
            "devops": {"account": "devops"},
            "environments": [
                {"name": "dev", "tier": "development", "account": "dev"},
                {"name": "prd", "tier": "production", "account": "prd"},
            ],
        },
        tmp_path / "multienv.toml",
    )


@pytest.fixture
def aws(monkeypatch):
    """An emulated AWS in this process (moto); clients in the project's region."""
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


def set_from(project, aws, env, key, text, account=MOTO_ACCOUNT):
    return secret_store.set_secret(project, env, key, io.StringIO(text), aws, account, keys={})


# --------------------------------------------------------------------------- the runtime's region


def test_the_region_is_lambdas_aws_region_else_the_projects(monkeypatch):
    assert region_of({"AWS_REGION": "ap-southeast-4"}) == "ap-southeast-4"
    assert region_of({"AWS_REGION": " "}) == load_settings().region
    assert region_of({}) == load_settings().region
    monkeypatch.setenv("AWS_REGION", "ca-west-1")
    secrets = Secrets.for_config(_config())
    assert isinstance(secrets._fetch, AwsFetch)
    assert secrets._fetch.region == "ca-west-1"


def _config():
    from multienv.config import Config

    return Config({"env": "dev", "secrets": {}})


COLD_PATH = """
import sys
before = set(sys.modules)
from multienv.config import Config
from multienv.secrets import Secrets
secrets = Secrets.for_config(Config({"env": "dev", "secrets": {}}))
print(secrets._fetch.region)
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_on_lambda_the_region_costs_no_file_and_no_import_outside_the_standard_library():
    done = subprocess.run(
        [sys.executable, "-S", "-c", COLD_PATH],
        # -S: no site-packages; the installed runtime's own folder is given instead.
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{ROOT / 'src'}:{RUNTIME_HOME}",
            "AWS_REGION": "sa-east-1",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    region, *loaded = done.stdout.split()
    assert region == "sa-east-1"
    assert "multienv.settings" not in loaded  # multienv.toml is read only where AWS_REGION is not set
    outside = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "multienv"]
    assert not outside


# --------------------------------------------------------------------------- the configuration check


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("st/prd/app", "outside the secretsmanager names of dev"),
        ("arn:aws:secretsmanager:eu-west-1:222222222222:secret:st/dev/app-AbCdEf", "own account, 123456789012"),
        ("st-dev-app", "must start with 'st/dev/'"),
        ("st/dev/deploy", "Deployer Role secret in the DevOps account"),
    ],
)
def test_a_secret_outside_the_environments_own_names_is_refused(project, name, fragment):
    path = project.root / "config" / "dev.toml"
    path.write_text(ENV_FILE.format(env="dev").replace('"st/dev/app"', f'"{name}"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"secrets\.app\.name") as error:
        load("dev", keys={}, settings=project)
    assert fragment in str(error.value)


# --------------------------------------------------------------------------- the function role and the boundary


@pytest.fixture(scope="module")
def rendered():
    settings = load_settings()
    return settings, [(spec, render(spec)) for spec in stack_specs(settings, "0" * 64)]


def test_the_function_role_reads_exactly_its_environments_secrets_and_parameters(rendered):
    settings, docs = rendered
    naming = settings.naming
    for spec, doc in docs:
        if spec.kind != APP:
            continue
        role = doc["Resources"]["FunctionRole"]["Properties"]
        grants = {}
        # Its data store's key (use-own-data: its own account's keys, through DynamoDB and S3 only, the key's
        # policy admitting its own environment's roles) is test_data's; here secrets and parameters only.
        for policy in (p for p in role["Policies"] if p["PolicyName"] != "use-own-data"):
            for statement in statements(policy["PolicyDocument"]):
                assert statement["Effect"] == "Allow"
                for action in as_list(statement["Action"]):
                    grants[action] = as_list(statement["Resource"])
        secret_actions = {a: r for a, r in grants.items() if a.split(":")[0] in ("secretsmanager", "ssm", "kms")}
        assert secret_actions == {
            "secretsmanager:GetSecretValue": [naming.secret_arn_pattern(spec.account_id, spec.env)],
            "ssm:GetParameter": [naming.ssm_parameter_arn_pattern(spec.account_id, spec.env)],
            "ssm:GetParameters": [naming.ssm_parameter_arn_pattern(spec.account_id, spec.env)],
        }, spec.name


def test_the_arn_patterns_are_written_as_aws_writes_the_arns(rendered):
    settings, _ = rendered
    naming = settings.naming.__class__("st", "eu-west-1")
    # Secrets Manager: the name, "-" and six random characters; SSM: the name without its leading "/".
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:st/dev/app-a1B2c3"  # noqa: S105 - an ARN
    parameter = "arn:aws:ssm:eu-west-1:123456789012:parameter/st/dev/api-token"
    assert naming.secret_arn("123456789012", naming.secret_name("dev", "app"), "a1B2c3") == secret
    assert naming.ssm_parameter_arn("123456789012", naming.ssm_parameter("dev", "api-token")) == parameter
    assert secret.startswith(naming.secret_arn_pattern("123456789012", "dev").rstrip("*"))
    assert parameter.startswith(naming.ssm_parameter_arn_pattern("123456789012", "dev").rstrip("*"))
    # Another project whose slug extends ours past the environment ("st-dev-x") is outside both.
    squatted = secret.replace(":st/dev/", ":st-dev-x/dev/")
    assert not squatted.startswith(naming.secret_arn_pattern("123456789012", "dev").rstrip("*"))
    assert naming.ssm_prefix("dev") == "/st/dev/"


def test_the_boundary_lets_the_environments_roles_read_its_secrets_and_parameters_by_their_path(rendered):
    settings, docs = rendered
    naming = settings.naming
    for spec, doc in docs:
        if spec.kind != BOOTSTRAP:
            continue
        boundary = doc["Resources"]["PermissionsBoundary"]["Properties"]["PolicyDocument"]
        p = naming.partition
        own = next(s for s in statements(boundary) if "cloudformation:*" in as_list(s.get("Action")))
        assert "ssm:GetParameter*" in own["Action"]
        assert f"arn:{p}:ssm:*:*:parameter{naming.ssm_prefix(spec.env)}*" in as_list(own["Resource"])
        assert own["Condition"]["StringEquals"]["aws:ResourceAccount"] == spec.account_id
        # Secrets by their path in any account: this one's (the application's) and the DevOps account's
        # (the Deployer Role's); reads only.
        readers = [s for s in statements(boundary) if "secretsmanager:GetSecretValue" in as_list(s.get("Action"))]
        assert [s["Effect"] for s in readers] == ["Allow"]
        assert f"arn:{p}:secretsmanager:*:*:secret:{naming.secret_prefix(spec.env)}*" in as_list(readers[0]["Resource"])
        assert {a for a in as_list(readers[0]["Action"]) if a.startswith("secretsmanager:")} == {
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        }


# --------------------------------------------------------------------------- make secrets, make secret-set


def test_secret_set_creates_then_updates_in_the_environments_account_and_never_says_the_value(project, aws):
    said = set_from(project, aws, "dev", "app", "first value\n")
    assert said == f"dev: created secret st/dev/app in account {MOTO_ACCOUNT}"
    assert aws("secretsmanager").get_secret_value(SecretId="st/dev/app")["SecretString"] == "first value"
    said = set_from(project, aws, "dev", "app", "second value")
    assert said.startswith("dev: updated secret st/dev/app")
    assert aws("secretsmanager").get_secret_value(SecretId="st/dev/app")["SecretString"] == "second value"

    said = set_from(project, aws, "dev", "api_token", "token\n")
    assert said.startswith("dev: created SSM parameter /st/dev/api-token (SecureString)")
    stored = aws("ssm").get_parameter(Name="/st/dev/api-token", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "token")
    assert set_from(project, aws, "dev", "api_token", "token 2").startswith("dev: updated SSM parameter")
    assert aws("ssm").get_parameter(Name="/st/dev/api-token", WithDecryption=True)["Parameter"]["Value"] == "token 2"
    tags = aws("secretsmanager").describe_secret(SecretId="st/dev/app")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"env": "dev", "project": "st"}
    assert "value" not in said and "token 2" not in said


@pytest.mark.parametrize(
    ("env", "key", "account", "text", "fragments"),
    [
        ("qa", "app", MOTO_ACCOUNT, "x", ["ENV='qa' is not an environment", "the environments are dev, prd"]),
        ("dev", "db", MOTO_ACCOUNT, "x", ["KEY='db' is not a secret of dev", "its keys are api_token, app"]),
        ("prd", "app", MOTO_ACCOUNT, "x", [f"credentials are for account {MOTO_ACCOUNT}", OTHER_ACCOUNT]),
        ("dev", "app", MOTO_ACCOUNT, "\n", ["is empty: nothing was set"]),
    ],
)
def test_secret_set_refuses_what_it_cannot_do_and_sets_nothing(project, aws, env, key, account, text, fragments):
    with pytest.raises(secret_store.SecretStoreError) as error:
        set_from(project, aws, env, key, text, account)
    for fragment in fragments:
        assert fragment in str(error.value)
    assert aws("secretsmanager").list_secrets()["SecretList"] == []
    assert aws("ssm").describe_parameters()["Parameters"] == []


def test_make_secrets_lists_each_reference_and_which_exist_in_the_credentials_account(project, aws):
    set_from(project, aws, "dev", "app", "v")
    lines = secret_store.listing(project, aws, MOTO_ACCOUNT, keys={})
    assert f"dev (account {MOTO_ACCOUNT}): 2 reference(s) in config/dev.toml" in lines
    assert "  app: secretsmanager st/dev/app  exists" in lines
    assert "  api_token: ssm /st/dev/api-token  MISSING: make secret-set ENV=dev KEY=api_token" in lines
    assert f"  app: secretsmanager st/prd/app  (not checked: the credentials are for account {MOTO_ACCOUNT})" in lines
    unchecked = secret_store.listing(project, keys={})
    assert unchecked[1:3] == ["  api_token: ssm /st/dev/api-token", "  app: secretsmanager st/dev/app"]


def test_the_cli_refuses_a_wrong_key_before_asking_aws(capsys):
    settings = load_settings()
    env = settings.names[0]

    def no_aws():
        raise AssertionError("AWS was asked")

    assert secret_store.main(["set", "--env", env, "--key", "no-such-key"], aws=no_aws) == 2
    assert f"KEY='no-such-key' is not a secret of {env}" in capsys.readouterr().err
