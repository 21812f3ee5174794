"""Partitions: (connection, month) keys resolve to windows that cover all time exactly once."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from rutter_pipeline.defs.incremental import partitions_written
from rutter_pipeline.defs.partitions import (
    connection_month_partitions,
    month_keys,
    partition_key,
    resolve,
)
from rutter_pipeline.rutter.catalog import Family, get
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.rutter.timeutil import iso_to_ms
from rutter_pipeline.sync import SyncSummary

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
GRIDS = connection_month_partitions(date(2025, 11, 1))
GRID = GRIDS[Family.COMMERCE]


def test_each_family_has_its_own_connections_and_the_same_months() -> None:
    for family, grid in GRIDS.items():
        dimensions = {d.name: d.partitions_def for d in grid.partitions_defs}
        assert set(dimensions) == {"connection", "month"}
        assert dimensions["connection"].name == f"{family.value}_connections"
        assert month_keys(grid, now=NOW) == month_keys(GRID, now=NOW)


def test_a_connection_fills_its_platforms_family_or_both_when_the_platform_is_unknown() -> None:
    def families(platform: str) -> tuple[Family, ...]:
        return Connection(
            id="c", access_token="t", platform=platform, status=None, name=None, created_at=None, updated_at=None
        ).families

    assert families("SHOPIFY") == (Family.COMMERCE,)
    assert families("XERO") == (Family.ACCOUNTING,)
    assert set(families("A_PLATFORM_ADDED_LATER")) == set(Family)


def test_months_run_from_history_start_to_the_current_month() -> None:
    assert month_keys(GRID, now=NOW) == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]


def test_windows_are_adjacent_and_open_at_both_ends() -> None:
    windows = [resolve(partition_key("conn-1", m), partitions=GRID, now=NOW).window for m in month_keys(GRID, now=NOW)]
    assert windows[0].start_ms is None and windows[-1].end_ms is None
    for before, after in itertools.pairwise(windows):
        assert before.end_ms == after.start_ms
    assert windows[1].start_ms == iso_to_ms("2025-12-01T00:00:00Z")
    assert windows[1].end_ms == iso_to_ms("2026-01-01T00:00:00Z")
    # Every window knows its calendar month, also the open-ended ones (statements are asked per period).
    assert windows[0].period == (iso_to_ms("2025-11-01T00:00:00Z"), iso_to_ms("2025-12-01T00:00:00Z"))
    assert windows[-1].period == (iso_to_ms("2026-03-01T00:00:00Z"), iso_to_ms("2026-04-01T00:00:00Z"))


def test_string_keys_resolve_like_multi_partition_keys() -> None:
    target = resolve("conn-1|2026-01", partitions=GRID, now=NOW)
    assert (target.connection_id, target.month) == ("conn-1", "2026-01")
    assert target == resolve(partition_key("conn-1", "2026-01"), partitions=GRID, now=NOW)


def test_a_month_outside_the_grid_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"outside 2025-11\.\.2026-03"):
        resolve(partition_key("conn-1", "2025-10"), partitions=GRID, now=NOW)


def test_incremental_rows_are_recorded_on_existing_month_partitions() -> None:
    months = month_keys(GRID, now=NOW)
    summary = SyncSummary(
        connection_id="c",
        endpoint="orders",
        mode="incremental",
        updated=3,
        months_touched={"2015-06", "2026-01", "2026-05"},
    )
    # Older months belong to the first partition, later ones to the current one.
    assert partitions_written(summary, endpoint=get("orders"), months=months) == ["2025-11", "2026-01", "2026-03"]
    customers = SyncSummary(connection_id="c", endpoint="customers", mode="incremental", inserted=1)
    assert partitions_written(customers, endpoint=get("customers"), months=months) == ["2025-11"]
    untouched = SyncSummary(connection_id="c", endpoint="orders", mode="incremental", unchanged=9)
    assert partitions_written(untouched, endpoint=get("orders"), months=months) == []
