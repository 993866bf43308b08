"""The deploy tool: reproducible artifacts, refusals before anything reaches AWS, one-line errors."""

import hashlib
import io
import shutil
import tomllib
import zipfile

import pytest
from multienv_tools import deploy, personas, stacks
from multienv_tools.local_deploy import LOCAL_CREDENTIALS
from multienv_tools.persona_stacks import persona_spec

from multienv.model import is_placeholder, placeholder_account_id
from multienv.naming import PERSONAS
from multienv.settings import SettingsError, load_settings, parse_settings


@pytest.fixture(scope="module")
def settings():
    return load_settings()


def credentials_in(endpoint, account_id, role_name="tester"):
    import boto3

    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    role = f"arn:aws:iam::{account_id}:role/{role_name}"
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


def test_the_artifact_holds_the_runtime_the_service_settings_and_config_only(settings, tmp_path):
    artifact = tmp_path / "app.zip"
    deploy.build(settings, artifact)
    names = zipfile.ZipFile(artifact).namelist()
    assert {name.split("/")[0] for name in names} == {"multienv", settings.package, "multienv.toml", "config"}
    assert not [n for n in names if n.startswith("multienv_tools") or "/tests/" in n]


def test_an_edit_to_the_tooling_leaves_the_artifact_unchanged(settings, tmp_path):
    """CI redeploys when the artifact's sha256 changes: only what runs in AWS may change it."""
    copy = tmp_path / "repo"
    for part in ("src", "tools", "config"):
        shutil.copytree(settings.root / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(settings.path, copy / "multienv.toml")

    def build() -> str:
        return deploy.build(load_settings(copy / "multienv.toml"), tmp_path / "app.zip")

    before = build()
    for tool in (copy / "tools" / "multienv_tools").glob("*.py"):
        tool.write_text(tool.read_text(encoding="utf-8") + "\n# changes nothing that runs in AWS\n", encoding="utf-8")
    assert build() == before
    handler = copy / "src" / settings.package / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n# the service changed\n", encoding="utf-8")
    assert build() != before


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


def test_every_environment_gets_its_persona_stack_right_after_its_bootstrap(settings):
    specs = stacks.stack_specs(settings)
    kinds = [(s.kind, s.env) for s in specs]
    for env in settings.environments:
        position = kinds.index((stacks.BOOTSTRAP, env.name))
        follower = specs[position + 1]
        assert (follower.kind, follower.env) == ("personas", env.name)
        assert follower == persona_spec(settings, env.name)
        assert follower.account_id == env.account.id


def stack_status(settings, endpoint, credentials, name):
    import boto3

    cfn = boto3.client(
        "cloudformation",
        region_name=settings.region,
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )
    stack = deploy.stack_status(cfn, name)
    return stack["StackStatus"] if stack else None


def test_bootstrap_env_deploys_the_bootstrap_then_the_persona_stack(settings, local_aws, capsys):
    env = settings.production
    admin = credentials_in(local_aws, env.account.id, "administrator")
    out = io.StringIO()
    assert deploy.main(["bootstrap-env", "--env", env.name], environ=admin, out=out) == 0, capsys.readouterr().err
    out = out.getvalue()
    bootstrap, persona = stacks.bootstrap_spec(settings, env.name).name, persona_spec(settings, env.name).name
    assert out.index(f"{bootstrap}: CREATE_COMPLETE") < out.index(f"{persona}: creating in account {env.account.id}")
    assert f"{persona}: CREATE_COMPLETE" in out
    for name in (bootstrap, persona):
        assert stack_status(settings, local_aws, admin, name) == "CREATE_COMPLETE"
    for persona_name in PERSONAS:
        if personas.grant(env.tier, persona_name).access.grants_anything:
            assert f"{persona}: {persona_name} trusts " in out

    # The persona stack alone, again (after a change to personas.py, say): the bootstrap stays as it is.
    again = io.StringIO()
    assert deploy.main(["personas", "--env", env.name], environ=admin, out=again) == 0
    assert f"{persona}: updating in account {env.account.id}" in again.getvalue()
    assert bootstrap not in again.getvalue()


@pytest.mark.parametrize("command", ["bootstrap-env", "personas"])
def test_role_creating_stacks_refuse_the_deployer_role(settings, local_aws, command, capsys):
    env = settings.environments[0]
    deployer = settings.naming.deployer_role(env.name)
    code = deploy.main([command, "--env", env.name], environ=credentials_in(local_aws, env.account.id, deployer))
    err = capsys.readouterr().err
    assert code == 1
    assert f"not as {deployer}" in err and "administrator credentials" in err
    admin = credentials_in(local_aws, env.account.id, "administrator")
    assert stack_status(settings, local_aws, admin, persona_spec(settings, env.name).name) is None


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:sts::123456789012:assumed-role/app-dev-deployer/ci", "app-dev-deployer"),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/admin/alice@example.com", "admin"),
        ("arn:aws:iam::123456789012:user/alice", None),
        ("arn:aws:iam::123456789012:root", None),
    ],
)
def test_assumed_role_names_are_read_from_the_caller_arn(arn, name):
    assert deploy.assumed_role_name(arn) == name
