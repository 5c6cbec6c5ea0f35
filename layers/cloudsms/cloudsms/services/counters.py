"""Statistics counters: which counters a step changes, and the tenant-local day."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pynamodb.expressions.update import Action

from cloudsms.store.counters import CounterModel, channel_scope, tenant_scope


def local_day(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).date().isoformat()


def counter_items(tenant_id: str, route_id: str, day: str) -> list[CounterModel]:
    """The counter items one message's events change: its tenant's day and its channel's."""
    return [
        CounterModel(tenant_scope(tenant_id), day),
        CounterModel(channel_scope(route_id), day),
    ]


def add_actions(**amounts: int) -> list[Action]:
    return [getattr(CounterModel, name).add(n) for name, n in amounts.items() if n]


def add(tenant_id: str, route_id: str, day: str, **amounts: int) -> None:
    """Adds to the counters atomically (an ADD update creates a missing item)."""
    actions = add_actions(**amounts)
    if not actions:
        return
    for item in counter_items(tenant_id, route_id, day):
        item.update(actions=actions)
