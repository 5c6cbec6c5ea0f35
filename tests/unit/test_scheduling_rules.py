"""The dispatch-time rules: the tenant's sending window (in its time zone, daylight saving
included), the lead time and the furthest time ahead, with the default settings
(08:00-22:00 inclusive, 5 minutes, 35 days)."""

from datetime import UTC, datetime, timedelta

import pytest

from cloudsms.errors import BadRequest
from cloudsms.services.scheduling import parse_window, resolve_dispatch_at
from cloudsms.store.tenants import TenantModel

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
# The week before each change of clock in New York in 2026: 8 March, 1 November.
BEFORE_SPRING = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BEFORE_AUTUMN = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
# 08:00 on 1 December in Shanghai.
SHANGHAI_MORNING = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def tenant(zone: str = SHANGHAI, window: str | None = None) -> TenantModel:
    return TenantModel(tenant_id="t", name="T", time_zone=zone, sending_window=window)


def accepted(value: str, now: datetime, zone: str = SHANGHAI, window: str | None = None) -> str:
    """The accepted dispatch time, in UTC."""
    moment = resolve_dispatch_at(value, tenant(zone, window), now)
    assert moment is not None
    return moment.astimezone(UTC).isoformat()


def refusal(value: str, now: datetime, zone: str = SHANGHAI, window: str | None = None) -> str:
    with pytest.raises(BadRequest) as refused:
        resolve_dispatch_at(value, tenant(zone, window), now)
    return refused.value.message


# --- the sending window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-12-02T08:00:00", "2026-12-02T00:00:00+00:00"),
        ("2026-12-02T21:59:00", "2026-12-02T13:59:00+00:00"),
        ("2026-12-02T22:00:00", "2026-12-02T14:00:00+00:00"),
    ],
)
def test_a_time_inside_the_window_in_shanghai_is_accepted(local, utc):
    assert accepted(local, SHANGHAI_MORNING) == utc


@pytest.mark.parametrize(
    "local", ["2026-12-02T07:59:00", "2026-12-02T07:59:59", "2026-12-02T22:00:01"]
)
def test_a_time_outside_the_window_in_shanghai_is_refused_naming_the_window(local):
    message = refusal(local, SHANGHAI_MORNING)

    assert "outside the sending window 08:00-22:00" in message
    assert "Asia/Shanghai" in message


def test_a_time_with_an_offset_is_judged_in_the_tenants_zone():
    # 23:59 UTC is 07:59 the next morning in Shanghai; midnight UTC is 08:00.
    assert "outside the sending window" in refusal("2026-12-01T23:59:00Z", SHANGHAI_MORNING)
    assert accepted("2026-12-02T00:00:00Z", SHANGHAI_MORNING) == "2026-12-02T00:00:00+00:00"


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-03-08T08:00:00", "2026-03-08T12:00:00+00:00"),  # EDT, UTC-4 since 02:00
        ("2026-03-08T21:59:00", "2026-03-09T01:59:00+00:00"),
        ("2026-03-08T22:00:00", "2026-03-09T02:00:00+00:00"),
    ],
)
def test_on_the_spring_change_day_a_local_time_in_the_window_is_read_in_daylight_time(local, utc):
    assert accepted(local, BEFORE_SPRING, NEW_YORK) == utc


@pytest.mark.parametrize("local", ["2026-03-08T07:59:00", "2026-03-08T22:00:01"])
def test_on_the_spring_change_day_a_local_time_outside_the_window_is_refused(local):
    assert "outside the sending window" in refusal(local, BEFORE_SPRING, NEW_YORK)


def test_on_the_spring_change_day_the_window_opens_at_12_utc_not_at_13():
    # A fixed winter offset (UTC-5) would put 12:00 UTC at 07:00 and 12:59 UTC at 07:59.
    assert accepted("2026-03-08T12:00:00Z", BEFORE_SPRING, NEW_YORK) == "2026-03-08T12:00:00+00:00"
    assert "outside the sending window" in refusal("2026-03-08T11:59:00Z", BEFORE_SPRING, NEW_YORK)


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-11-01T08:00:00", "2026-11-01T13:00:00+00:00"),  # EST, UTC-5 since 02:00
        ("2026-11-01T21:59:00", "2026-11-02T02:59:00+00:00"),
        ("2026-11-01T22:00:00", "2026-11-02T03:00:00+00:00"),
    ],
)
def test_on_the_autumn_change_day_a_local_time_in_the_window_is_read_in_standard_time(local, utc):
    assert accepted(local, BEFORE_AUTUMN, NEW_YORK) == utc


