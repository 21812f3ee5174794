"""Indexes the incremental dbt marts read the raw tables by (PostgreSQL only: the marts need PostgreSQL).

- `_synced_at` on every raw table: "what was written since the last build" and "has anything been written
  since" are index range scans instead of reading every row.
- the ids of soft-deleted orders (a partial index): `fct_orders` drops deleted orders after each build
  without scanning the live ones.

Revision ID: 0005_marts_indexes
Revises: 0002_connections
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005_marts_indexes"
down_revision = "0002_connections"
branch_labels = None
depends_on = None

_RAW_TABLES = (
    "orders", "products", "customers", "transactions", "payouts", "accounting_accounts", "accounting_invoices",
    "accounting_bills", "accounting_invoice_payments", "accounting_bill_payments",
    "accounting_invoice_credit_memos", "accounting_bill_credit_memos", "accounting_customers",
    "accounting_vendors", "accounting_journal_entries", "accounting_expenses", "accounting_items",
    "accounting_purchase_orders", "accounting_tax_rates", "accounting_classes", "accounting_departments",
    "accounting_company_info", "accounting_balance_sheets", "accounting_income_statements",
    "accounting_cash_flow_statements",
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    for name in _RAW_TABLES:
        op.create_index(f"ix_{name}__synced_at", name, ["_synced_at"], schema="rutter")
    op.create_index("ix_orders_deleted", "orders", ["id"], schema="rutter",
                    postgresql_where="_deleted_at IS NOT NULL")


def downgrade() -> None:
    if not _postgres():
        return
    op.drop_index("ix_orders_deleted", table_name="orders", schema="rutter")
    for name in _RAW_TABLES:
        op.drop_index(f"ix_{name}__synced_at", table_name=name, schema="rutter")
