"""The emulator patches keep what they speed up working as AWS does: DynamoDB's
transactions all or nothing, SQS queues counting and deduplicating their messages."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sqs.models import Message


@pytest.fixture
def table(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    name = aws.physical["CountersTable"]
    client.put_item(
        TableName=name, Item={"scope": {"S": "a"}, "period": {"S": "1"}, "total": {"N": "1"}}
    )
    return client, name


def _item(client, name, scope):
    return client.get_item(TableName=name, Key={"scope": {"S": scope}, "period": {"S": "1"}}).get(
        "Item"
    )


def test_a_failed_transaction_leaves_every_item_as_it_was(table):
    client, name = table

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"scope": {"S": "a"}, "period": {"S": "1"}},
                        "UpdateExpression": "ADD #t :one",
                        "ExpressionAttributeNames": {"#t": "total"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": name, "Item": {"scope": {"S": "b"}, "period": {"S": "1"}}}},
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"scope": {"S": "a"}, "period": {"S": "2"}},
                        "ConditionExpression": "attribute_exists(#s)",
                        "ExpressionAttributeNames": {"#s": "scope"},
                    }
                },
            ]
        )

    assert _item(client, name, "a")["total"] == {"N": "1"}
    assert _item(client, name, "b") is None


def test_a_successful_transaction_applies_every_item(table):
    client, name = table

    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": name,
                    "Key": {"scope": {"S": "a"}, "period": {"S": "1"}},
                    "UpdateExpression": "ADD #t :one",
                    "ExpressionAttributeNames": {"#t": "total"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Put": {"TableName": name, "Item": {"scope": {"S": "b"}, "period": {"S": "1"}}}},
        ]
    )

    assert _item(client, name, "a")["total"] == {"N": "2"}
    assert _item(client, name, "b") is not None


def test_the_emulator_works_out_each_host_s_service_once(monkeypatch):
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from cloudsms_local.emulator import _dispatcher

    listings = 0
    listing = backends.list_of_moto_modules

    def counted() -> object:
        nonlocal listings
        listings += 1
        return listing()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    dispatcher = _dispatcher(DomainDispatcherApplication, create_backend_app)

    hosts = ["dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"] * 3
    found = [dispatcher.get_backend_for_host(host) for host in hosts]

    assert found == ["dynamodb", "sqs"] * 3
    assert listings == 2


def _update_total(client, name, expected: str, new: str, extra: dict | None = None):
    client.update_item(
        TableName=name,
        Key={"scope": {"S": "a"}, "period": {"S": "1"}},
        UpdateExpression="SET #t = :new",
        ConditionExpression="#t = :expected",
        ExpressionAttributeNames={"#t": "total"},
        ExpressionAttributeValues={
            ":new": {"N": new},
            ":expected": {"N": expected},
            **(extra or {}),
        },
    )


def test_a_condition_kept_parsed_still_reads_the_values_it_is_given(table):
    client, name = table
    _update_total(client, name, expected="1", new="2")

    # The same expressions again: the condition's value now fails, then holds.
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        _update_total(client, name, expected="1", new="3")
    _update_total(client, name, expected="2", new="3")

    assert _item(client, name, "a")["total"] == {"N": "3"}


def test_a_value_no_expression_uses_is_still_refused(table):
    client, name = table
    _update_total(client, name, expected="1", new="2")

    with pytest.raises(ClientError, match="unused in expressions: keys: {:spare}"):
        _update_total(client, name, expected="2", new="3", extra={":spare": {"S": "x"}})

    assert _item(client, name, "a")["total"] == {"N": "2"}


def test_a_queue_still_counts_its_messages_and_a_fifo_queue_still_deduplicates(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    standard = sqs.create_queue(QueueName="patched")["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName="patched.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]

    for body in ("one", "two"):
        sqs.send_message(QueueUrl=standard, MessageBody=body)
    for body in ("same", "same", "other"):
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")

    def waiting(url: str) -> str:
        names = ["ApproximateNumberOfMessages", "ContentBasedDeduplication"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]

    assert waiting(standard) == {"ApproximateNumberOfMessages": "2"}
    assert waiting(fifo) == {
        "ApproximateNumberOfMessages": "2",
        "ContentBasedDeduplication": "true",
    }


def test_a_fifo_group_with_a_message_in_flight_still_waits(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    fifo = sqs.create_queue(
        QueueName="groups.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
    sqs.send_message(QueueUrl=fifo, MessageBody="elsewhere", MessageGroupId="h")

    def receive() -> list[str]:
        answer = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1)
        return [message["Body"] for message in answer.get("Messages", [])]

    assert receive() == ["first"]
    # "second" waits while "first" of its group is in flight; the other group's goes
    assert receive() == ["elsewhere"]
    assert receive() == []


def test_two_receives_side_by_side_never_take_the_same_message(aws, monkeypatch):
    # Long polls are served side by side. A receive that is slow between finding a
    # message visible and marking it received (here made so) let another receive take it too.
    mark_received = Message.mark_received

    def slowly(message: Message, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.01)
        mark_received(message, *args, **kwargs)

    monkeypatch.setattr(Message, "mark_received", slowly)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="side-by-side")["QueueUrl"]
    entries = [{"Id": str(n), "MessageBody": str(n)} for n in range(10)]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)

    def receive_all(_: int) -> list[str]:
        client = boto3.client("sqs", region_name="us-east-1")
        taken: list[str] = []
        while answer := client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages"):
            taken.extend(message["Body"] for message in answer)
        return taken

    with ThreadPoolExecutor(4) as pool:
        taken = [body for bodies in pool.map(receive_all, range(4)) for body in bodies]

    assert sorted(taken, key=int) == [str(n) for n in range(10)]
