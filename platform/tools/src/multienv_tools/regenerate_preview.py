"""What a regeneration does to each file, and a preview that computes it without touching this tree.

``classify`` reads a tree a regeneration has just worked on (its git status against HEAD) and
sorts every changed file into one class: added, removed, updated cleanly, conflicts with your
edits (with the lines), or edited but removed by the template. The real regeneration prints
this list; the preview (``make regenerate ... PREVIEW=1``) runs the very same regeneration in a
throwaway clone of the last commit and prints the same list, so what it promises is what the
real run does. This repository's working tree, index and stash are never written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ADDED = "added"
REMOVED = "removed"
UPDATED = "updated cleanly"
CONFLICT = "conflicts with your edits"
EDITED_BUT_REMOVED = "edited but removed by the template"
CLASSES = (ADDED, REMOVED, UPDATED, CONFLICT, EDITED_BUT_REMOVED)
# git status codes of a path the merge could not resolve.
UNMERGED = frozenset({"DD", "AU", "UD", "UA", "DU", "AA", "UU"})
REJECTED_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? ")
SETTINGS = "multienv.toml"


@dataclass(frozen=True)
class Change:
    path: str
    kind: str
    lines: str = ""  # for a conflict: the lines of the file (or of the rejected hunks) to look at

    def __str__(self) -> str:
        return f"{self.kind:<36} {self.path}" + (f" ({self.lines})" if self.lines else "")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def _ranges(spans: list[tuple[int, int]]) -> str:
    return "lines " + ", ".join(f"{start}-{end}" if end > start else str(start) for start, end in spans)


def marker_lines(path: Path) -> str:
    """Where the merge markers are in a conflicted file: ``lines 4-9, 30-35``."""
    spans, start = [], 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("<<<<<<< "):
            start = number
        elif line.startswith(">>>>>>> ") and start:
            spans.append((start, number))
            start = 0
    return _ranges(spans) if spans else ""


def rejected_lines(reject: Path) -> str:
    """The lines of the original file each rejected hunk was for: ``lines 12-18 (see NAME.rej)``."""
    spans = []
    for line in reject.read_text(encoding="utf-8", errors="replace").splitlines():
        found = REJECTED_HUNK.match(line)
        if found:
            start, length = int(found.group(1)), int(found.group(2) or 1)
            spans.append((start, start + max(length, 1) - 1))
    where = _ranges(spans) + " " if spans else ""
    return f"{where}see {reject.name}"


def _environment_names(text: str) -> set[str] | None:
    try:
        return {env["name"] for env in tomllib.loads(text).get("environments", [])}
    except tomllib.TOMLDecodeError:
        return None  # merge markers: the conflict is reported, the rest waits for its resolution


def removed_environments(root: Path) -> set[str]:
    """Environments HEAD's multienv.toml lists and the regenerated one no longer does."""
    before = _environment_names(_git(root, "show", f"HEAD:{SETTINGS}"))
    after = _environment_names((root / SETTINGS).read_text(encoding="utf-8"))
    return before - after if before is not None and after is not None else set()


def added_environments(root: Path) -> list[str]:
    """Environments the regenerated multienv.toml lists and HEAD's did not, in promotion order."""
    before = _environment_names(_git(root, "show", f"HEAD:{SETTINGS}")) or set()
    try:
        after = [env["name"] for env in tomllib.loads((root / SETTINGS).read_text(encoding="utf-8"))["environments"]]
    except (tomllib.TOMLDecodeError, KeyError, FileNotFoundError):
        return []
    return [name for name in after if name not in before]


def _secret_references(path: Path) -> dict[str, dict]:
    """``[secrets.<key>]`` tables of one config file (nothing when it is missing or does not parse)."""
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8")).get("secrets", {})
    except (tomllib.TOMLDecodeError, FileNotFoundError):
        return {}
    return {key: ref for key, ref in secrets.items() if isinstance(ref, dict)} if isinstance(secrets, dict) else {}


def lacking_secret_references(root: Path) -> list[str]:
    """For each environment the regeneration added: the ``[secrets.<key>]`` references other
    environments' ``config/<env>.toml`` hold and its own file (the template's, with the template's
    references only) lacks, each with the store the others use and a name in its own namespace."""
    from multienv.config_schema import CONFIG_DIR, SECRETS_MANAGER, SHARED
    from multienv.settings import load_settings

    added = added_environments(root)
    if not added:
        return []
    settings = load_settings(root / SETTINGS)
    naming = settings.naming
    config = root / CONFIG_DIR
    inherited = set(_secret_references(config / f"{SHARED}.toml"))
    others = {env: _secret_references(config / f"{env}.toml") for env in settings.names if env not in added}

    def prefix(store: str, env: str) -> str:
        return naming.secret_prefix(env) if store == SECRETS_MANAGER else naming.ssm_prefix(env)

    lines = []
    for env in added:
        own = set(_secret_references(config / f"{env}.toml")) | inherited
        lacking = sorted({key for refs in others.values() for key in refs} - own)
        if not lacking:
            continue
        lines.append(
            f"{env} is new: {CONFIG_DIR}/{env}.toml lacks secret references other environments have; "
            f"add each with a name in {env}'s namespace (the configuration check refuses any other), "
            "and create the secret:"
        )
        for key in lacking:
            holders = [name for name, refs in others.items() if key in refs]
            ref = others[holders[0]][key]
            store = str(ref.get("store", ""))
            suggested = f"a name under {prefix(store, env)!r}"
            for holder in holders:
                theirs = others[holder][key]
                if theirs.get("store") == store and str(theirs.get("name", "")).startswith(prefix(store, holder)):
                    suggested = f'name = "{prefix(store, env)}{str(theirs["name"])[len(prefix(store, holder)) :]}"'
                    break
            lines.append(f'  [secrets.{key}] store = "{store}", {suggested} (as in {", ".join(holders)})')
    return lines


