"""Deterministic identifiers: the same seed always yields the same UUIDs, tokens and per-object randomness."""

from __future__ import annotations

import hashlib


def stable_int(*parts: object) -> int:
    """A 64-bit integer derived from the parts; used to seed per-object randomness."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def stable_uuid(*parts: object) -> str:
    """A version-4-shaped UUID string derived from the parts (same parts, same UUID)."""
    h = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
