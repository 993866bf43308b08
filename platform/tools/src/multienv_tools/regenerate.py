"""Regenerate this repository from its template with changed answers, keeping the team's edits.

    python -m multienv_tools.regenerate --set environments=sbx,dev,tst,stg,prd [--set account_strategy=hybrid]
    python -m multienv_tools.regenerate --checkout v1.4.0      # take a newer template version
    python -m multienv_tools.regenerate --link TEMPLATE_URL [--checkout REF]   # once, for a plain cookiecutter bake

cruft re-renders the template with the new answers and merges the difference into this tree
(a three-way merge, so the team's own lines stay). Unlike cruft alone, this command:

- refuses to start on a dirty working tree (the merge needs a clean base to be undoable);
- puts the tree back exactly as it was when the template rejects an answer;
- exits 1 and lists the files when conflicts remain (unmerged paths or ``*.rej`` files),
  where cruft itself would report success; exits 2 when the template refuses the answers;
- prints every file it changed with its class (added, removed, updated cleanly, conflicts
  with your edits, edited but removed by the template);
- with ``--preview``, does all of that in a throwaway clone and writes nothing here
  (``regenerate_preview.py``);
- runs the update through the target template version's migration runner, so files that
  version moved carry the team's edits with them (``upgrade.py``);
- lists what each environment it removes had deployed (``retire.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from multienv.model import KNOWN_TIERS, AccountStrategy, Tier
from multienv.settings import load_settings, parse_settings

from . import regenerate_preview, upgrade
from .retire import describe

# The repository being regenerated: the command runs at its root (make, CI).
ROOT = Path.cwd()

CRUFT_STATE = ROOT / ".cruft.json"
# Answers a team may change; the rest (name, slug, package) name the project itself.
CHANGEABLE = (
    "environments",
    "account_strategy",
    "aws_region",
    "account_ids",
    "github_repository",
    "github_owner_id",
    "github_repository_id",
    "code_owners",
)
# Files the template writes once per environment; __env__ stands for the environment's name.
PER_ENVIRONMENT_FILES = ["config/__env__.toml"]


class RegenerateError(RuntimeError):
    exit_code = 1


class TemplateRefused(RegenerateError):
    """The template's own checks refused the answers (its ERROR lines say why)."""

    exit_code = 2


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


def restore() -> None:
    """Back to the commit we started from: tracked files reset, files the update added removed."""
    git("reset", "--quiet", "--hard", "HEAD")
    git("clean", "--quiet", "-fd")


def cruft_command(changes: dict[str, str], checkout: str | None, update: list[str]) -> list[str]:
    """``update`` (``cruft update``, or the target version's migration runner) with our arguments."""
    command = [*update, "--skip-apply-ask", "--project-dir", str(ROOT)]
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


def carried_github_ids(changes: dict[str, str]) -> dict[str, str]:
    """GitHub's IDs filled in by hand in multienv.toml, carried into the new answers as account IDs are:
    the answers cruft recorded may still say "not known yet", and every file rendered from them would."""
    if "github_owner_id" in changes or "github_repository_id" in changes:
        return {}
    settings = load_settings(ROOT / "multienv.toml")
    if not settings.github_ids_known:
        return {}
    return {"github_owner_id": settings.github_owner_id, "github_repository_id": settings.github_repository_id}


