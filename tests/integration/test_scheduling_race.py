"""A cancel racing the scheduler's firing of the same mission: one of them wins, always.

Each trial starts a cancel and a firing on two threads at once. The cancel comes in time
(10 minutes before the dispatch time) and the firing at the dispatch time, so either could
win; the mission's one conditional status change must decide between them.
"""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from cloudsms.errors import Conflict
from cloudsms.services import dispatch, scheduling
from cloudsms.store.missions import get_mission
from tests.integration.missions_api import NOON_UTC, create_scheduled, queued_bodies, schedules

TRIALS = 20


def _race(cancel: Callable[[], str], fire: Callable[[], str]) -> tuple[str, str]:
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def run(name: str, action: Callable[[], str]) -> None:
        start.wait()
        try:
            results[name] = action()
        except Conflict:
            results[name] = "refused"

    threads = [
        threading.Thread(target=run, args=("cancel", cancel)),
        threading.Thread(target=run, args=("fire", fire)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results["cancel"], results["fire"]


def _cancel(mission_id: str) -> Callable[[], str]:
    def cancel() -> str:
        mission = get_mission("acme", mission_id)
        scheduling.cancel(mission, NOON_UTC - timedelta(minutes=10))
        return "cancelled"

    return cancel


def _fire(mission_id: str) -> Callable[[], str]:
    return lambda: dispatch.fire_scheduled("acme", mission_id, NOON_UTC)


def test_cancel_and_firing_raced_many_times_each_end_with_exactly_one_winner(
    aws, tenant, atomic_dynamodb
):
    outcomes = {}
    for _ in range(TRIALS):
        mission_id = create_scheduled(["+639215347566", "+639175550123"])["mission_id"]
        outcomes[mission_id] = _race(_cancel(mission_id), _fire(mission_id))

    bodies = queued_bodies(aws)
    enqueued = Counter(body["mission_id"] for body in bodies for _ in body["recipients"])
    scheduled = {s["Target"]["Input"] for s in schedules().values()}
    for mission_id, (cancel, fire) in outcomes.items():
        status = get_mission("acme", mission_id).status
        has_schedule = any(mission_id in target_input for target_input in scheduled)
        if cancel == "cancelled":
            assert fire.startswith("skipped")
            assert (status, enqueued[mission_id], has_schedule) == ("Cancelled", 0, False)
        else:
            assert (cancel, fire, status) == ("refused", "dispatched", "Sent")
            assert enqueued[mission_id] == 2
