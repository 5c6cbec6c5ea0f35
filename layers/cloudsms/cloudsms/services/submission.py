"""Handing queued messages to their carrier gateways."""

from collections.abc import Callable
from datetime import datetime

from cloudsms.carriers.base import Gateway, Submission, SubmitResult
from cloudsms.carriers.registry import gateway_for, receipt_url
from cloudsms.domain import phone
from cloudsms.domain.states import DrState
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.channels import Channel, get_channel
from cloudsms.store.messages import MessageModel


class RetryLater(Exception):
    """Some message of the batch hit a temporary failure: SQS should deliver it again."""


def submit_queued(
    tenant_id: str,
    uids: list[str],
    now: Callable[[], datetime],
    gateway_factory: Callable[[Channel], Gateway] = gateway_for,
) -> None:
    """Submits each still-queued message once; raises RetryLater if any must be retried.

    A message that is no longer QUEUED was claimed before (SQS delivered this batch
    again) and is skipped, so a redelivery never sends a message twice.
    """
    retry = []
    for message in MessageModel.batch_get([(tenant_id, uid) for uid in uids]):
        if message.dr_state != DrState.QUEUED.value or not transitions.claim(message, now()):
            logger.info("message already claimed; skipped", extra={"uid": message.uid})
            continue
        channel = get_channel(message.channel)
        result = gateway_factory(channel).submit(_submission(message, channel))
        if result.accepted:
            _record_submitted(message, result, now())
        elif result.temporary:
            transitions.release(message, result.reason or "temporary failure")
            retry.append(message.uid)
        else:
            _record_refused(message, result)
    if retry:
        raise RetryLater(f"{len(retry)} message(s) hit a temporary gateway failure")


def _submission(message: MessageModel, channel: Channel) -> Submission:
    return Submission(
        uid=message.uid,
        tenant_id=message.tenant_id,
        to=message.to,
        text=message.text,
        encoding=message.encoding,
        segments=int(message.segments),
        sender=message.sender,
        receipt_url=receipt_url(channel, message.tenant_id, message.uid),
    )


def _record_submitted(message: MessageModel, result: SubmitResult, now: datetime) -> None:
    carrier_fields = [
        MessageModel.carrier_message_id.set(result.carrier_message_id),
        MessageModel.carrier_ref.set(f"{message.channel}#{result.carrier_message_id}"),
        MessageModel.submitted_at.set(now),
    ]
    amounts = {"submitted": 1, "segments": int(message.segments)}
    moved = transitions.write(
        message,
        [*carrier_fields, MessageModel.dr_state.set(DrState.SUBMITTED.value)],
        MessageModel.dr_state == DrState.SUBMITTING.value,
        **amounts,
    )
    if not moved:
        # A fast receipt already moved the message on: keep its state, count the submit.
        transitions.write(message, carrier_fields, None, **amounts)
    metrics.add_metric(name="MessagesSubmitted", unit="Count", value=1)
    logger.info(
        "submitted", extra={"uid": message.uid, "to": phone.mask(message.to)}
    )


def _record_refused(message: MessageModel, result: SubmitResult) -> None:
    transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.SUBMIT_FAILED.value),
            MessageModel.reason.set(result.reason or "refused by the gateway"),
        ],
        MessageModel.dr_state == DrState.SUBMITTING.value,
        failed=1,
    )
    metrics.add_metric(name=f"Messages{DrState.SUBMIT_FAILED.value}", unit="Count", value=1)
    logger.warning("gateway refused the message", extra={"uid": message.uid, "reason": result.reason})
