"""The sandbox's index of objects: one SQLite row per object, rendered into JSON only when served.

A row keeps what lists are ordered and filtered by (ids and timestamps), whether and when the object was
deleted, the full body once the object was changed (`body`), and a change that Rutter has not picked up yet
(`pending`, made visible by the next refresh). Untouched objects have no body: they are rendered from the seed,
which is what keeps a million orders in bounded memory.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Stored instead of NULL for a missing created_at/updated_at so keyset ordering stays total.
NULL_MS = -1

SORT_COLUMNS = {"created_at": "created_ms", "updated_at": "updated_ms", "last_synced_at": "synced_ms"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    conn INTEGER NOT NULL, ep INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, synced_ms INTEGER NOT NULL,
    deleted_ms INTEGER, body BLOB, pending BLOB, touched INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conn, ep, seq)
) WITHOUT ROWID;
"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS by_updated ON objects (conn, ep, updated_ms, seq)",
    "CREATE INDEX IF NOT EXISTS by_created ON objects (conn, ep, created_ms, seq)",
    "CREATE INDEX IF NOT EXISTS by_synced ON objects (conn, ep, synced_ms, seq)",
    "CREATE INDEX IF NOT EXISTS by_id ON objects (conn, ep, id)",
    "CREATE INDEX IF NOT EXISTS by_deleted ON objects (conn, deleted_ms) WHERE deleted_ms IS NOT NULL",
)
_COLUMNS = "seq, id, created_ms, updated_ms, synced_ms, deleted_ms, body, pending"


@dataclass(frozen=True)
class Row:
    """One indexed object."""

    ep: int
    seq: int
    id: str
    created_ms: int
    updated_ms: int
    synced_ms: int
    deleted_ms: int | None
    body: bytes | None
    pending: bytes | None


@dataclass(frozen=True)
class Bound:
    """A condition on an indexed timestamp column: `column op value` (op one of >=, <=, >, <, =)."""

    column: str
    op: str
    value: int


class Store:
    """Thread-safe access to the SQLite index (one connection guarded by a lock)."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-65536", "temp_store=MEMORY"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def insert_many(self, rows: Iterable[tuple[int, int, int, str, int, int, int]]) -> None:
        """Bulk-insert generated objects `(conn, ep, seq, id, created_ms, updated_ms, synced_ms)`."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO objects (conn, ep, seq, id, created_ms, updated_ms, synced_ms) VALUES (?,?,?,?,?,?,?)",
                rows,
            )
            self._db.execute("COMMIT")

    def build_indexes(self) -> None:
        """Create the secondary indexes (after bulk inserts: much faster than maintaining them row by row)."""
        with self._lock:
            for statement in _INDEXES:
                self._db.execute(statement)

    def page(
        self,
        *,
        conn: int,
        ep: int,
        sort_column: str,
        descending: bool,
        bounds: Sequence[Bound],
        after: tuple[int, int] | None,
        limit: int,
    ) -> list[Row]:
        """Live objects in keyset order `(sort_column, seq)`, strictly after the `after` position."""
        where = ["conn = ?", "ep = ?", "deleted_ms IS NULL"]
        args: list[Any] = [conn, ep]
        for bound in bounds:
            where.append(f"{bound.column} {bound.op} ?")
            args.append(bound.value)
            if bound.op in ("<", "<=", "="):
                where.append(f"{bound.column} <> {NULL_MS}")
        if after is not None:
            where.append(f"({sort_column}, seq) {'<' if descending else '>'} (?, ?)")
            args.extend(after)
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM objects WHERE {' AND '.join(where)} "
            f"ORDER BY {sort_column} {direction}, seq {direction} LIMIT ?"
        )
        args.append(limit)
        with self._lock:
            found = self._db.execute(sql, args).fetchall()
        return [Row(ep, *r) for r in found]

    def all_rows(self, *, conn: int, ep: int, deleted: bool = False) -> list[Row]:
        """Every live (or every deleted) object of one endpoint, in generation order."""
        condition = "deleted_ms IS NOT NULL" if deleted else "deleted_ms IS NULL"
        sql = f"SELECT {_COLUMNS} FROM objects WHERE conn = ? AND ep = ? AND {condition} ORDER BY seq"
        with self._lock:
            return [Row(ep, *r) for r in self._db.execute(sql, (conn, ep)).fetchall()]

    def find(self, *, conn: int, ep: int, object_id: str) -> Row | None:
        """The row of one object by id (deleted ones included), or None."""
        sql = f"SELECT {_COLUMNS} FROM objects WHERE conn = ? AND ep = ? AND id = ?"
        with self._lock:
            found = self._db.execute(sql, (conn, ep, object_id)).fetchone()
        return Row(ep, *found) if found else None

    def next_seq(self, *, conn: int, ep: int) -> int:
        """The sequence number a newly created object of this endpoint gets."""
        with self._lock:
            (top,) = self._db.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM objects WHERE conn = ? AND ep = ?", (conn, ep)
            ).fetchone()
        return int(top)

    def write(self, *, conn: int, ep: int, seq: int, values: dict[str, Any]) -> None:
        """Insert a new row (when `values` has an `id`) or update columns of an existing one."""
        if "id" in values:
            columns = ["conn", "ep", "seq", *values]
            sql = f"INSERT INTO objects ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            args: tuple[Any, ...] = (conn, ep, seq, *values.values())
        else:
            sql = f"UPDATE objects SET {', '.join(f'{c} = ?' for c in values)} WHERE conn = ? AND ep = ? AND seq = ?"
            args = (*values.values(), conn, ep, seq)
        with self._lock:
            self._db.execute(sql, args)

    def touched(self) -> list[tuple[int, int, int, bytes | None]]:
        """Rows changed since the last refresh: `(conn, ep, seq, pending)`."""
        with self._lock:
            return self._db.execute("SELECT conn, ep, seq, pending FROM objects WHERE touched = 1").fetchall()

    def deleted_page(
        self, *, conn: int, eps: Sequence[int], since_ms: int, after: tuple[int, int, int] | None, limit: int
    ) -> list[Row]:
        """Deleted objects of the given endpoints, oldest deletion first, after a keyset position."""
        marks = ",".join("?" * len(eps))
        where = f"conn = ? AND deleted_ms IS NOT NULL AND deleted_ms >= ? AND ep IN ({marks})"
        args: list[Any] = [conn, since_ms, *eps]
        if after is not None:
            where += " AND (deleted_ms, ep, seq) > (?, ?, ?)"
            args.extend(after)
        sql = (
            f"SELECT ep, {_COLUMNS} FROM objects WHERE {where} ORDER BY deleted_ms, ep, seq LIMIT ?"
        )
        args.append(limit)
        with self._lock:
            return [Row(*r) for r in self._db.execute(sql, args).fetchall()]
