"""The install: the lock files, the environment the tests share, and a newcomer's first hour.

A baked project installs its development tools from one hashed lock, requirements-dev.txt
(compiled from requirements-dev.in), checkov from requirements-checkov.txt and uv, where none is
on PATH, from requirements-uv.txt. The template's tests run every bake's checks in one shared
environment made from that same lock plus the template's own (requirements-dev.txt at the root).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, TEMPLATE
from end_to_end import assert_every_check_ran, assert_local_deploy_checked_everything
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from multienv_template import plan as multienv_plan

PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
LOCKS = {
    "project-dev": PROJECT_TEMPLATE / "requirements-dev",
    "project-checkov": PROJECT_TEMPLATE / "requirements-checkov",
    "project-uv": PROJECT_TEMPLATE / "requirements-uv",
    "project-template-update": PROJECT_TEMPLATE / "requirements-template-update",
    "template-dev": TEMPLATE / "requirements-dev",
}
# A locked requirement: `name==version ; marker \` on its own line, its hashes on the next ones.
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked(path: Path) -> dict[str, tuple[str, Marker | None, int]]:
    """name -> (version, marker, number of hashes) for every pin of a lock file."""
    pins: dict[str, tuple[str, Marker | None, int]] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match["name"])
            marker = Marker(match["marker"]) if match["marker"] else None
            pins[name] = (match["version"], marker, 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, marker, hashes = pins[name]
            pins[name] = (version, marker, hashes + 1)
    return pins


def requested(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


@pytest.mark.parametrize("stem", LOCKS.values(), ids=list(LOCKS))
def test_each_lock_pins_what_its_in_file_asks_with_hashes(stem):
    """Editing an .in file without `make lock` leaves a lock that installs something else."""
    pins = locked(stem.with_suffix(".txt"))
    assert pins, "no pins read"
    asked = requested(stem.with_suffix(".in"))
    if stem == LOCKS["project-dev"]:  # the tooling package's declared dependencies are locked there too
        tools = tomllib.loads((TEMPLATE / "platform" / "tools" / "pyproject.toml").read_text(encoding="utf-8"))
        asked += [Requirement(line) for line in tools["tool"]["hatch"]["metadata"]["hooks"]["custom"]["dependencies"]]
    wrong = []
    for requirement in asked:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None or pin[0] not in requirement.specifier:
            wrong.append(f"{requirement} (locked: {pin[0] if pin else 'missing'})")
    assert wrong == [], "run make lock"
    assert [name for name, (_, _, hashes) in pins.items() if hashes == 0] == []


def test_the_shared_environment_is_exactly_the_locked_one():
    """The shared environment stands in for each bake's `make install`: it must hold what the locks pin."""
    wrong = []
    for path in (PROJECT_TEMPLATE / "requirements-dev.txt", TEMPLATE / "requirements-dev.txt"):
        for name, (version, marker, _) in locked(path).items():
            if marker is not None and not marker.evaluate():
                continue
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                installed = "not installed"
            if installed != version:
                wrong.append(f"{name}=={version} ({installed})")
    assert wrong == [], "run make install at the template root"


def test_the_deploy_lock_and_the_dev_lock_agree_on_boto3():
    """The deploy jobs' hashed lock and the tools the tests run with use the same boto3."""
    deploy = locked(PROJECT_TEMPLATE / "requirements-deploy.txt")
    dev = locked(PROJECT_TEMPLATE / "requirements-dev.txt")
    assert deploy["boto3"][0] == dev["boto3"][0]
    assert deploy["botocore"][0] == dev["botocore"][0]


