"""This service's own configuration keys, and the one way the service reads its configuration.

``KEYS`` declares what the service reads from ``config/*.toml`` besides the platform's keys
(``service.debug``, ``[log]``, ``[features]``, ``[secrets]``, checked by the platform). Add a key
here and in ``config/shared.toml`` (or in every environment's file) together: a key in a file
but not here, or here but in no file, is an error that names the file and the key.

A key is ``Key(type, choices=..., minimum=..., doc=...)`` inside its table; ``TableOf(...)``
declares a table whose keys are free and whose values are all of one kind. The build checks the
files against these keys and compiles the result into the artifact, so on a deployed cold start
``load()`` reads that snapshot and checks nothing again.
"""

from multienv.config import Config, Key, load_config

KEYS = {
    "service": {
        "request_timeout_seconds": Key(int, minimum=1, doc="how long one call to a dependency may take"),
        "max_retries": Key(int, minimum=0, doc="retries after a failed call to a dependency"),
    },
}


def load(env: "str | None" = None, **options: object) -> Config:
    """The checked configuration of ``env`` (the resolved environment when None), with this service's keys."""
    return load_config(env, keys=KEYS, **options)
