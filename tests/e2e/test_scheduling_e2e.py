"""Scheduled missions through a local stack: sent at their time and not before, and a
cancelled one never sent, with its schedule gone from the emulated EventBridge Scheduler.

The stack runs with a 3-second lead time, a 2-second cancel cut-off and a window open all
day, so the test runs at any hour in seconds. The carrier is a simulator in this process,
added to the stack as a channel of its own, so the test sees what the carrier received
and when.
"""

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from openpyxl import Workbook

from cloudsms_local.simulator import CarrierSimulator
from tests.e2e.stack_process import cli, own_stack

HTTP_TIMEOUT = 10.0
LEAD_SECONDS = 3
CUTOFF_SECONDS = 2
# Ahead of now when scheduled: past the lead time, and time enough to cancel before the cut-off.
AHEAD_SECONDS = 6
# The local scheduler looks for due schedules every second; the submit poller waits 1 s.
SENT_WITHIN_SECONDS = 15
ROUTE = "SCHEDSIM"


@pytest.fixture(scope="module")
def simulator() -> Iterator[CarrierSimulator]:
    with CarrierSimulator(receipt_delay=3600) as carrier:
        yield carrier


@pytest.fixture(scope="module")
def stack(tmp_path_factory, simulator) -> Iterator[dict[str, Any]]:
    settings = {
        "MIN_LEAD_SECONDS": str(LEAD_SECONDS),
        "CANCEL_CUTOFF_SECONDS": str(CUTOFF_SECONDS),
        "DEFAULT_SENDING_WINDOW": "00:00-23:59:59",
    }
    with own_stack(tmp_path_factory.mktemp("scheduling-stack"), settings) as state:
        cli(
            state,
            "channel-add",
            ROUTE,
            "--type",
            "simulator",
            "--endpoint",
            simulator.url,
            "--username",
            simulator.username,
            "--password-stdin",
            stdin=simulator.password + "\n",
        )
        cli(state, "channel-grant", state["tenant"], ROUTE)
        yield state


def _headers(stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['api_key']}"}


def _numbers_xlsx(numbers: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Phone Number"])
    for number in numbers:
        sheet.append([number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _schedule(stack, text: str, dispatch_at: datetime) -> dict[str, Any]:
    response = requests.post(
        f"{stack['api_url']}/v1/missions",
        data={
            "name": text[:30],
            "direction": "international",
            "sms_type": "business",
            "channel": ROUTE,
            "content": text,
            "dispatch_at": dispatch_at.isoformat(),
        },
        files={"number_list": ("numbers.xlsx", _numbers_xlsx(["+639175550006", "+639175550016"]))},
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _read(stack, mission_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{stack['api_url']}/v1/missions/{mission_id}",
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _received(simulator: CarrierSimulator, text: str) -> list[dict[str, Any]]:
    return [s for s in simulator.submissions if text in s["text"]]


def _dispatch_time() -> datetime:
    """A whole second AHEAD_SECONDS from now: the scheduler's at() counts whole seconds."""
    return (datetime.now(UTC) + timedelta(seconds=AHEAD_SECONDS + 1)).replace(microsecond=0)


def _schedule_names(stack) -> list[str]:
    scheduler = boto3.client(
        "scheduler",
        endpoint_url=stack["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    group = stack["environment"]["SCHEDULE_GROUP"]
    return [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]


def test_a_scheduled_mission_is_sent_at_its_time_and_not_before(stack, simulator):
    text = "Scheduled hello"
    dispatch_at = _dispatch_time()

    mission = _schedule(stack, text, dispatch_at)
    scheduled = _read(stack, mission["mission_id"])
    received_before = list(_received(simulator, text))
    deadline = time.monotonic() + AHEAD_SECONDS + SENT_WITHIN_SECONDS
    while len(_received(simulator, text)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)

    assert (scheduled["status"], received_before) == ("Scheduled", [])
    received = _received(simulator, text)
    assert sorted(s["to"] for s in received) == ["+639175550006", "+639175550016"]
    assert min(s["time"] for s in received) >= dispatch_at
    sent = _read(stack, mission["mission_id"])
    assert sent["status"] == "Sent"
    assert datetime.fromisoformat(sent["dispatching_date"]) >= dispatch_at
    assert not any(mission["mission_id"] in name for name in _schedule_names(stack))


def test_a_cancelled_mission_sends_nothing_and_its_schedule_is_gone(stack, simulator):
    text = "Cancelled hello"
    dispatch_at = _dispatch_time()
    mission = _schedule(stack, text, dispatch_at)
    assert any(mission["mission_id"] in name for name in _schedule_names(stack))

    cancelled = requests.post(
        f"{stack['api_url']}/v1/missions/{mission['mission_id']}/cancel",
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )
    # Past the dispatch time, and past the time the scheduler would have fired it.
    time.sleep(max(0.0, (dispatch_at - datetime.now(UTC)).total_seconds()) + 3)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "Cancelled"
    assert not any(mission["mission_id"] in name for name in _schedule_names(stack))
    assert _received(simulator, text) == []
    assert _read(stack, mission["mission_id"])["status"] == "Cancelled"


def test_a_cancel_inside_the_cutoff_is_refused(stack):
    dispatch_at = _dispatch_time()
    mission = _schedule(stack, "Too late to cancel", dispatch_at)
    time.sleep(max(0.0, (dispatch_at - datetime.now(UTC)).total_seconds() - CUTOFF_SECONDS + 0.5))

    refused = requests.post(
        f"{stack['api_url']}/v1/missions/{mission['mission_id']}/cancel",
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )

    assert refused.status_code == 409, refused.text
    assert _read(stack, mission["mission_id"])["status"] != "Cancelled"
