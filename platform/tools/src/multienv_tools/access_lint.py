"""parliament on every identity policy of the access matrix, minus the skips written in
``access/parliament-skips.toml``, each with its reason.
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import re
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .access_policies import (
    AccessError,
    Policies,
)


@dataclass(frozen=True)
class Skip:
    policy: str
    issue: str
    reason: str


def read_skips(path: Path) -> list[Skip]:
    """``access/parliament-skips.toml``: excused findings, each with its reason."""
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("skip", [])
    skips = []
    for index, entry in enumerate(entries):
        missing = [key for key in ("policy", "issue", "reason") if not str(entry.get(key, "")).strip()]
        if missing:
            raise AccessError(f"{path}: skip[{index}] needs {', '.join(missing)}: every skip says which and why")
        skips.append(Skip(entry["policy"], entry["issue"], entry["reason"]))
    return skips


# An AWS account ID, as a whole number.
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def shape(text: str, environments: Iterable[str]) -> str:
    """The policy text with every environment name, as a whole word, made the first one, and every
    account ID made one ID.

    Environments' policies differ by their names and accounts alone: one analysis serves each
    shape. A name stands where another valid name stands, and an account ID where another
    stands, so parliament's checks (actions, ARN forms, conditions) see the same policy."""
    text = ACCOUNT_ID.sub("123456789012", text)
    names = sorted(environments, key=len, reverse=True)
    if not names:
        return text
    word = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, names)) + r")(?![a-z0-9])")
    return word.sub(names[-1], text)


def parliament_findings(
    policies: Policies, skips: list[Skip], minimum: str = "MEDIUM", environments: Iterable[str] = ()
) -> tuple[list[str], int]:
    """Findings at ``minimum`` severity or above, and how many a documented skip excused.

    Each shape of policy (``shape``) is analysed once. A policy whose shape has no finding, or
    only findings a skip excuses for that policy, is settled by it; any other is analysed
    itself, so every finding reported is its own."""
    with warnings.catch_warnings():
        # parliament imports pkg_resources, which warns on import (setuptools is pinned below 81, which drops it).
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        from parliament import analyze_policy_string, enhance_finding
        from parliament.cli import is_finding_filtered

    environments = list(environments)
    by_shape: dict[str, list] = {}

    def findings_of(text: str) -> list:
        found = analyze_policy_string(text, ignore_private_auditors=True).findings
        return [f for f in map(enhance_finding, found) if not is_finding_filtered(f, minimum)]

    def excused(name: str, issue: str) -> list[Skip] | None:
        """The skips that excuse ``issue`` in policy ``name`` (the template's own first), or None."""
        if issue in policies.skips.get(name, {}):
            return []
        matching = [s for s in skips if s.issue == issue and fnmatch.fnmatchcase(name, s.policy)]
        return matching or None

    problems = []
    skipped = 0
    used: set[Skip] = set()
    for name, document in policies.identity_documents():
        text = json.dumps(document)
        key = shape(text, environments)
        if key not in by_shape:
            by_shape[key] = findings_of(key)
        reasons = [excused(name, finding.issue) for finding in by_shape[key]]
        excuses = [reason for reason in reasons if reason is not None]
        if len(excuses) == len(reasons):
            skipped += len(reasons)
            used.update(skip for reason in excuses for skip in reason)
            continue
        for finding in findings_of(text):
            reason = excused(name, finding.issue)
            if reason is not None:
                used.update(reason)
                skipped += 1
                continue
            detail = finding.detail
            if isinstance(detail, list) and len(detail) > 3:
                detail = [*detail[:3], f"... {len(detail) - 3} more"]
            problems.append(f"parliament: {name}: {finding.severity} {finding.issue}: {detail}")
    for skip in skips:
        if skip not in used:
            problems.append(f"parliament skip for {skip.policy} {skip.issue} matches no finding: remove it")
    return problems, skipped


def in_background(function: Callable, *args) -> Callable[[], object]:
    """``function(*args)`` started now in a forked child process; the callable returned waits for its answer.

    The access matrix builds its requests on one core while parliament runs on the other. Where
    Python does not fork safely (macOS, Windows) the callable runs it, when asked, in this process.
    """
    if sys.platform != "linux":
        return lambda: function(*args)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(function, *args)

    def answer():
        try:
            return future.result()
        finally:
            pool.shutdown()

    return answer
