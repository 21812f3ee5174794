"""The incremental commerce facts: after orders are changed, deleted and added in the raw table, an incremental
`dbt run` gives exactly the rows a `--full-refresh` gives, and it redid only the orders concerned."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rutter_pipeline.sandbox import Sandbox
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.schema import upgrade
from rutter_pipeline_tests.dbt.conftest import AS_OF, SANDBOX_NOW, _load_lists, run_dbt
from rutter_pipeline_tests.fixtures.databases import POSTGRES_SERVER, _fresh_database

INCREMENTAL = ["int_order_lines_unnested", "int_refunds_extracted", "fct_orders", "fct_refunds"]
SELECT = ["--select", "+fct_order_lines", "+fct_refunds", "+fct_commerce_monthly_sales", "+dim_commerce_customers"]
VARS = ["--vars", json.dumps({"as_of_date": AS_OF.isoformat()})]
MARTS = {
    "analytics_intermediate.int_order_lines_unnested": "order_line_id",
    "analytics_intermediate.int_refunds_extracted": "refund_id",
    "analytics.fct_orders": "order_id",
    "analytics.fct_order_lines": "order_line_id",
    "analytics.fct_refunds": "refund_id",
    "analytics.dim_commerce_customers": "customer_id",
    "analytics.fct_commerce_monthly_sales": "connection_month_id",
}


def _change_some_orders(engine: sa.Engine, connection_id: str) -> None:
    """What a sync and the webhooks do between two builds: updates, deletions and a new order."""
    now = datetime.now(UTC)
    with engine.begin() as conn:

        def ids(where: str, limit: int) -> list[str]:
            return list(
                conn.execute(
                    sa.text(
                        f"select id from rutter.orders where connection_id = :c and _deleted_at is null and {where} "
                        f"order by id limit {limit}"
                    ),
                    {"c": connection_id},
                ).scalars()
            )

        def touch(id_list: list[str], assignment: str) -> None:
            conn.execute(
                sa.text(f"update rutter.orders set {assignment}, _synced_at = :now where id = any(:ids)"),
                {"ids": id_list, "now": now},
            )

        refunded = ids("jsonb_array_length(data->'refunds') > 0", 3)
        touch(refunded[:2], "data = jsonb_set(data, '{refunds}', '[]')")  # refunds withdrawn
        touch(refunded[2:], "data = jsonb_set(data, '{line_items}', data->'line_items' #- '{0}')")  # a line less
        repeat = ids(
            "data->'customer'->>'id' in (select data->'customer'->>'id' from rutter.orders "
            "group by 1 having count(*) > 2)",
            2,
        )
        touch(repeat[:1], "data = jsonb_set(data, '{customer,id}', '\"moved-customer\"')")  # changed hands
        touch(repeat[1:], "total_price = total_price + 1, created_at = created_at - interval '400 days'")
        deleted = ids("true", 3)
        touch(deleted, "_deleted_at = :now")
        conn.execute(
            sa.text(
                "insert into rutter.orders select 'added-' || id, connection_id, platform_id, created_at, updated_at, "
                "status, payment_status, fulfillment_status, iso_currency_code, order_number, name, source_name, "
                "total_price, total_discount, total_line_items_price, total_shipping, total_tax, cancelled_at, "
                "jsonb_set(data, '{id}', to_jsonb('added-' || id)), null, :now from rutter.orders where id = :id"
            ),
            {"id": ids("true", 1)[0], "now": now},
        )


def _snapshot(engine: sa.Engine, suffix: str) -> None:
    with engine.begin() as conn:
        for table in MARTS:
            conn.execute(sa.text(f"create table {table}_{suffix} as select * from {table}"))


def _differences(engine: sa.Engine, table: str, key: str, suffix: str) -> list[tuple]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    f"(select * from {table} except all select * from {table}_{suffix}) union all "
                    f"(select * from {table}_{suffix} except all select * from {table}) order by 1 limit 5"
                )
            )
        )


def test_incremental_build_equals_full_refresh(tmp_path: Path) -> None:
    for url in _fresh_database(POSTGRES_SERVER, "postgres", mysql=False):
        engine = warehouse_engine(url)
        upgrade(engine)
        with Sandbox(seed=7, now=SANDBOX_NOW, rate_limit=None) as sandbox:
            shopify = next(c for c in sandbox.connections() if c["platform"] == "SHOPIFY")
            _load_lists(engine, sandbox, shopify)
        with engine.begin() as conn:  # loaded an hour ago, as by an earlier sync
            conn.execute(
                sa.text("update rutter.orders set _synced_at = _synced_at - :hour"), {"hour": timedelta(hours=1)}
            )
        first = run_dbt(url, ["run", *SELECT, *VARS], target=tmp_path / "first")
        assert first.returncode == 0, first.stdout[-3000:]

        _change_some_orders(engine, shopify["id"])
        incremental = run_dbt(url, ["run", *SELECT, *VARS], target=tmp_path / "incremental")
        assert incremental.returncode == 0, incremental.stdout[-3000:]
        _snapshot(engine, "incremental")
        full = run_dbt(url, ["run", "--full-refresh", *SELECT, *VARS], target=tmp_path / "full")
        assert full.returncode == 0, full.stdout[-3000:]

        for table, key in MARTS.items():
            assert _differences(engine, table, key, "incremental") == [], table
        with engine.connect() as conn:
            orders = conn.execute(sa.text("select count(*) from analytics.fct_orders")).scalar_one()
            assert (
                conn.execute(
                    sa.text("select count(*) from analytics.fct_orders where order_id like 'added-%'")
                ).scalar_one()
                == 1
            )
        # the incremental run redid the changed orders (and the renumbered orders of their customers), not all
        results = json.loads((tmp_path / "incremental" / "run_results.json").read_text())["results"]
        redone = {r["unique_id"].rsplit(".", 1)[-1]: r["adapter_response"].get("rows_affected") for r in results}

        assert all(redone[name] is not None and redone[name] < orders / 4 for name in INCREMENTAL), redone
        engine.dispose()
