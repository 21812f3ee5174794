"""The sandbox's index of objects: one SQLite row per object, rendered into JSON only when served.

A row keeps what lists are ordered and filtered by (timestamps), whether and when the object was deleted,
the full body once the object was changed (`body`), and a change that Rutter has not picked up yet (`pending`,
made visible by the next refresh). Untouched objects have no body: they are rendered from the seed, which is
what keeps a million orders in bounded memory. Generated objects have no stored id either: their ids are
derived from (connection, endpoint, sequence number), see `ids.IdSpace`; only created objects store theirs.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

#: Stored instead of NULL for a missing created_at/updated_at so keyset ordering stays total.
NULL_MS = -1
#: Where a null created_at/updated_at sorts when nulls go last: above every real timestamp.
_NULL_LAST_MS = 2**62
#: Where null timestamps sort in ascending order (descending order is the reverse), as SQL databases differ:
#: first as in MySQL and SQLite, last as in PostgreSQL. Rutter's choice is not documented.
NULL_ORDERS = ("first", "last")

SORT_COLUMNS = {"created_at": "created_ms", "updated_at": "updated_ms", "last_synced_at": "synced_ms"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    conn INTEGER NOT NULL, ep INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, synced_ms INTEGER NOT NULL,
    deleted_ms INTEGER, body BLOB, pending BLOB, touched INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conn, ep, seq)
) WITHOUT ROWID;
"""
# Lists read live objects only, so the ordering indexes leave deleted ones out. `by_updated` also carries
# created_ms: a window of created_at read in updated_at order (the commerce default) is then checked without
# visiting the table. Only accounting objects are listed in another order, and all of them (and only them)
# have a last_synced_at: `by_created` and `by_synced` leave commerce out, and generated objects have no
# stored id, so a million-order store adds nothing to those three indexes.
_ACCOUNTING_LIVE = f"synced_ms <> {NULL_MS} AND deleted_ms IS NULL"
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS by_updated ON objects (conn, ep, updated_ms, seq, created_ms) WHERE deleted_ms IS NULL",
    f"CREATE INDEX IF NOT EXISTS by_created ON objects (conn, ep, created_ms, seq) WHERE {_ACCOUNTING_LIVE}",
    f"CREATE INDEX IF NOT EXISTS by_synced ON objects (conn, ep, synced_ms, seq) WHERE {_ACCOUNTING_LIVE}",
    "CREATE INDEX IF NOT EXISTS by_id ON objects (conn, ep, id) WHERE id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS by_deleted ON objects (conn, deleted_ms) WHERE deleted_ms IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS by_touched ON objects (touched) WHERE touched = 1",
)
_COLUMNS = "seq, id, created_ms, updated_ms, synced_ms, deleted_ms, body, pending"
#: SQLite page cache: enough for the hot part of the indexes, small enough to keep RSS flat at a million rows.
_CACHE_KIB = 16_384


class Row(NamedTuple):
    """One indexed object (a tuple: a page builds hundreds of them)."""

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


#: `ids(conn, ep)` gives the id function of one endpoint's generated objects (sequence number → id).
GeneratedIds = Callable[[int, int], Callable[[int], str]]


