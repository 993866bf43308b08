"""Two projects whose slugs collide (``<slug>`` and ``<slug>-dev-x``) deployed into the same local
AWS accounts: neither reaches the other's roles, functions, artifacts or CI (``colliding_deploy.py``).

The attacker's matrix (``peer-project`` cases, every strategy, every bake) and the fence check of
the rendered patterns (``platform/tests/test_fences.py``) prove every strategy; this runs the real
deploy tool twice against one moto server, with the two projects' environments in separate
accounts (full_isolation) and all in one (single_account). With the fences put back
to a single hyphen it fails, as the collision it guards against did (the dev Project Administrator
writes into the other project's CI role; seen when it was written); the suite keeps that sabotage
offline, where it costs a second: tests/test_attack_matrix.py, single-hyphen fences.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, NODE_DIR

from multienv_template.vocabulary import naming

DRIVER = Path(__file__).with_name("colliding_deploy.py")
ENVIRONMENTS = "dev,prd"


def bake_pair(bake, strategy: str) -> tuple[Path, Path]:
    ours = DEFAULT_ANSWERS["project_slug"]
    theirs = f"{ours}-{ENVIRONMENTS.split(',')[0]}-x"  # every name of theirs in dev's single-hyphen fence
    first = bake(account_strategy=strategy, environments=ENVIRONMENTS)
    second = bake(account_strategy=strategy, environments=ENVIRONMENTS, project_slug=theirs, package_name="app")
    assert first.exit_code == 0 and second.exit_code == 0, (first.exception, second.exception)
    return first.project, second.project


def deploy_both(first: Path, second: Path, platform: Path | None = None) -> subprocess.CompletedProcess:
    """The driver in the first project's service sources and the installed platform, or ``platform``:
    a folder holding a copy of the platform's packages, which comes first (the sabotage's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MULTIENV_HOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(first / "src"), *([str(platform)] if platform else [])])
    modules = str(NODE_DIR / "node_modules")
    return subprocess.run(
        [sys.executable, str(DRIVER), modules, str(first), str(second)],
        cwd=first,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
# With dev,prd, hybrid lays the accounts out as full_isolation does (devops, one for dev, one for
# prd: only sandbox-tier environments share hybrid's nonprod account), and consolidated_nonprod as
# single_account does but for a DevOps account of its own, which every layout shares between the
# projects: the two layouts below are every way two environments can share accounts.
@pytest.mark.parametrize("strategy", ["single_account", "full_isolation"])
def test_colliding_projects_deployed_side_by_side_reach_nothing_of_each_other(bake, node_modules, strategy):
    first, second = bake_pair(bake, strategy)
    run = deploy_both(first, second)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "colliding deploy OK" in run.stdout
    theirs = naming.Naming(second.name, DEFAULT_ANSWERS["aws_region"])
    refused = [line for line in run.stdout.splitlines() if "ok:" in line and line.endswith("denied")]
    # Ours tried their CI role and functions, and they tried ours.
    assert any(theirs.ci_role("prd") in line and line.lstrip().startswith(f"ok: {first.name} ") for line in refused)
    assert any(line.lstrip().startswith(f"ok: {second.name} ") for line in refused)
