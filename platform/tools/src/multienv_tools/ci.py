"""What the GitHub Actions workflows ask of this repository, answered from ``multienv.toml``.

``python -m multienv_tools.ci roles --env ENV`` prints, as ``key=value`` lines for
``$GITHUB_OUTPUT``, the two roles a deploy job assumes and the accounts they must be in:
the environment's CI role in the DevOps account, then its Deployer Role in the
environment's account; ``drift-roles --env ENV`` the drift job's two (the drift role, then the
environment's drift reader). No workflow holds an account ID: they all come from here. Both
refuse placeholder account IDs and GitHub IDs not filled in yet, naming the fix.

Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys

from multienv.settings import Settings, SettingsError, settings

# Values go into $GITHUB_OUTPUT one per line: nothing that could start another line or key.
OUTPUT_VALUE = re.compile(r"^[A-Za-z0-9:/_.-]+$")


class CIError(ValueError):
    """A request the workflows must not act on, with the reason."""


def roles(config: Settings, env: str) -> dict[str, str]:
    """The role ARNs and account IDs of ``env``'s deploy job, derived from the naming scheme."""
    environment = config.environment(env)
    naming = config.naming
    return {
        "ci_role_arn": naming.role_arn(config.devops.id, naming.ci_role(env)),
        "deployer_role_arn": naming.role_arn(environment.account.id, naming.deployer_role(env)),
        "devops_account_id": config.devops.id,
        "env_account_id": environment.account.id,
        "region": config.region,
    }


def drift_roles(config: Settings, env: str) -> dict[str, str]:
    """The role ARNs and account IDs of ``env``'s drift job: the drift role in the DevOps account (one for
    every environment), then the environment's read-only drift reader."""
    environment = config.environment(env)
    naming = config.naming
    return {
        "drift_role_arn": naming.role_arn(config.devops.id, naming.drift_role()),
        "drift_reader_role_arn": naming.role_arn(environment.account.id, naming.drift_reader_role(env)),
        "devops_account_id": config.devops.id,
        "env_account_id": environment.account.id,
        "region": config.region,
    }


COMMANDS = {"roles": roles, "drift-roles": drift_roles}


def placeholder_problems(config: Settings, env: str) -> list[str]:
    """What ``env``'s deploy needs that is not filled in yet, as messages: accounts whose IDs are still
    placeholders, and GitHub's IDs of the repository (without them no CI role trusts any token)."""
    environment = config.environment(env)
    needed = {config.devops.key: config.devops, environment.account.key: environment.account}
    return [
        f"{config.path}: accounts.{account.key}: {account.id} is a placeholder: "
        f"put the real AWS account ID there before deploying {env} from CI"
        for account in needed.values()
        if account.placeholder
    ] + config.github_id_problems()


def output_lines(values: dict[str, str]) -> list[str]:
    lines = []
    for key, value in values.items():
        if not OUTPUT_VALUE.match(value):
            raise CIError(f"{key}: {value!r} is not a plain name or ARN (allowed: letters, digits and :/_.-)")
        lines.append(f"{key}={value}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.ci", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (("roles", "a deploy job's"), ("drift-roles", "a drift job's")):
        command = commands.add_parser(name, help=f"key=value lines for {what} credentials")
        command.add_argument("--env", required=True, help="the environment the job acts on")
        command.add_argument(
            "--allow-placeholders", action="store_true", help="print placeholder IDs too (for local runs)"
        )
    args = parser.parse_args(argv)

    try:
        config = settings()
        problems = [] if args.allow_placeholders else placeholder_problems(config, args.env)
        if problems:
            raise CIError("\n".join(problems))
        print("\n".join(output_lines(COMMANDS[args.command](config, args.env))))
    except (SettingsError, CIError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
