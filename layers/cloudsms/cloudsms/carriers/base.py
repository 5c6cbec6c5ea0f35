"""The one interface every carrier gateway adapter implements."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cloudsms.domain.states import DrState


@dataclass(frozen=True)
class Submission:
    """One message as a gateway needs it."""

    uid: str  # our message id; travels in the dlr-url so the receipt finds the message
    tenant_id: str
    to: str  # E.164 with the leading "+"
    text: str  # the rendered text, signature included
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    sender: str | None
    receipt_url: str  # where the gateway posts the delivery receipt (already authenticated)


@dataclass(frozen=True)
class SubmitResult:
    accepted: bool
    carrier_message_id: str | None = None
    reason: str | None = None
    # a temporary failure (timeout, 5xx, throttled) is retried; a permanent one is final
    temporary: bool = False


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt as parsed from any gateway's callback."""

    state: DrState
    uid: str | None = None  # our id when the gateway echoes it (dlr-url query)
    carrier_message_id: str | None = None
    error_code: str | None = None
    done_at: datetime | None = None
    raw: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Gateway(Protocol):
    def submit(self, submission: Submission) -> SubmitResult: ...
