"""A mission's fields and statuses, as the portal's "Add Bulk Dispatch SMS" form has them."""

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudsms.answers import CountedPage, sometimes
from cloudsms.domain import content
from cloudsms.domain.content import CONTENT_MAX, SENDER_MAX, SignaturePosition
from cloudsms.domain.phone import Direction
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import DrState, Outcome
from cloudsms.domain.text import Encoding


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
    # Bounded: DynamoDB refuses a key over 1,024 bytes with an error (a 500), not "none".
    template_id: str | None = Field(
        None, max_length=64, description="Use a saved template's content"
    )
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


# --- answers (see cloudsms.answers) ---------------------------------------------------------


class MissionProgress(BaseModel):
    """How far the mission's messages are: counted as their states change."""

    submitted: int = Field(description="Accepted by the gateway")
    delivered: int
    failed: int
    no_notification: int = Field(description="No final receipt in time")
    pending: int = Field(description="Not settled yet; 0 once cancelled or failed")


class Mission(BaseModel):
    """A mission: GET /v1/missions/{mission_id}, and what changing it answers."""

    mission_id: str
    name: str
    direction: Direction
    sms_type: SmsType
    content: str = Field(description="With its ${Var} variables (a template's, if it used one)")
    variables: list[str] = Field(description="The content's variables, in order")
    template_id: str | None
    sender: str | None = Field(description="Sender id (OA); null: the channel's default")
    signature: str | None
    signature_position: SignaturePosition
    allow_unsubscribe: bool
    recipient_quiet_hours: bool
    channel: str = Field(description="Route id of the channel")
    status: MissionStatus
    failure_reason: str | None = Field(description="Why it failed, when it did")
    dispatch_at: datetime | None = Field(description="When it is sent; null: at once")
    dispatching_date: datetime | None = Field(description="When it was dispatched")
    phone_number_amount: int = Field(description="Numbers it sends to")
    failure_amount: int = Field(description="Abnormal rows of its list")
    blacklist_amount: int = Field(description="Blacklisted numbers left out")
    segments: int = Field(description="SMS its messages are charged as")
    progress: MissionProgress
    created_at: datetime
    updated_at: datetime


class CreatedMission(Mission):
    """POST /v1/missions: the mission created."""

    upload_url: str = sometimes(
        "Only when created without its list (JSON): PUT the list's file to this presigned "
        "URL before it expires; the mission stays Uploading until it arrives"
    )


class MissionPage(CountedPage[Mission]):
    """GET /v1/missions: newest first."""


class MissionMessage(BaseModel):
    """One of a mission's messages (the number masked, as in the dispatching log)."""

    uid: str
    country_code: int
    phone_number: str = Field(description="The national number, its middle starred")
    text: str
    segments: int
    status: Outcome
    dr_state: DrState
    error_code: str | None
    reason: str | None
    submitted_at: datetime | None
    receipt_at: datetime | None


class MissionMessagePage(CountedPage[MissionMessage]):
    """GET /v1/missions/{mission_id}/messages: in the rows' order."""


class AbnormalRecipient(BaseModel):
    """A row of the number list that cannot be sent to."""

    row: int = Field(description="Its row in the file, counting the header row")
    raw: str = Field(description="The phone number cell as written")
    reason: str


class AbnormalPage(CountedPage[AbnormalRecipient]):
    """GET /v1/missions/{mission_id}/abnormal"""


class PreviewSample(BaseModel):
    """One of the first recipients, as its message would be sent."""

    row: int = Field(description="Its row in the file, counting the header row")
    to: str = Field(description="E.164")
    text: str = Field(description="Rendered: variables filled, signature added")
    encoding: Encoding
    segments: int
    ucs2_reason: str | None = Field(description="Why it is UCS-2, for the writer; null: GSM-7")


class MissionPreview(BaseModel):
    """POST /v1/missions/preview: what creating the mission would find."""

    payment_refusal: str | None = Field(
        description="Why the tenant's orders would refuse to pay for it; null: they would"
    )
    variables: list[str] = Field(description="The content's variables, in order")
    columns_matched_by: Literal["header", "position"] = Field(
        description="header: the list's header names the variables; else by column order"
    )
    phone_number_amount: int = Field(description="Numbers it would send to")
    failure_amount: int = Field(description="Abnormal rows")
    blacklist_amount: int = Field(description="Blacklisted numbers left out")
    segments: int = Field(description="SMS its messages would be charged as")
    encodings: dict[Encoding, int] = Field(description="Messages per encoding")
    samples: list[PreviewSample] = Field(description="The first 5 recipients")
    abnormal: list[AbnormalRecipient] = Field(description="The first 100 abnormal rows")


class BlacklistedRecipient(BaseModel):
    """A number of the list left out as blacklisted (when staged, or at dispatch)."""

    row: int
    country_code: int
    phone_number: str = Field(description="The national number, its middle starred")


class BlacklistedPage(CountedPage[BlacklistedRecipient]):
    """GET /v1/missions/{mission_id}/blacklisted"""
