"""The build's snapshot: ``multienv.toml`` and ``config/*.toml``, already checked, as Python literals.

``make build`` writes it into the artifact as ``<this package>/_snapshot.py`` (``snapshot_build.py``
does the writing). There the resolver and the config loader read it instead of the files: the
interpreter loads it with no parser but its own, and nothing a bare interpreter has not loaded
is imported on the way. Without a snapshot (a checkout, a workstation) they read ``multienv.toml``
through ``settings.py``.

The snapshot carries the sha256 of the files it was made from (``DIGEST``) and the files
themselves (``SOURCES``). Where those files sit beside it (an artifact ships them too), they are
read again on first use and compared byte for byte with the copies: a snapshot that no longer
matches them is refused, naming the files that changed, since it would answer for files that
now say something else. Comparing bytes needs no hash module on a cold start; ``DIGEST`` is
the copies' sha256, for the build's record and for tests.
"""

import sys

MODULE = "_snapshot"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType

    from .layout import Layout


class SnapshotError(ValueError):
    """The snapshot in the artifact does not match the files beside it."""


def digest(read: "Iterable[tuple[str, bytes]]") -> str:
    """``sha256:<hex>`` of ``(name, content)`` pairs, each framed by its name and length (build and tests only)."""
    import hashlib

    hashed = hashlib.sha256()
    for name, content in read:
        hashed.update(f"{name}\0{len(content)}\0".encode())
        hashed.update(content)
    return "sha256:" + hashed.hexdigest()


def _root_of(module: "ModuleType") -> str:
    """The folder that holds the package the snapshot is in: where the artifact's sources sit."""
    folder = (module.__file__ or "").replace("\\", "/").rpartition("/")[0]
    return folder.rpartition("/")[0] or "."


def verify(module: "ModuleType", root: str) -> None:
    """Refuse ``module`` when the sources it copied are beside it and say something else now."""
    changed, missing = [], []
    for name, copy in module.SOURCES.items():
        try:
            with open(f"{root}/{name}", "rb") as handle:  # noqa: PTH123 - pathlib is not loaded on a cold start
                if handle.read() != copy:
                    changed.append(name)
        except FileNotFoundError:
            missing.append(name)
    if len(missing) == len(module.SOURCES):  # the artifact ships no sources: nothing to compare with
        return
    if changed or missing:
        differ = [*changed, *(f"{name} (missing)" for name in missing)]
        raise SnapshotError(
            f"{module.__file__} ({module.DIGEST}) no longer matches the files beside it: "
            f"{', '.join(differ)} in {root} changed since the build; rebuild the artifact (make build)"
        )


_loaded: "list[ModuleType | None]" = []


def load() -> "ModuleType | None":
    """The checked snapshot module, or None where there is none; verified on the first call."""
    if not _loaded:
        name = f"{__package__}.{MODULE}"
        try:
            __import__(name)
            module = sys.modules[name]
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            module = None
        if module is not None:
            verify(module, _root_of(module))
        _loaded.append(module)
    return _loaded[0]


def layout() -> "Layout":
    """The environments as the resolver needs them: the snapshot's, else ``multienv.toml``'s."""
    from .layout import Layout

    module = load()
    if module is None:
        from .settings import settings

        return settings().layout
    return Layout(**module.LAYOUT)


def configs() -> "dict[str, dict[str, object]] | None":
    """Every environment's checked configuration by name, or None where there is no snapshot."""
    module = load()
    if module is None:
        return None
    checked: dict[str, dict[str, object]] = module.CONFIG  # _snapshot.py, written by snapshot_build.py
    return checked
