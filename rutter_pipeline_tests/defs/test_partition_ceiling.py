"""Connections that would take an asset past the partition ceiling are refused with a message saying why."""

from __future__ import annotations

import dagster as dg
import pytest

from rutter_pipeline.defs import partitions
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import PartitionCeilingReached, check_partition_ceiling, connection_set
from rutter_pipeline.defs.sensors import connection_sensor
from rutter_pipeline.rutter.catalog import Family


def test_the_ceiling_is_a_margin_below_dagsters_recommendation() -> None:
    assert partitions.PARTITION_CEILING < partitions.RECOMMENDED_PARTITIONS_PER_ASSET
    check_partition_ceiling(Family.COMMERCE, connections=3_600, months=25)  # 90,000: at the ceiling
    with pytest.raises(PartitionCeilingReached) as refused:
        check_partition_ceiling(Family.COMMERCE, connections=3_601, months=25)
    assert str(refused.value).startswith("3,601 commerce connections × 25 months = 90,025 partitions per asset")
    assert "docs/scaling.md" in str(refused.value)


def test_the_sensor_refuses_connections_past_the_ceiling_and_adds_none(
    small_sandbox, grids, instance, rutter, warehouse, monkeypatch
) -> None:
    sensor = connection_sensor(grids[Family.COMMERCE], list(backfill_jobs(grids).values()))
    small_sandbox.add_connection("SHOPIFY", name="Second shop", orders=5)
    # Two ready commerce connections × three months = 6 partitions per asset, over a ceiling of 5.
    monkeypatch.setattr(partitions, "PARTITION_CEILING", 5)
    resources = {"rutter": rutter, "warehouse": warehouse}
    with (
        dg.build_sensor_context(instance=instance, resources=resources) as context,
        pytest.raises(Exception, match=r"2 commerce connections × 3 months = 6 partitions per asset"),
    ):
        sensor(context)
    assert instance.get_dynamic_partitions(connection_set(Family.COMMERCE)) == []
