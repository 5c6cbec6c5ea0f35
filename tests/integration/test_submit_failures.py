"""No duplicates: a failure injected at each step of a submission, then the record
delivered again. The gateway (the carrier simulator) gets each message at most once,
and every message ends in the state the README's "Delivery guarantee" promises."""

import json
from typing import Any

import pytest
from pynamodb.expressions.operand import Path

from cloudsms import clock as cloudsms_clock
from cloudsms.carriers.kannel import KannelGateway
from cloudsms.services import submission, transitions
from cloudsms.services.redelivery import RetryLater
from cloudsms.services.submission import submit_queue_message
from cloudsms.store.messages import MessageModel
from functions.send import submit as submit_app
from tests.integration.conftest import counters_of, queue_sms
from tests.integration.submit_records import FakeClock, event, queued_records, received_again

DELIVERED_NUMBER = "+639215347566"  # the simulator accepts numbers ending in 6
OTHER_NUMBER = "+639215347576"
# After a crash SQS delivers the record again when its visibility timeout (template) ends.
VISIBILITY_TIMEOUT = 180
LEASE = 60  # settings.submit_lease_seconds


class Crash(BaseException):
    """The process dies here (a BaseException: no handler in the code catches it)."""


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(cloudsms_clock, "now", fake.now)
    return fake


def _crash_after(owner: Any, name: str, monkeypatch, when=lambda *a, **k: True) -> None:
    """`owner.name` runs, then the process dies (when `when` says so)."""
    original = getattr(owner, name)

    def crashing(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            raise Crash(name)
        return result

    monkeypatch.setattr(owner, name, crashing)


def _crash_instead_of(owner: Any, name: str, monkeypatch, when=lambda *a, **k: True) -> None:
    """The process dies as `owner.name` is called (when `when` says so), before it runs."""
    original = getattr(owner, name)

    def crashing(*args, **kwargs):
        if when(*args, **kwargs):
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)


def _records_the_submission(message, actions, condition) -> bool:
    """Whether a write records the gateway's acceptance (it sets the carrier's id)."""
    return any(
        isinstance(path := action.values[0], Path) and path.path[0] == "carrier_message_id"
        for action in actions
    )


def _message(uid: str) -> MessageModel:
    return MessageModel.get("acme", uid)


def _crash_then_redeliver(aws, context, clock, monkeypatch, inject) -> dict:
    """Runs the queued record with `inject`ed, lets SQS deliver it again once its
    visibility timeout is over, and returns the second answer."""
    [record] = queued_records(aws)
    with monkeypatch.context() as patched:
        inject(patched)
        with pytest.raises(Crash):
            submit_app.lambda_handler(event(record), context)
    clock.advance(VISIBILITY_TIMEOUT)
    return submit_app.lambda_handler(event(received_again(record, 2)), context)


def _sent_to(carrier_simulator, number: str) -> int:
    return sum(1 for s in carrier_simulator.submissions if s["to"] == number)


# --- a crash at each step ---------------------------------------------------------------


def test_a_crash_after_the_claim_never_sends_the_message_and_ends_it_unknown(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)

    _crash_then_redeliver(
        aws, context, clock, monkeypatch, lambda m: _crash_after(transitions, "claim", m)
    )

    message = _message(uid)
    assert carrier_simulator.submissions == []
    assert (message.dr_state, message.reason) == ("UNKNOWN", "submission outcome unknown")


def test_a_crash_during_the_gateway_call_sends_the_message_once_and_ends_it_unknown(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)

    _crash_then_redeliver(
        aws, context, clock, monkeypatch, lambda m: _crash_after(KannelGateway, "submit", m)
    )

    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "UNKNOWN"


def test_a_crash_after_the_gateway_accepted_sends_the_message_once_and_ends_it_unknown(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)

    _crash_then_redeliver(
        aws,
        context,
        clock,
        monkeypatch,
        lambda m: _crash_instead_of(submission, "_record_submitted", m),
    )

    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "UNKNOWN"


