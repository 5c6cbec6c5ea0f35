"""What the submit function asks of SQS when a record cannot be finished: come back after
a backoff (temporary failures), or fail at once, every time, until the dead-letter queue
takes it (poison)."""

import io
import json
import threading

import boto3
import pytest

from cloudsms.adapters import queues
from cloudsms.carriers.base import SubmitResult
from cloudsms.services.redelivery import Poison, RetryLater
from cloudsms.services.submission import submit_queue_message, submit_queued
from cloudsms.store.messages import MessageModel
from cloudsms_local.lambda_runtime import LocalLambda
from cloudsms_local.pollers import QueuePoller
from functions.send import submit as submit_app
from tests.integration.conftest import FakeGateway, accepted, queue_sms
from tests.integration.submit_records import FakeClock, event, queued_records, received_again

NUMBER = "+639215347566"
TEMPORARY = SubmitResult(accepted=False, reason="Kannel queue full", temporary=True)


@pytest.fixture
def visibility(monkeypatch) -> list[int]:
    """The visibility timeouts the function asked SQS for."""
    asked: list[int] = []
    original = queues.change_visibility

    def change_visibility(queue_url, receipt_handle, seconds):
        asked.append(seconds)
        original(queue_url, receipt_handle, seconds)

    monkeypatch.setattr(queues, "change_visibility", change_visibility)
    return asked


# --- temporary failures ---------------------------------------------------------------------


def test_a_temporary_failure_brings_the_record_back_after_the_backoff_for_its_receipt(
    aws, tenant, context, visibility
):
    # Channel SIM's gateway address has nothing listening: an unreachable gateway.
    queue_sms(context, NUMBER)
    [record] = queued_records(aws)

    response = submit_app.lambda_handler(event(received_again(record, 3)), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert visibility == [20]  # 5 s, doubled on the 2nd and 3rd receipt


def test_after_a_temporary_failure_the_gateway_is_not_called_for_the_rest_of_the_batch(
    aws, tenant, context
):
    uids = [queue_sms(context, NUMBER), queue_sms(context, "+639215347576")]
    gateway = FakeGateway(TEMPORARY, accepted())

    with pytest.raises(RetryLater):
        submit_queued("acme", uids, FakeClock().now, gateway.factory)

    assert len(gateway.submissions) == 1
    assert {MessageModel.get("acme", uid).dr_state for uid in uids} == {"QUEUED"}


def test_a_message_released_after_a_temporary_failure_is_sent_when_the_record_comes_back(
    aws, tenant, context
):
    uid = queue_sms(context, NUMBER)
    gateway = FakeGateway(TEMPORARY, accepted("c-9"))
    raw = json.dumps({"tenant_id": "acme", "uids": [uid]})
    with pytest.raises(RetryLater):
        submit_queue_message(raw, 1, FakeClock().now, gateway.factory)

    submit_queue_message(raw, 2, FakeClock().now, gateway.factory)

    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.carrier_message_id) == ("SUBMITTED", "c-9")


def test_a_message_claimed_elsewhere_meanwhile_brings_the_record_back_to_settle_it(
    aws, tenant, context, monkeypatch
):
    from cloudsms.services import transitions

    uid = queue_sms(context, NUMBER)
    raw = json.dumps({"tenant_id": "acme", "uids": [uid]})
    clock = FakeClock()
    original = transitions.claim

    def claimed_first(message, now):
        # A claim lands between this consumer's read and its own claim, and its consumer
        # (or this one, its answer lost) never records what the gateway said.
        original(MessageModel.get("acme", message.uid), now)
        return original(message, now)

    monkeypatch.setattr(transitions, "claim", claimed_first)
    gateway = FakeGateway(accepted("c-1"))
    with pytest.raises(RetryLater) as later:
        submit_queue_message(raw, 1, clock.now, gateway.factory)
    monkeypatch.setattr(transitions, "claim", original)

    # Back after the lease: the claim is settled, not left SUBMITTING for days.
    assert later.value.seconds == 61
    clock.advance(61)
    submit_queue_message(raw, 2, clock.now, gateway.factory)

    assert gateway.submissions == []
    assert MessageModel.get("acme", uid).dr_state == "UNKNOWN"


