"""Statistics counters, kept from the Messages table's stream.

Every write to a message item reaches the Counters function as a stream record holding
the item before and after. What a change means for the counters follows from those two
images alone:

- a new message counts in `total`;
- a message its gateway took counts in `submitted`, `segments` and `cost`: when it leaves
  SUBMITTING for a state only a gateway gives (its answer recorded, or a receipt that came
  first, even when the answer was lost);
- a message sent back to its queue after the SMSC refused it for a while takes its
  submission back out of them (it is counted again when it is submitted again), and so
  does one whose SMSC's refusal stands (SUBMIT_FAILED after all: no carrier took it);
- a message reaching a final state counts in `delivered`, `failed` or `no_notification`;
- a message charged to a prepaid order that ends without a gateway taking it gives its
  SMS back to that order's counter (`refunded`).

Writes to a message are conditional on its state, so each of these happens once per
message, and the stream holds each write once. A batch of changes is summed per counter
item (tenant/day, channel/day, tenant/day/channel, mission), so a mission costs a few
counter writes per batch instead of three per message and state.

Lambda may deliver a shard's records again (a batch retried, perhaps cut differently).
So each counter item keeps, per stream shard, the sequence number of the last change it
counted, and only later ones are added; the update is conditional on the version of the
item that was read. A shard's records are in order and one batch of a shard is worked
at a time (the event source's parallelization factor is 1), so a change is counted by
each of its counter items exactly once.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, UpdateError

from cloudsms.domain.states import FAILED, FINAL, DrState
from cloudsms.errors import NotFound
from cloudsms.observability import logger, metrics
from cloudsms.services.channels import message_cost
from cloudsms.store.base import lost_a_race
from cloudsms.store.counters import (
    WHOLE_LIFE,
    CounterModel,
    channel_day,
    channel_scope,
    mission_scope,
    order_scope,
    tenant_channel_scope,
    tenant_scope,
)
from cloudsms.store.images import attribute

CounterKey = tuple[str, str]  # (scope, period)
# A shard's records stay in the stream for 24 hours, and a batch is only ever delivered
# again soon after it was first: what a counter has not heard of a shard for two days
# cannot come again, so it may forget it.
SHARD_MEMORY = timedelta(days=2)
# Shards that count into the same item at once retry on a version conflict.
_ATTEMPTS = 10


def local_day(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).date().isoformat()


def counter_keys(
    tenant_id: str, route_id: str, day: str, mission_id: str | None = None
) -> list[CounterKey]:
    """The counter items one message's changes count in: its tenant's day, its channel's
    day, its tenant's day on that channel, and its mission's, if it belongs to one."""
    keys = [
        (tenant_scope(tenant_id), day),
        (channel_scope(route_id), day),
        (tenant_channel_scope(tenant_id), channel_day(day, route_id)),
    ]
    if mission_id:
        keys.append((mission_scope(tenant_id, mission_id), WHOLE_LIFE))
    return keys


# States only a gateway gives a message: it took the message. (UNKNOWN is also what a
# claim whose outcome was lost ends in, and such a message is never billed.)
TAKEN = frozenset(DrState) - {
    DrState.QUEUED,
    DrState.SUBMITTING,
    DrState.SUBMIT_FAILED,
    DrState.LOCAL_REJECTED,
    DrState.UNKNOWN,
}

# Final states of a message that no gateway took: its SMS go back to its prepaid order.
NOT_TAKEN = frozenset({DrState.SUBMIT_FAILED, DrState.LOCAL_REJECTED})
# Where a message counted as taken goes when the SMSC's refusal (a receipt) undoes that.
TAKEN_BACK = NOT_TAKEN | {DrState.QUEUED}


def amounts(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    cost_of: Callable[[Mapping[str, Any]], int] | None = None,
) -> dict[str, int]:
    """What one change of a message item adds to its counters. `cost_of` prices a
    message the gateway took before its answer (and cost) was recorded."""
    if new is None:
        return {}  # removed (by TTL): history, not a change of state
    added: Counter[str] = Counter()
    if old is None:
        added["total"] += 1
    state = DrState(str(attribute(new, "dr_state")))
    before = attribute(old, "dr_state")
    if old is not None and before is not None and DrState(before) in TAKEN and state in TAKEN_BACK:
        # The SMSC refused it after the gateway took it: sent back to its queue, it will
        # be submitted (and counted) again; refused for good, no carrier took it. Either
        # way this submission is taken back.
        added["submitted"] -= 1
        added["segments"] -= int(attribute(old, "segments") or 0)
        _add_cost(added, old, -_counted_cost(old, cost_of))
    if before == DrState.SUBMITTING and state in TAKEN:
        added["submitted"] += 1
        added["segments"] += int(attribute(new, "segments") or 0)
        _add_cost(added, new, _counted_cost(new, cost_of))
    if state in FINAL and (before is None or DrState(before) not in FINAL):
        if state == DrState.DELIVRD:
            added["delivered"] += 1
        elif state in FAILED:
            added["failed"] += 1
        else:
            added["no_notification"] += 1
    return {name: n for name, n in added.items() if n}


def _counted_cost(
    message: Mapping[str, Any], cost_of: Callable[[Mapping[str, Any]], int] | None
) -> int:
    """What a message the gateway took is counted at: its recorded cost, or, when a receipt
    came before the gateway's answer (and its cost) was recorded, its price. A submission
    taken back is taken back at the same figure, or a refusal of a message counted at its
    price before its answer was recorded would leave that price in the cost."""
    recorded = attribute(message, "cost")
    if recorded is not None:
        return int(recorded)
    return cost_of(message) if cost_of is not None else 0


def _add_cost(added: Counter[str], message: Mapping[str, Any], cost: int) -> None:
    added["cost"] += cost
    if attribute(message, "order_number") is None:
        # No prepaid order paid for it, so a post-paid one does: its thresholds count
        # this, and not what prepaid orders paid.
        added["postpaid_cost"] += cost


def refunded(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> tuple[str, int] | None:
    """The prepaid order and the SMS one change gives back to it, if it does."""
    order_number = attribute(new, "order_number") if new else None
    if not order_number:
        return None
    state = DrState(str(attribute(new, "dr_state")))
    before = attribute(old, "dr_state")
    if state not in NOT_TAKEN or (before is not None and DrState(before) in FINAL):
        return None
    return str(order_number), int(attribute(new, "segments") or 0)


def _cost_of(image: Mapping[str, Any]) -> int:
    try:
        return message_cost(
            str(attribute(image, "channel")),
            str(attribute(image, "to")),
            int(attribute(image, "segments") or 0),
        )
    except NotFound:
        # A channel removed since: counting must not hold up the stream for a price.
        logger.warning("no price for a message of a removed channel; counted at 0")
        return 0


@dataclass(frozen=True)
class Change:
    sequence: int
    amounts: dict[str, int]


def count_changes(records: Iterable[Mapping[str, Any]], shard_id: str) -> int:
    """Adds a batch of one shard's stream records to the counters; returns how many
    records changed a counter."""
    changes: dict[CounterKey, list[Change]] = {}
    totals: Counter[str] = Counter()
    counted = 0
    for record in records:
        stream = record["dynamodb"]
        old, new = stream.get("OldImage"), stream.get("NewImage")
        try:
            added = amounts(old, new, _cost_of)
        except (KeyError, ValueError):
            # Not a message as the platform writes one: counting it again would fail
            # the same way and hold up the shard, so it is logged and left out.
            logger.exception("a stream record that is not a message; not counted")
            continue
        if not added:
            continue
        counted += 1
        totals.update(added)
        item = new or old
        assert item is not None
        change = Change(int(stream["SequenceNumber"]), added)
        keys = counter_keys(
            str(attribute(item, "tenant_id")),
            str(attribute(item, "channel")),
            str(attribute(item, "dispatch_day")),
            attribute(item, "mission_id"),
        )
        for key in keys:
            changes.setdefault(key, []).append(change)
        refund = refunded(old, new)
        if refund:
            order = (order_scope(str(attribute(item, "tenant_id")), refund[0]), WHOLE_LIFE)
            changes.setdefault(order, []).append(Change(change.sequence, {"refunded": refund[1]}))
    for key, item_changes in changes.items():
        _add(key, shard_id, item_changes)
    _publish(totals)
    return counted


# Delivery metrics, one data point per batch of changes rather than one per receipt:
# CloudWatch bills every metric line the functions log.
_METRICS = {
    "submitted": "MessagesSubmitted",
    "delivered": "MessagesDelivered",
    "failed": "MessagesFailed",
    "no_notification": "MessagesNoDeliveryNotification",
}


def _publish(totals: Counter[str]) -> None:
    for name, metric in _METRICS.items():
        # A batch taking back more submissions than it adds publishes nothing negative.
        if totals[name] > 0:
            metrics.add_metric(name=metric, unit="Count", value=totals[name])


def _add(key: CounterKey, shard_id: str, changes: list[Change]) -> None:
    """Adds the changes this counter item has not counted yet, in one conditional update."""
    scope, period = key
    for _ in range(_ATTEMPTS):
        try:
            item: CounterModel | None = CounterModel.get(scope, period, consistent_read=True)
        except DoesNotExist:
            item = None
        applied = item.applied.as_dict() if item and item.applied else {}
        version = item.version if item else None
        last = _last_counted(applied.get(shard_id))
        fresh = [c for c in changes if c.sequence > last]
        if not fresh:
            return  # a batch delivered again: every change was counted already
        sums: Counter[str] = Counter()
        for change in fresh:
            sums.update(change.amounts)
        now = int(datetime.now(UTC).timestamp())
        applied[shard_id] = f"{max(c.sequence for c in fresh)} {now}"
        actions = [getattr(CounterModel, name).add(n) for name, n in sums.items()]
        actions += [
            CounterModel.applied.set(_remembered(applied, now)),
            CounterModel.version.set((version or 0) + 1),
        ]
        condition = (
            CounterModel.version.does_not_exist()
            if version is None
            else CounterModel.version == version
        )
        try:
            CounterModel(scope, period).update(actions=actions, condition=condition)
            return
        except UpdateError as error:
            if not lost_a_race(error):
                raise
            logger.info("counter changed meanwhile; counting again", extra={"scope": scope})
    raise RuntimeError(f"counter {scope} {period} kept changing; the batch comes back")


def _last_counted(marker: str | None) -> int:
    """The sequence number in a shard's marker: "{sequence} {epoch seconds counted}"."""
    return int(marker.split()[0]) if marker else 0


def _remembered(applied: dict[str, str], now: int) -> dict[str, str]:
    """The shards counted into this item within the shard memory."""
    horizon = now - SHARD_MEMORY.total_seconds()
    return {shard: marker for shard, marker in applied.items() if int(marker.split()[1]) >= horizon}
