"""Delivery receipts through the dlr webhook, in the Kannel dlr-url dialect (GET)."""

import io
import json

import pytest

from cloudsms.services import channels
from cloudsms.store.messages import MessageModel
from functions.dlr_webhook import app as dlr_app
from tests.integration.conftest import counters_of, function_url_event, submit_sms

NUMBER = "+639215347566"

# Kannel's %d report bits, and the state named by the SMPP receipt text in %A.
DELIVERED = {"status": "1", "answer": "id:c-1 sub:001 dlvrd:001 stat:DELIVRD err:000"}
ENROUTE = {"status": "4", "answer": ""}


def _failed(stat: str, mask: str, err: str) -> dict[str, str]:
    return {"status": mask, "answer": f"id:c-1 sub:001 dlvrd:000 stat:{stat} err:{err}"}


def _receipt(
    context, uid: str, fields: dict[str, str], secret: str | None = None, channel: str = "SIM"
):
    """Calls the webhook at its function URL as Kannel calls our dlr-url: GET with
    everything in the query."""
    if secret is None:
        secret = channels.get_channel(channel).receipt_secret
    query = {"tenant": "acme", "uid": uid, "smsc_msgid": "c-1", "ts": "1764135000", **fields}
    if secret:
        query["secret"] = secret
    event = function_url_event("GET", f"/dlr/{channel}", query)
    return dlr_app.lambda_handler(event, context)


def _message(uid: str) -> MessageModel:
    return MessageModel.get("acme", uid)


def _counted(uid: str, scope: str = "tenant#acme") -> dict[str, int]:
    return counters_of(scope, _message(uid).dispatch_day)


def test_a_delivered_receipt_moves_the_message_to_delivrd_and_counts_it(aws, tenant, context):
    uid = submit_sms(context, NUMBER)

    response = _receipt(context, uid, DELIVERED)

    assert (response["statusCode"], response["body"]) == (200, "moved")
    message = _message(uid)
    assert message.dr_state == "DELIVRD"
    assert message.receipt_at is not None
    for scope in ("tenant#acme", "channel#SIM"):
        assert _counted(uid, scope)["delivered"] == 1


def test_a_duplicate_receipt_changes_nothing_and_counts_nothing(aws, tenant, context):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, DELIVERED)
    first_receipt_at = _message(uid).receipt_at

    response = _receipt(context, uid, DELIVERED)

    assert (response["statusCode"], response["body"]) == (200, "ignored")
    assert _message(uid).receipt_at == first_receipt_at
    assert _counted(uid)["delivered"] == 1


def test_routine_receipts_write_no_log_line_at_the_deployed_level(aws, tenant, context):
    from cloudsms.observability import logger

    uid = submit_sms(context, NUMBER)
    handler, level = logger.registered_handler, logger.log_level
    written, stream = io.StringIO(), handler.stream  # type: ignore[attr-defined]
    handler.stream = written  # type: ignore[attr-defined]
    logger.setLevel("INFO")  # the template's default LogLevel
    try:
        _receipt(context, uid, DELIVERED)
        _receipt(context, uid, DELIVERED)  # a duplicate, or Kannel's SMSC acknowledgement
        logger.info("the stream is the one the logger writes to")
    finally:
        logger.setLevel(level)
        handler.stream = stream  # type: ignore[attr-defined]

    lines = written.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        "the stream is the one the logger writes to"
    ]


def test_an_enroute_receipt_after_delivery_never_moves_the_message_back(aws, tenant, context):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, DELIVERED)

    response = _receipt(context, uid, ENROUTE)

    assert response["body"] == "ignored"
    assert _message(uid).dr_state == "DELIVRD"


def test_an_enroute_receipt_moves_a_submitted_message_forward_without_counting(
    aws, tenant, context
):
    uid = submit_sms(context, NUMBER)

    _receipt(context, uid, ENROUTE)

    assert _message(uid).dr_state == "ENROUTE"
    counted = _counted(uid)
    assert (counted["delivered"], counted["failed"]) == (0, 0)


@pytest.mark.parametrize(
    ("fields", "state", "error_code"),
    [
        (_failed("UNDELIV", "2", "001"), "UNDELIV", "001"),
        # Kannel reports EXPIRED as 34: "not delivered" plus a bit of its own
        (_failed("EXPIRED", "34", "027"), "EXPIRED", "027"),
        (_failed("REJECTD", "2", "013"), "REJECTD", "013"),
    ],
)
def test_a_failure_receipt_ends_the_message_in_its_state_and_counts_it_failed(
    aws, tenant, context, fields, state, error_code
):
    uid = submit_sms(context, NUMBER)

    _receipt(context, uid, fields)

    message = _message(uid)
    assert (message.dr_state, message.error_code) == (state, error_code)
    for scope in ("tenant#acme", "channel#SIM"):
        counted = _counted(uid, scope)
        assert (counted["failed"], counted["delivered"]) == (1, 0)


