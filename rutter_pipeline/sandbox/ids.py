"""Deterministic identifiers: the same seed always yields the same UUIDs, tokens and per-object randomness."""

from __future__ import annotations

import hashlib

_M64 = (1 << 64) - 1
_M48 = (1 << 48) - 1
# Odd multipliers make the 48-bit scramble invertible (modular inverses below).
_A48 = 0x9E3779B97F4B
_B48 = 0xC2B2AE3D27D5
_A48_INV = pow(_A48, -1, 1 << 48)
_B48_INV = pow(_B48, -1, 1 << 48)


def stable_int(*parts: object) -> int:
    """A 64-bit integer derived from the parts; used to seed per-object randomness."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def stable_uuid(*parts: object) -> str:
    """A version-4-shaped UUID string derived from the parts (same parts, same UUID)."""
    h = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def mix64(x: int) -> int:
    """SplitMix64's finaliser: 64 well-mixed bits from any integer, about fifty times cheaper than a hash."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _M64
    return x ^ (x >> 31)


class IdSpace:
    """UUID-shaped ids of one endpoint's generated objects that can be turned back into sequence numbers.

    The last twelve hex digits are an invertible scramble of the sequence number and the rest is derived
    from them, so a million generated ids need neither storage nor an index: `seq_of` reads the number
    back from the id and checks it by rebuilding the id.
    """

    def __init__(self, key: int) -> None:
        self._key = key & _M48
        self._salt = key

    def id_of(self, seq: int) -> str:
        """The id of generated object number `seq`."""
        v = self._scramble(seq)
        head = mix64(v ^ self._salt)
        h = f"{head:016x}{(head >> 7 ^ v) & 0xFF:02x}"
        return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-a{h[15:18]}-{v:012x}"

    def seq_of(self, object_id: str) -> int | None:
        """The sequence number `object_id` was made from, or None when it is not an id of this space."""
        if len(object_id) != 36:
            return None
        try:
            v = int(object_id[24:], 16)
        except ValueError:
            return None
        seq = self._unscramble(v)
        return seq if self.id_of(seq) == object_id else None

    def _scramble(self, seq: int) -> int:
        x = (seq ^ self._key) * _A48 & _M48
        x ^= x >> 24
        x = x * _B48 & _M48
        return x ^ (x >> 24)

    def _unscramble(self, v: int) -> int:
        # x ^= x >> 24 undoes itself on 48 bits; the multiplications are undone by the inverses.
        x = (v ^ (v >> 24)) * _B48_INV & _M48
        x ^= x >> 24
        return (x * _A48_INV & _M48) ^ self._key
