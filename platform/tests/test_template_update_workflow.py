"""template-update.yml: its token serves the default branch only, it installs hashed pins, and no
doc asks a team to let GitHub Actions approve pull requests.

Run the job from any branch, install cruft unpinned or at another version than `make regenerate`
uses, or send teams to the "create and approve pull requests" setting (on plans without required
reviewers, the review before a merge is production's only gate), and a test here fails.
"""

import re
from pathlib import Path

import yaml
from baked import ROOT

from multienv_tools import pipeline

LOCK = "requirements-template-update.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def job() -> dict:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "template-update.yml").read_text(encoding="utf-8"))
    (update,) = workflow["jobs"].values()
    return update


def pins(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a lock file."""
    found: dict[str, tuple[str, int]] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name = match[1].lower()
            found[name] = (match[2], 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


def test_the_token_environment_runs_on_the_default_branch_only():
    update = job()
    assert update["environment"] == "template-update"
    assert update["if"] == pipeline.ON_DEFAULT_BRANCH
    assert update["env"]["BASE"] == pipeline.DEFAULT_BRANCH


def test_cruft_is_installed_from_hashed_pins_at_the_dev_locks_versions():
    installs = [step["run"] for step in job()["steps"] if "pip install" in step.get("run", "")]
    assert installs == [
        f"python -m pip install --quiet --require-hashes --no-deps -r {LOCK}",
        "python -m pip install --quiet --require-hashes --no-deps -r requirements-deploy.txt\n"
        "python -m pip install --quiet --no-deps --no-build-isolation -r requirements-platform.txt\n",
    ]
    locked = pins(ROOT / LOCK)
    assert "cruft" in locked
    assert all(hashes > 0 for _, hashes in locked.values()), locked
    dev = pins(ROOT / "requirements-dev.txt")
    assert {name: version for name, (version, _) in locked.items()} == {name: dev[name][0] for name in locked}, (
        "requirements-template-update.txt and requirements-dev.txt disagree: run make lock"
    )


def test_no_doc_asks_to_let_actions_approve_pull_requests():
    asked = re.compile(r"create and approve pull requests", re.IGNORECASE)
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = [page.name for page in pages if asked.search(page.read_text(encoding="utf-8"))]
    assert found == []
