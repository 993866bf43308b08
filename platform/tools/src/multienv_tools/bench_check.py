"""The check loop: how long `make check` takes cold, with nothing changed, and after one edit.

Runs on a copy of this repository (its .git included, so ruff behaves as here) with this
checkout's environments, so your stamps and files are left alone. Round by round, interleaved so
that load on the machine falls on each alike:

- cold: no stamps, every check runs (a fresh checkout, CI);
- no change: `make check` again at once;
- one edit: one file of the service package changed, then `make check`.

Targets: cold at most 20 s, no change at most 2 s, one edit at most a third of cold.
``--check`` exits 1 when a median misses its target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path.cwd()  # run at the root of a service repository (multienv bench-...)
# Installed environments and caches: used where they are, never copied.
NOT_COPIED = {".venv", ".venv-checkov", "node_modules", ".make", ".pytest_cache", ".ruff_cache", "__pycache__"}
COLD_TARGET = 20.0
NO_CHANGE_TARGET = 2.0


def service_file(root: Path) -> Path:
    """The file the one-edit run changes: the service's handler."""
    found = sorted(root.glob("src/*/handler.py"))
    if not found:
        raise SystemExit(f"no src/*/handler.py under {root}")
    return found[0]


def make_check(copy: Path, environments: list[str]) -> float:
    make = shutil.which("make")
    if make is None:
        raise SystemExit("make is not on PATH")
    start = time.perf_counter()
    done = subprocess.run([make, "check", *environments], cwd=copy, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"make check failed in {copy}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def verdicts(medians: dict[str, float]) -> list[tuple[str, float, str, bool]]:
    """(name, median, target as text, met) for each measured case."""
    cold = medians["cold"]
    return [
        ("cold", cold, f"<= {COLD_TARGET:.0f} s", cold <= COLD_TARGET),
        ("no change", medians["no change"], f"<= {NO_CHANGE_TARGET:.0f} s", medians["no change"] <= NO_CHANGE_TARGET),
        ("one edit", medians["one edit"], f"<= cold / 3 = {cold / 3:.1f} s", medians["one edit"] <= cold / 3),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses its target")
    args = parser.parse_args(argv)
    venv = Path(os.environ.get("VENV", ROOT / ".venv")).resolve()
    checkov = Path(os.environ.get("CHECKOV_VENV", ROOT / ".venv-checkov")).resolve()
    node_modules = Path(os.environ.get("NODE_MODULES", ROOT / "access" / "node_modules"))
    environments = [f"VENV={venv}", f"CHECKOV_VENV={checkov}", f"NODE_MODULES={node_modules.resolve()}"]

    times: dict[str, list[float]] = {"cold": [], "no change": [], "one edit": []}
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        copy = Path(scratch) / ROOT.name
        shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in NOT_COPIED])
        edited = service_file(copy)
        original = edited.read_text(encoding="utf-8")
        for round_number in range(args.rounds):
            shutil.rmtree(copy / ".make", ignore_errors=True)
            times["cold"].append(make_check(copy, environments))
            times["no change"].append(make_check(copy, environments))
            edited.write_text(f"{original}\n\n_EDITED_BY_THE_BENCHMARK = {round_number}\n", encoding="utf-8")
            times["one edit"].append(make_check(copy, environments))
            edited.write_text(original, encoding="utf-8")

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"make check, median of {args.rounds} interleaved rounds, {os.cpu_count()} cores")
    print(f"  {'case':<10} {'median':>8}  {'runs':<24} {'target':<20} verdict")
    missed = False
    for name, median, target, met in verdicts(medians):
        runs = " ".join(f"{value:.1f}" for value in times[name])
        print(f"  {name:<10} {median:7.2f}s  {runs:<24} {target:<20} {'met' if met else 'MISSED'}")
        missed |= not met
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
