"""Shaping of accounting objects: documents whose lines add up, payments linked to the documents they settle.

Payment number k settles invoice (bill) number k: fully when k % 3 != 0, half otherwise; documents past the
last payment stay open. Totals come from `document_total`, so both sides agree without reading each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.generators.schema import Context
from rutter_pipeline.sandbox.ids import stable_int
from rutter_pipeline.sandbox.isotime import iso_ms

if TYPE_CHECKING:
    from rutter_pipeline.sandbox.generators import Links

_PAYMENT_OF = {"/accounting/invoices": "/accounting/invoice_payments", "/accounting/bills": "/accounting/bill_payments"}


def document_total(links: Links, path: str, seq: int) -> float:
    """The total amount of generated invoice/bill `seq` (deterministic, cents)."""
    return (stable_int(links.conn.seed, links.conn.id, path, seq, "total") % 500_000 + 1_000) / 100


def paid_amount(links: Links, path: str, seq: int) -> float:
    """How much of generated invoice/bill `seq` its payment settles (0 when it has none)."""
    if seq >= links.count(_PAYMENT_OF[path]):
        return 0.0
    total = document_total(links, path, seq)
    return total if seq % 3 else round(total / 2, 2)


def _seq(body: dict[str, Any]) -> int:
    return int(body["platform_id"]) - 1000


def _lines_adding_up(lines: list[dict[str, Any]], total: float, *, tax_rate: float, links: Links) -> float:
    """Spread `total` (tax included) over the lines; returns the tax amount."""
    sub_total = round(total / (1 + tax_rate), 2)
    remaining = sub_total
    for n, line in enumerate(lines):
        share = remaining if n == len(lines) - 1 else round(sub_total / len(lines), 2)
        remaining = round(remaining - share, 2)
        line_tax = round(share * tax_rate, 2)
        line.update(
            sub_total=share,
            tax_amount=line_tax,
            total_amount=round(share + line_tax, 2),
            discount_amount=0.0,
            discount_percentage=0.0,
            account_id=links.pick("/accounting/accounts"),
        )
        if line.get("item") is not None:
            line["item"].update(id=links.pick("/accounting/items"), quantity=1.0, unit_amount=share)
    return round(total - sub_total, 2)


def _shape_document(doc: dict[str, Any], ctx: Context, links: Links, *, path: str, party: str) -> None:
    seq = _seq(doc)
    total = document_total(links, path, seq)
    paid = paid_amount(links, path, seq)
    tax = _lines_adding_up(doc["line_items"], total, tax_rate=0.1, links=links)
    status = "paid" if paid == total else "partially_paid" if paid else "open"
    issue = ctx.base_ms
    doc.update(
        total_amount=total,
        sub_total=round(total - tax, 2),
        tax_amount=tax,
        amount_due=round(total - paid, 2),
        status=status,
        currency_code=ctx.currency,
        issue_date=iso_ms(issue),
        due_date=iso_ms(issue + 30 * 86_400_000),
        document_number=f"{path[12:15].upper()}-{1000 + seq}",
    )
    doc[party] = links.pick("/accounting/customers" if party == "customer_id" else "/accounting/vendors")
    doc["linked_payments"] = (
        [
            {
                "id": links.nth(_PAYMENT_OF[path], seq),
                "allocated_date": iso_ms(issue + 86_400_000 * 10),
                "allocated_amount": paid,
            }
        ]
        if paid
        else []
    )
    if party == "customer_id":
        for link in doc["linked_payments"]:
            link["type"] = "INVOICE_PAYMENT"
    if "discount_amount" in doc:
        doc["discount_amount"] = 0.0
    if seq % 50 == 5:
        doc["memo"] = text.NUL_TEXT


def shape_invoice(doc: dict[str, Any], ctx: Context, links: Links) -> None:
    """An invoice to a customer of the same connection, settled by payment number `seq` if there is one."""
    _shape_document(doc, ctx, links, path="/accounting/invoices", party="customer_id")


def shape_bill(doc: dict[str, Any], ctx: Context, links: Links) -> None:
    """A bill from a vendor of the same connection, settled by bill payment number `seq` if there is one."""
    _shape_document(doc, ctx, links, path="/accounting/bills", party="vendor_id")


def shape_invoice_payment(payment: dict[str, Any], ctx: Context, links: Links) -> None:
    """Settles invoice number `seq` (money as strings, as the 2024-08-31 API sends them)."""
    seq = _seq(payment)
    amount = paid_amount(links, "/accounting/invoices", seq)
    payment.update(
        total_amount=f"{amount:.2f}",
        currency_code=ctx.currency,
        txn_date=iso_ms(ctx.base_ms),
        customer_id=links.pick("/accounting/customers"),
        account_id=links.pick("/accounting/accounts"),
    )
    payment["linked_invoices"] = [
        {"id": links.nth("/accounting/invoices", seq), "allocated_at": iso_ms(ctx.base_ms), "amount": f"{amount:.2f}"}
    ]


def shape_bill_payment(payment: dict[str, Any], ctx: Context, links: Links) -> None:
    """Settles bill number `seq`."""
    seq = _seq(payment)
    amount = paid_amount(links, "/accounting/bills", seq)
    payment.update(
        total_amount=amount,
        currency_code=ctx.currency,
        transaction_date=iso_ms(ctx.base_ms),
        vendor_id=links.pick("/accounting/vendors"),
        account_id=links.pick("/accounting/accounts"),
        status="active",
    )
    payment["linked_bills"] = [
        {"id": links.nth("/accounting/bills", seq), "allocated_date": iso_ms(ctx.base_ms), "allocated_amount": amount}
    ]
    payment["linked_credit_memos"] = []


def shape_journal_entry(entry: dict[str, Any], ctx: Context, links: Links) -> None:
    """Balanced lines: debits positive, credits negative, summing to zero."""
    amount = round(ctx.rng.uniform(10, 5000), 2)
    debit, credit = entry["line_items"][0], dict(entry["line_items"][0])
    debit.update(total_amount=amount, account_id=links.pick("/accounting/accounts"))
    credit.update(total_amount=-amount, account_id=links.pick("/accounting/accounts"))
    entry["line_items"] = [debit, credit]
    entry["currency_code"] = ctx.currency


def shape_customer(customer: dict[str, Any], ctx: Context, links: Links) -> None:
    """A customer (or vendor) with a company or person name."""
    name = text.person_or_company(ctx.rng)
    for key in ("customer_name", "vendor_name", "display_name", "contact_name"):
        if key in customer:
            customer[key] = name


def shape_bank_deposit(deposit: dict[str, Any], ctx: Context, links: Links) -> None:
    """Invoice payments of the same connection deposited into one account: the total is their sum."""
    payments = [links.pick("/accounting/invoice_payments") for _ in range(ctx.rng.randint(1, 3))]
    linked: list[dict[str, Any]] = [
        {"id": pid, "payment_amount": round(ctx.rng.uniform(50, 2500), 2), "type": "invoice_payment"}
        for pid in payments
        if pid is not None
    ]
    total = round(sum(link["payment_amount"] for link in linked), 2)
    deposit.update(
        account_id=links.pick("/accounting/accounts"),
        currency_code=ctx.currency,
        total_amount=total,
        transaction_date=iso_ms(ctx.base_ms),
        linked_payments=linked,
    )
    for line in deposit.get("line_items") or []:
        line["total_amount"] = round(total / len(deposit["line_items"]), 2)


def shape_bank_transfer(transfer: dict[str, Any], ctx: Context, links: Links) -> None:
    """Money moved between two different accounts of the same connection."""
    accounts = links.count("/accounting/accounts")
    credit = ctx.rng.randrange(accounts) if accounts else None
    debit = None if credit is None or accounts < 2 else (credit + ctx.rng.randrange(1, accounts)) % accounts
    transfer.update(
        credit_account_id=None if credit is None else links.nth("/accounting/accounts", credit),
        debit_account_id=None if debit is None else links.nth("/accounting/accounts", debit),
        currency_code=ctx.currency,
        total_amount=round(ctx.rng.uniform(100, 20_000), 2),
        transaction_date=iso_ms(ctx.base_ms),
        location_id=links.pick("/accounting/locations"),
        class_id=links.pick("/accounting/classes"),
        department_id=links.pick("/accounting/departments"),
    )


_TRANSACTION_TYPES = (
    "invoice",
    "invoice_payment",
    "bill",
    "bill_payment",
    "expense",
    "journal_entry",
    "bank_deposit",
    "bank_transfer",
)


def shape_transaction(transaction: dict[str, Any], ctx: Context, links: Links) -> None:
    """A ledger transaction of one of the documented document kinds."""
    transaction["rutter_transaction_type"] = ctx.rng.choice(_TRANSACTION_TYPES)
    transaction["transaction_date"] = iso_ms(ctx.base_ms)


_CURRENCIES = {
    "USD": "US Dollar",
    "EUR": "Euro",
    "GBP": "British Pound",
    "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar",
    "JPY": "Japanese Yen",
}


def shape_currency(currency: dict[str, Any], ctx: Context, links: Links) -> None:
    """The connection's home currency first, then other common ones (codes repeat past the sixth)."""
    codes = [ctx.currency, *(code for code in _CURRENCIES if code != ctx.currency)]
    # Currencies have no platform_id: the sequence number is the last part of the object's key.
    code = codes[int(ctx.key.rsplit(":", 1)[-1]) % len(codes)]
    currency.update(currency_code=code, currency_name=_CURRENCIES.get(code, code))


