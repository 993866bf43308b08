"""The deploy tool: reproducible artifacts, refusals before anything reaches AWS, one-line errors."""

import io
import tomllib

import pytest

from multienv.model import is_placeholder, placeholder_account_id
from multienv.naming import PERSONAS
from multienv.settings import SettingsError, load_settings, parse_settings
from multienv_tools import app_artifact, deploy, deploy_target, personas, stack_ops, stacks
from multienv_tools.local_aws import LOCAL_CREDENTIALS
from multienv_tools.persona_stacks import persona_spec


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
    assert deploy_target.is_local_endpoint(endpoint) is local


def test_placeholder_accounts_are_refused_before_any_call_to_aws(settings):
    placeholders = with_placeholders(settings)
    spec = stacks.devops_spec(placeholders)
    assert is_placeholder(spec.account_id)
    context = deploy_target.Context(placeholders, environ={})  # no endpoint: real AWS
    with pytest.raises(deploy_target.DeployError, match=r"placeholder .*put the real account ID"):
        deploy_target.check_target(context, spec.account_id, spec.name)


def test_without_env_the_resolver_decides_and_never_guesses_in_ci(settings):
    assert deploy_target.target_environment(settings, None, {}) == settings.default_environment
    assert deploy_target.target_environment(settings, None, {"CI": "true", "ENV_NAME": settings.production.name}) == (
        settings.production
    )
    with pytest.raises(
        deploy_target.DeployError, match="no --env given, and the environment resolver refused: ENV_NAME"
    ):
        deploy_target.target_environment(settings, None, {"CI": "true"})
    with pytest.raises(SettingsError, match="unknown environment 'nope'"):
        deploy_target.target_environment(settings, "nope", {})


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
    app_artifact.build(settings, artifact)
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
    stack = stack_ops.stack_status(cfn, name)
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
    assert deploy_target.assumed_role_name(arn) == name


def test_moto_reads_every_stack_with_libyaml_as_pure_python_yaml_reads_it(local_aws, settings):
    """prepare_moto gives moto's CloudFormation PyYAML's libyaml loader: each of the repository's
    templates must read as moto's own loader (pure Python) reads it, tags and all."""
    import yaml
    from moto.cloudformation import models, responses
    from moto.cloudformation.utils import yaml_tag_constructor

    assert issubclass(models.yaml.Loader, yaml.CLoader) and responses.yaml is models.yaml

    class PurePython(yaml.Loader):
        pass

    PurePython.add_multi_constructor("", yaml_tag_constructor)
    templates = sorted([*(settings.root / "infra").rglob("*.yaml"), *(settings.root / "org").glob("*.yaml")])
    assert len(templates) >= 5, templates
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert models.Stack.parse_template(text) == yaml.load(text, Loader=PurePython), template  # noqa: S506


@pytest.mark.once
def test_the_artifact_s_code_runs_alone_in_a_process_of_its_own_per_call(tmp_path, monkeypatch):
    """local-deploy runs the artifact's handler and secret reads through ArtifactProcess: each call
    sees the artifact's files and the variables it is given, nothing of this process or an earlier call."""
    import zipfile

    from multienv_tools.local_aws import LocalDeployError
    from multienv_tools.local_deploy import ArtifactProcess

    artifact = tmp_path / "app.zip"
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr("service/__init__.py", "CALLS = []\n")
    monkeypatch.setenv("LEAKED_FROM_THE_CHECKOUT", "1")
    code = (
        "import json, os, sys, service\n"
        "service.CALLS.append(1)\n"
        "print(json.dumps({'pid': os.getpid(), 'calls': len(service.CALLS), 'env': sorted(os.environ),"
        " 'env_name': os.environ.get('ENV_NAME'), 'path': sys.path}))"
    )
    runner = ArtifactProcess(artifact)
    try:
        first, second = runner.run(code, {"ENV_NAME": "dev"}), runner.run(code, {"ENV_NAME": "prd"})
        assert first["pid"] != second["pid"] and first["calls"] == second["calls"] == 1
        assert (first["env_name"], second["env_name"]) == ("dev", "prd")
        # LC_CTYPE: Python sets it itself where the locale is C (PEP 538), as it would in any process.
        assert set(first["env"]) - {"LC_CTYPE"} == {"ENV_NAME", "PATH", "PYTHONPATH"}
        assert runner.base["PYTHONPATH"] in first["path"] and not any("site-packages" in p for p in first["path"][:1])
        with pytest.raises(LocalDeployError, match=r"code from the artifact failed: KeyError: 'SECRET'$"):
            runner.run("import os; os.environ['SECRET']", {})
        assert runner.run(code, {})["calls"] == 1  # a failed call leaves the next one as it was
        # Output written to the file descriptors (a subprocess's) stays the call's own: the next
        # call gets its own answer, not the last one's.
        spoken = "import json, subprocess; subprocess.run(['echo', 'hello']); print(json.dumps('mine'))"
        assert runner.run(spoken, {}) == "mine" and runner.run(code, {})["calls"] == 1
        with pytest.raises(LocalDeployError, match=r"failed: refused, with a reason$"):
            runner.run("import sys; sys.exit('refused, with a reason')", {})
        # Each call reads its own AWS configuration (the warm-up read none for it).
        config = tmp_path / "aws-config"
        config.write_text("[profile elsewhere]\nregion = eu-west-3\n")
        region = "import boto3, json; print(json.dumps(boto3.client('ssm').meta.region_name))"
        assert runner.run(region, {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "elsewhere"}) == "eu-west-3"
    finally:
        runner.close()


@pytest.mark.once
def test_every_command_says_an_aws_error_in_one_line_and_raises_anything_else(capsys):
    """deploy, secret_store and data_copy end on deploy_target.report_aws_error."""
    from botocore.exceptions import ClientError

    refused = ClientError({"Error": {"Code": "AccessDenied", "Message": "not\nyou"}}, "GetSecretValue")
    assert deploy_target.report_aws_error(refused) == 1
    assert capsys.readouterr().err == "error: AWS said: GetSecretValue: AccessDenied: not you\n"
    with pytest.raises(KeyError):
        deploy_target.report_aws_error(KeyError("a bug, not AWS"))
