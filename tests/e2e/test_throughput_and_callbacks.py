"""Through the local stack over HTTP: a channel limited to a low rate still delivers
everything, and a tenant's callback receiver on loopback hears each state change, signed."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cloudsms.domain.signatures import SIGNATURE_HEADER, verify
from cloudsms_local.simulator import CarrierSimulator
from tests.integration.callback_receiver import FakeCallbackReceiver

HTTP_TIMEOUT = 10.0
# Eight messages at two segments a second take four seconds and a few queue hops.
DRAIN_TIMEOUT = 60.0
CALLBACK_TIMEOUT = 30.0
DELIVERED_NUMBERS = [f"+6392153475{n}6" for n in range(8)]  # the simulator delivers a 6


def _cli(stack: dict[str, Any], *arguments: str, stdin: str | None = None) -> Any:
    script = Path(sys.executable).parent / "cloudsms"
    done = subprocess.run(
        [str(script), "--local", str(stack["state_file"]), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _send(stack: dict[str, Any], key: str, channel: str, numbers: list[str]) -> list[str]:
    response = requests.post(
        f"{stack['api_url']}/v1/sms",
        json={"to": numbers, "text": "Hello", "sms_type": "business", "channel": channel},
        headers=_bearer(key),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 202, response.text
    return [message["uid"] for message in response.json()["messages"]]


def _states(stack: dict[str, Any], key: str, uids: list[str]) -> list[str]:
    return [
        requests.get(
            f"{stack['api_url']}/v1/sms/{uid}", headers=_bearer(key), timeout=HTTP_TIMEOUT
        ).json()["dr_state"]
        for uid in uids
    ]


def _simulator_channel(stack: dict[str, Any], route: str, endpoint: str, throughput: int) -> str:
    """A simulator channel of `throughput` segments a second, granted to the stack's tenant."""
    _cli(
        stack,
        "channel-add",
        route,
        "--type",
        "simulator",
        "--endpoint",
        endpoint,
        "--username",
        "sim",
        "--password-stdin",
        "--default-sender",
        "CloudSMS",
        "--throughput",
        str(throughput),
        stdin="sim\n",
    )
    _cli(stack, "channel-grant", stack["tenant"], route)
    return route


@pytest.fixture(scope="module")
def slow_channel(stack) -> str:
    """Channel SLOW: the stack's carrier simulator, limited to 2 segments a second."""
    return _simulator_channel(stack, "SLOW", stack["simulator_url"], 2)


def test_a_channel_limited_to_a_low_rate_still_delivers_every_message(stack, slow_channel):
    uids = _send(stack, stack["api_key"], slow_channel, DELIVERED_NUMBERS)

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while set(states := _states(stack, stack["api_key"], uids)) != {"DELIVRD"}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert states == ["DELIVRD"] * len(uids)


PACED_RATE = 50


@pytest.fixture(scope="module")
def carrier() -> Iterator[CarrierSimulator]:
    """A carrier simulator of the test's own, to count what it was handed."""
    with CarrierSimulator(receipt_delay=0.2) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def paced_channel(stack, carrier) -> str:
    """Channel PACED: the test's carrier at 50 segments a second, so that a mission of
    150 recipients is two queue messages, the second due some two seconds after the first."""
    return _simulator_channel(stack, "PACED", carrier.url, PACED_RATE)


def _mission(stack: dict[str, Any], channel: str, numbers: list[str]) -> str:
    csv = "Phone Number\n" + "".join(f"{number}\n" for number in numbers)
    response = requests.post(
        f"{stack['api_url']}/v1/missions",
        data={
            "name": "paced",
            "direction": "international",
            "sms_type": "business",
            "channel": channel,
            "content": "Hello",
        },
        files={"number_list": ("numbers.csv", csv.encode())},
        headers=_bearer(stack["api_key"]),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code in (200, 201, 202), response.text
    return str(response.json()["mission_id"])


def test_a_mission_paced_on_a_limited_channel_is_delivered_whole_each_message_once(
    stack, paced_channel, carrier
):
    # Its queue messages go on SQS delayed to their turn in the channel's pace, through
    # the emulator's real queue and the stack's consumers.
    numbers = [f"+639215{n:05d}6" for n in range(150)]  # the simulator delivers a 6
    mission_id = _mission(stack, paced_channel, numbers)

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        progress = requests.get(
            f"{stack['api_url']}/v1/missions/{mission_id}",
            headers=_bearer(stack["api_key"]),
            timeout=HTTP_TIMEOUT,
        ).json()["progress"]
        if progress["delivered"] == len(numbers) or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert (progress["delivered"], progress["failed"]) == (len(numbers), 0), progress
    handed = carrier.submissions
    assert sorted(s["to"] for s in handed) == sorted(numbers)
    times = sorted(s["time"].timestamp() for s in handed)
    assert max(_in_any_second(times)) <= PACED_RATE


def _in_any_second(times: list[float]) -> Iterator[int]:
    """How many of the sorted `times` fall in the second that starts at each of them."""
    for i, start in enumerate(times):
        yield sum(1 for t in times[i:] if t < start + 1.0)


@pytest.fixture(scope="module")
def callback_tenant_key(stack) -> str:
    """An API key of a tenant of its own, so that its callback concerns no other test."""
    _cli(stack, "tenant-create", "callbacks-e2e", "--name", "Callbacks Enterprise")
    _cli(stack, "channel-grant", "callbacks-e2e", stack["channel"])
    return str(json.loads(_cli(stack, "key-issue", "callbacks-e2e"))["key"])


def test_a_callback_receiver_on_loopback_gets_each_state_change_signed(stack, callback_tenant_key):
    with FakeCallbackReceiver() as receiver:
        registered = requests.put(
            f"{stack['api_url']}/v1/callback",
            json={"url": receiver.url},
            headers=_bearer(callback_tenant_key),
            timeout=HTTP_TIMEOUT,
        )
        assert registered.status_code == 200, registered.text
        secret = registered.json()["signing_secret"]

        [uid] = _send(stack, callback_tenant_key, stack["channel"], DELIVERED_NUMBERS[:1])
        received = receiver.wait_for(2, timeout=CALLBACK_TIMEOUT)

    assert sorted(r.event["dr_state"] for r in received) == ["DELIVRD", "SUBMITTED"]
    assert {r.event["uid"] for r in received} == {uid}
    assert all(
        verify(secret, r.body, r.headers[SIGNATURE_HEADER], now=int(time.time())) for r in received
    )
