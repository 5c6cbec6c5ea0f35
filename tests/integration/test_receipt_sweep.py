"""The hourly receipt sweep: messages without a final receipt after the timeout become
UNKNOWN ("No Delivery Notification"), counted once; claims that were never answered
become UNKNOWN too; late receipts are reconciled. Messages are found through the
receipt watches the submit consumer writes, never by a scan of the messages."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.exceptions import QueryError, UpdateError

from cloudsms.carriers.base import SubmitResult
from cloudsms.services import transitions
from cloudsms.services.receipt_sweep import expire_overdue, sweep
from cloudsms.services.redelivery import RetryLater
from cloudsms.services.submission import submit_queued
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import ReceiptWatchModel
from cloudsms.store.unmatched_receipts import UnmatchedReceiptModel
from functions.dlr_webhook import sweep as sweep_handler
from tests.integration.conftest import FakeGateway, accepted, queue_sms, throttled
from tests.integration.receipts_helpers import (
    NUMBER,
    add_channel,
    counted,
    kannel,
    message,
    ours,
    post_receipt,
    submit,
)

TIMEOUT = timedelta(hours=get_settings().receipt_timeout_hours)
LEASE = timedelta(seconds=get_settings().submit_lease_seconds)
TEMPORARY_FAILURE = SubmitResult(accepted=False, reason="throttled", temporary=True)


class Crash(BaseException):
    """The submit consumer dies here (no handler in the code catches it)."""


def _time_left() -> float:
    return 900.0


def _after_timeout(uid: str, extra: timedelta = timedelta(minutes=1)) -> datetime:
    return message(uid).submitted_at + TIMEOUT + extra


def _watches() -> list[ReceiptWatchModel]:
    return list(ReceiptWatchModel.scan())


def _shard(watch: ReceiptWatchModel) -> int:
    return int(watch.watch_hour.rsplit("#", 1)[1])


def _watched_in_shards(context, shards: int) -> list[str]:
    """Messages submitted one batch each, until their watches are in `shards` shards."""
    uids: list[str] = []
    while len({_shard(w) for w in _watches()}) < shards:
        uids.append(submit(context, "SIM"))
    return uids


def _claimed_then_crashed(context, monkeypatch) -> str:
    """A message its consumer claimed and died with, whose queue message never came
    back (it went to the dead-letter queue): it stays SUBMITTING."""
    uid = queue_sms(context, NUMBER)
    claim = transitions.claim

    def claim_then_crash(claimed, now):
        claim(claimed, now)
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(transitions, "claim", claim_then_crash)
        with pytest.raises(Crash):
            submit_queued("acme", [uid], lambda: datetime.now(UTC), FakeGateway(accepted()).factory)
    return uid


def _released(context, at: datetime) -> str:
    """A message a temporary gateway failure released: QUEUED, waiting for a retry."""
    uid = queue_sms(context, NUMBER)
    with pytest.raises(RetryLater):
        submit_queued("acme", [uid], lambda: at, FakeGateway(TEMPORARY_FAILURE).factory)
    return uid


# --- messages without a final receipt -------------------------------------------------------


def test_a_message_without_a_final_receipt_after_the_timeout_becomes_unknown(aws, tenant, context):
    uid = submit(context, "SIM")

    result = sweep(_after_timeout(uid), _time_left)

    assert result["expired"] == 1
    swept = message(uid)
    assert (swept.dr_state, swept.reason) == ("UNKNOWN", "No Delivery Notification")
    for scope in ("tenant#acme", "channel#SIM"):
        assert counted(uid, scope)["no_notification"] == 1


def test_a_message_still_within_the_timeout_is_left_waiting_and_watched(aws, tenant, context):
    uid = submit(context, "SIM")

    sweep(_after_timeout(uid, extra=-timedelta(minutes=1)), _time_left)

    assert message(uid).dr_state == "SUBMITTED"
    assert [w.uids for w in _watches()] == [{uid}]
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


def test_a_watch_is_deleted_once_its_messages_are_settled(aws, tenant, context):
    uid = submit(context, "SIM")

    sweep(_after_timeout(uid), _time_left)

    assert _watches() == []


def test_sweeping_twice_counts_no_notification_once(aws, tenant, context):
    uid = submit(context, "SIM")
    now = _after_timeout(uid)

    sweep(now, _time_left)
    second = sweep(now + timedelta(hours=1), _time_left)

    assert second["expired"] == 0
    assert counted(uid)["no_notification"] == 1


def test_a_receipt_racing_the_sweep_wins_and_the_message_is_moved_once(
    aws, tenant, context, monkeypatch
):
    # Given the sweep reads the message still waiting, and its final receipt lands
    # before the sweep writes
    uid = submit(context, "SIM")
    read_while_waiting = message(uid)
    post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", "c-1"), method="GET")
    with monkeypatch.context() as patched:
        patched.setattr(batches, "get", lambda model, keys, **_: iter([read_while_waiting]))
        first = sweep(_after_timeout(uid), _time_left)

    # When the next run reads it again
    second = sweep(_after_timeout(uid) + timedelta(hours=1), _time_left)

    assert (first["expired"], second["expired"]) == (0, 0)
    assert message(uid).dr_state == "DELIVRD"
    assert _watches() == []
    assert (counted(uid)["delivered"], counted(uid)["no_notification"]) == (1, 0)


def test_a_receipt_after_the_sweep_does_not_change_the_unknown_message(aws, tenant, context):
    uid = submit(context, "SIM")
    sweep(_after_timeout(uid), _time_left)

    response = post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", "c-1"), method="GET")

    assert response["body"] == "ignored"
    assert (message(uid).dr_state, counted(uid)["delivered"]) == ("UNKNOWN", 0)


def test_a_message_submitted_again_after_a_release_times_out_from_its_last_submission(
    aws, tenant, context
):
    # Given a message released by a temporary failure, then submitted three hours later
    first_try = datetime.now(UTC)
    uid = _released(context, at=first_try)
    retry = first_try + timedelta(hours=3)
    submit_queued("acme", [uid], lambda: retry, FakeGateway(accepted()).factory)

    # When the sweep passes the first try's timeout, then the retry's
    early = sweep(first_try + TIMEOUT + timedelta(minutes=1), _time_left)
    due = sweep(retry + TIMEOUT + timedelta(minutes=1), _time_left)

    assert (early["expired"], due["expired"]) == (0, 1)
    assert message(uid).dr_state == "UNKNOWN"
    assert _watches() == []


def test_the_sweep_never_scans_or_queries_the_messages(aws, tenant, context, monkeypatch):
    uid = submit(context, "SIM")

    def refused(*args, **kwargs):
        raise AssertionError("the sweep read the messages table by scan or query")

    monkeypatch.setattr(MessageModel, "scan", refused)
    monkeypatch.setattr(MessageModel, "query", refused)
    monkeypatch.setattr(ReceiptWatchModel, "scan", refused)
    result = sweep(_after_timeout(uid), _time_left)

    assert result["expired"] == 1


def test_the_sweep_stops_when_the_invocation_runs_out_of_time(aws, tenant, context):
    uid = submit(context, "SIM")

    result = sweep(_after_timeout(uid), lambda: 1.0)

    assert (result["expired"], message(uid).dr_state) == (0, "SUBMITTED")
    assert len(_watches()) == 1


def test_watches_in_several_shards_of_an_hour_are_all_settled_in_one_run(aws, tenant, context):
    uids = _watched_in_shards(context, 3)

    result = sweep(_after_timeout(uids[-1]), _time_left)

    assert result["expired"] == len(uids)
    assert {message(uid).dr_state for uid in uids} == {"UNKNOWN"}
    assert _watches() == []
    assert counted(uids[0])["no_notification"] == len(uids)


def test_the_shards_of_an_hour_are_swept_at_the_same_time(aws, tenant, context, monkeypatch):
    # Given watches in three shards, and each shard's first read of its messages waiting
    # until every shard has come to its own (the barrier's timeout is only reached by
    # shards swept one after another, which never all come)
    uids = _watched_in_shards(context, 3)
    every_shard_reading = threading.Barrier(len({_shard(w) for w in _watches()}), timeout=30)
    reading = threading.local()
    batch_get = batches.get

    def once_every_shard_reads(model, keys, **kwargs):
        if not getattr(reading, "began", False):
            reading.began = True
            every_shard_reading.wait()
        return batch_get(model, keys, **kwargs)

    monkeypatch.setattr(batches, "get", once_every_shard_reads)

    expired = expire_overdue(_after_timeout(uids[-1]), _time_left)

    assert expired == len(uids)
    assert _watches() == []


def test_a_run_out_of_time_leaves_every_watch_it_did_not_reach_for_the_next_run(
    aws, tenant, context
):
    # Given watches in three shards, and time enough for two watches only
    uids = _watched_in_shards(context, 3)
    now = _after_timeout(uids[-1])
    looked = threading.Semaphore(2)

    def time_for_two_watches() -> float:
        return _time_left() if looked.acquire(blocking=False) else 1.0

    # When the sweep runs out of time, then runs again with time enough
    first = sweep(now, time_for_two_watches)
    left = _watches()
    left_waiting = {message(uid).dr_state for w in left for uid in w.uids}
    second = sweep(now + timedelta(hours=1), _time_left)

    # Then every watch the first run did not reach was still there, its message waiting,
    # and the next run settled it: each message was moved and counted once
    assert (first["expired"], len(left)) == (2, len(uids) - 2)
    assert left_waiting == {"SUBMITTED"}
    assert second["expired"] == len(uids) - 2
    assert {message(uid).dr_state for uid in uids} == {"UNKNOWN"}
    assert _watches() == []
    assert counted(uids[0])["no_notification"] == len(uids)


def test_a_shard_that_fails_fails_the_run_once_the_other_shards_are_settled(
    aws, tenant, context, monkeypatch
):
    # Given watches in three shards, and DynamoDB refusing to read one of them
    uids = _watched_in_shards(context, 3)
    shard_of = {uid: _shard(w) for w in _watches() for uid in w.uids}
    failing = min(shard_of.values())
    query = ReceiptWatchModel.query

    def refused_in_one_shard(key, *args, **kwargs):
        if key.endswith(f"#{failing}"):
            raise throttled(QueryError)
        return query(key, *args, **kwargs)

    monkeypatch.setattr(ReceiptWatchModel, "query", refused_in_one_shard)

    # When the sweep runs, the run fails
    with pytest.raises(QueryError):
        sweep(_after_timeout(uids[-1]), _time_left)

    # Then the other shards were settled, and the failing one is left for the next run
    for uid, shard in shard_of.items():
        assert message(uid).dr_state == ("SUBMITTED" if shard == failing else "UNKNOWN")
    assert {_shard(w) for w in _watches()} == {failing}


# --- claims and releases --------------------------------------------------------------------


def test_a_claim_never_answered_becomes_unknown_after_the_timeout(
    aws, tenant, context, monkeypatch
):
    uid = _claimed_then_crashed(context, monkeypatch)

    result = sweep(_after_timeout(uid), _time_left)

    swept = message(uid)
    assert result["expired"] == 1
    assert (swept.dr_state, swept.reason) == ("UNKNOWN", transitions.OUTCOME_UNKNOWN)
    assert _watches() == []
    assert counted(uid)["no_notification"] == 1


def test_a_claim_is_left_alone_until_the_timeout(aws, tenant, context, monkeypatch):
    uid = _claimed_then_crashed(context, monkeypatch)

    sweep(_after_timeout(uid, extra=-timedelta(minutes=1)), _time_left)

    assert message(uid).dr_state == "SUBMITTING"


def test_a_released_message_waiting_for_its_retry_is_left_queued(aws, tenant, context):
    first_try = datetime.now(UTC)
    uid = _released(context, at=first_try)

    result = sweep(first_try + TIMEOUT + timedelta(minutes=1), _time_left)

    assert (result["expired"], message(uid).dr_state) == (0, "QUEUED")


# --- unmatched receipts ---------------------------------------------------------------------


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


def test_a_reconciliation_dynamodb_refuses_to_record_fails_the_sweep(
    aws, tenant, context, monkeypatch
):
    add_channel("JAS", "jasmin")
    post_receipt(context, "JAS", ours("JAS"), {"id": "J-7", "message_status": "DELIVRD"})
    submit(context, "JAS", carrier_id="J-7")

    def refused(*_: object, **__: object) -> None:
        raise throttled(UpdateError)

    monkeypatch.setattr(UnmatchedReceiptModel, "update", refused)

    # Not taken for another sweep's reconciliation: the next sweep tries it again.
    with pytest.raises(UpdateError):
        sweep(datetime.now(UTC), _time_left)


def test_the_scheduled_function_runs_the_sweep(aws, tenant, context):
    submit(context, "SIM")

    result = sweep_handler.lambda_handler({"source": "aws.scheduler"}, context)

    assert result == {
        "reconciled": 0,
        "channels_without_receipts": 0,
        "channels_delivering_poorly": 0,
        "expired": 0,
        "missions_without_list": 0,
        "order_notices": 0,
    }
