"""Batch reads and writes (BatchGetItem, BatchWriteItem) that back off when DynamoDB
leaves part of a request unprocessed, and give up after a few tries.

DynamoDB answers a batch request whose partition is throttled by leaving some keys
(UnprocessedKeys) or items (UnprocessedItems) out, not with an error. Messages are keyed
by tenant, so one big tenant's partition can be hot. PynamoDB's own `Model.batch_get`
sends unprocessed keys again at once and without end (a Lambda spins on the hot
partition until it times out), and `Model.batch_write` at once, a few times. AWS's
advice is to send them again after exponentially growing waits with jitter; after
`RETRIES` of them, `Unprocessed...` is raised and the caller's failure applies: in a
queue-fed function the queue message comes back after its visibility timeout, which is
the place for a longer wait than a function should sleep through.
"""

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.connection import TableConnection
from pynamodb.exceptions import GetError, PutError
from pynamodb.models import Model

M = TypeVar("M", bound=Model)

# DynamoDB's limits: keys of one BatchGetItem, items of one BatchWriteItem.
READ_PAGE = 100
WRITE_PAGE = 25

# Waits before each resend: full jitter, anywhere from 0 to BACKOFF_BASE * 2**n seconds,
# at most BACKOFF_CAP. 50 ms is botocore's own first wait for DynamoDB: throttling often
# clears within a few tens of milliseconds. A partition's throughput is a budget per
# second, so waits grow to a second or two to let it refill; with 7 resends a request
# waits 5 s at the most (2.6 s on average), small next to the functions' 30 s and the
# API's 29 s, and a partition still throttled after that is left to the queue's
# redelivery (minutes), not slept through at the function's expense.
BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0
RETRIES = 7

# Seams for tests, which wait no time and draw no chance.
sleep = time.sleep
jitter = random.uniform


class UnprocessedKeys(GetError):
    """DynamoDB left keys of a batch read unprocessed, resend after resend."""


class UnprocessedItems(PutError):
    """DynamoDB left items of a batch write unprocessed, resend after resend."""


def get(
    model: type[M],
    keys: Iterable[tuple[Any, Any]],
    attributes_to_get: Sequence[str] | None = None,
    consistent_read: bool | None = None,
) -> Iterator[M]:
    """The stored items of these (hash key, range key) pairs, in no particular order;
    a key with no item is left out, and a key given twice is read once (a request may
    not name one key twice). Read `READ_PAGE` keys a request, lazily."""
    table = model.Meta.table_name
    hash_key, range_key = _key_attributes(model)
    wanted = [
        {
            hash_key.attr_name: {hash_key.attr_type: hash_key.serialize(hash_value)},
            range_key.attr_name: {range_key.attr_type: range_key.serialize(range_value)},
        }
        for hash_value, range_value in dict.fromkeys(keys)
    ]
    connection = _connection(model)
    for start in range(0, len(wanted), READ_PAGE):
        page = wanted[start : start + READ_PAGE]
        for resend in range(RETRIES + 1):
            if resend:
                _back_off(resend)
            answer = connection.batch_get_item(
                page,  # type: ignore[arg-type]  # typed as strings; takes key maps
                consistent_read=consistent_read,
                attributes_to_get=attributes_to_get,
            )
            for item in answer.get("Responses", {}).get(table, []):
                yield model.from_raw_data(item)
            page = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not page:
                break
        else:
            raise UnprocessedKeys(
                f"Failed to batch get items: table {table} left {len(page)} key(s) "
                f"unprocessed after {RETRIES} resends (its partition is throttled)"
            )


def put(model: type[M], items: Sequence[M]) -> None:
    """Writes (puts) these items, `WRITE_PAGE` a request, in order. When it raises, the
    items of the requests before are written, those of the requests after are not, and
    of the request that failed, any may be."""
    table = model.Meta.table_name
    connection = _connection(model)
    for start in range(0, len(items), WRITE_PAGE):
        page = [item.serialize() for item in items[start : start + WRITE_PAGE]]
        for resend in range(RETRIES + 1):
            if resend:
                _back_off(resend)
            answer = connection.batch_write_item(put_items=page)
            left = answer.get("UnprocessedItems", {}).get(table, [])
            page = [request["PutRequest"]["Item"] for request in left]
            if not page:
                break
        else:
            raise UnprocessedItems(
                f"Failed to batch write items: table {table} left {len(page)} item(s) "
                f"unprocessed after {RETRIES} resends (its partition is throttled)"
            )


def _back_off(resend: int) -> None:
    sleep(jitter(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (resend - 1))))


def _key_attributes(model: type[Model]) -> tuple[Attribute[Any], Attribute[Any]]:
    attributes = model.get_attributes().values()
    hash_key = next(a for a in attributes if a.is_hash_key)
    range_key = next((a for a in attributes if a.is_range_key), None)
    if range_key is None:
        raise ValueError(f"{model.__name__} has no range key: its keys are not pairs")
    return hash_key, range_key


def _connection(model: type[Model]) -> TableConnection:
    # PynamoDB 6.1 has no public way to the model's connection; this private one is its
    # only use here. A new public `TableConnection` would ask DynamoDB for the table's
    # key schema first (DescribeTable: a request more, and a permission no function has)
    # and open a second client beside the model's.
    return model._get_connection()
