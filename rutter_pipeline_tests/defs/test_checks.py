"""The table checks pass on a clean backfill and fail on duplicates, quarantined rows and stale watermarks."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import family_assets
from rutter_pipeline.defs.checks import CHECKS_JOB, checks_job, rutter_checks
from rutter_pipeline.defs.incremental import incremental_job
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter.catalog import ENDPOINTS, Family, get
from rutter_pipeline.warehouse.tables import quarantine, raw_table


def evaluations(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, bool]:
    result = defs.resolve_job_def(CHECKS_JOB).execute_in_process(instance=instance)
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}


def test_checks_follow_the_state_of_the_tables(small_sandbox, grids, instance, rutter, warehouse) -> None:
    shop = small_sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop])
    resources = {"rutter": rutter, "warehouse": warehouse}
    defs = dg.Definitions(
        assets=[family_assets(f, partitions_def=grids[f]) for f in Family],
        asset_checks=[rutter_checks(freshness_hours=6)],
        jobs=[checks_job()],
        resources=resources,
    )
    grid = grids[Family.COMMERCE]
    for month in month_keys(grid):
        dg.materialize(
            [family_assets(Family.COMMERCE, partitions_def=grid)],
            partition_key=partition_key(shop, month),
            instance=instance,
            resources=resources,
        )

    incremental_job(Family.COMMERCE, partitions_def=grid).execute_in_process(
        instance=instance, partition_key=shop, resources=resources
    )
    clean = evaluations(defs, instance)
    assert len(clean) == 3 * len(ENDPOINTS) and all(clean.values()), [k for k, ok in clean.items() if not ok]

    orders = raw_table(get("orders"))
    with warehouse.engine.begin() as conn:
        first = conn.execute(sa.select(orders).limit(1)).mappings().one()
        conn.execute(orders.insert().values({**first, "id": "copy-of-" + first["id"]}))
        conn.execute(
            quarantine.insert().values(
                endpoint="products",
                connection_id=shop,
                reason="bad number",
                payload="{}",
                received_at=datetime.now(UTC),
            )
        )
        conn.execute(
            sa.text(
                "UPDATE rutter._sync_state SET updated_at = now() - interval '7 hours' "
                "WHERE stream = 'incremental:transactions'"
            )
        )
    broken = evaluations(defs, instance)
    assert {k for k, ok in broken.items() if not ok} == {
        "rutter/commerce/orders:no_duplicate_ids",
        "rutter/commerce/products:quarantine_empty",
        "rutter/commerce/transactions:watermark_fresh",
    }
