"""Statistics counters: which counters a step changes, and the tenant-local day."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pynamodb.expressions.update import Action

from cloudsms.store.counters import (
    WHOLE_LIFE,
    CounterModel,
    channel_scope,
    mission_scope,
    tenant_scope,
)


def local_day(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).date().isoformat()


def counter_items(
    tenant_id: str, route_id: str, day: str, mission_id: str | None = None
) -> list[CounterModel]:
    """The counter items one message's events change: its tenant's day, its channel's
    day, and its mission's, if it belongs to one."""
    items = [
        CounterModel(tenant_scope(tenant_id), day),
        CounterModel(channel_scope(route_id), day),
    ]
    if mission_id:
        items.append(CounterModel(mission_scope(tenant_id, mission_id), WHOLE_LIFE))
    return items


def add_actions(**amounts: int) -> list[Action]:
    return [getattr(CounterModel, name).add(n) for name, n in amounts.items() if n]


def add(
    tenant_id: str, route_id: str, day: str, mission_id: str | None = None, **amounts: int
) -> None:
    """Adds to the counters atomically (an ADD update creates a missing item)."""
    actions = add_actions(**amounts)
    if not actions:
        return
    for item in counter_items(tenant_id, route_id, day, mission_id):
        item.update(actions=actions)
