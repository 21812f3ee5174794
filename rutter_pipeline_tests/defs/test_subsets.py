"""What the UI launches from an asset page: a subset of assets with their checks, for chosen partitions."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import asset_key, family_assets
from rutter_pipeline.defs.checks import rutter_checks
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter.catalog import Family, get
from rutter_pipeline.warehouse.tables import raw_table


def test_one_asset_with_its_checks_for_one_partition(small_sandbox, grids, instance, rutter, warehouse) -> None:
    shop = small_sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop])
    defs = dg.Definitions(
        assets=[family_assets(f, partitions_def=grids[f]) for f in Family],
        asset_checks=[rutter_checks(freshness_hours=6)],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    orders = asset_key(get("orders"))
    month = month_keys(grids[Family.COMMERCE])[0]  # the first month also holds all older history
    # The asset page's Materialize button selects the asset and, by default, its checks.
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={orders},
        asset_check_selection=set(defs.get_repository_def().asset_graph.get_check_keys_for_assets({orders})),
    )
    result = job.execute_in_process(instance=instance, partition_key=partition_key(shop, month))

    assert result.success
    assert [m.asset_key for m in result.get_asset_materialization_events()] == [orders]
    checked = {(e.asset_key, e.check_name) for e in result.get_asset_check_evaluations()}
    assert checked == {(orders, "no_duplicate_ids"), (orders, "quarantine_empty"), (orders, "watermark_fresh")}
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(raw_table(get("orders")))).scalar_one() > 0
        assert conn.execute(sa.select(sa.func.count()).select_from(raw_table(get("products")))).scalar_one() == 0
