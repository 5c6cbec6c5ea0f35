"""Batch reads and writes: keys and items DynamoDB leaves unprocessed (a throttled
partition) are sent again after growing waits, a few times, and then the read or write
fails naming the table. moto never leaves any unprocessed: a fake does, at the
connection."""

from typing import Any

import pytest
from pynamodb.connection import TableConnection

from cloudsms.store import batches
from cloudsms.store.blacklist import BlacklistModel
from cloudsms.store.messages import MessageModel
from functions.send import submit as submit_app
from tests.integration.conftest import queue_sms
from tests.integration.submit_records import event, queued_records

TABLE = BlacklistModel.Meta.table_name
# The waits' ceilings, doubling from 50 ms to the 2 s cap, for every resend allowed.
CEILINGS = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]


class FakeThrottledPartition:
    """Stands in for DynamoDB's batch requests on a throttled partition: each of the
    first `throttled` requests processes only its first `processed` keys or items
    (through moto) and leaves the rest unprocessed, as DynamoDB answers; later requests
    go to moto whole."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, throttled: int, processed: int = 1) -> None:
        self.throttled = throttled
        self.requests: list[int] = []  # keys or items a request named
        get_item, write_item = TableConnection.batch_get_item, TableConnection.batch_write_item

        def batch_get_item(connection: TableConnection, keys: list, **kwargs: Any) -> dict:
            if not self._throttles(len(keys)):
                return get_item(connection, keys, **kwargs)
            answer = get_item(connection, keys[:processed], **kwargs)
            left = list(keys[processed:])
            answer["UnprocessedKeys"] = {connection.table_name: {"Keys": left}}
            return answer

        def batch_write_item(connection: TableConnection, put_items: list, **kwargs: Any) -> dict:
            if not self._throttles(len(put_items)):
                return write_item(connection, put_items=put_items, **kwargs)
            answer = write_item(connection, put_items=put_items[:processed], **kwargs)
            left = [{"PutRequest": {"Item": item}} for item in put_items[processed:]]
            answer["UnprocessedItems"] = {connection.table_name: left}
            return answer

        monkeypatch.setattr(TableConnection, "batch_get_item", batch_get_item)
        monkeypatch.setattr(TableConnection, "batch_write_item", batch_write_item)

    def _throttles(self, size: int) -> bool:
        self.requests.append(size)
        if len(self.requests) > 50:
            raise AssertionError("unprocessed keys or items were sent again without end")
        return len(self.requests) <= self.throttled


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits before each resend, each drawn at the top of its range, none waited."""
    waited: list[float] = []
    monkeypatch.setattr(batches, "jitter", lambda low, high: high)
    monkeypatch.setattr(batches, "sleep", waited.append)
    return waited


def _listed(*numbers: str) -> list[tuple[str, str]]:
    for number in numbers:
        BlacklistModel(owner="acme", number=number, reason="asked").save()
    return [("acme", number) for number in numbers]


def test_keys_left_unprocessed_are_read_again_after_growing_waits(aws, waits, monkeypatch):
    # Given three listed numbers, on a partition that leaves keys unprocessed twice
    keys = _listed("+15550000001", "+15550000002", "+15550000003")
    partition = FakeThrottledPartition(monkeypatch, throttled=2)

    # When they are read in a batch
    found = list(batches.get(BlacklistModel, keys))

    # Then each is read, the keys left over sent again after a wait that grew each time
    assert sorted(item.number for item in found) == [number for _, number in keys]
    assert partition.requests == [3, 2, 1]
    assert waits == CEILINGS[:2]


def test_a_read_whose_keys_stay_unprocessed_fails_naming_the_table_and_keys_left(
    aws, waits, monkeypatch
):
    # Given ten listed numbers, on a partition that never processes more than one key
    keys = _listed(*(f"+1555000001{n}" for n in range(10)))
    partition = FakeThrottledPartition(monkeypatch, throttled=1000)

    # When they are read in a batch
    with pytest.raises(batches.UnprocessedKeys) as failure:
        list(batches.get(BlacklistModel, keys))

    # Then the read gives up after its last resend, its waits capped, and says which
    # table left how many keys unprocessed
    assert partition.requests == list(range(10, 2, -1))
    assert waits == CEILINGS
    assert f"table {TABLE} left 2 key(s) unprocessed" in str(failure.value)


