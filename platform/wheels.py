"""The platform's two wheels, built from this working tree, and installed offline where the template's tests run.

``python platform/wheels.py DIR`` builds ``multienv`` and ``multienv-tools`` into ``DIR`` (with the
build backend installed in this interpreter: no build isolation, nothing fetched) and writes
``DIR/requirements-platform.txt``: each wheel as a ``file://`` URL with its sha256, the form a
generated repository's ``make install PLATFORM_REQUIREMENTS=...`` installs under ``--require-hashes``.
``--install`` also installs them, without their dependencies (the development lock has those), into
this interpreter's environment, unless the stamp there says these very sources are installed already.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PLATFORM = Path(__file__).resolve().parent
TEMPLATE = PLATFORM.parent
DISTRIBUTIONS = {"multienv": PLATFORM / "runtime", "multienv-tools": PLATFORM / "tools"}
# What a wheel is built from: its sources, the shared build hook and the release list (the version).
SOURCES = (PLATFORM / "runtime", PLATFORM / "tools", PLATFORM / "hatch_build.py", TEMPLATE / "releases.toml")
REQUIREMENTS = "requirements-platform.txt"
STAMP = ".multienv-platform"


def source_digest() -> str:
    """sha256 over every source file of both wheels (paths and bytes), caches left out."""
    digest = hashlib.sha256()
    for root in SOURCES:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(path.relative_to(TEMPLATE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(folder: Path) -> Path:
    """Both wheels into ``folder`` (emptied first) and the hashed requirements file naming them."""
    import hatchling.build  # the backend pinned in requirements-dev.txt

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.whl"):
        old.unlink()
    lines = []
    for name, source in DISTRIBUTIONS.items():
        cwd = Path.cwd()
        try:
            os.chdir(source)  # a PEP 517 backend builds the project in the current directory
            wheel = folder / hatchling.build.build_wheel(str(folder))
        finally:
            os.chdir(cwd)
        sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name} @ {wheel.resolve().as_uri()} --hash=sha256:{sha}")
    requirements = folder / REQUIREMENTS
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return requirements


def uv() -> str:
    found = shutil.which("uv") or str(TEMPLATE / ".make" / "uv" / "bin" / "uv")
    if not Path(found).exists():
        raise SystemExit("no uv: run make install in the template first")
    return found


def install(python: Path = Path(sys.executable)) -> bool:
    """Install this working tree's platform into ``python``'s environment; False if it already was."""
    prefix = Path(
        subprocess.run(  # noqa: S603 (this environment's own interpreter)
            [python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    stamp = prefix / STAMP
    digest = source_digest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
        return False
    with tempfile.TemporaryDirectory() as scratch:
        requirements = build(Path(scratch))
        command = [uv(), "pip", "install", "--quiet", "--python", str(python), "--offline", "--no-deps"]
        subprocess.run([*command, "--reinstall", "--require-hashes", "-r", str(requirements)], check=True)  # noqa: S603
    stamp.write_text(digest, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="build both wheels and their requirements file here")
    parser.add_argument("--install", action="store_true", help="install them into this interpreter's environment")
    args = parser.parse_args(argv)
    if args.folder:
        print(build(args.folder))
    if args.install and install():
        print(f"installed the platform of this working tree into {sys.prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
