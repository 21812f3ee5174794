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
    assert kinds["model"] == 66 and kinds["unit_test"] >= 6 and kinds["test"] >= 150, kinds
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
    """Per month: gross merchandise sales of every order placed; cancelled, failed-payment, discount and refund
    deductions; net sales; tax. Refunds of sales only, dated by the matching refund transaction, else the
    order's update; an order marked refunded is refunded in full (its lines' shortfall added)."""
    orders = _frame(
        built,
        "select id, created_at, updated_at, status, payment_status, total_line_items_price, total_discount, "
        "total_tax, data from rutter.orders where connection_id = :c and _deleted_at is null",
        c=connection_id,
    )
    gross, deductions, tax, refunds = Counter(), Counter(), Counter(), Counter()
    for order in orders.itertuples():
        month = order.created_at.strftime("%Y-%m")
        items, discount = _money(order.total_line_items_price), _money(order.total_discount)
        gross[month] += items
        if order.status == "cancelled" or order.payment_status == "failed":
            deductions[month] += items
            continue
        deductions[month] += discount
        tax[month] += _money(order.total_tax)
        prices = {line["id"]: _money(line["price"]) for line in order.data.get("line_items") or []}
        refund_times = sorted(
            (t["created_at"], t["id"]) for t in order.data.get("transactions") or [] if t.get("type") == "refund"
        )
        itemized = Decimal(0)
        for n, refund in enumerate(order.data.get("refunds") or []):
            amount = sum(
                (
                    _money(line["amount"])
                    if line.get("amount") is not None
                    else _money(line["quantity"]) * prices[line["line_item_id"]]
                )
                for line in refund["line_items"]
            )
            itemized += amount
            refunds[refund_times[n][0][:7] if n < len(refund_times) else order.updated_at.strftime("%Y-%m")] += amount
        if order.payment_status == "refunded" and items - discount > itemized:
            last = refund_times[-1][0][:7] if refund_times else order.updated_at.strftime("%Y-%m")
            refunds[last] += items - discount - itemized
    months = sorted(set(gross) | set(refunds))
    frame = pd.DataFrame(
        {
            "month": months,
            "gross": [gross[m] for m in months],
            "deductions": [deductions[m] for m in months],
            "tax": [tax[m] for m in months],
            "refunds": [refunds[m] for m in months],
        }
    )
    frame["net"] = frame.gross - frame.deductions - frame.refunds
    return frame


def test_monthly_net_sales_and_refund_rate_match_raw_orders(built_warehouse: BuiltWarehouse, as_of) -> None:
    stores = [c for c in built_warehouse.connections if c["platform"] in ("SHOPIFY", "AMAZON")]
    checked = 0
    for store in stores:
        expected = _expected_monthly_commerce(built_warehouse, store["id"])
        marts = _frame(
            built_warehouse,
            "select to_char(month, 'YYYY-MM') as month, currency_code, is_partial_month, gross_merchandise_sales, "
            "sales_before_refunds, tax, refunds, net_sales, refund_rate "
            "from analytics.fct_commerce_monthly_sales where connection_id = :c",
            c=store["id"],
        ).set_index("month")
        assert marts.currency_code.nunique() == 1, "a store sells in one currency in the sandbox"
        # the busiest months, where a wrong rule would show most
        for row in expected.sort_values("gross", ascending=False).head(6).itertuples():
            mart = marts.loc[row.month]
            assert _money(mart.gross_merchandise_sales) == row.gross, row.month
            assert _money(mart.net_sales) == row.net, row.month
            assert _money(mart.refunds) == row.refunds, row.month
            assert _money(mart.tax) == row.tax, row.month
            assert _money(mart.refund_rate) == round(row.refunds / _money(mart.sales_before_refunds), 4), row.month
            checked += 1
        assert (expected.refunds > 0).any()
        assert sum(map(_money, marts.net_sales)) == expected.net.sum()
        assert list(marts.index[marts.is_partial_month]) == [as_of.strftime("%Y-%m")]
    assert checked == 12


def test_refunded_orders_are_refunded_in_full(built_warehouse: BuiltWarehouse) -> None:
    """Orders marked refunded count their whole merchandise as refunded, most of it beyond the refund lines."""
    refunded = _frame(
        built_warehouse,
        "select merchandise_amount, refunded_amount, itemized_refund_amount from analytics.fct_orders "
        "where payment_status = 'refunded' and is_sale",
    )
    assert len(refunded) > 20
    assert (refunded.refunded_amount == refunded.merchandise_amount).all()
    assert refunded.itemized_refund_amount.sum() < refunded.refunded_amount.sum()


def _bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    return "days_61_90" if days <= 90 else "over_90"


