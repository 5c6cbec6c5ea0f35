"""Reading messages back: what GET /v1/sms/{uid} and the dispatching log show."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from pynamodb.exceptions import DoesNotExist

from cloudsms.domain import phone
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import DrState, Outcome, outcome
from cloudsms.domain.text import Encoding
from cloudsms.errors import NotFound, cut
from cloudsms.store.messages import MessageModel

# What several answers say of a message, in the same words.
STATUS = "The SMS Status: what the delivery state means for the reader"
DR_STATE = "The delivery state, as the carrier's receipt names it"
ERROR_CODE = "The carrier's error code from its receipt, if it gave one"
REASON = "Why it failed (the gateway's or the platform's words), if it did"
ENCODING = "GSM-7, or UCS-2 when a character is not in the GSM alphabet"
ROUTE_ID = "The route id of the channel it went through"


class Message(BaseModel):
    """GET /v1/sms/{uid}: one message (the whole number: the tenant's own request)."""

    uid: str
    to: str = Field(description="E.164")
    country_code: int
    status: Outcome = Field(description=STATUS)
    dr_state: DrState = Field(description=DR_STATE)
    error_code: str | None = Field(description=ERROR_CODE)
    reason: str | None = Field(description=REASON)
    text: str = Field(description="As sent: the signature and any unsubscribe text included")
    encoding: Encoding = Field(description=ENCODING)
    segments: int
    sms_type: SmsType
    sender: str | None = Field(description="Sender id (OA)")
    route_id: str = Field(description=ROUTE_ID)
    reference: str | None = Field(description="The reference the request gave")
    created_at: datetime
    submitted_at: datetime | None = Field(description="When the gateway accepted it")
    receipt_at: datetime | None = Field(description="When its last receipt came")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_view(message: MessageModel) -> dict[str, Any]:
    return {
        "uid": message.uid,
        "to": message.to,
        "country_code": phone.country_code(message.to),
        "status": outcome(DrState(message.dr_state)).value,
        "dr_state": message.dr_state,
        "error_code": message.error_code,
        "reason": message.reason,
        "text": message.text,
        "encoding": message.encoding,
        "segments": int(message.segments),
        "sms_type": message.sms_type,
        "sender": message.sender,
        "route_id": message.channel,
        "reference": message.reference,
        "created_at": _time(message.created_at),
        "submitted_at": _time(message.submitted_at),
        "receipt_at": _time(message.receipt_at),
    }


def get_message(tenant_id: str, uid: str) -> dict[str, Any]:
    # Keyed by the caller's tenant: another tenant's uid is simply not found.
    try:
        return message_view(MessageModel.get(tenant_id, uid))
    except DoesNotExist as exc:
        raise NotFound(f"message {cut(uid)} not found") from exc