def test_a_receipt_for_a_message_whose_answer_was_lost_counts_it_submitted_and_billed(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    from cloudsms.services import channels, receipts

    channels.change_channel(live_channel, {"prices_usd": {"default": "0.0035"}})
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    with monkeypatch.context() as patched:
        _crash_instead_of(submission, "_record_submitted", patched)
        with pytest.raises(Crash):
            submit_app.lambda_handler(event(record), context)

    # The gateway's receipt arrives within the claim's lease: the gateway took it.
    params = {
        "secret": channels.get_channel(live_channel).receipt_secret,
        "tenant": "acme",
        "uid": uid,
        "status": "1",
        "answer": "id:c-1 sub:001 dlvrd:001 stat:DELIVRD err:000",
    }
    receipts.record_receipt(live_channel, params, clock.now())

    counted = counters_of("tenant#acme", _message(uid).dispatch_day)
    assert _message(uid).dr_state == "DELIVRD"
    assert (counted["submitted"], counted["delivered"], counted["cost"]) == (1, 1, 3500)


def test_a_crash_during_the_record_sends_the_message_once_and_ends_it_unknown(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)

    _crash_then_redeliver(
        aws,
        context,
        clock,
        monkeypatch,
        lambda m: _crash_instead_of(transitions, "write", m, when=_records_the_submission),
    )

    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "UNKNOWN"


def test_a_crash_once_the_record_is_written_sends_the_message_once_and_keeps_it_submitted(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)

    _crash_then_redeliver(
        aws,
        context,
        clock,
        monkeypatch,
        lambda m: _crash_after(transitions, "write", m, when=_records_the_submission),
    )

    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "SUBMITTED"


def test_a_record_delivered_again_after_it_was_processed_sends_nothing_again(
    aws, live_channel, carrier_simulator, context, clock
):
    # The function finished, but SQS never got the delete: it delivers the record again.
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    submit_app.lambda_handler(event(record), context)
    clock.advance(VISIBILITY_TIMEOUT)

    again = submit_app.lambda_handler(event(received_again(record, 2)), context)

    assert again == {"batchItemFailures": []}
    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "SUBMITTED"


def test_a_write_that_fails_while_recording_leaves_the_message_to_its_lease(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    # Given the record's write fails (DynamoDB unavailable) after the gateway accepted
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    original = transitions.write

    def unavailable(message, actions, condition):
        if _records_the_submission(message, actions, condition):
            raise RuntimeError("DynamoDB is unavailable")
        return original(message, actions, condition)

    with monkeypatch.context() as patched:
        patched.setattr(transitions, "write", unavailable)
        first = submit_app.lambda_handler(event(record), context)

    # When SQS delivers it again after its visibility timeout
    clock.advance(VISIBILITY_TIMEOUT)
    submit_app.lambda_handler(event(received_again(record, 2)), context)

    # Then it was reported failed, sent once, and settled as unknown
    assert first == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "UNKNOWN"


# --- leases -------------------------------------------------------------------------------


def test_a_claim_found_within_its_lease_makes_the_record_come_back_without_sending(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    with monkeypatch.context() as patched:
        _crash_after(transitions, "claim", patched)
        with pytest.raises(Crash):
            submit_app.lambda_handler(event(record), context)
    clock.advance(10)

    early = submit_app.lambda_handler(event(received_again(record, 2)), context)

    assert early == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert carrier_simulator.submissions == []
    assert _message(uid).dr_state == "SUBMITTING"


def test_a_claim_within_its_lease_asks_sqs_to_come_back_when_the_lease_ends(
    aws, live_channel, context, clock, monkeypatch
):
    queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    with monkeypatch.context() as patched:
        _crash_after(transitions, "claim", patched)
        with pytest.raises(Crash):
            submit_app.lambda_handler(event(record), context)
    clock.advance(10)

    with pytest.raises(RetryLater) as retry:
        submit_queue_message(record["body"], 2, clock.now)

    assert retry.value.seconds == LEASE - 10 + 1


def test_a_message_settled_unknown_counts_once_as_no_notification(
    aws, live_channel, context, clock, monkeypatch
):
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    _crash_then_redeliver(
        aws, context, clock, monkeypatch, lambda m: _crash_after(transitions, "claim", m)
    )
    clock.advance(VISIBILITY_TIMEOUT)

    submit_queue_message(json.dumps({"tenant_id": "acme", "uids": [uid]}), 3, clock.now)

    counted = counters_of("tenant#acme", _message(uid).dispatch_day)
    assert (counted["no_notification"], counted["submitted"]) == (1, 0)


def test_a_gateway_call_that_raises_is_never_repeated(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    # Given an adapter that fails unexpectedly after its request went out
    uid = queue_sms(context, DELIVERED_NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    original = KannelGateway.submit

    def broken(self, submission_):
        original(self, submission_)
        raise ValueError("the adapter could not read the answer")

    with monkeypatch.context() as patched:
        patched.setattr(KannelGateway, "submit", broken)
        first = submit_app.lambda_handler(event(record), context)
    clock.advance(LEASE + 1)

    # When the record comes back after the claim's lease
    submit_app.lambda_handler(event(received_again(record, 2)), context)

    # Then the message went once and is unknown
    assert first == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert len(carrier_simulator.submissions) == 1
    assert _message(uid).dr_state == "UNKNOWN"


# --- a crash in the middle of a batch ----------------------------------------------------------


def _send_two(context, channel: str) -> list[str]:
    from functions.send import app as send_app
    from tests.integration.conftest import api_event

    body = {
        "to": [DELIVERED_NUMBER, OTHER_NUMBER],
        "text": "Hello",
        "sms_type": "business",
        "channel": channel,
    }
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    return [m["uid"] for m in json.loads(response["body"])["messages"]]


def test_after_a_crash_mid_batch_the_messages_not_yet_claimed_are_sent_once(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    # Given a crash as the second message of the record is about to be claimed
    first, second = _send_two(context, live_channel)
    claims = []

    def second_claim(message, now):
        claims.append(message.uid)
        return len(claims) == 2

    _crash_then_redeliver(
        aws,
        context,
        clock,
        monkeypatch,
        lambda m: _crash_instead_of(transitions, "claim", m, when=second_claim),
    )

    assert _sent_to(carrier_simulator, DELIVERED_NUMBER) == 1
    assert _sent_to(carrier_simulator, OTHER_NUMBER) == 1
    assert {_message(first).dr_state, _message(second).dr_state} == {"SUBMITTED"}


def _mission_body(channel: str, numbers: list[str]) -> dict:
    return {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": channel,
        "sms_type": "business",
        "sender": None,
        "quiet_hours": False,
        "recipients": [
            {"uid": f"M1{row:012X}", "to": number, "text": "Hi", "encoding": "GSM-7", "segments": 1}
            for row, number in enumerate(numbers, start=1)
        ],
    }


def test_a_mission_recipient_written_as_claimed_before_a_crash_is_never_sent(
    aws, live_channel, carrier_simulator, context, clock, monkeypatch
):
    # Given the process dies once the second recipient's item is written as claimed
    numbers = ["+639215347516", "+639215347526", "+639215347536"]
    raw = json.dumps(_mission_body(live_channel, numbers))
    written = []

    def second_written(message):
        written.append(message.uid)
        return len(written) == 2

    with monkeypatch.context() as patched:
        _crash_after(transitions, "create_claimed", patched, when=second_written)
        with pytest.raises(Crash):
            submit_queue_message(raw, 1, clock.now)

    # When the queue message comes again after its visibility timeout
    clock.advance(VISIBILITY_TIMEOUT)
    submit_queue_message(raw, 2, clock.now)

    # Then each recipient went at most once, and the one in doubt is unknown
    assert [_sent_to(carrier_simulator, n) for n in numbers] == [1, 0, 1]
    states = [_message(f"M1{row:012X}").dr_state for row in (1, 2, 3)]
    assert states == ["SUBMITTED", "UNKNOWN", "SUBMITTED"]
