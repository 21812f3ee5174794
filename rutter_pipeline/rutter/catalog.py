"""The Rutter endpoints this project copies, described as data.

Every other part of the project (client, sandbox, warehouse tables, sync engine, Dagster assets) reads this
catalog instead of hard-coding per-endpoint knowledge, so adding an endpoint is one entry in `ENDPOINTS`.
The facts come from Rutter's 2024-08-31 API (see docs/architecture.md for what had to be assumed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Family(str, enum.Enum):
    """Which side of Rutter an endpoint belongs to; a connection's platform serves exactly one family."""

    COMMERCE = "commerce"
    ACCOUNTING = "accounting"


class Kind(str, enum.Enum):
    """How an endpoint answers."""

    LIST = "list"  # paginated list: {"<key>": [...], "next_cursor": ...}
    SINGLE = "single"  # one object: {"<key>": {...}}
    REPORT = "report"  # financial statements for a start_date/end_date period


class Incremental(str, enum.Enum):
    """How changes since the last pull are asked for."""

    LAST_SYNCED_AT = "last_synced_at"  # last_synced_at_min (inclusive) + sort=last_synced_at ASC
    UPDATED_AT = "updated_at"  # updated_at_min, from a watermark that allows for Rutter's refresh lag
    SNAPSHOT = "snapshot"  # no change filter: the whole object set (or the current period) is pulled again


class WindowBy(str, enum.Enum):
    """How a backfill restricts a pull to one time window [start, end)."""

    CREATED_AT = "created_at"  # created_at_min / created_at_max query parameters (ms, inclusive)
    # filter=created_at>"<start - 1 ms>" + sort=created_at ASC, stopping at the window's end; objects with a
    # null created_at belong to the first window (docs/architecture.md, "Windows")
    CREATED_AT_SORTED = "created_at_sorted"
    PERIOD = "period"  # start_date / end_date of a financial statement
    NONE = "none"  # cannot be windowed without missing objects: the first window pulls everything

    @property
    def field(self) -> str | None:
        """The object field that places an object in a window (None: no field does)."""
        return {"created_at": "created_at", "created_at_sorted": "created_at", "period": "start_date"}.get(self.value)


class ColumnType(str, enum.Enum):
    """Types of the typed columns kept beside the JSON payload."""

    TEXT = "text"
    NUMERIC = "numeric"  # money: the API sends numbers or strings; both are parsed
    TIMESTAMP = "timestamp"  # ISO 8601 in the body, stored as UTC timestamp
    BOOLEAN = "boolean"
    INTEGER = "integer"


@dataclass(frozen=True)
class Column:
    """A typed column extracted from the object's top-level field of the same name."""

    name: str
    type: ColumnType


@dataclass(frozen=True)
class Endpoint:
    """One Rutter object type and everything the project needs to know to copy it.

    Attributes:
        path: API path under `/versioned`, e.g. `/accounting/invoices`.
        response_key: key of the object list (or object) in the response body.
        family: commerce or accounting.
        kind: list, single object, or period report.
        query_params: filters the endpoint accepts (besides access_token, cursor, limit, force_fetch).
        incremental: how changes are pulled.
        window_by: how a backfill window is applied.
        version_field: the field that orders versions of one object (newer replaces older); None when the
            endpoint has none and the latest pull wins.
        columns: typed columns beyond the common ones (id, platform_id, created_at, updated_at,
            last_synced_at).
        deleted_event_resource: the `resources` name under which `/events` reports deletions, if any.
    """

    path: str
    response_key: str
    family: Family
    kind: Kind
    query_params: frozenset[str]
    incremental: Incremental
    window_by: WindowBy
    version_field: str | None
    columns: tuple[Column, ...] = ()
    deleted_event_resource: str | None = None
    has_last_synced_at: bool = field(default=False)

    @property
    def name(self) -> str:
        """Table name: the path without the leading slash, `/` → `_` (`accounting_invoices`)."""
        return self.path.lstrip("/").replace("/", "_")

    @property
    def object_name(self) -> str:
        """Last path segment (`invoices`), used in asset keys `rutter/<family>/<object_name>`."""
        return self.path.rsplit("/", 1)[-1]


