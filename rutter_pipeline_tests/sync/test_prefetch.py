"""Pages fetched ahead arrive in order, errors surface where they happened, and an early stop ends the reader."""

from __future__ import annotations

import threading
import time

import pytest

from rutter_pipeline.sync.prefetch import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(iter(range(100)), depth=2)) == list(range(100))


def test_an_error_while_fetching_reaches_the_consumer_after_the_items_before_it():
    def pages():
        yield 1
        yield 2
        raise ConnectionError("socket closed")

    seen = []
    with pytest.raises(ConnectionError, match="socket closed"):
        for item in prefetched(pages()):
            seen.append(item)
    assert seen == [1, 2]


def test_the_reader_stays_at_most_depth_ahead_and_stops_when_the_consumer_does():
    produced = []

    def pages():
        for number in range(1_000):
            produced.append(number)
            yield number

    stream = prefetched(pages(), depth=2)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(produced) <= 4  # the one handed over, two queued, one waiting to be queued
    stream.close()
    time.sleep(0.3)
    assert len(produced) <= 4
    assert not any(t.name == "rutter-prefetch" and t.is_alive() for t in threading.enumerate())
