"""Shared helpers: the template root, baking, and running a baked project's own checks."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE))

# The baked projects' checks run in this interpreter's virtual environment: one shared
# environment for every bake instead of one `make install` per bake.
SHARED_VENV = Path(sys.prefix)
ACCESS = TEMPLATE / "platform" / "tools" / "src" / "multienv_tools" / "access"
NODE_DIR = SHARED_VENV / "access-node"
# A bake_copy's own copy of the platform's packages (run by its make through PLATFORM_SRC).
PLATFORM_COPY = ".platform-src"
PLATFORM_PACKAGES = (
    TEMPLATE / "platform" / "runtime" / "src" / "multienv",
    TEMPLATE / "platform" / "tools" / "src" / "multienv_tools",
)


def _default_answers() -> dict[str, str]:
    """cookiecutter.json's defaults as cookiecutter renders them (derived slug, package...)."""
    from cookiecutter.generate import generate_context
    from cookiecutter.main import _patch_import_path_for_repo
    from cookiecutter.prompt import prompt_for_config

    from multienv_template import plan as multienv_plan

    with _patch_import_path_for_repo(str(TEMPLATE)):
        context = prompt_for_config(generate_context(str(TEMPLATE / "cookiecutter.json")), no_input=True)
    return multienv_plan.answers_of(context)


# The answers of a bake with no input, read from cookiecutter.json: the one place they are written.
DEFAULT_ANSWERS = _default_answers()
# Jinja left in a baked file; GitHub's ${{ }} and CloudFormation's {{resolve:...}} are not Jinja.
TEMPLATE_SYNTAX = re.compile(r"(?<!\$)\{\{(?!resolve:)|\{%|\{#")


def leftover_template_syntax(project: Path) -> list[str]:
    """Files of a bake that still hold Jinja syntax, as ``path:line``."""
    found = []
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if TEMPLATE_SYNTAX.search(line):
                found.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return found


def platform_copy(project: Path) -> Path:
    """Where a bake_copy keeps its own copy of the platform's packages: beside the project, so the
    project's own checks (its lint, which reads every Python file under it) never see it."""
    return project.parent / f"{project.name}{PLATFORM_COPY}"


def outside_this_environment() -> dict[str, str]:
    """This process's environment without what selects its virtual environment or path."""
    return {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}


