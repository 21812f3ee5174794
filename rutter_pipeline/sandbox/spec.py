"""The 2024-08-31 field catalog the sandbox renders objects from (a copy of the public spec digest)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_CATALOG_FILE = Path(__file__).parent / "data" / "rutter-fields-2024-08-31.json"

#: Paths that are not object lists served from generated data.
ORG_PATHS = frozenset({"/events", "/connections", "/connections/status", "/connections/access_token"})


@functools.cache
def catalog() -> dict[str, Any]:
    """The whole field catalog (parsed once)."""
    return json.loads(_CATALOG_FILE.read_text())


@functools.cache
def endpoint_specs() -> dict[str, dict[str, Any]]:
    """Catalog entries of the data endpoints, by path (`/orders`, `/accounting/invoices`, ...)."""
    return {e["path"]: e for e in catalog()["endpoints"] if e["path"] not in ORG_PATHS}


def spec_for(path: str) -> dict[str, Any]:
    """The catalog entry of one endpoint path (data endpoints and the organisation-level ones)."""
    for entry in catalog()["endpoints"]:
        if entry["path"] == path:
            return entry
    raise KeyError(path)


def shared_enum(name: str) -> list[str]:
    """A large enum stored once in the catalog (`Platform`, `iso_4217_currency_code`, ...)."""
    return catalog()["enums_shared"][name]
