"""The deploy tool: reproducible artifacts, refusals before anything reaches AWS, one-line errors."""

import hashlib
import tomllib
import zipfile

import pytest

from {{ cookiecutter.package_name }} import deploy, stacks
from {{ cookiecutter.package_name }}.local_deploy import LOCAL_CREDENTIALS
from {{ cookiecutter.package_name }}.model import is_placeholder, placeholder_account_id
from {{ cookiecutter.package_name }}.settings import SettingsError, load_settings, parse_settings


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def local_aws():
    """A moto server on 127.0.0.1, on a free port, for this module only."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def credentials_in(endpoint, account_id):
    import boto3

    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    role = f"arn:aws:iam::{account_id}:role/tester"
    c = sts.assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }


def with_placeholders(settings):
    data = tomllib.loads(settings.path.read_text(encoding="utf-8"))
    data["accounts"] = {key: placeholder_account_id(i) for i, key in enumerate(data["accounts"], start=1)}
    return parse_settings(data, settings.path)


def test_build_is_reproducible_and_carries_package_settings_and_config(settings, tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    digest = deploy.build(settings, first)
    assert deploy.build(settings, second) == digest == hashlib.sha256(first.read_bytes()).hexdigest()
    names = zipfile.ZipFile(first).namelist()
    assert f"{settings.package}/handler.py" in names
    assert "multienv.toml" in names
    assert {f"config/{env}.toml" for env in settings.names} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "infra/"))]


@pytest.mark.parametrize(
    ("endpoint", "local"),
    [
        (None, False),
        ("https://cloudformation.us-east-1.amazonaws.com", False),
        ("http://127.0.0.1:5000", True),
        ("http://localhost:4566", True),
        ("http://[::1]:5000", True),
        ("http://127.0.0.1.example.com:5000", False),
    ],
)
def test_only_loopback_endpoints_count_as_local(endpoint, local):
    assert deploy.is_local_endpoint(endpoint) is local


def test_placeholder_accounts_are_refused_before_any_call_to_aws(settings):
    placeholders = with_placeholders(settings)
    spec = stacks.devops_spec(placeholders)
    assert is_placeholder(spec.account_id)
    context = deploy.Context(placeholders, environ={})  # no endpoint: real AWS
    with pytest.raises(deploy.DeployError, match=r"placeholder .*put the real account ID"):
        deploy.check_target(context, spec.account_id, spec.name)


def test_without_env_the_resolver_decides_and_never_guesses_in_ci(settings):
    assert deploy.target_environment(settings, None, {}) == settings.default_environment
    assert deploy.target_environment(settings, None, {"CI": "true", "ENV_NAME": settings.production.name}) == (
        settings.production
    )
    with pytest.raises(deploy.DeployError, match="no --env given, and the environment resolver refused: ENV_NAME"):
        deploy.target_environment(settings, None, {"CI": "true"})
    with pytest.raises(SettingsError, match="unknown environment 'nope'"):
        deploy.target_environment(settings, "nope", {})


def test_credentials_of_another_account_are_refused(settings, local_aws, capsys):
    env = settings.environments[0]
    others = [a.id for a in settings.accounts if a.id != env.account.id] or ["999999999999"]
    code = deploy.main(["bootstrap-env", "--env", env.name], environ=credentials_in(local_aws, others[0]))
    err = capsys.readouterr().err
    assert code == 1
    assert f"the credentials belong to account {others[0]}" in err
    assert f"the target is account {env.account.id}" in err


def test_an_aws_error_is_one_line(settings, local_aws, tmp_path, capsys):
    env = settings.environments[0]
    artifact = tmp_path / "app.zip"
    deploy.build(settings, artifact)
    # Nothing was published, so the function's code cannot be found.
    code = deploy.main(
        ["app", "--env", env.name, "--artifact", str(artifact)], environ=credentials_in(local_aws, env.account.id)
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1, err
    assert err.startswith("error: ") and "bucket does not exist" in err
