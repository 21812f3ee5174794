"""Find the id of the object an event is about, in bodies whose shape Rutter does not document."""

from __future__ import annotations

from typing import Any


def find_object_id(payload: Any) -> str | None:
    """The object id in an event body or its `data`.

    Accepts `{"id": ...}`, `{"object_id": ...}` and the object under a key of its own (`{"order": {"id": ...}}`);
    returns None when none of these carries a non-empty string.
    """
    if not isinstance(payload, dict):
        return None
    for key in ("object_id", "id"):
        if isinstance(payload.get(key), str) and payload[key]:
            return payload[key]
    for value in payload.values():
        if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
            return value["id"]
    return None
