"""Migrations create exactly the tables `tables.py` describes, and upgrading is idempotent."""

from __future__ import annotations

import re

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import ENDPOINTS, get
from rutter_pipeline.warehouse import load_batch, schema
from rutter_pipeline.warehouse.dialect import is_mysql
from rutter_pipeline.warehouse.tables import SCHEMA, count_rows, metadata

ORDERS = get("orders")
ONE_ORDER = {"id": "o1", "updated_at": "2024-01-01T00:00:00.000Z"}


def _type_key(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> str:
    """A comparable spelling of a column type: compiled, without charset/collation noise and spacing."""
    compiled = type_.compile(dialect=dialect).upper()
    compiled = re.sub(r"\s*(CHARACTER SET|COLLATE)\s+\w+", "", compiled)
    # MySQL reports integer display widths and BOOL as TINYINT(1); MariaDB stores JSON as LONGTEXT.
    compiled = re.sub(r"^(BIGINT|INTEGER|TINYINT)\(\d+\)$", r"\1", compiled)
    compiled = compiled.replace(" ", "")
    return {"BOOL": "TINYINT", "JSON": "LONGTEXT", "NUMERIC(38,9)": "DECIMAL(38,9)"}.get(compiled, compiled)


def _schema_of(engine: sa.Engine) -> str | None:
    return None if is_mysql(engine) else SCHEMA


def test_upgrade_creates_every_table_as_described(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    present = set(inspector.get_table_names(schema=_schema_of(engine)))
    assert {e.name for e in ENDPOINTS} | {"_quarantine", "_sync_state"} <= present
    for table in metadata.sorted_tables:
        reflected = inspector.get_columns(table.name, schema=_schema_of(engine))
        actual = [(c["name"], _type_key(c["type"], engine.dialect), c["nullable"]) for c in reflected]
        expected = [(c.name, _type_key(c.type, engine.dialect), c.nullable) for c in table.columns]
        assert actual == expected, table.name
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name, schema=_schema_of(engine))}
        assert indexes == {i.name: [c.name for c in i.columns] for i in table.indexes}, table.name
        primary_key = inspector.get_pk_constraint(table.name, schema=_schema_of(engine))["constrained_columns"]
        assert primary_key == [c.name for c in table.primary_key.columns], table.name


def test_upgrade_twice_is_a_no_op_and_keeps_data(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        load_batch(conn, endpoint=ORDERS, connection_id="c1", objects=[ONE_ORDER])
    before = sa.inspect(engine).get_table_names(schema=_schema_of(engine))
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    assert sa.inspect(engine).get_table_names(schema=_schema_of(engine)) == before
    with engine.connect() as conn:
        assert count_rows(conn, ORDERS) == 1


def test_concurrent_upgrades_of_a_fresh_database_all_succeed(warehouse_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from rutter_pipeline.warehouse.engine import warehouse_engine

    engines = [warehouse_engine(warehouse_url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(schema.upgrade, engines))
        assert schema.current_revision(engines[0]) == schema.head_revision()
    finally:
        for each in engines:
            each.dispose()
