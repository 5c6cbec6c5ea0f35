"""What the on-call engineer is told of a failure that no dead-letter queue or function
error shows: a log line at the right level naming the channel, tenant and message (never
a secret or a whole number), and a metric an alarm of the template watches."""

import functools
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cloudsms import clock
from cloudsms.carriers.base import SubmitResult
from cloudsms.observability import logger
from cloudsms.services import channels, submission, transitions
from cloudsms.settings import get_settings
from cloudsms.store import receipt_watch
from cloudsms.store.messages import MessageModel
from functions.callbacks import app as callbacks_app
from functions.dlr_webhook import app as dlr_app
from functions.dlr_webhook import sweep as sweep_app
from functions.send import submit as submit_app
from tests.integration.conftest import (
    FakeGateway,
    function_url_event,
    queue_callback_events,
    queue_sms,
    submit_sms,
)
from tests.integration.submit_records import event, queued_records

NUMBER = "+639215347566"
DELIVERED = {"status": "1", "answer": "id:c-1 sub:001 dlvrd:001 stat:DELIVRD err:000"}


def _run(call: Callable[[], Any], capsys) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The log lines `call` writes, and the metrics it publishes (Powertools' EMF lines,
    printed when a handler returns) by name, each checked to carry only the default
    `service` dimension that the template's alarms name."""
    written = io.StringIO()
    before = logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
    capsys.readouterr()
    try:
        call()
    finally:
        logger.registered_handler.setStream(before)  # type: ignore[attr-defined]
    published: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "CloudSMS"
            assert directive["Dimensions"] == [["service"]]
            assert document["service"] == "cloudsms"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                published[metric["Name"]] = sum(value) if isinstance(value, list) else value
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    return lines, published


def _with_message(lines: list[dict[str, Any]], message: str) -> dict[str, Any]:
    [line] = [line for line in lines if line["message"] == message]
    return line


# --- submission ------------------------------------------------------------------------------


def test_a_gateway_that_cannot_take_a_message_is_a_warning_naming_its_channel_and_message(
    aws, tenant, context, capsys
):
    # Channel SIM's gateway address has nothing listening: an unreachable gateway.
    uid = queue_sms(context, NUMBER)
    [record] = queued_records(aws)

    lines, _ = _run(lambda: submit_app.lambda_handler(event(record), context), capsys)

    line = _with_message(lines, "gateway could not take the message; it is tried again")
    assert line["level"] == "WARNING"
    assert (line["channel"], line["tenant_id"], line["uid"]) == ("SIM", "acme", uid)
    assert line["reason"].startswith("Kannel unreachable")


def test_a_gateway_refusal_names_its_channel_and_counts_in_the_refusals_an_alarm_watches(
    aws, tenant, context, capsys, monkeypatch
):
    refused = SubmitResult(accepted=False, reason="forbidden: bad token")
    gateway = FakeGateway(refused)
    monkeypatch.setattr(
        submit_app,
        "submit_queue_message",
        functools.partial(submission.submit_queue_message, gateway_factory=gateway.factory),
    )
    uid = queue_sms(context, NUMBER)
    [record] = queued_records(aws)

    lines, published = _run(lambda: submit_app.lambda_handler(event(record), context), capsys)

    line = _with_message(lines, "gateway refused the message")
    assert line["level"] == "WARNING"
    assert (line["channel"], line["tenant_id"], line["uid"]) == ("SIM", "acme", uid)
    assert published["MessagesSUBMIT_FAILED"] == 1


def test_an_smscs_refusal_in_a_receipt_counts_in_the_refusals_an_alarm_watches(
    aws, tenant, context, capsys
):
    # Given a message a Kannel took (it answers 202 to almost anything): its SMSC's refusal
    # (a sender withdrawn, an account out of credit) comes later, as a NACK receipt
    uid = submit_sms(context, NUMBER)
    secret = channels.get_channel("SIM").receipt_secret
    nack = {"status": "16", "answer": "NACK/0x00000045/Submit failed"}
    query = {"tenant": "acme", "uid": uid, "secret": secret, **nack}
    webhook_event = function_url_event("GET", "/dlr/SIM", query)

    # When the receipt comes
    lines, published = _run(lambda: dlr_app.lambda_handler(webhook_event, context), capsys)

    # Then the message is refused for good, counted as the gateways' refusals are, and the
    # line names its channel and message
    assert published["MessagesSUBMIT_FAILED"] == 1
    line = _with_message(lines, "the SMSC refused the message")
    assert line["level"] == "WARNING"
    assert (line["channel"], line["tenant_id"], line["uid"]) == ("SIM", "acme", uid)
    assert "NACK/0x00000045" in line["reason"]


