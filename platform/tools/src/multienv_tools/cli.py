"""``multienv <verb> [arguments]``: the one command of the platform's tooling.

Each verb runs one module of this package as ``python -m`` would (its own arguments, its own exit
code), so ``multienv deploy build`` is ``python -m multienv_tools.deploy build``. Run it at the root
of a service repository: the tools read ``multienv.toml``, ``config/``, ``infra/`` and ``access/``
there.
"""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# verb: (module, arguments put before the user's, what it does)
VERBS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "deploy": ("deploy", (), "build, bootstrap, deploy, release, rollback, drift and destroy (deploy --help)"),
    "build": ("deploy", ("build",), "dist/app.zip: the installed runtime, the service and its configuration"),
    "drift": ("deploy", ("drift",), "compare an environment's deployed stacks with what they should be"),
    "retire": ("deploy", ("destroy",), "retire an environment: its stacks, then what they leave"),
    "local-deploy": ("local_deploy", (), "every stack into a local AWS (moto on 127.0.0.1), then checks"),
    "check-access": ("access_matrix", (), "simulate every access case against the rendered policies"),
    "who-can-assume": ("github_oidc", (), "the roles a GitHub OIDC token's claims may assume"),
    "policy-sizes": ("policy_sizes", (), "the largest rendered policy of each kind against its AWS limit"),
    "org-perimeter": ("org_perimeter", (), "the command that deploys org/perimeter.yaml"),
    "config-diff": ("config_diff", (), "the configuration keys two environments differ in"),
    "secrets": ("secret_store", (), "list or set the application's secrets (secrets --help)"),
    "data-seed": ("data_copy", ("seed",), "dummy data into a sandbox or development table (data-seed --help)"),
    "data-subset": ("data_copy", ("subset",), "a masked sample of production into testing, QA or staging"),
    "ci": ("ci", (), "what the workflows ask: roles, drift roles"),
    "regenerate": ("regenerate", (), "re-render from the template with changed answers, keeping edits"),
    "synth": ("synth", (), "render the platform's stacks from multienv.toml (synth --check: fail if stale)"),
    "bench-check": ("bench_check", (), "make check cold, unchanged and after one edit, with targets and verdicts"),
    "bench-coldstart": ("bench_coldstart", (), "cold start of the artifact against bare python and two libraries"),
    "bench-local-deploy": ("bench_local_deploy", (), "make local-deploy against starting the local AWS alone"),
}
PACKAGE = Path(__file__).resolve().parent
SIMULATOR_FILES = ("package.json", "package-lock.json")


def version() -> str:
    """The installed platform's version (the template release it was built from)."""
    try:
        return metadata.version("multienv-tools")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def install_simulator(target: Path) -> int:
    """``npm ci`` of the simulator this package's driver runs, from its lock, into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SIMULATOR_FILES:
        shutil.copyfile(PACKAGE / "access" / name, target / name)
    if shutil.which("npm") is None:
        print("npm not found: install Node.js 20 or newer (the access matrix runs on it)", file=sys.stderr)
        return 1
    return subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target).returncode


def checkov(arguments: list[str]) -> int:
    """``multienv checkov PYTHON ARGS``: checkov's faster wrapper, with checkov's own interpreter."""
    if not arguments:
        print("multienv checkov: give checkov's Python first (its own virtual environment)", file=sys.stderr)
        return 2
    python, *rest = arguments
    return subprocess.run([python, str(PACKAGE / "run_checkov.py"), *rest]).returncode


def usage() -> str:
    lines = [f"usage: multienv <verb> [arguments]   (platform {version()})", ""]
    lines += [f"  {verb:<16} {VERBS[verb][2]}" for verb in VERBS]
    lines += [
        f"  {'install-simulator':<16} npm ci of the access matrix's simulator into a folder (its lock ships here)",
        f"  {'checkov':<16} checkov with two caches fixed: multienv checkov <checkov's python> ARGS",
        f"  {'version':<16} the platform version installed",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb == "version":
        print(version())
        return 0
    if verb == "install-simulator":
        if len(rest) != 1:
            print("multienv install-simulator: give the folder to install it into", file=sys.stderr)
            return 2
        return install_simulator(Path(rest[0]))
    if verb == "checkov":
        return checkov(rest)
    if verb not in VERBS:
        print(f"multienv: unknown verb {verb!r}; the verbs are: {', '.join(VERBS)}", file=sys.stderr)
        return 2
    module, before, _ = VERBS[verb]
    sys.argv = [f"multienv {verb}", *before, *rest]
    try:
        runpy.run_module(f"{__package__}.{module}", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        code = done.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
