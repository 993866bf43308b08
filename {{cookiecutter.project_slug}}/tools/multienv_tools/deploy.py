"""The deploy tool: bootstrap the DevOps account and each environment, publish, deploy the app.

    python -m multienv_tools.deploy stacks                  # what would be deployed where
    python -m multienv_tools.deploy build                   # dist/app.zip and its sha256
    python -m multienv_tools.deploy bootstrap-devops [--grant-deployers]
    python -m multienv_tools.deploy bootstrap-env --env ENV     # bootstrap stack, then persona stack
    python -m multienv_tools.deploy personas --env ENV          # the persona stack alone
    python -m multienv_tools.deploy publish --env ENV --artifact dist/app.zip
    python -m multienv_tools.deploy app --env ENV --artifact dist/app.zip
    python -m multienv_tools.deploy release --env ENV --artifact dist/app.zip   # smoke test, then alias live
    python -m multienv_tools.deploy rollback --env ENV          # live back to the previous version
    python -m multienv_tools.deploy drift --env ENV             # changes made outside CloudFormation
    python -m multienv_tools.deploy destroy --env ENV [--confirm ENV] [--still-listed] [--devops]   # retire.py

Accounts, region and names come from ``multienv.toml`` through ``stacks.py``; credentials
and ``AWS_ENDPOINT_URL`` from the process environment, as for any AWS tool. Each command
checks that its credentials belong to the account it deploys to, and refuses placeholder
account IDs unless the endpoint is a local one (``make local-deploy``). The bootstrap and
persona stacks create IAM roles: their commands refuse the platform's own roles (Deployer,
CloudFormation execution, CI, function), whose boundary keeps them off those roles, and run
with the account's administrator credentials. boto3 is imported only when a command talks to AWS.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

from multienv.model import PLACEHOLDER_PREFIX, is_placeholder
from multienv.settings import Environment, Settings, SettingsError, load_settings

from . import persona_stacks, snapshot_build, stacks

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ARTIFACT = Path("dist") / "app.zip"
# Fixed timestamp and modes: the same sources always give the same bytes, hence the same key.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SETTLED_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
NO_UPDATES = "No updates are to be performed"
POLL_SECONDS = (0.05, 0.2, 1.0, 2.0, 5.0)
TIMEOUT_SECONDS = 1800


class DeployError(RuntimeError):
    """A deployment step failed; the message says what, where and why, in one line or a few."""


@dataclass
class Context:
    settings: Settings
    environ: Mapping[str, str]
    out: TextIO = sys.stdout
    _session: Any = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str | None:
        return self.environ.get("AWS_ENDPOINT_URL") or None

    @property
    def is_local(self) -> bool:
        return is_local_endpoint(self.endpoint_url)

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def client(self, service: str) -> Any:
        if self._session is None:
            profile = self.environ.get("AWS_PROFILE") or None
            self._session = boto_session(profile)
        return self._session.client(
            service,
            region_name=self.settings.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.environ.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.environ.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=self.environ.get("AWS_SESSION_TOKEN"),
        )


@functools.lru_cache(maxsize=4)
def boto_session(profile: str | None = None) -> Any:
    """One session per profile: loading the service models once saves 30 ms per client."""
    import boto3

    return boto3.Session(profile_name=profile)


def is_local_endpoint(url: str | None) -> bool:
    return bool(url) and (urlparse(url).hostname or "") in LOCAL_HOSTS


def target_environment(settings: Settings, name: str | None, environ: Mapping[str, str]) -> Environment:
    """The environment a command acts on: ``--env`` when given, else what the resolver says.

    The resolver reads ``USER_ENV_NAME`` / ``ENV_NAME`` (CI sets the latter) and, on a
    workstation only, falls back to the first development environment; it never guesses
    production.
    """
    if name:
        return settings.environment(name)
    from multienv.env import ResolutionError, resolve

    try:
        resolution = resolve(environ, settings)
    except ResolutionError as error:
        raise DeployError(f"no --env given, and the environment resolver refused: {error}") from None
    return settings.environment(resolution.env)


def account_label(settings: Settings, account_id: str) -> str:
    keys = [a.key for a in settings.accounts if a.id == account_id]
    return f"{account_id} ({', '.join(keys)})" if keys else account_id


def check_target(ctx: Context, account_id: str, what: str) -> dict[str, str]:
    """Refuse placeholders on real AWS, and credentials of the wrong account anywhere; return the caller."""
    if is_placeholder(account_id) and not ctx.is_local:
        raise DeployError(
            f"{what}: account ID {account_id} in {ctx.settings.path.name} is a placeholder "
            f"({PLACEHOLDER_PREFIX}NN): put the real account ID there first; placeholders are for "
            "the local deploy only (AWS_ENDPOINT_URL on 127.0.0.1 or localhost)"
        )
    caller = ctx.client("sts").get_caller_identity()
    if caller["Account"] != account_id:
        raise DeployError(
            f"{what}: the credentials belong to account {caller['Account']} ({caller['Arn']}), "
            f"but the target is account {account_label(ctx.settings, account_id)}"
        )
    return caller


def assumed_role_name(arn: str) -> str | None:
    """``arn:aws:sts::123456789012:assumed-role/NAME/session`` -> ``NAME``; None for any other caller."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if parts[0] == "assumed-role" and len(parts) > 2 else None


