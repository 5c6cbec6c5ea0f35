"""A channel the operator paused: its messages, one-off and mission alike, wait on the
queue unclaimed and unsent, as new queue messages delayed each time, and go once it is
resumed; receipts for what it sent before keep coming in."""

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from cloudsms import cache
from cloudsms.adapters import queues
from cloudsms.services import channels
from cloudsms.services.submission import submit_mission_recipients, submit_queue_message
from cloudsms.store import receipt_watch
from cloudsms.store.messages import MessageModel
from functions.dlr_webhook import app as dlr_app
from functions.send import submit as submit_app
from tests.integration.conftest import (
    FakeGateway,
    accepted,
    api_event,
    function_url_event,
    submit_sms,
)
from tests.integration.submit_records import event, queued_records

NUMBER = "+639215347566"
NIGHT_IN_MANILA = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # 03:00 there, 15:00 in New York


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def carried(monkeypatch) -> list[tuple[str, dict[str, Any], int]]:
    """Queue messages put back on a queue: (queue URL, body, delay)."""
    seen: list[tuple[str, dict[str, Any], int]] = []
    original = queues.enqueue

    def enqueue(queue_url, bodies, delay_seconds=0):
        bodies = list(bodies)
        seen.extend((queue_url, body, delay_seconds) for body in bodies)
        return original(queue_url, bodies, delay_seconds)

    monkeypatch.setattr(queues, "enqueue", enqueue)
    return seen


def _set_paused(route_id: str, paused: bool) -> None:
    channels.change_channel(route_id, {"paused": paused})
    # A warm consumer reads the change within CHANNEL_CACHE_SECONDS; here, at once.
    cache.clear_all()


def _queue(context, sms_type: str, count: int = 2) -> list[str]:
    from functions.send import app as send_app

    numbers = [f"+6392153475{n}6" for n in range(count)]
    body = {"to": numbers, "text": "Code 123456", "sms_type": sms_type, "channel": "SIM"}
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    assert response["statusCode"] == 202, response["body"]
    return [m["uid"] for m in json.loads(response["body"])["messages"]]


def _watched_uids() -> set[str]:
    return {uid for watch in receipt_watch.ReceiptWatchModel.scan() for uid in watch.uids}


@pytest.mark.parametrize(
    ("sms_type", "queue"), [("verify_code", "OtpSubmitQueue"), ("business", "BulkSubmitQueue")]
)
def test_a_paused_channels_one_off_messages_go_back_on_their_queue_unclaimed_and_unsent(
    aws, tenant, context, carried, sms_type, queue
):
    # Accepted while paused: queued (202), to be sent once the channel is resumed.
    _set_paused("SIM", True)
    uids = _queue(context, sms_type)
    [record] = queued_records(aws, queue)
    carried.clear()
    gateway = FakeGateway(accepted())

    submit_queue_message(record["body"], 1, _now, gateway.factory)

    assert gateway.submissions == []
    assert {MessageModel.get("acme", uid).dr_state for uid in uids} == {"QUEUED"}
    assert _watched_uids() == set()
    [(queue_url, body, delay)] = carried
    assert queue_url == aws.physical[queue]
    assert (body, delay) == ({"tenant_id": "acme", "uids": uids}, 60)


def test_a_paused_channels_queue_message_is_not_a_failed_attempt(aws, tenant, context, carried):
    _queue(context, "verify_code")
    [record] = queued_records(aws, "OtpSubmitQueue")
    carried.clear()
    _set_paused("SIM", True)

    # Held more often than the queue's maxReceiveCount (5): each time this queue message
    # is done with (no batch item failure, so SQS deletes it and counts no receive
    # towards the dead-letter queue) and a new one carries the messages on.
    for _ in range(6):
        answer = submit_app.lambda_handler(event(record), context)
        assert answer == {"batchItemFailures": []}
        record = {**record, "body": json.dumps(carried[-1][1])}

    assert [delay for _, _, delay in carried] == [60] * 6


