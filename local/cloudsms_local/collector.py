"""Python's full garbage collections, made while the local stack is idle.

A full collection (of the oldest generation) walks every object a process holds. The
emulator holds every item and stream record of the run, and the stack's process every
function's loaded code and clients: with a 10,000-message mission draining, Python made
one in each process every ten seconds or so, taking up to 0.3 s, and all that process's
threads stood still meanwhile, a verify code's too (measured with `gc.callbacks`).
Lambda and DynamoDB have no such pause, so the local stack schedules them: automatic
full collections are off, and one is made once the process has been idle (no request
begun, no function invoked) for IDLE seconds, or at the latest OVERDUE seconds after the
last, so that a load that never pauses does not keep its garbage forever. As Python
does, a full collection waits until the younger generations have been collected
YOUNGER_COLLECTIONS times since the last, and here also MIN_GAP seconds (a process busy
outside the functions, such as the tests', would otherwise make one four times a
second). The younger generations are collected as usual; that takes milliseconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

IDLE = 1.0  # seconds without work before a full collection is made
OVERDUE = 300.0  # seconds after which one is made even under load
MIN_GAP = 5.0  # seconds at least between two
YOUNGER_COLLECTIONS = 10  # Python's default threshold for the oldest generation
# A threshold the oldest generation's count never reaches: Python then never starts a
# full collection on its own.
NEVER = 2**30


class IdleCollector:
    def __init__(
        self,
        idle: float = IDLE,
        overdue: float = OVERDUE,
        min_gap: float = MIN_GAP,
        clock: Callable[[], float] = time.monotonic,
        pending: Callable[[], int] = lambda: gc.get_count()[2],
    ) -> None:
        self.idle = idle
        self.overdue = overdue
        self.min_gap = min_gap
        self.clock = clock
        # The oldest generation's count: the younger collections since its last one.
        self.pending = pending
        self.last_busy = self.last_collection = clock()
        self.collections = 0

    def busy(self) -> None:
        self.last_busy = self.clock()

    def due(self) -> bool:
        now = self.clock()
        since_last = now - self.last_collection
        if self.pending() < YOUNGER_COLLECTIONS or since_last < self.min_gap:
            return False
        return now - self.last_busy >= self.idle or since_last >= self.overdue

    def collect_if_due(self) -> bool:
        if not self.due():
            return False
        gc.collect()
        self.last_collection = self.clock()
        self.collections += 1
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.idle / 4):
            self.collect_if_due()


_collector: IdleCollector | None = None
_guard = threading.Lock()


def busy() -> None:
    """Notes work in this process (nothing happens unless `install` was called)."""
    if _collector is not None:
        _collector.busy()


def install() -> IdleCollector:
    """Turns this process's automatic full collections off and makes them while idle;
    once per process."""
    global _collector
    with _guard:
        if _collector is None:
            _collector = IdleCollector()
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, NEVER)
            thread = threading.Thread(
                target=_collector.run, args=(threading.Event(),), daemon=True, name="collector"
            )
            thread.start()
        return _collector
