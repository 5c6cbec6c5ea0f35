"""The hourly receipt sweep: late receipts reconciled, silent messages given up on.

1. Unmatched receipts of the receipt window are tried again: one that overtook the
   record of its message's submission finds the message now.
2. A message still without a final receipt `receipt_timeout_hours` after its submission
   becomes UNKNOWN ("No Delivery Notification"). Such messages are found through the
   receipt watches the submit consumer writes (store/receipt_watch.py), never by a scan
   of the messages. The eight shards of the watches are swept at once, a thread each
   (each going through the UTC hours of the lookback window in turn): one watch after
   another, a run mostly waited on DynamoDB; at once, it is bound by the processor that
   decodes the answers (README.md "Limits at scale"). The move is the same conditional
   transition a receipt makes, so a receipt racing the sweep and a sweep running twice
   still move the message once.
3. A watched message still SUBMITTING by then was claimed by a consumer that stopped
   before recording the gateway's answer, and no redelivery of its queue message came
   to settle the claim: it becomes UNKNOWN too ("submission outcome unknown"). A QUEUED
   one waits for a retry, which watches it again: it is left alone.
4. A watch is deleted once every message it lists is settled, so the next run does not
   read it again; a watch with a message not yet due, or one a write lost a race for,
   is read again by a later run. So is every watch a run did not reach: each thread
   stops with SAFETY_SECONDS left, and a shard that fails fails the run once the
   others are done (the next run reads that shard again).
5. The watches of a recent hour also tell which channels' receipts stopped, long
   before their messages are overdue (services/receipt_silence.py). That is looked at
   first, while the run has all its time (a few reads), and its failure fails the run
   only once the overdue messages are settled, as a failing shard's does.
"""

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloudsms.domain.states import DrState
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.receipt_silence import Findings, judge_channels
from cloudsms.services.receipts import receipt_window, reconcile_unmatched
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import WATCH_SHARDS, ReceiptWatchModel, watch_shard_key

NO_NOTIFICATION = "No Delivery Notification"
# States a message waits in for its final receipt.
_WAITING = (DrState.SUBMITTED.value, DrState.ENROUTE.value, DrState.ACCEPTD.value)
# Stop with this much time left, so that an invocation never dies mid-write.
SAFETY_SECONDS = 20.0


def sweep(now: datetime, seconds_left: Callable[[], float]) -> dict[str, int]:
    reconciled = 0
    since = receipt_window(now)
    for channel in ChannelModel.scan(attributes_to_get=["route_id"]):
        reconciled += reconcile_unmatched(channel.route_id, now, since)
    found, failure = _judge_channels(now)
    expired = expire_overdue(now, seconds_left)
    if failure is not None:
        raise failure
    done = {
        "reconciled": reconciled,
        "channels_without_receipts": len(found.silent),
        "channels_delivering_poorly": len(found.delivering_poorly),
        "expired": expired,
    }
    logger.info("receipt sweep done", extra=done)
    return done


def _judge_channels(now: datetime) -> tuple[Findings, Exception | None]:
    """Which channels' receipts stopped or are mostly failures, or why that could not be
    told."""
    try:
        return judge_channels(now), None
    except Exception as error:
        logger.error(
            "looking for channels without receipts failed; the next run looks again",
            exc_info=error,
        )
        return Findings(), error