def platform_roles(settings: Settings) -> set[str]:
    """The roles the stacks create for machines: never the ones to create roles with."""
    naming = settings.naming
    roles = set()
    for env in settings.environments:
        roles |= {
            naming.deployer_role(env.name),
            naming.cfn_execution_role(env.name),
            naming.ci_role(env.name),
            naming.function_role(env.name),
        }
    return roles


def check_administrator(ctx: Context, caller: Mapping[str, str], account_id: str, what: str) -> None:
    """Refuse a platform role for a stack that creates IAM roles: the account's administrator deploys it."""
    role = assumed_role_name(caller["Arn"])
    if role in platform_roles(ctx.settings):
        raise DeployError(
            f"{what}: creates IAM roles, so it runs with administrator credentials of account "
            f"{account_label(ctx.settings, account_id)}, not as {role} ({caller['Arn']}), "
            "whose permissions boundary keeps it off the platform and persona roles"
        )


# --------------------------------------------------------------------------- artifact


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


# What runs in AWS, and nothing else: the runtime and the service packages (Python sources
# only), the settings file and the configuration. The tooling, tests and infra never ship, so
# an edit to them leaves the artifact, and its sha256, as it was.
RUNTIME_PACKAGE = "multienv"


def artifact_files(settings: Settings) -> list[tuple[Path, str]]:
    """The artifact's allow-list: ``src/multienv/``, ``src/<package>/``, ``multienv.toml``, ``config/*.toml``."""
    root = settings.root
    files = []
    for package in (RUNTIME_PACKAGE, settings.package):
        folder = root / "src" / package
        files += [(p, p.relative_to(folder.parent).as_posix()) for p in folder.rglob("*.py")]
    files.append((settings.path, settings.path.name))
    files += [(p, p.relative_to(root).as_posix()) for p in (root / "config").glob("*.toml")]
    return sorted(files, key=lambda item: item[1])


def build(settings: Settings, target: Path) -> str:
    """Write the deterministic artifact, with the snapshot a cold start reads, and return its sha256."""
    snapshot_name, snapshot_text = snapshot_build.snapshot_member(settings.root)
    # A snapshot left in src/ by hand would be a second copy: the build writes its own.
    members = [(name, path.read_bytes()) for path, name in artifact_files(settings) if name != snapshot_name]
    members = sorted([*members, (snapshot_name, snapshot_text.encode())])
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return sha256_of(target)


# --------------------------------------------------------------------------- stacks


