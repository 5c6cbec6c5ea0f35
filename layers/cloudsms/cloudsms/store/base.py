"""What every table model shares: the table name and endpoint come from settings."""

from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
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
