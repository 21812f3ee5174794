"""A warehouse backfilled when accounting months meant `last_synced_at` months is backfilled again, once.

Before the change every accounting month was a month of Rutter's `last_synced_at`; the backfill runs recorded
then carry no `rutter/windows` tag. After it, those months count as not loaded, so the sensor and
`rutter-pipeline sync` backfill them again under the new meaning: rows are keyed by id, so nothing is
duplicated, and each month's new materialization reports that month's documents.
"""

from __future__ import annotations

import uuid

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import family_assets
from rutter_pipeline.defs.backfills import missing_months
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.timeutil import Window
from rutter_pipeline.sync import backfill


def _legacy_success(instance: dg.DagsterInstance, connection_id: str, month: str) -> None:
    """A successful accounting backfill run as recorded before month windows meant documents."""
    tags = {"dagster/partition/connection": connection_id, "dagster/partition/month": month,
            "dagster/partition": str(partition_key(connection_id, month)), "rutter/pull": "backfill"}
    instance.add_run(dg.DagsterRun(job_name="accounting_backfill", run_id=str(uuid.uuid4()), tags=tags,
                                   status=dg.DagsterRunStatus.SUCCESS))


def test_accounting_months_loaded_under_the_old_meaning_are_loaded_again_without_duplicates(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    books = next(c for c in rutter.client.list_connections() if c.platform == "QUICKBOOKS")
    shop = next(c for c in rutter.client.list_connections() if c.platform == "SHOPIFY")
    months = month_keys(grids[Family.ACCOUNTING])
    invoices = catalog.get("accounting_invoices")
    # The old warehouse holds every invoice (its backfill of all months finished).
    backfill(client=rutter.client, engine=warehouse.engine, connection=books, endpoint=invoices,
             window=Window(None, None))
    for month in months:
        _legacy_success(instance, books.id, month)
    assert [m.month for m in missing_months(instance, connection=books, months=months)] == months

    defs = dg.Definitions(assets=[family_assets(Family.ACCOUNTING, partitions_def=grids[Family.ACCOUNTING])],
                          jobs=[backfill_jobs(grids)[Family.ACCOUNTING]],
                          resources={"rutter": rutter, "warehouse": warehouse})
    job = defs.resolve_job_def("accounting_backfill")
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), [books.id])
    counts = {}
    for month in months:
        result = job.execute_in_process(instance=instance, partition_key=partition_key(books.id, month))
        assert result.success
        materialization = next(e.materialization for e in result.get_asset_materialization_events()
                               if e.materialization.asset_key == dg.AssetKey(["rutter", "accounting", "invoices"]))
        counts[month] = materialization.metadata["dagster/row_count"].value
        assert materialization.metadata["inserted"].value == 0

    assert missing_months(instance, connection=books, months=months) == []
    truth = list(rutter.client.window_pages(invoices, access_token=books.access_token, window=Window(None, None)))
    total = sum(len(p.objects) for p in truth)
    with warehouse.engine.connect() as db:
        rows, distinct = db.execute(sa.text(
            "select count(*), count(distinct id) from rutter.accounting_invoices where connection_id = :c"),
            {"c": books.id}).one()
    assert rows == distinct == total
    # Each month's materialization now counts that month's documents, not the month of the last sync.
    assert sum(counts.values()) == total and max(counts.values()) < total
    # Commerce runs from before the tag existed still count as loaded (their windows did not change).
    for month in months:
        instance.add_run(dg.DagsterRun(job_name="commerce_backfill", run_id=str(uuid.uuid4()),
                                       tags={"dagster/partition/connection": shop.id, "dagster/partition/month": month},
                                       status=dg.DagsterRunStatus.SUCCESS))
    assert missing_months(instance, connection=shop, months=month_keys(grids[Family.COMMERCE])) == []
