"""Regenerating with changed answers keeps the team's work: `make regenerate` in a cruft-linked bake."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import SHARED_VENV, run_project, template_as_git_repo

from multienv_template.vocabulary import naming

CRUFT = Path(sys.executable).parent / "cruft"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
TEAM_CODE = '\n\ndef team_feature() -> str:\n    return "kept"\n'
TEAM_CONFIG = "# tuned by the team\n"


def git(project: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=project, capture_output=True, text=True, check=True).stdout


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)


def environments(project: Path) -> list[str]:
    settings = tomllib.loads((project / "multienv.toml").read_text(encoding="utf-8"))
    return [env["name"] for env in settings["environments"]]


def snapshot(project: Path) -> dict[str, str]:
    """The tree a team works on, byte for byte: tracked files and untracked ones git does not ignore
    (bytecode caches and the install's stamps are ignored, as in every checkout)."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest() if (path := project / name).is_file() else "missing"
        for name in sorted(filter(None, listed))
    }


def make_linked_project(tmp_path: Path, template: Path | None = None, **answers: str) -> Path:
    """A project made with `cruft create` from a git clone of the template (``template``, else one made
    here), committed, with team edits."""
    template = template or template_as_git_repo(tmp_path)
    out = tmp_path / "out"
    subprocess.run(
        [str(CRUFT), "create", str(template), "--no-input", "--output-dir", str(out)]
        + (["--extra-context", json.dumps(answers)] if answers else []),
        capture_output=True,
        text=True,
        check=True,
    )
    project = out / "my-multienv-app"
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "generated")
    init = project / "src" / "my_multienv_app" / "__init__.py"
    init.write_text(init.read_text() + TEAM_CODE)
    dev_config = project / "config" / "dev.toml"
    dev_config.write_text(dev_config.read_text() + TEAM_CONFIG)
    commit_all(project, "team work")
    return project


@pytest.fixture(scope="session")
def _linked_once(tmp_path_factory):
    """One linked project per set of answers and test process, never changed (linked_copy hands out copies)."""
    made: dict[tuple, Path] = {}
    templates: list[Path] = []  # one clone of the template for them all: cruft only reads it

    def _get(answers: dict[str, str]) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in made:
            if not templates:
                templates.append(template_as_git_repo(tmp_path_factory.mktemp("template")))
            made[key] = make_linked_project(tmp_path_factory.mktemp("pristine"), templates[0], **answers)
        return made[key]

    return _get


@pytest.fixture
def linked_copy(tmp_path, _linked_once):
    """A copy of a linked project made with these answers (its git history with it); its template is
    the pristine one's clone, which no test changes (one that does makes its own, make_linked_project)."""

    def _copy(**answers: str) -> Path:
        pristine = _linked_once(answers)
        copy = tmp_path / "out" / pristine.name
        shutil.copytree(pristine, copy, symlinks=True)
        git(copy, "update-index", "-q", "--refresh")  # the copies' file times are new: as after a checkout
        return copy

    return _copy


@pytest.fixture
def linked_project(linked_copy):
    return linked_copy()


def assert_team_edits_survived(project: Path) -> None:
    assert TEAM_CODE in (project / "src" / "my_multienv_app" / "__init__.py").read_text()
    assert TEAM_CONFIG in (project / "config" / "dev.toml").read_text()


def test_cruft_state_records_answers_not_machine_paths(linked_project):
    state = json.loads((linked_project / ".cruft.json").read_text())
    context = state["context"]["cookiecutter"]
    assert context["environments"] == "sbx,dev,tst,prd"
    assert not {"_output_dir", "_repo_dir"} & set(context)


