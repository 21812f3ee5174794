"""Watermarks: upsert, reporting, and atomicity with the data they cover."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse import count_rows, load_batch, read_state, read_watermark, write_watermark

ORDERS = get("orders")
ONE_ORDER = {"id": "o1", "updated_at": "2024-01-01T00:00:00.000Z"}


def test_watermark_upsert_and_report(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert read_watermark(conn, connection_id="c1", stream="incremental:orders") is None
        write_watermark(conn, connection_id="c1", stream="incremental:orders", watermark_ms=1_000)
        write_watermark(conn, connection_id="c1", stream="incremental:orders", watermark_ms=2_000, details={"pages": 3})
        write_watermark(conn, connection_id="c2", stream="deletes", watermark_ms=5)
    with engine.connect() as conn:
        assert read_watermark(conn, connection_id="c1", stream="incremental:orders") == 2_000
        states = read_state(conn)
        assert [(s.connection_id, s.stream, s.watermark_ms) for s in states] == [
            ("c1", "incremental:orders", 2_000),
            ("c2", "deletes", 5),
        ]
        assert states[0].details == {"pages": 3} and states[0].updated_at.tzinfo is not None
        assert [s.stream for s in read_state(conn, connection_id="c2")] == ["deletes"]


def test_a_rollback_loses_both_the_data_and_the_watermark(engine: sa.Engine) -> None:
    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), engine.begin() as conn:
        load_batch(conn, endpoint=ORDERS, connection_id="c1", objects=[ONE_ORDER])
        write_watermark(conn, connection_id="c1", stream="incremental:orders", watermark_ms=1_704_067_200_000)
        raise Interrupted
    with engine.connect() as conn:
        assert read_watermark(conn, connection_id="c1", stream="incremental:orders") is None
        assert count_rows(conn, ORDERS, live_only=False) == 0


def test_watermark_must_be_integer_milliseconds(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(TypeError, match="Unix milliseconds"):
        write_watermark(conn, connection_id="c1", stream="deletes", watermark_ms="2024-01-01")  # type: ignore[arg-type]
