"""SMS Delivery Statistics: per dispatching date, from the counters (never a scan)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cloudsms.errors import BadRequest
from cloudsms.services.channels import MICROS_PER_USD
from cloudsms.services.counters import local_day
from cloudsms.store.counters import CounterModel, tenant_scope

MAX_DAYS = 366


def daily_statistics(
    tenant_id: str, time_zone: str, now: datetime, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """One row per day from `start` to `end` (tenant-local dates), the last 7 by default."""
    last = date.fromisoformat(end) if end else date.fromisoformat(local_day(now, time_zone))
    first = date.fromisoformat(start) if start else last - timedelta(days=6)
    if first > last:
        raise BadRequest("'from' is after 'to'")
    if (last - first).days >= MAX_DAYS:
        raise BadRequest(f"at most {MAX_DAYS} days at once")
    found = {
        item.period: item
        for item in CounterModel.query(
            tenant_scope(tenant_id),
            CounterModel.period.between(first.isoformat(), last.isoformat()),
        )
    }
    rows = []
    day = first
    while day <= last:
        item = found.get(day.isoformat()) or CounterModel(tenant_scope(tenant_id), day.isoformat())
        rows.append(_row(day.isoformat(), item))
        day += timedelta(days=1)
    return rows


def _row(day: str, item: CounterModel) -> dict[str, Any]:
    total = int(item.total)
    delivered = int(item.delivered)
    failed = int(item.failed)
    no_notification = int(item.no_notification)
    settled = delivered + failed + no_notification
    return {
        "date": day,
        "total": total,
        "submitted": int(item.submitted),
        "delivered": delivered,
        "failed": failed,
        "no_notification": no_notification,
        "pending": max(total - settled, 0),
        "segments": int(item.segments),
        # Expense: the channels' price of the segments submitted, in US dollars (exact).
        "cost_usd": f"{Decimal(int(item.cost)) / MICROS_PER_USD:f}",
        # Of the messages whose fate is known; None when none is known yet.
        "success_rate": round(delivered / settled, 4) if settled else None,
    }
