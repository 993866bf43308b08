"""Upgrades across template releases: ``cruft update`` with the crossed releases' migrations run first.

    python migrations.py update --project-dir DIR [--checkout REF] [--variables-to-update JSON]

This file is run from a clone of the template at the version being upgraded to, so the
newest migration code always runs, whichever version of the regeneration tool the repository
has. A generated repository's ``make regenerate`` (from 2.0.0 on) runs it that way; a
repository still on 1.0.0, whose tool predates migrations, runs it once by hand (README:
Releases and upgrades).

``releases.toml`` (beside this file) lists the releases. The ones crossed are those the target's
table lists and the repository's current version's table (read from git at the commit
``.cruft.json`` records) does not. Their migrations run in order, inside ``cruft update``, just
before it computes and applies the merge: on the rendering of the current version and on the
repository alike (``git mv``), so the merge finds each moved file at its new place. A removed file
goes from both where the team never edited it; an edited one stays, reported ("migrated: PATH:
edited but removed by the template"), for a person to port and delete. A migration whose source is
absent, or whose target exists already, does nothing: running one twice is safe.
Standard library, plus cruft when updating.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RELEASES = "releases.toml"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Move:
    """A file the template moved: the team's copy goes with it."""

    source: str
    target: str

    def paths(self, package: str) -> tuple[str, str]:
        return self.source.format(package=package), self.target.format(package=package)

    def apply(self, root: Path, package: str, *, git: bool, rendering: Path | None = None) -> str | None:
        """Move in ``root`` (with ``git mv`` in a repository); say what moved, or None."""
        source, target = self.paths(package)
        if not (root / source).is_file() or (root / target).exists():
            return None
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        if git:
            subprocess.run(["git", "mv", source, target], cwd=root, capture_output=True, check=True)
        else:
            shutil.move(root / source, root / target)
        return f"{source} -> {target}"


@dataclass(frozen=True)
class RenameKey:
    """A key of a TOML file (``multienv.toml``) the template renamed: the team's value keeps it."""

    file: str
    table: str  # "project", or "" for the top level
    key: str
    to: str

    def apply(self, root: Path, package: str, *, git: bool, rendering: Path | None = None) -> str | None:
        path = root / self.file
        if not path.is_file():
            return None
        lines, table, done = path.read_text(encoding="utf-8").splitlines(keepends=True), "", False
        for index, line in enumerate(lines):
            header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
            if header:
                table = header.group(1)
            elif table == self.table and re.match(rf"^\s*{re.escape(self.key)}\s*=", line):
                lines[index] = line.replace(self.key, self.to, 1)
                done = True
        if not done:
            return None
        path.write_text("".join(lines), encoding="utf-8")
        return f"{self.file}: [{self.table}] {self.key} -> {self.to}"


# The words the regeneration's report uses for such a file (multienv_tools.regenerate_preview).
EDITED_BUT_REMOVED = "edited but removed by the template"


@dataclass(frozen=True)
class Remove:
    """A file the template no longer puts in a repository (the platform package provides it now).

    In a rendering, and in a repository whose copy is the rendering's byte for byte, it goes (with
    ``git rm`` in a repository). A copy the team edited stays where it is, reported as edited but
    removed by the template: the merge leaves it alone, and a person ports the edit and deletes it.
    """

    path: str

    def paths(self, package: str) -> tuple[str]:
        return (self.path.format(package=package),)

    def apply(self, root: Path, package: str, *, git: bool, rendering: Path | None = None) -> str | None:
        """``rendering``: the template's rendering of the repository's current version, to tell an
        edited copy from the template's; without it (the rendering itself) the file just goes."""
        (path,) = self.paths(package)
        if not (root / path).is_file():
            return None
        if rendering is not None:
            template = rendering / path
            if not template.is_file() or template.read_bytes() != (root / path).read_bytes():
                return f"{path}: {EDITED_BUT_REMOVED} (kept: port the edit, then delete the file)"
        if git:
            # -f: a file an earlier migration moved (git mv) is staged; its bytes are the template's, checked above
            subprocess.run(["git", "rm", "-q", "-f", "--", path], cwd=root, capture_output=True, check=True)
        else:
            (root / path).unlink()
        return f"{path}: removed (the platform package provides it)"


