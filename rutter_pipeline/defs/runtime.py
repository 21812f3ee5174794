"""The environment a Dagster process of rutter-pipeline runs in, prepared from the settings.

Without Rutter credentials the built-in sandbox stands in for Rutter; without RUTTER_DAGSTER_STORAGE_URL the
embedded PostgreSQL holds Dagster's storage (database `dagster`). The prepared values are exported as
environment variables, which is how `dagster.yaml` and the resources' `dg.EnvVar`s read them, in this process
and in the processes Dagster starts.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from rutter_pipeline.settings import Settings

log = logging.getLogger("rutter_pipeline")

TEMPLATE = Path(__file__).with_name("dagster.yaml")
SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"


@dataclass(frozen=True)
class Runtime:
    """What `prepared` set up: the settings as now in force, and whether the sandbox stands in for Rutter."""

    settings: Settings
    sandbox_url: str | None


@contextmanager
def prepared(settings: Settings, *, sandbox_seed: int = 7, webhook_url: str | None = None) -> Iterator[Runtime]:
    """Start what the settings leave to rutter-pipeline and export the variables Dagster reads.

    Args:
        settings: the validated settings.
        sandbox_seed: seed of the sandbox's data when the sandbox stands in for Rutter.
        webhook_url: where the sandbox posts its signed webhooks (none are posted when None).

    Yields:
        The runtime; the sandbox and the embedded PostgreSQL stop when the block ends.
    """
    with ExitStack() as stack:
        env: dict[str, str] = {}
        sandbox_url = None
        if settings.uses_sandbox:
            sandbox_url = stack.enter_context(_sandbox(sandbox_seed, webhook_url))
            env.update(RUTTER_BASE_URL=sandbox_url, RUTTER_CLIENT_ID=SANDBOX_CLIENT_ID,
                       RUTTER_CLIENT_SECRET=SANDBOX_CLIENT_SECRET)
        storage_url = settings.dagster_storage_url or stack.enter_context(_embedded_dagster_database(settings))
        env.update(
            DAGSTER_HOME=str(settings.dagster_home),
            RUTTER_DAGSTER_STORAGE_URL=psycopg2_url(storage_url),
            RUTTER_MAX_CONCURRENT_RUNS=str(settings.max_concurrent_runs),
            RUTTER_PIPELINE_DATA_DIR=str(settings.data_dir),
        )
        write_dagster_yaml(settings.dagster_home)
        os.environ.update(env)
        yield Runtime(settings=Settings.from_env(os.environ), sandbox_url=sandbox_url)


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
def _sandbox(seed: int, webhook_url: str | None) -> Iterator[str]:
    from rutter_pipeline.sandbox import Sandbox

    sandbox = Sandbox(seed=seed, client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET,
                      webhook_url=webhook_url)
    url = sandbox.start(host="127.0.0.1", port=0)
    log.info("no Rutter credentials set: the built-in sandbox serves %s", url)
    try:
        yield url
    finally:
        sandbox.stop()


@contextmanager
def _embedded_dagster_database(settings: Settings) -> Iterator[str]:
    from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir)
    try:
        yield server.url(database="dagster")
    finally:
        server.stop()
