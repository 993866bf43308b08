"""Retiring an environment: what it deployed, the refusals, the deletion order, what could not be deleted."""

import io
import json
import re
import subprocess
import tomllib

import pytest
from test_deploy import credentials_in, with_placeholders

from multienv.model import AccountStrategy, Tier
from multienv.naming import APP_STACK, BOOTSTRAP_STACK, DATA_STACK, PERSONAS_STACK
from multienv.settings import load_settings, parse_settings
from multienv_tools import cfn, deploy, deploy_target, retire, stack_ops, stacks

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]


@pytest.fixture(scope="module")
def settings():
    return with_placeholders(load_settings())


def test_the_app_stack_goes_first_then_personas_then_bootstrap(settings):
    env = settings.environments[0].name
    names = [spec.name for spec in retire.environment_stacks(settings, env)]
    naming = settings.naming
    # The data stack (unless [data] stores is none) after the app that uses it and before the persona
    # stack, whose roles its transfer role trusts; it retains its store and key.
    data = [naming.stack(env, DATA_STACK)] if settings.has_data else []
    assert names == [
        naming.stack(env, APP_STACK),
        *data,
        naming.stack(env, PERSONAS_STACK),
        naming.stack(env, BOOTSTRAP_STACK),
    ]
    assert {spec.account_id for spec in retire.environment_stacks(settings, env)} == {
        settings.environment(env).account.id
    }


def test_the_report_names_every_stack_and_the_devops_account(settings):
    env = settings.environments[-1]
    lines = retire.describe(settings, env.name)
    assert lines[0].startswith(f"account {env.account.id} ({env.account.key}): stacks ")
    for spec in retire.environment_stacks(settings, env.name):
        assert spec.name in lines[0]
    assert lines[1].startswith(f"DevOps account {settings.devops.id} ")
    assert settings.naming.ci_role(env.name) in lines[1]


@pytest.mark.parametrize("which", ["first", "production"])
def test_retiring_says_its_data_is_kept_and_never_deleted(settings, which):
    """destroy has no way to delete data (infra/data.yaml retains the store and its key): the report
    says so, naming each store, the key and the account, before and after the stacks go."""
    env = settings.production if which == "production" else settings.environments[0]
    said = "\n".join(retire.describe(settings, env.name))
    if not settings.has_data:
        assert "its data" not in said
        return
    naming = settings.naming
    (line,) = [line for line in said.splitlines() if line.startswith("its data: ")]
    assert "destroy never deletes data, in any tier" in line
    assert naming.data_key_alias(env.name) in line and env.account.id in line
    if settings.has_table:
        assert re.search(rf"table {re.escape(naming.data_table(env.name))}[ ,]", line), line
    if settings.has_bucket:
        assert f"bucket {naming.data_bucket(env.name, env.account.id)}" in line
    assert ("deletion protection on" in line) == env.tier.is_production
    # What the stack does: every data resource of infra/data.yaml is retained.
    rendered = cfn.render(stacks.data_spec(settings, env.name))["Resources"]
    for name, resource in rendered.items():
        if resource["Type"] in ("AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::S3::Bucket"):
            assert resource.get("DeletionPolicy") == "Retain", name


def refusal(settings, name, confirm=None, still_listed=False):
    return " ".join(retire.refusals(retire.find(settings, name), confirm, still_listed))


def test_the_production_environment_needs_its_name_repeated(settings):
    production = settings.production.name
    assert f"--confirm {production}" in refusal(settings, production, still_listed=True)
    assert f"got --confirm 'x{production}'" in refusal(settings, production, f"x{production}", still_listed=True)
    assert refusal(settings, production, production, still_listed=True) == ""


def test_a_listed_environment_needs_still_listed(settings):
    first = settings.environments[0]
    confirm = first.name if first.tier.is_production else None
    assert "--still-listed" in refusal(settings, first.name, confirm)
    assert refusal(settings, first.name, confirm, still_listed=True) == ""


def test_both_refusals_at_once(settings):
    message = refusal(settings, settings.production.name)
    assert "--confirm" in message and "--still-listed" in message