@pytest.mark.parametrize(
    ("table", "mart"), [("accounting_invoices", "fct_ar_aging"), ("accounting_bills", "fct_ap_aging")]
)
def test_aging_matches_raw_documents(
    built_warehouse: BuiltWarehouse,
    as_of,
    table: str,
    mart: str,
) -> None:
    documents = _frame(
        built_warehouse,
        "select connection_id, currency_code, status, amount_due, issue_date, due_date "
        f"from rutter.{table} where _deleted_at is null",
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
    assert aging.index.is_unique, "one currency per connection in the sandbox"
    currencies = documents.groupby("connection_id").currency_code.agg(set)
    assert all({row.currency_code} == currencies[connection_id] for connection_id, row in aging.iterrows())
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
        "fct_monthly_pnl",
        "fct_working_capital",
        "dim_accounts",
        "fct_order_lines",
        "fct_refunds",
        "dim_commerce_customers",
        "fct_bills",
        "fct_ap_aging",
    ],
)
def test_every_mart_has_rows(built_warehouse: BuiltWarehouse, mart: str) -> None:
    counts = _frame(built_warehouse, f"select count(*) as n from analytics.{mart}")
    assert counts.n[0] > 0


def test_pnl_keeps_statements_and_ledger_apart(built_warehouse: BuiltWarehouse, as_of) -> None:
    by_platform = {c["platform"]: c["id"] for c in built_warehouse.connections}
    pnl = _frame(
        built_warehouse,
        "select connection_id, month, source, basis, is_preferred, net_income from analytics.fct_monthly_pnl",
    )
    assert pnl.month.max() <= as_of.replace(day=1), "never a month after the as-of month"
    sources = pnl.groupby("connection_id").source.agg(set)
    assert sources[by_platform["QUICKBOOKS"]] == {"statement", "ledger"}
    # no statements were loaded for the connection that needs re-authentication: only the ledger
    assert sources[by_platform["NETSUITE"]] == {"ledger"}
    assert (pnl.groupby(["connection_id", "month"]).is_preferred.sum() == 1).all()
    statements = _frame(
        built_warehouse,
        "select date_trunc('month', start_date)::date as month, data->>'accounting_standard' as basis, net_income "
        "from rutter.accounting_income_statements where connection_id = :c and start_date <= :as_of",
        c=by_platform["QUICKBOOKS"],
        as_of=as_of,
    )
    marts = pnl[(pnl.connection_id == by_platform["QUICKBOOKS"]) & (pnl.source == "statement")]
    marts = marts.set_index(["month", "basis"])
    assert len(statements) > 12
    for row in statements.itertuples():
        basis = row.basis if row.basis in ("accrual", "cash") else "unknown"
        assert _money(marts.loc[(row.month, basis)].net_income) == _money(row.net_income)


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


def test_receivables_concentration_matches_raw_invoices(built_warehouse: BuiltWarehouse) -> None:
    invoices = _frame(
        built_warehouse,
        "select connection_id, customer_id, status, amount_due, issue_date from rutter.accounting_invoices "
        "where _deleted_at is null and customer_id is not null",
    )
    mart = _frame(built_warehouse, "select * from analytics.fct_customer_concentration").set_index("connection_id")
    checked = 0
    for connection_id, rows in invoices.groupby("connection_id"):
        open_ = rows[(rows.amount_due.fillna(0) > 0) & ~rows.status.isin(["void", "draft", "rejected", "paid"])]
        by_customer = sorted(
            (sum(map(_money, group.amount_due)) for _, group in open_.groupby("customer_id")), reverse=True
        )
        total = sum(by_customer)
        row = mart.loc[connection_id]
        assert _money(row.open_receivables) == total
        assert _money(row.top_1_receivables_share) == round(by_customer[0] / total, 4)
        assert _money(row.top_5_receivables_share) == round(sum(by_customer[:5]) / total, 4)
        checked += 1
    assert checked >= 3


def test_one_summary_row_per_connection_and_totals_only_in_the_reporting_currency(
    built_warehouse: BuiltWarehouse,
) -> None:
    summary = _frame(built_warehouse, "select * from analytics.fct_underwriting_summary").set_index("connection_id")
    assert set(summary.index) == {c["id"] for c in built_warehouse.connections}
    by_platform = {c["platform"]: c["id"] for c in built_warehouse.connections}
    xero, shopify = summary.loc[by_platform["XERO"]], summary.loc[by_platform["SHOPIFY"]]
    # the sandbox's Xero books are in GBP and Rutter gives no GBP/USD rate: flagged, left out of the totals
    assert xero.currency_code == "GBP" and not xero.is_convertible and xero.revenue_reporting is None
    assert xero.revenue is not None and xero.pnl_source == "statement"
    assert shopify.currency_code == "USD" and shopify.is_convertible and shopify.net_sales is not None
    totals = _frame(built_warehouse, "select * from analytics.fct_reporting_currency_totals").iloc[0]
    assert totals.reporting_currency == "USD" and totals.unconverted_connection_count == 1
    assert by_platform["XERO"] in totals.unconverted_connections
    converted = summary[summary.is_convertible]
    assert _money(totals.revenue) == sum(_money(v) for v in converted.revenue_reporting.dropna())
    assert _money(totals.net_sales) == sum(_money(v) for v in converted.net_sales_reporting.dropna())