@pytest.mark.slow
def test_adding_an_environment_then_removing_one_and_changing_strategy_keeps_edits_and_make_check(linked_project):
    """Two regenerations in a row, as a team's repository lives through them; `make check` once, at the
    end (the strategy change reruns every check of it)."""
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd")
    assert run.returncode == 0, run.stdout + run.stderr
    assert environments(linked_project) == ["sbx", "dev", "tst", "stg", "prd"]
    assert (linked_project / "config" / "stg.toml").is_file()
    assert "`stg`" in (linked_project / "README.md").read_text()
    assert "deploy-stg:" in (linked_project / ".github" / "workflows" / "deploy.yml").read_text()
    assert ",stg," in (linked_project / "access" / "generated-cases.csv").read_text()
    assert_team_edits_survived(linked_project)
    commit_all(linked_project, "add stg")

    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=dev,tst,stg,prd", "ACCOUNT_STRATEGY=hybrid")
    assert run.returncode == 0, run.stdout + run.stderr
    assert environments(linked_project) == ["dev", "tst", "stg", "prd"]
    assert not (linked_project / "config" / "sbx.toml").exists()
    assert (linked_project / "config" / "stg.toml").is_file()  # the first regeneration's, kept
    assert "deploy-sbx" not in (linked_project / ".github" / "workflows" / "deploy.yml").read_text()
    assert ",sbx," not in (linked_project / "access" / "generated-cases.csv").read_text()
    settings = tomllib.loads((linked_project / "multienv.toml").read_text())
    assert settings["project"]["account_strategy"] == "hybrid"
    assert set(settings["accounts"]) == {"devops", "nonprod", "prod"}
    assert_team_edits_survived(linked_project)
    commit_all(linked_project, "hybrid")
    check = run_project(linked_project, "check")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-4000:]


def test_removing_an_edited_environment_is_reported_as_a_conflict(linked_project):
    sandbox = linked_project / "config" / "sbx.toml"
    sandbox.write_text(sandbox.read_text() + TEAM_CONFIG)
    commit_all(linked_project, "tuned sandbox")
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=dev,tst,prd")
    assert run.returncode != 0
    assert "conflicts" in run.stderr
    assert "  edited but removed by the template   config/sbx.toml" in run.stderr
    assert TEAM_CONFIG in sandbox.read_text()
    # As docs/regenerating.md says: the file stays, under that class, and no .rej file comes with it.
    assert not list(linked_project.rglob("*.rej"))
    doc = " ".join((linked_project / "docs" / "regenerating.md").read_text().split())
    assert "an environment you removed but had edited gets neither" in doc
    assert "listed as `edited but removed by the template`" in doc


def test_a_conflicting_edit_fails_and_names_the_file(linked_project):
    settings = linked_project / "multienv.toml"
    settings.write_text(settings.read_text().replace('dev = "000000000003"', 'dev = "222222222222"'))
    commit_all(linked_project, "real dev account")
    run = run_project(linked_project, "regenerate", "ACCOUNT_STRATEGY=consolidated_nonprod")
    assert run.returncode != 0
    assert "multienv.toml" in run.stderr


def test_a_rejected_choice_leaves_the_tree_byte_identical(linked_project):
    before = snapshot(linked_project)
    head = git(linked_project, "rev-parse", "HEAD")
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=dev,dev,prd")
    assert run.returncode != 0
    assert "ERROR: environments: 'dev' is listed twice" in run.stderr
    assert snapshot(linked_project) == before
    assert git(linked_project, "status", "--porcelain") == ""
    assert git(linked_project, "rev-parse", "HEAD") == head


def test_a_dirty_tree_is_refused(linked_project):
    (linked_project / "scratch.txt").write_text("unsaved")
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=dev,prd")
    assert run.returncode != 0
    assert "not clean" in run.stderr and "scratch.txt" in run.stderr
    assert environments(linked_project) == ["sbx", "dev", "tst", "prd"]


