"""The deploy tool's deployment steps: bootstrap the DevOps account and each environment, deploy
the persona stacks, publish an artifact and deploy the app stack (``python -m multienv_tools.deploy``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from multienv.settings import Environment

from . import persona_stacks, stacks
from .app_artifact import ARTIFACT, build, sha256_of
from .deploy_target import (
    Context,
    DeployError,
    account_label,
    check_administrator,
    check_target,
    target_environment,
)
from .stack_ops import (
    deploy_stack,
    stack_status,
)


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
    if not ctx.is_local and not ctx.settings.github_ids_known:
        # The CI roles would trust the placeholder ID 0, which no token carries: refuse, and say how to fix it.
        raise DeployError(
            "\n".join([f"{spec.name}: the CI roles' trust needs GitHub's IDs", *ctx.settings.github_id_problems()])
        )
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
    deploy_data(ctx, env)


def deploy_data(ctx: Context, env: Environment) -> dict[str, str]:
    """The environment's data stack (its key, store and transfer role), after its persona roles (whom the
    transfer role trusts) and before any app stack, with the administrator's credentials: never the pipeline's."""
    if not ctx.settings.has_data:
        ctx.say(f"{env.name}: [data] stores = none: no data stack")
        return {}
    spec = stacks.data_spec(ctx.settings, env.name)
    check_administrator(ctx, check_target(ctx, spec.account_id, spec.name), spec.account_id, spec.name)
    return deploy_stack(ctx, spec)


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


def existing_artifact(path: str) -> Path:
    artifact = Path(path)
    if not artifact.is_file():
        raise DeployError(f"--artifact {artifact}: no such file; run the build command first")
    return artifact