class Store:
    """Thread-safe access to the SQLite index (one connection guarded by a lock).

    Args:
        path: the SQLite file.
        generated_ids: how ids of generated objects (stored as NULL) are derived from their sequence numbers.
    """

    def __init__(self, path: str, *, generated_ids: GeneratedIds, nulls: str = "first") -> None:
        if nulls not in NULL_ORDERS:
            raise ValueError(f"nulls must be one of {', '.join(NULL_ORDERS)}, got {nulls!r}")
        self.nulls = nulls
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._generated_ids = generated_ids
        # The index is rebuilt from the seed on every start, so durability buys nothing.
        pragmas = (
            "page_size=16384",
            "journal_mode=OFF",
            "synchronous=OFF",
            f"cache_size=-{_CACHE_KIB}",
            "temp_store=FILE",
            "threads=2",
        )
        for pragma in pragmas:
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def insert_many(self, rows: Iterable[tuple[int, int, int, int, int, int]]) -> None:
        """Bulk-insert generated objects `(conn, ep, seq, created_ms, updated_ms, synced_ms)` in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO objects (conn, ep, seq, created_ms, updated_ms, synced_ms) VALUES (?,?,?,?,?,?)", rows
            )
            self._db.execute("COMMIT")

    def build_indexes(self) -> None:
        """Create the secondary indexes (after bulk inserts: much faster than maintaining them row by row)."""
        with self._lock:
            for statement in _INDEXES:
                self._db.execute(statement)
            self._db.execute("PRAGMA shrink_memory")

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
        """Live objects in keyset order `(sort_column, seq)`, strictly after the `after` position.

        Orders other than `updated_ms`, and bounds on `synced_ms`, see only objects with a last_synced_at
        (accounting objects: the only ones the API lists that way). A null timestamp matches no bound, as in
        SQL; where it sorts follows `nulls` (`after` holds `sort_value` positions).
        """
        where = ["conn = ?", "ep = ?", "deleted_ms IS NULL"]
        args: list[Any] = [conn, ep]
        for bound in bounds:
            where.append(f"{bound.column} {bound.op} ?")
            args.append(bound.value)
            where.append(f"{bound.column} <> {NULL_MS}")
        if sort_column != "updated_ms" or any(b.column == "synced_ms" for b in bounds):
            # Only accounting lists take these; the condition (true for every accounting object) lets SQLite
            # use the indexes that leave commerce out.
            where.append(f"synced_ms <> {NULL_MS}")
        key = self._sort_key(sort_column)
        if after is not None:
            where.append(f"({key}, seq) {'<' if descending else '>'} (?, ?)")
            args.extend(after)
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM objects WHERE {' AND '.join(where)} "
            f"ORDER BY {key} {direction}, seq {direction} LIMIT ?"
        )
        args.append(limit)
        with self._lock:
            found = self._db.execute(sql, args).fetchall()
        return self._rows(conn, ep, found)

    def sort_value(self, row: Row, sort_column: str) -> int:
        """The row's position in `sort_column` order (what a cursor keeps)."""
        value = getattr(row, sort_column)
        if value == NULL_MS and self.nulls == "last" and sort_column != "synced_ms":
            return _NULL_LAST_MS
        return value

    def _sort_key(self, sort_column: str) -> str:
        # last_synced_at is never null. Commerce lists (updated_at order) have no nulls either, so the plain
        # column keeps its index for the million-order store.
        if self.nulls == "first" or sort_column == "synced_ms":
            return sort_column
        return f"(CASE WHEN {sort_column} = {NULL_MS} THEN {_NULL_LAST_MS} ELSE {sort_column} END)"

    def all_rows(self, *, conn: int, ep: int, deleted: bool = False) -> list[Row]:
        """Every live (or every deleted) object of one endpoint, in generation order."""
        condition = "deleted_ms IS NOT NULL" if deleted else "deleted_ms IS NULL"
        sql = f"SELECT {_COLUMNS} FROM objects WHERE conn = ? AND ep = ? AND {condition} ORDER BY seq"
        with self._lock:
            found = self._db.execute(sql, (conn, ep)).fetchall()
        return self._rows(conn, ep, found)

    def find(self, *, conn: int, ep: int, object_id: str) -> Row | None:
        """The row of one object with a stored id (a created one, deleted ones included), or None."""
        sql = f"SELECT {_COLUMNS} FROM objects WHERE conn = ? AND ep = ? AND id = ?"
        with self._lock:
            found = self._db.execute(sql, (conn, ep, object_id)).fetchall()
        return self._rows(conn, ep, found)[0] if found else None

    def get(self, *, conn: int, ep: int, seq: int) -> Row | None:
        """The row of object number `seq` (deleted ones included), or None."""
        sql = f"SELECT {_COLUMNS} FROM objects WHERE conn = ? AND ep = ? AND seq = ?"
        with self._lock:
            found = self._db.execute(sql, (conn, ep, seq)).fetchall()
        return self._rows(conn, ep, found)[0] if found else None

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
        sql = f"SELECT ep, {_COLUMNS} FROM objects WHERE {where} ORDER BY deleted_ms, ep, seq LIMIT ?"
        args.append(limit)
        with self._lock:
            found = self._db.execute(sql, args).fetchall()
        return [self._rows(conn, r[0], [r[1:]])[0] for r in found]

    def _rows(self, conn: int, ep: int, found: list[tuple[Any, ...]]) -> list[Row]:
        id_of = self._generated_ids(conn, ep)
        return [
            Row(
                ep,
                seq,
                object_id if object_id is not None else id_of(seq),
                created,
                updated,
                synced,
                deleted,
                body,
                pending,
            )
            for seq, object_id, created, updated, synced, deleted, body, pending in found
        ]
