"""The submit queues (verify codes on one, business and marketing on the other) and the
status-callback queue."""

import json
import math
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from cloudsms.adapters.aws import client
from cloudsms.observability import logger
from cloudsms.settings import get_settings

SQS_BATCH_LIMIT = 10  # entries per SendMessageBatch, fixed by SQS
MAX_VISIBILITY_SECONDS = 43_200  # the longest visibility timeout SQS accepts


def queue_for(sms_type: str, mission_id: str | None = None) -> str:
    """The otp queue for single verify codes, the bulk queue for the rest. A mission's
    messages go on the bulk queue whatever their type: a mission of 100,000 codes on the
    otp queue would hold up every tenant's single codes behind it."""
    settings = get_settings()
    if sms_type == "verify_code" and not mission_id:
        return settings.otp_queue_url
    return settings.bulk_queue_url


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _fair_group(body: dict[str, Any]) -> dict[str, str]:
    """A tenant's messages are one message group. On a standard queue that makes it an
    SQS fair queue: once one tenant's mission takes most of the consumers' time, SQS hands
    the other tenants' messages to them first, so a small mission does not wait behind
    it. (The local emulator keeps plain order.)"""
    tenant_id = body.get("tenant_id")
    return {"MessageGroupId": str(tenant_id)} if tenant_id else {}


def _group_of(raw: str) -> dict[str, str]:
    """The group of a message received as text; none for one that is not a body of ours."""
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return _fair_group(body) if isinstance(body, dict) else {}


# SQS delays a message by at most 15 minutes; a longer wait is several such hops.
MAX_DELAY_SECONDS = 900


def delay_for(seconds: float) -> int:
    """The delay SQS takes for a wait: whole seconds, never shorter, at most 15 minutes."""
    return min(max(0, math.ceil(seconds)), MAX_DELAY_SECONDS)


def enqueue(
    queue_url: str,
    bodies: Iterable[dict[str, Any]],
    delay_seconds: int | Callable[[dict[str, Any]], int] = 0,
) -> int:
    """Sends the bodies in batches of ten; returns the number of SQS requests made.
    `delay_seconds`: one delay for every body, or each body's own (a paced mission's).

    Raises when SQS refuses any entry, so that the caller never believes a message is
    queued when it is not.
    """
    sqs = client("sqs")
    delay_of = delay_seconds if callable(delay_seconds) else lambda _: delay_seconds
    requests = 0
    for batch in _chunks(bodies, SQS_BATCH_LIMIT):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(b), "DelaySeconds": delay_of(b)}
            | _fair_group(b)
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


def dead_letter_queue_url(queue_url: str) -> str:
    """The queue's dead-letter queue, as its redrive policy names it."""
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
    )
    policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
    return url_of(policy["deadLetterTargetArn"])


def url_of(queue_arn: str) -> str:
    name = queue_arn.rsplit(":", 1)[1]
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def waiting(queue_url: str) -> int:
    """About how many messages wait on the queue (SQS's own approximate count)."""
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# A message being moved is hidden this long: moved and deleted well within it, or back.
MOVE_VISIBILITY_SECONDS = 60


def move(
    from_url: str,
    to_url: str,
    limit: int | None = None,
    drop: Callable[[str], bool] | None = None,
) -> tuple[int, int]:
    """Moves the messages waiting in one queue to another, ten at a time (at most `limit`);
    returns how many moved, and how many were dropped: deleted unmoved, as `drop` said of
    their body. Each is sent before it is deleted, so a crash in between
    leaves it on both: the consumers take a message twice without sending twice (the
    delivery guarantee), while a message lost would be a message never sent.

    Only what waits when it starts: a message that fails again (poison) comes back to
    the first queue within seconds, and moving it on would never end."""
    sqs = client("sqs")
    limit = waiting(from_url) if limit is None else limit
    sent: set[str] = set()
    moved = dropped = 0
    while moved + dropped < limit:
        wanted = min(SQS_BATCH_LIMIT, limit - moved - dropped)
        messages = sqs.receive_message(
            QueueUrl=from_url,
            MaxNumberOfMessages=wanted,
            VisibilityTimeout=MOVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,  # short polls can answer nothing while messages wait
        ).get("Messages", [])
        if not messages or any(message["MessageId"] in sent for message in messages):
            break  # empty, or back already: what is left has failed again since
        dropping = {i for i, m in enumerate(messages) if drop is not None and drop(m["Body"])}
        # CloudSMS's queue messages carry everything in their body (enqueue above), and
        # their tenant as their group (_fair_group), which a moved one keeps.
        entries = [
            {"Id": str(i), "MessageBody": message["Body"]} | _group_of(message["Body"])
            for i, message in enumerate(messages)
            if i not in dropping
        ]
        answer = sqs.send_message_batch(QueueUrl=to_url, Entries=entries) if entries else {}
        accepted = {entry["Id"]: entry["MessageId"] for entry in answer.get("Successful", [])}
        sent.update(accepted.values())
        done = [
            {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
            for i, message in enumerate(messages)
            if str(i) in accepted or i in dropping
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=from_url, Entries=done)
        moved += len(accepted)
        dropped += len(dropping)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} entries; {moved} moved")
    return moved, dropped


def look(queue_url: str, limit: int) -> list[dict[str, Any]]:
    """The messages waiting on the queue (at most `limit`), each as its id, when it was
    first sent and its body, left on the queue: each is hidden while the others are
    read, then shown again at once."""
    sqs = client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    while len(seen) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(SQS_BATCH_LIMIT, limit - len(seen)),
            VisibilityTimeout=MOVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,
            AttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", 0))
            seen[message["MessageId"]] = {"sent_ms": sent_ms, "body": message["Body"]}
            handles.append(message["ReceiptHandle"])
    for handle in handles:
        change_visibility(queue_url, handle, 0)
    return [{"message_id": key, **value} for key, value in seen.items()]


def take(queue_url: str, limit: int, visibility_seconds: int) -> Iterator[tuple[str, str]]:
    """The messages waiting on the queue, one at a time (at most `limit`), each as its
    receipt handle and body, hidden `visibility_seconds` for the caller to act on it and
    `delete` it; one not deleted comes back. Only what waits when it starts, as `move`."""
    sqs = client("sqs")
    seen: set[str] = set()
    while len(seen) < limit:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            VisibilityTimeout=visibility_seconds,
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not messages or messages[0]["MessageId"] in seen:
            return
        seen.add(messages[0]["MessageId"])
        yield messages[0]["ReceiptHandle"], messages[0]["Body"]


def delete(queue_url: str, receipt_handle: str) -> None:
    client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)
