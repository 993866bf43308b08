"""Which code merges a template update: the migration runner of the version being upgraded to.

Releases may declare migrations (files the template moved, so the team's edits follow them).
Only the new version knows its migrations, so ``make regenerate`` runs the update through the
runner that version ships at the root of the template repository (``migrations.py``, beside
its ``releases.toml``), taken from a clone of the template at the target version. A template
version without a runner is updated by plain ``cruft update``, as before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUNNER = "migrations.py"
RELEASES = "releases.toml"


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


@contextmanager
def update_command(root: Path, checkout: str | None, scratch: str | None = None) -> Iterator[list[str]]:
    """The command (before cruft's own arguments) that updates ``root`` to the template at ``checkout``."""
    cruft = Path(sys.executable).parent / "cruft"
    plain = [str(cruft) if cruft.exists() else "cruft", "update"]
    state = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    folder = Path(tempfile.mkdtemp(prefix="regenerate-template-", dir=scratch))
    try:
        clone = folder / "template"
        if _git("clone", "--quiet", "--no-checkout", state["template"], str(clone), cwd=folder).returncode != 0:
            yield plain  # cruft clones it again and says what is wrong
            return
        ref = checkout or state.get("checkout") or "HEAD"
        if _git("checkout", "--quiet", ref, "--", RUNNER, RELEASES, cwd=clone).returncode != 0:
            yield plain  # a template version from before migrations
            return
        yield [sys.executable, str(clone / RUNNER), "update"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
