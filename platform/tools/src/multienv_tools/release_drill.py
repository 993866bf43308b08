"""The release drill of ``make local-deploy``: promotion through ``live`` and rollback, in production.

After every environment has had its first release, production gets two more, each published
by its CI role, deployed and released by its Deployer Role with the deploy tool's own
commands, exactly as CI runs them:

1. a good release (the artifact plus one file, so its code is new): ``live`` moves to it,
   ``previous`` keeps the first release;
2. a bad release (the artifact with a configuration that does not load): its smoke test
   fails, the command fails saying so, and ``live`` stays on the good release;
3. ``rollback``: ``live`` goes back to ``previous``, the first release; a second rollback
   is refused, there being nothing further back.

Each step is checked against the aliases as the local AWS stores them.
"""

from __future__ import annotations

import base64
import contextlib
import io
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multienv.naming import LIVE_ALIAS, PREVIOUS_ALIAS

from . import app_artifact, deploy

if TYPE_CHECKING:
    from .local_aws import Run

# The bad release's configuration: not TOML, so loading it fails inside the function.
BROKEN_CONFIG = b"[service\n"


def variant(artifact: Path, target: Path, replace: dict[str, bytes]) -> Path:
    """A copy of the artifact with some members replaced or added (same fixed dates and modes)."""
    with zipfile.ZipFile(artifact) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename not in replace:
                out.writestr(info, source.read(info))
        for name, data in replace.items():
            info = zipfile.ZipInfo(name, date_time=app_artifact.ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    return target


def code_of(client: Any, function: str, qualifier: str) -> tuple[str, str]:
    """(version, CodeSha256 as hex) of what ``qualifier`` (an alias or a version) points to."""
    configuration = client.get_function_configuration(FunctionName=function, Qualifier=qualifier)
    return configuration["Version"], base64.b64decode(configuration["CodeSha256"]).hex()


def release_as_ci(run: Run, env_name: str, artifact: Path) -> tuple[int, str, dict[str, str]]:
    """Publish, deploy and release one artifact; (release exit code, its stderr, the Deployer's credentials)."""
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    devops_admin = run.admin(settings.devops.id)
    ci = run.assume(naming.role_arn(settings.devops.id, naming.ci_role(env.name)), devops_admin)
    run.deploy(ci, "publish", "--env", env.name, "--artifact", str(artifact))
    deployer = run.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
    run.deploy(deployer, "app", "--env", env.name, "--artifact", str(artifact))
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = deploy.main(
            ["release", "--env", env.name, "--artifact", str(artifact)], environ=run.environ(deployer), out=run.out
        )
    return code, errors.getvalue(), deployer


def check_live(run: Run, env_name: str, digest: str, deployer: dict[str, str]) -> str:
    """``live`` of the environment's function runs the artifact with this digest; return its version."""
    function = run.settings.naming.function(env_name)
    version, code = code_of(run.client("lambda", deployer), function, LIVE_ALIAS)
    run.check(code == digest, f"{env_name}: {LIVE_ALIAS} -> version {version}, the released artifact {digest[:12]}")
    return version


def drill(run: Run, artifact: Path) -> None:
    settings = run.settings
    prd = settings.production
    function = settings.naming.function(prd.name)
    first = app_artifact.sha256_of(artifact)
    run.say(f"== release drill in {prd.name}: a good release, a bad one, then rollback")
    with tempfile.TemporaryDirectory() as folder:
        good = variant(artifact, Path(folder) / "good.zip", {"RELEASE": b"drill: good\n"})
        bad = variant(artifact, Path(folder) / "bad.zip", {"config/shared.toml": BROKEN_CONFIG})

        code, errors, deployer = release_as_ci(run, prd.name, good)
        run.check(code == 0, f"{prd.name}: the good release passes its smoke test")
        lam = run.client("lambda", deployer)
        first_version, _ = code_of(lam, function, PREVIOUS_ALIAS)
        good_version = check_live(run, prd.name, app_artifact.sha256_of(good), deployer)
        run.check(
            code_of(lam, function, PREVIOUS_ALIAS)[1] == first,
            f"{prd.name}: {PREVIOUS_ALIAS} -> version {first_version}, the first release",
        )

        code, errors, _ = release_as_ci(run, prd.name, bad)
        for line in errors.strip().splitlines():
            run.say(f"   (expected) {line}")
        run.check(
            code == 1
            and "failed the smoke test" in errors
            and f"{LIVE_ALIAS} stays on version {good_version}" in errors,
            f"{prd.name}: the bad release fails its smoke test and says {LIVE_ALIAS} stays on version {good_version}",
        )
        check_live(run, prd.name, app_artifact.sha256_of(good), deployer)

    run.deploy(deployer, "rollback", "--env", prd.name)
    check_live(run, prd.name, first, deployer)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        again = deploy.main(["rollback", "--env", prd.name], environ=run.environ(deployer), out=run.out)
    run.check(again == 1 and "nothing to roll back" in stderr.getvalue(), f"{prd.name}: a second rollback is refused")