def test_a_template_change_committed_after_the_bake_arrives(tmp_path):
    linked_project = make_linked_project(tmp_path)
    template = tmp_path / "multienv-template"  # where make_linked_project cloned it
    project_template = template / "{{cookiecutter.project_slug}}"
    (project_template / "CONTRIBUTING.md").write_text("# Contributing to {{ cookiecutter.project_name }}\n")
    gitignore = project_template / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "*.local\n")
    commit_all(template, "template moves on")
    run = run_project(linked_project, "regenerate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (linked_project / "CONTRIBUTING.md").read_text() == "# Contributing to My Multienv App\n"
    assert "*.local" in (linked_project / ".gitignore").read_text()
    assert_team_edits_survived(linked_project)


def test_a_plain_cookiecutter_bake_can_be_linked_then_regenerated(tmp_path):
    template = template_as_git_repo(tmp_path)
    out = tmp_path / "plain"
    answers = {
        "environments": "sbx,dev,uat:staging,prd",
        "account_strategy": "hybrid",
        "code_owners": "@my-org/platform @alice",
    }
    subprocess.run(
        [str(Path(sys.executable).parent / "cookiecutter"), str(template), "--no-input", "--output-dir", str(out)]
        + [f"{key}={value}" for key, value in answers.items()],
        capture_output=True,
        check=True,
    )
    project = out / "my-multienv-app"
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "generated")
    run = run_project(project, "link", f"TEMPLATE={template}")
    assert run.returncode != 0, "a link without TEMPLATE_REF would record whatever the template is today"
    assert "make link: set TEMPLATE_REF=" in run.stderr
    assert not (project / ".cruft.json").exists()
    run = run_project(project, "link", f"TEMPLATE={template}", "TEMPLATE_REF=main")
    assert run.returncode == 0, run.stdout + run.stderr
    recorded = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert {key: recorded[key] for key in answers} == answers
    commit_all(project, "linked")
    run = run_project(project, "regenerate", "ENVIRONMENTS=sbx,dev,uat:staging,perf:testing,prd")
    assert run.returncode == 0, run.stdout + run.stderr
    assert environments(project) == ["sbx", "dev", "uat", "perf", "prd"]
    assert git(project, "status", "--porcelain", "--", "config/sbx.toml", "src") == ""
    assert "review with `git diff HEAD`" in run.stdout  # cruft staged it: plain git diff shows nothing
    assert "multienv.toml" not in git(project, "diff", "--name-only").split()
    assert "multienv.toml" in git(project, "diff", "HEAD", "--name-only").split()


def fill_in_account_ids(project: Path, ids: dict[str, str]) -> None:
    """What the README allows: real IDs typed into multienv.toml by hand."""
    settings = project / "multienv.toml"
    text = settings.read_text()
    for key, account_id in ids.items():
        text = re.sub(rf'^{key} = "\d{{12}}"$', f'{key} = "{account_id}"', text, flags=re.M)
    settings.write_text(text)
    commit_all(project, "real account IDs")


def test_hand_entered_account_ids_are_carried_into_a_regeneration(linked_project):
    run = run_project(linked_project, "regenerate", "ACCOUNT_STRATEGY=hybrid")
    assert run.returncode == 0, run.stdout + run.stderr
    commit_all(linked_project, "hybrid")
    fill_in_account_ids(linked_project, {"devops": "111111111111", "nonprod": "222222222222", "prod": "333333333333"})
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd")
    assert run.returncode == 0, run.stdout + run.stderr
    settings = tomllib.loads((linked_project / "multienv.toml").read_text())
    assert settings["accounts"] == {"devops": "111111111111", "nonprod": "222222222222", "prod": "333333333333"}
    assert environments(linked_project) == ["sbx", "dev", "tst", "stg", "prd"]
    assert "The account IDs above are placeholders" not in (linked_project / "README.md").read_text()


def test_hand_entered_github_ids_are_carried_into_a_regeneration(linked_project):
    settings = linked_project / "multienv.toml"
    text = settings.read_text()
    for key, value in (("github_owner_id", "1001"), ("github_repository_id", "2002")):
        text, count = re.subn(rf'^{key} = ""$', f'{key} = "{value}"', text, flags=re.M)
        assert count == 1, key
    settings.write_text(text)
    commit_all(linked_project, "GitHub IDs")
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd")
    assert run.returncode == 0, run.stdout + run.stderr
    project = tomllib.loads(settings.read_text())["project"]
    assert (project["github_owner_id"], project["github_repository_id"]) == ("1001", "2002")
    # The template rendered with them: the runbook no longer says they are missing.
    runbook = (linked_project / "docs" / "first-deploy.md").read_text()
    assert 'github_repository_id = "2002"' in runbook and "are empty" not in runbook


def test_a_new_isolated_account_needs_every_id(linked_project):
    fill_in_account_ids(
        linked_project,
        {
            "devops": "111111111111",
            "sbx": "222222222222",
            "dev": "333333333333",
            "tst": "444444444444",
            "prd": "555555555555",
        },
    )
    before = snapshot(linked_project)
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd")
    assert run.returncode != 0
    assert "its [accounts] lacks stg, which full_isolation needs" in run.stderr
    assert "ACCOUNT_IDS=devops=<id>,sbx=<id>,dev=<id>,tst=<id>,stg=<id>,prd=<id>" in run.stderr
    assert snapshot(linked_project) == before


