"""When SQS delivers a record again, for the queue consumers that report partial batch
failures (submit, callbacks and exports).

A record that failed is reported to the batch processor and SQS delivers it again once
its visibility timeout ends; the consumer sets that timeout to the wait it wants. A
poison record (one that can never be processed) comes back at once, so that it reaches
the queue's dead-letter queue after maxReceiveCount receipts without waiting out any
backoff. Any other error leaves the queue's own visibility timeout, which is longer
than a consumer can run, so nothing is retried while a claim may still be in use.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cloudsms.adapters import queues
from cloudsms.observability import logger


class Poison(Exception):
    """The record can never be processed (unreadable, or naming what does not exist)."""


class RetryLater(Exception):
    """The record must come back after `seconds` (a temporary failure, or a claim that
    has not run out yet). `about`: what the record is about (its tenant, its message),
    for the log line to name: a queue message's id tells the on-call nothing."""

    def __init__(self, seconds: int, reason: str, about: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.about = dict(about or {})


def backoff_seconds(receive_count: int, base: int, cap: int) -> int:
    """base, 2·base, 4·base … on the 1st, 2nd, 3rd … receipt, never more than cap."""
    return int(min(cap, base * 2 ** (max(receive_count, 1) - 1)))


def receive_count(record: SQSRecord) -> int:
    return int(record.attributes.get("ApproximateReceiveCount") or 1)


@contextmanager
def visibility_on_failure(record: SQSRecord) -> Iterator[None]:
    """Runs a record's work and, when it fails as poison or to be retried, sets when SQS
    delivers the record again. The exception goes on to the batch processor."""
    try:
        yield
    except Poison as poison:
        logger.error(
            "poison record; it goes to the dead-letter queue after its last receipt",
            extra={"message_id": record.message_id, "reason": str(poison)},
        )
        queues.change_visibility(record.queue_url, record.receipt_handle, 0)
        raise
    except RetryLater as retry:
        logger.info(
            "record comes back later",
            extra={
                **retry.about,
                "message_id": record.message_id,
                "seconds": retry.seconds,
                "reason": str(retry),
            },
        )
        queues.change_visibility(record.queue_url, record.receipt_handle, retry.seconds)
        raise
    except Exception:
        # The batch processor reports it only at debug level: an outage would go unseen.
        logger.exception(
            "record failed; SQS delivers it again after the queue's visibility timeout",
            extra={"message_id": record.message_id},
        )
        raise
