"""The time the rules use. Tests and the local stack may shift it (CLOCK_OFFSET_SECONDS)
to try a sending window at any hour; deployed, the offset is zero."""

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from cloudsms.errors import BadRequest
from cloudsms.settings import get_settings

# The years a date or time in a request may fall in. Nothing this platform holds or
# schedules lies outside them, and staying this far inside datetime's own years (1-9999)
# means a time moved to any zone, or a day or a schedule's horizon away, cannot overflow.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

# The seconds an invocation has left before Lambda stops it: work that cannot finish in
# them is put back on its queue untried rather than cut off halfway.
TimeLeft = Callable[[], float]


class InvocationContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


# The time now, read when it is needed: by work that takes a while and then acts on the
# time (a long list staged close to its dispatch time).
Clock = Callable[[], datetime]


def no_deadline() -> float:
    """The time left outside Lambda (the command, the tests): no end."""
    return math.inf


def time_left(context: InvocationContext) -> TimeLeft:
    """The time left of the invocation `context` belongs to."""
    return lambda: context.get_remaining_time_in_millis() / 1000


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=get_settings().clock_offset_seconds)


def id_prefix(moment: datetime) -> str:
    """The prefix of the time-ordered ids (message uids, mission ids) made when this
    clock read `moment`. Ids take the host's real time, without the offset."""
    offset = get_settings().clock_offset_seconds
    return f"{max(int((moment.timestamp() - offset) * 1000), 0):012X}"


def check_year(moment: date, name: str) -> None:
    """Refuses a date or time, given as `name`, outside the years a request may name."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise BadRequest(f"{name} must fall in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
