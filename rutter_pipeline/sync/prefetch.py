"""Read the next pages while the current batch is being written."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def prefetched(items: Iterable[T], *, depth: int = 2) -> Iterator[T]:
    """Iterate `items` on a background thread, at most `depth` items ahead of the consumer.

    Fetching and decoding a page (network, JSON) then overlaps with merging the previous batch (mostly the
    database's work), and memory stays bounded by `depth` pages. An exception raised while fetching is raised
    to the consumer at the point it would have occurred.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put((_END, error))
            return
        put((_END, None))

    worker = threading.Thread(target=produce, name="rutter-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        # The consumer stopped (done, or failed while writing): let the producer finish its request and exit.
        stopped.set()
