"""A service's `make check` beside today's release: cold, and after one edit of the service.

Bakes the defaults twice: from the last release ``releases.toml`` records (its commit, taken out
with ``git archive``) and from this working tree. Each bake is a git repository, as a team's is, and
has an environment of its own, made by its own ``make`` from its own development lock and its own
platform: the wheels its template tree builds (``platform/wheels.py``), as a team's ``make install``
installs its pinned release. Both share this checkout's checkov and simulator (``CHECKOV_VENV``,
``NODE_MODULES``). Installing is not measured, only checking. After one unmeasured run of each
(bytecode, page cache), round by round, each bake in turn (which goes first alternates):

- cold: ``make clean`` and no stamps left, every check runs (a fresh checkout, CI);
- one edit: the service's handler changed (the checks stay green), then ``make check``.

Targets (issue 22): this tree's cold at most half the release's; its one edit at most a quarter of
its cold, both on wall time. ``--check`` exits 1 when a median misses its target. The machine's
cores and load, and the CPU time of each case, are printed beside the numbers: on a shared machine
the load is the caveat and CPU time the steadier witness.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bench_report import Target, add_check_option, verdict

TEMPLATE = Path(__file__).resolve().parents[1]
RELEASES = TEMPLATE / "releases.toml"
COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
ROUNDS = 3
COLD_RATIO_TARGET = 0.5  # this tree's cold / the release's cold
EDIT_RATIO_TARGET = 0.25  # this tree's one edit / its own cold
CASES = ("cold", "one edit")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]


class BenchError(RuntimeError):
    pass


def last_release(path: Path = RELEASES, version: str | None = None) -> tuple[str, str]:
    """(version, commit) of the newest ``[[release]]`` that has a commit: the one teams run today
    (the release being prepared has ``commit = ""`` until it is tagged); or of ``version``."""
    try:
        releases = tomllib.loads(path.read_text(encoding="utf-8")).get("release", [])
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise BenchError(f"{path}: cannot read the releases ({error})") from error
    released = [r for r in releases if isinstance(r, dict) and r.get("commit") and r.get("version")]
    if version is not None:
        released = [r for r in released if r["version"] == version]
        if not released:
            raise BenchError(
                f"--release {version}: not a release with a commit in {path}; "
                f"released: {', '.join(str(r.get('version')) for r in releases if r.get('commit')) or 'none'}"
            )
    if not released:
        raise BenchError(f"{path}: no [[release]] with both a version and a commit: nothing released to compare with")
    return str(released[-1]["version"]), str(released[-1]["commit"])


def release_template(commit: str, into: Path, repository: Path = TEMPLATE) -> Path:
    """The template as it was at ``commit`` (its tree, as ``git archive`` gives it), in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repository, capture_output=True)
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit} in {repository}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def own_environment(
    template: Path, project: Path, scratch: Path, make_args: list[str], env: dict[str, str]
) -> list[str]:
    """``project/.venv`` with the development tools of its lock and the platform of ``template``.

    The wheels come from ``template``'s own ``platform/wheels.py`` (built with this interpreter's
    build backend, nothing fetched); the bake's own ``make`` target installs them with its lock,
    as ``make install`` with ``PLATFORM_REQUIREMENTS`` does in the template's tests. Returns the make
    arguments that run on it: ``VENV``, and the same ``PLATFORM_REQUIREMENTS`` (else the pins of
    ``multienv.toml`` would be newer than the install, and make would install them again)."""
    wheels = scratch / "wheels"
    built = subprocess.run(
        [sys.executable, str(template / "platform" / "wheels.py"), str(wheels)], capture_output=True, text=True
    )
    if built.returncode != 0:
        raise BenchError(f"building the platform of {template} failed:\n{built.stdout[-2000:]}\n{built.stderr[-2000:]}")
    venv = project / ".venv"
    on_it = [f"VENV={venv}", f"PLATFORM_REQUIREMENTS={wheels / 'requirements-platform.txt'}"]
    done = subprocess.run(
        ["make", f"{venv}/.installed-dev", *on_it, *make_args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"installing {venv} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return on_it


def uv() -> str:
    """The uv the template's install uses (``platform/wheels.py`` decides which)."""
    spec = importlib.util.spec_from_file_location("platform_wheels", TEMPLATE / "platform" / "wheels.py")
    assert spec and spec.loader
    wheels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wheels)
    try:
        return str(wheels.uv())
    except SystemExit as error:
        raise BenchError(str(error)) from error


@dataclass
class Bake:
    """One baked project and how its ``make check`` runs."""

    label: str
    project: Path
    make_args: list[str]
    env: dict[str, str]
    times: dict[str, list[float]] = field(default_factory=lambda: {case: [] for case in CASES})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {case: [] for case in CASES})

    def make(self, *targets: str) -> tuple[float, float]:
        """Run ``make TARGETS``: its wall time, and the CPU time of make and all it ran."""
        start, used = time.perf_counter(), children_cpu()
        done = subprocess.run(
            ["make", *targets, *self.make_args], cwd=self.project, env=self.env, capture_output=True, text=True
        )
        elapsed, cpu = time.perf_counter() - start, children_cpu() - used
        if done.returncode != 0:
            raise BenchError(
                f"{self.label}: make {' '.join(targets)} failed in {self.project}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return elapsed, cpu

    def measure(self, case: str, round_number: int) -> None:
        """One run of ``make check`` for ``case``: cold (no stamps) or after one edit of the service."""
        if case == "cold":
            self.make("clean")
            shutil.rmtree(self.project / ".make" / "check", ignore_errors=True)  # whatever `clean` keeps
            wall, cpu = self.make("check")
        else:
            handler = service_file(self.project)
            original = handler.read_text(encoding="utf-8")
            handler.write_text(f"{original}\n\n_EDITED_BY_THE_BENCHMARK = {round_number}\n", encoding="utf-8")
            try:
                wall, cpu = self.make("check")
            finally:
                handler.write_text(original, encoding="utf-8")
        self.times[case].append(wall)
        self.cpu[case].append(cpu)

    def median(self, case: str, cpu: bool = False) -> float:
        return statistics.median((self.cpu if cpu else self.times)[case])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def service_file(project: Path) -> Path:
    """The file the one-edit run changes: the service's handler."""
    found = sorted(project.glob("src/*/handler.py"))
    if not found:
        raise BenchError(f"no src/*/handler.py under {project}: which file is the service's handler?")
    return found[0]


def bake(template: Path, out: Path, config: Path) -> Path:
    """The defaults baked from ``template`` into ``out``, committed as a team's first commit."""
    done = subprocess.run(
        [str(COOKIECUTTER), str(template), "--no-input", "--output-dir", str(out), "--config-file", str(config)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"baking {template} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    projects = [path for path in out.iterdir() if path.is_dir()]
    if len(projects) != 1:
        raise BenchError(f"baking {template} into {out} gave {len(projects)} projects, not one")
    (project,) = projects
    subprocess.run([*GIT, "init", "-q"], cwd=project, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=project, check=True)
    subprocess.run([*GIT, "commit", "-qm", "bake"], cwd=project, check=True)
    return project


def targets(release: dict[str, float], new: dict[str, float], release_name: str) -> list[Target]:
    """The two targets, from the medians of each bake (``{"cold": s, "one edit": s}``)."""
    return [
        Target(f"cold: this tree / {release_name}", new["cold"] / release["cold"], COLD_RATIO_TARGET, "x"),
        Target("one edit / cold, this tree", new["one edit"] / new["cold"], EDIT_RATIO_TARGET, "x"),
    ]


def report(bakes: list[Bake], release_name: str, rounds: int, load: tuple[str, str], check: bool) -> int:
    """Print each bake's medians and runs, the machine, then the targets and the verdict."""
    print(f"make check of a default bake, median of {rounds} interleaved rounds (wall, and CPU of all it ran)")
    print(f"machine: {os.cpu_count()} cores, load average (1, 5, 15 min) {load[0]} before, {load[1]} after")
    print(f"  {'bake':<28} {'cold':>7} {'(CPU)':>7} {'one edit':>9} {'(CPU)':>7}   runs, wall: cold | one edit")
    for one in bakes:
        runs = " | ".join(" ".join(f"{value:.1f}" for value in one.times[case]) for case in CASES)
        cold, edit = (f"{one.median(case):6.1f}s {f'({one.median(case, cpu=True):.1f})':>7}" for case in CASES)
        print(f"  {one.label:<28} {cold} {'':>2}{edit}   {runs}")
    release, new = bakes
    print(
        "CPU time, less moved by the machine's load (not a target): "
        f"cold this tree / release {new.median('cold', True) / release.median('cold', True):.2f}x, "
        f"one edit / cold {new.median('one edit', True) / new.median('cold', True):.2f}x"
    )
    medians = ({case: one.median(case) for case in CASES} for one in bakes)
    return verdict(targets(*medians, release_name), check)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"cold and one-edit runs of each bake (default {ROUNDS})"
    )
    parser.add_argument(
        "--release", metavar="VERSION", help="compare with this release of releases.toml (default: the last released)"
    )
    add_check_option(parser)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give at least 1")
    shared = [
        f"CHECKOV_VENV={Path(os.environ.get('CHECKOV_VENV', TEMPLATE / '.venv-checkov')).resolve()}",
        f"NODE_MODULES={Path(os.environ.get('NODE_MODULES', TEMPLATE / '.venv/access-node/node_modules')).resolve()}",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    try:
        version, commit = last_release(version=args.release)
        release_name = f"release {version} ({commit[:8]})"
        install = [f"UV={uv()}", f"PYTHON3={getattr(sys, '_base_executable', sys.executable)}"]
        with tempfile.TemporaryDirectory(prefix="bench-service-check-") as scratch:
            root = Path(scratch)
            config = root / "cookiecutter.yaml"
            config.write_text(f"cookiecutters_dir: {root / 'cache'}\nreplay_dir: {root / 'replay'}\n")
            bakes = []
            for label, template, name in (
                (release_name, release_template(commit, root / "release-template"), "release"),
                ("this tree", TEMPLATE, "new"),
            ):
                project = bake(template, root / name, config)
                on_it = own_environment(template, project, root / f"{name}-platform", install, env)
                bakes.append(Bake(label, project, [*on_it, *shared], env))
            for one in bakes:  # before any run: the one-edit case needs it
                service_file(one.project)
            before = load_average()
            for one in bakes:  # unmeasured: bytecode, page cache
                one.make("check")
            # Interleaved, so that load on the machine falls on both alike; which goes first
            # alternates, so that a rise or fall of the load within a round does too.
            for round_number in range(args.rounds):
                for one in bakes if round_number % 2 == 0 else bakes[::-1]:
                    for case in CASES:
                        one.measure(case, round_number)
                    progress = ", ".join(f"{case} {one.times[case][-1]:.1f} s" for case in CASES)
                    print(
                        f"round {round_number + 1}/{args.rounds}, {one.label}: {progress}", file=sys.stderr, flush=True
                    )
            after = load_average()
    except BenchError as error:
        print(f"bench-service-check: {error}", file=sys.stderr)
        return 2
    return report(bakes, release_name, args.rounds, (before, after), args.check)


if __name__ == "__main__":
    sys.exit(main())
