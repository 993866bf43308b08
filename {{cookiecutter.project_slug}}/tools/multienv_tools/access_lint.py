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


def shape(text: str, environments: Iterable[str]) -> str:
    """The policy text with every environment name, as a whole word, made the first one.

    Environments' policies differ by their names alone: one analysis serves each shape. A name
    stands where another valid name stands, so parliament's checks (actions, ARN forms,
    conditions) see the same policy."""
    names = sorted(environments, key=len, reverse=True)
    if not names:
        return text
    word = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, names)) + r")(?![a-z0-9])")
    return word.sub(names[-1], text)


def parliament_findings(
    policies: Policies, skips: list[Skip], minimum: str = "MEDIUM", environments: Iterable[str] = ()
) -> tuple[list[str], int]:
    """Findings at ``minimum`` severity or above, and how many a documented skip excused.

    Each shape of policy (``shape``) is analysed once; a policy whose shape has findings is then
    analysed itself, so every finding reported is its own."""
    with warnings.catch_warnings():
        # parliament imports pkg_resources, which warns on import (setuptools is pinned below 81, which drops it).
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        from parliament import analyze_policy_string, enhance_finding
        from parliament.cli import is_finding_filtered

    environments = list(environments)
    by_shape: dict[str, list] = {}

    def findings_of(text: str) -> list:
        key = shape(text, environments)
        if key not in by_shape:
            by_shape[key] = analyze_policy_string(key, ignore_private_auditors=True).findings
        if not by_shape[key]:
            return []
        return analyze_policy_string(text, ignore_private_auditors=True).findings

    problems = []
    skipped = 0
    used: set[Skip] = set()
    for name, document in policies.identity_documents():
        for finding in map(enhance_finding, findings_of(json.dumps(document))):
            if is_finding_filtered(finding, minimum):
                continue
            if finding.issue in policies.skips.get(name, {}):
                skipped += 1
                continue
            matching = [s for s in skips if s.issue == finding.issue and fnmatch.fnmatchcase(name, s.policy)]
            if matching:
                used.update(matching)
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
