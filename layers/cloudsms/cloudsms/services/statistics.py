"""Statistics from the counters (never a scan): SMS Delivery Statistics per dispatching
date, Expense Statistics per dispatching date and channel (the tenant's, which the
operator reads too), and a channel's statistics per day (the operator's)."""

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from cloudsms.clock import check_year
from cloudsms.domain import money
from cloudsms.errors import BadRequest, shown
from cloudsms.services.counters import local_day
from cloudsms.store.counters import (
    COUNTER_NAMES,
    CounterModel,
    channel_day,
    channel_scope,
    tenant_channel_scope,
    tenant_scope,
)

USD = "US dollars, as a decimal string (exact): 0.0125"


class DayStatistics(BaseModel):
    """One dispatching date's messages (the tenant's, or a channel's)."""

    date: date
    total: int = Field(description="Messages dispatched that day")
    submitted: int = Field(description="Accepted by a gateway")
    delivered: int
    failed: int
    no_notification: int = Field(description="No final receipt in time")
    pending: int = Field(description="Not settled yet")
    segments: int
    cost_usd: str = Field(description=USD)
    success_rate: float | None = Field(
        description="Delivered of those whose fate is known (0 to 1); null when none is"
    )


class Statistics(BaseModel):
    """GET /v1/statistics (and the operator's /v1/admin/tenants/{tenant_id}/statistics):
    one row per day, oldest first."""

    time_zone: str = Field(description="The tenant's: the one its dates are in")
    days: list[DayStatistics]


class ChannelStatistics(BaseModel):
    """GET /v1/admin/channels/{route_id}/statistics: one row per day, oldest first."""

    route_id: str
    days: list[DayStatistics]


POSTPAID_USD = (
    "The part of cost_usd no prepaid order paid for: what is billed afterwards (post-paid). " + USD
)


class ExpenseTotal(BaseModel):
    submitted: int
    segments: int
    cost_usd: str = Field(description=f"Every submitted message's cost, prepaid or not. {USD}")
    postpaid_cost_usd: str = Field(description=POSTPAID_USD)


class Expense(ExpenseTotal):
    date: date
    route_id: str


class Expenses(BaseModel):
    """GET /v1/statistics/expenses (and the operator's
    /v1/admin/tenants/{tenant_id}/statistics/expenses): newest date first, then by route id."""

    time_zone: str = Field(description="The tenant's: the one its dates are in")
    rows: list[Expense]
    total: ExpenseTotal


MAX_DAYS = 366
DEFAULT_DAYS = 7
# Sorts after any route id, to end a key range that takes every route of a day.
_LAST_ROUTE = "\uffff"


def daily_statistics(
    tenant_id: str, time_zone: str, now: datetime, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """One row per day from `start` to `end` (tenant-local dates), the last 7 by default."""
    first, last = date_range(time_zone, now, start, end)
    return _days(tenant_scope(tenant_id), first, last)


def tenant_usage(
    tenant_id: str, time_zone: str, now: datetime, start: str | None, end: str | None
) -> dict[str, Any]:
    """The tenant's rows per day (as daily_statistics has them, with the post-paid share
    of their cost) and the range's total: a month of them is what the operator reads a
    tenant's usage in, and bills the post-paid share of."""
    first, last = date_range(time_zone, now, start, end)
    days = {item.period: _counted(item) for item in _items(tenant_scope(tenant_id), first, last)}
    summed = {name: sum(counted[name] for counted in days.values()) for name in _COUNTED}
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": [{"date": day, **_usage(counted)} for day, counted in days.items()],
        "total": _usage(summed),
    }


def _usage(counted: Mapping[str, int]) -> dict[str, Any]:
    """A statistics row with the post-paid share of its cost: what the operator bills."""
    return {**_counts(counted), "postpaid_cost_usd": money.usd(counted["postpaid_cost"])}


# The zone that reaches each date first (UTC+14; IANA's Etc signs are inverted).
_FIRST_ZONE = "Etc/GMT-14"


