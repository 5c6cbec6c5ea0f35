"""Channels without receipts: a carrier that stopped sending a channel's receipts is told
to the operator within hours, not at the receipt timeout.

A carrier may stop calling a channel's receipt URL (its dlr-url host changed, a firewall,
a fault at the carrier, a gateway restarted without its receipt storage). Nothing is
refused then, so no refusal alarm sees it: the channel's messages wait SUBMITTED until
the receipt sweep makes them UNKNOWN `receipt_timeout_hours` (72) later, and tenants see
them stuck first. So each hourly sweep also looks at the messages submitted in one UTC
hour, the one that began `receipt_silence_hours` before the sweep's hour (by default
from 1 to 3 hours before the run): by then a carrier has sent most receipts, and a
message still without one is the rare handset that is off.

- Those messages are found as the sweep finds overdue ones, through the receipt watches
  of that hour: no write per message, no index. Each watch names its batch's channel
  (watches written before it did are left out).
- Only a sample of each channel's messages is read (`SAMPLE`, one batch read), drawn
  from as many of the hour's batches as it can hold (one tenant's mission says little of
  a channel many share): whether a
  channel's receipts come shows in a hundred of its messages as well as in all of them,
  and reading every message of the hour would double what the sweep reads (README.md
  "Limits at scale"). The daily counters per channel (services/counters.py) were no
  help: a day's figures cannot tell the last hours' messages from the morning's.
- A channel is silent when at least `MIN_MESSAGES` of its sampled messages were taken by
  its gateway and at most one in ten of those has a final receipt. A few in a hundred
  waiting hours is normal life, and a channel that sent nothing, or a handful, is not
  judged (as SubmissionsRefusedAlarm wants 20 refusals). A message no gateway took
  (queued, claimed, refused, UNKNOWN) expects no receipt and does not count; every
  channel asks its gateway for receipts, so no channel is left out by configuration.
- The same sample tells a channel that is heard but whose receipts are mostly failures
  (a carrier refusing a sender, a route's network down, numbers sent in a form it
  cannot reach): at least `MIN_MESSAGES` final receipts, fewer than its delivery floor
  of them DELIVRD. Nothing is refused there either, and such messages are charged like
  delivered ones. The stack's floor (`channel_delivery_floor`, the template's
  ChannelDeliveryFloor) is low by default (0.5): routes deliver 70-99 % in normal life,
  and a floor that pages on an ordinary day is soon ignored. So a channel may have a
  floor of its own (its `delivery_floor`; 0: never judged so): a route that delivers
  98 % is broken at 80 %, which the stack's floor would never tell. A channel with
  enough receipts to be judged so is read for it, not through the functions' cache:
  a floor changed a moment before the run applies.
- Metrics carry no channel: a run publishes how many channels it found silent
  (`ChannelsWithoutReceipts`, 0 too, which ChannelsWithoutReceiptsAlarm watches) and
  how many delivering poorly (`ChannelsDeliveringPoorly`, ChannelsDeliveringPoorlyAlarm),
  and a WARNING line names each.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import zip_longest

from cloudsms.domain.states import FINAL, INTERMEDIATE, DrState
from cloudsms.errors import NotFound
from cloudsms.observability import logger, metrics
from cloudsms.services import channels
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import WATCH_SHARDS, ReceiptWatchModel, watch_shard_key

# Messages read per channel: one BatchGetItem.
SAMPLE = 100
# Fewer messages taken by a channel's gateway than this are not enough to judge it by.
MIN_MESSAGES = 20
# A channel with more of its taken messages finally receipted than this share is heard.
HEARD_SHARE = 0.1

_WAITING = frozenset({DrState.SUBMITTED, *INTERMEDIATE})
# Final states only a receipt gives: UNKNOWN is the sweep's, SUBMIT_FAILED and
# LOCAL_REJECTED those of messages no carrier took.
_RECEIPTED = FINAL - {DrState.UNKNOWN, DrState.SUBMIT_FAILED, DrState.LOCAL_REJECTED}
_FAILED = _RECEIPTED - {DrState.DELIVRD}


@dataclass
class Findings:
    """The channels a run found silent, and those heard but delivering poorly."""

    silent: list[str] = field(default_factory=list)
    delivering_poorly: list[str] = field(default_factory=list)


def judge_channels(now: datetime) -> Findings:
    """The channels whose messages of the judged hour got (almost) no final receipt, and
    those whose final receipts were DELIVRD less often than their delivery floor; each
    logged as a warning and counted in its metric."""
    hour = _judged_hour(now)
    found = Findings()
    for route_id, keys in sorted(_watched_messages(hour).items()):
        states = _states(sorted(keys))
        taken = sum(n for state, n in states.items() if state in _WAITING | _RECEIPTED)
        receipted = sum(n for state, n in states.items() if state in _RECEIPTED)
        delivered = states[DrState.DELIVRD]
        judged = {"channel": route_id, "submitted_hour": hour.isoformat(), "messages": taken}
        if taken >= MIN_MESSAGES and receipted <= HEARD_SHARE * taken:
            logger.warning(
                "channel gets no receipts: its carrier may have stopped sending them",
                extra={**judged, "receipted": receipted},
            )
            found.silent.append(route_id)
        elif receipted >= MIN_MESSAGES:
            floor = _delivery_floor(route_id)
            if delivered < floor.share * receipted:
                failures = {s.value: n for s, n in sorted(states.items()) if s in _FAILED}
                logger.warning(
                    "channel delivers poorly: fewer of its receipts DELIVRD than its floor",
                    extra={
                        **judged,
                        "receipted": receipted,
                        "delivered": delivered,
                        **failures,
                        "delivery_floor": floor.share,
                        "delivery_floor_of": floor.of,
                    },
                )
                found.delivering_poorly.append(route_id)
    # Every run, 0 too: the alarm keeps its state while its hour holds no datapoint (a
    # run that ended later than the one before), and goes OK on a run's 0.
    metrics.add_metric(name="ChannelsWithoutReceipts", unit="Count", value=len(found.silent))
    metrics.add_metric(
        name="ChannelsDeliveringPoorly", unit="Count", value=len(found.delivering_poorly)
    )
    return found


@dataclass(frozen=True)
class _Floor:
    share: float
    of: str  # "channel": its own; "stack": the stack's


def _delivery_floor(route_id: str) -> _Floor:
    """The channel's own delivery floor, else the stack's."""
    try:
        own = channels.get_route_now(route_id).delivery_floor
    except NotFound:
        # Deleted by hand since its messages went (no API deletes a channel): its receipts
        # still tell of its carrier.
        own = None
    if own is None:
        return _Floor(get_settings().channel_delivery_floor, "stack")
    return _Floor(own, "channel")


def _judged_hour(now: datetime) -> datetime:
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return this_hour - timedelta(hours=get_settings().receipt_silence_hours)


def _states(keys: list[tuple[str, str]]) -> Counter[DrState]:
    """How many of these messages are in each state (a message never written, a mission
    recipient whose claim did not happen, is absent)."""
    found = batches.get(MessageModel, keys, attributes_to_get=["dr_state"])
    return Counter(DrState(message.dr_state) for message in found)


def _watched_messages(hour: datetime) -> dict[str, set[tuple[str, str]]]:
    """Up to SAMPLE of the messages each channel's watches of the hour list, by (tenant,
    uid), spread over the hour's watches rather than the first read. A watch is one batch
    of one tenant's messages, as many as a whole sample: the first read would judge a
    channel that many tenants share by one mission's numbers (a campaign to a stale list
    would page the operator for a channel that delivers). So up to SAMPLE watches are
    drawn evenly from all of the channel's (reservoir sampling: one pass, no more held),
    and the sample takes the first message of each, then the second, and so on. No more
    are kept: an hour at the sweep's limit lists millions, a gigabyte held for nothing in
    the function that then has to expire the overdue ones."""
    drawn: dict[str, list[ReceiptWatchModel]] = defaultdict(list)
    seen: Counter[str] = Counter()
    for shard in range(WATCH_SHARDS):
        for watch in ReceiptWatchModel.query(watch_shard_key(hour, shard)):
            if watch.channel is None:
                continue
            seen[watch.channel] += 1
            chosen = drawn[watch.channel]
            if len(chosen) < SAMPLE:
                chosen.append(watch)
            else:
                slot = draw(seen[watch.channel])
                if slot < SAMPLE:
                    chosen[slot] = watch
    return {channel: _spread(chosen) for channel, chosen in drawn.items()}


# How a watch's place in the sample is drawn (a number below its argument); tests may
# put their own here.
draw = random.randrange


def _spread(watches: list[ReceiptWatchModel]) -> set[tuple[str, str]]:
    """Up to SAMPLE messages of the watches, as many of each as the others allow (a
    message released and claimed again is in two watches: it counts once)."""
    kept: set[tuple[str, str]] = set()
    listed = ([(watch.tenant_id, uid) for uid in sorted(watch.uids)] for watch in watches)
    for rank in zip_longest(*listed):
        for key in rank:
            if key is not None:
                kept.add(key)
            if len(kept) >= SAMPLE:
                return kept
    return kept
