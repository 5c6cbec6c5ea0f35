"""Recipient-local quiet hours: a marketing message waits until the sending window is
open where its recipient is. A number whose country spans several time zones waits
until the window is open in all of them (the most restrictive reading)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from cloudsms.domain import phone
from cloudsms.services.scheduling import in_window


def _next_opening(now: datetime, zone: str, window: tuple[time, time]) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    opened_today = local.time().replace(tzinfo=None) >= window[0]
    day = local.date() + timedelta(days=1) if opened_today else local.date()
    return datetime.combine(day, window[0], tzinfo=ZoneInfo(zone))


def seconds_until_open(e164: str, now: datetime, window: tuple[time, time]) -> float:
    """0 when the window is open in every time zone of the number (or it has none)."""
    zones = phone.time_zones(e164)
    # A time when every zone is open starts now or when one of them opens next: the
    # windows repeat daily, so a later opening would have had an earlier twin.
    for moment in sorted([now, *(_next_opening(now, zone, window) for zone in zones)]):
        if all(in_window(moment, zone, window) for zone in zones):
            return (moment - now).total_seconds()
    # Zones further apart than the window allows (Russian mobiles span nine hours; an
    # eight-hour window) are never all open at once: the number tells nothing about its
    # owner's clock, and holding it would hold it forever.
    return 0.0
