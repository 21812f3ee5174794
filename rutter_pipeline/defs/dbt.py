"""The dbt underwriting marts as Dagster assets, downstream of the Rutter assets, refreshed after every sync.

Each dbt source `rutter.<table>` is the Rutter asset `rutter/<family>/<object>` of the catalog, so the asset
graph runs from the API to the marts; dbt tests become asset checks. The marts refresh through the
`refresh_marts` job, requested by a sensor once sync runs have finished: an eager automation condition would
never fire here, because the Rutter assets are partitioned by (connection, month) and the marts are not.

Importing this module runs no dbt: the assets are built from dbt's manifest by `underwriting_marts()`, which
the definitions call only when the marts are in (a PostgreSQL warehouse). The manifest is made by dagster-dbt's
project preparation (`prepare_dbt_project`); see "Where dbt's manifest comes from" in docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from dagster_dbt import DagsterDbtProjectPreparer, DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from rutter_pipeline.defs.assets import asset_key
from rutter_pipeline.defs.jobs import PULL_TAG
from rutter_pipeline.defs.resources import WarehouseResource
from rutter_pipeline.rutter import catalog
from rutter_pipeline.settings import dbt_variable, dbt_vars, export

#: The dbt project, kept beside the package in the repository.
DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_models"

#: The dbt source holding the raw tables (see `_rutter__sources.yml`).
RUTTER_SOURCE = "rutter"

#: The files the marts are built from (their content is part of `sources_state`).
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
_PROJECT_DIRS = ("models", "macros", "tests")

#: Sync runs (tag `rutter/pull`) whose success makes the marts out of date.
SYNC_PULLS = ("backfill", "incremental")
_ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]

#: Where the state the marts were last built from is kept, in the marts' own schema (see `profiles.yml`).
BUILT_FROM_TABLE = "_marts_built_from"

#: libpq options for dbt's connections: PostgreSQL checks every 2 s that dbt is still there while a query
#: runs, so a killed build does not leave its `CREATE TABLE AS` running in the server.
DBT_PGOPTIONS = "-c client_connection_check_interval=2000"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_env_from_url(url: sa.URL | str) -> dict[str, str]:
    """The environment variables `dbt_models/profiles.yml` reads, for a warehouse URL.

    Args:
        url: SQLAlchemy URL of the warehouse; the host may also come as a `host` query parameter (a Unix
            socket directory, as the embedded PostgreSQL gives).

    Returns:
        `RUTTER_DBT_HOST`, `RUTTER_DBT_PORT`, `RUTTER_DBT_USER`, `RUTTER_DBT_PASSWORD`, `RUTTER_DBT_DBNAME`.

    Raises:
        ValueError: the URL is not PostgreSQL (the marts use PostgreSQL SQL) or names no database.
    """
    parsed = sa.make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"the dbt marts need a PostgreSQL warehouse; this warehouse is {parsed.get_backend_name()!r}")
    if not parsed.database:
        raise ValueError("the warehouse URL names no database")
    query = {key: value if isinstance(value, str) else value[0] for key, value in parsed.query.items()}
    return {
        "RUTTER_DBT_HOST": query.get("host") or parsed.host or "127.0.0.1",
        "RUTTER_DBT_PORT": str(query.get("port") or parsed.port or 5432),
        "RUTTER_DBT_USER": parsed.username or "postgres",
        "RUTTER_DBT_PASSWORD": parsed.password or "",
        "RUTTER_DBT_DBNAME": parsed.database,
    }


def _project_files() -> list[Path]:
    paths = [DBT_PROJECT_DIR / name for name in _PROJECT_FILES]
    for folder in _PROJECT_DIRS:
        paths += (DBT_PROJECT_DIR / folder).rglob("*")
    return [path for path in paths if path.is_file()]


class _PreparerBesidePython(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (its guard against processes preparing at the same time, `dbt deps` for a project
    with packages), whose `dbt parse` runs the dbt installed beside this Python: dagster-dbt's own looks for `dbt`
    on PATH, which a virtualenv that is not activated (`.venv/bin/rutter-pipeline`) does not put there."""

    def _prepare_manifest(self, project: DbtProject) -> None:
        dbt_resource(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()


_preparer = _PreparerBesidePython()


def prepare_dbt_project(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project into `manifest.json` with dagster-dbt's project preparation.

    Runs `dbt parse` (a few seconds: dbt starts, then re-reads only the files that changed), so the manifest
    reflects the models as they are now. Several processes may call it at once; they take turns.

    Returns:
        The path of `manifest.json`.

    Raises:
        DagsterDbtCliRuntimeError: `dbt parse` failed; the message carries dbt's error.
    """
    _preparer.prepare(project)
    return project.manifest_path


class RutterDbtTranslator(DagsterDbtTranslator):
    """Maps dbt sources to the Rutter assets and groups models by layer (staging, intermediate, marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """`rutter/<family>/<object>` for a raw Rutter table, `<layer>/<model>` for a model (`marts/fct_orders`)."""
        if dbt_resource_props["resource_type"] == "source" and dbt_resource_props["source_name"] == RUTTER_SOURCE:
            return asset_key(catalog.get(dbt_resource_props["name"]))
        layer = _layer(dbt_resource_props)
        if layer is None:
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """`dbt_staging`, `dbt_intermediate` or `dbt_marts`, from the model's folder."""
        layer = _layer(dbt_resource_props)
        return f"dbt_{layer}" if layer else None


def _layer(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """The top folder under `models/` (staging, intermediate, marts); fqn is [project, folder, ..., name]."""
    fqn = dbt_resource_props.get("fqn") or []
    return fqn[1] if dbt_resource_props["resource_type"] == "model" and len(fqn) > 2 else None


def marts_schema() -> str:
    """The schema the marts are built in (`RUTTER_DBT_SCHEMA`, as `profiles.yml` reads it)."""
    return dbt_variable("RUTTER_DBT_SCHEMA", "analytics")


def sources_state(engine: sa.Engine, *, today: date | None = None) -> str:
    """What the marts would be built from: every raw table's row count and newest `_synced_at`, the dbt
    project's files and the day (aging and DSO are computed as of today), as one digest.

    Every write to a raw table (insert, update, soft delete) sets `_synced_at`, so an unchanged digest means
    a build would give the same marts.
    """
    tables = sorted(endpoint.name for family in catalog.Family for endpoint in catalog.endpoints_for(family))
    query = " union all ".join(f"select '{name}', count(*), max(_synced_at) from rutter.{name}" for name in tables)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(sa.text(query)):
            digest.update(repr(tuple(row)).encode())
    for path in sorted(_project_files()):
        digest.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode() + path.read_bytes())
    digest.update(json.dumps(dbt_vars()).encode())  # another reporting currency, other marts
    digest.update((today or datetime.now(UTC).date()).isoformat().encode())
    return digest.hexdigest()


def last_built_from(engine: sa.Engine) -> str | None:
    """The `sources_state` the marts were last built from, or None if they never were (by this project)."""
    with engine.connect() as conn:
        exists = conn.execute(sa.text("select to_regclass(:t)"), {"t": f"{marts_schema()}.{BUILT_FROM_TABLE}"})
        if exists.scalar_one() is None:
            return None
        return conn.execute(sa.text(f"select state from {marts_schema()}.{BUILT_FROM_TABLE}")).scalar_one_or_none()


def record_built_from(engine: sa.Engine, state: str) -> None:
    """Remember in the warehouse that the marts were built from `state`."""
    table = f"{marts_schema()}.{BUILT_FROM_TABLE}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"create schema if not exists {marts_schema()}"))
        conn.execute(
            sa.text(f"create table if not exists {table} (state text not null, built_at timestamptz not null)")
        )
        conn.execute(sa.text(f"delete from {table}"))
        conn.execute(sa.text(f"insert into {table} values (:state, now())"), {"state": state})


def dbt_env(url: sa.URL | str) -> dict[str, str]:
    """The environment of a dbt build against the warehouse at `url`: the profile's variables and the
    connection options that stop the server's queries when dbt dies (`DBT_PGOPTIONS`)."""
    options = " ".join(filter(None, [dbt_variable("PGOPTIONS"), DBT_PGOPTIONS]))
    return {**dbt_env_from_url(url), "PGOPTIONS": options}


@cache
def underwriting_marts() -> dg.AssetsDefinition:
    """The dbt models as assets, their tests as checks, from dbt's manifest (prepared first if there is none).

    Built on the first call, not at import: the definitions ask for it only when the marts are in.
    """
    manifest = dbt_project.manifest_path if dbt_project.manifest_path.exists() else prepare_dbt_project()

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=RutterDbtTranslator(),
        name="underwriting_marts",
    )
    # `context` unannotated: Dagster checks the annotation's class, which postponed annotations turn into a string.
    def build_marts(context, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator[Any]:  # noqa: ANN001
        """Build the dbt staging views, intermediate models and underwriting marts, and run their tests.

        Nothing is built when the raw tables, the dbt project and the day are those of the last build (a sync
        that wrote nothing, or `dev` starting after `sync`); the warehouse keeps that state, not the run history.
        """
        engine = warehouse.engine
        state = sources_state(engine)
        if state == last_built_from(engine):
            context.log.info("The raw tables have not changed since the marts were last built; nothing to build.")
            return
        # dbt reads its profile's variables from the environment it inherits when it is started.
        previous = export(dbt_env(engine.url))
        try:
            invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars())], context=context)
        finally:
            export(previous)
        yield from invocation.stream()
        if invocation.is_successful():
            record_built_from(engine, state)

    return build_marts