# --- receipts --------------------------------------------------------------------------------


def _receipt(context, uid: str, secret: str) -> dict[str, Any]:
    query = {"tenant": "acme", "uid": uid, "secret": secret, **DELIVERED}
    return dlr_app.lambda_handler(function_url_event("GET", "/dlr/SIM", query), context)


def test_a_receipt_refused_for_its_secret_is_a_warning_naming_the_route_and_counted(
    aws, tenant, context, capsys
):
    # A carrier given an old receipt URL: each of its receipts is answered 401, and the
    # message would wait days for the receipt sweep to call it UNKNOWN.
    uid = submit_sms(context, NUMBER)
    wrong = "not-the-receipt-secret-1234"

    lines, published = _run(lambda: _receipt(context, uid, wrong), capsys)

    line = _with_message(lines, "receipt or reply refused")
    assert line["level"] == "WARNING"
    assert (line["path"], line["status"]) == ("/dlr/SIM", 401)
    assert published["ReceiptsRefused"] == 1
    assert wrong not in json.dumps(lines)


def test_a_receipt_the_channel_cannot_read_is_counted_as_refused(aws, tenant, context, capsys):
    uid = submit_sms(context, NUMBER)
    secret = channels.get_channel("SIM").receipt_secret
    query = {"tenant": "acme", "uid": uid, "secret": secret, "status": "0", "answer": "what?"}
    webhook_event = function_url_event("GET", "/dlr/SIM", query)

    lines, published = _run(lambda: dlr_app.lambda_handler(webhook_event, context), capsys)

    line = _with_message(lines, "receipt or reply refused")
    assert (line["status"], line["reason"].startswith("unreadable receipt")) == (400, True)
    assert published["ReceiptsRefused"] == 1
    assert secret not in json.dumps(lines)


def test_a_taken_receipt_counts_no_refusal(aws, tenant, context, capsys):
    uid = submit_sms(context, NUMBER)
    secret = channels.get_channel("SIM").receipt_secret

    lines, published = _run(lambda: _receipt(context, uid, secret), capsys)

    assert "ReceiptsRefused" not in published
    assert [line for line in lines if line["level"] == "WARNING"] == []


def test_a_claim_the_sweep_gives_up_on_is_a_warning_of_the_sweeps_invocation(
    aws, tenant, context, capsys, monkeypatch
):
    # Given a message a consumer watched and claimed, then stopped before the gateway's
    # answer was recorded, and the receipt timeout over
    uid = queue_sms(context, NUMBER)
    claimed_at = datetime.now(UTC)
    receipt_watch.watch("acme", "SIM", [uid], claimed_at)
    transitions.claim(MessageModel.get("acme", uid), claimed_at)
    timeout = timedelta(hours=get_settings().receipt_timeout_hours)
    monkeypatch.setattr(clock, "now", lambda: claimed_at + timeout + timedelta(minutes=1))

    # When the hourly sweep runs (its shards on threads of their own)
    lines, published = _run(lambda: sweep_app.lambda_handler({}, context), capsys)

    # Then the warning names the message and the invocation it was written in
    line = _with_message(lines, "claim never answered: submission outcome unknown")
    assert line["level"] == "WARNING"
    assert (line["uid"], line["function_request_id"]) == (uid, context.aws_request_id)
    assert published["MessagesUNKNOWN"] == 1


# --- status callbacks -----------------------------------------------------------------------


def test_a_callback_the_receiver_refused_names_its_tenant_and_message(
    aws, registered, receiver, context, capsys
):
    uid = submit_sms(context, NUMBER)
    queue_callback_events()
    [record] = queued_records(aws, "CallbackQueue")
    receiver.status = 500

    lines, _ = _run(lambda: callbacks_app.lambda_handler(event(record), context), capsys)

    line = _with_message(lines, "record comes back later")
    assert (line["tenant_id"], line["uid"]) == ("acme", uid)
    assert "500" in line["reason"]


# --- tracing one message -------------------------------------------------------------------


def test_the_line_of_an_accepted_send_names_its_messages_by_uid(aws, tenant, context, capsys):
    # The on-call finds a message's later lines (submission, refusal, callback) by its uid:
    # the request's own line, with its correlation id, must name it too.
    uids: list[str] = []

    lines, _ = _run(lambda: uids.append(queue_sms(context, NUMBER)), capsys)

    line = _with_message(lines, "messages queued")
    assert (line["tenant_id"], line["channel"], line["uids"]) == ("acme", "SIM", uids)
    assert line["correlation_id"]
