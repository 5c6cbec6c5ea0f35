"""The time the rules use. Tests and the local stack may shift it (CLOCK_OFFSET_SECONDS)
to try a sending window at any hour; deployed, the offset is zero."""

from datetime import UTC, datetime, timedelta

from cloudsms.settings import get_settings


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=get_settings().clock_offset_seconds)


def id_prefix(moment: datetime) -> str:
    """The prefix of the time-ordered ids (message uids, mission ids) made when this
    clock read `moment`. Ids take the host's real time, without the offset."""
    offset = get_settings().clock_offset_seconds
    return f"{max(int((moment.timestamp() - offset) * 1000), 0):012X}"
