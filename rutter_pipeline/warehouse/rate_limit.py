"""The organisation's request budget kept in PostgreSQL, so processes on any machine share one budget.

It implements `rutter.ratelimit.RateLimiter`, the protocol the API client asks before every request; the
client itself owns no tables. The database is Dagster's storage (`RUTTER_DAGSTER_STORAGE_URL`), not the
warehouse, so the warehouse migrations never run there: `ensure_tables` creates the two tables below when they
are missing (see docs/architecture.md, "Where the rate limiter's tables come from").
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from rutter_pipeline.rutter.errors import ClientConfigError
from rutter_pipeline.rutter.ratelimit import DEFAULT_LATENCY_ALLOWANCE_S, check_budget

SCHEMA = "rutter"

#: Serialises table creation between processes (the same key as the warehouse's schema lock: either one
#: running makes the other wait, which is harmless).
_SETUP_LOCK_KEY = 0x52757474

metadata = sa.MetaData(schema=SCHEMA)

#: One row per budget; locked while a grant is decided, so processes decide one at a time.
buckets = sa.Table(
    "rate_limit_buckets",
    metadata,
    sa.Column("bucket", sa.Text(), primary_key=True),
    # Epoch seconds (database clock) before which nobody may send: set after a 429.
    sa.Column("paused_until", sa.Double(), nullable=False, server_default=sa.text("0")),
)

#: The grants still inside the window, by budget, at epoch seconds of the database clock.
grants = sa.Table(
    "rate_limit_grants",
    metadata,
    sa.Column("bucket", sa.Text(), nullable=False),
    sa.Column("granted_at", sa.Double(), nullable=False),
    sa.Index("rate_limit_grants_bucket_time", "bucket", "granted_at"),
)

#: The database clock in epoch seconds, read inside the transaction that decides.
_DATABASE_NOW = sa.text("SELECT extract(epoch FROM clock_timestamp())::float8")


def ensure_tables(engine: sa.Engine, *, bucket: str) -> None:
    """Create the limiter's schema and tables when missing, and the bucket's row.

    Tables created by earlier versions of the package (same names, columns and index) are left as they are.
    """
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK_KEY})
        conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        metadata.create_all(conn, checkfirst=True)
        conn.execute(postgresql.insert(buckets).values(bucket=bucket).on_conflict_do_nothing())


class PostgresRateLimiter:
    """A sliding window of grants kept in PostgreSQL, shared by every process that uses the same bucket.

    Grants live in `rutter.rate_limit_grants(bucket, granted_at)`; each bucket has a row in
    `rutter.rate_limit_buckets` that is locked (`SELECT ... FOR UPDATE`) while a grant is decided, which
    serialises the decision across processes. Times come from the database clock, so machines with skewed
    clocks still agree. Tables are created when missing.

    Args:
        engine: an SQLAlchemy engine or URL of a PostgreSQL database.
        max_requests: the budget per window.
        per_seconds: the window length.
        bucket: budget name; use one per Rutter organisation.
        latency_allowance_s: extra seconds each grant is held (see `rutter.ratelimit`).
    """

    def __init__(
        self,
        engine: sa.Engine | str,
        *,
        max_requests: int = 500,
        per_seconds: float = 10.0,
        bucket: str = "rutter",
        latency_allowance_s: float = DEFAULT_LATENCY_ALLOWANCE_S,
    ) -> None:
        check_budget(max_requests, per_seconds, latency_allowance_s)
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        if self.engine.dialect.name != "postgresql":
            raise ClientConfigError(f"PostgresRateLimiter needs PostgreSQL, got {self.engine.dialect.name}")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self.bucket = bucket
        self._hold_s = per_seconds + latency_allowance_s
        ensure_tables(self.engine, bucket=bucket)

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        started = time.monotonic()
        while True:
            wait = self._try_grant()
            if wait <= 0:
                return time.monotonic() - started
            time.sleep(wait)

    def _try_grant(self) -> float:
        """Grant now and return 0, or return how long to wait before trying again."""
        mine = grants.c.bucket == self.bucket
        with self.engine.begin() as conn:
            paused_until: float = conn.execute(
                sa.select(buckets.c.paused_until).where(buckets.c.bucket == self.bucket).with_for_update()
            ).scalar_one()
            # Read the clock only once the bucket is ours, so grants are stamped in the order they were made.
            now: float = conn.execute(_DATABASE_NOW).scalar_one()
            conn.execute(sa.delete(grants).where(mine, grants.c.granted_at <= now - self._hold_s))
            if paused_until > now:
                return paused_until - now
            held = conn.execute(
                sa.select(sa.func.count().label("grants"), sa.func.min(grants.c.granted_at).label("oldest")).where(mine)
            ).one()
            if held.grants < self.max_requests:
                conn.execute(sa.insert(grants).values(bucket=self.bucket, granted_at=now))
                return 0.0
            return float(held.oldest) + self._hold_s - now

    def backoff(self, seconds: float) -> None:
        """Make every process sharing this bucket wait `seconds` from now."""
        pause: sa.BindParameter[float] = sa.bindparam("pause", max(seconds, 0.0), sa.Double())
        until = sa.func.extract("epoch", sa.func.clock_timestamp()) + pause
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(buckets)
                .where(buckets.c.bucket == self.bucket)
                .values(paused_until=sa.func.greatest(buckets.c.paused_until, until))
            )

    def __repr__(self) -> str:
        return f"PostgresRateLimiter({self.bucket!r}, {self.max_requests}/{self.per_seconds}s)"
