"""The submit consumer watches each batch for its receipts: one watch, listing the
messages it may claim, written before any of them is claimed."""

import json
from datetime import datetime

import pytest

from cloudsms import clock
from cloudsms.carriers.base import SubmitResult
from cloudsms.services import channels, transitions
from cloudsms.services.redelivery import RetryLater
from cloudsms.services.submission import submit_mission_recipients, submit_queued
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import ReceiptWatchModel, hour_of
from functions.send import app as send_app
from tests.integration.conftest import FakeGateway, accepted, api_event

NUMBERS = ["+639215347516", "+639215347526", "+639215347536"]


class Crash(BaseException):
    """The submit consumer dies here (no handler in the code catches it)."""


def _now() -> datetime:
    return clock.now()  # the handlers' clock, which a test may move


def _send(context, channel: str = "SIM") -> list[str]:
    body = {"to": NUMBERS, "text": "Hi", "sms_type": "business", "channel": channel}
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    return [m["uid"] for m in json.loads(response["body"])["messages"]]


def _watches() -> list[ReceiptWatchModel]:
    return list(ReceiptWatchModel.scan())


def test_a_submitted_batch_is_watched_in_the_hour_of_its_submission(
    aws, tenant, context, clock_at_an_hours_start
):
    uids = _send(context)

    submit_queued("acme", uids, _now, FakeGateway(accepted()).factory)

    [watch] = _watches()
    assert (watch.tenant_id, watch.channel, watch.uids) == ("acme", "SIM", set(uids))
    assert watch.watch_hour.split("#")[0] == hour_of(MessageModel.get("acme", uids[0]).submitted_at)


def test_the_watch_is_written_before_any_message_is_claimed(aws, tenant, context, monkeypatch):
    uids = _send(context)

    def crash(message, now):
        raise Crash

    monkeypatch.setattr(transitions, "claim", crash)
    with pytest.raises(Crash):
        submit_queued("acme", uids, _now, FakeGateway(accepted()).factory)

    assert [w.uids for w in _watches()] == [set(uids)]


def test_a_batch_delivered_again_in_the_same_hour_rewrites_its_watch(
    aws, tenant, context, clock_at_an_hours_start
):
    uids = _send(context)
    busy = SubmitResult(accepted=False, reason="throttled", temporary=True)
    gateway = FakeGateway(busy, accepted())
    with pytest.raises(RetryLater):
        submit_queued("acme", uids, _now, gateway.factory)

    submit_queued("acme", uids, _now, gateway.factory)

    assert [w.uids for w in _watches()] == [set(uids)]


def test_a_batch_with_nothing_left_to_claim_writes_no_watch(aws, tenant, context):
    uids = _send(context)
    submit_queued("acme", uids, _now, FakeGateway(accepted()).factory)
    for watch in _watches():
        watch.delete()

    submit_queued("acme", uids, _now, FakeGateway(accepted()).factory)

    assert _watches() == []


def test_a_throttled_batch_watches_only_what_its_channel_pays_for_now(aws, tenant, context):
    channels.add_channel(
        "LOW", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS", throughput=2
    )
    channels.assign_channel("acme", "LOW")
    uids = _send(context, "LOW")

    submit_queued("acme", uids, _now, FakeGateway(accepted()).factory)

    assert [w.uids for w in _watches()] == [set(uids[:2])]


def test_a_mission_batch_is_watched_with_its_recipients(aws, tenant):
    recipients = [
        {"uid": f"M1{row:012X}", "to": number, "text": "Hi", "encoding": "GSM-7", "segments": 1}
        for row, number in enumerate(NUMBERS, start=1)
    ]
    body = {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": "SIM",
        "sms_type": "business",
        "recipients": recipients,
    }

    submit_mission_recipients(body, _now, FakeGateway(accepted()).factory)

    [watch] = _watches()
    assert (watch.tenant_id, watch.uids) == ("acme", {r["uid"] for r in recipients})
