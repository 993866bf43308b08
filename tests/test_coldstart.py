"""The shipped cold-start rule measures against what AWS Lambda's Python runtime has loaded, not a
bare interpreter: a handler that imports ``os`` and the runtime's own ``multienv.secrets`` at the top
passes the baked project's ``make check``."""

from __future__ import annotations

import pytest
from conftest import run_project
from test_infra import checkov_venv


@pytest.mark.slow
def test_a_handler_importing_os_and_the_runtimes_secrets_passes_make_check(bake_copy, node_modules):
    project = bake_copy().project
    handler = project / "src" / "my_multienv_app" / "handler.py"
    text = handler.read_text(encoding="utf-8")
    anchor = "from multienv.env import resolve\n"
    assert text.count(anchor) == 1
    handler.write_text(text.replace(anchor, "import os\n\nfrom multienv import secrets\n" + anchor), encoding="utf-8")
    # Used, so that lint has nothing to say about the imports themselves.
    handler.write_text(
        handler.read_text(encoding="utf-8") + '\n\nREGION = os.environ.get("AWS_REGION")\nSECRETS = secrets.Secrets\n',
        encoding="utf-8",
    )
    checked = run_project(project, "check", f"CHECKOV_VENV={checkov_venv()}")
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-4000:]
