"""The dispatching log's time range: a 'to' takes in the whole of what it names."""

from datetime import UTC, datetime

import pytest

from cloudsms.services.dispatching_log import log_filter
from cloudsms.store.tenants import TenantModel

DENVER = TenantModel(tenant_id="t", name="T", time_zone="America/Denver")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _end(to: str) -> str:
    end = log_filter(DENVER, NOW, start="2026-11-26", end=to).end
    assert end is not None
    return end.isoformat()


@pytest.mark.parametrize(
    ("to", "through"),
    [
        ("2026-11-26", "2026-11-26T23:59:59.999999-07:00"),  # the whole day, as statistics
        ("2026-11-26T23", "2026-11-26T23:59:59.999999-07:00"),
        ("2026-11-26T23:59", "2026-11-26T23:59:59.999999-07:00"),
        ("2026-11-26T23:59:59", "2026-11-26T23:59:59.999999-07:00"),
        ("2026-11-26T23:59:59.5", "2026-11-26T23:59:59.500000-07:00"),
        ("2026-11-27T10:30:00+08:00", "2026-11-27T10:30:00.999999+08:00"),
    ],
)
def test_a_to_takes_in_the_whole_day_minute_or_second_it_names(to, through):
    assert _end(to) == through


def test_a_from_starts_where_it_says():
    start = log_filter(DENVER, NOW, start="2026-11-26", end="2026-11-26").start

    assert start is not None and start.isoformat() == "2026-11-26T00:00:00-07:00"
