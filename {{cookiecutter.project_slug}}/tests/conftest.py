"""The local AWS the deploy, release and retire tests share: a moto server on 127.0.0.1."""

import urllib.request

import pytest


@pytest.fixture(scope="module")
def local_aws():
    """A moto server on a free loopback port, for one test module, starting from an empty AWS.

    moto keeps its state per process, not per server: a module's server would otherwise see
    the stacks and roles an earlier module left, so each starts with moto's own reset."""
    from moto.server import ThreadedMotoServer
    from multienv_tools.local_deploy import drop_novalue_list_items

    drop_novalue_list_items()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 (loopback, built above)
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310
    yield endpoint
    server.stop()
