"""The environment a Dagster process of rutter-pipeline runs in, prepared from the settings.

When the settings choose it, the built-in sandbox stands in for Rutter; without RUTTER_DAGSTER_STORAGE_URL an
embedded PostgreSQL of the instance's own (`$DAGSTER_HOME/postgres/pgdata`, beside Dagster's compute logs in
`$DAGSTER_HOME/storage`) holds Dagster's storage, so a new DAGSTER_HOME is a new instance. The prepared values
are exported as environment variables, which is how `dagster.yaml` and the resources' `dg.EnvVar`s read them,
in this process and in the processes Dagster starts.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.sandbox.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.settings import SANDBOX_VARIABLE, Settings, export, shown_url

log = logging.getLogger("rutter_pipeline")

TEMPLATE = Path(__file__).with_name("dagster.yaml")
#: Where the instance's embedded PostgreSQL keeps its files, under DAGSTER_HOME.
STORAGE_DIR = "postgres"


class UnreachableDatabase(Exception):
    """A configured database refused or could not be reached; the message names the variable."""


@dataclass(frozen=True)
class Runtime:
    """What `prepared` set up: the settings as now in force, and whether the sandbox stands in for Rutter."""

    settings: Settings
    sandbox_url: str | None

    @property
    def dagster_storage_url(self) -> str:
        """Dagster's storage database, the one configured or the instance's embedded PostgreSQL."""
        assert self.settings.dagster_storage_url is not None  # `prepared` always sets it
        return self.settings.dagster_storage_url


@contextmanager
def prepared(
    settings: Settings, *, sandbox_seed: int = 7, connection_details: bool = True, webhook_url: str | None = None
) -> Iterator[Runtime]:
    """Start what the settings leave to rutter-pipeline and export the variables Dagster reads.

    Args:
        settings: the validated settings.
        sandbox_seed: seed of the sandbox's data when the sandbox stands in for Rutter.
        connection_details: whether the sandbox serves `GET /connections/access_token` (False: it answers 404,
            as Rutter does for platforms without it).
        webhook_url: where the sandbox posts its signed webhooks (none are posted when None).

    Yields:
        The runtime; the sandbox and the embedded PostgreSQL stop when the block ends.

    Raises:
        UnreachableDatabase: RUTTER_DAGSTER_STORAGE_URL cannot be connected to.
    """
    with ExitStack() as stack:
        env: dict[str, str] = {}
        sandbox_url = None
        if settings.uses_sandbox:
            sandbox_url = stack.enter_context(
                _sandbox(sandbox_seed, connection_details=connection_details, webhook_url=webhook_url)
            )
            env.update(
                RUTTER_BASE_URL=sandbox_url,
                RUTTER_CLIENT_ID=DEFAULT_CLIENT_ID,
                RUTTER_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
                **{SANDBOX_VARIABLE: "1"},
            )
        if settings.dagster_storage_url:
            storage_url = settings.dagster_storage_url
            check_reachable(storage_url, variable="RUTTER_DAGSTER_STORAGE_URL")
        else:
            storage_url = stack.enter_context(_embedded_dagster_database(settings))
        if settings.warehouse_url:
            env["WAREHOUSE_URL"] = settings.warehouse_url  # every reader gets the form with the driver named
        env.update(
            DAGSTER_HOME=str(settings.dagster_home),
            RUTTER_DAGSTER_STORAGE_URL=psycopg2_url(storage_url),
            RUTTER_MAX_CONCURRENT_RUNS=str(settings.max_concurrent_runs),
            RUTTER_PIPELINE_DATA_DIR=str(settings.data_dir),
        )
        write_dagster_yaml(settings.dagster_home)
        export(env)
        in_force = replace(settings, dagster_storage_url=env["RUTTER_DAGSTER_STORAGE_URL"])
        if sandbox_url is not None:
            in_force = replace(
                in_force, base_url=sandbox_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
            )
        yield Runtime(settings=in_force, sandbox_url=sandbox_url)


def rutter_client(settings: Settings, **options: Any) -> RutterClient:
    """The Rutter client the settings describe (the built-in sandbox's once `prepared` has started it).

    Args:
        settings: the settings in force (`Runtime.settings`).
        **options: further `RutterClient` arguments (e.g. `rate_limiter`, `page_size`).
    """
    if settings.client_id is None or settings.client_secret is None:
        raise ValueError("no Rutter credentials: prepare the runtime first when the sandbox stands in for Rutter")
    return RutterClient(
        base_url=settings.base_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        api_version=settings.api_version,
        **options,
    )


def check_reachable(url: str, *, variable: str) -> None:
    """Connect once, so an unreachable host or a wrong password is one line naming the variable.

    Raises:
        UnreachableDatabase: with the URL (password hidden) and the server's or driver's first line.
    """
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        raise UnreachableDatabase(unreachable_message(variable, url, exc)) from None
    finally:
        engine.dispose()


def unreachable_message(variable: str, url: str, exc: BaseException) -> str:
    """`<variable>: cannot connect to <url without password>: <first line of the cause>; what to check`."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    # libpq puts the interesting part ("password authentication failed", "Connection refused") last.
    detail = next(
        (
            line
            for line in reversed(lines)
            if "FATAL" in line
            or "refused" in line
            or "timeout" in line
            or "could not translate" in line
            or "Access denied" in line
            or "Unknown database" in line
        ),
        reason,
    )
    return (
        f"{variable}: cannot connect to {shown_url(url)}: {detail}; check the host, port, user, password and "
        "database name, and that the server accepts connections from here"
    )


def write_dagster_yaml(dagster_home: Path) -> Path:
    """Copy the instance configuration into DAGSTER_HOME unless the user already keeps one there."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(TEMPLATE, target)
    return target


def psycopg2_url(url: str) -> str:
    """The URL with the psycopg2 driver named, which dagster-postgres needs under SQLAlchemy 2."""
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


@contextmanager
def _sandbox(seed: int, *, connection_details: bool, webhook_url: str | None) -> Iterator[str]:
    from rutter_pipeline.sandbox import Sandbox

    sandbox = Sandbox(
        seed=seed,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        connection_details=connection_details,
        webhook_url=webhook_url,
    )
    url = sandbox.start(host="127.0.0.1", port=0)
    log.info("the built-in sandbox serves %s", url)
    try:
        yield url
    finally:
        sandbox.stop()


@contextmanager
def _embedded_dagster_database(settings: Settings) -> Iterator[str]:
    from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

    # Under DAGSTER_HOME: the instance is DAGSTER_HOME, whatever directory the command starts in.
    server = EmbeddedPostgres(settings.dagster_home / STORAGE_DIR)
    try:
        yield server.url(database="dagster")
    finally:
        server.stop()


class SyncAlreadyRunning(Exception):
    """Another `rutter-pipeline sync` holds this instance's sync lock."""


#: The key of the PostgreSQL advisory lock one `sync` holds in Dagster's storage (any fixed 64-bit number).
SYNC_LOCK_KEY = 0x52_55_54_54_45_52_53  # "RUTTERS"


@contextmanager
def one_sync_at_a_time(storage_url: str) -> Iterator[None]:
    """Hold the instance's sync lock for the block: a session advisory lock in Dagster's storage database.

    Two syncs of one instance would backfill the same months twice and race on the marts. The lock belongs to
    a database session, so the server frees it as soon as the holding process dies, however it dies.

    Raises:
        SyncAlreadyRunning: another process holds the lock.
        UnreachableDatabase: the storage database cannot be connected to.
    """
    engine = sa.create_engine(storage_url, poolclass=sa.NullPool)
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise UnreachableDatabase(unreachable_message("RUTTER_DAGSTER_STORAGE_URL", storage_url, exc)) from None
        with conn:
            held: bool = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": SYNC_LOCK_KEY}).scalar_one()
            conn.commit()
            if not held:
                raise SyncAlreadyRunning(_holder(conn))
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def _holder(conn: sa.Connection) -> str:
    """Which process holds the sync lock (its PostgreSQL backend's client address and start time), if visible."""
    row = conn.execute(
        sa.text(
            "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND (l.classid::bigint << 32 | l.objid::bigint) = :key"
        ),
        {"key": SYNC_LOCK_KEY},
    ).first()
    if row is None:
        return "another rutter-pipeline sync is running on this instance"
    since = row.backend_start.strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"another rutter-pipeline sync has been running on this instance since {since}"
