"""Too-old tools are named before the plan loads: Python < 3.11 or cookiecutter < 2.2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE

from multienv_template import preflight as multienv_preflight

CASES = [
    # (python, cookiecutter, the start of each ERROR line)
    ((3, 11, 0), "2.7.1", []),
    ((3, 13, 1), "2.2.0", []),
    ((3, 11, 0), None, []),
    ((3, 10, 12), "2.7.1", ["ERROR: this template needs Python 3.11 or newer; cookiecutter runs on Python 3.10.12"]),
    ((3, 11, 9), "2.1.1", ["ERROR: this template needs cookiecutter 2.2 or newer (found 2.1.1)"]),
    ((3, 9, 0), "1.7.3", ["ERROR: this template needs Python 3.11", "ERROR: this template needs cookiecutter 2.2"]),
    ((3, 11, 0), "2.2.0rc1", []),
]


@pytest.mark.parametrize("python,cookiecutter,expected", CASES)
def test_too_old_tools_are_named(python, cookiecutter, expected):
    lines = multienv_preflight.problems(python, cookiecutter)
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line


# Runs the real cookiecutter command line as if its interpreter or its own version were older.
OLD_TOOLS = """
import sys
from collections import namedtuple
from importlib import metadata

from cookiecutter.cli import main

python, cookiecutter = sys.argv.pop(1), sys.argv.pop(1)
if python:
    sys.version_info = namedtuple("V", "major minor micro releaselevel serial")(*map(int, python.split(".")), "final", 0)
if cookiecutter:
    metadata.version = lambda name: cookiecutter
sys.argv[0] = "cookiecutter"
main()
"""


@pytest.mark.parametrize(
    "python,cookiecutter,message",
    [
        ("3.10.12", "", "ERROR: this template needs Python 3.11 or newer"),
        ("", "2.1.0", "ERROR: this template needs cookiecutter 2.2 or newer (found 2.1.0)"),
    ],
)
def test_a_bake_with_old_tools_stops_before_any_question(tmp_path, python, cookiecutter, message):
    out = tmp_path / "out"
    config = tmp_path / "config.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'cache'}\nreplay_dir: {tmp_path / 'replay'}\n")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            OLD_TOOLS,
            python,
            cookiecutter,
            str(TEMPLATE),
            "-o",
            str(out),
            "--config-file",
            str(config),
        ],
        input="",  # no --no-input: the check must come before the first question
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert run.stderr.splitlines()[0].startswith(message), run.stderr
    assert "StrEnum" not in run.stdout + run.stderr
    assert "project_name" not in run.stdout  # no question was asked
    assert not out.exists() or list(out.iterdir()) == []


def test_the_preflight_module_parses_as_python_3_7():
    """It must load where the plan cannot: nothing newer than cookiecutter 2's oldest Python."""
    import ast

    source = (Path(multienv_preflight.__file__)).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 7))
