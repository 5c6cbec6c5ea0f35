"""State changes of a message, each written together with the counters it changes.

The message update carries a condition on the current state, and the counters are in
the same DynamoDB transaction, so a counter changes exactly once per transition however
often a receipt or a submission is retried. Each state a transition writes is passed on
to the tenant's status callback, if it has one.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action, SetAction
from pynamodb.transactions import TransactWrite

from cloudsms.domain.states import DrState
from cloudsms.services import callbacks, counters
from cloudsms.settings import get_settings
from cloudsms.store.messages import MessageModel

OUTCOME_UNKNOWN = "submission outcome unknown"


# One per process: a connection makes its botocore client on first use (about 80 ms),
# far more than the write itself, and every message takes two or three transitions.
@cache
def _connection() -> Connection:
    settings = get_settings()
    return Connection(region=settings.aws_region, host=settings.aws_endpoint_url)


def _condition_failed(error: TransactWriteError) -> bool:
    reasons = error.cancellation_reasons or []
    return bool(reasons and reasons[0] and reasons[0].code == "ConditionalCheckFailed")


def write(
    message: MessageModel,
    actions: Sequence[Action],
    condition: Condition | None,
    **counter_amounts: int,
) -> bool:
    """Updates the message and its counters in one transaction (in one conditional update
    when the transition counts nothing).

    Returns False, and changes nothing, when the condition does not hold.
    """
    counter_actions = counters.add_actions(**counter_amounts)
    try:
        if counter_actions:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.update(message, actions=list(actions), condition=condition)
                for item in counters.counter_items(
                    message.tenant_id, message.channel, message.dispatch_day, message.mission_id
                ):
                    transaction.update(item, actions=counter_actions)
        else:
            # Nothing to count: one conditional update does it, at half a transaction's
            # price (and moto copies every table a transaction touches).
            message.update(actions=list(actions), condition=condition)
    except TransactWriteError as error:
        if _condition_failed(error):
            return False
        raise
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    callbacks.state_changed(message, _assigned(actions))
    return True


def _assigned(actions: Sequence[Action]) -> dict[str, str]:
    """The text attributes the actions set to plain values, by name (the new state, its
    error code and reason), as the status callback reports them."""
    assigned = {}
    for action in actions:
        if isinstance(action, SetAction):
            path, value = action.values
            if isinstance(path, Path) and isinstance(value, Value) and "S" in value.value:
                assigned[path.path[0]] = value.value["S"]
    return assigned


def claim(message: MessageModel, now: datetime) -> bool:
    """QUEUED → SUBMITTING: only one consumer may hand a message to a gateway."""
    return write(
        message,
        [
            MessageModel.dr_state.set(DrState.SUBMITTING.value),
            MessageModel.submitted_at.set(now),
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
        no_notification=1,
    )


def release(message: MessageModel, reason: str) -> bool:
    """SUBMITTING → QUEUED after a temporary failure, so a retry may claim it again."""
    return write(
        message,
        [MessageModel.dr_state.set(DrState.QUEUED.value), MessageModel.reason.set(reason)],
        MessageModel.dr_state == DrState.SUBMITTING.value,
    )


def create_claimed(message: MessageModel) -> bool:
    """Writes a mission message as SUBMITTING, counting it in `total`, unless its UID
    exists already (a redelivered or re-dispatched recipient): then changes nothing."""
    counter_actions = counters.add_actions(total=1)
    try:
        with TransactWrite(connection=_connection()) as transaction:
            transaction.save(message, condition=MessageModel.uid.does_not_exist())
            for item in counters.counter_items(
                message.tenant_id, message.channel, message.dispatch_day, message.mission_id
            ):
                transaction.update(item, actions=counter_actions)
    except TransactWriteError as error:
        if _condition_failed(error):
            return False
        raise
    return True