_ACCOUNTING_QUERY = frozenset({"filter", "sort", "last_synced_at_min", "updated_at_min", "updated_at_max"})


def _cols(
    *,
    text: str = "",
    numeric: str = "",
    timestamp: str = "",
    boolean: str = "",
    integer: str = "",
) -> tuple[Column, ...]:
    """Typed columns from space-separated field names, grouped by type."""
    spec = (
        (ColumnType.TEXT, text),
        (ColumnType.NUMERIC, numeric),
        (ColumnType.TIMESTAMP, timestamp),
        (ColumnType.BOOLEAN, boolean),
        (ColumnType.INTEGER, integer),
    )
    return tuple(Column(name, col_type) for col_type, names in spec for name in names.split())


def _commerce(path: str, *, query: str, columns: tuple[Column, ...], window_by: WindowBy) -> Endpoint:
    params = frozenset(query.split())
    return Endpoint(
        path=path,
        response_key=path.rsplit("/", 1)[-1],
        family=Family.COMMERCE,
        kind=Kind.LIST,
        query_params=params,
        incremental=Incremental.UPDATED_AT if "updated_at_min" in params else Incremental.SNAPSHOT,
        window_by=window_by,
        version_field="updated_at",
        columns=columns,
    )


def _accounting(
    path: str,
    *,
    columns: tuple[Column, ...],
    deleted_as: str | None = None,
    extra_query: str = "",
    window_by: WindowBy = WindowBy.CREATED_AT_SORTED,
) -> Endpoint:
    return Endpoint(
        path=path,
        response_key=path.rsplit("/", 1)[-1],
        family=Family.ACCOUNTING,
        kind=Kind.LIST,
        query_params=_ACCOUNTING_QUERY | frozenset(extra_query.split()),
        incremental=Incremental.LAST_SYNCED_AT,
        window_by=window_by,
        version_field="last_synced_at",
        columns=columns,
        deleted_event_resource=deleted_as,
        has_last_synced_at=True,
    )


def _report(path: str, *, response_key: str, columns: tuple[Column, ...]) -> Endpoint:
    return Endpoint(
        path=path,
        response_key=response_key,
        family=Family.ACCOUNTING,
        kind=Kind.REPORT,
        query_params=frozenset({"start_date", "end_date"}),
        incremental=Incremental.SNAPSHOT,
        window_by=WindowBy.PERIOD,
        version_field=None,
        columns=_cols(text="currency_code", timestamp="start_date end_date") + columns,
    )


_ACCOUNTING_DOC = "status currency_code document_number memo platform_url"

