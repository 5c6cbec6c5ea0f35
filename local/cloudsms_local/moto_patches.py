"""Speed fixes for the AWS emulator (moto), applied by the local stack and the tests.

moto's TransactWriteItems deep-copies every table a transaction touches, to roll back
on failure: its cost grows with the table (99 ms a call at 2,000 messages, 765 ms at
10,000, measured here), while DynamoDB's does not. CloudSMS writes each state change
and its counters in one transaction, so the local stack slowed to a crawl as messages
piled up. This patch keeps moto's own transaction logic and rolls back by restoring
only the items the transaction names, which is the same outcome.

moto also lists the methods of a service's response class with `inspect.getmembers`
for every request, to see whether the action is one of them: about 6% of the
emulator's time under load (py-spy). A class's methods do not change while it serves,
so the list is made once a class.
"""

from __future__ import annotations

import copy
import functools
from types import SimpleNamespace
from typing import Any

from moto.core import responses as core_responses
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_applied = False


def _deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
    # Tables are snapshotted item by item in transact_write_items below instead.
    if isinstance(value, Table):
        return value
    return copy.deepcopy(value, memo)


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Any]:
    touched = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            attrs = op["Item"] if op_type == "Put" else op.get("Key", {})
            if table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = (
                DynamoType(attrs[table.range_key_attr])
                if table.range_key_attr and table.range_key_attr in attrs
                else None
            )
            if table.has_range_key and range_key is None:
                continue
            current = table.get_item(hash_key, range_key)
            touched.append((table, hash_key, range_key, copy.deepcopy(current)))
    return touched


def _restore(touched: list[Any]) -> None:
    for table, hash_key, range_key, original in reversed(touched):
        if range_key is None:
            if original is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = original
        elif original is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = original


def apply() -> None:
    """Installs the patch once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    core_responses.method_names_from_class = functools.cache(  # type: ignore[assignment]
        core_responses.method_names_from_class
    )
    dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy_but_tables)  # type: ignore[assignment]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        touched = _touched_items(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(touched)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
