"""Transactions that lose a race with a concurrent writer (a deadlock, a lock wait cut short) are run again.

Concurrent writers of one table (two windows of a connection, a backfill and an incremental pull) lock rows in
the same order, but MariaDB's InnoDB still deadlocks now and then on the gaps between keys that both insert
into. The database then rolls the whole transaction back (InnoDB) or aborts it (PostgreSQL): the cure is to run
the transaction again from its start, not to treat a row as bad.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

log = logging.getLogger("rutter_pipeline.warehouse")

T = TypeVar("T")

#: PostgreSQL: deadlock detected, serialization failure, lock not available.
_POSTGRES_CONFLICTS = frozenset({"40P01", "40001", "55P03"})
#: MySQL/MariaDB: deadlock found, lock wait timeout exceeded.
_MYSQL_CONFLICTS = frozenset({1213, 1205})

#: How many times a transaction is tried before its conflict is raised.
ATTEMPTS = 6


def is_lock_conflict(error: BaseException) -> bool:
    """Whether a database error means the transaction lost a race with another writer (so retrying cures it).

    The whole chain of causes counts: after InnoDB rolls a deadlocked transaction back, what surfaces is the
    failure to roll back to a savepoint that no longer exists, caused by the deadlock.
    """
    return _conflict(error) is not None


def _conflict(error: BaseException) -> BaseException | None:
    """The lock conflict in the error's chain of causes, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        original = getattr(current, "orig", None) or current
        code = original.args[0] if getattr(original, "args", None) else None
        if getattr(original, "sqlstate", None) in _POSTGRES_CONFLICTS or (
            isinstance(code, int) and code in _MYSQL_CONFLICTS
        ):
            return original
        current = current.__cause__ or current.__context__
    return None


def in_transaction(engine: sa.Engine, work: Callable[[sa.Connection], T], *, attempts: int = ATTEMPTS) -> T:
    """Run `work` in a transaction of its own and commit; run it again from the start after a lock conflict.

    `work` must do nothing outside the transaction that a second run would repeat (count what it did from its
    return value, after this returns).
    """
    attempt = 1
    while True:
        try:
            with engine.begin() as tx:
                return work(tx)
        except (sa.exc.DBAPIError, engine.dialect.loaded_dbapi.Error) as error:
            conflict = _conflict(error)
            if attempt >= attempts or conflict is None:
                raise
            delay = random.uniform(0.01, 0.05) * attempt
            reason = str(conflict).strip().splitlines()[0]
            log.warning(
                "a transaction lost a race with another writer (%s); attempt %d, again in %.2fs", reason, attempt, delay
            )
            time.sleep(delay)
            attempt += 1
