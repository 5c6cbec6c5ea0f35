"""Recipient-local quiet hours: how long a marketing message waits for the sending
window (08:00-22:00 here) to open where its recipient may be."""

from datetime import UTC, datetime, time

import pytest

from cloudsms.services.quiet_hours import seconds_until_open

WINDOW = (time(8, 0), time(22, 0))
MANILA = "+639215347566"  # Asia/Manila, UTC+8
NEW_YORK = "+12125550123"  # America/New_York
# Russian mobiles may be anywhere from Europe/Bucharest (UTC+3 in June) to Asia/Anadyr
# (UTC+12): nine hours apart.
RUSSIA = "+79161234567"


def hours(seconds: float) -> float:
    return seconds / 3600


@pytest.mark.parametrize(
    ("utc", "wait"),
    [
        (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 0.0),  # 08:00 in Manila: open
        (datetime(2026, 6, 1, 14, 0, tzinfo=UTC), 0.0),  # 22:00: still open
        (datetime(2026, 6, 1, 14, 30, tzinfo=UTC), 9.5),  # 22:30: opens at 08:00
        (datetime(2026, 5, 31, 23, 0, tzinfo=UTC), 1.0),  # 07:00: opens in an hour
    ],
)
def test_a_number_with_one_zone_waits_for_the_window_there(utc, wait):
    assert hours(seconds_until_open(MANILA, utc, WINDOW)) == wait


def test_the_window_follows_daylight_saving_in_the_recipients_zone():
    # 11:30 UTC on the spring change day is 07:30 EDT (it would be 06:30 EST).
    spring = datetime(2026, 3, 8, 11, 30, tzinfo=UTC)

    assert hours(seconds_until_open(NEW_YORK, spring, WINDOW)) == 0.5


def test_a_number_spanning_several_zones_waits_until_the_window_is_open_in_all():
    # 03:00 UTC: 06:00 in Bucharest, 15:00 in Anadyr. All are open from 05:00 UTC (08:00
    # in Bucharest) until 10:00 UTC (22:00 in Anadyr).
    early = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)

    assert hours(seconds_until_open(RUSSIA, early, WINDOW)) == 2.0


def test_a_number_spanning_several_zones_is_held_when_one_zone_has_closed():
    # 10:30 UTC: 13:30 in Moscow, but 22:30 in Anadyr. The next time all are open is
    # 05:00 UTC the next day, not 20:00 UTC when Anadyr opens and Bucharest is closed.
    late = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)

    assert hours(seconds_until_open(RUSSIA, late, WINDOW)) == 18.5


def test_a_number_spanning_several_zones_is_sent_while_all_are_open():
    assert seconds_until_open(RUSSIA, datetime(2026, 6, 1, 8, 0, tzinfo=UTC), WINDOW) == 0.0


def test_a_number_whose_zones_are_never_all_open_at_once_is_not_held_forever():
    # An eight-hour window cannot be open at once in zones nine hours apart.
    office_hours = (time(10, 0), time(18, 0))

    for hour in range(24):
        moment = datetime(2026, 6, 1, hour, 0, tzinfo=UTC)
        assert seconds_until_open(RUSSIA, moment, office_hours) == 0.0


def test_a_number_without_time_zone_data_is_not_held():
    assert seconds_until_open("+882345678901", datetime(2026, 6, 1, 3, tzinfo=UTC), WINDOW) == 0.0
