"""Upgrades across releases: the releases table, the migrations it declares, and a real upgrade from 1.0.0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import TEMPLATE, run_project

import migrations
from multienv_template import vocabulary as multienv_vocabulary

regenerate_preview = multienv_vocabulary.generated_module("multienv_tools.regenerate_preview")
CRUFT = Path(sys.executable).parent / "cruft"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
RELEASES = migrations.parse_releases((TEMPLATE / migrations.RELEASES).read_text(encoding="utf-8"))
TEAM_RESOLVER = '\n\ndef team_resolver_hint() -> str:\n    return "kept"\n'
TEAM_SERVICE = '\n\ndef team_feature() -> str:\n    return "kept"\n'
TEAM_DEPLOY = '\n\ndef team_deploy_hook() -> str:\n    return "kept"\n'
TEAM_CONFIG = "# tuned by the team\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def release(version: str) -> migrations.Release:
    return next(r for r in RELEASES if r.version == version)


def test_every_tagged_release_names_a_commit_of_this_repository():
    tagged = [r for r in RELEASES if r.commit]
    assert tagged, "no release with a commit"
    for entry in tagged:
        found = subprocess.run(["git", "cat-file", "-e", f"{entry.commit}^{{commit}}"], cwd=TEMPLATE, check=False)
        assert found.returncode == 0, f"release {entry.version}: {entry.commit} is not a commit here"
    assert [r.version for r in RELEASES] == sorted(
        (r.version for r in RELEASES), key=lambda v: tuple(map(int, v.split(".")))
    )


# (releases in the target's table, in the current version's table) -> versions crossed, in order
CROSSINGS = {
    "from before any table": (["1.0.0", "2.0.0"], [], ["1.0.0", "2.0.0"]),
    "from 1.0.0": (["1.0.0", "2.0.0", "2.1.0"], ["1.0.0"], ["2.0.0", "2.1.0"]),
    "up to date": (["1.0.0", "2.0.0"], ["1.0.0", "2.0.0"], []),
}


@pytest.mark.parametrize(("target", "current", "expected"), CROSSINGS.values(), ids=CROSSINGS)
def test_a_release_is_crossed_when_the_target_lists_it_and_the_current_version_does_not(target, current, expected):
    def table(versions):
        return [migrations.Release(v, "", ()) for v in versions]

    assert [r.version for r in migrations.crossed(table(target), table(current))] == expected


def test_a_move_carries_the_file_once_and_never_overwrites(tmp_path):
    move = migrations.Move("src/{package}/env.py", "src/multienv/env.py")
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "env.py").write_text("team\n")
    assert move.apply(tmp_path, "app", git=False) == "src/app/env.py -> src/multienv/env.py"
    assert (tmp_path / "src" / "multienv" / "env.py").read_text() == "team\n"
    assert move.apply(tmp_path, "app", git=False) is None  # twice is harmless
    (tmp_path / "src" / "app" / "env.py").write_text("new shim\n")
    assert move.apply(tmp_path, "app", git=False) is None  # the target exists: left alone
    assert (tmp_path / "src" / "multienv" / "env.py").read_text() == "team\n"


def test_a_malformed_table_names_every_problem():
    text = '[[release]]\nversion = "9.0.0"\nmigrations = [{ move = "a" }]\n[[release]]\ncommit = ""\n'
    with pytest.raises(migrations.MigrationError) as refused:
        migrations.parse_releases(text)
    message = str(refused.value)
    assert "release 9.0.0: migration 1" in message and "needs version and commit" in message


def test_a_removal_takes_the_templates_copy_and_keeps_an_edited_one(tmp_path):
    removal = migrations.Remove("src/{package}/cfn.py")
    project, rendering = tmp_path / "project", tmp_path / "rendering"
    for root in (project, rendering):
        (root / "src" / "app").mkdir(parents=True)
        (root / "src" / "app" / "cfn.py").write_text("platform\n")
    said = removal.apply(project, "app", git=False, rendering=rendering)
    assert said == "src/app/cfn.py: removed (the platform package provides it)"
    assert not (project / "src" / "app" / "cfn.py").exists()
    assert removal.apply(project, "app", git=False, rendering=rendering) is None  # twice is harmless

    (project / "src" / "app" / "cfn.py").write_text("platform\nteam\n")
    said = removal.apply(project, "app", git=False, rendering=rendering)
    assert (project / "src" / "app" / "cfn.py").read_text() == "platform\nteam\n"  # kept, and said so
    assert said.startswith(f"src/app/cfn.py: {regenerate_preview.EDITED_BUT_REMOVED} ")
    # The regeneration's report takes the runner's line as a file to handle by hand.
    assert regenerate_preview.kept_by_migrations(f"migrated: {said}\nmigrated: a -> b\n") == [
        regenerate_preview.Change("src/app/cfn.py", regenerate_preview.EDITED_BUT_REMOVED)
    ]
    assert removal.apply(rendering, "app", git=False) is not None  # the rendering's own copy just goes
    assert not (rendering / "src" / "app" / "cfn.py").exists()
    # A file the team added where the rendering has none is the team's: kept too.
    assert "kept" in removal.apply(project, "app", git=False, rendering=rendering)


# access/cases.csv as 2.x baked it: the generated rows, the marker, and (in a repository) the team's rows.
CASES_2X = (
    "# The access matrix: every row is one request and the decision it must get.\n"
    "principal,principal_env,action,resource,resource_env,expect,context,why\n"
    "project-admin,dev,s3:GetObject,data-object,dev,allow,,read data\n"
    "qa-engineer,prd,s3:GetObject,data-object,prd,deny,,no production data\n"
    "# team cases\n"
)
TEAM_ROWS = (
    "# ours: QA reads staging's logs\n"
    "qa-engineer,stg,logs:FilterLogEvents,log-group,stg,allow,,QA reads staging's logs\n"
    "software-developer,dev,s3:GetObject,data-object,prd,deny,,no production data from development\n"
)


def test_the_team_rows_of_a_2_x_cases_file_stay_and_the_generated_ones_go(tmp_path):
    (migration,) = [m for m in release("3.0.0").migrations if isinstance(m, migrations.KeepRowsAfter)]
    read_cases = multienv_vocabulary.generated_module("multienv_tools.access_cases").read_cases
    new_file = (TEMPLATE / "{{cookiecutter.project_slug}}" / migration.path).read_text()
    project, rendering = tmp_path / "project", tmp_path / "rendering"
    for root, text in ((project, CASES_2X + TEAM_ROWS), (rendering, CASES_2X)):
        (root / "access").mkdir(parents=True)
        (root / migration.path).write_text(text)
    git(project, "init", "-q")
    git(project, "add", "-A")
    said = migrations.migrate_both(project, rendering, "app", [migration])
    assert said == ["access/cases.csv: 3 row(s) below '# team cases' kept, under the template's new header"]
    # The rendering now holds the new template's file: the merge finds no change of the template's there.
    assert (rendering / migration.path).read_text() == new_file
    assert (project / migration.path).read_text() == new_file + TEAM_ROWS
    assert git(project, "diff", "--name-only").strip() == ""  # staged, as cruft's merge wants the tree
    cases = [case.why for _, case in read_cases(project / migration.path)]
    assert cases == ["QA reads staging's logs", "no production data from development"]
    # Migrated once: a second run, or a file without the marker, is left as it is.
    assert migration.apply(project, "app", git=False) is None
    assert (project / migration.path).read_text() == new_file + TEAM_ROWS


def test_the_layout_release_takes_every_platform_file_of_1_0_0_out_of_the_repository():
    project = TEMPLATE / "{{cookiecutter.project_slug}}"
    package = "{{cookiecutter.package_name}}"
    shipped = {"runtime": TEMPLATE / "platform" / "runtime" / "src", "tools": TEMPLATE / "platform" / "tools" / "src"}
    moves = [m for m in release("2.0.0").migrations if isinstance(m, migrations.Move)]
    later = [m for version in ("2.0.0", "3.0.0") for m in release(version).migrations]
    removed = {m.paths(package)[0] for m in later if isinstance(m, migrations.Remove)}
    assert removed, "the release removes nothing"
    for path in removed:
        assert not (project / path).exists(), f"{path}: the template still has it"
        name = Path(path).name
        shipped["tests"] = TEMPLATE / "platform"  # 3.0.0: the platform's tests run in the template's suite
        packaged = [root for root in shipped.values() if list(root.glob(f"*/{name}"))]
        assert packaged, f"{path}: no platform package provides {name}"
    for move in moves:
        target = move.paths(package)[1]
        assert target in removed or (project / target).is_file(), f"{target}: neither the template's nor removed"
    # Every file of 1.0.0 the template no longer has there goes: moved to a place kept or removed.
    listed = git(TEMPLATE, "ls-tree", "-r", "--name-only", release("1.0.0").commit, "--", str(project.name))
    old = [line.removeprefix(f"{project.name}/") for line in listed.splitlines()]
    gone = [path for path in old if path.startswith((f"src/{package}/", "tools/")) and not (project / path).exists()]
    assert gone, "1.0.0 had no platform files?"
    handled = removed | {m.paths(package)[0] for m in moves}
    assert [path for path in gone if path not in handled] == []


def template_with_history(tmp_path: Path) -> tuple[Path, str]:
    """A clone of this repository's history with the working tree committed on top, on branch ``work``."""
    repo = tmp_path / "multienv-template"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(TEMPLATE), str(repo)], check=True)
    git(repo, "checkout", "-q", "-b", "work")
    git(repo, "rm", "-r", "-q", "--ignore-unmatch", ".")  # the working tree's deletions too, not only its files
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=TEMPLATE, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE / name
        if source.is_file():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "the working tree")
    return repo, "work"