def stack_status(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def failed_events(cfn: Any, name: str) -> list[str]:
    """The failed resources of the latest deployment, oldest first, one line each.

    Events come newest first; the latest deployment starts at the stack's own
    "User Initiated" event, and older ones are history.
    """
    lines = []
    for event in cfn.describe_stack_events(StackName=name)["StackEvents"]:
        if event["ResourceStatus"].endswith("FAILED"):
            reason = event.get("ResourceStatusReason", "")
            lines.append(
                f"  {event['LogicalResourceId']} ({event['ResourceType']}): {event['ResourceStatus']}: {reason}"
            )
        if event["LogicalResourceId"] == name and event.get("ResourceStatusReason") == "User Initiated":
            break
    return list(reversed(lines))


def wait_for(cfn: Any, name: str) -> dict[str, Any]:
    started = time.monotonic()
    for attempt in range(10_000):
        stack = stack_status(cfn, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack or {"StackStatus": "DELETE_COMPLETE"}
        if time.monotonic() - started > TIMEOUT_SECONDS:
            raise DeployError(f"{name}: still {stack['StackStatus']} after {TIMEOUT_SECONDS} s")
        time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
    raise DeployError(f"{name}: did not settle")


def deploy_stack(ctx: Context, spec: stacks.StackSpec, role_arn: str | None = None) -> dict[str, str]:
    """Create or update one stack, wait for it, and return its outputs."""
    cfn = ctx.client("cloudformation")
    where = f"account {account_label(ctx.settings, spec.account_id)}, {spec.region}"
    existing = stack_status(cfn, spec.name)
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"{spec.name}: a first creation failed and left it in ROLLBACK_COMPLETE; delete the stack, then run again"
        )
    arguments: dict[str, Any] = {
        "StackName": spec.name,
        "TemplateBody": spec.template_path.read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": [{"Key": "env", "Value": spec.env or "devops"}],
    }
    if role_arn:
        arguments["RoleARN"] = role_arn
    from botocore.exceptions import ClientError

    if existing is None:
        ctx.say(f"{spec.name}: creating in {where}")
        cfn.create_stack(**arguments, OnFailure="ROLLBACK")
    else:
        ctx.say(f"{spec.name}: updating in {where}")
        try:
            cfn.update_stack(**arguments)
        except ClientError as error:
            if NO_UPDATES in str(error):
                ctx.say(f"{spec.name}: unchanged")
                return outputs_of(existing)
            raise
    stack = wait_for(cfn, spec.name)
    if stack["StackStatus"] not in SETTLED_OK:
        events = failed_events(cfn, spec.name)
        raise DeployError("\n".join([f"{spec.name}: {stack['StackStatus']} in {where}", *events]))
    ctx.say(f"{spec.name}: {stack['StackStatus']}")
    return outputs_of(stack)


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# --------------------------------------------------------------------------- commands


def cmd_stacks(ctx: Context, args: argparse.Namespace) -> None:
    for spec in stacks.stack_specs(ctx.settings):
        ctx.say(
            f"{spec.kind:<9} {spec.name:<40} account {account_label(ctx.settings, spec.account_id)} "
            f"{spec.region} {spec.template_path.relative_to(ctx.settings.root)}"
        )


def cmd_build(ctx: Context, args: argparse.Namespace) -> None:
    target = Path(args.output) if args.output else ctx.settings.root / ARTIFACT
    digest = build(ctx.settings, target)
    ctx.say(f"{target}: sha256 {digest}")


def cmd_bootstrap_devops(ctx: Context, args: argparse.Namespace) -> None:
    spec = stacks.devops_spec(ctx.settings)
    check_target(ctx, spec.account_id, spec.name)
    existing = stack_status(ctx.client("cloudformation"), spec.name)
    current = {p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])}
    # Never revoke silently: once granted, access stays unless the template says otherwise.
    access = "true" if args.grant_deployers else current.get(stacks.DEPLOYER_ACCESS, "false")
    create_oidc = "false" if args.existing_oidc_provider else current.get(stacks.CREATE_OIDC_PROVIDER, "true")
    deploy_stack(
        ctx, spec.with_parameters(**{stacks.DEPLOYER_ACCESS: access, stacks.CREATE_OIDC_PROVIDER: create_oidc})
    )
    if access != "true":
        ctx.say(
            "next: bootstrap every environment (bootstrap-env --env ENV in its account), "
            "then run bootstrap-devops --grant-deployers"
        )


def cmd_bootstrap_env(ctx: Context, args: argparse.Namespace) -> None:
    env = target_environment(ctx.settings, args.env, ctx.environ)
    spec = stacks.bootstrap_spec(ctx.settings, env.name)
    check_administrator(ctx, check_target(ctx, spec.account_id, spec.name), spec.account_id, spec.name)
    deploy_stack(ctx, spec)
    deploy_personas(ctx, env)


def cmd_personas(ctx: Context, args: argparse.Namespace) -> None:
    deploy_personas(ctx, target_environment(ctx.settings, args.env, ctx.environ))


def deploy_personas(ctx: Context, env: Environment) -> dict[str, str]:
    """The environment's persona stack, with the caller's (administrator) credentials, never a RoleARN."""
    spec = persona_stacks.persona_spec(ctx.settings, env.name)
    check_administrator(ctx, check_target(ctx, spec.account_id, spec.name), spec.account_id, spec.name)
    for persona, principal in persona_stacks.trusted_principals(spec).items():
        ctx.say(f"{spec.name}: {persona} trusts {principal}")
    return deploy_stack(ctx, spec)


def cmd_publish(ctx: Context, args: argparse.Namespace) -> None:
    env = target_environment(ctx.settings, args.env, ctx.environ)
    artifact = Path(args.artifact)
    if not artifact.is_file():
        raise DeployError(f"--artifact {artifact}: no such file; run the build command first")
    naming = ctx.settings.naming
    bucket = naming.artifact_bucket(ctx.settings.devops.id)
    digest = sha256_of(artifact)
    key = naming.artifact_key(env.name, digest)
    check_target(ctx, ctx.settings.devops.id, f"publish to s3://{bucket}/{key}")
    s3 = ctx.client("s3")
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
        ctx.say(f"s3://{bucket}/{key}: already published (same sha256)")
        return
    except ClientError as error:
        # S3 answers 403 for a missing key to whoever may not list the bucket (the CI roles
        # may not); a real refusal shows again, in one line, when the upload is tried.
        if error.response.get("Error", {}).get("Code") not in ("403", "404", "NoSuchKey", "NotFound"):
            raise
    with artifact.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms", Metadata={"sha256": digest})
    ctx.say(f"s3://{bucket}/{key}: published for {env.name}")


