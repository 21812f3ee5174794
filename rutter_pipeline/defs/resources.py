"""Dagster resources: the Rutter client and the warehouse, configured from the environment.

The client secret reaches the resource only through `dg.EnvVar`, so Dagster stores the variable's name, never
its value. Every run of one instance shares the organisation's request budget through a rate limiter kept in
PostgreSQL (the instance's database), because runs are separate processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field, PrivateAttr

from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.warehouse import schema
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.rate_limit import PostgresRateLimiter


class RutterResource(dg.ConfigurableResource):
    """A `RutterClient` for one run, sharing the organisation's rate limit with every other run.

    Attributes:
        client_id: the organisation's client id.
        client_secret: the organisation's client secret (configure with `dg.EnvVar`).
        base_url: the API's base URL ending in `/versioned`.
        api_version: sent as `X-Rutter-Version`.
        max_requests: the organisation's budget: this many requests ...
        per_seconds: ... per this many seconds.
        rate_limit_db_url: PostgreSQL holding the shared limiter; None limits this process only.
    """

    client_id: str
    client_secret: str = Field(repr=False)
    base_url: str
    api_version: str = "2024-08-31"
    max_requests: int = 500
    per_seconds: float = 10.0
    rate_limit_db_url: str | None = Field(default=None, repr=False)

    _client: RutterClient | None = PrivateAttr(default=None)
    _limiter_engine: sa.Engine | None = PrivateAttr(default=None)
    _connections: dict[str, Connection] | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Build the client once per run."""
        self._client = self._build_client()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close the HTTP session and the limiter's database connections."""
        if self._client is not None:
            self._client.close()
        if self._limiter_engine is not None:
            self._limiter_engine.dispose()

    @property
    def client(self) -> RutterClient:
        """The run's client (built on first use outside a run, e.g. in a sensor)."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def connection(self, connection_id: str) -> Connection:
        """The connection with this id, looked up once per run.

        Raises:
            LookupError: Rutter no longer lists the connection.
        """
        if self._connections is None:
            self._connections = {c.id: c for c in self.client.list_connections()}
        found = self._connections.get(connection_id)
        if found is None:
            raise LookupError(f"Rutter does not list connection {connection_id!r} (removed from the organisation?)")
        return found

    def _build_client(self) -> RutterClient:
        if self.rate_limit_db_url:
            self._limiter_engine = sa.create_engine(self.rate_limit_db_url, pool_size=1, pool_pre_ping=True)
            limiter: Any = PostgresRateLimiter(
                self._limiter_engine,
                max_requests=self.max_requests,
                per_seconds=self.per_seconds,
                # One budget per organisation: runs of the same client id share it.
                bucket=self.client_id,
            )
        else:
            limiter = SlidingWindowRateLimiter(max_requests=self.max_requests, per_seconds=self.per_seconds)
        return RutterClient(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            api_version=self.api_version,
            rate_limiter=limiter,
        )


class WarehouseResource(dg.ConfigurableResource):
    """The database Rutter objects are copied into.

    Attributes:
        url: SQLAlchemy URL of PostgreSQL or MySQL (configure with `dg.EnvVar`); None for the embedded
            PostgreSQL.
        data_dir: where the embedded PostgreSQL keeps its files.
    """

    url: str | None = Field(default=None, repr=False)
    data_dir: str | None = None

    _engine: sa.Engine | None = PrivateAttr(default=None)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close the run's database connections."""
        if self._engine is not None:
            self._engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        """The warehouse engine, created on first use with the schema brought up to date."""
        if self._engine is None:
            data_dir = Path(self.data_dir) if self.data_dir else None
            engine = warehouse_engine(self.url, data_dir=data_dir)
            # Cheap when current (one version lookup under a lock), and a fresh database works without a setup step.
            schema.upgrade(engine)
            self._engine = engine
        return self._engine
