"""What every table model shares: the table name and endpoint come from settings."""

from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from cloudsms.settings import get_settings


def table_meta(table_name: str) -> Any:
    """A PynamoDB `Meta` for the named table, pointed at the emulator when one is set."""
    settings = get_settings()

    class Meta:
        pass

    Meta.table_name = table_name  # type: ignore[attr-defined]
    Meta.region = settings.aws_region  # type: ignore[attr-defined]
    Meta.host = settings.aws_endpoint_url  # type: ignore[attr-defined]
    return Meta


def utcnow() -> datetime:
    return datetime.now(UTC)


def transaction() -> TransactWrite:
    """Writes to several items that all happen or none does (TransactWriteItems), for the
    rare changes that must not be split: each item costs twice a plain write."""
    settings = get_settings()
    return TransactWrite(
        connection=Connection(region=settings.aws_region, host=settings.aws_endpoint_url)
    )


# What DynamoDB answers a write that lost a race (its condition no longer held, or a
# transaction held the item): look again and decide, rather than fail.
_RACES = frozenset({"ConditionalCheckFailedException", "TransactionConflictException"})
_RACE_REASONS = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict"})


def lost_a_race(error: PynamoDBException) -> bool:
    if error.cause_response_code in _RACES:
        return True
    if isinstance(error, TransactWriteError):
        reasons = error.cancellation_reasons or []
        return error.cause_response_code == "TransactionCanceledException" and all(
            reason is None or reason.code in _RACE_REASONS for reason in reasons
        )
    return False
