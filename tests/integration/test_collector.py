"""The local stack's full garbage collections are made while idle (collector.py)."""

import gc
import weakref

from cloudsms_local import collector
from cloudsms_local.collector import YOUNGER_COLLECTIONS, IdleCollector


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def collector_at(clock: FakeClock, pending: int = YOUNGER_COLLECTIONS) -> IdleCollector:
    return IdleCollector(idle=1.0, overdue=300.0, min_gap=5.0, clock=clock, pending=lambda: pending)


def test_a_full_collection_waits_until_the_process_is_idle() -> None:
    clock = FakeClock()
    idle = collector_at(clock)
    clock.now += 10.0
    idle.busy()
    clock.now += 0.9
    assert not idle.due()
    clock.now += 0.2
    assert idle.due()


def test_a_load_that_never_pauses_still_gets_a_full_collection_when_overdue() -> None:
    clock = FakeClock()
    idle = collector_at(clock)
    for _ in range(299):
        clock.now += 1.0
        idle.busy()
        assert not idle.due()
    clock.now += 1.0
    idle.busy()
    assert idle.due()


def test_none_until_enough_reached_the_oldest_generation() -> None:
    clock = FakeClock()
    clock.now += 10.0
    assert not collector_at(clock, pending=YOUNGER_COLLECTIONS - 1).due()
    assert collector_at(clock, pending=YOUNGER_COLLECTIONS).due() is False  # just made
    idle = collector_at(clock)
    clock.now += 10.0
    assert idle.due()


def test_two_are_at_least_the_minimum_gap_apart() -> None:
    clock = FakeClock()
    idle = collector_at(clock)
    clock.now += 5.0
    assert idle.collect_if_due()
    clock.now += 4.0
    assert not idle.collect_if_due()
    clock.now += 1.0
    assert idle.collect_if_due()
    assert idle.collections == 2


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_it_collects_garbage_only_a_full_collection_finds() -> None:
    cycle = Cycle()
    gc.collect(1)  # it survives the younger collections and moves to the oldest
    found = weakref.ref(cycle)
    del cycle
    clock = FakeClock()
    idle = collector_at(clock)
    clock.now += 10.0
    assert idle.collect_if_due()
    assert found() is None


def test_installed_python_makes_no_full_collection_on_its_own() -> None:
    installed = collector.install()
    assert collector.install() is installed  # once per process
    assert gc.get_threshold()[2] == collector.NEVER


def test_the_emulator_counts_aws_requests_as_work_but_not_stream_polling(monkeypatch) -> None:
    from cloudsms_local import emulator

    noted: list[str] = []
    monkeypatch.setattr(collector, "busy", lambda: noted.append("busy"))
    monkeypatch.setattr(emulator, "_stream_records", lambda query: ("200 OK", b"{}"))
    front = emulator._Front(app=lambda environ, start_response: [b"{}"])

    def request(path: str) -> None:
        front({"PATH_INFO": path, "QUERY_STRING": ""}, lambda status, headers: None)

    request(emulator.STREAM_RECORDS_PATH)
    assert noted == []
    request("/")
    assert noted == ["busy"]
