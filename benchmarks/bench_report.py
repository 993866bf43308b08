"""Targets and verdicts for the benchmarks: each prints its medians, then one line per target
with the verdict, and with ``--check`` exits 1 when a target is missed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A measured value and the bound it must keep: at most ``limit``, or at least it (``at_least``)."""

    name: str
    value: float
    limit: float
    unit: str = ""
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def __str__(self) -> str:
        bound = "at least" if self.at_least else "at most"
        verdict = "met" if self.met else "MISSED"
        return f"{self.name}: {self.value:.2f}{self.unit} (target: {bound} {self.limit:g}{self.unit}): {verdict}"


def add_check_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")


def verdict(targets: list[Target], check: bool) -> int:
    """Print a line per target and an overall verdict; the exit status for ``--check``."""
    for target in targets:
        print(target)
    missed = [t.name for t in targets if not t.met]
    print(f"verdict: {'missed: ' + ', '.join(missed) if missed else 'every target met'}")
    return 1 if check and missed else 0
