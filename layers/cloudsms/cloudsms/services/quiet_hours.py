"""Recipient-local quiet hours: a marketing message waits until the sending window is
open where its recipient is. A number whose country spans several time zones waits
until the window is open in all of them (the most restrictive reading)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from cloudsms.domain import phone


def _wait_in_zone(now: datetime, zone: str, window: tuple[time, time]) -> float:
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time().replace(tzinfo=None)
    if window[0] <= clock <= window[1]:
        return 0.0
    opening_day = local.date() if clock < window[0] else local.date() + timedelta(days=1)
    opening = datetime.combine(opening_day, window[0], tzinfo=ZoneInfo(zone))
    return (opening - local).total_seconds()


def seconds_until_open(e164: str, now: datetime, window: tuple[time, time]) -> float:
    """0 when the window is open in every time zone of the number (or it has none)."""
    zones = phone.time_zones(e164)
    if not zones:
        return 0.0
    waits = [_wait_in_zone(now, zone, window) for zone in zones]
    if max(waits) == 0:
        return 0.0
    # Waiting for the last zone to open may close another; the caller asks again then.
    return max(waits)