# --------------------------------------------------------------------------- preview


def repository_state(project: Path) -> dict[str, str]:
    """Work tree, index, stash and HEAD: everything a preview must leave as it was."""
    state = snapshot(project)
    state[".git/index"] = hashlib.sha256((project / ".git" / "index").read_bytes()).hexdigest()
    state["stash"] = git(project, "stash", "list")
    state["HEAD"] = git(project, "rev-parse", "HEAD")
    state["refs"] = git(project, "for-each-ref")
    return state


def listed_classes(output: str) -> dict[str, str]:
    """The file list both the preview and the real run print: ``  <class>  <path> (lines)``."""
    classes = {}
    for line in output.splitlines():
        for kind in ("added", "removed", "updated cleanly", "conflicts with your edits", "edited but removed"):
            if line.startswith(f"  {kind}"):
                path = line[2:].removeprefix(kind).removeprefix(" by the template").split(" (")[0].strip()
                classes[path] = kind
    return classes


def stash_work_in_progress(project: Path) -> None:
    """A stash entry and a staged file: the preview must keep both exactly."""
    notes = project / "NOTES.md"
    notes.write_text("work in progress\n")
    git(project, "add", "NOTES.md")
    git(project, "stash", "push", "-q", "-m", "wip")
    (project / "STAGED.md").write_text("staged\n")
    git(project, "add", "STAGED.md")


def edit_dev_account(project: Path) -> None:
    settings = project / "multienv.toml"
    settings.write_text(settings.read_text().replace('dev = "000000000003"', 'dev = "222222222222"'))
    commit_all(project, "real dev account")


def edit_sandbox_config(project: Path) -> None:
    sandbox = project / "config" / "sbx.toml"
    sandbox.write_text(sandbox.read_text() + TEAM_CONFIG)
    commit_all(project, "tuned sandbox")


