"""The sandbox's connections: which platform, which state, and how many objects of each endpoint."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from rutter_pipeline.rutter.timeutil import ms_to_iso
from rutter_pipeline.sandbox.ids import stable_uuid


@dataclass
class SandboxConnection:
    """One merchant connection served by the sandbox.

    Attributes:
        index: position in the sandbox (the store's connection number).
        platform: Rutter platform name (`SHOPIFY`, `QUICKBOOKS`, ...).
        family: `commerce` or `accounting`.
        counts: number of generated objects per endpoint path.
        family_rank: position among connections of the same family (drives ids shared across endpoints).
    """

    index: int
    seed: int
    platform: str
    family: str
    name: str
    counts: dict[str, int]
    family_rank: int
    created_ms: int
    last_sync_ms: int
    ready: bool = True
    needs_update: bool = False
    disabled: bool = False
    #: Ready and readable, but Rutter reports its platform syncs failing (`is_healthy: false`).
    unhealthy: bool = False
    currency: str = "USD"
    org_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def id(self) -> str:
        """The connection id (a UUID)."""
        return stable_uuid(self.seed, "connection", self.index, self.platform)

    @functools.cached_property
    def access_token(self) -> str:
        """The connection's access token (a UUID, as Rutter issues them)."""
        return stable_uuid(self.seed, "access-token", self.index, self.platform)

    @property
    def status(self) -> str:
        """Connection status as `GET /connections` reports it."""
        if self.disabled:
            return "disabled"
        if self.needs_update:
            return "needs_reauth"
        if not self.ready:
            return "not_ready"
        return "unhealthy" if self.unhealthy else "active"

    def envelope(self) -> dict[str, str]:
        """The `connection` object of list responses."""
        return {"id": self.id, "orgId": self.org_id, "platform": self.platform}

    def listing(self) -> dict[str, Any]:
        """The object `GET /connections` returns for this connection."""
        return {
            "id": self.id,
            "access_token": self.access_token,
            "link_url": f"https://link.rutterapi.com/connection/{self.id}",
            "platform": self.platform,
            "status": self.status,
            "name": self.name,
            "created_at": ms_to_iso(self.created_ms),
            "updated_at": ms_to_iso(self.last_sync_ms),
        }
