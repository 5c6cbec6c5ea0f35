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

It parses every condition and update expression afresh, too: a sixth of its time
serving a mission (py-spy), where every message's writes repeat a handful of
expressions. A parsed update expression is only read (moto's validator works on a
copy) and a parsed condition only evaluated, so both are kept by their text and, for
a condition, the names and values it holds.

Its SQS SendMessage reads one attribute of the queue, whether it deduplicates by
content, through the property that builds all of them, and three of those count the
queue's messages one by one: sending grew with the queue (12 of the 19 s that creating
a 100,000-number mission took, 1,000 queue messages of 100 recipients). While a
message is sent, the property now answers that one attribute.

Two fixes are not for speed. Every ReceiveMessage lists the groups of the queue's
messages in flight by walking the set of them, which another thread's receive or delete
can change meanwhile (long polls are served side by side): "Set changed size during
iteration", a 500 for the poller. The walk now goes over a copy, taken in one step. And
two receives side by side could both find a message visible before either marked it
received, and both take it: a duplicate SQS makes only rarely, which the local stack made
under load (a mission's queue message put back for throughput taken twice, 13 ms apart,
its two copies then waiting on each other's claims). A receive now looks through the
queue one at a time, and waits for messages outside that turn.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

from moto.core import responses as core_responses
from moto.dynamodb import comparisons
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as table_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

# moto marks this module `# type: ignore` as a whole: mypy 2 sees none of its names.
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.sqs.models import Queue, SQSBackend

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


# Expressions kept parsed: far more than CloudSMS's writes use, few enough to stay small.
PARSED_EXPRESSIONS = 1024
_VALUE_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")


@functools.lru_cache(maxsize=PARSED_EXPRESSIONS)
def _parsed_condition(expression: str, names: str, values: str) -> tuple[Any, list[str], list[str]]:
    parser = comparisons.ConditionExpressionParser(
        expression, json.loads(names), json.loads(values)
    )
    return parser.parse(), parser.expr_attr_names_found, parser.expr_attr_values_found


class _ConditionParser:
    """moto's ConditionExpressionParser, its parse kept by what the condition is made of.
    Only the values the expression names count: the same condition goes with a
    different update each time."""

    def __init__(
        self,
        expression: str | None,
        names: dict[str, str] | None,
        values: dict[str, dict[str, Any]] | None,
    ) -> None:
        self._made_of = (expression, names, values)
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> Any:
        expression, names, values = self._made_of
        if not expression:
            return comparisons.ConditionExpressionParser(expression, names, values).parse()
        named = set(_VALUE_PLACEHOLDER.findall(expression))
        used = {k: v for k, v in (values or {}).items() if k in named}
        parsed, names_found, values_found = _parsed_condition(
            expression, json.dumps(names or {}, sort_keys=True), json.dumps(used, sort_keys=True)
        )
        self.expr_attr_names_found = list(names_found)
        self.expr_attr_values_found = list(values_found)
        return parsed


def _condition(expression: str | None, names: Any, values: Any) -> Any:
    """Stands in for moto's get_filter_expression."""
    return _ConditionParser(expression, names, values).parse()


def apply() -> None:
    """Installs the patch once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    core_responses.method_names_from_class = functools.cache(  # type: ignore[assignment]
        core_responses.method_names_from_class
    )
    dynamodb_models.get_filter_expression = _condition  # type: ignore[assignment]
    table_models.get_filter_expression = _condition  # type: ignore[assignment]
    dynamodb_models.create_condition_expression_parser = _ConditionParser  # type: ignore[assignment]
    dynamodb_responses.create_condition_expression_parser = _ConditionParser  # type: ignore[assignment]
    UpdateExpressionParser.make = functools.lru_cache(maxsize=PARSED_EXPRESSIONS)(  # type: ignore[method-assign]
        UpdateExpressionParser.make
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
    _answer_only_deduplication_while_sending()
    Queue.pending_message_groups = property(_pending_message_groups)  # type: ignore[assignment,method-assign]
    _receive_one_at_a_time()


def _pending_message_groups(queue: Queue) -> set[str]:
    # set() copies in one step under the interpreter lock; a generator over the set
    # itself would let another thread change it between two messages.
    in_flight = set(queue._pending_messages)  # type: ignore[attr-defined]
    return {message.group_id for message in in_flight if message.group_id is not None}


_sending = threading.local()


def _answer_only_deduplication_while_sending() -> None:
    every_attribute = Queue.attributes
    send_message = SQSBackend.send_message

    def attributes(queue: Queue) -> dict[str, Any]:
        if not getattr(_sending, "active", False):
            return every_attribute.fget(queue)  # type: ignore[attr-defined,no-any-return]
        if not queue.fifo_queue:
            return {}  # as the full set: a standard queue has no such attribute
        # moto sets the attribute from the queue's own when the queue is made
        deduplicates = queue.content_based_deduplication  # type: ignore[attr-defined]
        return {"ContentBasedDeduplication": str(deduplicates).lower()}

    def sending(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _sending.active = False

    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = sending  # type: ignore[method-assign]


_receiving = threading.Lock()


def _receive_one_at_a_time() -> None:
    receive_message = SQSBackend.receive_message

    def receive(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            # One look through the queue (no wait): a message it takes is marked
            # received before another receive looks.
            with _receiving:
                found = receive_message(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            if found or time.monotonic() >= deadline:
                return found
            self.get_queue(queue_name).wait_for_messages(1)

    SQSBackend.receive_message = receive  # type: ignore[method-assign]