def test_an_environment_gone_from_multienv_toml_is_found_in_its_git_history(tmp_path):
    data = tomllib.loads(load_settings().path.read_text(encoding="utf-8"))
    # Where the strategy puts a testing environment called old: its own account under full_isolation.
    strategy = AccountStrategy(data["project"]["account_strategy"])
    retired = {"name": "old", "tier": "testing", "account": strategy.account_key("old", Tier.TESTING)}
    path = tmp_path / "multienv.toml"
    subprocess.run([*GIT, "init", "-q"], cwd=tmp_path, check=True)
    accounts = {**data["accounts"], retired["account"]: data["accounts"].get(retired["account"], "999999999999")}
    with_old = {
        **data,
        "accounts": accounts,
        "environments": [*data["environments"][:-1], retired, data["environments"][-1]],
    }
    for version, message in ((with_old, "with old"), (data, "old retired")):
        path.write_text(toml_of(version), encoding="utf-8")
        subprocess.run([*GIT, "add", "-A"], cwd=tmp_path, check=True)
        subprocess.run([*GIT, "commit", "-qm", message], cwd=tmp_path, check=True)
    current = parse_settings(data, path)
    found = retire.find(current, "old")
    assert (found.listed, found.env.tier.value, found.env.account.key) == (False, "testing", retired["account"])
    assert retire.refusals(found, None, False) == []
    with pytest.raises(retire.RetireError, match="nor of its git history"):
        retire.find(current, "never")


def toml_of(data):
    """Just enough TOML for multienv.toml's shape (tables, one array of tables)."""
    lines = []
    for table, body in data.items():
        if table == "environments":
            continue
        lines.append(f"[{table}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in body.items()]
    for env in data["environments"]:
        lines.append("[[environments]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def test_refusals_come_before_any_call_to_aws(settings, capsys):
    code = deploy.main(["destroy", "--env", settings.production.name], environ={}, out=io.StringIO())
    assert code == 1
    assert "destroy refused" in capsys.readouterr().err


TOPIC = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def role_template(name):
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": name, "AssumeRolePolicyDocument": document}}
        }
    }


def client(service, environ, region):
    return deploy_target.boto_session().client(
        service,
        region_name=region,
        endpoint_url=environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=environ["AWS_SESSION_TOKEN"],
    )


def test_stacks_are_deleted_in_order_and_a_failure_stops_the_run_with_its_reason(
    settings, local_aws, monkeypatch, capsys
):
    env = settings.environments[1]
    monkeypatch.setattr(deploy, "load_settings", lambda: settings)
    environ = credentials_in(local_aws, env.account.id)
    cfn = client("cloudformation", environ, settings.region)
    specs = retire.environment_stacks(settings, env.name)
    for spec in reversed(specs):  # deployed bootstrap first, as a first deployment does
        cfn.create_stack(StackName=spec.name, TemplateBody=json.dumps(TOPIC))
    confirm = ["--confirm", env.name] if env.tier.is_production else []
    out = io.StringIO()
    code = deploy.main(["destroy", "--env", env.name, "--still-listed", *confirm], environ=environ, out=out)
    assert code == 0, capsys.readouterr().err
    deleting = [line.split(":")[0] for line in out.getvalue().splitlines() if line.endswith(": deleting")]
    assert deleting == [spec.name for spec in specs]

    # A role IAM cannot delete (a policy attached outside the stack) stops the app stack.
    app = specs[0]
    role = f"{settings.naming.prefix(env.name)}stuck"
    cfn.create_stack(StackName=app.name, TemplateBody=json.dumps(role_template(role)))
    cfn.create_stack(StackName=specs[2].name, TemplateBody=json.dumps(TOPIC))
    iam = client("iam", environ, settings.region)
    extra = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:ListTopics", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName=f"{role}-extra", PolicyDocument=json.dumps(extra))
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Policy"]["Arn"])
    capsys.readouterr()
    out = io.StringIO()
    code = deploy.main(["destroy", "--env", env.name, "--still-listed", *confirm], environ=environ, out=out)
    err = capsys.readouterr().err
    assert code == 1
    assert f"could not delete:\n{app.name}: " in err and "DeleteConflict" in err
    assert f"left: {specs[2].name}: not tried, {app.name} must go first" in out.getvalue()
    assert stack_ops.stack_status(cfn, specs[2].name) is not None  # the bootstrap stack was not touched
