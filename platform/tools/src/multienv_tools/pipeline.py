"""The deployment pipeline: which environment CI deploys to, on what event, after which others.

The rules, decided here once:

- Every run builds the artifact once (after the repository's checks); every environment
  job deploys that same artifact.
- Sandbox-tier environments sit outside the promotion chain: they are deployed only by a
  manual dispatch that names them.
- The other environments form the chain in ``multienv.toml`` order. Each one runs after
  every earlier environment of the chain succeeded, on a push to the default branch or a
  dispatch with target ``promote``.
- Production, last in the chain, also requires the run to be on the default branch.

``.github/workflows/deploy.yml`` is laid out from ``stages()`` (the template renders it from
this very file) and ``platform/tests/test_workflows.py`` checks the workflow against it. Standard
library and ``multienv.model`` only, with no package-relative import: the template loads this
file by path (its loader registers the package).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from multienv.model import Tier

DEFAULT_BRANCH = "main"
# The workflow files whose jobs assume AWS roles: the CI roles trust deploy-environment.yml's jobs
# (the called file of a reusable workflow is what a token's job_workflow_ref names), the drift
# role drift.yml's.
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
DEPLOY_ENVIRONMENT_WORKFLOW = ".github/workflows/deploy-environment.yml"
DRIFT_WORKFLOW = ".github/workflows/drift.yml"
DEFAULT_REF = f"refs/heads/{DEFAULT_BRANCH}"
# The refs a non-production environment may be deployed from: any branch (no tag, no pull request).
ANY_BRANCH = "refs/heads/*"
CHECKS_JOB = "checks"
BUILD_JOB = "build"
ARTIFACT_NAME = "app"
ARTIFACT_PATH = "dist/app.zip"
# Dispatch target that runs the promotion chain (a sandbox environment's name deploys only it).
PROMOTE = "promote"

SANDBOX = Tier.SANDBOX
PRODUCTION = Tier.PRODUCTION

# GitHub expressions, the building blocks of each job's `if:`.
DISPATCHED = "github.event_name == 'workflow_dispatch'"
PROMOTING = f"(github.event_name == 'push' || inputs.target == '{PROMOTE}')"
# The same branch the push trigger names: one definition, so production is never unreachable.
ON_DEFAULT_BRANCH = f"github.ref == 'refs/heads/{DEFAULT_BRANCH}'"

# Artifact attestations: GitHub offers them to public repositories on every plan, and to private
# and internal ones only on GitHub Enterprise Cloud; elsewhere the attest step fails. So the build
# attests, and each deploy verifies, where the repository is public (the event payload says so) or
# where the repository variable below is "true" (Enterprise Cloud sets it); the SHA-256 check of
# the artifact runs in every case. One expression for both steps: a build that attests is verified.
ATTESTATIONS_VARIABLE = "ARTIFACT_ATTESTATIONS"
ATTESTING = f"github.event.repository.visibility == 'public' || vars.{ATTESTATIONS_VARIABLE} == 'true'"


@dataclass(frozen=True)
class Stage:
    """One environment's deploy job."""

    environment: str
    tier: str
    after: tuple[str, ...]  # environments that must have succeeded first
    condition: str

    @property
    def job(self) -> str:
        return job_name(self.environment)

    @property
    def needs(self) -> tuple[str, ...]:
        """The job's ``needs:``: the build, then the earlier environments' jobs."""
        return (BUILD_JOB, *(job_name(env) for env in self.after))

    @property
    def in_chain(self) -> bool:
        return self.tier != SANDBOX

    @property
    def is_production(self) -> bool:
        return self.tier == PRODUCTION

    @property
    def trusted_ref(self) -> str:
        """The git refs whose runs the environment's CI role trusts: production the default branch
        only (in the trust, not only in this job's ``if:``), the others any branch."""
        return DEFAULT_REF if self.is_production else ANY_BRANCH

    @property
    def when(self) -> str:
        """The rule in words, for people (docs/ci.md)."""
        if not self.in_chain:
            return f"manual run with target `{self.environment}` only, from any branch"
        waits = f"after {', '.join(self.after)} succeeded" if self.after else "first in the chain"
        if self.is_production:
            return f"push to `{DEFAULT_BRANCH}` or manual run with target `{PROMOTE}`, {waits}; `{DEFAULT_BRANCH}` only"
        return f"push to `{DEFAULT_BRANCH}` or manual run with target `{PROMOTE}` from any branch, {waits}"


def job_name(environment: str) -> str:
    return f"deploy-{environment}"


def stages(environments: Iterable[tuple[str, str]]) -> list[Stage]:
    """``[(name, tier)]`` in promotion order -> one ``Stage`` per environment, same order.

    Tiers may be given as strings or as ``model.Tier`` (a ``StrEnum``).
    """
    result: list[Stage] = []
    chain: list[str] = []
    for name, tier in environments:
        tier = str(tier)
        if tier == SANDBOX:
            condition = f"{DISPATCHED} && inputs.target == '{name}'"
            after: tuple[str, ...] = ()
        else:
            condition = f"{PROMOTING} && {ON_DEFAULT_BRANCH}" if tier == PRODUCTION else PROMOTING
            after = tuple(chain)
            chain.append(name)
        result.append(Stage(name, tier, after, condition))
    return result


def dispatch_targets(environments: Iterable[tuple[str, str]]) -> list[str]:
    """The deploy workflow's manual-run choices: the promotion chain, or one environment outside it."""
    return [PROMOTE, *(s.environment for s in stages(environments) if not s.in_chain)]
