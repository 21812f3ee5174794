"""Initial schema: one raw table per endpoint of the 2024-08-31 catalog, quarantine, sync state.

The endpoint list and typed columns are a frozen snapshot of the catalog as it was when this revision was
written, together with their own type definitions: later catalog changes must arrive as new revisions and
never alter what this one creates.

Revision ID: 0001_initial
Revises:
Create Date: 2024-09-01
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# (table, version field, has last_synced_at, "typed_column:type ...")
_RAW_TABLES = (
    (
        "orders",
        "updated_at",
        False,
        "status:text payment_status:text fulfillment_status:text iso_currency_code:text order_number:text name:text source_name:text total_price:numeric total_discount:numeric total_line_items_price:numeric total_shipping:numeric total_tax:numeric cancelled_at:timestamp",
    ),
    ("products", "updated_at", False, "name:text type:text status:text category_id:text product_url:text"),
    ("customers", "updated_at", False, "email:text first_name:text last_name:text phone:text"),
    (
        "transactions",
        "updated_at",
        False,
        "order_id:text platform_customer_id:text payment_method_type:text status:text type:text gateway:text iso_currency_code:text amount:numeric fee:numeric",
    ),
    (
        "payouts",
        "updated_at",
        False,
        "gateway_account_id:text gateway:text iso_currency_code:text schedule:text status:text type:text method:text amount:numeric arrival_at:timestamp",
    ),
    (
        "accounting_accounts",
        "last_synced_at",
        True,
        "parent_id:text account_type:text category:text status:text currency_code:text name:text nominal_code:text platform_url:text balance:numeric",
    ),
    (
        "accounting_invoices",
        "last_synced_at",
        True,
        "customer_id:text account_id:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric amount_due:numeric sub_total:numeric tax_amount:numeric discount_amount:numeric issue_date:timestamp due_date:timestamp",
    ),
    (
        "accounting_bills",
        "last_synced_at",
        True,
        "vendor_id:text account_id:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric amount_due:numeric sub_total:numeric tax_amount:numeric total_discount:numeric currency_rate:numeric issue_date:timestamp due_date:timestamp",
    ),
    (
        "accounting_invoice_payments",
        "last_synced_at",
        True,
        "customer_id:text account_id:text currency_code:text memo:text reference:text platform_url:text total_amount:numeric currency_rate:numeric txn_date:timestamp",
    ),
    (
        "accounting_bill_payments",
        "last_synced_at",
        True,
        "vendor_id:text account_id:text reference:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric currency_rate:numeric transaction_date:timestamp",
    ),
    (
        "accounting_invoice_credit_memos",
        "last_synced_at",
        True,
        "customer_id:text account_id:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric remaining_amount:numeric issue_date:timestamp",
    ),
    (
        "accounting_bill_credit_memos",
        "last_synced_at",
        True,
        "vendor_id:text account_id:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric remaining_amount:numeric issue_date:timestamp",
    ),
    (
        "accounting_customers",
        "last_synced_at",
        True,
        "customer_name:text contact_name:text email:text phone:text status:text currency_code:text platform_url:text",
    ),
    (
        "accounting_vendors",
        "last_synced_at",
        True,
        "vendor_name:text display_name:text contact_name:text email:text phone:text status:text currency_code:text platform_url:text",
    ),
    (
        "accounting_journal_entries",
        "last_synced_at",
        True,
        "currency_code:text memo:text platform_url:text currency_rate:numeric transaction_date:timestamp",
    ),
    (
        "accounting_expenses",
        "last_synced_at",
        True,
        "account_id:text vendor_id:text customer_id:text expense_type:text currency_code:text memo:text platform_url:text currency_rate:numeric transaction_date:timestamp",
    ),
    ("accounting_items", "last_synced_at", True, "name:text code:text type:text status:text quantity_on_hand:numeric"),
    (
        "accounting_purchase_orders",
        "last_synced_at",
        True,
        "vendor_id:text status:text currency_code:text document_number:text memo:text platform_url:text total_amount:numeric total_quantity:numeric issue_date:timestamp",
    ),
    (
        "accounting_tax_rates",
        "last_synced_at",
        True,
        "name:text code:text status:text total_tax_rate:numeric effective_tax_rate:numeric",
    ),
    ("accounting_classes", "last_synced_at", True, "name:text status:text parent_id:text has_children:boolean"),
    ("accounting_departments", "last_synced_at", True, "name:text status:text parent_id:text has_children:boolean"),
    ("accounting_company_info", "last_synced_at", True, "name:text legal_name:text currency_code:text"),
    (
        "accounting_balance_sheets",
        None,
        False,
        "currency_code:text start_date:timestamp end_date:timestamp total_assets:numeric total_liabilities:numeric total_equity:numeric",
    ),
    (
        "accounting_income_statements",
        None,
        False,
        "currency_code:text start_date:timestamp end_date:timestamp accounting_standard:text total_income:numeric total_cost_of_sales:numeric gross_profit:numeric total_expenses:numeric net_income:numeric",
    ),
    (
        "accounting_cash_flow_statements",
        None,
        False,
        "currency_code:text start_date:timestamp end_date:timestamp starting_balance:numeric ending_balance:numeric total_operating:numeric total_investing:numeric total_financing:numeric",
    ),
)

_MYSQL = ("mysql", "mariadb")


def _key() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _long_text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=3), *_MYSQL)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


_TYPES: dict[str, Callable[[], sa.types.TypeEngine]] = {
    "text": _text,
    "numeric": lambda: sa.Numeric(38, 9),
    "timestamp": _timestamp,
    "boolean": sa.Boolean,
    "integer": sa.BigInteger,
}


def _schema() -> str | None:
    return None if op.get_bind().dialect.name in _MYSQL else "rutter"


def _create_raw_table(name: str, version_field: str | None, has_last_synced_at: bool, typed: str) -> None:
    schema = _schema()
    columns = [
        sa.Column("id", _key(), primary_key=True),
        sa.Column("connection_id", _key(), nullable=False),
        sa.Column("platform_id", _key()),
        sa.Column("created_at", _timestamp()),
        sa.Column("updated_at", _timestamp()),
    ]
    if has_last_synced_at:
        columns.append(sa.Column("last_synced_at", _timestamp()))
    for spec in typed.split():
        column, type_name = spec.split(":")
        columns.append(sa.Column(column, _TYPES[type_name]()))
    columns += [
        sa.Column("data", _json(), nullable=False),
        sa.Column("_deleted_at", _timestamp()),
        sa.Column("_synced_at", _timestamp(), nullable=False),
    ]
    op.create_table(name, *columns, schema=schema)
    op.create_index(f"ix_{name}_connection_platform", name, ["connection_id", "platform_id"], schema=schema)
    if version_field:
        op.create_index(f"ix_{name}_connection_{version_field}", name, ["connection_id", version_field], schema=schema)


def upgrade() -> None:
    schema = _schema()
    for name, version_field, has_last_synced_at, typed in _RAW_TABLES:
        _create_raw_table(name, version_field, has_last_synced_at, typed)
    op.create_table(
        "_quarantine",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("endpoint", _key(), nullable=False),
        sa.Column("connection_id", _key(), nullable=False),
        sa.Column("object_id", _text()),
        sa.Column("reason", _text(), nullable=False),
        sa.Column("payload", _long_text(), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        schema=schema,
    )
    op.create_index("ix__quarantine_connection_endpoint", "_quarantine", ["connection_id", "endpoint"], schema=schema)
    op.create_table(
        "_sync_state",
        sa.Column("connection_id", _key(), primary_key=True),
        sa.Column("stream", _key(), primary_key=True),
        sa.Column("watermark_ms", sa.BigInteger()),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("details", _json()),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    op.drop_table("_sync_state", schema=schema)
    op.drop_table("_quarantine", schema=schema)
    for name, *_ in reversed(_RAW_TABLES):
        op.drop_table(name, schema=schema)
