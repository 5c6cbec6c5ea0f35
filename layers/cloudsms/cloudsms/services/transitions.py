"""State changes of a message: each one conditional write of its item.

The update carries a condition on the states the message may come from, so however often
a receipt or a submission is retried, a transition happens once. The statistics
counters and the tenants' status callbacks follow from these writes through the table's
stream (services/counters.py, services/callbacks.py).
"""

from collections.abc import Sequence
from datetime import datetime

from pynamodb.constants import NONE
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from cloudsms.domain.states import DrState
from cloudsms.store.base import lost_a_race
from cloudsms.store.messages import MessageModel

OUTCOME_UNKNOWN = "submission outcome unknown"


def write(message: MessageModel, actions: Sequence[Action], condition: Condition | None) -> bool:
    """Updates the message; returns False, and changes nothing, when the condition does
    not hold."""
    try:
        # Nothing needs the message back, so the answer does not carry it.
        MessageModel._get_connection().update_item(
            message.tenant_id,
            message.uid,
            actions=list(actions),
            condition=condition,
            return_values=NONE,
        )
    except UpdateError as error:
        if lost_a_race(error):
            return False
        raise
    return True


def claim(message: MessageModel, now: datetime) -> bool:
    """QUEUED → SUBMITTING: only one consumer may hand a message to a gateway. A reason
    left by an earlier attempt's temporary failure goes, and so does the error code of an
    earlier hand-over the SMSC refused: this attempt has its own outcome."""
    return write(
        message,
        [
            MessageModel.dr_state.set(DrState.SUBMITTING.value),
            MessageModel.submitted_at.set(now),
            MessageModel.reason.remove(),
            MessageModel.error_code.remove(),
        ],
        MessageModel.dr_state == DrState.QUEUED.value,
    )


def settle_unknown(message: MessageModel, claimed_before: datetime) -> bool:
    """SUBMITTING → UNKNOWN, for a claim made before `claimed_before` (its lease is over).

    The consumer that held the claim stopped between claiming and recording the
    gateway's answer, so whether the gateway has the message cannot be known, and
    sending it again could send it twice.
    """
    return write(
        message,
        [
            MessageModel.dr_state.set(DrState.UNKNOWN.value),
            MessageModel.reason.set(OUTCOME_UNKNOWN),
        ],
        (MessageModel.dr_state == DrState.SUBMITTING.value)
        & (MessageModel.submitted_at < claimed_before),
    )


def release(message: MessageModel, reason: str) -> bool:
    """SUBMITTING → QUEUED after a temporary failure, so a retry may claim it again. It
    was not submitted after all: the reason says why, and it has no submission time."""
    return write(
        message,
        [
            MessageModel.dr_state.set(DrState.QUEUED.value),
            MessageModel.reason.set(reason),
            MessageModel.submitted_at.remove(),
        ],
        MessageModel.dr_state == DrState.SUBMITTING.value,
    )


def refuse_queued(message: MessageModel, reason: str) -> bool:
    """QUEUED → LOCAL_REJECTED: the platform will not send it. False for a message a
    consumer took meanwhile (it is being sent) or one that was never stored."""
    return write(
        message,
        [
            MessageModel.dr_state.set(DrState.LOCAL_REJECTED.value),
            MessageModel.reason.set(reason),
        ],
        MessageModel.dr_state == DrState.QUEUED.value,
    )


def create_claimed(message: MessageModel) -> bool:
    """Writes a mission message as SUBMITTING unless its UID exists already (a
    redelivered or re-dispatched recipient): then changes nothing."""
    return _create(message)


def create_refused(message: MessageModel, reason: str) -> bool:
    """Writes a mission message as LOCAL_REJECTED, never sent, unless its UID exists
    already: then changes nothing."""
    message.dr_state = DrState.LOCAL_REJECTED.value
    message.reason = reason
    message.submitted_at = None
    return _create(message)


def _create(message: MessageModel) -> bool:
    try:
        message.save(condition=MessageModel.uid.does_not_exist())
    except PutError as error:
        if lost_a_race(error):
            return False
        raise
    return True
