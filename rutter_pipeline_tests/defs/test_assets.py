"""Materializing partitions against the sandbox fills the warehouse exactly like the sandbox's truth."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import asset_key, family_assets
from rutter_pipeline.defs.incremental import incremental_job
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter.catalog import Family, Kind, endpoints_for
from rutter_pipeline.warehouse.rows import strip_nuls
from rutter_pipeline.warehouse.tables import raw_table


def materialize_months(*, family, grids, connection_id, instance, rutter, warehouse) -> list[dg.ExecuteInProcessResult]:
    instance.add_dynamic_partitions(connection_set(family), [connection_id])
    assets = family_assets(family, partitions_def=grids[family])
    return [
        dg.materialize(
            [assets],
            partition_key=partition_key(connection_id, month),
            instance=instance,
            resources={"rutter": rutter, "warehouse": warehouse},
        )
        for month in month_keys(grids[family])
    ]


def stored_rows(warehouse, endpoint, connection_id) -> dict[str, dict]:
    table = raw_table(endpoint)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.data).where(
                table.c.connection_id == connection_id, table.c._deleted_at.is_(None)
            )
        )
        return {row.id: row.data for row in rows}


def test_backfilled_months_equal_the_sandbox(small_sandbox, grids, instance, rutter, warehouse) -> None:
    for platform, family in (("SHOPIFY", Family.COMMERCE), ("QUICKBOOKS", Family.ACCOUNTING)):
        connection_id = small_sandbox.connection_id(platform)
        results = materialize_months(
            family=family,
            grids=grids,
            connection_id=connection_id,
            instance=instance,
            rutter=rutter,
            warehouse=warehouse,
        )
        assert all(result.success for result in results)
        for endpoint in endpoints_for(family):
            if endpoint.kind is Kind.REPORT:
                continue  # statements are per month: only the grid's months are asked for
            # The warehouse stores NUL characters as U+FFFD (PostgreSQL cannot hold them); so does the truth here.
            truth = {obj["id"]: strip_nuls(obj)[0] for obj in small_sandbox.truth(connection_id, endpoint.path)}
            assert truth, endpoint.path
            assert stored_rows(warehouse, endpoint, connection_id) == truth, endpoint.path


def test_materializations_say_what_the_backfill_did(small_sandbox, grids, instance, rutter, warehouse) -> None:
    connection_id = small_sandbox.connection_id("SHOPIFY")
    grid = grids[Family.COMMERCE]
    materialize_months(
        family=Family.COMMERCE,
        grids=grids,
        connection_id=connection_id,
        instance=instance,
        rutter=rutter,
        warehouse=warehouse,
    )
    orders = asset_key(endpoints_for(Family.COMMERCE)[0])
    latest = instance.get_latest_materialization_event(orders).asset_materialization
    assert latest.metadata["pull"].value == "backfill"
    assert "| id " in latest.metadata["preview"].value
    total = 0
    for month in month_keys(grid):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=orders, asset_partitions=[str(partition_key(connection_id, month))]),
            limit=1,
        ).records
        assert len(records) == 1, month
        total += records[0].asset_materialization.metadata["dagster/row_count"].value
    assert total == len(list(small_sandbox.truth(connection_id, "/orders")))


def test_other_familys_endpoints_are_not_applicable(small_sandbox, grids, instance, rutter, warehouse) -> None:
    # A connection of an unknown platform is in both families' partitions; the family it does not serve
    # succeeds with "not applicable". A commerce connection put there by hand stands in for it.
    connection_id = small_sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), [connection_id])
    grid = grids[Family.ACCOUNTING]
    result = dg.materialize(
        [family_assets(Family.ACCOUNTING, partitions_def=grid)],
        partition_key=partition_key(connection_id, month_keys(grid)[-1]),
        instance=instance,
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    assert result.success
    materialized = result.asset_materializations_for_node("rutter_accounting_backfill")
    statuses = {m.metadata["status"].value for m in materialized}
    assert statuses == {"not applicable"}


def test_incremental_jobs_record_the_months_they_wrote(small_sandbox, grids, instance, rutter, warehouse) -> None:
    shop = small_sandbox.connection_id("SHOPIFY")
    books = small_sandbox.connection_id("QUICKBOOKS")
    materialize_months(
        family=Family.COMMERCE, grids=grids, connection_id=shop, instance=instance, rutter=rutter, warehouse=warehouse
    )
    materialize_months(
        family=Family.ACCOUNTING,
        grids=grids,
        connection_id=books,
        instance=instance,
        rutter=rutter,
        warehouse=warehouse,
    )
    months = month_keys(grids[Family.COMMERCE])
    order = next(o for o in small_sandbox.truth(shop, "/orders") if o["created_at"][:7] == months[1])
    small_sandbox.update(shop, "/orders", order["id"], {"note": "changed after the backfill"})
    invoice = next(iter(small_sandbox.truth(books, "/accounting/invoices")))
    small_sandbox.delete(books, "/accounting/invoices", invoice["id"])

    resources = {"rutter": rutter, "warehouse": warehouse}
    shop_run = incremental_job(Family.COMMERCE, partitions_def=grids[Family.COMMERCE]).execute_in_process(
        instance=instance, partition_key=shop, resources=resources
    )
    books_run = incremental_job(Family.ACCOUNTING, partitions_def=grids[Family.ACCOUNTING]).execute_in_process(
        instance=instance, partition_key=books, resources=resources
    )
    assert shop_run.success and books_run.success
    assert shop_run.dagster_run.job_name == "commerce_incremental_sync"
    assert books_run.dagster_run.job_name == "accounting_incremental_sync"

    written = [
        (e.asset_key.to_user_string(), e.partition)
        for e in shop_run.asset_materializations_for_node("pull_commerce_changes")
    ]
    assert ("rutter/commerce/orders", str(partition_key(shop, months[1]))) in written
    assert all(key.startswith("rutter/commerce/") for key, _ in written)
    assert all(
        e.metadata["pull"].value == "incremental"
        for e in shop_run.asset_materializations_for_node("pull_commerce_changes")
    )
    assert shop_run.dagster_run.tags["rutter/pull"] == "incremental"

    orders = stored_rows(warehouse, endpoints_for(Family.COMMERCE)[0], shop)
    assert orders[order["id"]]["note"] == "changed after the backfill"
    invoices = stored_rows(
        warehouse, next(e for e in endpoints_for(Family.ACCOUNTING) if e.name == "accounting_invoices"), books
    )
    assert invoice["id"] not in invoices
    assert set(invoices) == {i["id"] for i in small_sandbox.truth(books, "/accounting/invoices")}
