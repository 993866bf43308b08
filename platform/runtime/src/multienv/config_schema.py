"""The words of configuration: where its files are, its error, how a schema declares a key, how files merge.

``config.py`` (the loader a service calls), ``config_files.py`` (reading and checking the files)
and ``config_diff.py`` share these; ``config.py`` re-exports them, so a schema writes
``from multienv.config import Key``. Imports nothing a bare interpreter has not loaded.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

CONFIG_DIR = "config"
SHARED = "shared"
SSM = "ssm"
SECRETS_MANAGER = "secretsmanager"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or says something the schema does not allow."""


class Key:
    """One key of a schema: its type (bool, int, float or str) and what is allowed.

    ``choices``: the values allowed; ``minimum``: the smallest number allowed; ``doc``: why the key
    is there, for the next reader.
    """

    __slots__ = ("choices", "doc", "minimum", "type")

    def __init__(
        self,
        kind: "type[bool | int | float | str]",
        *,
        choices: "tuple[object, ...] | None" = None,
        minimum: "float | None" = None,
        doc: str = "",
    ):
        if minimum is not None and kind not in (int, float):
            raise ConfigError(f"Key({kind.__name__}, minimum={minimum!r}): a minimum is for int and float keys only")
        self.type = kind
        self.choices = choices
        self.minimum = minimum
        self.doc = doc


class TableOf:
    """A table whose keys are the team's to choose, every value of one kind (a ``Key`` or a table)."""

    __slots__ = ("value",)

    def __init__(self, value: "Key | dict[str, object]"):
        self.value = value


def merge(base: "Mapping[str, object]", override: "Mapping[str, object]") -> "dict[str, object]":
    """``override`` deep-merged onto ``base``: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged
