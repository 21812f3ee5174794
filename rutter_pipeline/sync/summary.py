"""What one sync call did, in the figures a user wants to see."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from rutter_pipeline.rutter.client import RutterClient

Mode = Literal["backfill", "incremental", "deletes"]
Status = Literal["ok", "not_applicable"]


@dataclass
class SyncSummary:
    """Counts and outcome of one backfill, incremental pull or delete pass.

    `months_touched` lists the calendar months (`YYYY-MM`, in the endpoint's window timestamp) of the objects in
    batches that wrote at least one row; the Dagster layer uses it to report which month partitions changed, and
    `rows_by_month` how many of those batches' objects each month holds (each partition's own row count).
    """

    connection_id: str
    endpoint: str
    mode: Mode
    status: Status = "ok"
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    sanitized: int = 0
    pages: int = 0
    retries: int = 0
    seconds: float = 0.0
    watermark_ms: int | None = None
    months_touched: set[str] = field(default_factory=set)
    rows_by_month: Counter[str] = field(default_factory=Counter)
    note: str = ""
    _started: float = field(default_factory=time.monotonic, repr=False)

    def not_applicable(self, why: str) -> SyncSummary:
        """Close the summary as "not applicable": the platform does not serve this object type."""
        self.status = "not_applicable"
        self.note = why
        return self.finish()

    def finish(self) -> SyncSummary:
        """Stamp the elapsed time; returns self for chaining."""
        self.seconds = round(time.monotonic() - self._started, 3)
        return self

    @property
    def written(self) -> int:
        """Rows inserted or updated."""
        return self.inserted + self.updated

    def as_dict(self) -> dict[str, object]:
        """Plain values for logs, metadata and tables."""
        return {
            "connection_id": self.connection_id,
            "endpoint": self.endpoint,
            "mode": self.mode,
            "status": self.status,
            "fetched": self.fetched,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "sanitized": self.sanitized,
            "pages": self.pages,
            "retries": self.retries,
            "seconds": self.seconds,
            "watermark_ms": self.watermark_ms,
            "months_touched": sorted(self.months_touched),
            "note": self.note,
        }


@contextmanager
def counting_retries(client: RutterClient, summary: SyncSummary) -> Iterator[None]:
    """Attribute the client's retries during the block to this summary.

    The client may be shared by threads; the figure is then an upper bound for this call.
    """
    before = client.stats.retries
    try:
        yield
    finally:
        summary.retries += client.stats.retries - before
