"""The hourly receipt sweep: late receipts reconciled, silent messages given up on.

1. Unmatched receipts of the receipt window are tried again: one that overtook the
   record of its message's submission finds the message now.
2. A message still without a final receipt `receipt_timeout_hours` after its submission
   becomes UNKNOWN ("No Delivery Notification"). Such messages are read from the sparse
   awaiting-receipt index, one UTC hour (and its shards) at a time, never by a scan. The
   move is the same conditional transition a receipt makes, so a receipt racing the
   sweep and a sweep running twice still count the message once.
"""

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import islice

from pynamodb.exceptions import UpdateError

from cloudsms.domain.states import FINAL, DrState
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.receipts import receipt_window, reconcile_unmatched
from cloudsms.settings import get_settings
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel, awaiting_receipt_keys

NO_NOTIFICATION = "No Delivery Notification"
# States a message waits in for its final receipt.
_WAITING = (DrState.SUBMITTED.value, DrState.ENROUTE.value, DrState.ACCEPTD.value)
# Stop with this much time left, so that an invocation never dies mid-write.
SAFETY_SECONDS = 20.0
_BATCH = 100


def sweep(now: datetime, seconds_left: Callable[[], float]) -> dict[str, int]:
    reconciled = 0
    since = receipt_window(now)
    for channel in ChannelModel.scan(attributes_to_get=["route_id"]):
        reconciled += reconcile_unmatched(channel.route_id, now, since)
    expired = expire_overdue(now, seconds_left)
    logger.info("receipt sweep done", extra={"reconciled": reconciled, "expired": expired})
    return {"reconciled": reconciled, "expired": expired}


def expire_overdue(now: datetime, seconds_left: Callable[[], float]) -> int:
    """Moves every overdue message to UNKNOWN; returns how many it moved."""
    cutoff = receipt_window(now)
    expired = 0
    overdue = _overdue(cutoff)
    while batch := list(islice(overdue, _BATCH)):
        if seconds_left() < SAFETY_SECONDS:
            logger.warning("receipt sweep stopped for time; the next run goes on")
            break
        for message in MessageModel.batch_get([(m.tenant_id, m.uid) for m in batch]):
            expired += _expire(message, now)
    if expired:
        metrics.add_metric(name="MessagesUNKNOWN", unit="Count", value=expired)
    return expired


def _overdue(cutoff: datetime) -> Iterator[MessageModel]:
    """Keys of messages submitted at or before `cutoff` and still awaiting a receipt,
    from the hours of the lookback window up to the cutoff's."""
    hour = cutoff - timedelta(hours=get_settings().receipt_sweep_lookback_hours)
    while hour <= cutoff:
        for key in awaiting_receipt_keys(hour):
            yield from MessageModel.awaiting.query(key, MessageModel.submitted_at <= cutoff)
        hour += timedelta(hours=1)


def _expire(message: MessageModel, now: datetime) -> int:
    moved = transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.UNKNOWN.value),
            MessageModel.reason.set(NO_NOTIFICATION),
            MessageModel.awaiting_receipt.remove(),
        ],
        MessageModel.dr_state.is_in(*_WAITING),
        no_notification=1,
    )
    if moved:
        return 1
    # Already final: a receipt overtook the record of the submission, which then marked
    # it as waiting. It only has to leave the index.
    with contextlib.suppress(UpdateError):
        message.update(
            actions=[MessageModel.awaiting_receipt.remove()],
            condition=MessageModel.dr_state.is_in(*[s.value for s in FINAL]),
        )
    return 0
