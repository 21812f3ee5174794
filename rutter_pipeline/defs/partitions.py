"""Partitions: one per Rutter connection and calendar month.

Connections come and go, so they are a dynamic dimension that the connection sensor (or `rutter-pipeline
sync`) fills. Each family has its own set of connections (`commerce_connections`, `accounting_connections`), so
an asset lists only the connections that can fill it: a QuickBooks connection never shows up as a forever
missing partition of `rutter/commerce/orders`. The dimension is called `connection` in both, which keeps the
run tag `dagster/partition/connection` the same for every run. Months are a monthly time dimension from the
configured history start up to and including the current month. The first month also takes everything
older, the current month everything up to now, so the partitions of one connection together cover all of its
data exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import dagster as dg

from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sync.periods import window_for_month

CONNECTION = "connection"
MONTH = "month"
MONTH_FORMAT = "%Y-%m"

#: Dagster recommends at most 100,000 partitions per asset (the UI's asset and backfill pages and the daemon slow
#: down past it); new connections are refused a margin before it. docs/scaling.md says how to go past it.
RECOMMENDED_PARTITIONS_PER_ASSET = 100_000
PARTITION_CEILING = 90_000


class PartitionCeilingReached(RuntimeError):
    """Registering more connections would take a family's assets past the partition ceiling."""


def check_partition_ceiling(family: Family, *, connections: int, months: int) -> None:
    """Refuse a number of connections whose (connection, month) partitions per asset would pass the ceiling.

    Raises:
        PartitionCeilingReached: naming the figures and where the way past it is written down.
    """
    ceiling = PARTITION_CEILING
    if connections * months > ceiling:
        raise PartitionCeilingReached(
            f"{connections:,} {family.value} connections × {months} months = {connections * months:,} partitions "
            f"per asset, over this deployment's ceiling of {ceiling:,} (Dagster recommends at most "
            f"{RECOMMENDED_PARTITIONS_PER_ASSET:,}); no connection was added. Shard the connections over several "
            "code locations (docs/scaling.md, 'Past the partition ceiling'), or start the history later "
            "(RUTTER_HISTORY_START)"
        )


#: The (connection, month) grid of each family's assets.
FamilyGrids = dict[Family, dg.MultiPartitionsDefinition]


def connection_set(family: Family) -> str:
    """The name of a family's dynamic partitions: `commerce_connections` or `accounting_connections`."""
    return f"{family.value}_connections"


def connection_partitions(family: Family) -> dg.DynamicPartitionsDefinition:
    """The connections whose data a family's assets hold."""
    return dg.DynamicPartitionsDefinition(name=connection_set(family))


def month_partitions(history_start: date) -> dg.TimeWindowPartitionsDefinition:
    """Calendar months (`YYYY-MM`, UTC) from `history_start` up to and including the current month."""
    return dg.MonthlyPartitionsDefinition(
        start_date=history_start.strftime(MONTH_FORMAT),
        fmt=MONTH_FORMAT,
        timezone="UTC",
        # end_offset=1 adds the month in progress, so recent data has a home before the month is over.
        end_offset=1,
    )


def connection_month_partitions(history_start: date) -> FamilyGrids:
    """The (connection, month) grid of each family: its own connections, the same months."""
    months = month_partitions(history_start)
    return {
        family: dg.MultiPartitionsDefinition({CONNECTION: connection_partitions(family), MONTH: months})
        for family in Family
    }


@dataclass(frozen=True)
class ConnectionMonth:
    """One partition of a Rutter asset, resolved to what the sync engine needs."""

    connection_id: str
    month: str
    window: Window


def connection_label(connection: Connection) -> str:
    """`PLATFORM name` of a connection, the way a person recognises it (partition keys stay the bare id)."""
    return f"{connection.platform} {connection.name}" if connection.name else connection.platform


class NoPartitionChosen(dg.Failure):
    """A run of a partitioned job launched without a partition (the Launchpad allows it)."""

    def __init__(self, job_name: str, *, what: str) -> None:
        super().__init__(
            description=f"{job_name} needs a partition: launch it with a {what} chosen (Launchpad → partition, or "
            "Materialize → Select partitions), or let the schedules and the connection sensor start the runs. "
            "Nothing was pulled.",
            allow_retries=False,
        )


def partition_key(connection_id: str, month: str) -> dg.MultiPartitionKey:
    """The multi-partition key of one connection and month (`YYYY-MM`)."""
    return dg.MultiPartitionKey({CONNECTION: connection_id, MONTH: month})


def month_keys(partitions: dg.MultiPartitionsDefinition, *, now: datetime | None = None) -> list[str]:
    """Every month key of the grid, oldest first, as of `now`."""
    months = _months(partitions)
    return list(months.get_partition_keys(current_time=now or datetime.now(UTC)))


def resolve(
    key: str | dg.MultiPartitionKey,
    *,
    partitions: dg.MultiPartitionsDefinition,
    now: datetime | None = None,
) -> ConnectionMonth:
    """The connection and backfill window of a partition key.

    Args:
        key: a multi-partition key (`<connection>|<YYYY-MM>`) or `MultiPartitionKey`.
        partitions: the grid the key belongs to.
        now: the current time (for tests); decides which month is the open-ended latest one.

    Returns:
        The connection id, the month and the window `[month start, next month start)`, with no start for the
        first month and no end for the current month.
    """
    keys = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else _split(key, partitions)
    months = _months(partitions)
    month = keys[MONTH]
    all_months = month_keys(partitions, now=now)
    if month not in all_months:
        raise ValueError(f"month partition {month!r} is outside {all_months[0]}..{all_months[-1]}")
    # The rule (first month open at the start, current month open at the end) is `periods.window_for_month`'s.
    return ConnectionMonth(
        connection_id=keys[CONNECTION],
        month=month,
        window=window_for_month(
            months.time_window_for_partition_key(month).start,
            is_first=month == all_months[0],
            is_last=month == all_months[-1],
        ),
    )


def _split(key: str, partitions: dg.MultiPartitionsDefinition) -> dict[str, str]:
    return dict(partitions.get_partition_key_from_str(key).keys_by_dimension)


def _months(partitions: dg.MultiPartitionsDefinition) -> dg.TimeWindowPartitionsDefinition:
    for dimension in partitions.partitions_defs:
        if dimension.name == MONTH:
            return dimension.partitions_def  # type: ignore[return-value]
    raise ValueError("the partitions have no month dimension")
