"""The template's own README, prompts and Makefile say what the template does."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import TEMPLATE

from multienv_plan import AccountStrategy, Tier

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
README = (TEMPLATE / "README.md").read_text(encoding="utf-8")
QUESTIONS = [key for key in COOKIECUTTER if not key.startswith("_")]


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table whose header row starts with ``| heading``."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_option_table_lists_every_question_in_order():
    assert [row[0].strip("`") for row in readme_table("variable |")] == QUESTIONS


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_prompt_is_one_short_line(question):
    prompt = COOKIECUTTER["__prompts__"][question]
    assert "\n" not in prompt
    assert len(prompt) <= 90, f"{len(prompt)} characters: details belong in the README"


def test_the_account_names_table_is_what_the_plan_names_accounts():
    rows = {row[0].strip("`"): row[1] for row in readme_table("strategy | account names |")}
    environments = [("dev", Tier.DEVELOPMENT), ("prd", Tier.PRODUCTION)]
    for strategy in AccountStrategy:
        named = re.findall(r"`([a-z]+)`", rows[strategy.value])
        expected = [key for key in strategy.accounts(environments) if key not in ("dev", "prd")]
        assert named == expected, strategy


def test_make_help_lists_the_two_commands():
    run = subprocess.run(["make", "-s", "help"], cwd=TEMPLATE, capture_output=True, text=True, check=True)
    targets = [line.split()[0] for line in run.stdout.splitlines()]
    assert {"bake", "test", "help"} <= set(targets)