def test_a_target_run_against_an_empty_environment_says_to_install(bake, tmp_path):
    """With VENV pointing elsewhere nothing is installed on first use: the message says what to do."""
    project = bake().project
    for target in ("lint", "test", "check-access", "env"):
        run = subprocess.run(
            ["make", target, f"VENV={tmp_path / 'none'}"], cwd=project, capture_output=True, text=True, check=False
        )
        assert run.returncode != 0
        assert "run make install first" in run.stderr, (target, run.stderr)
    run = subprocess.run(
        ["make", "lint-infra", f"VENV={sys.prefix}", f"CHECKOV_VENV={tmp_path / 'none'}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert f"no checkov in {tmp_path / 'none'}: run make install first" in run.stderr
    assert "cfn-lint" not in run.stdout  # said first, not after the other scanner's run


def readme_start_commands(project: Path) -> list[str]:
    """The commands of the generated README's "Start" block, in order."""
    readme = project.joinpath("README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Start\n.*?^```console\n(.*?)^```", readme, re.S | re.M)
    assert block, "no console block under ## Start"
    return [line.split("#", 1)[0].strip() for line in block[1].splitlines() if line.strip()]


@pytest.mark.slow
def test_a_newcomer_runs_the_readme_in_a_fresh_folder(tmp_path):
    """The defaults, baked with the CLI into a folder outside any git repository, then the README's
    commands in order with nothing from the template's environments: the real `make install`."""
    out = tmp_path / "fresh"
    out.mkdir()
    outside_git = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=out, capture_output=True, check=False)
    assert outside_git.returncode != 0, "the test folder is inside a git repository"
    shared_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != shared_bin)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "VENV", "CHECKOV_VENV", "NODE_MODULES", "MAKEFLAGS", "MFLAGS")
    }
    env["PATH"] = path
    # The platform as this working tree builds it, offline: hashed file:// wheels instead of the git pin.
    wheels = subprocess.run(
        [sys.executable, str(TEMPLATE / "platform" / "wheels.py"), str(tmp_path / "wheels")],
        capture_output=True,
        text=True,
        check=True,
    )
    env["PLATFORM_REQUIREMENTS"] = wheels.stdout.strip()
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'cache'}\nreplay_dir: {tmp_path / 'replay'}\n")
    cli = [str(Path(sys.executable).parent / "cookiecutter"), str(TEMPLATE), "--no-input", "-o", str(out)]
    baked = subprocess.run([*cli, "--config-file", str(config)], env=env, capture_output=True, text=True, check=False)
    assert baked.returncode == 0, baked.stderr
    project = out / DEFAULT_ANSWERS["project_slug"]

    commands = readme_start_commands(project)
    assert commands[:3] == ["make install", "make check", "make local-deploy"]
    output = {}
    for command in commands:
        run = subprocess.run(command.split(), cwd=project, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"{command}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        output[command] = run.stdout + run.stderr
    # The defaults' end-to-end run (full_isolation, sign-in by account): every check ran, every stack deployed.
    plan = multienv_plan.build_plan(DEFAULT_ANSWERS)
    assert_every_check_ran(output["make check"], plan, "account")
    assert_local_deploy_checked_everything(output["make local-deploy"], plan, "account")

    # Nothing changed, so nothing is redone: no install step, no check.
    again = subprocess.run(
        ["make", "install", "check"], cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert again.returncode == 0, again.stderr
    assert "==>" not in again.stdout
    # (as the commands make echoes: the folder names hold "pytest" when this runs under pytest)
    assert " -m pytest" not in again.stdout and "/ruff " not in again.stdout, again.stdout

    # An edit to the service's code reruns ruff and the service's tests, not the scanners or the access matrix.
    handler = project / "src" / DEFAULT_ANSWERS["package_name"] / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n\nA_CHANGE_OF_THE_SERVICE = 1\n", encoding="utf-8")
    edited = subprocess.run(["make", "check"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert edited.returncode == 0, f"{edited.stdout[-3000:]}\n{edited.stderr[-3000:]}"
    assert " -m pytest tests" in edited.stdout and "/ruff " in edited.stdout, edited.stdout
    rerun = ("cfn-lint", "multienv checkov", "multienv check-access", "zizmor", "synth --check")
    assert [name for name in rerun if name in edited.stdout] == [], edited.stdout

    # A team's first edits the documented ways keep `make check` green: a key and a table added as
    # schema.py says (the platform's tests check the loader against keys of their own, not these), and
    # a handler importing `os` and the runtime's own `multienv.secrets` at the top (the cold-start rule
    # measures against what AWS Lambda's Python runtime has loaded, not a bare interpreter).
    package = project / "src" / DEFAULT_ANSWERS["package_name"]
    schema = package / "schema.py"
    schema.write_text(add_to_schema(schema.read_text(encoding="utf-8")), encoding="utf-8")
    shared = project / "config" / "shared.toml"
    text = shared.read_text(encoding="utf-8")
    assert text.count("[service]\n") == 1
    text = text.replace("[service]\n", "[service]\npage_size = 50\n") + '\n[payments]\nprovider = "stripe"\n'
    shared.write_text(text, encoding="utf-8")
    handler.write_text(import_os_and_secrets(handler.read_text(encoding="utf-8")), encoding="utf-8")
    team = subprocess.run(["make", "check"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert team.returncode == 0, f"{team.stdout[-3000:]}\n{team.stderr[-3000:]}"
    assert "multienv check-access" in team.stdout  # config/ is the access matrix's input: it ran again
    shown = subprocess.run(
        ["make", "-s", "config", "CONFIG_ENV=prd"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    production = json.loads(shown.stdout)
    assert (production["service"]["page_size"], production["payments"]) == (50, {"provider": "stripe"})


def add_to_schema(schema_text: str) -> str:
    """``KEYS`` with one more key in ``[service]`` and a new table, as the module's docstring says."""
    keys = 'KEYS = {\n    "service": {\n'
    assert schema_text.count(keys) == 1, "schema.py no longer opens KEYS with its [service] table"
    new_table = '    "payments": {\n        "provider": Key(str, choices=("stripe", "adyen"), doc="who takes payments"),\n    },\n'
    new_key = '        "page_size": Key(int, minimum=1, doc="items on one page"),\n'
    return schema_text.replace(keys, f'KEYS = {{\n{new_table}    "service": {{\n{new_key}')


def import_os_and_secrets(handler_text: str) -> str:
    anchor = "from multienv.env import resolve\n"
    assert handler_text.count(anchor) == 1
    text = handler_text.replace(anchor, "import os\n\nfrom multienv import secrets\n" + anchor)
    # Used, so that lint has nothing to say about the imports themselves.
    return text + '\n\nREGION = os.environ.get("AWS_REGION")\nSECRETS = secrets.Secrets\n'
