"""Who deploys where: the deploy tool's context, its errors, and the checks that credentials
belong to the account a command deploys to (and are its administrator where a stack creates roles).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlparse

from multienv.model import PLACEHOLDER_PREFIX, is_placeholder
from multienv.settings import Environment, Settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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
        place = (service, self.settings.region, self.endpoint_url)
        keys = tuple(self.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))
        if self._session is None and keys[0]:
            return client(self.environ.get("AWS_PROFILE") or None, *place, *keys)
        # Credentials boto3 finds for itself (a profile, single sign-on) are its to refresh: no cache.
        session = self._session or boto_session(self.environ.get("AWS_PROFILE") or None)
        return session.client(
            service,
            region_name=place[1],
            endpoint_url=place[2],
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            aws_session_token=keys[2],
        )


@functools.lru_cache(maxsize=4)
def boto_session(profile: str | None = None) -> Any:
    """One session per profile: loading the service models once saves 30 ms per client."""
    import boto3

    return boto3.Session(profile_name=profile)


@functools.lru_cache(maxsize=256)
def client(
    profile: str | None,
    service: str,
    region: str,
    endpoint_url: str | None,
    key_id: str | None,
    secret: str | None,
    token: str | None,
) -> Any:
    """One client per service, place and credentials, made once (boto3's clients are thread-safe):
    making one costs some 15 ms, and ``make local-deploy`` asks for hundreds."""
    return boto_session(profile).client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


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
            naming.drift_reader_role(env.name),
            naming.function_role(env.name),
        }
    roles.add(naming.drift_role())
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


def report_aws_error(error: Exception) -> int:
    """A command's last ``except``: an AWS error said in one line on standard error, exit status 1;
    anything else is a bug, raised again with its traceback."""
    if not is_aws_error(error):
        raise error
    print(f"error: AWS said: {one_line(error)}", file=sys.stderr)
    return 1
