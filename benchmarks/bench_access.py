"""How long a baked project's `make check-access` takes, and what one simulator process saves.

Bakes the defaults, or the shape the options give, then measures (medians of several runs):
- `make check-access` end to end (render, simulate every case, parliament): wall time and the
  CPU time of its processes (user + system, which load from others on the machine leaves alone);
- with ``--baseline TEMPLATE`` (another checkout of this template, e.g. ``git worktree add``),
  the same answers baked from it and measured in the same run, interleaved: before and after;
- the simulator alone for the first N cases: one node process for all of them, against the
  baseline of one node process per case, measured in the same run (``--no-simulator`` skips it).

Targets: `make check-access` at most CHECK_ACCESS_TARGET seconds for the defaults and
LARGEST_TARGET for ``--largest`` (twelve environments of twelve-character names under a
31-character slug, tests/matrix.py), and one process for the sample at least ONE_PROCESS_TARGET
times faster than one process per case.

Usage: python benchmarks/bench_access.py [--runs 5] [--sample 40] [--largest] [--account-strategy S]
       [--environments E] [--project-slug S] [--baseline TEMPLATE] [--no-simulator] [--check]
Needs the template's `make install` (iam-simulate in .venv/access-node, or NODE_MODULES).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_report import Target, add_check_option, verdict
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
CHECK_ACCESS_TARGET = 15.0  # seconds, of the defaults' make check-access (about 7 s measured)
LARGEST_TARGET = 10.0  # seconds, of the largest shape's make check-access, on 2 cores
ONE_PROCESS_TARGET = 5.0  # one node process for the sample against one per case
STAMP = Path(".make") / "check" / "check-access"  # the Makefile's record of a passing run


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def largest_answers() -> dict[str, str]:
    """The twelve-environment, 31-character-slug shape of tests/matrix.py."""
    sys.path[:0] = [str(TEMPLATE), str(TEMPLATE / "tests")]
    import matrix

    return dict(matrix.BY_ID["twelve-long-full_isolation"].answers)


def answers_from(args) -> dict[str, str]:
    answers = largest_answers() if args.largest else {}
    for key in ("environments", "project_slug", "account_strategy"):
        if getattr(args, key) is not None:
            answers[key] = getattr(args, key)
    if "project_slug" in answers and not args.largest:
        answers.setdefault("package_name", answers["project_slug"].replace("-", "_"))
    return answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--largest", action="store_true", help="twelve environments under a 31-character slug")
    parser.add_argument("--environments", help="the environments answer")
    parser.add_argument("--project-slug", dest="project_slug", help="the project_slug answer")
    parser.add_argument("--account-strategy", dest="account_strategy", help="the account_strategy answer")
    parser.add_argument("--baseline", type=Path, help="another checkout of this template, measured alongside")
    parser.add_argument("--no-simulator", action="store_true", help="skip the simulator-only comparison")
    add_check_option(parser)
    args = parser.parse_args()
    node_modules = Path(os.environ.get("NODE_MODULES", VENV / "access-node" / "node_modules"))
    if not (node_modules / "@cloud-copilot" / "iam-simulate").is_dir():
        print(f"no iam-simulate in {node_modules}: run make install", file=sys.stderr)
        return 2
    answers = answers_from(args)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as out:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=f"{out}/ours", extra_context=answers))
        projects = {"this template": project}
        if args.baseline:
            # In its own process: both templates' plan modules have the same names.
            pairs = [f"{key}={value}" for key, value in answers.items()]
            cli = VENV / "bin" / "cookiecutter"
            subprocess.run(
                [str(cli), str(args.baseline), "--no-input", "-o", f"{out}/baseline", *pairs],
                check=True,
                capture_output=True,
            )
            projects["baseline"] = next(Path(out, "baseline").iterdir())
        wall: dict[str, list[float]] = {name: [] for name in projects}
        cpu: dict[str, list[float]] = {name: [] for name in projects}

        def check_access(where: Path):
            # Its stamp would make every run after the first a no-op.
            (where / STAMP).unlink(missing_ok=True)
            subprocess.run(
                ["make", "check-access", f"VENV={VENV}", f"NODE_MODULES={node_modules}"],
                cwd=where,
                env=env,
                check=True,
                capture_output=True,
            )

        # Interleaved, so that load on the machine falls on both alike.
        for _ in range(args.runs):
            for name, where in projects.items():
                started, spent = time.perf_counter(), children_cpu()
                check_access(where)
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(children_cpu() - spent)
        shape = ", ".join(f"{k}={v}" for k, v in answers.items()) or "the defaults"
        print(f"shape: {shape}")
        for name in projects:
            print(
                f"make check-access ({name}): median {statistics.median(wall[name]):.2f} s wall, "
                f"{statistics.median(cpu[name]):.2f} s CPU over {args.runs} runs"
            )
        whole = statistics.median(wall["this template"])
        limit = LARGEST_TARGET if args.largest else CHECK_ACCESS_TARGET
        targets = [Target("make check-access", whole, limit, " s")]
        if not args.no_simulator:
            targets.append(simulator_target(project, env, node_modules, args))
    return verdict(targets, args.check)


def simulator_target(project: Path, env: dict[str, str], node_modules: Path, args) -> Target:
    # The requests exactly as check-access builds them, for the simulator-only comparison.
    script = (
        "import json, sys\n"
        "from multienv_tools import access_matrix as am\n"
        "from multienv.settings import load_settings\n"
        "s = load_settings()\n"
        "w = am.World(s, am.load_trust(s))\n"
        "p = am.collect_policies(am.render_all(s))\n"
        "cases = am.read_cases(s.root / am.CASES_FILE)\n"
        "print(json.dumps([{'id': i, 'simulation': am.simulation(p, w, c, '')} for i, (n, c) in enumerate(cases)]))\n"
    )
    built = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", script],
        cwd=project,
        env={**env, "PYTHONPATH": "src"},
        check=True,
        capture_output=True,
        text=True,
    )
    requests = json.loads(built.stdout)
    sample = requests[: args.sample]
    node_env = {**env, "NODE_PATH": str(node_modules)}
    driver = project / "access" / "simulate.cjs"

    def simulate(batch):
        subprocess.run(
            ["node", str(driver)], input=json.dumps(batch), text=True, env=node_env, check=True, capture_output=True
        )

    one_process = timed(lambda: simulate(sample), args.runs)
    per_case = timed(lambda: [simulate([r]) for r in sample], args.runs)
    all_cases = timed(lambda: simulate(requests), args.runs)
    print(f"simulator, all {len(requests)} designed cases in one node process: median {all_cases:.2f} s")
    print(
        f"simulator, {len(sample)} cases: one process {one_process:.2f} s; one process per case (baseline) "
        f"{per_case:.2f} s; ratio {per_case / one_process:.1f}x"
    )
    return Target("one process per case / one process", per_case / one_process, ONE_PROCESS_TARGET, "x", at_least=True)


if __name__ == "__main__":
    sys.exit(main())
