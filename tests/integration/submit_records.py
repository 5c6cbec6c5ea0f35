"""Helpers for driving the submit function with real SQS records, as Lambda would."""

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from tests.integration.conftest import EVENTS


def queued_records(aws: Any, queue: str = "BulkSubmitQueue") -> list[dict[str, Any]]:
    """What waits on a queue, received as the records of a Lambda SQS event."""
    template = json.loads((EVENTS / "sqs_submit.json").read_text())["Records"][0]
    answer = boto3.client("sqs").receive_message(
        QueueUrl=aws.physical[queue], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    records = []
    for message in answer.get("Messages", []):
        record = copy.deepcopy(template)
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            eventSourceARN=aws.attributes[(queue, "Arn")],
        )
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"][
            "ApproximateReceiveCount"
        ]
        records.append(record)
    return records


def received_again(record: dict[str, Any], receive_count: int) -> dict[str, Any]:
    """The same record as SQS delivers it again."""
    again = copy.deepcopy(record)
    again["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return again


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


class FakeClock:
    """A FAKE of cloudsms.clock: time stands still until the test moves it."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
