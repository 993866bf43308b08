"""The smoke test: what a freshly published function version must answer before it goes live.

This is the file to extend. ``EVENT`` is what the deploy sends the new version; each function
in ``CHECKS`` reads the answer and returns a problem (a sentence) or None. A release moves
the ``live`` alias only when every check returns None (see ``release.py``). Add a check for
each promise your function makes that can be verified in a second without side effects:
it may read, never write, and it runs in every environment, production included.

Pure functions over plain data; the invocation itself (real Lambda, or the artifact run
locally against the local AWS) lives in ``release.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Sent to the version under test. The sample handler ignores its event; yours may branch on it.
EVENT: dict[str, Any] = {"smoke": True}


@dataclass(frozen=True)
class Expected:
    """What the version under test should know about itself."""

    env: str
    tier: str


def answers(answer: Any, expected: Expected) -> str | None:
    if not isinstance(answer, Mapping):
        return f"it answered {answer!r}, not a JSON object"
    return None


def resolves_its_environment(answer: Mapping[str, Any], expected: Expected) -> str | None:
    seen = (answer.get("env"), answer.get("source"), answer.get("runtime"))
    want = (expected.env, "ENV_NAME", "aws-lambda")
    if seen != want:
        return (
            f"it resolves env={seen[0]!r} from {seen[1]!r} on {seen[2]!r}; want {want[0]!r} from ENV_NAME on aws-lambda"
        )
    return None


def loads_its_configuration(answer: Mapping[str, Any], expected: Expected) -> str | None:
    config = answer.get("config")
    if not isinstance(config, Mapping):
        return f"its answer has no configuration (config={config!r})"
    seen = (config.get("env"), config.get("tier"))
    if seen != (expected.env, expected.tier):
        return f"it loaded the configuration of env={seen[0]!r}, tier={seen[1]!r}; want {expected.env}, {expected.tier}"
    return None


Check = Callable[[Any, Expected], "str | None"]

# In order; the first must pass for the others to read a mapping.
CHECKS: tuple[Check, ...] = (answers, resolves_its_environment, loads_its_configuration)


def problems(answer: Any, expected: Expected) -> list[str]:
    """Every check's problem, in order; an empty list means the version may go live."""
    first = CHECKS[0](answer, expected)
    if first:
        return [first]
    return [problem for check in CHECKS[1:] if (problem := check(answer, expected))]
