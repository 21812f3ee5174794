"""Rutter webhooks: signature check and parsing of the event body.

Rutter signs the raw body with the organisation's client secret: `X-Rutter-Signature: sha256=<base64
HMAC-SHA256(body)>`, with no timestamp, and may deliver one event several times. Connection events carry
`{"type": "CONNECTION", "code", "connection_id", "access_token"}`; entity events carry a code such as
`ORDER_DELETED` and, by assumption (the body is undocumented), the object under a key of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from rutter_pipeline.rutter.object_ids import find_object_id

SIGNATURE_HEADER = "X-Rutter-Signature"


class InvalidWebhook(ValueError):
    """A webhook body that is not a Rutter event; the message says why (never the body's secrets)."""


def sign(body: bytes, secret: str) -> str:
    """The `X-Rutter-Signature` value of a raw body: `sha256=<base64 HMAC-SHA256>`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether `signature` (the header's value) signs `body`; compared in constant time."""
    if not signature:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


@dataclass(frozen=True)
class WebhookEvent:
    """One parsed event. `entity`/`action` split an entity code (`ORDER_DELETED` → `ORDER`, `DELETED`)."""

    type: str
    code: str
    connection_id: str
    entity: str | None
    action: str | None
    object_id: str | None
    payload: dict[str, Any] = field(repr=False)


_ACTIONS = ("CREATED", "UPDATED", "DELETED")


def parse_event(body: bytes) -> WebhookEvent:
    """Parse and validate a webhook body.

    Raises:
        InvalidWebhook: not JSON, not an object, or without `type`, `code` or `connection_id`.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidWebhook(f"body is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict):
        raise InvalidWebhook(f"body is a JSON {type(payload).__name__}, expected an object")
    for key in ("type", "code", "connection_id"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            raise InvalidWebhook(f"event has no {key}")
    code = payload["code"].upper()
    entity, _, action = code.rpartition("_")
    if payload["type"].upper() == "CONNECTION" or action not in _ACTIONS:
        entity = action = None
    return WebhookEvent(
        type=payload["type"].upper(),
        code=code,
        connection_id=payload["connection_id"],
        entity=entity or None,
        action=action,
        object_id=find_object_id(payload) if entity else None,
        payload=payload,
    )
