"""`dbt build` on the default sandbox's data passes, and the marts agree with figures computed here from the raw
tables with pandas (a second, independent implementation of the documented rules)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from rutter_pipeline_tests.dbt.conftest import BuiltWarehouse


def _frame(built: BuiltWarehouse, sql: str, **params: object) -> pd.DataFrame:
    with built.engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params, coerce_float=False)


def _money(value: object) -> Decimal:
    return Decimal(str(value))


def test_dbt_build_passes_every_model_and_test(built_warehouse: BuiltWarehouse) -> None:
    assert built_warehouse.returncode == 0, built_warehouse.output[-4000:]
    results = built_warehouse.run_results["results"]
    statuses = Counter(r["status"] for r in results)
    assert set(statuses) <= {"success", "pass"}, statuses
    kinds = Counter(r["unique_id"].split(".")[0] for r in results)
    assert kinds["model"] == 55 and kinds["unit_test"] >= 6 and kinds["test"] >= 150, kinds
    print(f"\ndbt build on the default sandbox data: {built_warehouse.seconds:.1f}s, {dict(kinds)}")


def test_staging_excludes_soft_deleted_rows(built_warehouse: BuiltWarehouse) -> None:
    deleted = _frame(
        built_warehouse,
        "select order_id from analytics.fct_orders where order_id = :id",
        id=built_warehouse.deleted_order_id,
    )
    assert deleted.empty
    live = _frame(built_warehouse, "select count(*) as n from rutter.orders where _deleted_at is null")
    marts = _frame(built_warehouse, "select count(*) as n from analytics.fct_orders")
    assert marts.n[0] == live.n[0] > 0


def _expected_monthly_commerce(built: BuiltWarehouse, connection_id: str) -> pd.DataFrame:
    """Gross sales, refunds (dated by the matching refund transaction, else the order's update) per month."""
    orders = _frame(
        built,
        "select id, created_at, updated_at, status, total_price, data from rutter.orders "
        "where connection_id = :c and _deleted_at is null",
        c=connection_id,
    )
    orders = orders[orders.status != "cancelled"]
    sales, refunds = Counter(), Counter()
    for order in orders.itertuples():
        sales[order.created_at.strftime("%Y-%m")] += _money(order.total_price)
        prices = {line["id"]: _money(line["price"]) for line in order.data.get("line_items") or []}
        refund_times = sorted(
            (t["created_at"], t["id"]) for t in order.data.get("transactions") or [] if t.get("type") == "refund"
        )
        for n, refund in enumerate(order.data.get("refunds") or []):
            amount = sum(
                (
                    _money(line["amount"])
                    if line.get("amount") is not None
                    else _money(line["quantity"]) * prices[line["line_item_id"]]
                )
                for line in refund["line_items"]
            )
            month = refund_times[n][0][:7] if n < len(refund_times) else order.updated_at.strftime("%Y-%m")
            refunds[month] += amount
    months = sorted(set(sales) | set(refunds))
    frame = pd.DataFrame(
        {"month": months, "gross": [sales[m] for m in months], "refunds": [refunds[m] for m in months]}
    )
    frame["net"] = frame.gross - frame.refunds
    return frame


def test_monthly_net_sales_and_refund_rate_match_raw_orders(built_warehouse: BuiltWarehouse) -> None:
    stores = [c for c in built_warehouse.connections if c["platform"] in ("SHOPIFY", "AMAZON")]
    checked = 0
    for store in stores:
        expected = _expected_monthly_commerce(built_warehouse, store["id"])
        marts = _frame(
            built_warehouse,
            "select to_char(month, 'YYYY-MM') as month, gross_sales, refunds, net_sales, refund_rate "
            "from analytics.commerce_monthly_metrics where connection_id = :c",
            c=store["id"],
        ).set_index("month")
        # the busiest months, where a wrong rule would show most
        for row in expected.sort_values("gross", ascending=False).head(6).itertuples():
            mart = marts.loc[row.month]
            assert _money(mart.net_sales) == row.net, row.month
            assert _money(mart.refunds) == row.refunds, row.month
            assert _money(mart.refund_rate) == round(row.refunds / row.gross, 4), row.month
            checked += 1
        assert (expected.refunds > 0).any()
        assert sum(map(_money, marts.net_sales)) == expected.net.sum()
    assert checked == 12


def _bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    return "days_61_90" if days <= 90 else "over_90"


@pytest.mark.parametrize(("table", "mart"), [("accounting_invoices", "ar_aging"), ("accounting_bills", "ap_aging")])
def test_aging_matches_raw_documents(
    built_warehouse: BuiltWarehouse,
    as_of,
    table: str,
    mart: str,
) -> None:
    documents = _frame(
        built_warehouse,
        f"select connection_id, status, amount_due, issue_date, due_date from rutter.{table} where _deleted_at is null",
    )
    open_ = documents[
        (documents.amount_due.fillna(0) > 0)
        & ~documents.status.isin(["void", "draft", "rejected", "paid"])
        & (documents.issue_date.dt.date <= as_of)
    ].copy()
    due = open_.due_date.fillna(open_.issue_date).dt.date
    open_["bucket"] = [_bucket((as_of - d).days) for d in due]
    expected = open_.groupby(["connection_id", "bucket"]).amount_due.apply(lambda s: sum(map(_money, s)))
    aging = _frame(built_warehouse, f"select * from analytics.{mart}").set_index("connection_id")
    columns = {
        "current": "current_amount",
        "days_1_30": "days_1_30_amount",
        "days_31_60": "days_31_60_amount",
        "days_61_90": "days_61_90_amount",
        "over_90": "over_90_amount",
    }
    assert set(aging.index) == set(documents.connection_id)
    for connection_id, row in aging.iterrows():
        for bucket, column in columns.items():
            assert _money(row[column]) == expected.get((connection_id, bucket), Decimal(0)), (connection_id, bucket)
        assert _money(row.total_outstanding) == sum(expected.get(connection_id, pd.Series(dtype=object)))
    assert len(set(open_.bucket)) >= 3, "the sandbox data should spread over several buckets as of this date"


def test_connection_overview_counts_every_connection(built_warehouse: BuiltWarehouse) -> None:
    overview = _frame(built_warehouse, "select * from analytics.fct_connection_overview").set_index("connection_id")
    assert set(overview.index) == {c["id"] for c in built_warehouse.connections}
    raw = _frame(
        built_warehouse,
        "select connection_id, count(*) as n from rutter.accounting_invoices where _deleted_at is null group by 1",
    ).set_index("connection_id")
    for connection_id, row in overview.iterrows():
        expected = raw.n.get(connection_id, 0)
        assert row.accounting_invoices_count == expected
        assert row.family == ("accounting" if expected else "commerce")
        assert row.last_synced_at is not None


@pytest.mark.parametrize(
    "mart",
    [
        "accounting_monthly_pnl",
        "accounting_working_capital",
        "dim_accounts",
        "fct_order_lines",
        "fct_refunds",
        "dim_commerce_customers",
        "fct_bills",
        "ap_aging",
    ],
)
def test_every_mart_has_rows(built_warehouse: BuiltWarehouse, mart: str) -> None:
    counts = _frame(built_warehouse, f"select count(*) as n from analytics.{mart}")
    assert counts.n[0] > 0


def test_pnl_uses_statements_and_falls_back_to_journal_entries(built_warehouse: BuiltWarehouse) -> None:
    by_platform = {c["platform"]: c["id"] for c in built_warehouse.connections}
    pnl = _frame(
        built_warehouse, "select connection_id, month, net_income, source from analytics.accounting_monthly_pnl"
    )
    sources = pnl.groupby("connection_id").source.agg(set)
    assert sources[by_platform["QUICKBOOKS"]] >= {"income_statement"}
    # no statements were loaded for the connection that needs re-authentication: the ledger stands in
    assert sources[by_platform["NETSUITE"]] == {"journal_entries"}
    statements = _frame(
        built_warehouse,
        "select date_trunc('month', start_date)::date as month, net_income from rutter.accounting_income_statements "
        "where connection_id = :c",
        c=by_platform["QUICKBOOKS"],
    )
    marts = pnl[pnl.connection_id == by_platform["QUICKBOOKS"]].set_index("month")
    assert len(statements) > 12
    for row in statements.itertuples():
        assert _money(marts.loc[row.month].net_income) == _money(row.net_income)


def test_dim_connections_has_one_row_per_connection_with_its_health(built_warehouse: BuiltWarehouse) -> None:
    rows = _frame(
        built_warehouse,
        "select connection_name, health, is_healthy, last_sync_completed_at from analytics.dim_connections",
    )
    health = dict(zip(rows.connection_name, rows.health, strict=True))
    assert len(rows) == len(built_warehouse.connections)
    assert health == {
        "Shopify store": "healthy",
        "QuickBooks company": "healthy",
        "Xero organisation": "healthy",
        "Amazon seller": "not_ready",
        "NetSuite subsidiary": "needs_reauth",
    }
    ready = rows[rows.health == "healthy"]
    assert ready.last_sync_completed_at.notna().all()