def expire_overdue(now: datetime, seconds_left: Callable[[], float]) -> int:
    """Moves every overdue watched message to UNKNOWN; returns how many it moved."""
    cutoff = receipt_window(now)
    shards = [_ShardSweep(shard) for shard in range(WATCH_SHARDS)]
    # Leaving the block waits for every shard. Each runs in a copy of this thread's
    # context: Powertools keeps the invocation's log keys (its request id) in a context
    # variable, which a new thread would not see.
    with ThreadPoolExecutor(WATCH_SHARDS, thread_name_prefix="receipt-sweep") as pool:
        runs = [
            pool.submit(contextvars.copy_context().run, shard.run, cutoff, now, seconds_left)
            for shard in shards
        ]
    expired = sum(shard.expired for shard in shards)
    if expired:
        # Counted before a shard's failure is raised: those moves are made all the same.
        metrics.add_metric(name=f"Messages{DrState.UNKNOWN.value}", unit="Count", value=expired)
    if any(shard.stopped_for_time for shard in shards):
        logger.warning("receipt sweep stopped for time; the next run goes on")
    errors = []
    for shard, run in zip(shards, runs, strict=True):
        error = run.exception()
        if error is not None:
            logger.error(
                "receipt sweep shard failed; the next run reads it again",
                extra={"shard": shard.shard},
                exc_info=error,
            )
            errors.append(error)
    if errors:
        # The invocation fails, as the sweep did before its shards ran at once: the
        # function's error alarm sees a shard that keeps failing (a throttled table, a
        # policy refusing a request), which a log line alone would hide. The other
        # shards are done first, so one shard's trouble holds none of them back.
        raise errors[0]
    return expired


@dataclass
class _ShardSweep:
    """One shard's part of a run. Only its own thread writes it; the run reads it once
    every thread is done."""

    shard: int
    expired: int = 0
    stopped_for_time: bool = False

    def run(self, cutoff: datetime, now: datetime, seconds_left: Callable[[], float]) -> None:
        for hour, watch in _watches(cutoff, self.shard):
            # Every thread looks before each watch, so all of them stop in time.
            if seconds_left() < SAFETY_SECONDS:
                self.stopped_for_time = True
                return
            moved, settled = _expire_watched(watch, hour, cutoff, now)
            self.expired += moved
            if settled:
                watch.delete()


def _watches(cutoff: datetime, shard: int) -> Iterator[tuple[datetime, ReceiptWatchModel]]:
    """The watches of one shard of each UTC hour of the lookback window up to the
    cutoff's, with the hour they were written in."""
    earliest = cutoff - timedelta(hours=get_settings().receipt_sweep_lookback_hours)
    hour = earliest.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= cutoff:
        for watch in ReceiptWatchModel.query(watch_shard_key(hour, shard)):
            yield hour, watch
        hour += timedelta(hours=1)


def _expire_watched(
    watch: ReceiptWatchModel, hour: datetime, cutoff: datetime, now: datetime
) -> tuple[int, bool]:
    """Moves the overdue messages of one watch to UNKNOWN. Returns how many it moved,
    and whether every message the watch lists is settled."""
    lease = timedelta(seconds=get_settings().submit_lease_seconds)
    # The watch was written just before its messages were claimed: one submitted later
    # than this was released, then claimed again by a batch that watched it anew.
    watched_again_after = hour + timedelta(hours=1) + lease
    moved = 0
    settled = True
    keys = [(watch.tenant_id, uid) for uid in watch.uids]
    # A message never written (a mission recipient whose claim did not happen) is absent.
    for message in batches.get(MessageModel, keys):
        if message.dr_state not in (DrState.SUBMITTING.value, *_WAITING):
            continue  # final, or QUEUED for a retry
        submitted_at = message.submitted_at or message.created_at
        if submitted_at > cutoff:
            settled = settled and submitted_at > watched_again_after
        elif _give_up_on(message, now - lease):
            moved += 1
        else:
            # It changed since it was read (a receipt came): the next run looks again.
            settled = False
    return moved, settled


def _give_up_on(message: MessageModel, claimed_before: datetime) -> bool:
    if message.dr_state == DrState.SUBMITTING.value:
        settled = transitions.settle_unknown(message, claimed_before)
        if settled:
            logger.warning(
                "claim never answered: submission outcome unknown", extra={"uid": message.uid}
            )
        return settled
    return transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.UNKNOWN.value),
            MessageModel.reason.set(NO_NOTIFICATION),
        ],
        MessageModel.dr_state.is_in(*_WAITING),
    )
