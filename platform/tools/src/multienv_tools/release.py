"""Releases through the ``live`` alias: publish a version, smoke-test it, then move the alias.

    python -m multienv_tools.deploy release --env ENV --artifact dist/app.zip
    python -m multienv_tools.deploy rollback --env ENV

``release`` runs after ``app`` (which put the artifact into the function's unpublished code):
it publishes that code as a new numbered version, checks the version runs the artifact,
sends it the smoke event and reads the answer with the smoke checks (``smoke.load``: the
platform's, then the team's ``tests/smoke.py``). Only when every check
passes does ``live``, the alias everything invokes, move to the new version; the version it
leaves is kept as ``previous``. On a failure ``live`` stays where it was and the command fails
naming the version, the checks that failed and the version still live.

``rollback`` points ``live`` back at ``previous``: one command, no build, no stack update.
It refuses when there is nothing to go back to (no ``previous``, or ``live`` is already there).

Against AWS the version is invoked through the Deployer's session (``lambda:InvokeFunction``
on the environment's own function only). A local AWS cannot run functions, so there the
version's code is run from the artifact, after checking the version's ``CodeSha256`` is the
artifact's, with the environment variables the local AWS reports for that version: what
Lambda would do, minus Lambda.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from multienv.naming import LIVE_ALIAS as LIVE
from multienv.naming import PREVIOUS_ALIAS as PREVIOUS
from multienv.settings import Environment

from . import smoke
from .app_artifact import sha256_of
from .deploy_target import Context, DeployError, check_target

INVOKE_TIMEOUT_SECONDS = 60

# (function name, version, configuration of that version) -> the function's answer
Invoker = Callable[[str, str, Mapping[str, Any]], Any]


class SmokeFailure(DeployError):
    """The version under test did not pass the smoke test; the alias did not move."""


def code_sha256(digest_hex: str) -> str:
    """Lambda's ``CodeSha256``: the base64 of the zip's SHA-256, not its hex."""
    return base64.b64encode(bytes.fromhex(digest_hex)).decode()


def alias_version(client: Any, function: str, alias: str) -> str | None:
    try:
        return client.get_alias(FunctionName=function, Name=alias)["FunctionVersion"]
    except client.exceptions.ResourceNotFoundException:
        return None


def point_alias(client: Any, function: str, alias: str, version: str) -> None:
    """Create the alias or move it; either way it names ``version`` afterwards."""
    try:
        client.update_alias(FunctionName=function, Name=alias, FunctionVersion=version)
    except client.exceptions.ResourceNotFoundException:
        client.create_alias(FunctionName=function, Name=alias, FunctionVersion=version)


# --------------------------------------------------------------------------- invokers


def lambda_invoker(client: Any, event: Mapping[str, Any] = smoke.EVENT) -> Invoker:
    """Invoke the numbered version itself (never ``$LATEST``, never the alias) and return its answer."""

    def invoke(function: str, version: str, configuration: Mapping[str, Any]) -> Any:
        answer = client.invoke(
            FunctionName=function,
            Qualifier=version,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = answer["Payload"].read().decode("utf-8", "replace")
        if answer.get("FunctionError"):
            raise SmokeFailure(f"{function}:{version} raised {answer['FunctionError']}: {payload[:400]}")
        return json.loads(payload)

    return invoke


def artifact_invoker(
    artifact: Path, environ: Mapping[str, str] | None = None, event: Mapping[str, Any] = smoke.EVENT
) -> Invoker:
    """For a local AWS: run the artifact's handler with the version's own configuration, as Lambda would."""

    def invoke(function: str, version: str, configuration: Mapping[str, Any]) -> Any:
        handler = configuration.get("Handler", "")
        module, _, name = handler.rpartition(".")
        variables = configuration.get("Environment", {}).get("Variables", {})
        with tempfile.TemporaryDirectory() as folder:
            with zipfile.ZipFile(artifact) as archive:
                archive.extractall(folder)
            code = (
                f"import json, sys; from {module} import {name} as handler; "
                f"print(json.dumps(handler(json.loads(sys.argv[1]), None)))"
            )
            # Lambda puts the artifact's root on sys.path; nothing from this checkout may leak in.
            base = os.environ if environ is None else environ
            env = {"PATH": base.get("PATH", ""), "PYTHONPATH": folder, **variables}
            env["AWS_LAMBDA_FUNCTION_NAME"] = function
            env["AWS_LAMBDA_FUNCTION_VERSION"] = version
            result = subprocess.run(  # our own interpreter, our own artifact
                [sys.executable, "-s", "-c", code, json.dumps(event)],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=INVOKE_TIMEOUT_SECONDS,
            )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise SmokeFailure(f"{function}:{version} raised: {last}")
        return json.loads(result.stdout)

    return invoke


def invoker_for(ctx: Context, client: Any, artifact: Path, event: Mapping[str, Any] = smoke.EVENT) -> Invoker:
    return artifact_invoker(artifact, ctx.environ, event) if ctx.is_local else lambda_invoker(client, event)


# --------------------------------------------------------------------------- commands


def release(ctx: Context, env: Environment, artifact: Path, invoker: Invoker | None = None) -> str:
    """Publish, smoke-test, promote; return the version now live. Raises SmokeFailure, alias untouched."""
    naming = ctx.settings.naming
    function = naming.function(env.name)
    check_target(ctx, env.account.id, f"release {function}")
    client = ctx.client("lambda")
    try:
        checks = smoke.load(Path.cwd())
    except smoke.SmokeFileError as error:
        raise DeployError(f"{function}: {error}; nothing was published") from error
    invoke = invoker or invoker_for(ctx, client, artifact, checks.event)
    live = alias_version(client, function, LIVE)
    digest = sha256_of(artifact)
    want = code_sha256(digest)

    def refuse(what: str, code: str) -> DeployError:
        return DeployError(
            f"{function}: {what} holds code {code}, not the artifact {artifact} ({want}); "
            f"run the app command with this artifact first. {LIVE} stays on {live or 'nothing'}"
        )

    # Checked before publishing (no stray version) and on the version itself (nobody changed it between).
    unpublished = client.get_function_configuration(FunctionName=function)["CodeSha256"]
    if unpublished != want:
        raise refuse("the unpublished code ($LATEST)", unpublished)
    version = client.publish_version(FunctionName=function, CodeSha256=want, Description=f"sha256 {digest}")["Version"]
    configuration = client.get_function_configuration(FunctionName=function, Qualifier=version)
    if configuration["CodeSha256"] != want:
        raise refuse(f"version {version}", configuration["CodeSha256"])
    ctx.say(f"{function}: published version {version} ({LIVE} is on {live or 'nothing yet'}); smoke test")

    expected = smoke.Expected(env=env.name, tier=env.tier.value)
    try:
        problems = smoke.problems(invoke(function, version, configuration), expected, checks.checks)
    except SmokeFailure as error:
        problems = [str(error)]
    except (ValueError, json.JSONDecodeError) as error:
        problems = [f"its answer is not JSON: {error}"]
    if problems:
        raise SmokeFailure(
            "\n".join(
                [
                    f"{function}: version {version} failed the smoke test; "
                    f"{LIVE} stays on {f'version {live}' if live else 'nothing (no version went live)'}",
                    *(f"  - {p}" for p in problems),
                ]
            )
        )
    for check in checks.checks:
        ctx.say(f"   smoke ok: {check.__name__.replace('_', ' ')}")

    if live == version:
        ctx.say(f"{function}: {LIVE} already on version {version} (same code)")
        return version
    if live is not None:
        point_alias(client, function, PREVIOUS, live)
    point_alias(client, function, LIVE, version)
    kept = f"; {PREVIOUS} keeps version {live} for rollback" if live else ""
    ctx.say(f"{function}: {LIVE} -> version {version}{kept}")
    return version


def rollback(ctx: Context, env: Environment) -> str:
    """Point ``live`` back at ``previous``; return the version now live."""
    function = ctx.settings.naming.function(env.name)
    check_target(ctx, env.account.id, f"rollback {function}")
    client = ctx.client("lambda")
    live = alias_version(client, function, LIVE)
    previous = alias_version(client, function, PREVIOUS)
    if previous is None:
        raise DeployError(
            f"{function}: no {PREVIOUS} alias: nothing to roll back to ({LIVE} is on {live or 'nothing'})"
        )
    if previous == live:
        raise DeployError(f"{function}: {LIVE} is already on version {live}, the {PREVIOUS} one; nothing to roll back")
    point_alias(client, function, LIVE, previous)
    ctx.say(f"{function}: rolled back, {LIVE} -> version {previous} (was {live})")
    return previous
