"""The baked repository these tests check: the platform's tests run against a generated project.

The template's suite runs them once per platform release, over the option matrix
(``tests/test_platform.py``), with ``MULTIENV_PROJECT`` naming the bake; by hand, from the template's
root: ``MULTIENV_PROJECT=out/my-multienv-app .venv/bin/python -m pytest -c platform/tests/pytest.ini
platform/tests``.
"""

import os
import sys
from pathlib import Path

if not os.environ.get("MULTIENV_PROJECT"):
    sys.exit(
        "platform/tests: set MULTIENV_PROJECT to a baked repository (make bake writes out/my-multienv-app); "
        "these tests check a generated project, not the template's folder"
    )
ROOT = Path(os.environ["MULTIENV_PROJECT"]).resolve()
if not (ROOT / "multienv.toml").is_file():
    sys.exit(f"platform/tests: MULTIENV_PROJECT={ROOT} holds no multienv.toml: it is not a baked repository")
