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
- Only a sample of each channel's messages is read (`SAMPLE`, one batch read): whether a
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
- Metrics carry no channel: a run publishes how many channels it found silent
  (`ChannelsWithoutReceipts`, 0 too, which ChannelsWithoutReceiptsAlarm watches), and a
  WARNING line names each.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from cloudsms.domain.states import FINAL, INTERMEDIATE, DrState
from cloudsms.observability import logger, metrics
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


def find_channels_without_receipts(now: datetime) -> list[str]:
    """The channels whose messages of the judged hour got (almost) no final receipt,
    each logged as a warning and counted in the metric."""
    hour = _judged_hour(now)
    silent = []
    for route_id, keys in sorted(_watched_messages(hour).items()):
        states = _states(sorted(keys))
        taken = sum(n for state, n in states.items() if state in _WAITING | _RECEIPTED)
        receipted = sum(n for state, n in states.items() if state in _RECEIPTED)
        if taken >= MIN_MESSAGES and receipted <= HEARD_SHARE * taken:
            logger.warning(
                "channel gets no receipts: its carrier may have stopped sending them",
                extra={
                    "channel": route_id,
                    "submitted_hour": hour.isoformat(),
                    "messages": taken,
                    "receipted": receipted,
                },
            )
            silent.append(route_id)
    # Every run, 0 too: the alarm keeps its state while its hour holds no datapoint (a
    # run that ended later than the one before), and goes OK on a run's 0.
    metrics.add_metric(name="ChannelsWithoutReceipts", unit="Count", value=len(silent))
    return silent


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
    uid), the first read (a message released and claimed again is in two watches). No
    more are kept: an hour at the sweep's limit lists millions, a gigabyte held for
    nothing in the function that then has to expire the overdue ones."""
    by_channel: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for shard in range(WATCH_SHARDS):
        for watch in ReceiptWatchModel.query(watch_shard_key(hour, shard)):
            if watch.channel is None:
                continue
            kept = by_channel[watch.channel]
            for uid in watch.uids:
                if len(kept) >= SAMPLE:
                    break
                kept.add((watch.tenant_id, uid))
    return by_channel
