"""The submit function: SQS batches of queued messages handed to their carrier gateways."""

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from cloudsms import cache
from cloudsms.carriers.base import SubmitResult
from cloudsms.services import channels, receipts
from cloudsms.services.redelivery import RetryLater
from cloudsms.services.submission import submit_queued
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel
from functions.send import submit as submit_app
from tests.integration.conftest import EVENTS, FakeGateway, accepted, counters_of, queue_sms

DELIVERED_NUMBER = "+639215347566"  # the simulator delivers numbers ending in 6
REFUSED_NUMBER = "+639215347560"  # and refuses numbers ending in 0 at submit
TWO_SEGMENTS = "x" * 161  # one GSM-7 character more than a single segment holds


def _now() -> datetime:
    return datetime.now(UTC)


def _queued_records(aws) -> list[dict]:
    """What the send API put on the bulk queue, as the records of a Lambda SQS event."""
    template = json.loads((EVENTS / "sqs_submit.json").read_text())["Records"][0]
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=aws.physical["BulkSubmitQueue"], MaxNumberOfMessages=10)
    records = []
    for message in answer.get("Messages", []):
        record = copy.deepcopy(template)
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        )
        records.append(record)
    return records


def _message(uid: str) -> MessageModel:
    return MessageModel.get("acme", uid)


def test_a_queued_message_is_submitted_and_counted_with_its_segments(
    aws, live_channel, carrier_simulator, context
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel, text=TWO_SEGMENTS)

    response = submit_app.lambda_handler({"Records": _queued_records(aws)}, context)

    message = _message(uid)
    assert response == {"batchItemFailures": []}
    assert message.dr_state == "SUBMITTED"
    # Kannel's answer names no id, so our uid is the carrier's message id.
    assert message.carrier_message_id == uid
    # Its receipts name our uid, so it needs no entry in the carrier-id index.
    assert message.carrier_ref is None
    [received] = carrier_simulator.submissions
    assert received["to"] == DELIVERED_NUMBER and received["accepted"] is True
    for scope in ("tenant#acme", f"channel#{live_channel}"):
        counted = counters_of(scope, message.dispatch_day)
        assert (counted["total"], counted["submitted"], counted["segments"]) == (1, 1, 2)