ENDPOINTS: tuple[Endpoint, ...] = (
    # --- commerce -------------------------------------------------------------------------------------
    _commerce(
        "/orders",
        query="created_at_min created_at_max updated_at_min updated_at_max fulfillment_status payment_status",
        window_by=WindowBy.CREATED_AT,
        columns=_cols(
            text="status payment_status fulfillment_status iso_currency_code order_number name source_name",
            numeric="total_price total_discount total_line_items_price total_shipping total_tax",
            timestamp="cancelled_at",
        ),
    ),
    _commerce(
        "/products",
        query="created_at_min created_at_max updated_at_min updated_at_max status name",
        window_by=WindowBy.CREATED_AT,
        columns=_cols(text="name type status category_id product_url"),
    ),
    _commerce(
        "/customers",
        query="updated_at_min updated_at_max email phone",
        window_by=WindowBy.NONE,
        columns=_cols(text="email first_name last_name phone"),
    ),
    _commerce(
        "/transactions",
        query="created_at_min created_at_max updated_at_min updated_at_max sort",
        window_by=WindowBy.CREATED_AT,
        columns=_cols(
            text="order_id platform_customer_id payment_method_type status type gateway iso_currency_code",
            numeric="amount fee",
        ),
    ),
    _commerce(
        "/payouts",
        query="created_at_min created_at_max arrival_at_min arrival_at_max",
        window_by=WindowBy.CREATED_AT,
        columns=_cols(
            text="gateway_account_id gateway iso_currency_code schedule status type method",
            numeric="amount",
            timestamp="arrival_at",
        ),
    ),
    _commerce(
        "/subscriptions",
        query="created_at_min created_at_max updated_at_min updated_at_max",
        window_by=WindowBy.CREATED_AT,
        columns=_cols(text="platform_customer_id status iso_currency_code"),
    ),
    _commerce(
        "/customer_groups",
        query="updated_at_min updated_at_max",
        window_by=WindowBy.NONE,
        columns=_cols(text="name"),
    ),
    # --- accounting -----------------------------------------------------------------------------------
    _accounting(
        "/accounting/accounts",
        deleted_as="ACCOUNT",
        extra_query="account_type",
        columns=_cols(
            text="parent_id account_type category status currency_code name nominal_code platform_url",
            numeric="balance",
        ),
    ),
    _accounting(
        "/accounting/invoices",
        deleted_as="INVOICE",
        columns=_cols(
            text=f"customer_id account_id {_ACCOUNTING_DOC}",
            numeric="total_amount amount_due sub_total tax_amount discount_amount",
            timestamp="issue_date due_date",
        ),
    ),
    _accounting(
        "/accounting/bills",
        deleted_as="BILL",
        columns=_cols(
            text=f"vendor_id account_id {_ACCOUNTING_DOC}",
            numeric="total_amount amount_due sub_total tax_amount total_discount currency_rate",
            timestamp="issue_date due_date",
        ),
    ),
    _accounting(
        "/accounting/invoice_payments",
        deleted_as="INVOICE_PAYMENT",
        columns=_cols(
            text="customer_id account_id currency_code memo reference platform_url",
            numeric="total_amount currency_rate",
            timestamp="txn_date",
        ),
    ),
    _accounting(
        "/accounting/bill_payments",
        deleted_as="BILL_PAYMENT",
        columns=_cols(
            text=f"vendor_id account_id reference {_ACCOUNTING_DOC}",
            numeric="total_amount currency_rate",
            timestamp="transaction_date",
        ),
    ),
    _accounting(
        "/accounting/invoice_credit_memos",
        deleted_as="INVOICE_CREDIT_MEMO",
        columns=_cols(
            text=f"customer_id account_id {_ACCOUNTING_DOC}",
            numeric="total_amount remaining_amount",
            timestamp="issue_date",
        ),
    ),
    _accounting(
        "/accounting/bill_credit_memos",
        deleted_as="BILL_CREDIT_MEMO",
        columns=_cols(
            text=f"vendor_id account_id {_ACCOUNTING_DOC}",
            numeric="total_amount remaining_amount",
            timestamp="issue_date",
        ),
    ),
    _accounting(
        "/accounting/customers",
        deleted_as="ACCOUNTING_CUSTOMER",
        columns=_cols(text="customer_name contact_name email phone status currency_code platform_url"),
    ),
    _accounting(
        "/accounting/vendors",
        deleted_as="VENDOR",
        columns=_cols(text="vendor_name display_name contact_name email phone status currency_code platform_url"),
    ),
    _accounting(
        "/accounting/journal_entries",
        deleted_as="JOURNAL_ENTRY",
        columns=_cols(text="currency_code memo platform_url", numeric="currency_rate", timestamp="transaction_date"),
    ),
    _accounting(
        "/accounting/expenses",
        deleted_as="EXPENSE",
        columns=_cols(
            text="account_id vendor_id customer_id expense_type currency_code memo platform_url",
            numeric="currency_rate",
            timestamp="transaction_date",
        ),
    ),
    _accounting(
        "/accounting/items",
        deleted_as="ITEMS",
        columns=_cols(text="name code type status", numeric="quantity_on_hand"),
    ),
    _accounting(
        "/accounting/purchase_orders",
        deleted_as="PURCHASE_ORDER",
        columns=_cols(
            text=f"vendor_id {_ACCOUNTING_DOC}",
            numeric="total_amount total_quantity",
            timestamp="issue_date",
        ),
    ),
    _accounting(
        "/accounting/tax_rates",
        deleted_as="TAX_RATES",
        columns=_cols(text="name code status", numeric="total_tax_rate effective_tax_rate"),
    ),
    _accounting(
        "/accounting/classes",
        deleted_as="CLASS",
        columns=_cols(text="name status parent_id", boolean="has_children"),
    ),
    _accounting(
        "/accounting/departments",
        deleted_as="DEPARTMENT",
        columns=_cols(text="name status parent_id", boolean="has_children"),
    ),
    _accounting(
        "/accounting/locations",
        deleted_as="LOCATION",
        columns=_cols(text="name status parent_id", boolean="has_children"),
    ),
    _accounting(
        "/accounting/payment_terms",
        deleted_as="PAYMENT_TERM",
        columns=_cols(text="term_name", numeric="due_days discount_days discount_percent"),
    ),
    _accounting(
        "/accounting/currencies",
        deleted_as="CURRENCIES",
        columns=_cols(text="currency_code currency_name"),
    ),
    _accounting(
        "/accounting/transactions",
        deleted_as="ACCOUNTING_TRANSACTION",
        # No created_at: nothing documented places a transaction in a month, so the first month takes them all.
        window_by=WindowBy.NONE,
        columns=_cols(text="rutter_transaction_id rutter_transaction_type platform_url", timestamp="transaction_date"),
    ),
    _accounting(
        "/accounting/bank_deposits",
        deleted_as="BANK_DEPOSIT",
        columns=_cols(
            text="account_id subsidiary_id currency_code memo platform_url",
            numeric="total_amount",
            timestamp="transaction_date",
        ),
    ),
    _accounting(
        "/accounting/bank_transfers",
        deleted_as="BANK_TRANSFER",
        columns=_cols(
            text="credit_account_id debit_account_id class_id department_id location_id subsidiary_id "
            "currency_code memo platform_url",
            numeric="total_amount",
            timestamp="transaction_date",
        ),
    ),
    Endpoint(
        path="/accounting/company_info",
        response_key="company_info",
        family=Family.ACCOUNTING,
        kind=Kind.SINGLE,
        query_params=frozenset(),
        incremental=Incremental.SNAPSHOT,
        window_by=WindowBy.NONE,
        version_field="last_synced_at",
        columns=_cols(text="name legal_name currency_code"),
        has_last_synced_at=True,
    ),
    _report(
        "/accounting/balance_sheets",
        response_key="balance_sheets",
        columns=_cols(numeric="total_assets total_liabilities total_equity"),
    ),
    _report(
        "/accounting/income_statements",
        response_key="income_statements",
        columns=_cols(
            text="accounting_standard",
            numeric="total_income total_cost_of_sales gross_profit total_expenses net_income",
        ),
    ),
    _report(
        "/accounting/cash_flow_statements",
        response_key="cash_flows",
        columns=_cols(
            numeric="starting_balance ending_balance total_operating total_investing total_financing",
        ),
    ),
)

