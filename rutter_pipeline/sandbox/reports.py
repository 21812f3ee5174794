"""Financial statements: one statement per calendar month overlapping `[start_date, end_date]`, totals that tie."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rutter_pipeline.rutter.timeutil import from_ms, iso_to_ms, ms_to_iso, to_ms
from rutter_pipeline.sandbox.errors import bad_request
from rutter_pipeline.sandbox.generators.schema import Context, compile_object
from rutter_pipeline.sandbox.ids import stable_int, stable_uuid
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import endpoint_specs
from rutter_pipeline.sandbox.world import World

MAX_MONTHS = 120


@functools.cache
def _plan(path: str) -> Callable[[Context], dict[str, Any]]:
    return compile_object(endpoint_specs()[path]["fields"])


def _month_starts(start_ms: int, end_ms: int) -> list[int]:
    moment = from_ms(start_ms)
    year, month = moment.year, moment.month
    starts: list[int] = []
    while True:
        first = to_ms(datetime(year, month, 1, tzinfo=UTC))
        if first > end_ms:
            return starts
        starts.append(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _parse_date(name: str, raw: str) -> int:
    try:
        return iso_to_ms(raw)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date, got {raw!r}") from None


def report_page(*, world: World, conn: SandboxConnection, path: str, query: dict[str, str]) -> dict[str, Any]:
    """Statements of the months in the requested range (default: the twelve months before the anchor)."""
    end = _parse_date("end_date", query["end_date"]) if "end_date" in query else world.anchor_ms - 1
    start = _parse_date("start_date", query["start_date"]) if "start_date" in query else end - 364 * 86_400_000
    if start > end:
        raise bad_request("start_date must not be after end_date")
    months = _month_starts(start, end)
    if len(months) > MAX_MONTHS:
        raise bad_request(f"at most {MAX_MONTHS} months per request")
    spec = endpoint_specs()[path]
    statements = [_statement(conn, path, first) for first in months if first < world.anchor_ms]
    return {spec["response_key"]: statements, "next_cursor": None, "connection": conn.envelope()}


def _money(value: float) -> str:
    return f"{value:.2f}"


def _statement(conn: SandboxConnection, path: str, month_start: int) -> dict[str, Any]:
    month_end = _month_starts(month_start + 32 * 86_400_000, month_start + 32 * 86_400_000)[0] - 1
    rng = random.Random(stable_int(conn.seed, conn.id, path, month_start))
    ctx = Context(rng=rng, base_ms=month_start, currency=conn.currency, key=f"{conn.id}:{path}:{month_start}")
    body = _plan(path)(ctx)
    a, b, c = (round(rng.uniform(1_000, 90_000), 2) for _ in range(3))
    body.update(
        id=stable_uuid(conn.id, path, month_start),
        start_date=ms_to_iso(month_start),
        end_date=ms_to_iso(month_end),
        currency_code=conn.currency,
        created_at=ms_to_iso(month_end + 1),
        updated_at=ms_to_iso(month_end + 1),
    )
    if path.endswith("balance_sheets"):
        totals = {"total_liabilities": a, "total_equity": b, "total_assets": a + b}
        sections = {"assets": a + b, "liabilities": a, "equity": b}
    elif path.endswith("income_statements"):
        income, cost, expenses = a + b, a / 2, c / 3
        gross = income - cost
        totals = {
            "total_income": income,
            "total_cost_of_sales": cost,
            "gross_profit": gross,
            "total_expenses": expenses,
            "net_income": gross - expenses,
            "net_operating_income": gross - expenses,
            "net_profit": gross - expenses,
            "net_sales": income,
        }
        sections = {"income": income, "cost_of_sales": cost, "expenses": expenses}
    else:
        operating, investing, financing = a / 10, -b / 20, c / 30
        totals = {
            "starting_balance": a,
            "total_operating": operating,
            "total_investing": investing,
            "total_financing": financing,
            "ending_balance": a + operating + investing + financing,
            "gross_cash_in_flow": operating + financing,
            "gross_cash_out_flow": -investing,
        }
        sections = {
            "operating_activities": operating,
            "investing_activities": investing,
            "financing_activities": financing,
        }
    body.update({key: _money(value) for key, value in totals.items() if key in body})
    for key, value in sections.items():
        if body.get(key) is not None:
            body[key].update(name=key.replace("_", " ").title(), value=_money(value), items=[])
    return body
