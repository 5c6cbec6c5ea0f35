"""Delivery states of a message and the forward-only rule that governs them.

Carrier receipts arrive late, twice or out of order, so a state may only move to a
state of a higher rank, and a final state never changes.
"""

from enum import StrEnum


class DrState(StrEnum):
    QUEUED = "QUEUED"  # accepted by the platform, waiting in a submit queue
    SUBMITTING = "SUBMITTING"  # claimed by a submit consumer, gateway call under way
    SUBMITTED = "SUBMITTED"  # the gateway accepted it and named its message id
    ENROUTE = "ENROUTE"
    ACCEPTD = "ACCEPTD"
    DELIVRD = "DELIVRD"
    UNDELIV = "UNDELIV"
    EXPIRED = "EXPIRED"
    REJECTD = "REJECTD"
    DELETED = "DELETED"
    UNKNOWN = "UNKNOWN"  # no final receipt in time: "No Delivery Notification"
    # the gateway refused the submission, or its SMSC did (a receipt's NACK that stands)
    SUBMIT_FAILED = "SUBMIT_FAILED"
    LOCAL_REJECTED = "LOCAL_REJECTED"  # the platform refused to send it


INTERMEDIATE = frozenset({DrState.ENROUTE, DrState.ACCEPTD})
FAILED = frozenset(
    {
        DrState.UNDELIV,
        DrState.EXPIRED,
        DrState.REJECTD,
        DrState.DELETED,
        DrState.SUBMIT_FAILED,
        DrState.LOCAL_REJECTED,
    }
)
FINAL = FAILED | {DrState.DELIVRD, DrState.UNKNOWN}

_RANK = {
    DrState.QUEUED: 0,
    DrState.SUBMITTING: 1,
    DrState.SUBMITTED: 2,
    DrState.ENROUTE: 3,
    DrState.ACCEPTD: 3,
}


def rank(state: DrState) -> int:
    return _RANK.get(state, 4)


def is_final(state: DrState) -> bool:
    return state in FINAL


def can_move(current: DrState, new: DrState) -> bool:
    """A receipt may only move a message forward, never out of a final state."""
    return rank(new) > rank(current)


def states_below(new: DrState) -> list[DrState]:
    """The states from which `new` may be reached: used as a write condition."""
    return [s for s in DrState if rank(s) < rank(new)]


class Outcome(StrEnum):
    """The portal's "SMS Status": what a person reading the dispatching log needs."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_NOTIFICATION = "no_notification"


def outcome(state: DrState) -> Outcome:
    if state == DrState.DELIVRD:
        return Outcome.DELIVERED
    if state in FAILED:
        return Outcome.FAILED
    if state == DrState.UNKNOWN:
        return Outcome.NO_NOTIFICATION
    if state in (DrState.QUEUED, DrState.SUBMITTING):
        return Outcome.PENDING
    return Outcome.SENT