# --- poison ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({"tenant_id": "acme"}),  # neither uids nor recipients
        json.dumps({"tenant_id": "acme", "mission_id": "M", "recipients": [{"uid": "x"}]}),
    ],
)
def test_an_unreadable_queue_message_is_poison(aws, tenant, raw):
    with pytest.raises(Poison):
        submit_queue_message(raw, 1, FakeClock().now)


def test_a_queue_message_for_a_tenant_that_does_not_exist_is_poison(aws, tenant):
    raw = json.dumps({"tenant_id": "nobody", "uids": ["01A2167D94776C0865A92E4BC71402"]})

    with pytest.raises(Poison):
        submit_queue_message(raw, 1, FakeClock().now)


def test_a_mission_message_for_a_channel_that_does_not_exist_is_poison(aws, tenant):
    body = {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": "GONE",
        "sms_type": "business",
        "recipients": [
            {"uid": "M1-1", "to": NUMBER, "text": "Hi", "encoding": "GSM-7", "segments": 1}
        ],
    }

    with pytest.raises(Poison):
        submit_queue_message(json.dumps(body), 1, FakeClock().now)


def test_the_messages_that_exist_are_sent_before_a_record_naming_missing_ones_fails(
    aws, tenant, context
):
    uid = queue_sms(context, NUMBER)
    gateway = FakeGateway(accepted())
    raw = json.dumps({"tenant_id": "acme", "uids": [uid, "01A2167D94776C0865A92E4BC71402"]})

    with pytest.raises(Poison):
        submit_queue_message(raw, 1, FakeClock().now, gateway.factory)

    assert MessageModel.get("acme", uid).dr_state == "SUBMITTED"


def test_a_poison_record_is_reported_failed_and_comes_back_at_once(
    aws, tenant, context, visibility
):
    boto3.client("sqs").send_message(
        QueueUrl=aws.physical["BulkSubmitQueue"], MessageBody="not json"
    )
    [record] = queued_records(aws)

    response = submit_app.lambda_handler(event(record), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert visibility == [0]


def test_an_unexpected_failure_is_logged_as_an_error_and_keeps_the_queues_timeout(
    aws, tenant, context, visibility, monkeypatch
):
    from cloudsms.observability import logger

    def unavailable(*_, **__):
        raise RuntimeError("DynamoDB is unavailable")

    monkeypatch.setattr(submit_app, "submit_queue_message", unavailable)
    queue_sms(context, NUMBER)
    [record] = queued_records(aws)
    written = io.StringIO()
    before = logger.registered_handler.setStream(written)

    try:
        response = submit_app.lambda_handler(event(record), context)
    finally:
        logger.registered_handler.setStream(before)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert visibility == []  # the queue's own timeout, longer than any claim's lease
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert [e["message"] for e in errors] == [
        "record failed; SQS delivers it again after the queue's visibility timeout"
    ]
    assert "DynamoDB is unavailable" in errors[0]["exception"]


def test_a_poison_record_lands_in_the_dead_letter_queue_through_the_local_poller(aws, tenant):
    # Given the local stack's poller feeding the submit function from the bulk queue
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.physical["BulkSubmitQueue"], MessageBody="not json")
    poller = QueuePoller(
        sqs,
        LocalLambda(aws),
        aws.physical["BulkSubmitQueue"],
        aws.attributes[("BulkSubmitQueue", "Arn")],
        "SubmitFunction",
        10,
        threading.Event(),
    )
    redrive = json.loads(
        sqs.get_queue_attributes(
            QueueUrl=aws.physical["BulkSubmitQueue"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
    )

    # When it has polled once more than the queue's maxReceiveCount
    for _ in range(int(redrive["maxReceiveCount"]) + 1):
        poller.poll_once()

    # Then the record is in the dead-letter queue, as it was sent
    dead = sqs.receive_message(QueueUrl=aws.physical["BulkSubmitDeadLetterQueue"])["Messages"]
    assert [m["Body"] for m in dead] == ["not json"]
