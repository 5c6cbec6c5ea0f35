"""Reading messages back: what GET /v1/sms/{uid} and the dispatching log show."""

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from cloudsms.domain import phone
from cloudsms.domain.states import DrState, outcome
from cloudsms.errors import NotFound
from cloudsms.store.messages import MessageModel


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
        raise NotFound(f"message {uid} not found") from exc
