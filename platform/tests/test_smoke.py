"""The smoke test's contract, case by case: which answers let a version go live."""

import pytest

from multienv_tools import smoke

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
