"""The submit queues (verify codes on one, business and marketing on the other) and the
status-callback queue."""

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from cloudsms.adapters.aws import client
from cloudsms.observability import logger
from cloudsms.settings import get_settings

SQS_BATCH_LIMIT = 10  # entries per SendMessageBatch, fixed by SQS
MAX_VISIBILITY_SECONDS = 43_200  # the longest visibility timeout SQS accepts


def queue_for(sms_type: str) -> str:
    settings = get_settings()
    return settings.otp_queue_url if sms_type == "verify_code" else settings.bulk_queue_url


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def enqueue(queue_url: str, bodies: Iterable[dict[str, Any]], delay_seconds: int = 0) -> int:
    """Sends the bodies in batches of ten; returns the number of SQS requests made.

    Raises when SQS refuses any entry, so that the caller never believes a message is
    queued when it is not.
    """
    sqs = client("sqs")
    requests = 0
    for batch in _chunks(bodies, SQS_BATCH_LIMIT):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(b), "DelaySeconds": delay_seconds}
            for i, b in enumerate(batch)
        ]
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        requests += 1
        if answer.get("Failed"):
            reasons = "; ".join(f["Message"] for f in answer["Failed"] if "Message" in f)
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} entries: {reasons}")
    return requests


def change_visibility(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Sets when SQS delivers a received message again.

    Best effort: when SQS refuses (the receipt handle expired), the message still comes
    back, after the queue's own visibility timeout.
    """
    try:
        client("sqs").change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)),
        )
    except ClientError as error:
        logger.warning(
            "could not change a message's visibility",
            extra={"code": error.response["Error"]["Code"]},
        )
