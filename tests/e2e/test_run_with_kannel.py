"""`make run KANNEL=1`: the local stack runs a real Kannel beside the simulator and gives
the demo tenant a channel through it; stopping the stack stops that Kannel too."""

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cloudsms_local.kannel import kannel_installed
from tests.e2e.stack_process import own_stack

pytestmark = pytest.mark.kannel

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-kannel.sh"
# Bounded waits, not speed checks: Kannel's receipt normally arrives within a second.
STATE_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0


def _kannel_boxes(workdir: str) -> list[str]:
    """Running bearerbox and smsbox processes that read their config from `workdir`."""
    config = f"{workdir}/kannel.conf"
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # it ended meanwhile
        command = [a.decode(errors="replace") for a in arguments if a]
        if config in command and any(a.endswith("box") for a in command):
            found.append(" ".join(command))
    return found


def _delivered(stack: dict[str, Any], uid: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {stack['api_key']}"}
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        message: dict[str, Any] = requests.get(
            f"{stack['api_url']}/v1/sms/{uid}", headers=headers, timeout=HTTP_TIMEOUT
        ).json()
        if message["dr_state"] == "DELIVRD" or time.monotonic() > deadline:
            return message
        time.sleep(0.2)


def test_the_demo_tenant_sends_through_kannel_and_the_stack_stops_it(tmp_path):
    if not kannel_installed():
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)

    with own_stack(tmp_path, {}, arguments=("--kannel",)) as stack:
        running = _kannel_boxes(stack["kannel_logs"])
        sent = requests.post(
            f"{stack['api_url']}/v1/sms",
            json={
                "to": ["+639215347566"],
                "text": "Your code is 4711",
                "sms_type": "verify_code",
                "channel": stack["kannel_channel"],
            },
            headers={"Authorization": f"Bearer {stack['api_key']}"},
            timeout=HTTP_TIMEOUT,
        )
        assert sent.status_code == 202, sent.text
        [queued] = sent.json()["messages"]
        message = _delivered(stack, queued["uid"])
    left = _kannel_boxes(stack["kannel_logs"])

    assert stack["kannel_channel"] == "KANNEL"
    assert message["dr_state"] == "DELIVRD", f"{message}; Kannel logs in {stack['kannel_logs']}"
    assert message["route_id"] == "KANNEL"
    smsc = (Path(stack["kannel_logs"]) / "fakesmsc.out").read_text(errors="replace")
    # One line a message: "<from> <to> <type> <data>"
    received = re.findall(r"Got message \d+: <(.*)>$", smsc, flags=re.MULTILINE)
    assert "CloudSMS +639215347566 text Your code is 4711" in received
    assert len(running) == 2, running  # bearerbox and smsbox, while the stack ran
    assert left == [], left
