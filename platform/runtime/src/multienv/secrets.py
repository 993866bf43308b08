"""Secret values, fetched from AWS only when first asked for, and once.

The configuration holds references (``config.SecretRef``); this module turns a reference
into its value through SSM Parameter Store or Secrets Manager, in the environment's own
account (the credentials are the function role's there) and region. boto3 is imported on the
first fetch, never at import, so the cold-start path stays standard library only.

The region: ``AWS_REGION``, which Lambda sets in every function; elsewhere (a workstation, a
test) the project's region from ``multienv.toml`` (``region_of``, the one place that decides).

Tests inject values instead of AWS: ``Secrets.from_values(config, {"app": "..."})``, or a
``fetch`` function, or a ``client_factory`` that returns stubbed boto3 clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .config import SECRETS_MANAGER, SSM, Config, SecretRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Fetch = Callable[[SecretRef], str]
# A boto3 client (or a test's stand-in): boto3 ships no types, so mypy knows a client as Any.
ClientFactory = Callable[[str], "Any"]

# Set by Lambda in every function's environment (a reserved variable); boto3 reads it too.
REGION_VARIABLE = "AWS_REGION"


def region_of(environ: Mapping[str, str] | None = None) -> str:
    """The region the secrets are read in: ``AWS_REGION`` when set (always, on Lambda), else
    ``multienv.toml``'s region (read only then, so a cold start on Lambda reads no file)."""
    import os

    environ = os.environ if environ is None else environ
    region = environ.get(REGION_VARIABLE, "").strip()
    if region:
        return region
    from .settings import settings

    return settings().region


class SecretError(LookupError):
    """A secret is not configured, or its store returned no text value."""


class Secrets:
    """The secrets of one environment's configuration, read lazily."""

    def __init__(self, refs: Mapping[str, SecretRef], fetch: Fetch):
        self._refs = dict(refs)
        self._fetch = fetch
        self._values: dict[str, str] = {}

    @classmethod
    def for_config(
        cls, config: Config, region: str | None = None, client_factory: ClientFactory | None = None
    ) -> Secrets:
        """Secrets read from AWS in ``region`` (``region_of()`` when None; clients from ``client_factory``,
        else boto3). Nothing is read until ``get``."""
        return cls(config.secrets, AwsFetch(region or region_of(), client_factory))

    @classmethod
    def from_values(cls, config: Config, values: Mapping[str, str]) -> Secrets:
        """Secrets with fixed values, for tests; every key must be one the configuration declares."""
        unknown = sorted(set(values) - set(config.secrets))
        if unknown:
            raise SecretError(
                f"no secret named {', '.join(unknown)} in {config.env}: the secrets are {cls._list(config.secrets)}"
            )

        def fetch(ref: SecretRef) -> str:
            key = next(k for k, r in config.secrets.items() if r == ref)
            if key not in values:
                raise SecretError(f"secret {key!r} ({ref.store} {ref.name}) has no injected value")
            return values[key]

        return cls(config.secrets, fetch)

    @staticmethod
    def _list(refs: Mapping[str, SecretRef]) -> str:
        return ", ".join(sorted(refs)) or "(none)"

    def reference(self, key: str) -> SecretRef:
        try:
            return self._refs[key]
        except KeyError:
            raise SecretError(f"no secret named {key!r}: the secrets are {self._list(self._refs)}") from None

    def get(self, key: str) -> str:
        """The value of secret ``key``, fetched on the first call and remembered."""
        if key not in self._values:
            self._values[key] = self._fetch(self.reference(key))
        return self._values[key]

    def __repr__(self) -> str:  # never print a value
        return f"Secrets({self._list(self._refs)}; {len(self._values)} fetched)"


class AwsFetch:
    """Reads a reference with boto3, one client per service."""

    def __init__(self, region: str, client_factory: ClientFactory | None = None):
        self.region = region
        self.client_factory = client_factory or self._boto3_client
        self._clients: dict[str, Any] = {}

    def _boto3_client(self, service: str) -> Any:
        import boto3  # here, not at import: boto3 costs more than everything else on a cold start

        return boto3.client(service, region_name=self.region)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.client_factory(service)
        return self._clients[service]

    def __call__(self, ref: SecretRef) -> str:
        if ref.store == SSM:
            value: str = self.client("ssm").get_parameter(Name=ref.name, WithDecryption=True)["Parameter"]["Value"]
            return value
        if ref.store == SECRETS_MANAGER:
            response = self.client("secretsmanager").get_secret_value(SecretId=ref.name)
            if "SecretString" not in response:
                raise SecretError(f"secret {ref.name} holds binary data; this service reads text secrets only")
            secret: str = response["SecretString"]
            return secret
        raise SecretError(f"unknown secret store {ref.store!r} for {ref.name}: the stores are {SSM}, {SECRETS_MANAGER}")
