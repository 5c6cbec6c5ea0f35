"""Tenant status callbacks: registered through the API, queued by every state change,
delivered signed by the callbacks function, retried until the receiver takes them."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from cloudsms import cache
from cloudsms.adapters import queues
from cloudsms.adapters.secrets import read_secret
from cloudsms.domain.signatures import SIGNATURE_HEADER, verify
from cloudsms.errors import Conflict
from cloudsms.services import callbacks, channels, receipts, submission, transitions
from cloudsms.services.callbacks import CallbackRegistration
from cloudsms.services.submission import submit_queued
from cloudsms.settings import get_settings
from cloudsms.store.callbacks import CallbackModel, secret_name
from cloudsms.store.messages import MessageModel
from functions.admin import app as admin_app
from functions.callbacks import app as callbacks_app
from tests.integration.callback_receiver import FakeCallbackReceiver
from tests.integration.conftest import (
    FakeContext,
    FakeGateway,
    accepted,
    api_event,
    queue_callback_events,
    queue_sms,
)
from tests.integration.submit_records import event, queued_records, received_again

NUMBER = "+639215347566"
PUBLIC_URL = "https://hooks.example.com/cloudsms"


def _now() -> datetime:
    return datetime.now(UTC)


def _admin(context, method: str, body: Any = None) -> tuple[int, Any]:
    response = admin_app.lambda_handler(
        api_event(method, "/v1/callback", "/v1/callback", body=body), context
    )
    return response["statusCode"], json.loads(response["body"] or "null")


def _submit(context) -> str:
    uid = queue_sms(context, NUMBER)
    submit_queued("acme", [uid], _now, FakeGateway(accepted(uid)).factory)
    return uid


def _callback_records(aws) -> list[dict[str, Any]]:
    """The callback queue's messages, once the Messages stream has reached the
    CallbackEvents function."""
    queue_callback_events()
    return queued_records(aws, "CallbackQueue")


def _deliver(context, *records: dict[str, Any]) -> dict:
    return callbacks_app.lambda_handler(event(*records), context)


# --- registration ---------------------------------------------------------------------------


def test_registering_a_callback_answers_its_signing_secret(aws, tenant, context):
    status, view = _admin(context, "PUT", {"url": PUBLIC_URL})

    assert status == 200
    assert view["url"] == PUBLIC_URL
    assert len(view["signing_secret"]) >= 32


def test_the_signing_secret_is_never_shown_again(aws, tenant, context):
    _admin(context, "PUT", {"url": PUBLIC_URL})

    _, read = _admin(context, "GET")
    _, changed = _admin(context, "PUT", {"url": PUBLIC_URL + "/v2"})

    assert "signing_secret" not in read
    assert "signing_secret" not in changed
    assert changed["url"] == PUBLIC_URL + "/v2"


def test_a_registration_asking_for_it_gets_a_new_secret(aws, tenant, context):
    _, first = _admin(context, "PUT", {"url": PUBLIC_URL})

    _, rotated = _admin(context, "PUT", {"url": PUBLIC_URL, "rotate_secret": True})

    assert rotated["signing_secret"] != first["signing_secret"]


def test_a_removed_callback_is_gone(aws, tenant, context):
    _admin(context, "PUT", {"url": PUBLIC_URL})

    status, _ = _admin(context, "DELETE")

    assert status == 204
    assert _admin(context, "GET")[0] == 404


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/cloudsms", "http://127.0.0.1:8080/cb", "https://10.1.2.3/"]
)
def test_a_callback_url_that_is_not_public_https_is_refused(aws, tenant, context, url, monkeypatch):
    from cloudsms.settings import get_settings
    from functions.admin import app as admin_app

    # As deployed: a loopback address is the Lambda runtime's own, never a receiver.
    deployed = get_settings().model_copy(update={"callback_loopback_allowed": False})
    monkeypatch.setattr(admin_app, "get_settings", lambda: deployed)

    status, answer = _admin(context, "PUT", {"url": url})

    assert status == 400
    assert answer["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "resolved",
    [["169.254.169.254"], ["10.0.0.5"], ["93.184.216.34", "127.0.0.1"], ["fd00:ec2::254"]],
)
def test_a_callback_url_whose_name_resolves_to_a_private_address_is_refused(
    aws, tenant, context, resolved, monkeypatch
):
    import ipaddress

    from cloudsms.adapters import webhooks

    # As deployed: loopback is the Lambda runtime's own API.
    deployed = get_settings().model_copy(update={"callback_loopback_allowed": False})
    monkeypatch.setattr(admin_app, "get_settings", lambda: deployed)
    monkeypatch.setattr(
        webhooks, "addresses", lambda host: [ipaddress.ip_address(a) for a in resolved]
    )

    status, answer = _admin(context, "PUT", {"url": "https://metadata.example.com/latest"})

    assert status == 400
    assert "resolves to a private address" in answer["error"]["message"]
    assert [detail["field"] for detail in answer["error"]["details"]] == ["url"]
    assert _admin(context, "GET")[0] == 404


def test_a_callback_url_whose_name_does_not_resolve_yet_is_registered(
    aws, tenant, context, monkeypatch
):
    from cloudsms.adapters import webhooks

    monkeypatch.setattr(webhooks, "addresses", lambda host: [])

    status, view = _admin(context, "PUT", {"url": PUBLIC_URL})

    assert status == 200, view


def test_a_local_receiver_by_name_is_registered_on_the_local_stack(
    aws, tenant, context, monkeypatch
):
    import ipaddress

    from cloudsms.adapters import webhooks

    loopback = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    monkeypatch.setattr(webhooks, "addresses", lambda host: loopback)

    status, view = _admin(context, "PUT", {"url": "http://localhost:8080/cb"})

    assert status == 200, view


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com:99999/x",
        "https://exa mple.com/",
        "https://example.com/\r\nX",
        "https://-/",
    ],
)
def test_a_callback_url_that_cannot_be_called_is_refused_naming_it(aws, tenant, context, url):
    status, answer = _admin(context, "PUT", {"url": url})

    assert status == 400
    assert [detail["field"] for detail in answer["error"]["details"]] == ["url"]
    assert _admin(context, "GET")[0] == 404


# --- queueing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved", "loopback_allowed"),
    [
        (["10.0.0.5"], False),
        (["93.184.216.34", "169.254.169.254"], False),
        (["127.0.0.1"], False),
        (["239.1.2.3"], True),
    ],
)
def test_no_callback_is_posted_to_a_name_that_resolves_to_a_private_address(
    monkeypatch, resolved, loopback_allowed
):
    import ipaddress

    from cloudsms.adapters import webhooks

    monkeypatch.setattr(
        webhooks, "addresses", lambda host: [ipaddress.ip_address(a) for a in resolved]
    )

    address, problem = callbacks.destination("https://hooks.example.com/cb", loopback_allowed)

    assert (address, problem) == (None, "refused: its host name resolves to a private address")


def test_a_callback_to_a_public_name_or_local_receiver_may_be_posted(monkeypatch):
    import ipaddress

    from cloudsms.adapters import webhooks

    public = [ipaddress.ip_address("93.184.216.34")]
    monkeypatch.setattr(webhooks, "addresses", lambda host: public)
    assert callbacks.destination("https://hooks.example.com/cb", False) == (public[0], None)
    loopback = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(webhooks, "addresses", lambda host: [loopback])
    assert callbacks.destination("http://127.0.0.1:8080/cb", True) == (loopback, None)


def test_a_receiver_redirecting_elsewhere_is_not_followed(receiver):
    import ipaddress

    from cloudsms.adapters import webhooks

    with FakeCallbackReceiver() as internal:
        receiver.status = 307
        receiver.location = internal.url
        address = ipaddress.ip_address("127.0.0.1")

        problem = webhooks.post(receiver.url, address, b"{}", {}, timeout=5)

        assert problem == "HTTP 307"
        assert len(receiver.received) == 1
        assert internal.received == []


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(receiver):
    import ipaddress
    import time

    from cloudsms.adapters import webhooks

    # Each byte comes well within the timeout, the whole answer long after it: a receiver
    # must not hold the callbacks function (and the rest of its batch) past its timeout.
    receiver.trickle_seconds = 4
    started = time.monotonic()

    problem = webhooks.post(receiver.url, ipaddress.ip_address("127.0.0.1"), b"{}", {}, timeout=1)

    assert problem is not None and problem.startswith("unreachable")
    assert time.monotonic() - started < 2.5


def test_a_tenant_without_a_callback_costs_no_queue_message(aws, tenant, context):
    _submit(context)

    assert _callback_records(aws) == []


def test_a_state_change_queues_its_event(aws, registered, context):
    uid = _submit(context)

    [record] = _callback_records(aws)

    body = json.loads(record["body"])
    assert body["event"]["uid"] == uid
    assert body["event"]["dr_state"] == "SUBMITTED"


def test_a_receiver_that_is_down_does_not_hold_up_submission(aws, registered, receiver, context):
    receiver.status = 503

    uid = _submit(context)

    # submitted, and the receiver not even called: the event waits on the queue
    assert MessageModel.get("acme", uid).dr_state == "SUBMITTED"
    assert receiver.received == []
    assert len(_callback_records(aws)) == 1


def test_a_state_change_is_reported_even_if_its_writer_stops_right_after_writing(
    aws, registered, context, monkeypatch
):
    recorded = submission._record_submitted

    def record_then_stop(message: MessageModel, result: Any) -> None:
        recorded(message, result)
        raise TimeoutError("the invocation ran out of time")  # Lambda stops it here

    monkeypatch.setattr(submission, "_record_submitted", record_then_stop)
    with pytest.raises(TimeoutError):
        _submit(context)

    [record] = _callback_records(aws)
    assert json.loads(record["body"])["event"]["dr_state"] == "SUBMITTED"


def test_a_state_change_is_reported_even_if_the_queue_refused_while_it_was_written(
    aws, registered, context, monkeypatch
):
    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS is unavailable")

    uid = queue_sms(context, NUMBER)
    with monkeypatch.context() as patched:
        patched.setattr(queues, "enqueue", refused)
        submit_queued("acme", [uid], _now, FakeGateway(accepted(uid)).factory)

    [record] = _callback_records(aws)
    assert json.loads(record["body"])["event"]["uid"] == uid


def test_a_message_the_platform_refused_after_storing_it_is_reported(
    aws, registered, context, monkeypatch
):
    from functions.send import app as send_app

    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS is unavailable")

    body = {"to": [NUMBER], "text": "Hello", "sms_type": "business", "channel": "SIM"}
    with monkeypatch.context() as patched:
        patched.setattr(queues, "enqueue", refused)
        response = send_app.lambda_handler(
            api_event("POST", "/v1/sms", "/v1/sms", body=body), context
        )
    assert response["statusCode"] == 503

    [record] = _callback_records(aws)
    event = json.loads(record["body"])["event"]
    assert (event["dr_state"], event["status"]) == ("LOCAL_REJECTED", "failed")
    assert event["reason"] == "the submit queue was unavailable"


def test_state_changes_whose_events_could_not_be_queued_come_again(
    aws, registered, context, monkeypatch
):
    uid = _submit(context)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS refused the batch")

    with monkeypatch.context() as patched:
        patched.setattr(queues, "enqueue", refused)
        with pytest.raises(RuntimeError):
            queue_callback_events()
    assert queued_records(aws, "CallbackQueue") == []

    [record] = _callback_records(aws)  # the stream hands the same batch on again
    assert json.loads(record["body"])["event"]["uid"] == uid


def test_a_write_that_does_not_change_the_state_is_not_reported(aws, registered, context):
    uid = _submit(context)
    message = MessageModel.get("acme", uid)

    transitions.write(message, [MessageModel.reason.set("a note")], None)

    assert [json.loads(r["body"])["event"]["dr_state"] for r in _callback_records(aws)] == [
        "SUBMITTED"
    ]


# --- delivery -------------------------------------------------------------------------------


def test_the_receiver_gets_the_state_change_signed_with_the_tenants_secret(
    aws, registered, receiver, context
):
    uid = _submit(context)

    response = _deliver(context, *_callback_records(aws))

    [received] = receiver.received
    signed_at = int(received.headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))
    assert response == {"batchItemFailures": []}
    assert verify(registered, received.body, received.headers[SIGNATURE_HEADER], now=signed_at)
    assert received.event == {
        "uid": uid,
        "mission_id": None,
        "reference": None,
        "to": NUMBER,
        "dr_state": "SUBMITTED",
        "status": "sent",
        "error_code": None,
        "reason": None,
        "at": received.event["at"],
    }


def test_the_callback_goes_to_the_address_checked_not_the_name_resolved_again(
    aws, tenant, receiver, context, monkeypatch
):
    import ipaddress

    from cloudsms.adapters import webhooks

    # A name that resolves (here) to the receiver's address only when the platform looks
    # at it: resolved again for the connection, it would lead elsewhere (DNS rebinding)
    # or, as here, nowhere.
    from cloudsms.store.callbacks import CallbackModel

    url = receiver.url.replace("127.0.0.1", "rebinding.invalid")
    callbacks.register("acme", CallbackRegistration(url=receiver.url), allow_loopback=True)
    # Written as is: registration takes plain http only to a loopback address.
    CallbackModel.get("acme").update(actions=[CallbackModel.url.set(url)])
    looked_at = []

    def checked(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        looked_at.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(webhooks, "addresses", checked)
    _submit(context)

    response = _deliver(context, *_callback_records(aws))

    assert response == {"batchItemFailures": []}
    assert looked_at == ["rebinding.invalid"]
    [received] = receiver.received
    assert received.headers["Host"] == url.split("/")[2]


def test_every_state_change_is_posted(aws, registered, receiver, context):
    uid = _submit(context)
    secret = channels.get_channel("SIM").receipt_secret
    params = {"tenant": "acme", "uid": uid, "secret": secret, "status": "1"}
    receipts.record_receipt("SIM", {**params, "answer": "id:x stat:DELIVRD err:000"}, _now())

    _deliver(context, *_callback_records(aws))

    assert sorted(e["dr_state"] for e in receiver.events()) == ["DELIVRD", "SUBMITTED"]


def test_a_refusal_by_the_smsc_in_a_receipt_is_reported_as_the_submissions_failure(
    aws, registered, context
):
    uid = _submit(context)
    secret = channels.get_channel("SIM").receipt_secret
    nack = "NACK/0x0000000B/Invalid destination address"
    params = {"tenant": "acme", "uid": uid, "secret": secret, "status": "16", "answer": nack}
    receipts.record_receipt("SIM", params, _now())

    events = {
        e["dr_state"]: e for e in (json.loads(r["body"])["event"] for r in _callback_records(aws))
    }

    assert sorted(events) == ["SUBMITTED", "SUBMIT_FAILED"]
    refused = events["SUBMIT_FAILED"]
    assert (refused["status"], refused["error_code"]) == ("failed", nack)
    assert refused["reason"] == f"the SMSC refused it ({nack})"


class SlowReceiverContext(FakeContext):
    """A 30-second invocation whose time goes by as a slow receiver takes each event."""

    def __init__(self, receiver: FakeCallbackReceiver, seconds_each: float) -> None:
        self.receiver, self.seconds_each = receiver, seconds_each

    def get_remaining_time_in_millis(self) -> int:
        return int((30 - self.seconds_each * len(self.receiver.received)) * 1000)


def test_an_event_the_time_left_cannot_deliver_goes_back_on_the_queue_untried(
    aws, registered, receiver, context
):
    # Lambda stops the function at its timeout, wherever it is: an event cut off mid-POST
    # would come back only after the queue's visibility timeout, with the whole batch.
    uid = _submit(context)
    secret = channels.get_channel("SIM").receipt_secret
    params = {"tenant": "acme", "uid": uid, "secret": secret, "status": "1"}
    receipts.record_receipt("SIM", {**params, "answer": "id:x stat:DELIVRD err:000"}, _now())
    records = _callback_records(aws)

    response = _deliver(SlowReceiverContext(receiver, seconds_each=20), *records)

    assert response == {"batchItemFailures": []}
    [delivered] = receiver.events()
    [again] = queued_records(aws, "CallbackQueue")
    assert json.loads(again["body"])["event"]["dr_state"] != delivered["dr_state"]


def test_a_receiver_answering_an_error_gets_the_event_again_after_a_backoff(
    aws, registered, receiver, context, monkeypatch
):
    asked: list[int] = []
    monkeypatch.setattr(queues, "change_visibility", lambda url, handle, s: asked.append(s))
    _submit(context)
    receiver.status = 500
    [record] = _callback_records(aws)

    response = _deliver(context, record)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert asked == [10]


def test_an_event_refused_with_a_500_is_delivered_once_the_receiver_recovers(
    aws, registered, receiver, context
):
    _submit(context)
    [record] = _callback_records(aws)
    receiver.status = 500
    _deliver(context, record)

    receiver.status = 200
    response = _deliver(context, received_again(record, 2))

    assert response == {"batchItemFailures": []}
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body


def test_an_event_for_a_tenant_that_removed_its_callback_is_dropped(
    aws, registered, receiver, context
):
    _submit(context)
    [record] = _callback_records(aws)
    callbacks.remove("acme")
    cache.clear_all()  # as the cache time passing would

    response = _deliver(context, record)

    assert response == {"batchItemFailures": []}
    assert receiver.received == []


def test_a_callback_queue_message_that_is_not_an_event_is_poison(aws, tenant, context):
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.physical["CallbackQueue"], MessageBody="{}")
    [record] = _callback_records(aws)

    response = _deliver(context, record)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}


def test_of_two_registrations_at_once_the_loser_is_told_to_try_again(aws, tenant, monkeypatch):
    # Given a registration that read the callback before another one changed it
    callbacks.register("acme", CallbackRegistration(url=PUBLIC_URL), allow_loopback=False)
    stale = CallbackModel.get("acme")
    rotate = CallbackRegistration(url=PUBLIC_URL, rotate_secret=True)
    winner = callbacks.register("acme", rotate, allow_loopback=False)
    monkeypatch.setattr(CallbackModel, "get", lambda *args, **kwargs: stale)

    # When it writes
    with pytest.raises(Conflict):
        callbacks.register("acme", rotate, allow_loopback=False)

    # Then the winner's secret is the one that signs
    monkeypatch.undo()
    current = CallbackModel.get("acme")
    signing = read_secret(secret_name("acme", current.secret_id))["signing_secret"]
    assert signing == winner["signing_secret"]