@pytest.mark.parametrize("local", ["2026-11-01T07:59:00", "2026-11-01T22:00:01"])
def test_on_the_autumn_change_day_a_local_time_outside_the_window_is_refused(local):
    assert "outside the sending window" in refusal(local, BEFORE_AUTUMN, NEW_YORK)


def test_on_the_autumn_change_day_the_window_opens_at_13_utc_not_at_12():
    # A fixed summer offset (UTC-4) would put 12:59 UTC at 08:59, inside the window.
    assert "outside the sending window" in refusal("2026-11-01T12:59:00Z", BEFORE_AUTUMN, NEW_YORK)
    assert accepted("2026-11-01T13:00:00Z", BEFORE_AUTUMN, NEW_YORK) == "2026-11-01T13:00:00+00:00"


def test_a_tenants_own_window_replaces_the_default():
    window = "09:30-18:00"

    assert "09:30-18:00" in refusal("2026-12-02T09:29:00", SHANGHAI_MORNING, window=window)
    assert accepted("2026-12-02T09:30:00", SHANGHAI_MORNING, window=window)
    assert "outside" in refusal("2026-12-02T18:00:01", SHANGHAI_MORNING, window=window)


@pytest.mark.parametrize("text", ["8-22", "22:00-08:00", "08:00"])
def test_a_window_that_is_not_hh_mm_to_a_later_hh_mm_is_refused(text):
    with pytest.raises(BadRequest):
        parse_window(text)


# --- lead time and the furthest time ahead --------------------------------------------------

NOON_IN_SHANGHAI = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def test_a_time_less_than_five_minutes_ahead_is_refused():
    too_soon = (NOON_IN_SHANGHAI + timedelta(seconds=299)).isoformat()

    assert "at least 5 minutes ahead" in refusal(too_soon, NOON_IN_SHANGHAI)


def test_a_time_five_minutes_ahead_is_accepted():
    soon = NOON_IN_SHANGHAI + timedelta(minutes=5)

    assert accepted(soon.isoformat(), NOON_IN_SHANGHAI) == soon.isoformat()


def test_a_time_in_the_past_is_refused():
    assert "at least 5 minutes ahead" in refusal("2026-12-01T10:00:00", NOON_IN_SHANGHAI)


def test_a_time_35_days_ahead_is_accepted():
    furthest = NOON_IN_SHANGHAI + timedelta(days=35)

    assert accepted(furthest.isoformat(), NOON_IN_SHANGHAI) == furthest.isoformat()


def test_a_time_more_than_35_days_ahead_is_refused():
    too_far = (NOON_IN_SHANGHAI + timedelta(days=35, seconds=1)).isoformat()

    assert "at most 35 days ahead" in refusal(too_far, NOON_IN_SHANGHAI)


# --- reading the time ---------------------------------------------------------------------


def test_a_local_time_without_an_offset_is_read_in_the_tenants_zone():
    assert accepted("2026-12-02T10:00:00", SHANGHAI_MORNING) == "2026-12-02T02:00:00+00:00"
    assert accepted("2026-12-02T10:00:00", SHANGHAI_MORNING, NEW_YORK) == (
        "2026-12-02T15:00:00+00:00"
    )


def test_an_offset_given_with_the_time_wins_over_the_tenants_zone():
    assert accepted("2026-12-02T10:00:00+09:00", SHANGHAI_MORNING) == "2026-12-02T01:00:00+00:00"


def test_a_local_time_the_clocks_skip_is_refused_not_moved_outside_the_window():
    # On 4 September 2027 Easter Island's clocks jump from 22:00 to 23:00: "22:00" that
    # evening would be 23:00, an hour past the window.
    before_the_jump = datetime(2027, 9, 4, 12, 0, tzinfo=UTC)

    message = refusal("2027-09-04T22:00:00", before_the_jump, "Pacific/Easter")

    assert "does not exist in Pacific/Easter" in message
    assert "outside the sending window" in refusal(
        "2027-09-04T23:00:00-05:00", before_the_jump, "Pacific/Easter"
    )


def test_no_dispatch_time_means_sending_at_once():
    assert resolve_dispatch_at(None, tenant(), SHANGHAI_MORNING) is None


def test_a_dispatch_time_that_is_not_iso_8601_is_refused():
    assert "not an ISO 8601 time" in refusal("tomorrow at noon", SHANGHAI_MORNING)
