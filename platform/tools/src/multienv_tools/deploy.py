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
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from multienv.settings import SettingsError, load_settings

from . import drift, release, retire
from .app_artifact import ARTIFACT
from .deploy_steps import (
    cmd_app,
    cmd_bootstrap_devops,
    cmd_bootstrap_env,
    cmd_build,
    cmd_personas,
    cmd_publish,
    cmd_stacks,
    existing_artifact,
)
from .deploy_target import (
    Context,
    DeployError,
    report_aws_error,
    target_environment,
)


def cmd_destroy(ctx: Context, args: argparse.Namespace) -> None:
    retire.command(ctx, args)


def cmd_release(ctx: Context, args: argparse.Namespace) -> None:
    release.release(ctx, target_environment(ctx.settings, args.env, ctx.environ), existing_artifact(args.artifact))


def cmd_rollback(ctx: Context, args: argparse.Namespace) -> None:
    release.rollback(ctx, target_environment(ctx.settings, args.env, ctx.environ))


def cmd_drift(ctx: Context, args: argparse.Namespace) -> None:
    drift.check_drift(ctx, target_environment(ctx.settings, args.env, ctx.environ))


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
            retire.add_arguments(sub)
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
        return report_aws_error(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
