"""Handing queued messages to their carrier gateways.

Two kinds of submit-queue message: one-off sends carry the UIDs of messages stored when
they were accepted; missions carry their rendered recipients, and each message is
stored as it is submitted. Either way a message is claimed by one conditional write
before its gateway is called, so a redelivered queue message never sends it twice.
"""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cloudsms.adapters import queues
from cloudsms.cache import ttl_cache
from cloudsms.carriers.base import Gateway, Submission, SubmitResult
from cloudsms.carriers.registry import gateway_for, receipt_url
from cloudsms.domain import phone
from cloudsms.domain.states import DrState
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.channels import Channel, get_channel
from cloudsms.services.quiet_hours import seconds_until_open
from cloudsms.services.scheduling import sending_window
from cloudsms.settings import get_settings
from cloudsms.store.messages import MessageModel
from cloudsms.store.tenants import TenantModel

GatewayFactory = Callable[[Channel], Gateway]
# SQS delays a message by at most 15 minutes; a longer wait is several such hops.
MAX_QUEUE_DELAY_SECONDS = 900


class RetryLater(Exception):
    """Some message of the batch hit a temporary failure: SQS should deliver it again."""


def submit_queue_message(
    body: dict[str, Any],
    now: Callable[[], datetime],
    gateway_factory: GatewayFactory = gateway_for,
) -> None:
    if "recipients" in body:
        submit_mission_recipients(body, now, gateway_factory)
    else:
        submit_queued(body["tenant_id"], body["uids"], now, gateway_factory)


def submit_queued(
    tenant_id: str,
    uids: list[str],
    now: Callable[[], datetime],
    gateway_factory: GatewayFactory = gateway_for,
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
        if not _submit(message, gateway_factory, now):
            retry.append(message.uid)
    if retry:
        raise RetryLater(f"{len(retry)} message(s) hit a temporary gateway failure")


@ttl_cache(60)
def _tenant(tenant_id: str) -> TenantModel:
    return TenantModel.get(tenant_id)


def submit_mission_recipients(
    body: dict[str, Any],
    now: Callable[[], datetime],
    gateway_factory: GatewayFactory = gateway_for,
) -> None:
    tenant_id, mission_id = body["tenant_id"], body["mission_id"]
    expires_at = int(time.time()) + get_settings().message_retention_days * 86400
    held: list[tuple[float, dict[str, Any]]] = []
    retry = []
    window = sending_window(_tenant(tenant_id)) if body.get("quiet_hours") else None
    for recipient in body["recipients"]:
        if window is not None:
            wait = seconds_until_open(recipient["to"], now(), window)
            if wait > 0:
                held.append((wait, recipient))
                continue
        message = MessageModel(
            tenant_id=tenant_id,
            uid=recipient["uid"],
            to=recipient["to"],
            text=recipient["text"],
            encoding=recipient["encoding"],
            segments=recipient["segments"],
            sms_type=body["sms_type"],
            channel=body["channel"],
            sender=body.get("sender"),
            mission_id=mission_id,
            mission_key=f"{tenant_id}#{mission_id}",
            dispatch_day=body["dispatch_day"],
            dr_state=DrState.SUBMITTING.value,
            created_at=now(),
            submitted_at=now(),
            expires_at=expires_at,
        )
        if not transitions.create_claimed(message):
            message = MessageModel.get(tenant_id, recipient["uid"])
            if message.dr_state != DrState.QUEUED.value or not transitions.claim(message, now()):
                continue
        if not _submit(message, gateway_factory, now):
            retry.append(message.uid)
    if held:
        _hold(body, held)
    if retry:
        raise RetryLater(f"{len(retry)} message(s) hit a temporary gateway failure")


def _hold(body: dict[str, Any], held: list[tuple[float, dict[str, Any]]]) -> None:
    """Puts recipients outside their local window back on the queue, delayed."""
    delay = int(min(min(wait for wait, _ in held), MAX_QUEUE_DELAY_SECONDS))
    queues.enqueue(
        queues.queue_for(body["sms_type"]),
        [{**body, "recipients": [r for _, r in held]}],
        delay_seconds=delay,
    )
    logger.info("recipients held for their quiet hours", extra={"count": len(held), "delay": delay})


def _submit(
    message: MessageModel, gateway_factory: GatewayFactory, now: Callable[[], datetime]
) -> bool:
    """Submits a claimed message; False when it hit a temporary failure and was released."""
    channel = get_channel(message.channel)
    result = gateway_factory(channel).submit(_submission(message, channel))
    if result.accepted:
        _record_submitted(message, result, now())
    elif result.temporary:
        transitions.release(message, result.reason or "temporary failure")
        return False
    else:
        _record_refused(message, result)
    return True


def _submission(message: MessageModel, channel: Channel) -> Submission:
    return Submission(
        uid=message.uid,
        tenant_id=message.tenant_id,
        to=message.to,
        text=message.text,
        encoding=message.encoding,
        segments=int(message.segments),
        sender=message.sender or channel.default_sender,
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
    logger.info("submitted", extra={"uid": message.uid, "to": phone.mask(message.to)})


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
    logger.warning(
        "gateway refused the message", extra={"uid": message.uid, "reason": result.reason}
    )
