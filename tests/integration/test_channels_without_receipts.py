"""A channel whose carrier stopped sending receipts, or whose receipts are DELIVRD less
often than its delivery floor (its own, else the stack's), is told to the operator by
the next hourly sweeps, not 72 hours later: a WARNING line naming the channel, and the
metric its alarm watches. Normal life (a few messages waiting hours for their receipt,
some undelivered, a channel sending a handful) stays quiet."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.exceptions import QueryError

from cloudsms import clock
from cloudsms.carriers.base import SubmitResult
from cloudsms.services import channels, receipt_silence, receipt_sweep
from cloudsms.services.submission import submit_queued
from cloudsms.settings import get_settings
from cloudsms.store import receipt_watch
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import WATCH_SHARDS, ReceiptWatchModel, watch_shard_key
from functions.dlr_webhook import sweep as sweep_app
from functions.send import app as send_app
from tests.integration.conftest import FakeGateway, accepted, api_event, throttled
from tests.integration.receipts_helpers import kannel, post_receipt
from tests.integration.test_failures_reach_the_operator import _run

# 10:05 in Asia/Shanghai, the tenant's zone: within its sending window.
SUBMITTED = datetime.now(UTC).replace(hour=2, minute=5, second=0, microsecond=0)
# Late in the hour that judges the messages submitted then: nearly 3 hours after them.
SWEPT = SUBMITTED + timedelta(hours=get_settings().receipt_silence_hours, minutes=45)
ACCEPTED = accepted()
WARNING = "channel gets no receipts: its carrier may have stopped sending them"
POOR = "channel delivers poorly: fewer of its receipts DELIVRD than its floor"


def _submitted(
    context, count: int, at: datetime = SUBMITTED, answer: SubmitResult = ACCEPTED
) -> list[str]:
    """`count` messages on channel SIM, one batch handed to a gateway `at` that answered
    each with `answer`."""
    numbers = [f"+6392153475{n:02d}" for n in range(count)]
    body = {"to": numbers, "text": "Hi", "sms_type": "business", "channel": "SIM"}
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    uids = [m["uid"] for m in json.loads(response["body"])["messages"]]
    submit_queued("acme", uids, lambda: at, FakeGateway(answer).factory)
    return uids


def _delivered(context, uids: list[str]) -> None:
    for uid in uids:
        post_receipt(context, "SIM", kannel(uid, "SIM", "DELIVRD", f"c-{uid}"), method="GET")


def _undelivered(context, uids: list[str]) -> None:
    for uid in uids:
        receipt = kannel(uid, "SIM", "UNDELIV", f"c-{uid}", mask="2")
        post_receipt(context, "SIM", receipt, method="GET")


def _sweep(context, capsys, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: SWEPT)
    return _run(lambda: sweep_app.lambda_handler({}, context), capsys)


def _warnings(lines, message: str = WARNING) -> list[dict]:
    return [line for line in lines if line["message"] == message]


def test_a_channel_whose_messages_all_still_wait_for_receipts_is_named_and_counted(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages a gateway took nearly 3 hours ago, none of which got a receipt
    _submitted(context, 25)

    # When the hourly sweep runs (through its handler: its policies allow each read)
    lines, published = _sweep(context, capsys, monkeypatch)

    # Then a warning names the channel, and the metric counts one silent channel
    [line] = _warnings(lines)
    assert line["level"] == "WARNING"
    assert (line["channel"], line["messages"], line["receipted"]) == ("SIM", 25, 0)
    assert published["ChannelsWithoutReceipts"] == 1


def test_a_channel_with_most_receipts_come_and_a_few_waiting_is_not_reported(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages taken nearly 3 hours ago: 22 delivered, 3 still waiting (handsets off)
    uids = _submitted(context, 25)
    _delivered(context, uids[:22])

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines) == []
    assert published["ChannelsWithoutReceipts"] == 0


def test_a_channel_with_fewer_messages_than_the_minimum_is_not_reported(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 19 messages, none with a receipt: too few to page anyone for
    _submitted(context, 19)

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines) == []
    assert published["ChannelsWithoutReceipts"] == 0


def test_messages_submitted_within_the_last_hour_are_not_judged_yet(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages without receipts, taken 45 minutes before the sweep: their
    # receipts may still come
    _submitted(context, 25, at=SWEPT - timedelta(minutes=45))

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines) == []
    assert published["ChannelsWithoutReceipts"] == 0


def test_messages_a_gateway_refused_expect_no_receipt_and_are_not_judged(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages the gateway refused (SubmissionsRefusedAlarm's to report)
    _submitted(context, 25, answer=SubmitResult(accepted=False, reason="forbidden: bad token"))

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines) == []
    assert published["ChannelsWithoutReceipts"] == 0


def test_a_failed_look_for_silent_channels_fails_the_run_once_overdue_messages_are_settled(
    aws, tenant, context, monkeypatch
):
    # Given a message past the receipt timeout, and DynamoDB refusing the look for
    # channels without receipts
    [uid] = _submitted(context, 1)

    def refused(now):
        raise throttled(QueryError)

    monkeypatch.setattr(receipt_sweep, "judge_channels", refused)
    timeout = timedelta(hours=get_settings().receipt_timeout_hours)

    # When the sweep runs, the run fails (the function's error alarm sees it)
    with pytest.raises(QueryError):
        receipt_sweep.sweep(SUBMITTED + timeout + timedelta(minutes=1), lambda: 900.0)

    # Then the overdue message was given up on all the same
    assert MessageModel.get("acme", uid).dr_state == "UNKNOWN"


def test_the_look_keeps_no_more_of_a_channels_messages_than_it_reads(aws, tenant, context):
    # Given three batches of 60 messages on one channel in the judged hour
    for _ in range(3):
        _submitted(context, 60)

    # When the look collects the hour's watched messages
    watched = receipt_silence._watched_messages(receipt_silence._judged_hour(SWEPT))

    # Then it holds only as many as it reads (an hour may list millions)
    assert len(watched["SIM"]) == receipt_silence.SAMPLE


def test_the_sample_is_drawn_from_every_batch_of_the_hour_not_the_first_read(aws, tenant, context):
    # Given ten tenants' batches of 100 messages each on one shared channel, in the hour
    hour = receipt_silence._judged_hour(SWEPT)
    for n in range(10):
        uids = [f"T{n}-{m:03d}" for m in range(100)]
        receipt_watch.watch(f"tenant{n}", "SIM", uids, SUBMITTED)

    # When the look collects the hour's watched messages
    watched = receipt_silence._watched_messages(hour)["SIM"]

    # Then its sample of 100 holds ten of each batch, not one batch (a whole sample)
    per_tenant = Counter(tenant_id for tenant_id, _ in watched)
    assert per_tenant == {f"tenant{n}": 10 for n in range(10)}


def test_the_watches_sampled_are_drawn_from_all_of_the_hours_not_the_first_read(
    aws, tenant, context, monkeypatch
):
    # Given more batches on the channel than the sample holds, one message each
    for n in range(3 * receipt_silence.SAMPLE):
        receipt_watch.watch(f"tenant{n}", "SIM", [f"U{n}"], SUBMITTED)
    # and a draw that always gives a later watch the first place of the sample
    monkeypatch.setattr(receipt_silence, "draw", lambda seen: 0)

    watched = receipt_silence._watched_messages(receipt_silence._judged_hour(SWEPT))["SIM"]

    # Then the sample is not the first watches read: later ones took their places
    first_read = [
        (watch.tenant_id, next(iter(watch.uids)))
        for shard in range(WATCH_SHARDS)
        for watch in ReceiptWatchModel.query(watch_shard_key(SUBMITTED, shard))
    ][: receipt_silence.SAMPLE]
    assert len(watched) == receipt_silence.SAMPLE
    assert watched != set(first_read)


def test_one_missions_stale_list_does_not_make_a_shared_channel_deliver_poorly(
    aws, tenant, context, capsys, monkeypatch
):
    # Given five batches on one channel in the hour (a sample of 40: the size of a batch):
    # one mission's to a stale list, none delivered, and four others all delivered
    monkeypatch.setattr(receipt_silence, "SAMPLE", 40)
    _undelivered(context, _submitted(context, 40))
    for _ in range(4):
        _delivered(context, _submitted(context, 40))

    lines, published = _sweep(context, capsys, monkeypatch)

    # Then the channel, delivering 80 % of the hour's messages, is not reported
    assert _warnings(lines, POOR) == []
    assert published["ChannelsDeliveringPoorly"] == 0


def test_a_channel_whose_receipts_are_mostly_failures_is_named_and_counted(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages taken nearly 3 hours ago: 10 delivered, 15 undelivered
    uids = _submitted(context, 25)
    _delivered(context, uids[:10])
    _undelivered(context, uids[10:])

    lines, published = _sweep(context, capsys, monkeypatch)

    # Then a warning names the channel with its receipts' failures, and the metric counts it
    [line] = _warnings(lines, POOR)
    assert line["level"] == "WARNING"
    assert (line["channel"], line["receipted"], line["delivered"]) == ("SIM", 25, 10)
    assert line["UNDELIV"] == 15
    assert published["ChannelsDeliveringPoorly"] == 1
    assert published["ChannelsWithoutReceipts"] == 0
    assert _warnings(lines) == []


def test_a_channel_delivering_above_the_floor_is_not_reported(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 receipted messages, 15 of them delivered: above the floor of a half
    uids = _submitted(context, 25)
    _delivered(context, uids[:15])
    _undelivered(context, uids[15:])

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines, POOR) == []
    assert published["ChannelsDeliveringPoorly"] == 0


def test_a_channel_with_fewer_final_receipts_than_the_minimum_is_not_judged_on_them(
    aws, tenant, context, capsys, monkeypatch
):
    # Given 25 messages taken: 19 undelivered, 6 still waiting (heard, but too few
    # receipts to judge a delivery rate by)
    uids = _submitted(context, 25)
    _undelivered(context, uids[:19])

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines, POOR) == [] and _warnings(lines) == []
    assert published["ChannelsDeliveringPoorly"] == 0


def test_a_channel_with_its_own_higher_floor_is_reported_where_the_stacks_would_not(
    aws, tenant, context, capsys, monkeypatch
):
    # Given a route that normally delivers 98 %, its own floor 0.9, and an hour in which
    # 20 of its 25 receipts were DELIVRD (80 %: above the stack's floor of a half)
    channels.change_channel("SIM", {"delivery_floor": 0.9})
    uids = _submitted(context, 25)
    _delivered(context, uids[:20])
    _undelivered(context, uids[20:])

    lines, published = _sweep(context, capsys, monkeypatch)

    # Then it is reported, and the warning says which floor judged it
    [line] = _warnings(lines, POOR)
    assert (line["channel"], line["receipted"], line["delivered"]) == ("SIM", 25, 20)
    assert (line["delivery_floor"], line["delivery_floor_of"]) == (0.9, "channel")
    assert published["ChannelsDeliveringPoorly"] == 1


def test_a_channel_with_a_floor_of_0_is_never_reported_delivering_poorly(
    aws, tenant, context, capsys, monkeypatch
):
    # Given a channel whose floor is 0, and an hour in which none of its 25 receipts
    # was DELIVRD
    channels.change_channel("SIM", {"delivery_floor": 0})
    _undelivered(context, _submitted(context, 25))

    lines, published = _sweep(context, capsys, monkeypatch)

    assert _warnings(lines, POOR) == []
    assert published["ChannelsDeliveringPoorly"] == 0


def test_a_channel_whose_floor_was_reset_to_null_is_judged_by_the_stacks(
    aws, tenant, context, capsys, monkeypatch
):
    # Given a channel whose own floor of 0 was set back to the stack's (null), and an hour
    # in which 10 of its 25 receipts were DELIVRD
    channels.change_channel("SIM", {"delivery_floor": 0})
    channels.change_channel("SIM", {"delivery_floor": None})
    uids = _submitted(context, 25)
    _delivered(context, uids[:10])
    _undelivered(context, uids[10:])

    lines, published = _sweep(context, capsys, monkeypatch)

    # Then the stack's floor (a half) reports it, and the warning says it was the stack's
    [line] = _warnings(lines, POOR)
    floor = get_settings().channel_delivery_floor
    assert (line["delivery_floor"], line["delivery_floor_of"]) == (floor, "stack")
    assert published["ChannelsDeliveringPoorly"] == 1


def test_a_channel_no_longer_stored_is_judged_by_the_stacks_floor(
    aws, tenant, context, capsys, monkeypatch
):
    # Given an hour in which 10 of a channel's 25 receipts were DELIVRD, and the channel's
    # item since deleted by hand (no API deletes one)
    uids = _submitted(context, 25)
    _delivered(context, uids[:10])
    _undelivered(context, uids[10:])
    ChannelModel.get("SIM").delete()

    lines, published = _sweep(context, capsys, monkeypatch)

    [line] = _warnings(lines, POOR)
    assert (line["channel"], line["delivery_floor_of"]) == ("SIM", "stack")
    assert published["ChannelsDeliveringPoorly"] == 1
