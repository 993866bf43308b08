"""Which platform a release of this template is: the newest ``[[release]]`` of ``releases.toml``.

One source for the version both distributions are built as (``hatch_build.py``) and for the pin a
generated repository gets (``requirements-platform.txt``, rendered by the template): the release's
commit once ``releases.toml`` records it, its tag ``v<version>`` until then (a commit cannot name
itself, so the tagged commit still says ``commit = ""``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

RELEASES = Path(__file__).resolve().parent.parent / "releases.toml"


def newest_release(path: Path = RELEASES) -> dict:
    try:
        releases = tomllib.loads(path.read_text(encoding="utf-8"))["release"]
        release = releases[-1]
        release["version"]
    except (OSError, KeyError, IndexError, TypeError, tomllib.TOMLDecodeError) as error:
        raise RuntimeError(f"{path}: no [[release]] with a version to build the platform as ({error!r})") from error
    return release


def platform_version(path: Path = RELEASES) -> str:
    """The version of the last ``[[release]]``: what both platform distributions are built as."""
    return newest_release(path)["version"]


def platform_ref(path: Path = RELEASES) -> str:
    """The git ref a generated repository pins the platform to: the release's commit, else its tag."""
    release = newest_release(path)
    return release.get("commit") or f"v{release['version']}"
