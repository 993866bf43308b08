"""Cookiecutter's entry point (``_extensions`` in cookiecutter.json); the extension is multienv_template.jinja."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:  # cruft renders without cookiecutter's import patch
    sys.path.insert(0, _ROOT)

from multienv_template.jinja import MultienvExtension  # noqa: E402

__all__ = ["MultienvExtension"]