def test_items_left_unprocessed_are_written_again_after_growing_waits(aws, waits, monkeypatch):
    # Given a partition that leaves items unprocessed twice
    partition = FakeThrottledPartition(monkeypatch, throttled=2)
    items = [BlacklistModel(owner="acme", number=f"+1555000002{n}") for n in range(3)]

    # When three numbers are written in a batch
    batches.put(BlacklistModel, items)

    # Then each is written, the items left over sent again after a wait that grew each time
    assert sorted(item.number for item in BlacklistModel.query("acme")) == [
        item.number for item in items
    ]
    assert partition.requests == [3, 2, 1]
    assert waits == CEILINGS[:2]


def test_a_write_whose_items_stay_unprocessed_fails_naming_the_table_and_items_left(
    aws, waits, monkeypatch
):
    # Given a partition that never processes more than one item
    partition = FakeThrottledPartition(monkeypatch, throttled=1000)
    items = [BlacklistModel(owner="acme", number=f"+1555000003{n}") for n in range(10)]

    # When ten numbers are written in a batch
    with pytest.raises(batches.UnprocessedItems) as failure:
        batches.put(BlacklistModel, items)

    # Then the write gives up after its last resend, its waits capped, and says which
    # table left how many items unprocessed
    assert partition.requests == list(range(10, 2, -1))
    assert waits == CEILINGS
    assert f"table {TABLE} left 2 item(s) unprocessed" in str(failure.value)


def test_a_read_finds_what_pynamodbs_own_batch_read_finds(aws, monkeypatch):
    # Given 150 listed numbers, and keys for them, for numbers never listed, and one twice
    keys = _listed(*(f"+155500010{n:02d}" for n in range(150)))
    keys += [("acme", "+15550009999"), ("other", "+15550001000"), keys[0]]
    partition = FakeThrottledPartition(monkeypatch, throttled=0)

    # When they are read in a batch, whole and only some attributes of them
    found = list(batches.get(BlacklistModel, keys))
    some = list(batches.get(BlacklistModel, keys, attributes_to_get=["number"]))

    # Then the read finds each listed number once, 100 keys a request, as PynamoDB does
    assert _by_number(found) == _by_number(BlacklistModel.batch_get(keys))
    # (a model fills in what was not read with its defaults: the reason is "")
    assert {i.number: i.reason for i in some} == {
        i.number: i.reason for i in BlacklistModel.batch_get(keys, attributes_to_get=["number"])
    }
    assert {i.reason for i in found} == {"asked"}
    assert {i.reason for i in some} == {""}
    assert len(found) == 150
    assert partition.requests[:4] == [100, 52, 100, 52]


def test_a_write_sends_25_items_a_request(aws, monkeypatch):
    # Given requests counted, and none throttled
    partition = FakeThrottledPartition(monkeypatch, throttled=0)
    items = [BlacklistModel(owner="acme", number=f"+155500020{n:02d}") for n in range(30)]

    # When 30 numbers are written in a batch
    batches.put(BlacklistModel, items)

    # Then they are written 25 a request, as DynamoDB allows at most
    assert partition.requests == [25, 5]
    assert BlacklistModel.count("acme") == 30


def _by_number(items: Any) -> dict[str, dict[str, Any]]:
    return {item.number: item.attribute_values for item in items}


def test_a_submit_queue_message_whose_messages_stay_unread_comes_back_unsent(
    aws, live_channel, carrier_simulator, context, waits, monkeypatch
):
    # Given an SMS on the submit queue, its tenant's partition throttled all along
    uid = queue_sms(context, "+639171234567", channel=live_channel)
    FakeThrottledPartition(monkeypatch, throttled=1000, processed=0)
    [record] = queued_records(aws)

    # When the submit consumer takes the queue message
    response = submit_app.lambda_handler(event(record), context)

    # Then it gives up reading after its waits, and the queue message fails, for SQS to
    # deliver again after the queue's visibility timeout; nothing was sent
    assert waits == CEILINGS
    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert carrier_simulator.submissions == []
    assert MessageModel.get("acme", uid).dr_state == "QUEUED"
