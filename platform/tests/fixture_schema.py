"""The service keys of the platform's configuration tests: a fixed stand-in for a team's ``schema.py``.

The loader's and ``make config-diff``'s tests write their own ``shared.toml`` and environment files
and check them against these keys, never against ``src/<package>/schema.py``: a team adds, renames
or removes its keys (and tables) there and in ``config/`` without touching a platform test.
"""

from multienv.config import Key

KEYS = {
    "service": {
        "request_timeout_seconds": Key(int, minimum=1, doc="how long one call to a dependency may take"),
        "max_retries": Key(int, minimum=0, doc="retries after a failed call to a dependency"),
    },
}
