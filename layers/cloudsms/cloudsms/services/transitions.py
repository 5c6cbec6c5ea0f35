"""State changes of a message, each written together with the counters it changes.

The message update carries a condition on the current state, and the counters are in
the same DynamoDB transaction, so a counter changes exactly once per transition however
often a receipt or a submission is retried.
"""

from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from cloudsms.domain.states import DrState
from cloudsms.services import counters
from cloudsms.settings import get_settings
from cloudsms.store.messages import MessageModel


def _connection() -> Connection:
    settings = get_settings()
    return Connection(region=settings.aws_region, host=settings.aws_endpoint_url)


def _condition_failed(error: TransactWriteError) -> bool:
    reasons = error.cancellation_reasons or []
    return bool(reasons and reasons[0] and reasons[0].code == "ConditionalCheckFailed")


def write(
    message: MessageModel,
    actions: list[Action],
    condition: Condition | None,
    **counter_amounts: int,
) -> bool:
    """Updates the message and its counters in one transaction.

    Returns False, and changes nothing, when the condition does not hold.
    """
    counter_actions = counters.add_actions(**counter_amounts)
    try:
        with TransactWrite(connection=_connection()) as transaction:
            transaction.update(message, actions=actions, condition=condition)
            if counter_actions:
                for item in counters.counter_items(
                    message.tenant_id, message.channel, message.dispatch_day, message.mission_id
                ):
                    transaction.update(item, actions=counter_actions)
    except TransactWriteError as error:
        if _condition_failed(error):
            return False
        raise
    return True


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
