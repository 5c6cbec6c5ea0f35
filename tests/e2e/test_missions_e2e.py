"""A 1,000-row mission through a local stack over HTTP: uploaded as the portal does,
sent through the carrier simulator, and its progress followed.

The simulator's outcome is the number's last digit: 0 refused at submit, 1-3 failed
receipts, 4 no receipt at all, any other digit delivered. The stack is this module's own:
submitting 1,000 messages keeps a stack busy for minutes on a small machine, and the
shared one must stay quick for the other tests.
"""

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openpyxl import Workbook

from tests.e2e.stack_process import own_stack

HTTP_TIMEOUT = 30.0
PROGRESS_TIMEOUT = 60.0
ROWS = 1000
INVALID_EVERY = 50  # rows 51, 101, ...: a number too short to be valid
BLACKLISTED_EVERY = 100  # every hundredth valid number is on the tenant's blacklist
# Enough outcomes of each kind to show that receipts reach the mission's progress.
OUTCOMES_SHOWN = 3
STATE_OF_DIGIT = {"0": "SUBMIT_FAILED", "1": "UNDELIV", "2": "EXPIRED", "3": "REJECTD"}
FINAL = {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "SUBMIT_FAILED"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[dict[str, Any]]:
    with own_stack(tmp_path_factory.mktemp("missions-stack"), {}) as state:
        yield state


def _headers(stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['api_key']}"}


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _create(stack, rows: list[list[Any]], content: str) -> requests.Response:
    return requests.post(
        f"{stack['api_url']}/v1/missions",
        data={
            "name": "e2e mission",
            "direction": "international",
            "sms_type": "business",
            "channel": stack["channel"],
            "content": content,
        },
        files={"number_list": ("numbers.xlsx", _xlsx(rows))},
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )


def _get(stack, path: str, params: dict[str, str] | None = None) -> Any:
    response = requests.get(
        f"{stack['api_url']}{path}", params=params, headers=_headers(stack), timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return response.json()


def _blacklist(stack, numbers: list[str]) -> None:
    response = requests.post(
        f"{stack['api_url']}/v1/blacklist",
        json={"numbers": numbers},
        headers=_headers(stack),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text


def _wait_for_outcomes(stack, mission_id: str) -> dict[str, Any]:
    """The mission once deliveries and failures both show in its progress (or at the
    deadline)."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT
    while True:
        mission = _get(stack, f"/v1/missions/{mission_id}")
        progress = mission["progress"]
        shown = min(progress["delivered"], progress["failed"]) >= OUTCOMES_SHOWN
        if shown or time.monotonic() > deadline:
            return mission
        time.sleep(0.5)


def _messages(stack, mission_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = _get(
            stack,
            f"/v1/missions/{mission_id}/messages",
            {"page_size": "100", **({"cursor": cursor} if cursor else {})},
        )
        messages += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return messages


# A small mission first: the 1,000-row one keeps the stack busy from then on.


def test_the_abnormal_and_blacklisted_rows_of_a_mission_are_listed(stack):
    _blacklist(stack, ["+639175550016"])
    rows = [
        ["Phone Number", "Name"],
        ["+639175550006", "A"],
        ["oops", "B"],
        ["+639175550016", "C"],
    ]
    created = _create(stack, rows, "Hello ${Name}")
    assert created.status_code == 201, created.text
    mission_id = created.json()["mission_id"]

    abnormal = _get(stack, f"/v1/missions/{mission_id}/abnormal")["items"]
    blacklisted = _get(stack, f"/v1/missions/{mission_id}/blacklisted")["items"]

    assert abnormal == [{"row": 3, "raw": "oops", "reason": "not a valid phone number"}]
    assert blacklisted == [{"row": 4, "country_code": 63, "phone_number": "917****016"}]


@pytest.fixture(scope="module")
def thousand(stack) -> dict[str, Any]:
    """A 1,000-row mission: every 50th row invalid, every 100th valid number blacklisted."""
    rows: list[list[Any]] = [["Phone Number", "Name"]]
    for i in range(ROWS):
        invalid = i % INVALID_EVERY == INVALID_EVERY - 1
        rows.append(["12345" if invalid else f"+6391755{i:05d}", f"N{i}"])
    valid = [row[0] for row in rows[1:] if row[0] != "12345"]
    blacklisted = valid[::BLACKLISTED_EVERY]
    _blacklist(stack, blacklisted)

    created = _create(stack, rows, "Hello ${Name}, your order has shipped")

    assert created.status_code == 201, created.text
    sent = [number for number in valid if number not in blacklisted]
    return {"mission": created.json(), "sent": sent, "blacklisted": blacklisted}


def test_a_1000_row_mission_is_sent_with_its_abnormal_and_blacklisted_rows_counted(thousand):
    mission = thousand["mission"]

    assert mission["status"] == "Sent"
    assert (
        mission["phone_number_amount"],
        mission["failure_amount"],
        mission["blacklist_amount"],
    ) == (len(thousand["sent"]), ROWS // INVALID_EVERY, len(thousand["blacklisted"]))


def test_the_simulators_outcomes_show_in_the_missions_progress(stack, thousand):
    mission_id = thousand["mission"]["mission_id"]

    progress = _wait_for_outcomes(stack, mission_id)["progress"]

    assert progress["delivered"] >= OUTCOMES_SHOWN
    assert progress["failed"] >= OUTCOMES_SHOWN
    silent = sum(1 for number in thousand["sent"] if number.endswith("4"))
    assert progress["pending"] >= silent
    assert progress["delivered"] + progress["failed"] + progress["pending"] == len(thousand["sent"])


def test_each_finished_message_of_the_mission_ends_as_its_number_says(stack, thousand):
    mission_id = thousand["mission"]["mission_id"]
    _wait_for_outcomes(stack, mission_id)

    finished = [m for m in _messages(stack, mission_id) if m["dr_state"] in FINAL]

    assert finished
    for message in finished:
        last_digit = message["phone_number"][-1]
        assert message["dr_state"] == STATE_OF_DIGIT.get(last_digit, "DELIVRD"), message
        assert last_digit != "4", message