def test_a_failure_receipt_names_what_the_channels_carrier_says_its_error_code_means(
    aws, tenant, context
):
    from cloudsms import cache

    channels.change_channel("SIM", {"error_codes": {"1": "Unknown subscriber"}})
    cache.clear_all()
    mapped, unmapped, delivered = (submit_sms(context, NUMBER) for _ in range(3))

    # The carrier writes the code its own way ("001"); the operator wrote "1".
    _receipt(context, mapped, _failed("UNDELIV", "2", "001"))
    _receipt(context, unmapped, _failed("UNDELIV", "2", "027"))
    _receipt(context, delivered, {"status": "1", "answer": "id:c-1 stat:DELIVRD err:001"})

    assert (_message(mapped).error_code, _message(mapped).reason) == (
        "001",
        "Unknown subscriber (error 001)",
    )
    assert (_message(unmapped).error_code, _message(unmapped).reason) == ("027", None)
    assert _message(delivered).reason is None  # a delivered message failed nothing


def test_a_failure_receipt_after_delivery_does_not_count_a_failure(aws, tenant, context):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, DELIVERED)

    _receipt(context, uid, _failed("UNDELIV", "2", "001"))

    assert _message(uid).dr_state == "DELIVRD"
    counted = _counted(uid)
    assert (counted["delivered"], counted["failed"]) == (1, 0)


@pytest.mark.parametrize("secret", ["not-the-secret", ""], ids=["wrong", "missing"])
def test_a_receipt_without_the_channels_secret_is_refused_and_changes_nothing(
    aws, tenant, context, secret
):
    uid = submit_sms(context, NUMBER)

    response = _receipt(context, uid, DELIVERED, secret=secret)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"
    assert _message(uid).dr_state == "SUBMITTED"
    assert _counted(uid)["delivered"] == 0


def test_a_message_sent_before_its_channels_receipt_secret_changed_still_gets_its_receipt(
    aws, tenant, context
):
    from cloudsms import cache

    uid = submit_sms(context, NUMBER)
    old_secret = channels.get_channel("SIM").receipt_secret
    channels.change_channel("SIM", {"new_receipt_secret": True})
    cache.clear_all()

    response = _receipt(context, uid, DELIVERED, secret=old_secret)

    assert channels.get_channel("SIM").receipt_secret != old_secret
    assert response["statusCode"] == 200
    assert _message(uid).dr_state == "DELIVRD"


def test_a_receipt_with_a_secret_changed_within_the_channel_cache_time_is_taken(
    aws, tenant, context
):
    # The webhook's function read the channel a moment before its receipt secret was
    # changed; a submit function that read it after sent the message with the new one.
    from cloudsms.adapters.secrets import read_secret
    from cloudsms.store.channels import ChannelModel

    uid = submit_sms(context, NUMBER)
    channels.get_channel("SIM")  # the webhook's cached channel, the old secret
    channels.change_channel("SIM", {"new_receipt_secret": True})
    new_secret = read_secret(ChannelModel.get("SIM").secret_name)["receipt_secret"]

    response = _receipt(context, uid, DELIVERED, secret=new_secret)

    assert response["statusCode"] == 200
    assert _message(uid).dr_state == "DELIVRD"


def test_a_receipt_for_a_channel_that_does_not_exist_gets_the_wrong_secrets_answer(
    aws, tenant, context
):
    uid = submit_sms(context, NUMBER)
    wrong_secret = _receipt(context, uid, DELIVERED, secret="guess")

    no_channel = _receipt(context, uid, DELIVERED, secret="guess", channel="NOSUCH")

    # Nobody learns from the public receipt URL which route ids exist.
    assert (no_channel["statusCode"], no_channel["body"]) == (
        wrong_secret["statusCode"],
        wrong_secret["body"],
    )


def test_an_unreadable_receipt_is_a_bad_request(aws, tenant, context):
    uid = submit_sms(context, NUMBER)

    response = _receipt(context, uid, {"status": "0", "answer": "nothing to see here"})

    assert response["statusCode"] == 400
    assert _message(uid).dr_state == "SUBMITTED"


def test_a_receipt_for_an_unknown_message_is_answered_unmatched(aws, tenant, context):
    response = _receipt(context, "0000000000000000000000000000FF", DELIVERED)

    assert (response["statusCode"], response["body"]) == (200, "unmatched")


def test_a_receipt_authenticated_by_another_channel_does_not_move_the_message(aws, tenant, context):
    channels.add_channel("OTHER", "simulator", "http://127.0.0.1:9", "other", "other")
    uid = submit_sms(context, NUMBER)

    _receipt(context, uid, DELIVERED, channel="OTHER")

    assert _message(uid).dr_state == "SUBMITTED"


