"""The artifact's snapshot: the same answers as the files, refused when stale, and nothing imported on a cold start."""

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from multienv import snapshot
from multienv.env import resolve
from multienv.settings import load_settings
from multienv_tools import app_artifact, lambda_runtime, snapshot_build

import {{ cookiecutter.package_name }}.schema as schema

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
SETTINGS = load_settings(ROOT / "multienv.toml")

# Every environment under each way it can be named, in the runtimes where that is allowed.
CASES = [{"ENV_NAME": name, "AWS_LAMBDA_FUNCTION_NAME": "fn"} for name in SETTINGS.names]
CASES += [{"USER_ENV_NAME": name, "ALLOW_LOCAL_PRODUCTION": "true"} for name in SETTINGS.names]
CASES += [{}, {"ENV_NAME": SETTINGS.names[0], "CI": "true"}]

ANSWER = f"""
import json, sys
from multienv.env import resolve
from {PACKAGE}.schema import load
environ = json.loads(sys.argv[1])
print(json.dumps([[resolve(v), load(environ=v).as_dict()] for v in environ]))
"""


@pytest.fixture
def artifact(tmp_path):
    """The built artifact, unzipped, as Lambda unpacks it."""
    zipped = tmp_path / "app.zip"
    app_artifact.build(SETTINGS, zipped)
    folder = tmp_path / "artifact"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(folder)
    return folder


def run_in(folder, code, *args, flags=()):
    """``python [flags] -c code`` inside ``folder`` with nothing on the path but the folder itself."""
    return subprocess.run(
        [sys.executable, *flags, "-c", code, *args],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_artifact_answers_as_the_files_do_for_every_environment(artifact):
    assert (artifact / "multienv" / f"{snapshot.MODULE}.py").is_file()
    done = run_in(artifact, ANSWER, json.dumps(CASES))
    assert done.returncode == 0, done.stderr
    from_snapshot = json.loads(done.stdout)
    from_files = [[list(resolve(v, SETTINGS)), schema.load(environ=v, settings=SETTINGS).as_dict()] for v in CASES]
    assert from_snapshot == json.loads(json.dumps(from_files))
    assert {answer[0][0] for answer in from_snapshot} == set(SETTINGS.names)


def test_the_snapshot_is_literals_and_its_digest_is_of_its_sources(artifact):
    text = (artifact / "multienv" / f"{snapshot.MODULE}.py").read_text(encoding="utf-8")
    values = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        assert isinstance(node, ast.Assign), ast.dump(node)
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(values) == {"DIGEST", "LAYOUT", "CONFIG", "SOURCES"}
    for name, content in values["SOURCES"].items():
        assert (ROOT / name).read_bytes() == content, name
    assert values["DIGEST"] == snapshot.digest(values["SOURCES"].items())
    assert values["DIGEST"] != snapshot.digest([*values["SOURCES"].items(), ("config/x.toml", b"")])


@pytest.mark.parametrize("change", ["edit", "remove"])
def test_a_snapshot_that_no_longer_matches_its_files_is_refused(artifact, change):
    changed = artifact / "config" / f"{SETTINGS.names[-1]}.toml"
    if change == "edit":
        changed.write_text(changed.read_text(encoding="utf-8") + "\n# edited after the build\n", encoding="utf-8")
    else:
        changed.unlink()
    done = run_in(artifact, ANSWER, json.dumps(CASES[:1]))
    assert (done.returncode, done.stdout) == (1, "")
    message = done.stderr.strip().splitlines()[-1]
    assert "SnapshotError" in message
    assert f"config/{SETTINGS.names[-1]}.toml" in message
    assert "rebuild the artifact" in message


def test_an_artifact_without_its_sources_reads_the_snapshot_alone(artifact):
    (artifact / "multienv.toml").unlink()
    for path in (artifact / "config").iterdir():
        path.unlink()
    done = run_in(artifact, ANSWER, json.dumps(CASES[:1]))
    assert done.returncode == 0, done.stderr


COLD_START = f"""
import sys
{lambda_runtime.preload_statement()}
before = set(sys.modules)
from {PACKAGE}.handler import handler
answer = handler(dict(), None)
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_a_deployed_cold_start_imports_only_the_service_and_the_runtime_past_lambdas_preloads(artifact):
    """As Lambda's Python runtime does: site enabled and its own modules imported (os, json, logging...,
    ``multienv_tools.lambda_runtime``); past those the handler may add only this package and the runtime,
    so a stdlib module the runtime already holds costs nothing. Anything else is cold-start time:
    import it inside the function that needs it, or measure it with ``make bench-coldstart``."""
    done = subprocess.run(
        [sys.executable, "-c", COLD_START],
        cwd=artifact,
        env={"ENV_NAME": SETTINGS.names[0], "AWS_LAMBDA_FUNCTION_NAME": "fn"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert f"multienv.{snapshot.MODULE}" in loaded
    ours = (PACKAGE, "multienv", *lambda_runtime.NEGLIGIBLE)
    assert [name for name in loaded if name.split(".")[0] not in ours] == []


def test_write_snapshot_puts_the_module_beside_the_runtime(tmp_path):
    written = snapshot_build.write_snapshot(ROOT, tmp_path)
    name, text = snapshot_build.snapshot_member(ROOT)
    assert written == tmp_path / name
    assert written.read_text(encoding="utf-8") == text
