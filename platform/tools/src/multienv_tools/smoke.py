"""The smoke test: what a freshly published function version must answer before it goes live.

``EVENT`` is what the deploy sends the new version; each function in ``CHECKS`` reads the answer
and returns a problem (a sentence) or None. A release moves the ``live`` alias only when every
check returns None (see ``release.py``). These are the platform's checks (the version resolves its
own environment and loads its configuration); the team's own are in the repository's
``tests/smoke.py`` (``TEAM_FILE``), which may also replace ``EVENT``: ``load`` puts both together.

Pure functions over plain data; the invocation itself (real Lambda, or the artifact run
locally against the local AWS) lives in ``release.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The team's smoke checks, in the repository (CODEOWNERS covers it: it runs in the deploy job).
TEAM_FILE = "tests/smoke.py"

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


class SmokeFileError(ValueError):
    """The team's smoke file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Smoke:
    """What a release sends the new version, and every check its answer must pass, in order."""

    event: Mapping[str, Any]
    checks: tuple[Check, ...]


def load(root: Path) -> Smoke:
    """The platform's checks followed by the team's (``root / TEAM_FILE``, if there is one)."""
    path = root / TEAM_FILE
    if not path.is_file():
        return Smoke(EVENT, CHECKS)
    spec = importlib.util.spec_from_file_location("team_smoke", path)
    if spec is None or spec.loader is None:
        raise SmokeFileError(f"{TEAM_FILE}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    team = getattr(module, "CHECKS", None)
    if not isinstance(team, tuple) or not all(callable(check) for check in team):
        raise SmokeFileError(
            f"{TEAM_FILE}: CHECKS must be a tuple of functions (answer, expected) -> problem or None, got {team!r}"
        )
    event = getattr(module, "EVENT", EVENT)
    if not isinstance(event, Mapping):
        raise SmokeFileError(f"{TEAM_FILE}: EVENT must be a mapping (the JSON object sent), got {event!r}")
    return Smoke(event, (*CHECKS, *team))


def problems(answer: Any, expected: Expected, checks: tuple[Check, ...] = CHECKS) -> list[str]:
    """Every check's problem, in order; an empty list means the version may go live."""
    first = checks[0](answer, expected)
    if first:
        return [first]
    return [problem for check in checks[1:] if (problem := check(answer, expected))]