# --- the SMSC's passing refusals ---------------------------------------------------------

THROTTLED = {"status": "16", "answer": "NACK/0x00000058/Throttling error"}


@pytest.fixture
def requeued(monkeypatch) -> list[tuple[dict, int]]:
    """What went back on a submit queue (body, delay), as well as being sent."""
    from cloudsms.adapters import queues

    original, seen = queues.enqueue, []

    def enqueue(queue_url, bodies, delay_seconds=0):
        bodies = list(bodies)
        seen.extend((body, delay_seconds) for body in bodies)
        return original(queue_url, bodies, delay_seconds)

    monkeypatch.setattr(queues, "enqueue", enqueue)
    return seen


def _submit_again(uid: str):
    """The submit consumer takes the message from its queue again (a gateway accepts);
    returns what the gateway was given."""
    from datetime import UTC, datetime

    from cloudsms.services.submission import submit_queued
    from tests.integration.conftest import FakeGateway, accepted

    gateway = FakeGateway(accepted("c-2"))
    submit_queued("acme", [uid], lambda: datetime.now(UTC), gateway_factory=gateway.factory)
    assert len(gateway.submissions) == 1
    return gateway.submissions[0]


def test_a_throttled_message_goes_back_on_its_queue_and_is_counted_once(
    aws, tenant, context, requeued
):
    uid = submit_sms(context, NUMBER)
    requeued.clear()  # its first hand-over

    response = _receipt(context, uid, THROTTLED)

    assert response["body"] == "resubmitted"
    message = _message(uid)
    assert (message.dr_state, message.resubmissions) == ("QUEUED", 1)
    assert "NACK/0x00000058" in message.reason
    assert requeued == [({"tenant_id": "acme", "uids": [uid]}, 5)]

    handed_over = _submit_again(uid)
    _receipt(context, uid, DELIVERED)
    counted = _counted(uid)
    # Its receipts name the second hand-over, so a late refusal of the first is told apart.
    assert "try=1" in handed_over.receipt_url
    assert _message(uid).dr_state == "DELIVRD"
    assert (counted["submitted"], counted["delivered"], counted["failed"]) == (1, 1, 0)


def test_a_refusal_that_keeps_coming_back_is_final_after_three_resubmissions(
    aws, tenant, context, requeued
):
    uid = submit_sms(context, NUMBER)
    requeued.clear()  # its first hand-over
    for hand_over in range(3):
        # Each hand-over's receipt URL names it (the first names none).
        refusal = {**THROTTLED, "try": str(hand_over)} if hand_over else THROTTLED
        assert _receipt(context, uid, refusal)["body"] == "resubmitted"
        _submit_again(uid)

    last = _receipt(context, uid, {**THROTTLED, "try": "3"})

    assert last["body"] == "moved"
    # The SMSC never had it: refused at submission after all, not submitted.
    assert _message(uid).dr_state == "SUBMIT_FAILED"
    assert [delay for _, delay in requeued] == [5, 10, 20]
    counted = _counted(uid)
    assert (counted["submitted"], counted["failed"]) == (0, 1)


@pytest.mark.parametrize(
    ("receipt", "state"),
    [
        (
            {"status": "16", "answer": "NACK/0x0000000B/Invalid destination address"},
            "SUBMIT_FAILED",  # the SMSC refused it for good: it never reached the network
        ),
        # the handset: the carrier has retried already
        (_failed("UNDELIV", "2", "001"), "UNDELIV"),
    ],
    ids=["permanent-nack", "handset-failure"],
)
def test_other_failures_are_final_at_once(aws, tenant, context, requeued, receipt, state):
    uid = submit_sms(context, NUMBER)
    requeued.clear()  # its first hand-over

    response = _receipt(context, uid, receipt)

    assert response["body"] == "moved"
    assert _message(uid).dr_state == state
    assert requeued == []


def test_a_refusal_delivered_twice_sends_the_message_again_once(aws, tenant, context, requeued):
    uid = submit_sms(context, NUMBER)
    requeued.clear()

    first = _receipt(context, uid, THROTTLED)
    again = _receipt(context, uid, THROTTLED)

    assert (first["body"], again["body"]) == ("resubmitted", "ignored")
    assert _message(uid).dr_state == "QUEUED"
    assert len(requeued) == 1
    _submit_again(uid)
    _receipt(context, uid, DELIVERED)
    counted = _counted(uid)
    assert (counted["submitted"], counted["delivered"], counted["failed"]) == (1, 1, 0)