def orphaned_files(root: Path, removed: set[str], patterns: list[str]) -> list[str]:
    """Per-environment files of removed environments that are still here.

    The update deletes those the team never touched; an edited one stays, for a person to decide.
    """
    return [
        pattern.replace("__env__", env)
        for env in sorted(removed)
        for pattern in patterns
        if (root / pattern.replace("__env__", env)).exists()
    ]


def kept_by_migrations(output: str) -> list[Change]:
    """Files a release's migration left in place because the team edited them, though the template
    removed them: the runner says so in its ``migrated: PATH: edited but removed ...`` lines. git sees
    such a file unchanged (or merely moved), so only the runner's account tells it."""
    marker = f": {EDITED_BUT_REMOVED} "
    return [
        Change(line.removeprefix("migrated: ").partition(marker)[0], EDITED_BUT_REMOVED)
        for line in output.splitlines()
        if line.startswith("migrated: ") and marker in line
    ]


def with_kept(changes: list[Change], kept: list[Change]) -> list[Change]:
    """``changes`` with the migrations' kept files in their class, one line a path, sorted by path."""
    paths = {change.path for change in kept}
    return sorted([c for c in changes if c.path not in paths] + kept, key=lambda change: change.path)


def classify(root: Path, patterns: list[str]) -> list[Change]:
    """Every file a regeneration changed in ``root``, against HEAD, with its class; sorted by path.

    ``patterns`` are the template's per-environment files (``__env__`` for the name).
    """
    orphaned = orphaned_files(root, removed_environments(root), patterns)
    in_head = set(_git(root, "ls-tree", "-r", "--name-only", "-z", "HEAD").split("\0"))
    entries = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames").split("\0")
    status = {entry[3:]: entry[:2] for entry in entries if entry}
    rejects = {path.removesuffix(".rej") for path in status if path.endswith(".rej")}
    changes = []
    for path in sorted((set(status) - {p + ".rej" for p in rejects}) | rejects | set(orphaned)):
        if status.get(path) in UNMERGED:
            changes.append(Change(path, CONFLICT, marker_lines(root / path)))
        elif path in rejects:
            changes.append(Change(path, CONFLICT, rejected_lines(root / f"{path}.rej")))
        elif path in orphaned:
            changes.append(Change(path, EDITED_BUT_REMOVED))
        elif path in in_head and not (root / path).exists():
            changes.append(Change(path, REMOVED))
        elif path not in in_head:
            changes.append(Change(path, ADDED))
        else:
            changes.append(Change(path, UPDATED, marker_lines(root / path)))
    # A merged file that still holds markers is a conflict, whatever git's index says.
    return [Change(c.path, CONFLICT, c.lines) if c.kind == UPDATED and c.lines else c for c in changes]


def report(changes: list[Change]) -> str:
    if not changes:
        return "  (no file changes)"
    return "\n".join(f"  {change}" for change in changes)


@dataclass(frozen=True)
class Preview:
    exit_code: int  # what the real regeneration would exit with: 0 clean, 1 conflicts, 2 refused
    changes: list[Change]
    messages: str  # the regeneration's own stderr (ERROR lines of a refusal, the conflict summary)
    removed: set[str]  # environments the regeneration takes out of multienv.toml
    lacking: list[str]  # lines naming the secret references an added environment lacks


# A regeneration writes and deletes a few hundred small files in temporary folders (cruft renders
# the template twice); on a disk-backed /tmp deleting them alone took 0.3-0.5 s here, on a RAM
# file system nothing. They hold only template output, never secrets, and mkdtemp makes each
# private (mode 0700), which is what S108 asks for.
RAM_FOLDERS = (Path("/dev/shm"),)  # noqa: S108


def scratch_folder() -> str | None:
    """A RAM-backed folder for temporary files when this machine has one, else the default."""
    for folder in RAM_FOLDERS:
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return str(folder)
    return None


def scratch_environ(**variables: str) -> dict[str, str]:
    """This process's environment with TMPDIR on the scratch folder (for cruft's temporary renders)."""
    folder = scratch_folder()
    return {**os.environ, **({"TMPDIR": folder} if folder else {}), **variables}


def preview(root: Path, module: str, arguments: list[str], patterns: list[str]) -> Preview:
    """Run ``module`` (this regeneration, without --preview) in a clone of HEAD and classify the result.

    The clone's own copy runs, from the clone's ``src`` and ``tools``: the same code as here.
    """
    scratch = Path(tempfile.mkdtemp(prefix="regenerate-preview-", dir=scratch_folder()))
    try:
        clone = scratch / root.name
        subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], capture_output=True, check=True)
        run = subprocess.run(
            [sys.executable, "-m", module, *arguments],
            cwd=clone,
            env=scratch_environ(PYTHONPATH=os.pathsep.join(str(clone / folder) for folder in ("src", "tools"))),
            capture_output=True,
            text=True,
            check=False,
        )
        changes = with_kept(classify(clone, patterns), kept_by_migrations(run.stdout)) if run.returncode != 2 else []
        removed = removed_environments(clone) if run.returncode != 2 else set()
        lacking = lacking_secret_references(clone) if run.returncode == 0 else []
        return Preview(run.returncode, changes, run.stderr.strip(), removed, lacking)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