def channel_statistics(
    route_id: str, now: datetime, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """A channel's row per day, every tenant together. A message counts on its
    dispatching date in its own tenant's time zone, as it does in that tenant's rows, so
    the default range ends on the latest date any tenant can be in: ending on today in
    UTC left out the day a tenant east of UTC is already in (for Asia/Shanghai, every
    evening from 16:00 UTC)."""
    first, last = date_range(_FIRST_ZONE, now, start, end)
    return _days(channel_scope(route_id), first, last)


def expense_statistics(
    tenant_id: str, time_zone: str, now: datetime, start: str | None, end: str | None
) -> dict[str, Any]:
    """What the tenant's sending cost, per dispatching date and channel (only those that
    submitted anything), newest date first, with the range's total."""
    first, last = date_range(time_zone, now, start, end)
    items = CounterModel.query(
        tenant_channel_scope(tenant_id),
        CounterModel.period.between(
            channel_day(first.isoformat(), ""), channel_day(last.isoformat(), _LAST_ROUTE)
        ),
    )
    rows = []
    total: Counter[str] = Counter()
    for item in items:
        day, route_id = item.period.split("#", 1)
        if not int(item.submitted):
            continue  # messages that never reached a gateway cost nothing
        spent = _counted(item)
        total.update(spent)
        rows.append({"date": day, "route_id": route_id, **_expense(spent)})
    rows.sort(key=lambda row: (row["date"], row["route_id"]), reverse=True)
    return {"rows": rows, "total": _expense(total)}


def date_range(
    time_zone: str, now: datetime, start: str | None, end: str | None
) -> tuple[date, date]:
    """The dates from `start` to `end`, both tenant-local; the last 7 days by default."""
    last = _date(end, "to") if end else date.fromisoformat(local_day(now, time_zone))
    first = _date(start, "from") if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadRequest("'from' is after 'to'")
    if (last - first).days >= MAX_DAYS:
        raise BadRequest(f"at most {MAX_DAYS} days at once")
    return first, last


def _date(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise BadRequest(f"'{name}' is not a date (YYYY-MM-DD): {shown(text)}") from error
    check_year(day, f"'{name}'")
    return day


def _days(scope: str, first: date, last: date) -> list[dict[str, Any]]:
    return [{"date": item.period, **_counts(_counted(item))} for item in _items(scope, first, last)]


def _items(scope: str, first: date, last: date) -> list[CounterModel]:
    """The scope's counters of every day from `first` to `last`: zeros for a day without."""
    found = {
        item.period: item
        for item in CounterModel.query(
            scope, CounterModel.period.between(first.isoformat(), last.isoformat())
        )
    }
    items = []
    day = first
    while day <= last:
        items.append(found.get(day.isoformat()) or CounterModel(scope, day.isoformat()))
        day += timedelta(days=1)
    return items


# The counters a day's rows are made of: its statistics, and the part of its cost no
# prepaid order paid for (which a counter kept before that was counted lacks).
_COUNTED = (*COUNTER_NAMES, "postpaid_cost")


def _counted(item: CounterModel) -> dict[str, int]:
    return {name: int(getattr(item, name) or 0) for name in _COUNTED}


def _counts(counted: Mapping[str, int]) -> dict[str, Any]:
    """A statistics row's figures from the counters of a day, or of several added up."""
    total = counted["total"]
    delivered = counted["delivered"]
    failed = counted["failed"]
    no_notification = counted["no_notification"]
    settled = delivered + failed + no_notification
    return {
        "total": total,
        "submitted": counted["submitted"],
        "delivered": delivered,
        "failed": failed,
        "no_notification": no_notification,
        "pending": max(total - settled, 0),
        "segments": counted["segments"],
        "cost_usd": money.usd(counted["cost"]),
        # Of the messages whose fate is known; None when none is known yet.
        "success_rate": round(delivered / settled, 4) if settled else None,
    }


def _expense(spent: Mapping[str, int]) -> dict[str, Any]:
    """An expense row's figures from the counters of a day and channel, or several added up."""
    return {
        "submitted": spent["submitted"],
        "segments": spent["segments"],
        "cost_usd": money.usd(spent["cost"]),
        "postpaid_cost_usd": money.usd(spent["postpaid_cost"]),
    }