def cmd_app(ctx: Context, args: argparse.Namespace) -> None:
    env = target_environment(ctx.settings, args.env, ctx.environ)
    artifact = Path(args.artifact)
    if not artifact.is_file():
        raise DeployError(f"--artifact {artifact}: no such file; run the build command first")
    spec = stacks.app_spec(ctx.settings, env.name, sha256_of(artifact))
    check_target(ctx, spec.account_id, spec.name)
    naming = ctx.settings.naming
    role_arn = naming.role_arn(env.account.id, naming.cfn_execution_role(env.name))
    outputs = deploy_stack(ctx, spec, role_arn=role_arn)
    for key, value in outputs.items():
        ctx.say(f"{spec.name}: {key} = {value}")


def cmd_destroy(ctx: Context, args: argparse.Namespace) -> None:
    from . import retire  # builds on this module

    retire.command(ctx, args)


def cmd_release(ctx: Context, args: argparse.Namespace) -> None:
    from . import release

    release.release(ctx, target_environment(ctx.settings, args.env, ctx.environ), existing_artifact(args.artifact))


def cmd_rollback(ctx: Context, args: argparse.Namespace) -> None:
    from . import release

    release.rollback(ctx, target_environment(ctx.settings, args.env, ctx.environ))


def cmd_drift(ctx: Context, args: argparse.Namespace) -> None:
    from . import drift

    drift.check_drift(ctx, target_environment(ctx.settings, args.env, ctx.environ))


def existing_artifact(path: str) -> Path:
    artifact = Path(path)
    if not artifact.is_file():
        raise DeployError(f"--artifact {artifact}: no such file; run the build command first")
    return artifact


COMMANDS = {
    "stacks": (cmd_stacks, "list the stacks, their accounts and templates"),
    "build": (cmd_build, "write dist/app.zip (runtime, service, multienv.toml, config/) and print its sha256"),
    "bootstrap-devops": (cmd_bootstrap_devops, "deploy the DevOps stack (DevOps account credentials)"),
    "bootstrap-env": (
        cmd_bootstrap_env,
        "deploy an environment's bootstrap stack, then its persona stack (that account's administrator)",
    ),
    "personas": (cmd_personas, "deploy an environment's persona stack alone (that account's administrator)"),
    "publish": (cmd_publish, "upload an artifact under the environment's prefix (the environment's CI role)"),
    "app": (cmd_app, "deploy the app stack from a published artifact (the environment's Deployer Role)"),
    "release": (cmd_release, "publish the deployed code as a version, smoke-test it, then move alias live to it"),
    "rollback": (cmd_rollback, "point alias live back at the version it replaced (alias previous)"),
    "drift": (cmd_drift, "detect drift on the environment's stacks; fail listing each drifted property"),
    "destroy": (cmd_destroy, "delete an environment's stacks: app, personas, bootstrap, then its DevOps grants"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=f"python -m {__package__}.deploy", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, (_, text) in COMMANDS.items():
        sub = commands.add_parser(name, help=text, description=text)
        if name in ("bootstrap-env", "personas", "publish", "app", "release", "rollback", "drift"):
            sub.add_argument("--env", help="environment name (default: what the environment resolver says)")
        if name in ("publish", "app", "release"):
            sub.add_argument("--artifact", required=True, help="the artifact built by the build command")
        if name == "destroy":
            from .retire import add_arguments

            add_arguments(sub)
        if name == "build":
            sub.add_argument("--output", help=f"where to write the artifact (default {ARTIFACT})")
        if name == "bootstrap-devops":
            sub.add_argument(
                "--grant-deployers",
                action="store_true",
                help="name the Deployer Roles in the resource policies (after every bootstrap-env)",
            )
            sub.add_argument(
                "--existing-oidc-provider",
                action="store_true",
                help="the account already has the GitHub OIDC provider: use it instead of creating one",
            )
    return top


ONE_LINE_MAX = 400


def one_line(error: BaseException) -> str:
    """An AWS error as one readable line: operation, code and message."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        operation = getattr(error, "operation_name", "request")
        code = response["Error"].get("Code", "Error")
        message = response["Error"].get("Message", "")
        text = f"{operation}: {code}: {message}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= ONE_LINE_MAX else text[: ONE_LINE_MAX - 3] + "..."


def is_aws_error(error: BaseException) -> bool:
    """An error raised by boto3 or botocore: reported in one line, not as a traceback."""
    return type(error).__module__.startswith(("botocore", "boto3"))


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        settings = load_settings()
        handler, _ = COMMANDS[args.command]
        handler(Context(settings, environ, out), args)
    except (DeployError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if not is_aws_error(error):
            raise
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
