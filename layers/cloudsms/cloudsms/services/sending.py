"""Accepting one-off messages from the Web API and queueing them for submission."""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pynamodb.exceptions import UpdateError

from cloudsms.adapters import queues
from cloudsms.domain import content, phone, text
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import DrState
from cloudsms.errors import BadRequest, Unavailable
from cloudsms.ids import new_uid
from cloudsms.observability import logger
from cloudsms.services import blacklist, counters, orders
from cloudsms.services.channels import check_assigned, get_route
from cloudsms.services.tenants import check_enabled, check_sender
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.base import lost_a_race
from cloudsms.store.messages import MessageModel
from cloudsms.store.tenants import TenantModel


class SendRequest(BaseModel):
    """POST /v1/sms: one text to 1-100 recipients."""

    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(min_length=1, max_length=100, description="Phone numbers, E.164 best")
    text: str = Field(min_length=1, max_length=content.CONTENT_MAX)
    sms_type: SmsType
    channel: str = Field(min_length=1, max_length=64, description="Route id of the channel")
    sender: str | None = Field(
        None, description="Sender id (OA)", json_schema_extra={"maxLength": content.SENDER_MAX}
    )
    signature: str | None = None
    signature_position: Literal["start", "end"] = "start"
    reference: str | None = Field(None, max_length=64, description="Your own reference")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        reason = content.validate_sender(value)
        if reason:
            raise ValueError(reason)
        return value

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str | None) -> str | None:
        reason = content.validate_signature(value)
        if reason:
            raise ValueError(reason)
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if content.variables(value):
            raise ValueError("the text holds ${…} variables; variables are filled in missions")
        reason = content.validate_content(value)
        if reason:
            raise ValueError(reason)
        return value


RecipientStatus = Literal["queued", "rejected"]


@dataclass(frozen=True)
class RecipientResult:
    to: str
    status: RecipientStatus
    uid: str | None = None
    encoding: str | None = None
    segments: int | None = None
    reason: str | None = None


# A RecipientResult, described for the OpenAPI document.
class RecipientAnswer(BaseModel):
    """What became of one recipient of POST /v1/sms."""

    to: str = Field(description="E.164 once read as a number; else as given")
    status: RecipientStatus = Field(description="queued: being sent; rejected: see reason")
    uid: str | None = Field(description="The message's uid, to follow it; null when rejected")
    encoding: text.Encoding | None = Field(description="null when rejected")
    segments: int | None = Field(description="SMS it is charged as; null when rejected")
    reason: str | None = Field(description="Why it was rejected; null when queued")


class SendAnswer(BaseModel):
    """POST /v1/sms: each recipient, in the order of `to`."""

    messages: list[RecipientAnswer]


BLACKLISTED = blacklist.LISTED
NOT_STORED = "the request failed while its messages were stored"
QUEUE_UNAVAILABLE = "the submit queue was unavailable"


class NoValidRecipient(BadRequest):
    """Not one recipient can be sent to: each one's result says why."""

    def __init__(self, results: list[RecipientResult]):
        super().__init__(
            "no recipient is valid", details=[{"to": r.to, "reason": r.reason} for r in results]
        )
        self.results = results


def not_carried(route_id: str, direction: phone.Direction) -> str:
    return f"channel {route_id} does not carry {direction.value} messages"


def _direction(e164: str) -> phone.Direction:
    if phone.country_code(e164) == phone.CHINA:
        return phone.Direction.MAINLAND_CHINA
    return phone.Direction.INTERNATIONAL


def _render(request: SendRequest, e164: str) -> str:
    return content.render(
        request.text,
        {},
        request.signature,
        request.signature_position,
        _direction(e164),
        allow_unsubscribe=False,
    )