# The generated repository as the target version's template holds it: a migration that gives a file
# its new form reads it here (migrations.py runs from a checkout of that version).
PROJECT_TEMPLATE = HERE / "{{cookiecutter.project_slug}}"


@dataclass(frozen=True)
class KeepRowsAfter:
    """A file whose rows above ``marker`` the template generated and whose rows below it are the team's,
    now the team's alone (the generated rows moved to a file the platform renders).

    In the repository the file becomes the target template's file with the team's rows appended (``git
    add``); in the rendering of the current version it becomes the target template's file, so the merge
    sees no change of the template's there and leaves the team's file as migrated. A file without the
    marker (migrated already, or rewritten by the team) is left alone.
    """

    path: str
    marker: str

    def paths(self, package: str) -> tuple[str]:
        return (self.path.format(package=package),)

    def apply(self, root: Path, package: str, *, git: bool, rendering: Path | None = None) -> str | None:
        (path,) = self.paths(package)
        target = root / path
        if not target.is_file():
            return None
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        ends = [n for n, line in enumerate(lines) if line.rstrip("\r\n") == self.marker]
        if not ends:
            return None
        rows = [line for line in lines[ends[0] + 1 :] if line.strip()]
        text = (PROJECT_TEMPLATE / path).read_text(encoding="utf-8")
        if rows and not text.endswith("\n"):
            text += "\n"
        target.write_text(text + "".join(rows), encoding="utf-8")
        if git:
            subprocess.run(["git", "add", "--", path], cwd=root, capture_output=True, check=True)
        return f"{path}: {len(rows)} row(s) below {self.marker!r} kept, under the template's new header"


Migration = Move | RenameKey | Remove | KeepRowsAfter


@dataclass(frozen=True)
class Release:
    version: str
    commit: str  # "" for the release being prepared
    migrations: tuple[Migration, ...]


def parse_releases(text: str, where: str = RELEASES) -> list[Release]:
    """The releases table; every problem at once, naming the release and the key."""
    data = tomllib.loads(text)
    releases, problems = [], []
    for index, entry in enumerate(data.get("release", []), start=1):
        name = entry.get("version", f"#{index}")
        moves: list[Migration] = []
        for number, migration in enumerate(entry.get("migrations", []), start=1):
            if set(migration) == {"move", "to"}:
                moves.append(Move(migration["move"], migration["to"]))
            elif set(migration) == {"remove"}:
                moves.append(Remove(migration["remove"]))
            elif set(migration) == {"keep_rows_after", "in"}:
                moves.append(KeepRowsAfter(migration["in"], migration["keep_rows_after"]))
            elif set(migration) == {"rename_key", "in", "to"}:
                file, _, dotted = migration["in"].partition(":")
                table, _, key = dotted.rpartition(".")
                if migration["rename_key"] != key:
                    problems.append(f"{where}: release {name}: migration {number}: in must end with .{key}")
                    continue
                moves.append(RenameKey(file, table, key, migration["to"]))
            else:
                problems.append(
                    f"{where}: release {name}: migration {number}: write {{ move = ..., to = ... }}, "
                    '{ remove = "path" }, { rename_key = "key", in = "file:table.key", to = "new" } or '
                    '{ keep_rows_after = "marker line", in = "path" }'
                )
        if "version" not in entry or "commit" not in entry:
            problems.append(f"{where}: release #{index}: needs version and commit")
            continue
        releases.append(Release(entry["version"], entry["commit"], tuple(moves)))
    if problems:
        raise MigrationError("\n".join(problems))
    return releases


