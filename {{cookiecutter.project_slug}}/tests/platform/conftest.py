"""The platform's tests: the runtime (multienv) and the tooling (multienv_tools) as installed, infra/ and the rest.

`make test` reruns them only when a file they read changed, and the service's own code is not
one: of ``src/<package>/`` they read only the files ``PLATFORM_TEST_READS`` in the Makefile names
(the team's config keys, with which they load this repository's ``config/``, and the two entry
points; the loader's own tests check files of their own against ``fixture_schema.py``, never
against the team's keys). The finder below holds them to it: a test here importing any other
module of the service fails, naming it, instead of going stale when that module changes.

Also here: the local AWS the deploy, release and retire tests share, a moto server on 127.0.0.1.
"""

import os
import re
import sys
import urllib.request
from importlib.abc import MetaPathFinder
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from multienv.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]

# The property tests try 100 cases each in the edit-and-check loop and 300 in CI, where time matters less.
hypothesis_settings.register_profile("workstation", max_examples=100)
hypothesis_settings.register_profile("ci", max_examples=300)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "workstation")


def platform_test_reads(makefile: Path = ROOT / "Makefile") -> frozenset[str]:
    """The modules of the service package the platform's tests may import, as the Makefile declares them."""
    found = re.search(r"^PLATFORM_TEST_READS := (.*)$", makefile.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"{makefile}: no PLATFORM_TEST_READS line; it says what the platform's tests read")
    return frozenset(found.group(1).split())


class ServiceCodeRefused(MetaPathFinder):
    """Refuses the service's modules that the Makefile does not list as read by the platform's tests."""

    def __init__(self, package: str, allowed: frozenset[str]) -> None:
        self.package, self.allowed = package, allowed

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head == self.package and rest and rest.split(".")[0] not in self.allowed:
            raise ImportError(
                f"{fullname}: the platform's tests do not rerun when the service's code changes, so they may"
                f" not import it (allowed: {', '.join(sorted(self.allowed))}, PLATFORM_TEST_READS in the"
                " Makefile); a test that reads the service belongs in tests/, beside test_artifact.py"
            )
        return None


def pytest_configure(config):
    """In a run of the platform's tests alone (as `make test` runs them), refuse the service's code.

    A run of the whole suite imports the service for its own tests, so there the rule cannot hold."""
    here = Path(__file__).parent
    asked = [(config.invocation_params.dir / arg.split("::")[0]).resolve() for arg in config.args]
    if asked and all(path.is_relative_to(here) for path in asked):
        package = load_settings(ROOT / "multienv.toml").package
        sys.meta_path.insert(0, ServiceCodeRefused(package, platform_test_reads()))


@pytest.fixture(autouse=True)
def _fresh_aws_clients():
    """Each test makes its own boto3 clients: the tools keep one per service and credentials
    (deploy_target.client), which must not carry a test's stubs or endpoint into the next."""
    from multienv_tools import deploy_target

    deploy_target.client.cache_clear()


@pytest.fixture(scope="session")
def local_aws_server():
    """One moto server on a free loopback port for the whole run: starting and stopping one costs a second."""
    from moto.server import ThreadedMotoServer
    from multienv_tools.local_aws import drop_novalue_list_items

    drop_novalue_list_items()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def local_aws(local_aws_server):
    """The local AWS, empty at the start of each test module that uses it.

    moto keeps its state per process: without moto's own reset a module would see the stacks
    and roles an earlier module left."""
    reset = urllib.request.Request(f"{local_aws_server}/moto-api/reset", method="POST")  # noqa: S310 (loopback)
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310
    return local_aws_server
