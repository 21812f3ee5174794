"""Organisation credentials: HTTP Basic auth from the client id and secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from requests.auth import HTTPBasicAuth

from rutter_pipeline.rutter.errors import ClientConfigError


@dataclass(frozen=True)
class Credentials:
    """The organisation's client id and secret; the secret is kept out of `repr` and messages."""

    client_id: str
    client_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ClientConfigError(f"Rutter {name} must be a non-empty string")
        if ":" in self.client_id:
            # Basic auth joins id and secret with ':'; an id containing one cannot be sent unambiguously.
            raise ClientConfigError("Rutter client_id must not contain ':'")

    def basic_auth(self) -> HTTPBasicAuth:
        """`requests` auth sending `Authorization: Basic base64(client_id:client_secret)`."""
        return HTTPBasicAuth(self.client_id, self.client_secret)