def test_a_redelivered_record_does_not_submit_the_message_again(
    aws, live_channel, carrier_simulator, context
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    event = {"Records": _queued_records(aws)}
    submit_app.lambda_handler(event, context)

    again = submit_app.lambda_handler(event, context)

    assert again == {"batchItemFailures": []}
    assert len(carrier_simulator.submissions) == 1
    assert counters_of("tenant#acme", _message(uid).dispatch_day)["submitted"] == 1


def test_a_number_the_gateway_refuses_ends_submit_failed_with_the_reason(
    aws, live_channel, carrier_simulator, context
):
    uid = queue_sms(context, REFUSED_NUMBER, channel=live_channel)

    submit_app.lambda_handler({"Records": _queued_records(aws)}, context)

    message = _message(uid)
    assert message.dr_state == "SUBMIT_FAILED"
    assert "denied" in message.reason
    counted = counters_of("tenant#acme", message.dispatch_day)
    assert (counted["failed"], counted["submitted"]) == (1, 0)


def test_a_refused_message_is_not_handed_back_to_the_queue(
    aws, live_channel, carrier_simulator, context
):
    queue_sms(context, REFUSED_NUMBER, channel=live_channel)

    response = submit_app.lambda_handler({"Records": _queued_records(aws)}, context)

    assert response == {"batchItemFailures": []}


def test_a_temporary_gateway_failure_releases_the_message_to_the_queue(aws, tenant, context):
    uid = queue_sms(context, DELIVERED_NUMBER)
    gateway = FakeGateway(SubmitResult(accepted=False, reason="throttled", temporary=True))

    with pytest.raises(RetryLater):
        submit_queued("acme", [uid], _now, gateway_factory=gateway.factory)

    message = _message(uid)
    assert (message.dr_state, message.reason) == ("QUEUED", "throttled")
    assert message.submitted_at is None  # the gateway did not take it
    assert counters_of("tenant#acme", message.dispatch_day)["submitted"] == 0


def test_a_released_message_is_submitted_when_its_record_comes_again(aws, tenant, context):
    uid = queue_sms(context, DELIVERED_NUMBER)
    gateway = FakeGateway(
        SubmitResult(accepted=False, reason="throttled", temporary=True), accepted("c-2")
    )
    with pytest.raises(RetryLater):
        submit_queued("acme", [uid], _now, gateway_factory=gateway.factory)

    submit_queued("acme", [uid], _now, gateway_factory=gateway.factory)

    message = _message(uid)
    assert (message.dr_state, message.carrier_message_id) == ("SUBMITTED", "c-2")
    assert len(gateway.submissions) == 2
    # The earlier attempt's reason no longer describes the message.
    assert message.reason is None


def test_only_the_record_with_a_temporary_failure_is_reported_for_redelivery(
    aws, live_channel, carrier_simulator, context
):
    # Channel SIM's gateway address has nothing listening: an unreachable gateway.
    unreachable = queue_sms(context, DELIVERED_NUMBER, channel="SIM")
    reachable = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    records = _queued_records(aws)
    [failing_record] = [r for r in records if unreachable in r["body"]]

    response = submit_app.lambda_handler({"Records": records}, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": failing_record["messageId"]}]}
    assert _message(unreachable).dr_state == "QUEUED"
    assert _message(reachable).dr_state == "SUBMITTED"


def test_a_receipt_that_arrives_before_the_submit_is_recorded_keeps_its_state(aws, tenant, context):
    uid = queue_sms(context, DELIVERED_NUMBER)
    secret = channels.get_channel("SIM").receipt_secret

    class FastReceiptGateway(FakeGateway):
        """A fake gateway whose delivery receipt is recorded before it answers the submit."""

        def submit(self, submission):
            receipts.record_receipt(
                "SIM",
                {
                    "tenant": "acme",
                    "uid": uid,
                    "secret": secret,
                    "status": "1",
                    "answer": "id:c-1 stat:DELIVRD err:000",
                },
                _now(),
            )
            return super().submit(submission)

    submit_queued("acme", [uid], _now, gateway_factory=FastReceiptGateway(accepted("c-1")).factory)

    message = _message(uid)
    assert (message.dr_state, message.carrier_message_id) == ("DELIVRD", "c-1")
    counted = counters_of("tenant#acme", message.dispatch_day)
    assert (counted["submitted"], counted["delivered"]) == (1, 1)


def test_a_password_changed_on_the_gateway_first_holds_the_messages_until_the_channel_has_it(
    aws, live_channel, carrier_simulator, context
):
    # An operator changes the gateway's password, then the channel's: what is sent in
    # between must wait on its queue, not fail for good.
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    carrier_simulator.password = "changed-on-the-gateway"

    with pytest.raises(RetryLater):
        submit_queued("acme", [uid], _now)

    message = _message(uid)
    assert message.dr_state == "QUEUED"
    assert message.reason == "the gateway refused the channel's credentials (HTTP 403)"
    assert counters_of("tenant#acme", message.dispatch_day)["failed"] == 0
    assert carrier_simulator.submissions == []

    channels.change_channel(live_channel, {"password": "changed-on-the-gateway"})
    cache.clear_all()  # the channel cache's 5 seconds
    submit_queued("acme", [uid], _now)

    assert _message(uid).dr_state == "SUBMITTED"
    assert [s["accepted"] for s in carrier_simulator.submissions] == [True]


def test_a_mission_sent_days_after_its_dispatch_is_noted_on_it_under_the_submit_policies(
    aws, live_channel, carrier_simulator, context
):
    # The note (for the dispatching log) is a write of the missions table, which the
    # submit function's policies must allow: the handler runs under them here.
    from tests.integration import missions_api

    numbers = missions_api.numbers_list([DELIVERED_NUMBER])
    status, mission = missions_api.create_with_list(numbers, channel=live_channel)
    assert status == 201, mission
    [record] = _queued_records(aws)
    body = json.loads(record["body"])
    dispatched = datetime.fromisoformat(body["dispatched_at"])
    record["body"] = json.dumps(
        {**body, "dispatched_at": (dispatched - timedelta(days=3)).isoformat()}
    )

    response = submit_app.lambda_handler({"Records": [record]}, context)

    assert response == {"batchItemFailures": []}
    noted = MissionModel.get("acme", mission["mission_id"])
    assert noted.sending_until is not None
    assert len(carrier_simulator.submissions) == 1
