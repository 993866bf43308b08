"""The smoke test's contract, case by case: which answers let a version go live."""

import shutil

import pytest
from baked import ROOT

from multienv_tools import smoke

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

EXPECTED = smoke.Expected(env="stg", tier="staging")
GOOD = {"env": "stg", "source": "ENV_NAME", "runtime": "aws-lambda", "config": {"env": "stg", "tier": "staging"}}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (GOOD, None),
        ("Internal error", "not a JSON object"),
        (None, "not a JSON object"),
        ({**GOOD, "env": "prd"}, "resolves env='prd'"),
        ({**GOOD, "source": "USER_ENV_NAME"}, "from 'USER_ENV_NAME'"),
        ({**GOOD, "runtime": "local"}, "on 'local'"),
        ({k: v for k, v in GOOD.items() if k != "config"}, "no configuration"),
        ({**GOOD, "config": {"env": "dev", "tier": "development"}}, "configuration of env='dev'"),
    ],
)
def test_a_version_goes_live_only_with_the_right_answer(answer, problem):
    problems = smoke.problems(answer, EXPECTED)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_every_check_reports_at_once():
    problems = smoke.problems({"env": "dev", "source": "ENV_NAME", "runtime": "aws-lambda"}, EXPECTED)
    assert len(problems) == 2


def test_the_repositorys_own_checks_run_after_the_platforms():
    loaded = smoke.load(ROOT)
    assert loaded.checks[: len(smoke.CHECKS)] == smoke.CHECKS
    team = loaded.checks[len(smoke.CHECKS) :]
    assert team, f"{smoke.TEAM_FILE} adds no check"
    good = {**GOOD, "config": {**GOOD["config"], "request_timeout_seconds": 10}}
    assert smoke.problems(good, EXPECTED, loaded.checks) == []
    problems = smoke.problems(GOOD, EXPECTED, loaded.checks)  # no timeout in its answer
    assert len(problems) == 1 and "request_timeout_seconds=None" in problems[0], problems


def test_without_a_team_file_the_platforms_checks_and_event_run(tmp_path):
    loaded = smoke.load(tmp_path)
    assert (loaded.event, loaded.checks) == (smoke.EVENT, smoke.CHECKS)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("CHECKS = [print]\n", "CHECKS must be a tuple of functions"),
        ("CHECKS = ('not callable',)\n", "CHECKS must be a tuple of functions"),
        ("X = 1\n", "-> problem or None, got None"),
        ("CHECKS = ()\nEVENT = 'ping'\n", "EVENT must be a mapping"),
    ],
)
def test_a_team_file_that_cannot_serve_is_refused_naming_it(tmp_path, text, said):
    (tmp_path / "tests").mkdir()
    (tmp_path / smoke.TEAM_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(smoke.SmokeFileError, match=f"^{smoke.TEAM_FILE}: ") as error:
        smoke.load(tmp_path)
    assert said in str(error.value)


def test_the_team_event_is_what_the_version_receives(tmp_path):
    shutil.copytree(ROOT / "tests", tmp_path / "tests")
    path = tmp_path / smoke.TEAM_FILE
    path.write_text(path.read_text(encoding="utf-8").replace('{"smoke": True}', '{"ping": 1}'), encoding="utf-8")
    assert smoke.load(tmp_path).event == {"ping": 1}
