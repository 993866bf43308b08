"""Your smoke checks: what a freshly published version of the function must answer before it goes live.

A release (`multienv deploy release`, in every environment's deploy job and in `make local-deploy`)
invokes the new version with ``EVENT`` and runs the platform's checks (it answers a JSON object,
resolves its own environment from ``ENV_NAME`` on Lambda, loads that environment's configuration),
then each function of ``CHECKS`` here, in order. Each reads the answer and returns a problem (a
sentence) or None; the ``live`` alias moves only when none returns a problem. Add one for each
promise your function makes that can be checked in a second without side effects: it may read,
never write, and it runs in every environment, production included. This file runs in the deploy
job, with the deploy credentials: CODEOWNERS covers it.
"""

from collections.abc import Mapping
from typing import Any

# Sent to the version under test. The sample handler ignores its event; yours may branch on it.
EVENT: dict[str, Any] = {"smoke": True}


def answers_with_its_timeout(answer: Mapping[str, Any], expected: Any) -> str | None:
    """The sample handler reports its configured request timeout: a positive number of seconds."""
    timeout = answer.get("config", {}).get("request_timeout_seconds")
    if not isinstance(timeout, int) or timeout <= 0:
        return f"its configuration reports request_timeout_seconds={timeout!r}, not a positive number of seconds"
    return None


CHECKS = (answers_with_its_timeout,)
