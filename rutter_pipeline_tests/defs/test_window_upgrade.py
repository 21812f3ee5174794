"""A warehouse backfilled when accounting months meant `last_synced_at` months is backfilled again, once.

Before the change the warehouse recorded each completed backfill window as `backfill:<table>:<start>-<end>`;
now a loaded month is `backfill:<table>:<YYYY-MM>` of a documents month. The old records do not count, so the
sensor and `rutter-pipeline sync` backfill every month again under the new meaning: rows are keyed by id, so
nothing is duplicated, and each month's new materialization reports that month's documents.
"""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import family_assets
from rutter_pipeline.defs.backfills import plan_backfills
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sync import backfill
from rutter_pipeline.sync.watermarks import backfill_stream
from rutter_pipeline.warehouse.sync_state import write_watermark


def test_accounting_months_loaded_under_the_old_meaning_are_loaded_again_without_duplicates(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    books = next(c for c in rutter.client.list_connections() if c.platform == "QUICKBOOKS")
    months = month_keys(grids[Family.ACCOUNTING])
    invoices = catalog.get("accounting_invoices")
    # The old warehouse holds every invoice, its backfill recorded under the old window labels.
    backfill(
        client=rutter.client, engine=warehouse.engine, connection=books, endpoint=invoices, window=Window(None, None)
    )
    with warehouse.engine.begin() as db:
        write_watermark(db, connection_id=books.id, stream=backfill_stream(invoices.name, "start-now"), watermark_ms=0)
    plan = plan_backfills(instance, warehouse.engine, connection=books, months=months)
    assert [m.month for m in plan.due] == months

    defs = dg.Definitions(
        assets=[family_assets(Family.ACCOUNTING, partitions_def=grids[Family.ACCOUNTING])],
        jobs=[backfill_jobs(grids)[Family.ACCOUNTING]],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    job = defs.resolve_job_def("accounting_backfill")
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), [books.id])
    counts = {}
    for month in months:
        result = job.execute_in_process(instance=instance, partition_key=partition_key(books.id, month))
        assert result.success
        materialization = next(
            e.materialization
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key == dg.AssetKey(["rutter", "accounting", "invoices"])
        )
        counts[month] = materialization.metadata["dagster/row_count"].value
        assert materialization.metadata["inserted"].value == 0

    assert plan_backfills(instance, warehouse.engine, connection=books, months=months).due == []
    truth = list(rutter.client.window_pages(invoices, access_token=books.access_token, window=Window(None, None)))
    total = sum(len(p.objects) for p in truth)
    with warehouse.engine.connect() as db:
        rows, distinct = db.execute(
            sa.text("select count(*), count(distinct id) from rutter.accounting_invoices where connection_id = :c"),
            {"c": books.id},
        ).one()
    assert rows == distinct == total
    # Each month's materialization now counts that month's documents, not the month of the last sync.
    assert sum(counts.values()) == total and max(counts.values()) < total
