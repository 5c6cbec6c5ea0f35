"""The local stack with a real Kannel as the carrier gateway: the operator adds a Kannel
channel with the `cloudsms` command, the tenant sends through the stack's API, Kannel
hands the message to its fake SMSC, and Kannel's receipt comes back through the dlr
webhook until the message reads DELIVRD.

Kannel's fake SMSC reports a long (split) message once, where an SMPP SMSC reports every
part; the channel here is therefore added with `--no-receipts-per-part`. Counting parts is
covered by tests/integration/test_receipts_gateways.py.
"""

import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cloudsms_local.kannel import KannelHarness, kannel_installed

pytestmark = pytest.mark.kannel

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-kannel.sh"
ROUTE = "KANNEL_E2E"
# Bounded waits, not speed checks: Kannel's receipt normally arrives within a second.
STATE_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0
FINAL = {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "SUBMIT_FAILED"}


@pytest.fixture(scope="module")
def kannel(tmp_path_factory) -> Iterator[KannelHarness]:
    if not kannel_installed():
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)
    with KannelHarness(workdir=tmp_path_factory.mktemp("kannel-stack")) as harness:
        yield harness


def _cli(stack: dict[str, Any], *arguments: str, stdin: str = "") -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "cloudsms"
    return subprocess.run(
        [str(script), "--local", str(stack["state_file"]), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def kannel_channel(stack, kannel) -> str:
    added = _cli(
        stack,
        "channel-add",
        ROUTE,
        "--type",
        "kannel",
        "--endpoint",
        kannel.endpoint,
        "--username",
        kannel.username,
        "--password-stdin",
        "--default-sender",
        "CloudSMS",
        "--price",
        "default=0.005",
        "--no-receipts-per-part",
        stdin=kannel.password + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert kannel.password not in added.stdout
    granted = _cli(stack, "channel-grant", stack["tenant"], ROUTE)
    assert granted.returncode == 0, granted.stderr
    return ROUTE


def _send(stack, channel: str, text: str, to: str = "+639215347566") -> str:
    response = requests.post(
        f"{stack['api_url']}/v1/sms",
        json={"to": [to], "text": text, "sms_type": "business", "channel": channel},
        headers={"Authorization": f"Bearer {stack['api_key']}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 202, response.text
    [message] = response.json()["messages"]
    assert message["status"] == "queued", message
    return str(message["uid"])


def _final(stack, uid: str) -> dict[str, Any]:
    """The message once it is final (or as it reads at the deadline)."""
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        message = requests.get(
            f"{stack['api_url']}/v1/sms/{uid}",
            headers={"Authorization": f"Bearer {stack['api_key']}"},
            timeout=HTTP_TIMEOUT,
        ).json()
        if message["dr_state"] in FINAL or time.monotonic() > deadline:
            return dict(message)
        time.sleep(0.2)


def test_kannels_configuration_with_its_passwords_is_readable_by_its_owner_only(kannel):
    assert stat.S_IMODE(kannel.config_path.stat().st_mode) == 0o600
    # and its folder, where its logs and the fake SMSC's output hold numbers and texts
    assert stat.S_IMODE(kannel.workdir.stat().st_mode) == 0o700


def test_a_message_through_real_kannel_comes_back_delivered(stack, kannel, kannel_channel):
    uid = _send(stack, kannel_channel, "Your code is 123456")

    message = _final(stack, uid)

    assert message["dr_state"] == "DELIVRD", f"{message}; Kannel logs in {kannel.workdir}"
    assert message["route_id"] == ROUTE and message["receipt_at"]


def test_a_long_message_through_real_kannel_goes_in_parts_and_comes_back_delivered(
    stack, kannel, kannel_channel
):
    text = "Long message. " * 22  # 308 GSM-7 characters: three parts
    uid = _send(stack, kannel_channel, text, to="+639215347561")

    message = _final(stack, uid)

    assert (message["dr_state"], message["segments"]) == ("DELIVRD", 3), (
        f"{message}; Kannel logs in {kannel.workdir}"
    )
    parts = [line for line in kannel.smsc_received() if "+639215347561 udh " in line]
    assert len(parts) == 3


def test_a_long_ucs2_message_through_real_kannel_comes_back_delivered(
    stack, kannel, kannel_channel
):
    uid = _send(stack, kannel_channel, "你好，这是一条很长的消息。" * 12, to="+639215347562")

    message = _final(stack, uid)

    assert (message["dr_state"], message["encoding"]) == ("DELIVRD", "UCS-2")