def run_tool(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """The regeneration tool itself, as `make regenerate` runs it: make turns every failure into exit 2."""
    return subprocess.run(
        [str(SHARED_VENV / "bin" / "python"), "-m", "multienv_tools.regenerate", *arguments],
        cwd=project,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )


# name: (answers baked, team edit, tool arguments, expected exit, classes some files must get)
# (An environment added under a shared account's strategy promises what add-stg promises; the shared
# strategies' own changes are single-account-strategy-change's and conflicting-account-edit's.)
PREVIEW_CASES = {
    "add-stg": (
        {},
        None,
        ["--set", "environments=sbx,dev,tst,stg,prd"],
        0,
        {"config/stg.toml": "added", "multienv.toml": "updated cleanly", "README.md": "updated cleanly"},
    ),
    "remove-sbx-hybrid": (
        {"account_strategy": "hybrid"},
        None,
        ["--set", "environments=dev,tst,prd"],
        0,
        {"config/sbx.toml": "removed", "multienv.toml": "updated cleanly"},
    ),
    "single-account-strategy-change": (
        {"account_strategy": "single_account"},
        None,
        ["--set", "account_strategy=hybrid"],
        0,
        {"multienv.toml": "updated cleanly"},
    ),
    "conflicting-account-edit": (
        {},
        edit_dev_account,
        ["--set", "account_strategy=consolidated_nonprod"],
        1,
        {"multienv.toml": "conflicts with your edits"},
    ),
    "edited-environment-removed": (
        {},
        edit_sandbox_config,
        ["--set", "environments=dev,tst,prd"],
        1,
        {"config/sbx.toml": "edited but removed"},
    ),
}


@pytest.mark.parametrize("case", PREVIEW_CASES)
def test_preview_writes_nothing_and_says_what_the_real_run_then_does(linked_copy, case):
    answers, edit, variables, exit_code, expected = PREVIEW_CASES[case]
    project = linked_copy(**answers)
    if edit:
        edit(project)
    stash_work_in_progress(project)
    before = repository_state(project)

    preview = run_tool(project, *variables, "--preview")
    assert preview.returncode == exit_code, preview.stdout + preview.stderr
    assert repository_state(project) == before
    promised = listed_classes(preview.stdout)
    assert {path: promised.get(path) for path in expected} == expected

    git(project, "reset", "-q", "--hard")  # the real run needs a clean tree; the stash stays
    real = run_tool(project, *variables)
    assert real.returncode == exit_code, real.stdout + real.stderr
    assert listed_classes(real.stdout + real.stderr) == promised
    if exit_code == 1:
        assert "conflicts with your edits" in preview.stdout or "edited but removed" in preview.stdout


def test_preview_of_refused_answers_gives_the_template_errors_and_exit_2(linked_project):
    before = repository_state(linked_project)
    preview = run_tool(linked_project, "--set", "environments=dev,dev,prd", "--preview")
    assert preview.returncode == 2, preview.stdout + preview.stderr
    assert "ERROR: environments: 'dev' is listed twice" in preview.stderr
    assert repository_state(linked_project) == before
    assert run_tool(linked_project, "--set", "environments=dev,dev,prd").returncode == 2


def test_make_regenerate_preview_writes_nothing(linked_project):
    stash_work_in_progress(linked_project)
    before = repository_state(linked_project)
    run = run_project(linked_project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd", "PREVIEW=1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "added                                config/stg.toml" in run.stdout
    assert repository_state(linked_project) == before


def test_preview_names_the_conflicting_lines(linked_project):
    edit_dev_account(linked_project)
    preview = run_tool(linked_project, "--set", "account_strategy=consolidated_nonprod", "--preview")
    line = next(line for line in preview.stdout.splitlines() if line.endswith(")") and "multienv.toml" in line)
    start, end = (int(n) for n in line.rsplit("(lines ", 1)[1].rstrip(")").split(",")[0].split("-"))
    run_project(linked_project, "regenerate", "ACCOUNT_STRATEGY=consolidated_nonprod")
    merged = (linked_project / "multienv.toml").read_text().splitlines()
    assert merged[start - 1].startswith("<<<<<<< ")
    assert merged[end - 1].startswith(">>>>>>> ")
    assert any('"222222222222"' in text for text in merged[start - 1 : end])


def test_removing_an_environment_lists_what_it_had_deployed(linked_project):
    names = naming.Naming("my-multienv-app", "us-east-1")
    # The defaults keep a table, so the data stack is deployed too, deleted after the app.
    order = (naming.APP_STACK, naming.DATA_STACK, naming.PERSONAS_STACK, naming.BOOTSTRAP_STACK)
    stacks = ", ".join(names.stack("sbx", s) for s in order)
    deployed = [
        "sbx leaves multienv.toml",
        f"account 000000000002 (sbx): stacks {stacks}",
        f"CI role {names.ci_role('sbx')}",
        "python -m multienv_tools.deploy destroy --env sbx",
    ]
    preview = run_tool(linked_project, "--set", "environments=dev,tst,prd", "--preview")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    real = run_tool(linked_project, "--set", "environments=dev,tst,prd")
    assert real.returncode == 0, real.stdout + real.stderr
    for text in deployed:
        assert text in preview.stdout
        assert text in real.stdout


# --------------------------------------------------------------------------- make bake


def make_bake(template: Path, out: Path, *variables: str) -> subprocess.CompletedProcess:
    """The template's `make bake`, with the shared environment's tools (-o: never reinstalled here)."""
    cookiecutter = SHARED_VENV / "bin" / "cookiecutter"
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "bake",
            f"OUT={out}",
            f"VENV={SHARED_VENV}",
            "-o",
            str(cookiecutter),
            *variables,
        ],
        cwd=template,
        env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_make_bake_gives_a_linked_project_and_never_bakes_over_work(tmp_path):
    template = template_as_git_repo(tmp_path)
    out = template / "out"
    baked = make_bake(template, Path("out"))  # relative, as the README's command has it
    assert baked.returncode == 0, baked.stdout + baked.stderr
    project = out / "my-multienv-app"
    assert f"Generated {project}. Next:" in baked.stdout
    recorded = json.loads((project / ".cruft.json").read_text())
    head = git(template, "rev-parse", "HEAD").strip()
    assert (recorded["template"], recorded["commit"]) == (str(template), head)
    # The platform it installs is this checkout's, at the same commit, not a release not yet published.
    pins = (project / "requirements-platform.txt").read_text()
    assert pins.count(f"git+file://{template}@{head}#subdirectory=platform/") == 2, pins
    assert git(project, "status", "--porcelain") == ""

    preview = run_project(project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd", "PREVIEW=1")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "added                                config/stg.toml" in preview.stdout
    run = run_project(project, "regenerate", "ENVIRONMENTS=sbx,dev,tst,stg,prd")
    assert run.returncode == 0, run.stdout + run.stderr
    assert environments(project) == ["sbx", "dev", "tst", "stg", "prd"]

    # The regeneration's changes are the team's work now: a second bake refuses and keeps them.
    for work in ("uncommitted", "committed"):
        if work == "committed":
            commit_all(project, "stg")
        before = snapshot(project)
        again = make_bake(template, out)
        assert again.returncode != 0, f"a bake over {work} work must refuse"
        assert f"{project} was left as it is" in again.stderr
        assert "make bake FORCE=1" in again.stderr and "make bake OUT=" in again.stderr
        assert snapshot(project) == before
        assert sorted(path.name for path in out.iterdir()) == ["my-multienv-app"]  # no scratch left
    forced = make_bake(template, out, "FORCE=1")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert environments(project) == ["sbx", "dev", "tst", "prd"]
    # An untouched bake is what make bake made: baking again replaces it.
    assert make_bake(template, out).returncode == 0


def test_make_bake_of_a_template_that_is_no_git_checkout_says_how_to_link(tmp_path):
    template = tmp_path / "unpacked"
    shutil.copytree(template_as_git_repo(tmp_path), template, ignore=shutil.ignore_patterns(".git"))
    out = tmp_path / "out"
    baked = make_bake(template, out)
    assert baked.returncode == 0, baked.stdout + baked.stderr
    project = out / "my-multienv-app"
    assert f"{template} is not a git checkout" in baked.stdout
    assert "make link TEMPLATE=" in baked.stdout
    assert not (project / ".cruft.json").exists()
    preview = run_project(project, "regenerate", "ENVIRONMENTS=dev,prd", "PREVIEW=1")
    assert preview.returncode != 0
    assert ".cruft.json is missing" in preview.stderr and "make link TEMPLATE=" in preview.stderr


def test_a_new_environment_is_told_which_secret_references_it_lacks(linked_project):
    """The new environment's config file is the template's; the team's own references are not in it."""
    quiet = run_tool(linked_project, "--set", "environments=sbx,dev,tst,stg,prd", "--preview")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "lacks secret references" not in quiet.stdout  # nothing to say: every file has the template's only
    for env, store, name in (("dev", "secretsmanager", "my-multienv-app/dev/stripe"), ("prd", "ssm", "")):
        path = linked_project / "config" / f"{env}.toml"
        reference = f'\n[secrets.stripe]\nstore = "{store}"\nname = "{name or f"/my-multienv-app/{env}/stripe"}"\n'
        path.write_text(path.read_text() + reference)
    sandbox = linked_project / "config" / "sbx.toml"
    sandbox.write_text(sandbox.read_text() + '\n[secrets.sandbox_only]\nstore = "ssm"\nname = "/x/sbx/y"\n')
    commit_all(linked_project, "the team's own secrets")
    expected = [
        "stg is new: config/stg.toml lacks secret references other environments have",
        "  [secrets.sandbox_only] store = \"ssm\", a name under '/my-multienv-app/stg/' (as in sbx)",
        '  [secrets.stripe] store = "secretsmanager", name = "my-multienv-app/stg/stripe" (as in dev, prd)',
    ]
    preview = run_tool(linked_project, "--set", "environments=sbx,dev,tst,stg,prd", "--preview")
    real = run_tool(linked_project, "--set", "environments=sbx,dev,tst,stg,prd")
    for run in (preview, real):
        assert run.returncode == 0, run.stdout + run.stderr
        lines = run.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(expected[0]))
        assert lines[start + 1 : start + 3] == expected[1:]
        assert "[secrets.app]" not in run.stdout and "[secrets.api_token]" not in run.stdout
    # The name it suggests is one the configuration check takes for stg.
    stg = linked_project / "config" / "stg.toml"
    stg.write_text(
        stg.read_text() + '\n[secrets.stripe]\nstore = "secretsmanager"\nname = "my-multienv-app/stg/stripe"\n'
    )
    shown = run_project(linked_project, "-s", "config", "CONFIG_ENV=stg")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["secrets"]["stripe"]["name"] == "my-multienv-app/stg/stripe"