def releases_at(repo: Path, commit: str) -> list[Release]:
    """The releases table as the template had it at ``commit``; none before the table existed."""
    shown = subprocess.run(
        ["git", "show", f"{commit}:{RELEASES}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_releases(shown.stdout, f"{RELEASES} at {commit}") if shown.returncode == 0 else []


def crossed(target: list[Release], current: list[Release]) -> list[Release]:
    """Releases an upgrade from ``current`` to ``target`` crosses, in release order."""
    known = {release.version for release in current}
    return [release for release in target if release.version not in known]


def pending_migrations(project: Path, repo: Path = HERE) -> list[Migration]:
    """The migrations an update of ``project`` to the template in ``repo`` runs, in order."""
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    target = parse_releases((repo / RELEASES).read_text(encoding="utf-8"))
    return [move for release in crossed(target, releases_at(repo, state["commit"])) for move in release.migrations]


def migrate_both(project: Path, rendering: Path, package: str, moves: list[Migration]) -> list[str]:
    """Each migration on the repository (``git``), then on the rendering of its current version, in
    step: a removal compares the repository's copy with the rendering's as the earlier ones left it."""
    done = []
    for move in moves:
        line = move.apply(project, package, git=True, rendering=rendering)
        move.apply(rendering, package, git=False)
        if line:
            done.append(line)
    return done


def forget_template_modules(repo: Path) -> list[str]:
    """Drop the modules a rendering imported from the template checkout (its Jinja extensions, its plan).

    cruft renders the current and the new version in one process; without this, the second
    rendering would run the first one's extension and plan modules, cached in sys.modules.
    """
    gone = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and Path(origin).resolve().is_relative_to(repo.resolve()):
            del sys.modules[name]
            gone.append(name)
    return gone


def update(project: Path, cruft_arguments: list[str]) -> int:
    """``cruft update`` with the pending migrations run on both sides just before its merge."""
    import importlib

    from cruft import _cli

    # Run as a script, this file's folder (a template checkout at the target version) is first on
    # sys.path: cookiecutter would then import that version's extensions and plan while rendering
    # the current version. Each rendering must import from its own checkout only.
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

    # The module, not the function cruft._commands re-exports under the same name.
    # Patched below (its internals are untyped: Any).
    cruft_update: Any = importlib.import_module("cruft._commands.update")

    moves = pending_migrations(project)
    package = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"][
        "package_name"
    ]
    merge = cruft_update._apply_project_updates

    def migrated_merge(old_main_directory: Path, new_main_directory: Path, project_dir: Path, *args, **kwargs):
        for line in migrate_both(Path(project_dir), Path(old_main_directory), package, moves):
            print(f"migrated: {line}", file=sys.stderr)
        return merge(old_main_directory, new_main_directory, project_dir, *args, **kwargs)

    cruft_update._apply_project_updates = migrated_merge
    generate: Any = importlib.import_module("cruft._commands.utils.generate")
    render = generate.cookiecutter_template

    def fresh_render(*args, **kwargs):
        forget_template_modules(Path(kwargs["repo"].working_dir))
        return render(*args, **kwargs)

    generate.cookiecutter_template = fresh_render
    try:
        _cli.app(["update", "--project-dir", str(project), *cruft_arguments], standalone_mode=False)
    except SystemExit as done:
        return int(done.code or 0)
    except Exception as error:  # cruft reports a refused hook or a failed clone by raising
        print(f"cruft update failed: {error}", file=sys.stderr)  # the hook printed its ERROR lines
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("update", help="cruft update with the crossed releases' migrations")
    run.add_argument("--project-dir", required=True, type=Path)
    commands.add_parser("pending", help="list the migrations an update would run").add_argument(
        "--project-dir", required=True, type=Path
    )
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "pending":
            for migration in pending_migrations(args.project_dir):
                print(migration)
            return 0
        return update(args.project_dir.resolve(), rest)
    except MigrationError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
