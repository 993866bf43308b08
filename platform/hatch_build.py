"""The build hook both platform distributions share: their version is the template's newest release.

``releases.toml`` at the root of this repository lists the releases, oldest first; the last one is
the release being prepared (or the one just tagged). The runtime (``multienv``) and the tooling
(``multienv-tools``) take its version, and the tooling requires the runtime of that same version, so
a repository pinned to one release commit runs one platform. Building needs the whole checkout (a
clone, as ``pip``/``uv`` make for a ``git+...#subdirectory=`` requirement, or the working tree).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hatchling.metadata.plugin.interface import MetadataHookInterface

sys.path.insert(0, str(Path(__file__).resolve().parent))
from releases import platform_version


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        version = platform_version()
        metadata["version"] = version
        # same-release (in [tool.hatch.metadata.hooks.custom]) names the distributions of this release
        # that this one needs: each pinned to exactly this version.
        pinned = [f"{name}=={version}" for name in self.config.get("same-release", [])]
        metadata["dependencies"] = [*pinned, *self.config.get("dependencies", [])]