def test_a_resumed_channel_sends_the_messages_held_while_it_was_paused(
    aws, tenant, context, carried
):
    uids = _queue(context, "business")
    [record] = queued_records(aws)
    carried.clear()
    _set_paused("SIM", True)
    submit_queue_message(record["body"], 1, _now, FakeGateway(accepted()).factory)
    [(_, held, _)] = carried

    _set_paused("SIM", False)
    gateway = FakeGateway(accepted())
    submit_queue_message(json.dumps(held), 1, _now, gateway.factory)

    assert [s.uid for s in gateway.submissions] == uids
    assert {MessageModel.get("acme", uid).dr_state for uid in uids} == {"SUBMITTED"}


def _mission_body(numbers: list[str], quiet_hours: bool = False) -> dict[str, Any]:
    return {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": "SIM",
        "sms_type": "marketing",
        "dispatch_day": "2026-06-01",
        "quiet_hours": quiet_hours,
        "recipients": [
            {"uid": f"M1{row:012X}", "to": number, "text": "Hi", "encoding": "GSM-7", "segments": 1}
            for row, number in enumerate(numbers, start=1)
        ],
    }


def test_a_paused_channels_mission_recipients_are_held_unwritten_and_sent_once_resumed(
    aws, tenant, carried
):
    body = _mission_body([NUMBER, "+12125550123"])
    _set_paused("SIM", True)
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, _now, gateway.factory)

    assert gateway.submissions == []
    for recipient in body["recipients"]:
        with pytest.raises(DoesNotExist):  # a recipient's message is written by its claim
            MessageModel.get("acme", recipient["uid"])
    [(queue_url, held, delay)] = carried
    assert (queue_url, held, delay) == (aws.physical["BulkSubmitQueue"], body, 60)

    _set_paused("SIM", False)
    submit_mission_recipients(held, _now, gateway.factory)

    assert [s.to for s in gateway.submissions] == [NUMBER, "+12125550123"]
    assert {MessageModel.get("acme", r["uid"]).dr_state for r in body["recipients"]} == {
        "SUBMITTED"
    }


def test_quiet_hours_still_hold_their_recipients_on_a_paused_channel(aws, tenant, carried):
    # Manila is asleep and New York awake: the one waits for morning, the other for the
    # channel, each for its own time.
    body = _mission_body([NUMBER, "+12125550123"], quiet_hours=True)
    _set_paused("SIM", True)
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, lambda: NIGHT_IN_MANILA, gateway.factory)

    assert gateway.submissions == []
    held = {tuple(r["to"] for r in b["recipients"]): delay for _, b, delay in carried}
    assert held[("+12125550123",)] == 60
    assert held[(NUMBER,)] > 60  # until 08:00 in Manila, one 15-minute hop at a time


def test_a_paused_channel_still_takes_receipts_for_what_it_sent_before(aws, tenant, context):
    uid = submit_sms(context, NUMBER)
    _set_paused("SIM", True)
    query = {
        "tenant": "acme",
        "uid": uid,
        "secret": channels.get_channel("SIM").receipt_secret,
        "status": "1",
        "answer": "id:c-1 sub:001 dlvrd:001 stat:DELIVRD err:000",
    }

    response = dlr_app.lambda_handler(function_url_event("GET", "/dlr/SIM", query), context)

    assert (response["statusCode"], response["body"]) == (200, "moved")
    assert MessageModel.get("acme", uid).dr_state == "DELIVRD"


def test_messages_held_for_a_pause_are_logged_with_their_channel_and_count_not_numbers(
    aws, tenant, carried
):
    from cloudsms.observability import logger

    body = _mission_body([NUMBER, "+12125550123"])
    _set_paused("SIM", True)
    handler, level = logger.registered_handler, logger.log_level
    written, stream = io.StringIO(), handler.stream  # type: ignore[attr-defined]
    handler.stream = written  # type: ignore[attr-defined]
    logger.setLevel("INFO")  # the template's default LogLevel
    try:
        submit_mission_recipients(body, _now, FakeGateway(accepted()).factory)
    finally:
        logger.setLevel(level)
        handler.stream = stream  # type: ignore[attr-defined]

    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    [held] = [line for line in lines if line["message"].startswith("channel paused")]
    assert (held["channel"], held["count"]) == ("SIM", 2)
    assert "2125550123" not in written.getvalue()
    assert "9215347566" not in written.getvalue()