def run_project(project: Path, *targets: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the baked project's own make targets in the shared environment."""
    env = outside_this_environment()
    # A copy that holds its own platform sources (bake_copy's, for sabotage) runs them instead.
    own = platform_copy(project)
    platform = [f"PLATFORM_SRC={own}"] if own.is_dir() else []
    return subprocess.run(
        ["make", *targets, f"VENV={SHARED_VENV}", *platform],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


PLATFORM_TESTS = TEMPLATE / "platform" / "tests"


def run_platform_tests(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """The platform's tests (platform/tests/) against a baked project, as a release runs them; test
    ids are printed as ``test_file.py::name``. A bake_copy's own platform sources run instead of
    the installed platform, as its make does."""
    env = outside_this_environment()
    env["MULTIENV_PROJECT"] = str(project)
    own = platform_copy(project)
    if own.is_dir():
        env["PYTHONPATH"] = str(own)
    files = [str(PLATFORM_TESTS / arg) for arg in args if arg.startswith("test_")] or [str(PLATFORM_TESTS)]
    options = [arg for arg in args if not arg.startswith("test_")]
    command = [sys.executable, "-m", "pytest", "-c", str(PLATFORM_TESTS / "pytest.ini")]
    return subprocess.run(
        [*command, "--rootdir", str(PLATFORM_TESTS), *options, *files],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sign_in_as(project: Path, sign_in: str) -> None:
    """Make a bake's persona roles trust the sign-in source ``sign_in`` ([personas] of multienv.toml)."""
    settings = project / "multienv.toml"
    text, count = re.subn(r'source = "account"\nidentity_account = "\w+"\n', sign_in + "\n", settings.read_text())
    assert count == 1, "multienv.toml has no [personas] source to replace"
    settings.write_text(text, encoding="utf-8")


def template_as_git_repo(tmp_path: Path) -> Path:
    """A git clone of the template as it is in this working tree (committed or not)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=TEMPLATE,
        capture_output=True,
        check=True,
    ).stdout.decode()
    repo = tmp_path / "multienv-template"
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE / name
        if source.is_file():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "template"], cwd=repo, check=True)
    return repo


def pytest_configure(config):
    config.option.template = str(TEMPLATE)  # bake this template wherever pytest starts
    # The bakes run the platform installed in this environment: the wheels of this working tree,
    # built and installed once (again only when platform/ or releases.toml changed), before any worker starts.
    if not hasattr(config, "workerinput"):
        import importlib.util

        spec = importlib.util.spec_from_file_location("platform_wheels", TEMPLATE / "platform" / "wheels.py")
        wheels = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(wheels)
        wheels.install()


class Bake:
    """A pytest-cookies result plus the output folder it baked into."""

    def __init__(self, result, output_dir: Path):
        self.result = result
        self.output_dir = output_dir
        self.exit_code = result.exit_code
        self.exception = result.exception
        self.project = result.project_path


@pytest.fixture
def bake(cookies, tmp_path):
    """Bake with the given answers (pytest-cookies, in-process)."""

    def _bake(**answers) -> Bake:
        output_dir = tmp_path / "cookies" / f"bake{cookies._counter:02d}"  # pytest-cookies' own naming
        return Bake(cookies.bake(extra_context=answers), output_dir)

    return _bake


@pytest.fixture(scope="session")
def _baked_once(cookies_session):
    """One bake per set of answers and test process, never changed (bake_copy hands out copies)."""
    baked: dict[tuple, object] = {}

    def _get(answers: dict[str, str]):
        key = tuple(sorted(answers.items()))
        if key not in baked:
            result = cookies_session.bake(extra_context=answers)
            assert result.exit_code == 0, result.exception
            baked[key] = result
        return baked[key]

    return _get


@pytest.fixture
def bake_once(_baked_once):
    """A project baked with the given answers, shared by every test that asks for the same ones and
    only reads it (``make test`` sends the tests of one combination to one process: xdist_group)."""

    def _shared(**answers) -> Bake:
        result = _baked_once(answers)
        return Bake(result, result.project_path.parent)

    return _shared


@pytest.fixture
def bake_copy(_baked_once, tmp_path):
    """A project baked with the given answers, the first time they are asked for only: each test
    edits its own copy (a sabotage, then the project's own check)."""

    def _copy(**answers) -> SimpleNamespace:
        source = _baked_once(answers).project_path
        target = tmp_path / "copy" / source.name
        shutil.copytree(source, target, symlinks=True)
        for package in PLATFORM_PACKAGES:  # the platform's sources, for a test to sabotage
            shutil.copytree(package, platform_copy(target) / package.name, ignore=shutil.ignore_patterns("__pycache__"))
        return SimpleNamespace(project=target)

    return _copy


@pytest.fixture(scope="session")
def node_modules():
    """iam-simulate installed once per machine into the shared venv, from the template's lock file."""
    target = NODE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate"
    lock = ACCESS / "package-lock.json"
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with (NODE_DIR / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # xdist workers share the one install
        stamp = NODE_DIR / "package-lock.json"
        if not target.is_dir() or not stamp.is_file() or stamp.read_bytes() != lock.read_bytes():
            shutil.copy(ACCESS / "package.json", NODE_DIR / "package.json")
            shutil.copy(lock, stamp)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300
            )
    os.environ["NODE_MODULES"] = str(NODE_DIR / "node_modules")  # make's ?= picks it up in run_project
    return NODE_DIR / "node_modules"
