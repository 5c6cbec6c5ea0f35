"""The hourly receipt sweep: messages without a final receipt after the timeout become
UNKNOWN ("No Delivery Notification"), counted once; late receipts are reconciled."""

from datetime import UTC, datetime, timedelta

from cloudsms.services.receipt_sweep import sweep
from cloudsms.settings import get_settings
from cloudsms.store.messages import MessageModel
from cloudsms.store.unmatched_receipts import UnmatchedReceiptModel
from functions.dlr_webhook import sweep as sweep_handler
from tests.integration.receipts_helpers import (
    add_channel,
    counted,
    kannel,
    message,
    ours,
    post_receipt,
    submit,
)

TIMEOUT = timedelta(hours=get_settings().receipt_timeout_hours)


def _time_left() -> float:
    return 900.0


def _after_timeout(uid: str, extra: timedelta = timedelta(minutes=1)) -> datetime:
    return message(uid).submitted_at + TIMEOUT + extra


def test_a_message_without_a_final_receipt_after_the_timeout_becomes_unknown(aws, tenant, context):
    uid = submit(context, "SIM")

    result = sweep(_after_timeout(uid), _time_left)

    assert result["expired"] == 1
    swept = message(uid)
    assert (swept.dr_state, swept.reason, swept.awaiting_receipt) == (
        "UNKNOWN",
        "No Delivery Notification",
        None,
    )
    for scope in ("tenant#acme", "channel#SIM"):
        assert counted(uid, scope)["no_notification"] == 1


def test_a_message_still_within_the_timeout_is_left_waiting(aws, tenant, context):
    uid = submit(context, "SIM")

    sweep(_after_timeout(uid, extra=-timedelta(minutes=1)), _time_left)

    assert message(uid).dr_state == "SUBMITTED"
    assert counted(uid)["no_notification"] == 0


def test_an_intermediate_state_is_not_final_and_times_out_too(aws, tenant, context):
    uid = submit(context, "SIM")
    enroute = {**kannel(uid, "SIM", "ENROUTE", "c-1", mask="4"), "answer": ""}
    post_receipt(context, "SIM", enroute, method="GET")

    sweep(_after_timeout(uid), _time_left)

    assert message(uid).dr_state == "UNKNOWN"


def test_a_delivered_message_is_never_swept(aws, tenant, context):
    uid = submit(context, "SIM")
    post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", "c-1"), method="GET")

    result = sweep(_after_timeout(uid), _time_left)

    assert (result["expired"], message(uid).dr_state) == (0, "DELIVRD")
    assert counted(uid)["no_notification"] == 0


def test_sweeping_twice_counts_no_notification_once(aws, tenant, context):
    uid = submit(context, "SIM")
    now = _after_timeout(uid)

    sweep(now, _time_left)
    second = sweep(now + timedelta(hours=1), _time_left)

    assert second["expired"] == 0
    assert counted(uid)["no_notification"] == 1


def test_a_receipt_after_the_sweep_does_not_change_the_unknown_message(aws, tenant, context):
    uid = submit(context, "SIM")
    sweep(_after_timeout(uid), _time_left)

    response = post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", "c-1"), method="GET")

    assert response["body"] == "ignored"
    assert (message(uid).dr_state, counted(uid)["delivered"]) == ("UNKNOWN", 0)


def test_a_final_message_left_marked_as_waiting_only_leaves_the_index(aws, tenant, context):
    # Given a receipt that overtook the record of the submission, which then marked the
    # already delivered message as waiting
    uid = submit(context, "SIM")
    post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", "c-1"), method="GET")
    marked = message(uid)
    marked.update(
        actions=[MessageModel.awaiting_receipt.set(f"{marked.submitted_at:%Y-%m-%dT%H}#0")]
    )

    sweep(_after_timeout(uid), _time_left)

    assert (message(uid).dr_state, message(uid).awaiting_receipt) == ("DELIVRD", None)
    assert counted(uid)["no_notification"] == 0


def test_a_receipt_that_overtook_its_submission_is_reconciled_by_the_sweep(aws, tenant, context):
    # Given a Jasmin receipt naming only its id, before any message was recorded with it
    add_channel("JAS", "jasmin")
    early = {"id": "J-7", "message_status": "DELIVRD", "level": "2", "err": "000"}
    post_receipt(context, "JAS", ours("JAS"), early)
    # When the message is recorded with that id and the sweep runs
    uid = submit(context, "JAS", carrier_id="J-7")
    result = sweep(datetime.now(UTC), _time_left)

    assert result["reconciled"] == 1
    assert message(uid).dr_state == "DELIVRD"
    assert counted(uid)["delivered"] == 1
    [kept] = list(UnmatchedReceiptModel.query("JAS"))
    assert (kept.reconciled_uid, kept.reconciled_at is not None) == (uid, True)


def test_a_reconciled_receipt_is_not_applied_again(aws, tenant, context):
    add_channel("JAS", "jasmin")
    post_receipt(context, "JAS", ours("JAS"), {"id": "J-7", "message_status": "DELIVRD"})
    uid = submit(context, "JAS", carrier_id="J-7")
    sweep(datetime.now(UTC), _time_left)

    second = sweep(datetime.now(UTC), _time_left)

    assert second["reconciled"] == 0
    assert counted(uid)["delivered"] == 1


def test_the_sweep_stops_when_the_invocation_runs_out_of_time(aws, tenant, context):
    uid = submit(context, "SIM")

    result = sweep(_after_timeout(uid), lambda: 1.0)

    assert (result["expired"], message(uid).dr_state) == (0, "SUBMITTED")


def test_the_scheduled_function_runs_the_sweep(aws, tenant, context):
    submit(context, "SIM")

    result = sweep_handler.lambda_handler({"source": "aws.scheduler"}, context)

    assert result == {"reconciled": 0, "expired": 0}
