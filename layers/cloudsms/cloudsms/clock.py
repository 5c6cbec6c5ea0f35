"""The time the rules use. Tests and the local stack may shift it (CLOCK_OFFSET_SECONDS)
to try a sending window at any hour; deployed, the offset is zero."""

from datetime import UTC, datetime, timedelta

from cloudsms.settings import get_settings


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=get_settings().clock_offset_seconds)
