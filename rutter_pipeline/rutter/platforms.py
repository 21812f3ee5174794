"""Which Rutter platforms serve commerce data and which serve accounting data."""

from __future__ import annotations

from rutter_pipeline.rutter.catalog import Family

COMMERCE_PLATFORMS = frozenset(
    [
        "AMAZON",
        "EBAY",
        "ETSY",
        "FNAC",
        "WALMART",
        "SHOPEE",
        "LAZADA",
        "MERCADOLIBRE",
        "ALIBABA",
        "SHOPLINE",
        "PRESTASHOP",
        "SHOPIFY",
        "MAGENTO",
        "WOO_COMMERCE",
        "SQUARESPACE",
        "WIX",
        "SHOPER",
        "SHOPLAZZA",
        "BIG_COMMERCE",
        "SALLA",
        "ZID",
        "COMMERCELAYER",
        "WEBFLOW",
        "GUMROAD",
        "ECWID",
        "PAYPAL",
        "SQUARE",
        "STRIPE",
        "CLOVER",
        "MOLLIE",
        "PAYNL",
        "AUTHORIZENET",
        "RECHARGE",
        "CHARGIFY",
        "CHARGEBEE",
        "RECURLY",
    ]
)

ACCOUNTING_PLATFORMS = frozenset(
    [
        "KASHFLOW",
        "SAGE_INTACCT",
        "SAGE_INTACCT_V2",
        "DYNAMICS365",
        "ZOHOBOOKS",
        "EXACTONLINE",
        "FREEAGENT",
        "QUICKBOOKS",
        "QUICKBOOKS_DESKTOP",
        "FRESHBOOKS",
        "XERO",
        "SAGE_BUSINESS_CLOUD",
        "SAGE_50",
        "NETSUITE",
        "WAVE",
        "DUALENTRY",
        "MONEYBIRD",
        "SAGE200CLOUD",
        "ODOO",
        "TALLY",
        "SAGE",
    ]
)

#: Accounting platforms for which Rutter reports deletions through `/events` (others return an empty list).
DELETE_EVENT_PLATFORMS = frozenset({"QUICKBOOKS", "NETSUITE", "XERO"})


def family_of(platform: str) -> Family | None:
    """The family a platform serves, or None for a platform this project does not know yet.

    An unknown platform is not an error: the sync engine then tries every endpoint and treats a 404 as
    "not supported by this platform".
    """
    upper = platform.upper()
    if upper in COMMERCE_PLATFORMS:
        return Family.COMMERCE
    if upper in ACCOUNTING_PLATFORMS:
        return Family.ACCOUNTING
    return None
