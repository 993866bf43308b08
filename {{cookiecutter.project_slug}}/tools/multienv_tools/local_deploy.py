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
permission are refused. Each environment's first release goes live through the ``live``
alias after its smoke test, and production runs the release drill (``release_drill.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from multienv.naming import PERSONAS
from multienv.settings import Settings, load_settings

from . import cfn, deploy, local_retire, persona_stacks, personas, release_drill, stacks

# Resource types moto's CloudFormation skips with a warning; applied below instead.
SKIPPED_BY_MOTO = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::IAM::OIDCProvider",
    }
)
RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ADMIN_ROLE = "local-admin"


class LocalDeployError(RuntimeError):
    pass


class SkipWarnings(logging.Handler):
    """Collects moto's "not supported" warnings, logged or issued as Python warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.types: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "support" in message.lower():
            found = RESOURCE_TYPE.search(message)
            self.types.append(found.group(0) if found else message.strip())

    def unexpected(self) -> list[str]:
        return sorted({t for t in self.types if t not in SKIPPED_BY_MOTO})


@dataclass
class Run:
    settings: Settings
    endpoint: str
    out: TextIO
    checks: list[str] = field(default_factory=list)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            raise LocalDeployError(f"check failed: {what}")
        self.checks.append(what)
        self.say(f"   ok: {what}")

    # --- credentials -----------------------------------------------------------
    def environ(self, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": self.settings.region}
        env.update(credentials or LOCAL_CREDENTIALS)
        return env

    def client(self, service: str, credentials: Mapping[str, str] | None = None) -> Any:
        env = self.environ(credentials)
        return deploy.boto_session().client(
            service,
            region_name=self.settings.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
        )

    def assume(self, role_arn: str, via: Mapping[str, str] | None = None) -> dict[str, str]:
        """Credentials of a role; in moto they act in the role's account."""
        if role_arn not in self.sessions:
            answer = self.client("sts", via).assume_role(RoleArn=role_arn, RoleSessionName="local-deploy")
            c = answer["Credentials"]
            self.sessions[role_arn] = {
                "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"],
            }
        return self.sessions[role_arn]

    def admin(self, account_id: str) -> dict[str, str]:
        return self.assume(self.settings.naming.role_arn(account_id, ADMIN_ROLE))

    def deploy(self, credentials: Mapping[str, str], *argv: str) -> None:
        """The deploy tool's own entry point, as CI calls it."""
        code = deploy.main(list(argv), environ=self.environ(credentials), out=self.out)
        if code != 0:
            raise LocalDeployError(f"deploy {' '.join(argv)} failed (exit {code})")


# --------------------------------------------------------------------------- what moto skips


def drop_novalue_list_items() -> None:
    """Make moto's CloudFormation drop a list item that ``Fn::If`` resolves to ``AWS::NoValue``.

    AWS removes such an item (a policy statement that only some strategies need); moto 5.2
    keeps it as ``null`` and then refuses the policy as malformed. The local AWS runs in this
    process, so its parser is corrected here rather than the templates bent to it."""
    from moto.cloudformation import parsing

    if getattr(parsing.clean_json, "drops_novalue", False):
        return
    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            return [
                cleaned
                for item in resource_json
                if (cleaned := clean_json(item, resources_map)) is not None or item is None
            ]
        return original(resource_json, resources_map)

    clean_json.drops_novalue = True  # type: ignore[attr-defined]
    parsing.clean_json = clean_json


def physical_ids(client: Any, spec: stacks.StackSpec) -> dict[str, dict[str, str]]:
    found = client.describe_stack_resources(StackName=spec.name)["StackResources"]
    return {r["LogicalResourceId"]: {"Ref": r["PhysicalResourceId"]} for r in found if r.get("PhysicalResourceId")}


