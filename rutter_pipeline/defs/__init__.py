"""The Dagster layer: assets, partitions, jobs, sensor, schedule and checks over the plain sync engine."""

from __future__ import annotations

import warnings

import dagster as dg

from rutter_pipeline.defs.assets import rutter_assets
from rutter_pipeline.defs.checks import checks_job, rutter_checks
from rutter_pipeline.defs.dbt import dbt_resource, refresh_marts_job, refresh_marts_sensor, underwriting_marts
from rutter_pipeline.defs.executors import step_executor
from rutter_pipeline.defs.incremental import incremental_jobs
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_month_partitions
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.defs.schedules import incremental_schedule
from rutter_pipeline.defs.sensors import connection_sensor
from rutter_pipeline.defs.webhook_sensor import changes_sensor, readiness_sensor
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.settings import Settings

# Dagster copies every sensor with `owners=[]` when it resolves the jobs, and then flags its own beta parameter:
# a notice about Dagster's code in every process that loads these definitions (run workers, the code server).
warnings.filterwarnings("ignore", message=r"Parameter `owners` of initializer `SensorDefinition")


def resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources, reading secrets and URLs from the environment at run time through `dg.EnvVar`."""
    max_requests, per_seconds = settings.rate_limit
    return {
        "rutter": RutterResource(
            client_id=dg.EnvVar("RUTTER_CLIENT_ID"),
            client_secret=dg.EnvVar("RUTTER_CLIENT_SECRET"),
            base_url=settings.base_url,
            api_version=settings.api_version,
            max_requests=max_requests,
            per_seconds=per_seconds,
            rate_limit_db_url=dg.EnvVar("RUTTER_DAGSTER_STORAGE_URL") if settings.dagster_storage_url else None,
        ),
        "warehouse": WarehouseResource(
            url=dg.EnvVar("WAREHOUSE_URL") if settings.warehouse_url else None,
            data_dir=str(settings.data_dir),
        ),
        "dbt": dbt_resource(),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything Dagster shows for rutter-pipeline, configured by `settings`."""
    grids = connection_month_partitions(settings.history_start)
    executor = step_executor(settings)
    backfills = list(backfill_jobs(grids, executor_def=executor).values())
    incrementals = incremental_jobs(grids, executor_def=executor)
    # The marts are PostgreSQL SQL: on a MySQL warehouse the raw tables are the product.
    marts = settings.has_marts
    return dg.Definitions(
        assets=[*rutter_assets(grids), *([underwriting_marts()] if marts else [])],
        asset_checks=[rutter_checks(freshness_hours=settings.freshness_hours)],
        jobs=[*backfills, *incrementals.values(), checks_job(), *([refresh_marts_job] if marts else [])],
        schedules=[
            incremental_schedule(family, job=job, cron=settings.incremental_cron)
            for family, job in incrementals.items()
        ],
        # The families' grids share their months, which is all the sensor reads from a grid.
        sensors=[
            connection_sensor(grids[Family.COMMERCE], backfills, source=settings.rutter_source),
            *([refresh_marts_sensor] if marts else []),
            readiness_sensor(grids[Family.COMMERCE], backfills, source=settings.rutter_source),
            changes_sensor(incrementals),
        ],
        resources=resources(settings),
    )
