"""``make secrets`` and ``make secret-set``: the application's secrets, and who puts them there.

Each environment's configuration (``[secrets]`` of ``config/<env>.toml``) references secrets and
parameters by name, in the environment's own account and under its own path (``naming.py``); its
function reads them there (``multienv.secrets``). Nothing in the pipeline creates them or knows
their values: an administrator of that account (the environment's Project Administrator persona,
or the account's own administrator) sets each one, once and whenever it changes, with
``make secret-set ENV=<env> KEY=<key>``, the value on standard input (never an argument: arguments
land in shell history and process listings).

``make secrets`` lists every environment's references; ``CHECK=1`` also asks AWS, with the
credentials at hand, which of them exist in the account those credentials belong to (it reads
metadata only, never a value). ``make local-deploy`` does both against the local AWS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from multienv.config_files import load
from multienv.config_schema import SSM, ConfigError
from multienv.settings import Settings, SettingsError, load_settings

from .deploy_target import report_aws_error

# service name -> client (boto3's, or the local AWS's in make local-deploy)
Clients = Callable[[str], Any]
# (store, name) of one reference
Reference = tuple[str, str]


class SecretStoreError(ValueError):
    """A wrong environment, key, value or account: the message names what is allowed."""


def references(settings: Settings, keys: Mapping | None = None) -> dict[str, dict[str, Reference]]:
    """environment -> key -> (store, name) of every ``[secrets]`` entry of its checked configuration
    (``keys``: the team's schema, ``schema.KEYS`` of the service package when None)."""
    configs = {env: load(env, keys=keys, settings=settings) for env in settings.names}
    return {env: {key: (ref["store"], ref["name"]) for key, ref in c["secrets"].items()} for env, c in configs.items()}


def exists(clients: Clients, reference: Reference) -> bool:
    """Whether the secret or parameter exists: its metadata only, never its value."""
    store, name = reference
    if store == SSM:
        found = clients("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )
        return bool(found.get("Parameters"))
    client = clients("secretsmanager")
    try:
        client.describe_secret(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def listing(
    settings: Settings, clients: Clients | None = None, account: str = "", keys: Mapping | None = None
) -> list[str]:
    """One line per environment, then one per reference; with ``clients`` (acting in ``account``),
    whether each reference of the environments in that account exists."""
    lines = []
    for env, refs in references(settings, keys).items():
        home = settings.environment(env).account.id
        lines.append(f"{env} (account {home}): {len(refs)} reference(s) in config/{env}.toml")
        for key, reference in sorted(refs.items()):
            state = ""
            if clients is not None:
                if home != account:
                    state = f"  (not checked: the credentials are for account {account})"
                elif exists(clients, reference):
                    state = "  exists"
                else:
                    state = f"  MISSING: make secret-set ENV={env} KEY={key}"
            lines.append(f"  {key}: {reference[0]} {reference[1]}{state}")
    return lines


def reference_of(settings: Settings, env: str, key: str, keys: Mapping | None = None) -> Reference:
    """The reference ``[secrets.<key>]`` of ``env``, or an error listing the allowed ones."""
    if env not in settings.names:
        raise SecretStoreError(f"ENV={env!r} is not an environment: the environments are {', '.join(settings.names)}")
    refs = references(settings, keys)[env]
    if key not in refs:
        allowed = ", ".join(sorted(refs)) or f"none: add [secrets.<key>] to config/{env}.toml first"
        raise SecretStoreError(f"KEY={key!r} is not a secret of {env}: its keys are {allowed}")
    return refs[key]


def read_value(stdin: TextIO) -> str:
    """The value from standard input: typed without echo at a terminal, else read to the end (one
    trailing newline dropped, as ``echo`` and editors add it)."""
    if stdin.isatty():
        import getpass

        value = getpass.getpass("value (not echoed): ")
    else:
        value = stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    if not value:
        raise SecretStoreError("the value on standard input is empty: nothing was set")
    return value


def put(clients: Clients, settings: Settings, env: str, reference: Reference, value: str) -> str:
    """Create or update the secret or parameter with ``value``; says what it did, never the value.

    Encrypted with the account's AWS managed key of the service (``aws/secretsmanager``,
    ``aws/ssm``), which the account's principals use through that service only: the function
    role needs no key permission. Created with the ``env`` and ``project`` tags the personas'
    tag fences expect."""
    store, name = reference
    tags = [{"Key": "env", "Value": env}, {"Key": "project", "Value": settings.slug}]
    if store == SSM:
        client = clients("ssm")
        try:
            client.put_parameter(Name=name, Value=value, Type="SecureString", Tags=tags)
            return f"created SSM parameter {name} (SecureString)"
        except client.exceptions.ParameterAlreadyExists:
            # AWS refuses tags together with Overwrite: the parameter keeps the ones it has.
            client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
            return f"updated SSM parameter {name} (SecureString)"
    client = clients("secretsmanager")
    if exists(clients, reference):
        client.put_secret_value(SecretId=name, SecretString=value)
        return f"updated secret {name}"
    if name.startswith("arn:"):
        raise SecretStoreError(f"{name} does not exist: create a secret by name, and reference it by name")
    client.create_secret(Name=name, SecretString=value, Tags=tags)
    return f"created secret {name}"


def set_secret(
    settings: Settings, env: str, key: str, stdin: TextIO, clients: Clients, account: str, keys: Mapping | None = None
) -> str:
    """``make secret-set``: check the environment, key and account, read the value, store it."""
    reference = reference_of(settings, env, key, keys)
    home = settings.environment(env).account
    if home.placeholder:
        raise SecretStoreError(
            f"{env}'s account is a placeholder ({home.id}): fill in [accounts] of multienv.toml first"
        )
    if account != home.id:
        raise SecretStoreError(
            f"the credentials are for account {account}; {env}'s secrets live in its own account {home.id} "
            f"({home.key}): use an administrator's credentials there"
        )
    value = read_value(stdin)
    return f"{env}: {put(clients, settings, env, reference, value)} in account {home.id}"


def _boto3() -> tuple[Clients, str]:
    import boto3

    session = boto3.Session()
    return session.client, session.client("sts").get_caller_identity()["Account"]


def main(
    argv: list[str] | None = None, stdin: TextIO = sys.stdin, aws: Callable[[], tuple[Clients, str]] = _boto3
) -> int:
    parser = argparse.ArgumentParser(prog="python -m multienv_tools.secret_store", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listed = commands.add_parser("list", help="each environment's secret references")
    listed.add_argument("--check", action="store_true", help="ask AWS which exist (metadata only)")
    setting = commands.add_parser("set", help="set one secret from standard input")
    setting.add_argument("--env", required=True)
    setting.add_argument("--key", required=True)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "list":
            clients, account = aws() if args.check else (None, "")
            print("\n".join(listing(settings, clients, account)))
        else:
            reference_of(settings, args.env, args.key)  # a wrong name is refused before AWS is asked
            clients, account = aws()
            print(set_secret(settings, args.env, args.key, stdin, clients, account))
    except (SecretStoreError, ConfigError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        return report_aws_error(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
