"""The Counters function: message changes from the Messages stream, counted exactly once
however the stream's records are delivered again."""

from cloudsms.services import counters
from cloudsms.store.counters import CounterModel
from functions.reports import count
from tests.integration.conftest import (
    FakeContext,
    counters_of,
    message_stream,
    queue_sms,
    submit_sms,
)

SHARD = "shardId-00000001541626099285-f35f62ef"


def _records() -> list[dict]:
    return message_stream().read(1000)


def _day(uid: str) -> str:
    from cloudsms.store.messages import MessageModel

    return MessageModel.get("acme", uid).dispatch_day


def test_a_batch_delivered_again_is_counted_once(aws, tenant, context):
    uid = submit_sms(context, "+639215347566")
    records = _records()

    counters.count_changes(records, SHARD)
    counters.count_changes(records, SHARD)

    counted = counters_of("tenant#acme", _day(uid))
    assert (counted["total"], counted["submitted"]) == (1, 1)


def test_a_batch_retried_with_more_records_counts_only_the_new_ones(aws, tenant, context):
    first = queue_sms(context, "+639215347566")
    second = queue_sms(context, "+639215347567")
    records = _records()
    assert len(records) == 2

    counters.count_changes(records[:1], SHARD)
    counters.count_changes(records, SHARD)  # cut differently: the first record again

    assert counters_of("tenant#acme", _day(first))["total"] == 2
    assert _day(first) == _day(second)


def test_each_shard_is_remembered_on_its_own(aws, tenant, context):
    uid = queue_sms(context, "+639215347566")
    [record] = _records()

    counters.count_changes([record], SHARD)
    # Another shard's record with a lower sequence number is still a change of its own.
    other = {**record, "dynamodb": {**record["dynamodb"], "SequenceNumber": "5"}}
    counters.count_changes([other], "shardId-00000001700000000000-0a0b0c0d")

    assert counters_of("tenant#acme", _day(uid))["total"] == 2


def test_a_counter_changed_meanwhile_is_read_again_and_counted_once(
    aws, tenant, context, monkeypatch
):
    uid = queue_sms(context, "+639215347566")
    records = _records()
    day = _day(uid)
    real_get = CounterModel.get
    raced = []

    def race() -> None:
        # Another shard's batch counts into the same items between our read and write.
        raced.append(True)
        other = {**records[0], "dynamodb": {**records[0]["dynamodb"], "SequenceNumber": "7"}}
        counters.count_changes([other], "shardId-00000001700000000000-0a0b0c0d")

    def get_then_race(scope, period, **kwargs):
        try:
            return real_get(scope, period, **kwargs)
        finally:
            if not raced:
                race()

    monkeypatch.setattr(CounterModel, "get", get_then_race)
    counters.count_changes(records, SHARD)
    monkeypatch.undo()

    assert counters_of("tenant#acme", day)["total"] == 2


def test_the_function_needs_the_shard_its_event_source_names(aws, tenant, context):
    event = {"Records": [], "shardId": SHARD, "state": {}}
    assert count.lambda_handler(event, FakeContext()) == {"state": {}}
    try:
        count.lambda_handler({"Records": []}, FakeContext())
    except ValueError as error:
        assert "names no shard" in str(error)
    else:
        raise AssertionError("an event without a shard was accepted")