_TERMS = ((0, "Due on receipt"), (15, "Net 15"), (30, "Net 30"), (45, "Net 45"), (60, "Net 60"), (90, "Net 90"))


def shape_payment_term(term: dict[str, Any], ctx: Context, links: Links) -> None:
    """Net-N terms, one in three with an early-payment discount (2/10 net 30 style)."""
    days, name = _TERMS[_seq(term) % len(_TERMS)]
    discounted = _seq(term) % 3 == 2 and days >= 30
    term.update(
        due_days=float(days),
        term_name=f"2/10 {name}" if discounted else name,
        discount_days=10.0 if discounted else None,
        discount_percent=2.0 if discounted else None,
    )


def shape_location(location: dict[str, Any], ctx: Context, links: Links) -> None:
    """A place of business with a city name; the first has the others under it."""
    seq = _seq(location)
    location.update(
        name=f"{text.person_or_company(ctx.rng).split()[0]} {'Head office' if seq == 0 else 'branch'}",
        parent_id=None if seq == 0 else links.nth("/accounting/locations", 0),
        has_children=seq == 0,
        status="active",
    )


SHAPERS = {
    "/accounting/bank_deposits": shape_bank_deposit,
    "/accounting/bank_transfers": shape_bank_transfer,
    "/accounting/transactions": shape_transaction,
    "/accounting/currencies": shape_currency,
    "/accounting/payment_terms": shape_payment_term,
    "/accounting/locations": shape_location,
    "/accounting/invoices": shape_invoice,
    "/accounting/bills": shape_bill,
    "/accounting/invoice_payments": shape_invoice_payment,
    "/accounting/bill_payments": shape_bill_payment,
    "/accounting/journal_entries": shape_journal_entry,
    "/accounting/customers": shape_customer,
    "/accounting/vendors": shape_customer,
}
