"""The artifact: ``dist/app.zip`` from an explicit allow-list, byte for byte the same for the same sources."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import multienv
from multienv.settings import Settings

from . import snapshot_build

ARTIFACT = Path("dist") / "app.zip"


# Fixed timestamp and modes: the same sources always give the same bytes, hence the same key.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


# What runs in AWS, and nothing else: the runtime and the service packages (Python sources
# only), the settings file and the configuration. The tooling, tests and infra never ship, so
# an edit to them leaves the artifact, and its sha256, as it was.
RUNTIME_PACKAGE = "multienv"


def runtime_folder() -> Path:
    """The runtime's package folder as this interpreter imports it: the installed distribution, pinned
    by requirements-platform.txt (or a checkout given on PYTHONPATH), never a copy in the repository."""
    return Path(multienv.__file__).resolve().parent


def artifact_files(settings: Settings) -> list[tuple[Path, str]]:
    """The artifact's allow-list: the installed ``multienv/``, ``src/<package>/``, ``multienv.toml``, ``config/*.toml``."""
    root = settings.root
    files = []
    for folder in (runtime_folder(), root / "src" / settings.package):
        files += [(p, p.relative_to(folder.parent).as_posix()) for p in folder.rglob("*.py")]
    files.append((settings.path, settings.path.name))
    files += [(p, p.relative_to(root).as_posix()) for p in (root / "config").glob("*.toml")]
    return sorted(files, key=lambda item: item[1])


def build(settings: Settings, target: Path) -> str:
    """Write the deterministic artifact, with the snapshot a cold start reads, and return its sha256."""
    snapshot_name, snapshot_text = snapshot_build.snapshot_member(settings.root)
    # A snapshot left in src/ by hand would be a second copy: the build writes its own.
    members = [(name, path.read_bytes()) for path, name in artifact_files(settings) if name != snapshot_name]
    members = sorted([*members, (snapshot_name, snapshot_text.encode())])
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return sha256_of(target)
