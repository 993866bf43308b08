"""The platform's own tests (platform/tests/: the runtime's and the tooling's), once per release of
the platform, against a bake of each combination of ``matrix.PLATFORM``: a service's ``make check``
checks that service and does not run them. Those marked ``once`` (what does not vary with the
answers: the masking engine, the copy against tables made by name, the release flow...) run
against the defaults alone."""

from __future__ import annotations

import re

import pytest
from conftest import PLATFORM_TESTS, run_platform_tests, sign_in_as
from matrix import PLATFORM, Combination


@pytest.mark.slow
@pytest.mark.parametrize("combination", PLATFORM, ids=str)
def test_the_platform_tests_pass_against_a_bake(bake_copy, combination: Combination):
    project = bake_copy(**combination.answers).project
    sign_in_as(project, combination.sign_in)
    every = combination.id == PLATFORM[0].id
    run = run_platform_tests(project, *([] if every else ["-m", "not once"]))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    files = sorted(PLATFORM_TESTS.glob("test_*.py"))
    assert passed and int(passed.group(1)) >= (10 if every else 5) * len(files), run.stdout[-2000:]
    if not every:
        assert re.search(r"\d+ deselected", run.stdout), run.stdout[-2000:]


def test_the_platform_tests_refuse_to_run_without_a_bake(tmp_path):
    run = run_platform_tests(tmp_path)
    assert run.returncode != 0
    assert f"MULTIENV_PROJECT={tmp_path} holds no multienv.toml" in run.stdout + run.stderr