def dbt_resource(project: DbtProject = dbt_project) -> DbtCliResource:
    """The `dbt` resource the dbt assets need (the warehouse comes from the `warehouse` resource).

    It runs the dbt installed beside this Python, so it works when the virtualenv is not on PATH.
    """
    beside_python = Path(sys.executable).parent / "dbt"
    return DbtCliResource(
        project_dir=project,
        profiles_dir=os.fspath(project.profiles_dir),
        dbt_executable=os.fspath(beside_python) if beside_python.exists() else "dbt",
    )


refresh_marts_job = dg.define_asset_job(
    name="refresh_marts",
    # Every dbt asset (dagster-dbt gives them the kind `dbt`), selected without reading the manifest.
    selection=dg.AssetSelection.kind("dbt"),
    executor_def=dg.in_process_executor,
    description="Rebuild the dbt underwriting marts from the raw Rutter tables and run the dbt tests.",
)


def _finished_sync_runs(instance: dg.DagsterInstance, *, after: datetime | None) -> list[dg.RunRecord]:
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.SUCCESS], tags={PULL_TAG: list(SYNC_PULLS)}, updated_after=after
            ),
            limit=1000,
        )
    )


def _active_sync_run_count(instance: dg.DagsterInstance) -> int:
    return instance.get_runs_count(filters=dg.RunsFilter(statuses=_ACTIVE_STATUSES, tags={PULL_TAG: list(SYNC_PULLS)}))


@dg.sensor(
    job=refresh_marts_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refresh the marts once sync runs have succeeded and no other sync run is still going.",
)
def refresh_marts_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Request one `refresh_marts` run per burst of successful sync runs.

    A backfill is many runs (one per connection and month); waiting until none is queued or running turns
    the burst into one refresh instead of one per run. The cursor is the end time of the newest sync run
    already covered.
    """
    after = datetime.fromtimestamp(float(context.cursor), tz=UTC) if context.cursor else None
    ended = [r.end_time for r in _finished_sync_runs(context.instance, after=after) if r.end_time is not None]
    newest = max((end for end in ended if after is None or end > after.timestamp()), default=None)
    if newest is None:
        return dg.SkipReason("no sync run has succeeded since the marts were last requested")
    active = _active_sync_run_count(context.instance)
    if active:
        return dg.SkipReason(f"waiting for {active} sync run(s) to finish before refreshing the marts")
    context.update_cursor(str(newest))
    return dg.RunRequest(run_key=f"after-sync-{newest}", tags={"rutter/refresh": "after-sync"})
