"""What the AWS Lambda Python runtime has already imported when it imports a handler.

The runtime's entry point is ``awslambdaric`` (aws/aws-lambda-python-runtime-interface-client,
``awslambdaric/__main__.py`` and ``bootstrap.py``, release 4.0.1): ``bootstrap.py`` imports
``importlib, json, logging, os, sys, time, traceback`` and its siblings add ``decimal, math``
(``lambda_runtime_marshaller.py``) and ``enum`` (``lambda_runtime_log_utils.py``), all at module
level, before ``_get_handler`` calls ``importlib.import_module`` on the handler. The runtime runs
Python with site enabled. A handler's cold start is what it imports past these: the budget of
``benchmarks/bench_coldstart.py`` and the rule of ``tests/test_snapshot.py`` both start from here.
(The runtime also loads its own ``simplejson`` and C extension; they are not in the standard
library, so a bare interpreter here cannot stand in for them, and no handler should rely on them.)
"""

# The standard-library modules the runtime imports by name; importing them pulls in what they need.
PRELOADS = ("decimal", "enum", "importlib", "json", "logging", "math", "os", "sys", "time", "traceback")
# Modules a handler may add at no measurable cost: ``from __future__ import annotations`` is a
# compiler directive, and its module holds a few constants.
NEGLIGIBLE = ("__future__",)


def preload_statement() -> str:
    """One ``import`` line that puts an interpreter where the runtime is before the handler."""
    return "import " + ", ".join(PRELOADS)
