"""Connection health where people look: `_connections`, the sensor's cursor and skip message, asset metadata."""

from __future__ import annotations

import json

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import family_assets
from rutter_pipeline.defs.backfills import run_months
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import month_keys, partition_key
from rutter_pipeline.defs.resources import RutterResource
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.sync.watermarks import backfill_stream
from rutter_pipeline.warehouse.sync_state import write_watermark
from rutter_pipeline_tests.defs.test_sensor_schedule import evaluate, sensor_of


def test_unhealthy_needs_reauth_and_disabled_connections_are_recorded_and_shown(grids, instance, warehouse) -> None:
    with Sandbox(seed=5, profile="empty", rate_limit=None) as sandbox:
        books = sandbox.add_connection("QUICKBOOKS", name="Failing syncs", unhealthy=True, invoices=5)
        login = sandbox.add_connection("XERO", name="Login expired", needs_update=True)
        gone = sandbox.add_connection("NETSUITE", name="Switched off", disabled=True)
        rutter = RutterResource(
            client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=sandbox.start()
        )
        sensor = sensor_of(grids)
        result = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
        # Every month is requested, so the skip message only shows on the next tick, once they are loaded.
        # The sensor requests ranges of months; the warehouse records each month once its backfill completes.
        with warehouse.engine.begin() as db:
            for request in result.run_requests:
                for month in run_months(
                    request.tags
                    if not request.partition_key
                    else {"dagster/partition/month": str(request.partition_key).split("|")[1]}
                ):
                    for endpoint in endpoints_for(Family.ACCOUNTING):
                        write_watermark(
                            db,
                            connection_id=request.tags["rutter/connection"],
                            stream=backfill_stream(endpoint.name, month),
                            watermark_ms=0,
                        )
        again = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)

        cursor = json.loads(again.cursor)
        assert cursor["unhealthy"][books["id"]].startswith("QUICKBOOKS: unhealthy (Rutter's last completed sync: ")
        assert "re-authentication" in cursor["broken"][login["id"]]
        assert "disabled" in cursor["broken"][gone["id"]]
        message = again.skip_reason.skip_message
        assert f"ready but {books['id']} (QUICKBOOKS: unhealthy" in message
        assert login["id"] in message and gone["id"] in message

        with warehouse.engine.connect() as db:
            rows = {
                r.name: r
                for r in db.execute(
                    sa.text(
                        "select name, is_healthy, needs_update, is_disabled, last_sync_completed_at"
                        " from rutter._connections"
                    )
                )
            }
        assert (rows["Failing syncs"].is_healthy, rows["Failing syncs"].last_sync_completed_at is not None) == (
            False,
            True,
        )
        assert (rows["Login expired"].is_healthy, rows["Login expired"].needs_update) == (False, True)
        assert (rows["Switched off"].is_healthy, rows["Switched off"].is_disabled) == (False, True)

        defs = dg.Definitions(
            assets=[family_assets(Family.ACCOUNTING, partitions_def=grids[Family.ACCOUNTING])],
            jobs=[backfill_jobs(grids)[Family.ACCOUNTING]],
            resources={"rutter": rutter, "warehouse": warehouse},
        )
        month = month_keys(grids[Family.ACCOUNTING])[-1]
        run = defs.resolve_job_def("accounting_backfill").execute_in_process(
            instance=instance,
            partition_key=partition_key(books["id"], month),
            asset_selection=[dg.AssetKey(["rutter", "accounting", "invoices"])],
        )
        assert run.success
        [event] = run.get_asset_materialization_events()
        health = event.materialization.metadata["connection health"].value
        assert health.startswith("unhealthy; Rutter's last completed sync: ")