#: Endpoints by table name (`orders`, `accounting_invoices`, ...).
BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}

#: Endpoints by API path (`/orders`, `/accounting/invoices`, ...).
BY_PATH: dict[str, Endpoint] = {e.path: e for e in ENDPOINTS}

#: Deleted-object events: `GET /events?type=object_deleted&resources=...`.
EVENTS_PATH = "/events"
EVENTS_RESPONSE_KEY = "events"
OBJECT_DELETED = "object_deleted"

#: Organisation-level connection endpoints.
CONNECTIONS_PATH = "/connections"
CONNECTION_STATUS_PATH = "/connections/status"
CONNECTION_DETAILS_PATH = "/connections/access_token"

#: The `/events` resource name → endpoint whose rows it deletes.
BY_DELETED_RESOURCE: dict[str, Endpoint] = {e.deleted_event_resource: e for e in ENDPOINTS if e.deleted_event_resource}


def endpoints_for(family: Family) -> tuple[Endpoint, ...]:
    """The endpoints a connection of this family can serve."""
    return tuple(e for e in ENDPOINTS if e.family is family)


def get(name_or_path: str) -> Endpoint:
    """Look an endpoint up by table name or API path; raises KeyError with the known names."""
    found = BY_NAME.get(name_or_path) or BY_PATH.get(name_or_path)
    if found is None:
        raise KeyError(f"unknown Rutter endpoint {name_or_path!r}; known: {', '.join(sorted(BY_NAME))}")
    return found
