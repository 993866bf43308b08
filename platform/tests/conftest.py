"""The platform's tests: the runtime (multienv) and the tooling (multienv_tools) as installed, run
against one baked repository (``baked.ROOT``: the bake ``MULTIENV_PROJECT`` names), its infra/,
access/, workflows and the rest. They run against every bake of the matrix but those marked
``once``, which check what does not vary with the answers and run against the defaults alone.

Also here: the local AWS the deploy, release and retire tests share, a moto server on 127.0.0.1.
"""

import gc
import sys
import urllib.request
import warnings

import pytest
from baked import ROOT
from hypothesis import settings as hypothesis_settings

# parliament opens its data files at import and never closes them: imported once here, their
# ResourceWarnings collected and dropped (and its import of the deprecated pkg_resources allowed), so that `filterwarnings = error` holds for everything else.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    warnings.simplefilter("ignore", SyntaxWarning)  # its regexes' escapes, where no bytecode was written
    import parliament  # noqa: F401

    gc.collect()

# The service's package, which some tests import (its config keys, its two entry points).
sys.path.insert(0, str(ROOT / "src"))

# The property tests try 100 cases each, with no deadline: on a loaded machine (the suite runs
# bakes side by side) a slow example is not a failing one.
hypothesis_settings.register_profile("platform", max_examples=100, deadline=None)
hypothesis_settings.load_profile("platform")


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

    from multienv_tools.local_aws import prepare_moto

    prepare_moto()
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
