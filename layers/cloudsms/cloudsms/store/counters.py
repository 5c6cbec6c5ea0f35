"""Counters for statistics and quotas, changed only by atomic ADD updates.

One item per scope and period: `tenant#{id}` per tenant-local day, `channel#{route}` per
day, `tenant_channel#{id}` per day and channel (period "{day}#{route}": one key range
holds every channel of a range of days), and `mission#{tenant}#{id}` for a mission's
whole life (period "all"), as is `order#{tenant}#{order number}` (a prepaid order's
refunds). Never
computed by scans: the Counters function adds each message change to them from the
Messages table's stream (see services/counters.py).
"""

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta

COUNTER_NAMES = (
    "total",
    "submitted",
    "delivered",
    "failed",
    "no_notification",
    "segments",
    "cost",
)


class CounterModel(Model):
    Meta = table_meta(get_settings().counters_table)

    scope = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    total = NumberAttribute(default=0)
    submitted = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    no_notification = NumberAttribute(default=0)
    segments = NumberAttribute(default=0)
    # Micro-USD (1 USD = 1,000,000): segments at the channel's price, counted on submission.
    cost = NumberAttribute(default=0)
    # The part of `cost` no prepaid order paid for: what post-paid thresholds count.
    postpaid_cost = NumberAttribute(default=0)
    # A prepaid order's: SMS given back for its messages that never reached a gateway.
    refunded = NumberAttribute(default=0)
    # Per stream shard, the sequence number of the last message change counted here, so
    # that a change the stream delivers again is not counted twice.
    applied: MapAttribute[str, str] = MapAttribute(null=True)
    # Changed by every update, which is conditional on the one it read.
    version = NumberAttribute(null=True)


def tenant_scope(tenant_id: str) -> str:
    return f"tenant#{tenant_id}"


def channel_scope(route_id: str) -> str:
    return f"channel#{route_id}"


def tenant_channel_scope(tenant_id: str) -> str:
    return f"tenant_channel#{tenant_id}"


def channel_day(day: str, route_id: str) -> str:
    """The period of a tenant_channel counter."""
    return f"{day}#{route_id}"


def mission_scope(tenant_id: str, mission_id: str) -> str:
    return f"mission#{tenant_id}#{mission_id}"


def order_scope(tenant_id: str, order_number: str) -> str:
    return f"order#{tenant_id}#{order_number}"


WHOLE_LIFE = "all"
