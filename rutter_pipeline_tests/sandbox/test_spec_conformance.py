"""Every endpoint's responses validate against the 2024-08-31 field catalog: keys, nullability, types, enums."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from rutter_pipeline.sandbox import Sandbox
from rutter_pipeline.sandbox.spec import catalog

CATALOG = catalog()
ENDPOINTS = {e["path"]: e for e in CATALOG["endpoints"]}
_JSON_TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict, "array": list}


def _problems(value: Any, spec: dict[str, Any], where: str) -> list[str]:
    if value is None:
        ok = spec.get("nullable") or spec.get("enum_null_member") or spec.get("type") in ("null", "any")
        return [] if ok or "null" in spec.get("type", "").split("|") else [f"{where}: null but not nullable"]
    kinds = [k for k in spec.get("type", "any").split("|") if k not in ("null", "any")]
    if kinds and not any(
        isinstance(value, _JSON_TYPES.get(k, object)) and not (k in ("number", "integer") and isinstance(value, bool))
        for k in kinds
    ):
        return [f"{where}: {type(value).__name__} is not {spec['type']}"]
    if spec.get("enum") and not spec.get("enum_open") and value not in spec["enum"]:
        return [f"{where}: {value!r} not in {spec['enum']}"]
    found: list[str] = []
    if isinstance(value, dict) and spec.get("fields"):
        found += _object_problems(value, spec["fields"], where)
    if isinstance(value, list) and isinstance(spec.get("items"), dict) and not spec["items"].get("recursive"):
        for n, item in enumerate(value):
            found += _problems(item, spec["items"], f"{where}[{n}]")
    return found


def _object_problems(obj: dict[str, Any], fields: dict[str, Any], where: str) -> list[str]:
    found = [
        f"{where}.{name}: required key missing"
        for name, spec in fields.items()
        if spec.get("required") and name not in obj
    ]
    for name, value in obj.items():
        if name in fields:
            found += _problems(value, fields[name], f"{where}.{name}")
    return found


def _fetch(sb: Sandbox, http: requests.Session, path: str) -> dict[str, Any]:
    family = ENDPOINTS[path]["family"]
    token = sb.access_token("SHOPIFY" if family == "commerce" else "QUICKBOOKS")
    params: dict[str, Any] = (
        {"access_token": token, "limit": 200} if ENDPOINTS[path]["kind"] == "list" else {"access_token": token}
    )
    response = http.get(f"{sb.base_url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("path", [p for p, e in ENDPOINTS.items() if e["family"] in ("commerce", "accounting")])
def test_endpoint_matches_catalog(sandbox_session: Sandbox, rutter_http: requests.Session, path: str) -> None:
    spec = ENDPOINTS[path]
    body = _fetch(sandbox_session, rutter_http, path)
    for key, envelope in spec["envelope"].items():
        if envelope.get("required"):
            assert key in body, f"envelope key {key} missing"
    payload = body[spec["response_key"]]
    objects = payload if isinstance(payload, list) else [payload]
    assert objects, f"{path} served nothing"
    problems = [p for n, obj in enumerate(objects) for p in _object_problems(obj, spec["fields"], f"{path}[{n}]")]
    assert problems == []
    if "connection" in spec["envelope"]:
        assert set(body["connection"]) == {"id", "orgId", "platform"}


@pytest.mark.parametrize("path", ["/connections", "/connections/status", "/connections/access_token", "/events"])
def test_org_endpoints_match_catalog(sandbox: Sandbox, rutter_http: requests.Session, path: str) -> None:
    conn = sandbox.connection_id("QUICKBOOKS")
    sandbox.delete(conn, "/accounting/bills", next(iter(sandbox.truth(conn, "/accounting/bills")))["id"])
    params = {"access_token": sandbox.access_token("QUICKBOOKS"), "type": "object_deleted"}
    body = rutter_http.get(
        f"{sandbox.base_url}{path}", params=params if path != "/connections" else {}, timeout=30
    ).json()
    spec = ENDPOINTS[path]
    payload = body[spec["response_key"]]
    objects = payload if isinstance(payload, list) else [payload]
    assert objects
    problems = [p for n, obj in enumerate(objects) for p in _object_problems(obj, spec["fields"], f"{path}[{n}]")]
    assert problems == []