@pytest.mark.slow
def test_upgrading_a_1_0_0_repository_keeps_every_edit_reports_the_removed_ones_and_passes_its_checks(tmp_path):
    template, work = template_with_history(tmp_path)
    out = tmp_path / "out"
    subprocess.run(
        [
            str(CRUFT),
            "create",
            str(template),
            "--checkout",
            release("1.0.0").commit,
            "--no-input",
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        check=True,
    )
    project = out / "my-multienv-app"
    package = project / "src" / "my_multienv_app"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "1.0.0")
    assert (project / "tools" / "regenerate.py").is_file()  # the 1.0.0 layout
    edits = (
        (package / "env.py", TEAM_RESOLVER),
        (package / "__init__.py", TEAM_SERVICE),
        (package / "deploy.py", TEAM_DEPLOY),
    )
    for path, text in edits:
        path.write_text(path.read_text() + text)
    (project / "config" / "dev.toml").write_text((project / "config" / "dev.toml").read_text() + TEAM_CONFIG)
    git(project, "commit", "-qam", "team work")

    # The 1.0.0 tool predates migrations: the target's runner does this upgrade (README).
    runner = [sys.executable, str(template / "migrations.py"), "update", "--project-dir", str(project)]
    upgrade = subprocess.run(
        [*runner, "--skip-apply-ask", "--checkout", work],
        capture_output=True,
        text=True,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    said = upgrade.stderr
    assert "migrated: src/my_multienv_app/env.py -> src/multienv/env.py" in said
    kept = regenerate_preview.EDITED_BUT_REMOVED
    # The platform's files leave the repository; the two the team edited stay, reported.
    assert f"migrated: src/multienv/env.py: {kept} " in said
    assert f"migrated: src/my_multienv_app/deploy.py: {kept} " in said
    assert "migrated: src/my_multienv_app/cfn.py: removed" in said and "migrated: tools/regenerate.py: removed" in said
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert not [line for line in status.splitlines() if line[:2] in migrations_unmerged() or line.endswith(".rej")]

    assert TEAM_RESOLVER in (project / "src" / "multienv" / "env.py").read_text()  # moved aside, not lost
    assert TEAM_DEPLOY in (package / "deploy.py").read_text()
    assert sorted(p.name for p in (project / "src" / "multienv").iterdir()) == ["env.py"]
    assert TEAM_RESOLVER not in (package / "env.py").read_text()  # the entry point the template put back
    assert "from multienv.env import main" in (package / "env.py").read_text()
    assert TEAM_SERVICE in (package / "__init__.py").read_text()
    assert TEAM_CONFIG in (project / "config" / "dev.toml").read_text()
    assert not (package / "cfn.py").exists() and not (package / "settings.py").exists()
    assert not (project / "tools").exists()
    assert not (project / "tests" / "platform").exists()  # 3.0.0: the platform's tests run in its release
    assert json.loads((project / ".cruft.json").read_text())["commit"] == git(template, "rev-parse", work).strip()

    # The team ports its two edits (here: drops them) and deletes the files, as the report asks.
    git(project, "rm", "-q", "-f", "src/multienv/env.py", "src/my_multienv_app/deploy.py")
    assert not (project / "src" / "multienv").exists()  # else ruff takes multienv for the repository's own
    git(project, "add", "-A")
    git(project, "commit", "-qm", "upgrade to the working tree")
    # The checks that read what an upgrade from 1.0.0 leaves: the team's code and tests, the access
    # matrix (multienv.toml, config/) and every rendered file, byte for byte what the platform renders
    # from this multienv.toml. checkov and cfn-lint read only those rendered files: the 2.0.0 upgrade
    # below and the end-to-end bakes run them, with the whole `make check`.
    check = run_project(project, "lint", "test", "check-synth", "check-access")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-4000:]
    # From here on, the repository's own tool runs the upgrades.
    preview = subprocess.run(
        [sys.executable, "-m", "multienv_tools.regenerate", "--preview", "--checkout", work],
        cwd=project,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr


def migrations_unmerged() -> set[str]:
    return {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


def test_a_renamed_key_keeps_the_team_value_and_only_in_its_table(tmp_path):
    (migration,) = migrations.parse_releases(
        '[[release]]\nversion = "9.0.0"\ncommit = ""\n'
        'migrations = [{ rename_key = "source", in = "multienv.toml:personas.source", to = "sign_in" }]\n'
    )[0].migrations
    settings = tmp_path / "multienv.toml"
    settings.write_text('[project]\nsource = "x"\n\n[personas]\nsource = "saml"  # the team\'s\n', encoding="utf-8")
    assert migration.apply(tmp_path, "app", git=False) == "multienv.toml: [personas] source -> sign_in"
    assert settings.read_text() == '[project]\nsource = "x"\n\n[personas]\nsign_in = "saml"  # the team\'s\n'
    assert migration.apply(tmp_path, "app", git=False) is None


def test_a_rendering_forgets_the_modules_the_previous_one_imported_from_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "plan_of_some_version.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import plan_of_some_version  # noqa: F401 - what a rendering's extension imports

    assert migrations.forget_template_modules(tmp_path) == ["plan_of_some_version"]
    assert "plan_of_some_version" not in sys.modules
    assert "json" in sys.modules  # nothing from elsewhere


TEAM_CASE = "app-role,dev,secretsmanager:GetSecretValue,config:app,dev,allow,,the team: the function reads its secret"
TEAM_TEST = 'def test_the_team_feature():\n    from my_multienv_app import team_feature\n\n    assert team_feature() == "kept"\n'
TEAM_PLATFORM_TEST_EDIT = "\n\ndef test_a_team_hint():\n    assert True\n"
# A platform release after the one a repository runs: one policy tightened (the Deployer Role no
# longer checks image layers it does not push), nothing else changed.
CHANGED_STACK = "platform/tools/src/multienv_tools/rendered/infra/workload-bootstrap.yaml.j2"
CHANGED_LINE = "                  - ecr:BatchCheckLayerAvailability\n"


def a_later_platform(tmp_path: Path, version: str) -> Path:
    """The platform's sources with one policy changed, as release ``version`` would install them: a
    folder to put first on PYTHONPATH (PLATFORM_SRC), with the distributions' metadata saying ``version``."""
    folder = tmp_path / f"platform-{version}"
    for source in ("platform/runtime/src/multienv", "platform/tools/src/multienv_tools"):
        shutil.copytree(TEMPLATE / source, folder / Path(source).name, ignore=shutil.ignore_patterns("__pycache__"))
    stack = folder / "multienv_tools" / Path(CHANGED_STACK).relative_to("platform/tools/src/multienv_tools")
    text = stack.read_text(encoding="utf-8")
    assert text.count(CHANGED_LINE) == 1
    stack.write_text(text.replace(CHANGED_LINE, ""), encoding="utf-8")
    for name in ("multienv", "multienv_tools"):
        info = folder / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n", encoding="utf-8"
        )
    return folder


@pytest.mark.slow
def test_a_2_0_0_repository_upgrades_keeping_every_edit_then_takes_a_platform_release_as_a_version_bump(tmp_path):
    template, work = template_with_history(tmp_path)
    out = tmp_path / "out"
    release_2 = release("2.0.0").commit
    created = [str(CRUFT), "create", str(template), "--checkout", release_2, "--no-input", "--output-dir", str(out)]
    subprocess.run(created, capture_output=True, check=True)
    project = out / "my-multienv-app"
    package = project / "src" / "my_multienv_app"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "2.0.0")
    assert (project / "tests" / "platform").is_dir() and not (project / "renovate.json").exists()  # 2.0.0's layout
    # The team's work, where 2.0.0 keeps it: its service, configuration, own test, own access case, and
    # an edit to one of the platform's tests.
    (package / "__init__.py").write_text((package / "__init__.py").read_text() + TEAM_SERVICE)
    (project / "config" / "dev.toml").write_text((project / "config" / "dev.toml").read_text() + TEAM_CONFIG)
    (project / "tests" / "test_team.py").write_text(TEAM_TEST)
    cases = project / "access" / "cases.csv"
    assert cases.read_text().endswith("# team cases\n")
    cases.write_text(cases.read_text() + TEAM_CASE + "\n")
    edited_platform_test = project / "tests" / "platform" / "test_env.py"
    edited_platform_test.write_text(edited_platform_test.read_text() + TEAM_PLATFORM_TEST_EDIT)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "team work")

    runner = [sys.executable, str(template / "migrations.py"), "update", "--project-dir", str(project)]
    upgrade = subprocess.run([*runner, "--skip-apply-ask", "--checkout", work], capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    said = upgrade.stderr
    assert "migrated: tests/platform/test_config.py: removed" in said, said
    assert f"migrated: tests/platform/test_env.py: {regenerate_preview.EDITED_BUT_REMOVED} " in said, said
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert not [line for line in status.splitlines() if line[:2] in migrations_unmerged() or line.endswith(".rej")]
    assert TEAM_SERVICE in (package / "__init__.py").read_text()
    assert TEAM_CONFIG in (project / "config" / "dev.toml").read_text()
    assert (project / "tests" / "test_team.py").read_text() == TEAM_TEST
    assert TEAM_PLATFORM_TEST_EDIT in edited_platform_test.read_text()  # kept, reported
    team_rows = [p for p in (project / "access").glob("*.csv") if TEAM_CASE in p.read_text().splitlines()]
    assert team_rows, "the team's access case is gone"
    settings = tomllib.loads((project / "multienv.toml").read_text())
    assert settings["platform"]["version"] == release("3.0.0").version
    # The team ports the reported edit (here: drops it) as the report asks, and commits.
    git(project, "rm", "-q", "-rf", "tests/platform")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "upgrade to 3.0.0")
    # As upgraded: the team's code and tests pass, and every platform file is what 3.0.0 renders.
    # (The whole `make check` runs below, on this repository with the next platform release.)
    upgraded = run_project(project, "lint", "test", "check-synth")
    assert upgraded.returncode == 0, upgraded.stdout[-4000:] + upgraded.stderr[-4000:]
    assert "file(s) are what platform 3.0.0 renders" in upgraded.stdout, upgraded.stdout[-2000:]

    # A later platform release: the pin moves (as Renovate's pull request does), then `make synth`.
    cruft_before = (project / ".cruft.json").read_text()
    later = a_later_platform(tmp_path, "3.0.1")
    text = (project / "multienv.toml").read_text()
    (project / "multienv.toml").write_text(text.replace('version = "3.0.0"', 'version = "3.0.1"', 1))
    stale = run_project(project, "check-synth", f"PLATFORM_SRC={later}")
    assert stale.returncode != 0  # the pull request as Renovate opens it: stale stacks, named
    assert "infra/workload-bootstrap.yaml" in stale.stdout + stale.stderr
    synth = run_project(project, "synth", f"PLATFORM_SRC={later}")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    changed = git(project, "status", "--porcelain").split("\n")
    changed_paths = sorted(line[3:] for line in changed if line)
    assert "multienv.toml" in changed_paths and "infra/workload-bootstrap.yaml" in changed_paths
    assert all(path == "multienv.toml" or "synth" in header_of(project / path) for path in changed_paths)
    diff = git(project, "diff", "--", "infra/workload-bootstrap.yaml")
    assert "-                  - ecr:BatchCheckLayerAvailability" in diff
    check = run_project(project, "check", f"PLATFORM_SRC={later}")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-4000:]
    assert (project / ".cruft.json").read_text() == cruft_before  # no cruft step


def header_of(path: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8").splitlines()[:4])