def apply_skipped(
    run: Run, spec: stacks.StackSpec, credentials: Mapping[str, str], bucket_policy: bool = False
) -> list[str]:
    """Apply what moto's CloudFormation skipped or ignored in a deployed stack, from its template.

    The bucket policy only when asked: moto treats every condition but StringEquals as met,
    so it would read the policy's conditioned Deny statements (no TLS, other environments'
    roles) as unconditional and refuse every object request. It is applied after the last
    object request and then checked as stored.
    """
    cfn_client = run.client("cloudformation", credentials)
    deployed = cfn_client.describe_stacks(StackName=spec.name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in deployed.get("Parameters", [])}
    # The parameters the deploy tool chooses at deploy time, as deployed. (moto stores a
    # CommaDelimitedList's value as a Python list's repr: the spec's own values stand.)
    chosen = (stacks.DEPLOYER_ACCESS, stacks.CREATE_OIDC_PROVIDER)
    spec = spec.with_parameters(**{k: v for k, v in parameters.items() if k in chosen and k in spec.parameters})
    physical = physical_ids(cfn_client, spec)
    template = cfn.load_template(spec.template_path)
    applied: list[str] = []

    def rendered() -> dict[str, Any]:
        return cfn.render_template(template, spec.parameters, spec.account_id, spec.region, spec.name, physical)

    secretsmanager = run.client("secretsmanager", credentials)
    for logical_id, resource in rendered()["Resources"].items():
        if resource["Type"] != "AWS::SecretsManager::Secret":
            continue
        props = resource["Properties"]
        try:
            arn = secretsmanager.describe_secret(SecretId=props["Name"])["ARN"]
        except secretsmanager.exceptions.ResourceNotFoundException:
            arn = secretsmanager.create_secret(
                Name=props["Name"],
                Description=props.get("Description", ""),
                KmsKeyId=props["KmsKeyId"],
                SecretString=secrets.token_urlsafe(24),
                Tags=props.get("Tags", []),
            )["ARN"]
        physical[logical_id] = {"Ref": arn}
        applied.append(f"secret {props['Name']}")

    resources = rendered()["Resources"]
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::SecretsManager::ResourcePolicy":
            secretsmanager.put_resource_policy(
                SecretId=props["SecretId"],
                ResourcePolicy=json.dumps(props["ResourcePolicy"]),
                BlockPublicPolicy=bool(props.get("BlockPublicPolicy", False)),
            )
            applied.append(f"secret policy {logical_id}")
        elif kind == "AWS::S3::BucketPolicy" and bucket_policy:
            run.client("s3", credentials).put_bucket_policy(
                Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
            )
            applied.append(f"bucket policy {props['Bucket']}")
        elif kind == "AWS::S3::Bucket":
            s3 = run.client("s3", credentials)
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=props["BucketName"], PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
            if "VersioningConfiguration" in props:
                s3.put_bucket_versioning(
                    Bucket=props["BucketName"], VersioningConfiguration=props["VersioningConfiguration"]
                )
            if "OwnershipControls" in props:
                s3.put_bucket_ownership_controls(
                    Bucket=props["BucketName"], OwnershipControls=props["OwnershipControls"]
                )
            applied.append(f"bucket settings {props['BucketName']}")
        elif kind == "AWS::ECR::Repository" and "RepositoryPolicyText" in props:
            run.client("ecr", credentials).set_repository_policy(
                repositoryName=props["RepositoryName"], policyText=json.dumps(props["RepositoryPolicyText"])
            )
            applied.append(f"repository policy {props['RepositoryName']}")
        elif kind == "AWS::IAM::Role" and (props.get("Policies") or props.get("ManagedPolicyArns")):
            # moto's CloudFormation stores inline policies as parsed documents, which its own
            # IAM enforcement cannot read; the plain API stores them as AWS does.
            iam = run.client("iam", credentials)
            for inline in props.get("Policies", []):
                iam.put_role_policy(
                    RoleName=props["RoleName"],
                    PolicyName=inline["PolicyName"],
                    PolicyDocument=json.dumps(inline["PolicyDocument"]),
                )
            if props.get("Policies"):
                applied.append(f"inline policies of {props['RoleName']}")
            # moto ignores a role's ManagedPolicyArns. AWS attaches them when it creates the
            # role; attaching here, by ARN, fails on a policy the stack did not create. The
            # template keeps them on the role rather than in each policy's Roles: what a role
            # carries is then read in one place, by reviewers and by the access matrix.
            for arn in cfn.as_list(props.get("ManagedPolicyArns")):
                iam.attach_role_policy(RoleName=props["RoleName"], PolicyArn=arn)
            if props.get("ManagedPolicyArns"):
                applied.append(f"managed policies of {props['RoleName']}")
        elif kind == "AWS::IAM::OIDCProvider":
            iam = run.client("iam", credentials)
            arn = cfn.Resolver(template, spec.parameters, spec.account_id, spec.region).get_att(logical_id, "Ref")
            known = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
            if arn not in known:
                iam.create_open_id_connect_provider(
                    Url=props["Url"], ClientIDList=props["ClientIdList"], ThumbprintList=props.get("ThumbprintList", [])
                )
            applied.append("GitHub OIDC provider")
    return applied


# --------------------------------------------------------------------------- checks


