"""The benchmarks' verdicts: a missed target is said so, and fails the run under --check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_report import Target, verdict

CASES = [
    # (value, limit, at_least, met)
    (1.9, 2.0, False, True),
    (2.0, 2.0, False, True),
    (2.1, 2.0, False, False),
    (9.9, 5.0, True, True),
    (4.9, 5.0, True, False),
]


@pytest.mark.parametrize("value,limit,at_least,met", CASES)
def test_a_target_is_met_on_the_right_side_of_its_limit(value, limit, at_least, met):
    target = Target("x", value, limit, at_least=at_least)
    assert target.met is met
    assert str(target).endswith("met" if met else "MISSED")


def test_check_fails_the_run_only_when_a_target_is_missed(capsys):
    missed = [Target("fast", 1.0, 2.0), Target("slow", 3.0, 2.0, " s")]
    assert verdict(missed, check=True) == 1
    assert verdict(missed, check=False) == 0
    assert verdict(missed[:1], check=True) == 0
    out = capsys.readouterr().out
    assert "slow: 3.00 s (target: at most 2 s): MISSED" in out
    assert "verdict: missed: slow" in out
