"""What ships: the artifact holds the runtime, the service, its settings and config, and nothing else.

These tests read the service's code (they zip it, import it, edit a copy of it), so a change to
``src/{{ cookiecutter.package_name }}/`` reruns them. The platform's own tests are not here: they run
once per platform release, in the template's suite.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from multienv.settings import load_settings
from multienv.snapshot import MODULE as snapshot_module
from multienv_tools import app_artifact, lambda_runtime

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"


@pytest.fixture(scope="module")
def settings():
    return load_settings(ROOT / "multienv.toml")


def test_build_is_reproducible_and_carries_package_settings_and_config(settings, tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    digest = app_artifact.build(settings, first)
    assert app_artifact.build(settings, second) == digest == hashlib.sha256(first.read_bytes()).hexdigest()
    names = zipfile.ZipFile(first).namelist()
    assert f"{settings.package}/handler.py" in names
    assert "multienv.toml" in names
    assert {f"config/{env}.toml" for env in settings.names} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "infra/"))]


def test_the_artifact_holds_the_runtime_the_service_settings_and_config_only(settings, tmp_path):
    artifact = tmp_path / "app.zip"
    app_artifact.build(settings, artifact)
    names = zipfile.ZipFile(artifact).namelist()
    assert {name.split("/")[0] for name in names} == {"multienv", settings.package, "multienv.toml", "config"}
    assert not [n for n in names if n.startswith("multienv_tools") or "/tests/" in n]


def test_the_runtime_in_the_artifact_is_the_installed_distribution(settings, tmp_path):
    """The runtime ships from the platform release requirements-platform.txt pins, installed: file for
    file and byte for byte its Python modules (and the snapshot the build writes beside them)."""
    artifact = tmp_path / "app.zip"
    app_artifact.build(settings, artifact)
    with zipfile.ZipFile(artifact) as archive:
        shipped = {n: archive.read(n) for n in archive.namelist() if n.startswith("multienv/")}
    installed = [f for f in metadata.files("multienv") if f.parts[0] == "multienv" and f.suffix == ".py"]
    assert installed, "the multienv distribution lists no modules: is it installed (make install)?"
    expected = {f.as_posix(): Path(f.locate()).read_bytes() for f in installed}
    snapshot = f"multienv/{snapshot_module}.py"
    assert shipped.keys() - {snapshot} == expected.keys() - {snapshot}
    assert {n: b for n, b in shipped.items() if n != snapshot} == {n: b for n, b in expected.items() if n != snapshot}


def test_an_edit_outside_the_service_and_its_configuration_leaves_the_artifact_unchanged(settings, tmp_path):
    """CI redeploys when the artifact's sha256 changes: only what runs in AWS may change it."""
    copy = tmp_path / "repo"
    for part in ("src", "config", "tests", "infra"):
        shutil.copytree(settings.root / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(settings.path, copy / "multienv.toml")

    def build() -> str:
        return app_artifact.build(load_settings(copy / "multienv.toml"), tmp_path / "app.zip")

    before = build()
    for other in [*(copy / "tests").glob("*.py"), *(copy / "infra").glob("*.yaml")]:
        other.write_text(other.read_text(encoding="utf-8") + "\n# changes nothing that runs in AWS\n", encoding="utf-8")
    assert build() == before
    handler = copy / "src" / settings.package / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n# the service changed\n", encoding="utf-8")
    assert build() != before


WORKSTATION_PATH = f"""
import sys
before = set(sys.modules)
import tomllib
{lambda_runtime.preload_statement()}
floor = set(sys.modules) - before
from {PACKAGE}.handler import handler
handler(dict(), None)
print("\\n".join(sorted(set(sys.modules) - before - floor)))
"""


def test_a_workstation_imports_nothing_beyond_what_tomllib_needs():
    """No dataclasses, inspect or pathlib to check a few keys: past tomllib's own imports and what the
    Lambda runtime holds anyway (``multienv_tools.lambda_runtime``), only this package and the runtime."""
    done = subprocess.run(
        [sys.executable, "-c", WORKSTATION_PATH],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "multienv.config_files" in loaded
    ours = (PACKAGE, "multienv", *lambda_runtime.NEGLIGIBLE)
    assert [name for name in loaded if name.split(".")[0] not in ours] == []