def run_handler_from_artifact(artifact: Path, package: str, variables: Mapping[str, str]) -> dict[str, Any]:
    """Run the artifact's handler with the deployed function's variables, as Lambda would."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(artifact) as archive:
            archive.extractall(folder)
        code = f"import json; from {package}.handler import handler; print(json.dumps(handler(dict(), None)))"
        # Lambda puts the artifact's root on sys.path; nothing from this checkout may leak in.
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": folder, **variables}
        env["AWS_LAMBDA_FUNCTION_NAME"] = "local"
        result = subprocess.run(
            [sys.executable, "-s", "-c", code], cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LocalDeployError(f"handler from the artifact failed: {result.stderr.strip().splitlines()[-1:]}")
        return json.loads(result.stdout)


def check_environment(run: Run, env_name: str, artifact: Path, digest: str, deployer: Mapping[str, str]) -> None:
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


def expected_trust(run: Run, trust: personas.Trust, account_id: str, persona: str) -> tuple[set[str], set[str]]:
    """What ``personas.py`` says a persona role trusts, in the shape of ``trust_of``."""
    naming = run.settings.naming
    accounts = {a.key: a.id for a in run.settings.accounts}
    principal = personas.trusted_principal(trust, naming, accounts, account_id, persona)
    if trust.source == "saml":
        return {f"Federated:{principal}"}, set()
    root = personas.trusted_account_root(trust, naming, accounts, account_id)
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
        want_principals, want_arns = expected_trust(run, trust, env.account.id, persona)
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
            mfa == want_mfa and role["MaxSessionDuration"] == grant.max_session_seconds,
            f"{env.name}: {name} {what}",
        )
        blocks = personas.policy_blocks(env.tier, persona)
        attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
        run.check(
            attached == {personas.policy_name(naming, env.name, b) for b in blocks},
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


def _read(call: Callable[[], bytes]) -> bytes:
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        return f"refused: {deploy.one_line(error)}".encode()


def _denied(call: Callable[[], Any]) -> bool:
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

    run.say("== DevOps account: grant the Deployer Roles")
    run.deploy(devops_admin, "bootstrap-devops", "--grant-deployers")
    run.say("   moto skipped, applied directly: " + ", ".join(apply_skipped(run, devops_spec, devops_admin)))

    artifact = settings.root / deploy.ARTIFACT
    run.deploy(devops_admin, "build")
    digest = deploy.sha256_of(artifact)

    for env in settings.environments:
        run.say(f"== {env.name}: publish as its CI role, deploy as its Deployer Role")
        ci = run.assume(naming.role_arn(devops.id, naming.ci_role(env.name)), devops_admin)
        run.deploy(ci, "publish", "--env", env.name, "--artifact", str(artifact))
        deployer = run.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
        run.deploy(deployer, "app", "--env", env.name, "--artifact", str(artifact))
        apply_skipped(run, stacks.app_spec(settings, env.name, digest), run.admin(env.account.id))
        check_environment(run, env.name, artifact, digest, deployer)
        run.deploy(deployer, "release", "--env", env.name, "--artifact", str(artifact))
        release_drill.check_live(run, env.name, digest, deployer)

    check_artifact_access(run, digest)
    release_drill.drill(run, artifact)

    run.say("== DevOps account: the bucket policy, after the last object request")
    apply_skipped(run, devops_spec, devops_admin, bucket_policy=True)
    bucket = naming.artifact_bucket(devops.id)
    stored = json.loads(run.client("s3", devops_admin).get_bucket_policy(Bucket=bucket)["Policy"])
    rendered = cfn.render(devops_spec)["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]
    run.check(stored == rendered, f"s3://{bucket} holds the bucket policy of the template")
    for env in settings.environments:
        deployer = naming.role_arn(env.account.id, naming.deployer_role(env.name))
        readers = [s for s in cfn.statements(stored) if s["Effect"] == "Allow" and deployer in cfn.principals(s)]
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
        count += sum(1 for s in found if s["StackStatus"] in deploy.SETTLED_OK)
    return count


def main(out: TextIO = sys.stdout) -> int:
    from moto.server import ThreadedMotoServer

    drop_novalue_list_items()
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
        run = Run(settings, f"http://{host}:{port}", out)
        run.say(
            f"local AWS on {run.endpoint}: {settings.strategy.value}, "
            f"{len(settings.accounts)} accounts, environments {', '.join(settings.names)}"
        )
        deploy_everything(run)
        stack_count = deployed_stacks(run)
        local_retire.retire_first_environment(run)
    except (LocalDeployError, deploy.DeployError) as error:
        print(f"local deploy failed: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if not deploy.is_aws_error(error):
            raise
        print(f"local deploy failed: {deploy.one_line(error)}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        logging.captureWarnings(False)
        moto_logger.removeHandler(warnings)
        python_warnings.removeHandler(warnings)
        python_warnings.propagate = True
    unexpected = warnings.unexpected()
    if unexpected:
        print(
            "local deploy failed: moto skipped resource types nobody applies: "
            f"{', '.join(unexpected)} (known and applied: {', '.join(sorted(SKIPPED_BY_MOTO))})",
            file=sys.stderr,
        )
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