def send_sms(tenant: TenantModel, request: SendRequest, now: datetime) -> list[RecipientResult]:
    """Validates each recipient, stores the valid ones as QUEUED and queues them.

    Invalid recipients are answered with their reason, as are those in a direction the
    channel does not carry, in a country the tenant may not send to, or blacklisted (the
    tenant's list or the operator's); the valid ones are sent.
    """
    # The authorizer keeps a resolved key a minute; the tenant read here is current, so a
    # tenant the operator cut off sends nothing more from that moment.
    check_enabled(tenant)
    # Each recipient's direction is checked against the channel below, one by one.
    check_assigned(tenant, request.channel)
    check_sender(tenant, request.sender)
    channel = get_route(request.channel)
    settings = get_settings()
    day = counters.local_day(now, tenant.time_zone)
    expires_at = int(time.time()) + settings.message_retention_days * 86400

    numbers: list[str | phone.InvalidNumber] = []
    for raw in request.to:
        try:
            numbers.append(phone.normalise(raw))
        except phone.InvalidNumber as exc:
            numbers.append(exc)
    blacklisted = blacklist.listed(tenant.tenant_id, [n for n in numbers if isinstance(n, str)])

    results: list[RecipientResult] = []
    messages: list[MessageModel] = []
    for raw, e164 in zip(request.to, numbers, strict=True):
        if isinstance(e164, phone.InvalidNumber):
            results.append(RecipientResult(to=raw, status="rejected", reason=str(e164)))
            continue
        if not channel.carries(_direction(e164)):
            reason = not_carried(channel.route_id, _direction(e164))
            results.append(RecipientResult(to=e164, status="rejected", reason=reason))
            continue
        # The tenant read above carries its countries: no request more per message.
        not_allowed = phone.not_allowed(e164, tenant.countries)
        if not_allowed:
            results.append(RecipientResult(to=e164, status="rejected", reason=not_allowed))
            continue
        if e164 in blacklisted:
            results.append(RecipientResult(to=e164, status="rejected", reason=BLACKLISTED))
            continue
        rendered = _render(request, e164)
        info = text.analyse(rendered)
        message = MessageModel(
            tenant_id=tenant.tenant_id,
            uid=new_uid(),
            to=e164,
            text=rendered,
            encoding=info.encoding,
            segments=info.segments,
            sms_type=request.sms_type.value,
            channel=channel.route_id,
            sender=request.sender or channel.default_sender,
            reference=request.reference,
            dispatch_day=day,
            dr_state=DrState.QUEUED.value,
            created_at=now,
            expires_at=expires_at,
        )
        messages.append(message)
        results.append(
            RecipientResult(
                to=e164,
                status="queued",
                uid=message.uid,
                encoding=info.encoding,
                segments=info.segments,
            )
        )
    if not messages:
        raise NoValidRecipient(results)

    payers = orders.charge(tenant, channel.route_id, [int(m.segments) for m in messages], now)
    for message, order_number in zip(messages, payers, strict=True):
        message.order_number = order_number
    try:
        batches.put(MessageModel, messages)
    except Exception:
        # 25 messages a request: those of the requests before the one that failed are
        # stored, and no queue will ever carry them. They are refused (a refused
        # message's SMS go back to its order, through the messages' stream); the SMS of
        # the others are given back here.
        unstored = [m for m in messages if not _refuse_queued(m, NOT_STORED)]
        for order_number in {m.order_number for m in unstored}:
            segments = sum(int(m.segments) for m in unstored if m.order_number == order_number)
            orders.give_back(tenant.tenant_id, order_number, segments)
        raise
    _enqueue(tenant.tenant_id, request.sms_type, messages)
    # Its uids tie the request (its correlation id) to every later line about a message.
    logger.info(
        "messages queued",
        extra={
            "tenant_id": tenant.tenant_id,
            "channel": channel.route_id,
            "uids": [m.uid for m in messages],
            "count": len(messages),
            "rejected": len(results) - len(messages),
        },
    )
    return results


def _enqueue(tenant_id: str, sms_type: SmsType, messages: list[MessageModel]) -> None:
    size = get_settings().recipients_per_queue_message
    uids = [m.uid for m in messages]
    bodies = [
        {"tenant_id": tenant_id, "uids": uids[i : i + size]} for i in range(0, len(uids), size)
    ]
    try:
        queues.enqueue(queues.queue_for(sms_type), bodies)
    except Exception as exc:
        # Never leave a stored message that no queue will ever carry: refuse each one a
        # consumer has not taken yet (a first batch may have been queued and taken).
        logger.exception("enqueue failed; refusing the messages")
        refused = sum(_refuse_queued(message, QUEUE_UNAVAILABLE) for message in messages)
        if refused == len(messages):
            raise Unavailable("the submit queue is unavailable; nothing was sent") from exc
        raise Unavailable(
            f"the submit queue is unavailable; {refused} of {len(messages)} messages were"
            " refused, the others are being sent"
        ) from exc


def _refuse_queued(message: MessageModel, reason: str) -> bool:
    """QUEUED → LOCAL_REJECTED; False for a message a consumer took (it is being sent) or
    one that was never stored."""
    try:
        message.update(
            actions=[
                MessageModel.dr_state.set(DrState.LOCAL_REJECTED.value),
                MessageModel.reason.set(reason),
            ],
            condition=MessageModel.dr_state == DrState.QUEUED.value,
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        return False
    return True