def test_a_late_refusal_of_an_earlier_hand_over_changes_nothing(aws, tenant, context, requeued):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, THROTTLED)
    _submit_again(uid)
    requeued.clear()

    # The first hand-over's refusal, late; then the second hand-over's own (try=1).
    late = _receipt(context, uid, THROTTLED)
    current = _receipt(context, uid, {**THROTTLED, "try": "1"})

    assert (late["body"], current["body"]) == ("ignored", "resubmitted")
    assert len(requeued) == 1
    assert _message(uid).resubmissions == 2


def test_a_message_delivered_after_a_passing_refusal_keeps_no_error_code_of_it(
    aws, tenant, context, requeued
):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, THROTTLED)
    _submit_again(uid)

    # Kannel's own report of a delivery (Kannel's fake SMSC's): the bits, no receipt text.
    _receipt(context, uid, {"status": "1", "answer": "", "try": "1"})

    # The refusal was about the first hand-over: a delivered message with the SMSC's
    # "Throttling error" beside it in the log and the callbacks reads as a failure.
    message = _message(uid)
    assert (message.dr_state, message.error_code, message.reason) == ("DELIVRD", None, None)


@pytest.mark.parametrize(
    "late",
    [
        ENROUTE,  # Kannel's "queued on the SMSC" report, overtaken by the refusal
        {"status": "8", "answer": "ACK/"},  # the SMSC's acknowledgement
        {"status": "16", "answer": "NACK/0x0000000B/Invalid destination address"},
    ],
    ids=["enroute", "accepted", "permanent-nack"],
)
def test_a_late_receipt_of_a_refused_hand_over_does_not_hold_the_message_back(
    aws, tenant, context, requeued, late
):
    uid = submit_sms(context, NUMBER)
    _receipt(context, uid, THROTTLED)

    response = _receipt(context, uid, late)

    # The message waits on its queue for a hand-over of its own: a receipt of the refused
    # one must not move it, or the queue message skips it and it is never sent again.
    assert response["body"] == "ignored"
    assert _message(uid).dr_state == "QUEUED"
    _submit_again(uid)
    _receipt(context, uid, {**DELIVERED, "try": "1"})
    counted = _counted(uid)
    assert _message(uid).dr_state == "DELIVRD"
    assert (counted["submitted"], counted["delivered"], counted["failed"]) == (1, 1, 0)


@pytest.mark.parametrize("mangled", ["\u00b2", "1" * 5000])
def test_a_hand_over_number_that_is_none_reads_as_the_first(aws, tenant, context, mangled):
    uid = submit_sms(context, NUMBER)

    response = _receipt(context, uid, {**THROTTLED, "try": mangled})

    assert (response["statusCode"], response["body"]) == (200, "resubmitted")
    assert _message(uid).resubmissions == 1


def test_a_refusal_that_overtakes_the_record_of_the_gateways_answer_sends_it_again(
    aws, tenant, context, requeued
):
    """Kannel answers sendsms once bearerbox has the message; an SMSC that throttles can
    refuse it, and smsbox call the dlr-url, before the consumer has recorded the answer."""
    from datetime import UTC, datetime

    from cloudsms.services.submission import submit_queued
    from tests.integration.conftest import FakeGateway, accepted, queue_sms

    class RefusedBeforeItAnswers(FakeGateway):
        def submit(self, submission):
            self.refusal = _receipt(context, submission.uid, THROTTLED)
            return super().submit(submission)

    uid = queue_sms(context, NUMBER)
    gateway = RefusedBeforeItAnswers(accepted("c-1"))
    submit_queued("acme", [uid], lambda: datetime.now(UTC), gateway_factory=gateway.factory)

    assert gateway.refusal["body"] == "resubmitted"
    message = _message(uid)
    assert (message.dr_state, message.resubmissions) == ("QUEUED", 1)
    assert requeued[-1] == ({"tenant_id": "acme", "uids": [uid]}, 5)
    _submit_again(uid)
    _receipt(context, uid, DELIVERED)
    counted = _counted(uid)
    assert _message(uid).dr_state == "DELIVRD"
    assert (counted["submitted"], counted["delivered"], counted["failed"]) == (1, 1, 0)


def test_a_receipt_text_with_its_spaces_as_plus_signs_is_read_from_the_raw_query(
    aws, tenant, context
):
    # Kannel writes %A's spaces as "+"; were the decoded parameters to keep them so, the
    # text's stat and err would be lost and only the report bits read.
    uid = submit_sms(context, NUMBER)
    secret = channels.get_channel("SIM").receipt_secret
    query = {"tenant": "acme", "uid": uid, "secret": secret, **_failed("EXPIRED", "2", "027")}
    event = function_url_event("GET", "/dlr/SIM", query)
    event["queryStringParameters"] = {
        name: value.replace(" ", "+") for name, value in query.items()
    }

    dlr_app.lambda_handler(event, context)

    message = _message(uid)
    assert (message.dr_state, message.error_code) == ("EXPIRED", "027")
