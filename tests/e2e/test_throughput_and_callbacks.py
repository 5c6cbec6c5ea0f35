"""Through the local stack over HTTP: a channel limited to a low rate still delivers
everything, and a tenant's callback receiver on loopback hears each state change, signed."""

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cloudsms.domain.signatures import SIGNATURE_HEADER, verify
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


@pytest.fixture(scope="module")
def slow_channel(stack) -> str:
    """Channel SLOW: the stack's carrier simulator, limited to 2 segments a second."""
    _cli(
        stack,
        "channel-add",
        "SLOW",
        "--type",
        "simulator",
        "--endpoint",
        stack["simulator_url"],
        "--username",
        "sim",
        "--password-stdin",
        "--default-sender",
        "CloudSMS",
        "--throughput",
        "2",
        stdin="sim\n",
    )
    _cli(stack, "channel-grant", stack["tenant"], "SLOW")
    return "SLOW"


def test_a_channel_limited_to_a_low_rate_still_delivers_every_message(stack, slow_channel):
    uids = _send(stack, stack["api_key"], slow_channel, DELIVERED_NUMBERS)

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while set(states := _states(stack, stack["api_key"], uids)) != {"DELIVRD"}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert states == ["DELIVRD"] * len(uids)


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
