"""A mission's fields and statuses, as the portal's "Add Bulk Dispatch SMS" form has them."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudsms.domain import content
from cloudsms.domain.content import CONTENT_MAX, SENDER_MAX, SignaturePosition
from cloudsms.domain.phone import Direction
from cloudsms.domain.sms_type import SmsType


class MissionStatus(StrEnum):
    UPLOADING = "Uploading"  # waiting for its number list to arrive in S3
    SCHEDULED = "Scheduled"  # staged, waiting for its dispatch time
    UNSENT = "Unsent"  # staged, about to be dispatched
    SENDING = "Sending"  # being fanned out to the submit queue
    SENT = "Sent"  # every recipient is on the submit queue
    CANCELLED = "Cancelled"
    FAILED = "Failed"  # its number list could not be used; failure_reason says why

    @classmethod
    def _missing_(cls, value: object) -> "MissionStatus | None":
        # A filter may say "sent" for "Sent".
        if isinstance(value, str):
            for status in cls:
                if status.value.lower() == value.lower():
                    return status
        return None


def _checked(reason: str | None, value: Any) -> Any:
    if reason:
        raise ValueError(reason)
    return value


class MissionFields(BaseModel):
    """What a tenant says about a mission; the number list comes separately."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=content.MISSION_NAME_MAX)
    direction: Direction
    sms_type: SmsType
    channel: str = Field(min_length=1, max_length=64, description="Route id of the channel")
    template_id: str | None = Field(None, description="Use a saved template's content")
    # The lengths are checked by the validators below, in words of their own; the schema
    # says them too, for clients built from the OpenAPI document.
    content: str | None = Field(
        None,
        description="Content with ${Var} variables",
        json_schema_extra={"maxLength": CONTENT_MAX},
    )
    sender: str | None = Field(
        None, description="Sender id (OA)", json_schema_extra={"maxLength": SENDER_MAX}
    )
    signature: str | None = None
    signature_position: SignaturePosition = SignaturePosition.START
    allow_unsubscribe: bool = False
    dispatch_at: str | None = Field(
        None,
        description="ISO 8601 time to send at; without an offset it is read in the tenant's "
        "time zone. Absent: sent at once.",
    )
    recipient_quiet_hours: bool = Field(
        False,
        description="Marketing only: hold each message until the sending window opens in "
        "the recipient's own time zone.",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # Portal forms send empty fields as "": that means "not given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _checked(content.validate_mission_name(value), value)  # type: ignore[no-any-return]

    @field_validator("content")
    @classmethod
    def _content(cls, value: str | None) -> str | None:
        return _checked(content.validate_content(value) if value else None, value)  # type: ignore[no-any-return]

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        return _checked(content.validate_sender(value), value)  # type: ignore[no-any-return]

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str | None) -> str | None:
        return _checked(content.validate_signature(value), value)  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _content_or_template(self) -> "MissionFields":
        if bool(self.content) == bool(self.template_id):
            raise ValueError("give either content or template_id")
        if self.recipient_quiet_hours and self.sms_type != SmsType.MARKETING:
            raise ValueError("recipient_quiet_hours is for marketing missions only")
        return self
