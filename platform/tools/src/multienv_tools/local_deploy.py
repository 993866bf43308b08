"""``make local-deploy``: the real deploy commands against a local AWS, then checks.

Starts a moto server on 127.0.0.1 (a free port, in this process) and always stops it.
Every account of ``multienv.toml`` is emulated, so the chosen strategy's layout is what
gets deployed: the DevOps stack, each environment's bootstrap and persona stacks in its
own account (as that account's administrator), an artifact published by each
environment's CI role, and each environment's app stack deployed through its Deployer
Role, all with ``deploy.main``, the code CI runs.

moto's CloudFormation skips a few resource types (it says so in a warning) and ignores a
few properties. This module applies exactly those through the plain APIs, from the same
rendered template; any other "no support" warning fails the run, so a new resource type
cannot be skipped unnoticed. The persona roles are then checked against ``personas.py``:
who they trust, MFA where the table asks for it, the policies they carry. Last, with
moto's IAM enforcement on, a Deployer Role reads its artifact and roles without that
permission are refused. The data run follows (``local_data.py``): seed, a masked subset of
production, its checks. Each environment's first release goes live through the ``live``
alias after its smoke test, and production runs the release drill (``release_drill.py``).

Each environment's secrets: the deploy creates none; the documented administrator step
(``make secret-set``, ``secret_store.put``) sets each one its configuration references, then the
deployed artifact's runtime reads each through ``multienv.secrets`` with the function role's
credentials (``sts:AssumeRole``) and ``AWS_REGION`` as Lambda sets it, printing the names read,
never a value. That one environment's function role cannot read another's is the access matrix's
to show (the ``app-role`` cases ``check-access`` makes from ``config/*.toml``): moto's IAM enforcement checks a non-S3
statement's resource against ``*``, so it refuses a function role its own secret too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from multienv.naming import PERSONAS
from multienv.settings import load_settings

from . import (
    app_artifact,
    cfn,
    deploy_target,
    local_data,
    local_retire,
    persona_parameters,
    persona_stacks,
    persona_trust,
    personas,
    release_drill,
    secret_store,
    stack_ops,
    stacks,
)
from .local_aws import (
    LocalDeployError,
    Run,
    SkipWarnings,
    apply_skipped,
    prepare_moto,
)

# --------------------------------------------------------------------------- checks


def run_handler_from_artifact(artifact: ArtifactProcess, package: str, variables: Mapping[str, str]) -> dict[str, Any]:
    """Run the artifact's handler with the deployed function's variables, as Lambda would (Lambda puts
    the artifact's root on sys.path; nothing from this checkout may leak in)."""
    code = f"import json; from {package}.handler import handler; print(json.dumps(handler(dict(), None)))"
    return artifact.run(code, {**variables, "AWS_LAMBDA_FUNCTION_NAME": "local"})


# What the deployed function does to read its secrets: the artifact's own runtime (its snapshot of
# the configuration, multienv.secrets), in the function's environment, as its role. It prints the
# name and sha256 of each value, never a value.
READ_SECRETS = """
import hashlib, json
from multienv.config import load_config
from multienv.secrets import Secrets, region_of
config = load_config()
secrets = Secrets.for_config(config)
read = {}
for key, ref in config.secrets.items():
    read[key] = {"name": ref.name, "sha256": hashlib.sha256(secrets.get(key).encode()).hexdigest()}
print(json.dumps({"env": config.env, "region": region_of(), "read": read}))
"""


# The process ArtifactProcess starts: it imports boto3 and reads the service models the runtime's
# secrets use into one botocore loader (clients of a throwaway session, with placeholder keys: no
# credential or configuration file is looked up for the calls), then forks once per request. Each
# child takes the request's environment as its whole environment and a fresh default session (its
# own credentials and configuration, the warm loader), runs the code with its standard output and
# error (the file descriptors, so a subprocess's output too) in files, and hands back its exit code
# and both outputs as one JSON line on a pipe of its own.
FORKING_RUNNER = r"""
import json, os, sys, tempfile, traceback
import boto3, botocore.loaders, botocore.session
loader = botocore.loaders.create_loader()
warm = botocore.session.Session()
warm.register_component("data_loader", loader)
for service in ("ssm", "secretsmanager"):
    warm.create_client(service, region_name="us-east-1", aws_access_key_id="-", aws_secret_access_key="-")
base = dict(os.environ)
for line in sys.stdin:
    request = json.loads(line)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.environ.clear()
        os.environ.update(base, **request["variables"])
        session = botocore.session.Session()
        session.register_component("data_loader", loader)
        boto3.setup_default_session(botocore_session=session)
        captured = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        os.dup2(captured[0].fileno(), 1)
        os.dup2(captured[1].fileno(), 2)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        code = 0
        try:
            exec(compile(request["code"], "<artifact>", "exec"), {"__name__": "__main__"})
        except SystemExit as stop:
            if isinstance(stop.code, int) or stop.code is None:
                code = stop.code or 0
            else:
                print(stop.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = (f.seek(0) or f.read().decode(errors="replace") for f in captured)
        with os.fdopen(write, "w") as pipe:
            pipe.write(json.dumps({"returncode": code, "stdout": out, "stderr": err}))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.waitpid(child, 0)
    print(answer or json.dumps({"returncode": 1, "stdout": "", "stderr": "the child wrote nothing"}), flush=True)
"""


class ArtifactProcess:
    """Runs code on an artifact's files alone, each call in a process of its own, as each function runs.

    One process holds the extracted artifact on its path (``-s``: no user site; nothing of this
    checkout) and forks for each call, so boto3's import and its service models are paid once per
    local deploy, not once per environment (0.4 s each)."""

    def __init__(self, artifact: Path):
        self._folder = tempfile.TemporaryDirectory()
        with zipfile.ZipFile(artifact) as archive:
            archive.extractall(self._folder.name)
        self.base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": self._folder.name}
        self._process = subprocess.Popen(
            [sys.executable, "-s", "-c", FORKING_RUNNER],
            cwd=self._folder.name,
            env=self.base,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._process.stdin is None or self._process.stdout is None:  # both asked for: for the type checker
            raise LocalDeployError("the process running the artifact's code has no pipes")
        self._stdin, self._stdout = self._process.stdin, self._process.stdout

    def run(self, code: str, variables: Mapping[str, str]) -> dict[str, Any]:
        """What ``code`` prints as JSON on its last line, run with ``variables`` added to the artifact's environment."""
        self._stdin.write(json.dumps({"code": code, "variables": dict(variables)}) + "\n")
        self._stdin.flush()
        line = self._stdout.readline()
        if not line:
            raise LocalDeployError(f"the process running the artifact's code ended (exit {self._process.poll()})")
        result = json.loads(line)
        if result["returncode"] != 0:
            last = (result["stderr"].strip().splitlines() or [f"exit {result['returncode']}"])[-1]
            raise LocalDeployError(f"code from the artifact failed: {last}")
        printed = result["stdout"].strip().splitlines()
        if not printed:
            raise LocalDeployError("code from the artifact printed nothing")
        return json.loads(printed[-1])  # its answer is its last line

    def close(self) -> None:
        self._stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stdout.close()
        self._folder.cleanup()


def local_secret_value(env_name: str, key: str) -> str:
    """The value local-deploy sets (it stands for what an administrator types)."""
    return f"local {env_name} {key} value"


def set_secrets_as_administrator(run: Run, env_name: str) -> dict[str, secret_store.Reference]:
    """The documented administrator step (``make secret-set``, ``secret_store.put``), for each
    secret the environment's configuration references, with its account's administrator."""
    settings = run.settings
    env = settings.environment(env_name)
    admin = run.admin(env.account.id)

    def clients(service: str) -> Any:
        return run.client(service, admin)

    refs = secret_store.references(settings)[env.name]
    missing = [key for key, ref in sorted(refs.items()) if not secret_store.exists(clients, ref)]
    run.check(
        missing == sorted(refs),
        f"{env.name}: before the administrator's step, make secrets finds none of its {len(refs)} secret(s)"
        f" ({', '.join(missing) or 'none'}): no deploy creates them",
    )
    for key, ref in sorted(refs.items()):
        said = secret_store.put(clients, settings, env.name, ref, local_secret_value(env.name, key))
        run.say(f"   {env.name}: {said}")
    for line in secret_store.listing(settings, clients, env.account.id):
        if line.startswith(f"{env.name} ") or (line.startswith("  ") and f"/{env.name}/" in line):
            run.say(f"   make secrets: {line.strip()}")
    run.check(
        all(secret_store.exists(clients, ref) for ref in refs.values()),
        f"{env.name}: make secrets finds every secret of config/{env.name}.toml in account {env.account.id}",
    )
    return refs


def check_secrets(run: Run, env_name: str, artifact: ArtifactProcess, variables: Mapping[str, str]) -> None:
    """The deployed function's code, configuration and role read each of its environment's secrets."""
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    refs = set_secrets_as_administrator(run, env_name)
    role = run.assume(naming.role_arn(env.account.id, naming.function_role(env.name)), run.admin(env.account.id))
    lambda_variables = {
        **variables,
        "AWS_LAMBDA_FUNCTION_NAME": naming.function(env.name),
        "AWS_REGION": settings.region,  # Lambda sets it in every function
        "AWS_ENDPOINT_URL": run.endpoint,
        **role,
    }
    answer = artifact.run(READ_SECRETS, lambda_variables)
    run.check(
        (answer["env"], answer["region"]) == (env.name, settings.region),
        f"{env.name}: the function's runtime reads {env.name}'s configuration in {settings.region} (AWS_REGION)",
    )
    import hashlib

    for key, (store, name) in sorted(refs.items()):
        expected = hashlib.sha256(local_secret_value(env.name, key).encode()).hexdigest()
        run.check(
            answer["read"].get(key) == {"name": name, "sha256": expected},
            f"{env.name}: {naming.function_role(env.name)} read {store} {name} through multienv.secrets "
            "(the value set, not shown)",
        )


def check_environment(
    run: Run, env_name: str, artifact: ArtifactProcess, digest: str, deployer: Mapping[str, str]
) -> None:
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    admin = run.admin(env.account.id)
    iam = run.client("iam", admin)

    role = iam.get_role(RoleName=naming.deployer_role(env.name))["Role"]
    trusted = [
        p for s in role["AssumeRolePolicyDocument"]["Statement"] for p in cfn.as_list(s.get("Principal", {}).get("AWS"))
    ]
    ci_arn = naming.role_arn(settings.devops.id, naming.ci_role(env.name))
    run.check(set(trusted) == {ci_arn}, f"{env.name}: the Deployer Role trusts exactly {ci_arn}")
    boundary = naming.policy_arn(env.account.id, naming.boundary_policy(env.name))
    run.check(
        role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == boundary,
        f"{env.name}: the Deployer Role carries {naming.boundary_policy(env.name)}",
    )

    function = run.client("lambda", deployer).get_function_configuration(FunctionName=naming.function(env.name))
    variables = function.get("Environment", {}).get("Variables", {})
    run.check(variables.get("ENV_NAME") == env.name, f"{env.name}: the function has ENV_NAME={env.name}")
    expected = base64.b64encode(bytes.fromhex(digest)).decode()
    run.check(function["CodeSha256"] == expected, f"{env.name}: the function runs the published artifact")
    answer = run_handler_from_artifact(artifact, settings.package, variables)
    run.check(
        (answer.get("env"), answer.get("source"), answer.get("runtime")) == (env.name, "ENV_NAME", "aws-lambda"),
        f"{env.name}: the artifact's handler resolves {env.name} from ENV_NAME on aws-lambda",
    )
    check_secrets(run, env.name, artifact, variables)
    check_data(run, env.name, variables)


def restore_key_policy(run: Run, spec: stacks.StackSpec, admin: Mapping[str, str]) -> str:
    """moto's CloudFormation stores a key policy as an object, which its own KMS then cannot read:
    put the template's policy back as the JSON text KMS keeps."""
    kms = run.client("kms", admin)
    alias = spec.parameters["KeyAlias"]
    key_id = next(a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"] == alias)
    policy = cfn.render(spec)["Resources"]["DataKey"]["Properties"]["KeyPolicy"]
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
    applied = [f"key policy of {alias}"]
    table = cfn.render(spec)["Resources"].get("Table", {}).get("Properties")
    if table and table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]:
        # moto's CloudFormation ignores PointInTimeRecoverySpecification too.
        run.client("dynamodb", admin).update_continuous_backups(
            TableName=table["TableName"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        applied.append(f"point-in-time recovery of {table['TableName']}")
    return ", ".join(applied)


def check_data(run: Run, env_name: str, variables: Mapping[str, str]) -> None:
    """The environment's store exists as ``infra/data.yaml`` says, its name reaches the function, and the
    function's role writes and reads it. (moto checks no KMS key policy: that the role reaches no other
    environment's store is the access matrix's to prove, ``access/cases.csv``.)"""
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    admin = run.admin(env.account.id)
    if not settings.has_data:
        run.check(
            not variables.get("DATA_TABLE") and not variables.get("DATA_BUCKET"),
            f"{env.name}: [data] stores = none: the function is given no store",
        )
        return
    key = run.client("kms", admin).describe_key(KeyId=naming.data_key_alias(env.name))["KeyMetadata"]
    rotation = run.client("kms", admin).get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    run.check(rotation, f"{env.name}: its data key {naming.data_key_alias(env.name)} rotates")
    role = run.assume(naming.role_arn(env.account.id, naming.function_role(env.name)), admin)
    production = env.tier.value == "production"
    if settings.has_table:
        table = naming.data_table(env.name)
        run.check(variables.get("DATA_TABLE") == table, f"{env.name}: the function has DATA_TABLE={table}")
        described = run.client("dynamodb", admin).describe_table(TableName=table)["Table"]
        # moto's CloudFormation drops the table's SSESpecification (its API keeps it): the template's
        # key is checked by the policy contract tests, not here.
        sse = described.get("SSEDescription", {}).get("KMSMasterKeyArn")
        if sse is not None:
            run.check(sse == key["Arn"], f"{env.name}: {table} is encrypted with {env.name}'s own key")
        run.check(
            bool(described.get("DeletionProtectionEnabled")) == production,
            f"{env.name}: {table} deletion protection {'on' if production else 'off'} ({env.tier.value})",
        )
        backups = run.client("dynamodb", admin).describe_continuous_backups(TableName=table)
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        run.check(pitr == "ENABLED", f"{env.name}: {table} has point-in-time recovery")
        dynamodb = run.client("dynamodb", role)
        item = {"pk": {"S": f"local-deploy#{env.name}"}, "sk": {"S": "check"}}
        dynamodb.put_item(TableName=table, Item=item)
        read = dynamodb.get_item(TableName=table, Key=item).get("Item")
        run.check(read == item, f"{env.name}: {naming.function_role(env.name)} wrote and read an item of {table}")
    if settings.has_bucket:
        bucket = naming.data_bucket(env.name, env.account.id)
        run.check(variables.get("DATA_BUCKET") == bucket, f"{env.name}: the function has DATA_BUCKET={bucket}")
        s3 = run.client("s3", role)
        s3.put_object(Bucket=bucket, Key="local-deploy/check.json", Body=b"{}")
        body = s3.get_object(Bucket=bucket, Key="local-deploy/check.json")["Body"].read()
        run.check(body == b"{}", f"{env.name}: {naming.function_role(env.name)} wrote and read an object of {bucket}")


def role_or_none(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def trust_of(role: Mapping[str, Any]) -> tuple[set[str], set[str], bool]:
    """A role's trust as stored: its principals (``AWS:...``, ``Federated:...``), the
    ``aws:PrincipalArn`` patterns it requires, and whether it requires MFA."""
    principals: set[str] = set()
    arns: set[str] = set()
    mfa = False
    for statement in role["AssumeRolePolicyDocument"]["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for kind, values in statement.get("Principal", {}).items():
            principals |= {f"{kind}:{v}" for v in cfn.as_list(values)}
        condition = statement.get("Condition", {})
        arns |= set(cfn.as_list(condition.get("ArnLike", {}).get("aws:PrincipalArn")))
        mfa = mfa or str(condition.get("Bool", {}).get("aws:MultiFactorAuthPresent")).lower() == "true"
    return principals, arns, mfa


def expected_trust(
    run: Run, trust: persona_trust.Trust, account_id: str, persona: str, tier
) -> tuple[set[str], set[str]]:
    """What ``personas.py`` says a persona role trusts, in the shape of ``trust_of``."""
    naming = run.settings.naming
    accounts = {a.key: a.id for a in run.settings.accounts}
    principal = persona_trust.trusted_principal(trust, naming, accounts, account_id, persona, tier)
    if trust.source == "saml":
        return {f"Federated:{principal}"}, set()
    root = persona_trust.trusted_account_root(trust, naming, accounts, account_id)
    return {f"AWS:{root}"}, {principal}


def check_personas(run: Run, env_name: str) -> None:
    """Each persona role of the environment, as deployed, against the table of ``personas.py``."""
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    trust = persona_stacks.load_trust(settings)
    iam = run.client("iam", run.admin(env.account.id))
    for persona in PERSONAS:
        grant = personas.grant(env.tier, persona)
        name = naming.persona_role(env.name, persona)
        role = role_or_none(iam, name)
        if not grant.access.grants_anything:
            run.check(role is None, f"{env.name}: no {name} role ({grant.access.summary})")
            continue
        principals, arns, mfa = trust_of(role) if role else (set(), set(), False)
        want_principals, want_arns = expected_trust(run, trust, env.account.id, persona, env.tier)
        run.check(
            role is not None and (principals, arns) == (want_principals, want_arns),
            f"{env.name}: {name} exists and trusts exactly "
            f"{', '.join(sorted(want_arns or want_principals))} ({trust.source})",
        )
        # Identity Center and SAML sessions carry no aws:MultiFactorAuthPresent: their
        # identity provider enforces MFA, and the condition would lock everyone out.
        want_mfa = grant.mfa and trust.source == "account"
        if want_mfa:
            what = f"requires MFA (aws:MultiFactorAuthPresent) and sessions of {grant.max_session_seconds} s at most"
        elif grant.mfa:
            what = f"leaves MFA to the identity provider ({trust.source})"
        else:
            what = "has no MFA condition"
        run.check(
            role is not None and mfa == want_mfa and role["MaxSessionDuration"] == grant.max_session_seconds,
            f"{env.name}: {name} {what}",
        )
        blocks = persona_parameters.policy_blocks(env.tier, persona, settings.has_data)
        attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
        run.check(
            attached == {persona_parameters.policy_name(naming, env.name, b) for b in blocks},
            f"{env.name}: {name} carries exactly the persona policies {', '.join(blocks)}",
        )


def check_artifact_access(run: Run, digest: str) -> None:
    """With IAM enforcement on: each Deployer Role reads its artifact, other roles cannot."""
    settings, naming = run.settings, run.settings.naming
    bucket = naming.artifact_bucket(settings.devops.id)
    envs = list(settings.environments)
    callers = {}
    for env in envs:
        ci = run.assume(naming.role_arn(settings.devops.id, naming.ci_role(env.name)), run.admin(settings.devops.id))
        callers[env.name] = run.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
    function_role = run.assume(
        naming.role_arn(envs[0].account.id, naming.function_role(envs[0].name)), run.admin(envs[0].account.id)
    )
    endpoint = run.endpoint
    _post(endpoint + "/moto-api/reset-auth", b"0")
    try:
        for index, env in enumerate(envs):
            s3 = run.client("s3", callers[env.name])
            own = naming.artifact_key(env.name, digest)
            body = _read(lambda s3=s3, own=own: s3.get_object(Bucket=bucket, Key=own)["Body"].read())
            run.check(hashlib.sha256(body).hexdigest() == digest, f"IAM on: {env.name}'s deployer reads {own}")
            other = envs[(index + 1) % len(envs)]
            if other.name != env.name:
                key = naming.artifact_key(other.name, digest)
                run.check(
                    _denied(lambda s3=s3, key=key: s3.get_object(Bucket=bucket, Key=key)),
                    f"IAM on: {env.name}'s deployer is refused {key}",
                )
        s3 = run.client("s3", function_role)
        key = naming.artifact_key(envs[0].name, digest)
        run.check(
            _denied(lambda: s3.get_object(Bucket=bucket, Key=key)),
            f"IAM on: {naming.function_role(envs[0].name)} (no artifact permission) is refused {key}",
        )
    finally:
        _post(endpoint + "/moto-api/reset-auth", b"inf")


def _post(url: str, data: bytes) -> None:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the local server we started
        url, data=data, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def _read(call: Callable[..., bytes]) -> bytes:  # called with no arguments; ... admits lambda s3=s3: ...
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        return f"refused: {deploy_target.one_line(error)}".encode()


def _denied(call: Callable[..., Any]) -> bool:  # as _read
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        return error.response.get("Error", {}).get("Code") in ("AccessDenied", "AccessDeniedException", "403")
    return False


# --------------------------------------------------------------------------- the run


def deploy_everything(run: Run) -> None:
    settings, naming = run.settings, run.settings.naming
    devops = settings.devops
    devops_admin = run.admin(devops.id)
    devops_spec = stacks.devops_spec(settings)

    run.say(f"== DevOps account {devops.id} ({devops.key}): first pass, before any Deployer Role exists")
    run.deploy(devops_admin, "bootstrap-devops")
    run.say("   moto skipped, applied directly: " + ", ".join(apply_skipped(run, devops_spec, devops_admin)))

    for env in settings.environments:
        run.say(f"== {env.name}: bootstrap and personas in account {env.account.id} ({env.account.key}), as admin")
        admin = run.admin(env.account.id)
        run.deploy(admin, "bootstrap-env", "--env", env.name)
        apply_skipped(run, stacks.bootstrap_spec(settings, env.name), admin)
        applied = apply_skipped(run, persona_stacks.persona_spec(settings, env.name), admin)
        run.say("   moto ignored, applied directly: " + ", ".join(applied))
        check_personas(run, env.name)
        if settings.has_data:
            data = stacks.data_spec(settings, env.name)
            applied = [*apply_skipped(run, data, admin), restore_key_policy(run, data, admin)]
            run.say("   data stack; moto skipped, applied directly: " + ", ".join(applied))

    run.say("== DevOps account: grant the Deployer Roles")
    run.deploy(devops_admin, "bootstrap-devops", "--grant-deployers")
    run.say("   moto skipped, applied directly: " + ", ".join(apply_skipped(run, devops_spec, devops_admin)))

    artifact = settings.root / app_artifact.ARTIFACT
    run.deploy(devops_admin, "build")
    digest = app_artifact.sha256_of(artifact)

    runner = ArtifactProcess(artifact)
    try:
        for env in settings.environments:
            run.say(f"== {env.name}: publish as its CI role, deploy as its Deployer Role")
            ci = run.assume(naming.role_arn(devops.id, naming.ci_role(env.name)), devops_admin)
            run.deploy(ci, "publish", "--env", env.name, "--artifact", str(artifact))
            deployer = run.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
            run.deploy(deployer, "app", "--env", env.name, "--artifact", str(artifact))
            apply_skipped(run, stacks.app_spec(settings, env.name, digest), run.admin(env.account.id))
            check_environment(run, env.name, runner, digest, deployer)
            run.deploy(deployer, "release", "--env", env.name, "--artifact", str(artifact))
            release_drill.check_live(run, env.name, digest, deployer)
    finally:
        runner.close()

    check_artifact_access(run, digest)
    release_drill.drill(run, artifact)

    run.say("== DevOps account: the bucket policy, after the last object request")
    apply_skipped(run, devops_spec, devops_admin, bucket_policy=True)
    bucket = naming.artifact_bucket(devops.id)
    stored = json.loads(run.client("s3", devops_admin).get_bucket_policy(Bucket=bucket)["Policy"])
    rendered = cfn.render(devops_spec)["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]
    run.check(stored == rendered, f"s3://{bucket} holds the bucket policy of the template")
    for env in settings.environments:
        deployer_arn = naming.role_arn(env.account.id, naming.deployer_role(env.name))
        readers = [s for s in cfn.statements(stored) if s["Effect"] == "Allow" and deployer_arn in cfn.principals(s)]
        prefixes = {r for s in readers for r in cfn.as_list(s["Resource"])}
        run.check(
            prefixes == {f"arn:{naming.partition}:s3:::{bucket}/{naming.artifact_prefix(env.name)}*"},
            f"the bucket policy lets {naming.deployer_role(env.name)} read {naming.artifact_prefix(env.name)} only",
        )


def deployed_stacks(run: Run) -> int:
    """Stacks standing in the emulated accounts, counted there rather than from the plan."""
    count = 0
    for account in run.settings.accounts:
        found = run.client("cloudformation", run.admin(account.id)).describe_stacks()["Stacks"]
        count += sum(1 for s in found if s["StackStatus"] in stack_ops.SETTLED_OK)
    return count


def main(out: TextIO = sys.stdout) -> int:
    from moto.server import ThreadedMotoServer

    prepare_moto()
    settings = load_settings()
    warnings = SkipWarnings()
    moto_logger = logging.getLogger("moto")
    moto_logger.addHandler(warnings)
    python_warnings = logging.getLogger("py.warnings")
    python_warnings.addHandler(warnings)
    python_warnings.propagate = False
    logging.captureWarnings(True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    started = time.monotonic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        run = Run(settings, f"http://{host}:{port}", out, skipped=warnings)
        run.say(
            f"local AWS on {run.endpoint}: {settings.strategy.value}, "
            f"{len(settings.accounts)} accounts, environments {', '.join(settings.names)}"
        )
        deploy_everything(run)
        stack_count = deployed_stacks(run)
        local_data.data_run(run)
        local_retire.retire_first_environment(run)
    except (LocalDeployError, deploy_target.DeployError) as error:
        print(f"local deploy failed: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if not deploy_target.is_aws_error(error):
            raise
        print(f"local deploy failed: {deploy_target.one_line(error)}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        logging.captureWarnings(False)
        moto_logger.removeHandler(warnings)
        python_warnings.removeHandler(warnings)
        python_warnings.propagate = True
    if problem := warnings.problem():
        print(f"local deploy failed: {problem}", file=sys.stderr)
        return 1
    out.write(
        f"local deploy OK: {stack_count} stacks in {len(settings.accounts)} account(s), "
        f"{len(run.checks)} checks passed, {time.monotonic() - started:.1f} s\n"
    )
    return 0


if __name__ == "__main__":
    import argparse

    # No options: this only answers --help and refuses anything else instead of deploying.
    argparse.ArgumentParser(
        prog=f"python -m {__package__}.local_deploy", description=__doc__.splitlines()[0]
    ).parse_args()
    sys.exit(main())
