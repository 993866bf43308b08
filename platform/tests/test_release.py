"""Releases against a local AWS: the alias moves only after a passing smoke test, rollback goes back.

The local AWS cannot run functions, so each test hands ``release`` an invoker that answers as
the function would (``make local-deploy`` runs the artifact itself, in its release drill).
"""

import contextlib
import io
import json
import zipfile

import boto3
import pytest

from multienv.naming import LIVE_ALIAS, PREVIOUS_ALIAS
from multienv.settings import load_settings
from multienv_tools import app_artifact, deploy_target, release
from multienv_tools.local_aws import LOCAL_CREDENTIALS

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture
def target(settings, local_aws, tmp_path):
    """The production function in its (emulated) account, running a fresh artifact; a Context for it."""
    env = settings.production
    keys = {"aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]}
    keys["aws_secret_access_key"] = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    sts = boto3.client("sts", region_name=settings.region, endpoint_url=local_aws, **keys)
    role = f"arn:aws:iam::{env.account.id}:role/tester"
    c = sts.assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    environ = {
        "AWS_ENDPOINT_URL": local_aws,
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }
    ctx = deploy_target.Context(settings, environ, io.StringIO())
    lam, iam = ctx.client("lambda"), ctx.client("iam")
    function = settings.naming.function(env.name)
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=function)
    try:
        arn = iam.get_role(RoleName="fn")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Statement": []}))["Role"]["Arn"]
    artifact = tmp_path / "app.zip"
    app_artifact.build(settings, artifact)
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=arn,
        Handler=f"{settings.package}.handler.handler",
        Code={"ZipFile": artifact.read_bytes()},
        Environment={"Variables": {"ENV_NAME": env.name}},
    )
    return ctx, env, artifact, lam, function


def answering(environment, **changes):
    """An invoker answering as the sample handler does in ``environment``, with ``changes`` applied."""
    answer = {"env": environment.name, "source": "ENV_NAME", "runtime": "aws-lambda"}
    answer["config"] = {"env": environment.name, "tier": environment.tier.value, "request_timeout_seconds": 10}
    answer.update(changes)
    seen = []

    def invoke(function, version, configuration):
        seen.append((function, version, configuration["Environment"]["Variables"]["ENV_NAME"]))
        return answer

    invoke.seen = seen
    return invoke


def alias(lam, function, name):
    return release.alias_version(lam, function, name)


def new_code(lam, function, artifact, tmp_path, marker):
    """Another artifact (one more file) as the function's unpublished code, as the app stack would."""
    other = tmp_path / f"{marker}.zip"
    other.write_bytes(artifact.read_bytes())
    with zipfile.ZipFile(other, "a") as archive:
        archive.writestr("RELEASE", marker)
    lam.update_function_code(FunctionName=function, ZipFile=other.read_bytes())
    return other


def test_a_passing_version_goes_live_and_the_one_it_replaces_is_kept(target, tmp_path):
    ctx, env, artifact, lam, function = target
    good = answering(env)
    assert release.release(ctx, env, artifact, good) == "1"
    assert good.seen == [(function, "1", env.name)]  # the numbered version, with its own variables
    assert (alias(lam, function, LIVE_ALIAS), alias(lam, function, PREVIOUS_ALIAS)) == ("1", None)
    second = new_code(lam, function, artifact, tmp_path, "second")
    assert release.release(ctx, env, second, good) == "2"
    assert (alias(lam, function, LIVE_ALIAS), alias(lam, function, PREVIOUS_ALIAS)) == ("2", "1")
    assert release.rollback(ctx, env) == "1"
    assert alias(lam, function, LIVE_ALIAS) == "1"
    with pytest.raises(deploy_target.DeployError, match="nothing to roll back"):
        release.rollback(ctx, env)


def test_a_failing_version_never_goes_live_and_the_error_says_where_live_stays(target, tmp_path):
    ctx, env, artifact, lam, function = target
    release.release(ctx, env, artifact, answering(env))
    bad = new_code(lam, function, artifact, tmp_path, "bad")
    with pytest.raises(release.SmokeFailure) as raised:
        release.release(ctx, env, bad, answering(env, env="dev", config={"env": "dev", "tier": "development"}))
    message = str(raised.value)
    assert f"{function}: version 2 failed the smoke test; live stays on version 1" in message
    assert "resolves env='dev'" in message and "configuration of env='dev'" in message
    assert (alias(lam, function, LIVE_ALIAS), alias(lam, function, PREVIOUS_ALIAS)) == ("1", None)


def test_a_version_that_is_not_the_artifact_is_refused_before_its_smoke_test(target, tmp_path):
    ctx, env, artifact, lam, function = target
    other = new_code(lam, function, artifact, tmp_path, "other")
    invoke = answering(env)
    with pytest.raises(deploy_target.DeployError, match="not the artifact"):
        release.release(ctx, env, artifact, invoke)  # the function runs `other`, not `artifact`
    assert invoke.seen == [] and alias(lam, function, LIVE_ALIAS) is None
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=function)["Versions"]]
    assert versions == ["$LATEST"]  # nothing published
    assert release.release(ctx, env, other, invoke) == "1"


def test_rollback_without_a_previous_version_is_refused(target):
    ctx, env, artifact, _, _ = target
    with pytest.raises(deploy_target.DeployError, match="no previous alias"):
        release.rollback(ctx, env)
    release.release(ctx, env, artifact, answering(env))
    with pytest.raises(deploy_target.DeployError, match="no previous alias"):
        release.rollback(ctx, env)
