"""Are the tools running this template new enough? Checked before anything else is imported.

The plan's vocabulary (the generated package's ``model.py``) needs Python 3.11 (``StrEnum``,
``tomllib``); without this check, cookiecutter on an older Python dies with
``cannot import name 'StrEnum'``. Keep this module importable by old interpreters: standard
library only, no syntax newer than Python 3.7 (cookiecutter 2's oldest).
"""

import sys

MIN_PYTHON = (3, 11)
# cookiecutter 2.2 is the first to read "__prompts__" (the short questions of cookiecutter.json).
MIN_COOKIECUTTER = (2, 2)
INSTALL_HINT = "e.g. `pipx install --python python3.11 cookiecutter` or `uv tool install --python 3.11 cookiecutter`"


def _version_tuple(text):
    parts = []
    for piece in str(text).split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def installed_cookiecutter():
    """The version of the cookiecutter package this interpreter runs, or None when unknown."""
    try:
        from importlib import metadata

        return metadata.version("cookiecutter")
    except ImportError:  # no importlib.metadata, or no distribution record: not checked
        return None


def problems(python=None, cookiecutter=None):
    """What is too old, as ERROR lines (empty when nothing is): ``python`` a version tuple,
    ``cookiecutter`` a version string (None: not known, not checked)."""
    python = tuple(sys.version_info[:3] if python is None else python)
    found = []
    if python[:2] < MIN_PYTHON:
        found.append(
            "ERROR: this template needs Python {} or newer; cookiecutter runs on Python {} ({}). "
            "Install cookiecutter for a newer Python, {}.".format(
                ".".join(map(str, MIN_PYTHON)), ".".join(map(str, python)), sys.executable, INSTALL_HINT
            )
        )
    if cookiecutter is not None and _version_tuple(cookiecutter)[:2] < MIN_COOKIECUTTER:
        found.append(
            "ERROR: this template needs cookiecutter {} or newer (found {}): "
            "`pipx upgrade cookiecutter`, or install it anew, {}.".format(
                ".".join(map(str, MIN_COOKIECUTTER)), cookiecutter, INSTALL_HINT
            )
        )
    return found


class ToolsTooOld(ImportError):
    """Raised while cookiecutter loads the template's extension, before any question is asked."""


def require():
    """Print the problems to stderr and stop the bake (cookiecutter reports the extension as
    not loadable), or return quietly."""
    found = problems(cookiecutter=installed_cookiecutter())
    if found:
        for line in found:
            print(line, file=sys.stderr)
        raise ToolsTooOld("the tools are too old for this template: see the ERROR line(s) above")
