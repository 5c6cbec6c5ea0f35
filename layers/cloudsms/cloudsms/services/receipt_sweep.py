"""The hourly receipt sweep: late receipts reconciled, silent messages given up on.

1. Unmatched receipts of the receipt window are tried again: one that overtook the
   record of its message's submission finds the message now.
2. A message still without a final receipt `receipt_timeout_hours` after its submission
   becomes UNKNOWN ("No Delivery Notification"). Such messages are found through the
   receipt watches the submit consumer writes (store/receipt_watch.py), one UTC hour
   (and its shards) at a time, never by a scan of the messages. The move is the same
   conditional transition a receipt makes, so a receipt racing the sweep and a sweep
   running twice still move the message once.
3. A watched message still SUBMITTING by then was claimed by a consumer that stopped
   before recording the gateway's answer, and no redelivery of its queue message came
   to settle the claim: it becomes UNKNOWN too ("submission outcome unknown"). A QUEUED
   one waits for a retry, which watches it again: it is left alone.
4. A watch is deleted once every message it lists is settled, so the next run does not
   read it again; a watch with a message not yet due, or one a write lost a race for,
   is read again by a later run.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from cloudsms.domain.states import DrState
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.receipts import receipt_window, reconcile_unmatched
from cloudsms.settings import get_settings
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.receipt_watch import ReceiptWatchModel, watch_hour_keys

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
    expired = expire_overdue(now, seconds_left)
    logger.info("receipt sweep done", extra={"reconciled": reconciled, "expired": expired})
    return {"reconciled": reconciled, "expired": expired}


def expire_overdue(now: datetime, seconds_left: Callable[[], float]) -> int:
    """Moves every overdue watched message to UNKNOWN; returns how many it moved."""
    cutoff = receipt_window(now)
    expired = 0
    for hour, watch in _watches(cutoff):
        if seconds_left() < SAFETY_SECONDS:
            logger.warning("receipt sweep stopped for time; the next run goes on")
            break
        moved, settled = _expire_watched(watch, hour, cutoff, now)
        expired += moved
        if settled:
            watch.delete()
    if expired:
        metrics.add_metric(name=f"Messages{DrState.UNKNOWN.value}", unit="Count", value=expired)
    return expired


def _watches(cutoff: datetime) -> Iterator[tuple[datetime, ReceiptWatchModel]]:
    """The watches of each UTC hour of the lookback window up to the cutoff's, with the
    hour they were written in."""
    earliest = cutoff - timedelta(hours=get_settings().receipt_sweep_lookback_hours)
    hour = earliest.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= cutoff:
        for key in watch_hour_keys(hour):
            for watch in ReceiptWatchModel.query(key):
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
    for message in MessageModel.batch_get(keys):
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
