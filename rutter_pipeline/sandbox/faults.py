"""Faults on demand: the next N matching requests fail the way real networks and APIs fail."""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = frozenset({"429", "452", "500", "502", "503", "slow", "drop", "truncate", "extra_item", "cursor_cycle"})


@dataclass
class Fault:
    """One armed fault: `kind` for the next `count` requests whose path starts with `path`.

    `extra_item` adds `item` (raw JSON text, sent verbatim, valid or not: `NaN`, deep nesting, a string) to the
    list of the page; `cursor_cycle` makes the page's `next_cursor` point back to the start of its list.
    """

    kind: str
    count: int
    path: str | None = None
    retry_after_s: float | None = None
    delay_s: float | None = None
    item: str | None = None


class FaultPlan:
    """The armed faults, consumed in the order they were injected."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(self, fault: Fault) -> None:
        """Arm a fault; ValueError for an unknown kind or a non-positive count."""
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {', '.join(sorted(KINDS))}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        if fault.kind == "slow" and fault.delay_s is None:
            raise ValueError("a 'slow' fault needs delay_s")
        if fault.kind == "extra_item" and not fault.item:
            raise ValueError("an 'extra_item' fault needs item (raw JSON text)")
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault that applies to a request for `path` (relative to /versioned), consuming one use."""
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
