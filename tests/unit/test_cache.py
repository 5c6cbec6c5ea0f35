"""The time-bounded memo: how long it remembers, and looking up ahead of the end."""

import threading
import time

from cloudsms import cache


class Lookups:
    """Counts lookups; each answers the next number."""

    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Event()

    def __call__(self, key: str) -> int:
        self.count += 1
        self.done.set()
        return self.count


def _clock(monkeypatch, start: float = 1000.0) -> list[float]:
    now = [start]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    return now


def test_a_result_is_remembered_for_its_seconds_then_looked_up_again(monkeypatch):
    now = _clock(monkeypatch)
    lookups = Lookups()
    cached = cache.ttl_cache(5)(lookups)

    assert (cached("a"), cached("a")) == (1, 1)
    now[0] += 5.1
    assert cached("a") == 2


def test_a_read_near_the_end_answers_at_once_and_looks_up_ahead(monkeypatch):
    now = _clock(monkeypatch)
    lookups = Lookups()
    cached = cache.ttl_cache(5, refresh_ahead=2)(lookups)
    cached("a")
    lookups.done.clear()

    now[0] += 3.5  # within the last two seconds
    answered = cached("a")

    assert answered == 1  # nobody waited for the lookup
    assert lookups.done.wait(5)
    deadline = time.time() + 5
    while cached("a") != 2 and time.time() < deadline:
        time.sleep(0.01)
    now[0] += 2.5  # past the first entry's end, well within the new one's
    assert cached("a") == 2 and lookups.count == 2


def test_a_read_past_the_end_waits_for_its_lookup_even_with_lookups_ahead(monkeypatch):
    now = _clock(monkeypatch)
    lookups = Lookups()
    cached = cache.ttl_cache(5, refresh_ahead=2)(lookups)
    cached("a")

    now[0] += 6
    assert cached("a") == 2


def _remembered() -> int:
    """How many entries the cache made last holds."""
    return len(cache._all_caches[-1])


def test_an_entry_nobody_asks_for_again_is_forgotten_once_it_is_over(monkeypatch):
    # The authorizer remembers every key it is shown, a made-up one too: were entries
    # kept past their end, a stranger sending random keys would fill the function's memory.
    now = _clock(monkeypatch)
    cached = cache.ttl_cache(5)(Lookups())
    for key in range(100):
        cached(f"made-up-{key}")

    now[0] += 5.1
    cached("another")

    assert _remembered() == 1


def test_a_cache_holds_at_most_its_most_recent_entries(monkeypatch):
    _clock(monkeypatch)
    lookups = Lookups()
    cached = cache.ttl_cache(60, max_entries=3)(lookups)
    for key in "abcde":
        cached(key)

    assert _remembered() == 3
    assert (cached("e"), cached("c"), lookups.count) == (5, 3, 5)  # still remembered
    assert cached("a") == 6  # the oldest was forgotten, and is looked up again


def test_a_cache_of_no_seconds_remembers_nothing(monkeypatch):
    _clock(monkeypatch)  # time stands still: an entry of 0 s is over as it is stored
    lookups = Lookups()
    cached = cache.ttl_cache(0)(lookups)

    assert (cached("a"), cached("a"), _remembered()) == (1, 2, 0)


def test_a_result_is_remembered_only_for_the_container_that_looked_it_up(monkeypatch):
    # The local stack and the tests run every function in one process: each function's
    # lookups are its own, as each of its containers' are in AWS.
    _clock(monkeypatch)
    monkeypatch.setattr(cache, "_container", cache._container)  # put back afterwards
    container = ["send"]
    cache.remember_per(lambda: container[0])
    lookups = Lookups()
    cached = cache.ttl_cache(60)(lookups)
    cached("a")

    container[0] = "schedule"
    assert (cached("a"), cached("a")) == (2, 2)
    container[0] = "send"
    assert (cached("a"), lookups.count) == (1, 2)