def regenerate(changes: dict[str, str], checkout: str | None = None) -> list[regenerate_preview.Change]:
    """Run the update; return the files it changed. Raises RegenerateError on refusal or conflicts."""
    if not CRUFT_STATE.is_file():
        raise RegenerateError(
            ".cruft.json is missing: this repository is not linked to its template. "
            "Link it once with `make link TEMPLATE=<template git URL> TEMPLATE_REF=<the release tag or commit "
            "it was made from>` (docs/regenerating.md)."
        )
    if not (ROOT / ".git").exists():
        raise RegenerateError("not a git repository: commit the project first, the update is a merge")
    dirty = dirty_files()
    if dirty:
        raise RegenerateError("the working tree is not clean; commit or stash first:\n  " + "\n  ".join(dirty))

    changes = {**changes, **carried_account_ids(changes), **carried_github_ids(changes)}
    with upgrade.update_command(ROOT, checkout, regenerate_preview.scratch_folder()) as update:
        run = subprocess.run(
            cruft_command(changes, checkout, update),
            cwd=ROOT,
            env=regenerate_preview.scratch_environ(),
            capture_output=True,
            text=True,
            check=False,
        )
    if run.returncode != 0:
        restore()
        template_errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
        detail = "\n".join(template_errors) or (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise TemplateRefused(f"the template refused the update; nothing was changed:\n{detail}")

    for line in run.stderr.splitlines():
        if line.startswith("migrated: "):  # the runner's account of each file it moved
            print(line)
    kept = regenerate_preview.kept_by_migrations(run.stderr)
    changed = regenerate_preview.with_kept(regenerate_preview.classify(ROOT, PER_ENVIRONMENT_FILES), kept)
    by_hand = {regenerate_preview.CONFLICT, regenerate_preview.EDITED_BUT_REMOVED}
    if any(change.kind in by_hand for change in changed):
        raise RegenerateError(
            "the update left conflicts to resolve by hand (merge them, delete the .rej files; "
            "a file whose environment is gone but was edited: delete it or keep it; a platform file the "
            "template removed but you edited: port the edit, then delete it; then commit):\n"
            + regenerate_preview.report(changed)
        )
    return changed


def retirement_report(removed: set[str]) -> list[str]:
    """What each environment leaving multienv.toml had deployed, per account, from HEAD's settings."""
    if not removed:
        return []
    settings_file = ROOT / "multienv.toml"
    before = parse_settings(tomllib.loads(git("show", f"HEAD:{settings_file.name}")), settings_file)
    lines = []
    for name in sorted(removed):
        lines.append(
            f"{name} leaves multienv.toml; what it had deployed stays in AWS until "
            f"`python -m multienv_tools.deploy destroy --env {name}` (docs/regenerating.md):"
        )
        lines += [f"  {line}" for line in describe(before, name)]
    return lines


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
        "github_owner_id": settings.github_owner_id,
        "github_repository_id": settings.github_repository_id,
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
    parser.add_argument("--preview", action="store_true", help="say what each file would become; write nothing")
    args = parser.parse_args(argv)
    try:
        if args.preview:
            return preview(argv if argv is not None else sys.argv[1:])
        if args.link:
            link(args.link, args.checkout)
            print("linked: commit .cruft.json; `make regenerate` works from now on")
            return 0
        changed = regenerate(parse_assignments(args.set), args.checkout)
    except RegenerateError as error:
        print(f"regenerate: {error}", file=sys.stderr)
        return error.exit_code
    # cruft stages what it changes: plain `git diff` would show almost nothing.
    print("regenerated; review with `git diff HEAD`, then commit:" if changed else "already up to date")
    if changed:
        print(regenerate_preview.report(changed))
    for line in retirement_report(regenerate_preview.removed_environments(ROOT)):
        print(line)
    for line in regenerate_preview.lacking_secret_references(ROOT):
        print(line)
    return 0


def preview(argv: list[str]) -> int:
    """The regeneration run in a clone of HEAD; this tree, its index and its stash stay as they are."""
    if not CRUFT_STATE.is_file() or not (ROOT / ".git").exists():
        return main([a for a in argv if a != "--preview"])  # the same refusal the real run gives
    dirty = dirty_files()
    if dirty:
        print(f"preview of the last commit: {len(dirty)} uncommitted file(s) left out (the real run refuses them)")
    result = regenerate_preview.preview(
        ROOT, __spec__.name, [a for a in argv if a != "--preview"], PER_ENVIRONMENT_FILES
    )
    verdict = {0: "would apply cleanly", 1: "would leave conflicts", 2: "the template refuses these answers"}
    print(f"preview: {verdict.get(result.exit_code, f'would fail (exit {result.exit_code})')}; nothing was written")
    if result.exit_code != 2:
        print(regenerate_preview.report(result.changes))
        for line in retirement_report(result.removed):
            print(line)
        for line in result.lacking:
            print(line)
    by_hand = {regenerate_preview.CONFLICT, regenerate_preview.EDITED_BUT_REMOVED}
    if result.exit_code != 0 and not any(change.kind in by_hand for change in result.changes):
        print(result.messages, file=sys.stderr)  # a refusal: the template's ERROR lines, or the tool's reason
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
