"""Regenerate this repository from its template with changed answers, keeping the team's edits.

    python -m multienv_tools.regenerate --set environments=sbx,dev,tst,stg,prd [--set account_strategy=hybrid]
    python -m multienv_tools.regenerate --checkout v1.4.0      # take a newer template version
    python -m multienv_tools.regenerate --link TEMPLATE_URL [--checkout REF]   # once, for a plain cookiecutter bake

cruft re-renders the template with the new answers and merges the difference into this tree
(a three-way merge, so the team's own lines stay). Unlike cruft alone, this command:

- refuses to start on a dirty working tree (the merge needs a clean base to be undoable);
- puts the tree back exactly as it was when the template rejects an answer;
- exits 1 and lists the files when conflicts remain (unmerged paths or ``*.rej`` files),
  where cruft itself would report success.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from multienv.model import KNOWN_TIERS, AccountStrategy, Tier
from multienv.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]

CRUFT_STATE = ROOT / ".cruft.json"
# Answers a team may change; the rest (name, slug, package) name the project itself.
CHANGEABLE = ("environments", "account_strategy", "aws_region", "account_ids", "github_repository", "code_owners")
# Files the template writes once per environment; __env__ stands for the environment's name.
PER_ENVIRONMENT_FILES = {{ multienv_per_environment_files() | tojson }}


class RegenerateError(RuntimeError):
    pass


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise RegenerateError(f"--set {pair!r}: write it as key=value")
        if key not in CHANGEABLE:
            raise RegenerateError(
                f"--set {key}: not a changeable answer; the changeable ones are {', '.join(CHANGEABLE)}"
            )
        changes[key] = value
    return changes


def dirty_files() -> list[str]:
    return [line[3:] for line in git("status", "--porcelain", "--untracked-files=all").splitlines()]


def conflicts() -> list[str]:
    unmerged = git("diff", "--name-only", "--diff-filter=U").split()
    rejects = [
        line[3:] for line in git("status", "--porcelain", "--untracked-files=all").splitlines() if line.endswith(".rej")
    ]
    return sorted(set(unmerged + rejects))


def environment_names() -> list[str]:
    with (ROOT / "multienv.toml").open("rb") as handle:
        return [env["name"] for env in tomllib.load(handle)["environments"]]


def orphaned_environment_files(removed: set[str]) -> list[str]:
    """Per-environment files of removed environments that are still here.

    The update deletes those the team never touched; an edited one stays, for a person to decide.
    """
    return [
        pattern.replace("__env__", env)
        for env in sorted(removed)
        for pattern in PER_ENVIRONMENT_FILES
        if (ROOT / pattern.replace("__env__", env)).exists()
    ]


def restore() -> None:
    """Back to the commit we started from: tracked files reset, files the update added removed."""
    git("reset", "--quiet", "--hard", "HEAD")
    git("clean", "--quiet", "-fd")


def cruft_command(changes: dict[str, str], checkout: str | None) -> list[str]:
    cruft = Path(sys.executable).parent / "cruft"
    command = [str(cruft) if cruft.exists() else "cruft", "update", "--skip-apply-ask", "--project-dir", str(ROOT)]
    if changes:
        command += ["--variables-to-update", json.dumps(changes)]
    if checkout:
        command += ["--checkout", checkout]
    return command


def carried_account_ids(changes: dict[str, str]) -> dict[str, str]:
    """Real account IDs already in multienv.toml, carried into the new answers.

    Teams fill in account IDs by hand; the answers cruft recorded may still say "none". Without
    this, a regeneration would put placeholders back (and conflict with the real IDs). Each
    account of the new answers, by its name in ``[accounts]``, keeps its ID; an account that is
    not in multienv.toml yet (a new isolated environment, a new strategy's account) needs
    ACCOUNT_IDS.
    """
    if "account_ids" in changes:
        return {}
    settings = load_settings(ROOT / "multienv.toml")
    if settings.uses_placeholders:
        return {}
    try:
        strategy = AccountStrategy(changes.get("account_strategy", settings.strategy.value))
        names: list[tuple[str, Tier]] = []
        for item in changes.get("environments", recorded_answers()["environments"]).split(","):
            name, sep, tier = item.strip().partition(":")
            names.append((name, Tier(tier) if sep else KNOWN_TIERS[name]))
    except (KeyError, ValueError):
        return {}  # the template's own checks will name the bad answer
    accounts = {account.key: account.id for account in settings.accounts}
    ids = {key: accounts.get(key, "") for key in strategy.accounts(names)}
    missing = [key for key, account_id in ids.items() if not account_id]
    if missing:
        raise RegenerateError(
            f"multienv.toml holds real account IDs, but its [accounts] lacks {', '.join(missing)}, "
            f"which {strategy.value} needs: give every ID, "
            "ACCOUNT_IDS=" + ",".join(f"{key}=<id>" for key in ids)
        )
    return {"account_ids": ",".join(f"{key}={account_id}" for key, account_id in ids.items())}


def regenerate(changes: dict[str, str], checkout: str | None = None) -> list[str]:
    """Run the update; return the files it changed. Raises RegenerateError on refusal or conflicts."""
    if not CRUFT_STATE.is_file():
        raise RegenerateError(
            ".cruft.json is missing: this repository is not linked to its template. "
            "Link it once with `make link TEMPLATE=<template-url> TEMPLATE_REF=<its version>` "
            "(docs/regenerating.md)."
        )
    if not (ROOT / ".git").exists():
        raise RegenerateError("not a git repository: commit the project first, the update is a merge")
    dirty = dirty_files()
    if dirty:
        raise RegenerateError("the working tree is not clean; commit or stash first:\n  " + "\n  ".join(dirty))

    changes = {**changes, **carried_account_ids(changes)}
    before = set(environment_names())
    run = subprocess.run(cruft_command(changes, checkout), cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        restore()
        template_errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
        detail = "\n".join(template_errors) or (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RegenerateError(f"the template refused the update; nothing was changed:\n{detail}")

    remaining = conflicts()
    # With conflicts, multienv.toml itself may hold merge markers: resolve those first.
    remaining = remaining or [
        f"{name} (its environment is gone, but the file was edited: delete it or keep it)"
        for name in orphaned_environment_files(before - set(environment_names()))
    ]
    if remaining:
        raise RegenerateError(
            "the update left conflicts to resolve by hand (merge them, delete the .rej files, then commit):\n  "
            + "\n  ".join(remaining)
        )
    return dirty_files()


def recorded_answers() -> dict[str, str]:
    """The template answers this repository stands for, read back from multienv.toml."""
    settings = load_settings(ROOT / "multienv.toml")
    environments = ",".join(
        env.name if KNOWN_TIERS.get(env.name) is env.tier else f"{env.name}:{env.tier.value}"
        for env in settings.environments
    )
    answers = {
        "project_name": settings.project_name,
        "project_slug": settings.slug,
        "package_name": settings.package,
        "environments": environments,
        "account_strategy": settings.strategy.value,
        "aws_region": settings.region,
        "account_ids": "",
        "github_repository": settings.github_repository,
    }
    owners = recorded_code_owners()
    if owners:  # else the template's default
        answers["code_owners"] = " ".join(owners)
    if not settings.uses_placeholders:
        answers["account_ids"] = ",".join(f"{account.key}={account.id}" for account in settings.accounts)
    return answers


def recorded_code_owners() -> list[str]:
    """The owners CODEOWNERS gives multienv.toml: the answer the template wrote them from."""
    path = ROOT / ".github" / "CODEOWNERS"
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        pattern, *owners = line.split() or [""]
        if pattern == "/multienv.toml":
            return owners
    return []


def link(template: str, checkout: str | None) -> None:
    """Write .cruft.json for a repository generated with plain cookiecutter."""
    if CRUFT_STATE.is_file():
        raise RegenerateError(".cruft.json exists already: this repository is linked")
    cruft = Path(sys.executable).parent / "cruft"
    command = [str(cruft) if cruft.exists() else "cruft", "link", template, "--no-input", "--project-dir", str(ROOT)]
    command += ["--extra-context", json.dumps(recorded_answers())]
    if checkout:
        command += ["--checkout", checkout]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0 or not CRUFT_STATE.is_file():
        raise RegenerateError(f"cruft link failed: {(run.stderr.strip().splitlines() or ['(no output)'])[-1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an answer to change")
    parser.add_argument("--checkout", help="template git reference to update to (default: its latest commit)")
    parser.add_argument("--link", metavar="TEMPLATE_URL", help="link a plain cookiecutter bake to its template")
    args = parser.parse_args(argv)
    try:
        if args.link:
            link(args.link, args.checkout)
            print("linked: commit .cruft.json; `make regenerate` works from now on")
            return 0
        changed = regenerate(parse_assignments(args.set), args.checkout)
    except RegenerateError as error:
        print(f"regenerate: {error}", file=sys.stderr)
        return 1
    # cruft stages what it changes: plain `git diff` would show almost nothing.
    print("regenerated; review with `git diff HEAD`, then commit:" if changed else "already up to date")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
