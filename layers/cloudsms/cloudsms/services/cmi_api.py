"""The CMI CloudSMS Web API: the JSON that clients written for the carrier's CloudSMS
POST to its "Rest URL", read and answered in that API's own shape.

Such a client sends `{"METHOD": "SMS_SEND_REQUEST", "AUTH_KEY": …, "ROUTE_ID": …,
"SMS_CONTENT": …, "MULTI_MSISDN_LIST": [{"DEST_MSISDN", "COUNTRY_CODE"}], …}` (or the same
in a `uip_head`/`uip_body` envelope) and reads `RESULT_CODE` (1 is success), `RESULT_DESC`
and a `SMS_UID` per number; `DR_QUERY` asks after those uids. Pointing the client at
`POST /v1/cmi` is all it takes to move it here: the request becomes the Web API's own
`SendRequest` and goes through `send_sms`, so both APIs share every rule, price and
refusal. The shapes are in ../shared/CARRIERS.md and README.md ("The CMI CloudSMS Web API").

The key travels in the body, so the route has no authorizer: the key is resolved here,
as the authorizer resolves one from a header.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from pydantic import BaseModel, Field, RootModel, ValidationError, field_validator

from cloudsms import validation
from cloudsms.domain import phone
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import DrState, Outcome, outcome
from cloudsms.errors import (
    CloudSmsError,
    Conflict,
    Forbidden,
    KeyReused,
    NotFound,
    TooManyRequests,
)
from cloudsms.observability import logger
from cloudsms.services import sending
from cloudsms.services.authorization import resolve
from cloudsms.services.sending import RecipientResult, SendRequest
from cloudsms.services.tenants import PASSWORD_CHANGE, get_tenant
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from cloudsms.store.tenants import TenantModel

SEND = "SMS_SEND_REQUEST"
QUERY = "DR_QUERY"
VERSION = "2021-01-01"  # the flat envelope's VERSION
UIP_VERSION = 2  # the uip envelope's uip_version
MAX_RECIPIENTS = 100  # as POST /v1/sms
MAX_UIDS = 100
MAX_COUNTRY_CODE_DIGITS = 3
UID = re.compile(r"[0-9A-F]{30}")  # ids.new_uid's and ids.mission_message_uid's

# RESULT_CODE: 1 is success, as CMI clients test it. The API names no other code, so
# every failure is 0 and RESULT_DESC says which (the names CMI clients know), with a
# REASON in words for the person reading the log.
OK = 1
FAILED = 0

# RESULT_DESC values (CMI's own spelling, "INVALIDE" included).
DESC_OK = "OK"
BUSY = "BUSY"
EMPTY_DATA = "EMPTY_DATA"
CHANNEL_NOT_EXIST = "CHANNEL_NOT_EXIST"
INVALID_PARAMETER = "INVALIDE_PARAMETER"
INVALID_CONTEXT = "INVALID_CONTEXT"
SEND_FAILED = "SEND_FAILED"
QUEUE_TOO_LARGE = "QUEUE_TO_LARGE"
INTERCEPT = "INTERCEPT"  # blacklisted
UNPRICED_AREA = "UNPRICED_AREA"
INVALID_VERSION = "INVALID_VERSION"
# Not among the names CMI's clients show; a key that is missing, unknown or revoked.
INVALID_AUTH_KEY = "INVALID_AUTH_KEY"

# The Web API's field names, as a CMI client knows them, for the reasons that name one.
_FIELDS = {"text": "SMS_CONTENT", "sender": "ORIGINAL_ADDR", "signature": "SIGNATURE"}
_TIME = "%Y-%m-%d %H:%M:%S"


class CmiRecipient(BaseModel):
    """One number of MULTI_MSISDN_LIST."""

    DEST_MSISDN: str | int = Field(description="The national number (a trunk 0 may lead it)")
    COUNTRY_CODE: int | str


class CmiFields(BaseModel):
    """What a method reads besides the envelope. Fields not named here are ignored."""

    # None as well: Java clients (Jackson's default) write every unset field as null.
    PRIORITY: int | None = Field(
        0, ge=0, description="Above 0, without SMS_TYPE: a verify code; null is 0"
    )
    SMS_TYPE: SmsType | None = Field(
        None, description="CloudSMS's own (any case): the SMS type; default business"
    )
    SMS_CONTENT: str | None = Field(None, description="SMS_SEND_REQUEST: the text")
    ORIGINAL_ADDR: str | None = Field(None, description="The sender id (OA)")
    SIGNATURE: str | None = Field(None, description="Put before the text")
    SMS_UID: list[str] | str | None = Field(None, description="DR_QUERY: the messages")

    @field_validator("SMS_TYPE", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class CmiRequest(CmiFields):
    """The flat envelope."""

    METHOD: Literal["SMS_SEND_REQUEST", "DR_QUERY"]
    TYPE: Literal["REQUEST"] = "REQUEST"
    SERIAL: int | str | None = Field(None, description="Repeated in the answer")
    TIME: Any = Field(None, description="The client's time, in any form; not used")
    AUTH_KEY: str = Field(min_length=1, description="The tenant's API key")
    VERSION: Literal["2021-01-01"]
    ROUTE_ID: str | None = Field(None, description="SMS_SEND_REQUEST: the channel's route id")
    MULTI_MSISDN_LIST: list[CmiRecipient] | None = Field(None, description="The numbers")


class CmiUipHead(BaseModel):
    METHOD: Literal["SMS_SEND_REQUEST", "DR_QUERY"]
    SERIAL: int | str | None = Field(None, description="Repeated in the answer")
    TIME: Any = Field(None, description="The client's time, in any form; not used")
    CHANNEL: str | None = Field(None, description="SMS_SEND_REQUEST: the channel's route id")
    AUTH_KEY: str = Field(min_length=1, description="The tenant's API key")


class CmiUipBody(CmiFields):
    DESTINATION_ADDR: list[str | int] | None = Field(
        None, description="The numbers, each its country code then the number"
    )


class CmiUipRequest(BaseModel):
    """The uip envelope."""

    uip_head: CmiUipHead
    uip_body: CmiUipBody
    uip_version: Literal[2]


class CmiRequests(RootModel[CmiRequest | CmiUipRequest]):
    """SMS_SEND_REQUEST or DR_QUERY, in either envelope."""


class CmiDetail(BaseModel):
    """One number sent to, or one message asked after."""

    RESULT_CODE: int = Field(description="1: sent (SMS_SEND_REQUEST) or found (DR_QUERY)")
    RESULT_DESC: str = Field(description="OK, or the refusal's name: INTERCEPT (blacklisted), …")
    REASON: str | None = Field(None, description="Why it was refused, in words")
    SMS_UID: str | None = Field(None, description="The message's uid (30 characters)")
    DEST_MSISDN: str | int | None = Field(None, description="As the request wrote it")
    COUNTRY_CODE: int | str | None = None
    DESTINATION_ADDR: str | int | None = Field(None, description="The uip envelope's number")
    STATUS: Outcome | None = Field(None, description="DR_QUERY: the SMS Status")
    DR_STATE: DrState | None = Field(None, description="DR_QUERY: the delivery state")
    ERROR_CODE: str | None = Field(None, description="DR_QUERY: the carrier's error code")
    SUBMIT_TIME: str | None = Field(None, description="DR_QUERY: in the tenant's time zone")
    DONE_TIME: str | None = Field(None, description="DR_QUERY: its last receipt's time")


class CmiResult(BaseModel):
    RESULT_CODE: int = Field(description="1 is success; 0 a refusal, named by RESULT_DESC")
    RESULT_DESC: str = Field(
        description="OK, INVALIDE_PARAMETER, EMPTY_DATA, INVALID_VERSION, INVALID_CONTEXT, "
        "INVALID_AUTH_KEY, CHANNEL_NOT_EXIST, QUEUE_TO_LARGE, INTERCEPT, UNPRICED_AREA, "
        "SEND_FAILED, BUSY"
    )
    REASON: str | None = Field(None, description="Why the request was refused, in words")
    DETAIL_LIST: list[CmiDetail]


class CmiHead(BaseModel):
    METHOD: str | None
    TYPE: Literal["ANSWER"]
    SERIAL: int | str | None
    TIME: str = Field(description="YYYY-MM-DD HH:MM:SS, in the tenant's time zone")


class CmiAnswer(CmiResult, CmiHead):
    """The flat envelope's answer."""


class CmiUipAnswer(BaseModel):
    uip_head: CmiHead
    uip_body: CmiResult
    uip_version: Literal[2]


class CmiAnswers(RootModel[CmiAnswer | CmiUipAnswer]):
    """The answer, in the request's envelope. A refusal answers with its HTTP status and
    this same shape."""


class Failure(Exception):
    """A refusal of the whole request: its HTTP status, RESULT_DESC and reason."""

    def __init__(self, status: int, desc: str, reason: str, details: list[dict] | None = None):
        super().__init__(reason)
        self.status = status
        self.desc = desc
        self.reason = reason
        self.details = details or []


@dataclass
class Request:
    """A CMI request, whichever envelope it came in."""

    uip: bool  # the uip_head/uip_body envelope, answered in the same
    method: str = ""
    serial: Any = None
    auth_key: str = ""
    route_id: str | None = None
    fields: CmiFields = field(default_factory=lambda: CmiFields.model_validate({}))


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    # A refusal's headers: Retry-After, when the tenant's request limit refused it.
    headers: dict[str, str] = field(default_factory=dict)


# Sends a SendRequest for a tenant once per Idempotency-Key: the handler's `once`.
SendOnce = Callable[[TenantModel, SendRequest], list[dict[str, Any]]]


def answer(raw: bytes, now: datetime, send_once: SendOnce) -> Answer:
    """The answer to one CMI request, `raw` its body."""
    request = Request(uip=False)
    zone = ""  # until the key names a tenant
    try:
        document = _document(raw)
        request = _echo(document)
        request = read(document)
        tenant = _tenant(request.auth_key)
        zone = tenant.time_zone
        if request.method == SEND:
            details = _send(tenant, request, send_once)
        else:
            details = _query(tenant, request)
    except Failure as failure:
        return _answer(request, now, zone or _zone_of(request.auth_key), failure)
    except CloudSmsError as error:
        status, desc = _desc(error)
        refused = _answer(
            request, now, zone or _zone_of(request.auth_key), Failure(status, desc, error.message)
        )
        return replace(refused, headers=error.headers())
    return _answer(request, now, zone, details=details)


def _zone_of(auth_key: str) -> str:
    """The time zone of the tenant whose key a refused request carries, as every other
    answer's TIME is in; UTC when the key names no tenant."""
    principal = resolve(auth_key) if auth_key else None
    if principal is None:
        return "UTC"
    try:
        return get_tenant(principal.tenant_id).time_zone
    except CloudSmsError:
        return "UTC"


def _document(raw: bytes) -> Any:
    try:
        return validation.loads_json(raw)
    except ValueError as error:
        raise Failure(400, INVALID_PARAMETER, "the body is not valid JSON") from error


def _echo(document: Any) -> Request:
    """What an answer repeats of a request that may not be readable: its envelope, METHOD
    and SERIAL."""
    if not isinstance(document, dict):
        return Request(uip=False)
    uip = isinstance(document.get("uip_head"), dict)
    head = document["uip_head"] if uip else document
    method = head.get("METHOD")
    serial = head.get("SERIAL")
    # Repeated only when it is what SERIAL may be: anything else (a list nested a few
    # hundred deep, say) is what made the request unreadable, and serialising it back
    # could fail the answer itself.
    if not isinstance(serial, str | int) or isinstance(serial, bool):
        serial = None
    # The key too, for the answer's TIME to be in the tenant's time zone even when the
    # rest of the request cannot be read.
    key = head.get("AUTH_KEY")
    return Request(
        uip=uip,
        method=method if method in (SEND, QUERY) else "",
        serial=serial,
        auth_key=key if isinstance(key, str) else "",
    )


def read(document: Any) -> Request:
    """The request in either envelope, or the Failure naming what is wrong with it."""
    if not isinstance(document, dict):
        raise Failure(400, INVALID_PARAMETER, "the body must be a JSON object")
    uip = "uip_head" in document
    try:
        parsed = (CmiUipRequest if uip else CmiRequest).model_validate(document)
    except ValidationError as error:
        raise _invalid(error) from error
    if isinstance(parsed, CmiUipRequest):
        head = parsed.uip_head
        return Request(True, head.METHOD, head.SERIAL, head.AUTH_KEY, head.CHANNEL, parsed.uip_body)
    return Request(False, parsed.METHOD, parsed.SERIAL, parsed.AUTH_KEY, parsed.ROUTE_ID, parsed)


def _invalid(error: ValidationError) -> Failure:
    """The first problem pydantic found, under the CMI API's name for it."""
    [first, *_] = error.errors()
    [detail] = validation.details([first])
    name = str(first["loc"][-1]) if first["loc"] else ""
    reason = f"{detail['field']}: {detail['reason']}"
    if name in ("VERSION", "uip_version"):
        return Failure(400, INVALID_VERSION, reason)
    if name in ("METHOD", "TYPE"):
        return Failure(400, INVALID_CONTEXT, reason)
    return Failure(400, INVALID_PARAMETER, reason)


def _tenant(key: str) -> TenantModel:
    principal = resolve(key)
    if principal is None:
        # The same words for a key never issued, revoked or of a disabled tenant, as 401s
        # from the authorizer are.
        raise Failure(401, INVALID_AUTH_KEY, "AUTH_KEY is not a valid API key")
    if principal.role == PASSWORD_CHANGE:
        # As api.caller refuses it on every other route: a portal session opened with a
        # temporary password may only change that password.
        reason = "AUTH_KEY is a session that logged in with a temporary password: change it first"
        raise Failure(403, INVALID_AUTH_KEY, reason)
    return get_tenant(principal.tenant_id)


# --- SMS_SEND_REQUEST -------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    given: dict[str, Any]  # the number as the client wrote it, echoed in its DETAIL_LIST
    to: str | None  # what the Web API reads; None for a number refused here
    reason: str | None = None  # why it was refused here


def _send(tenant: TenantModel, request: Request, send_once: SendOnce) -> list[dict[str, Any]]:
    route = "uip_head.CHANNEL" if request.uip else "ROUTE_ID"
    if not request.route_id:
        raise Failure(400, INVALID_PARAMETER, f"{route} is missing")
    if request.route_id not in (tenant.channels or set()):
        reason = f"{route} {request.route_id} is not a channel of this tenant"
        raise Failure(403, CHANNEL_NOT_EXIST, reason)
    recipients = _recipients(request)
    sendable = [r.to for r in recipients if r.to is not None]
    sent: list[dict[str, Any]] = []
    if sendable:
        try:
            sent = send_once(tenant, _send_request(request, sendable))
        except sending.NoValidRecipient as refused:
            sent = results_view(refused.results)
    answered = iter(sent)
    details = [
        _detail(
            recipient,
            next(answered) if recipient.to is not None else _refused(recipient),
            str(request.route_id),
        )
        for recipient in recipients
    ]
    if not any(d["RESULT_CODE"] == OK for d in details):
        raise Failure(400, details[0]["RESULT_DESC"], "no number can be sent to", details)
    return details


def _refused(recipient: Recipient) -> dict[str, Any]:
    """The result of a number refused before the Web API saw it, in its shape."""
    return {"status": "rejected", "uid": None, "reason": recipient.reason}


def _recipients(request: Request) -> list[Recipient]:
    fields = request.fields
    given: list[Any]
    if isinstance(fields, CmiUipBody):
        name, given = "DESTINATION_ADDR", fields.DESTINATION_ADDR or []
        read_one: Callable[[Any], Recipient] = _destination_addr
    else:
        assert isinstance(fields, CmiRequest)
        name, given = "MULTI_MSISDN_LIST", fields.MULTI_MSISDN_LIST or []
        read_one = _msisdn
    if not given:
        raise Failure(400, EMPTY_DATA, f"{name} has no number")
    if len(given) > MAX_RECIPIENTS:
        reason = f"{name} has {len(given)} numbers; at most {MAX_RECIPIENTS}"
        raise Failure(400, QUEUE_TOO_LARGE, reason)
    return [read_one(item) for item in given]


def _msisdn(item: CmiRecipient) -> Recipient:
    """{"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63}: the national number (a trunk
    0 may lead it, and some clients repeat the country code) and its country code. Either
    may be written as people write numbers ("+63", "0921 534-7566", "+639215347566");
    a number that is none is refused alone, as POST /v1/sms refuses it, and the others
    are sent."""
    given = {"DEST_MSISDN": item.DEST_MSISDN, "COUNTRY_CODE": item.COUNTRY_CODE}
    try:
        _, code = phone.written_digits(item.COUNTRY_CODE)
    except phone.InvalidNumber:
        return Recipient(given, None, "COUNTRY_CODE is not a country code")
    if len(code.lstrip("0")) > MAX_COUNTRY_CODE_DIGITS:
        # None has more; and past 4,300 digits int() would raise rather than read it.
        return Recipient(given, None, "COUNTRY_CODE is not a country code")
    try:
        plus, number = phone.written_digits(item.DEST_MSISDN)
    except phone.InvalidNumber as invalid:
        return Recipient(given, None, str(invalid))
    region = phonenumbers.region_code_for_country_code(int(code))
    try:
        # With "+" it carries its own country code, which must be the one COUNTRY_CODE names.
        parsed = phonenumbers.parse(f"+{number}" if plus else number, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if plus and parsed is not None and parsed.country_code != int(code):
        return Recipient(given, None, "DEST_MSISDN has another country code than COUNTRY_CODE")
    if parsed is not None and parsed.country_code == int(code):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return Recipient(given, e164)
    # Sent on as written, for the Web API to refuse with its reason.
    return Recipient(given, f"+{number}" if plus else f"+{int(code)}{number}")


def _destination_addr(item: str | int) -> Recipient:
    """ "639215347566", "+639215347566" or "0063 921 534 7566": the country code, then
    the number, read as POST /v1/sms reads it (which refuses what is not a number)."""
    if isinstance(item, int) and item < 0:
        return Recipient({"DESTINATION_ADDR": item}, None, phone.NOT_VALID)
    return Recipient({"DESTINATION_ADDR": item}, str(item))


def _send_request(request: Request, to: list[str]) -> SendRequest:
    fields = request.fields
    if not fields.SMS_CONTENT:
        raise Failure(400, EMPTY_DATA, "SMS_CONTENT is empty")
    if fields.SMS_TYPE is not None:
        sms_type = fields.SMS_TYPE
    else:
        # The CMI API has no SMS type: a client marks what must go first by its priority.
        sms_type = SmsType.VERIFY_CODE if (fields.PRIORITY or 0) > 0 else SmsType.BUSINESS
    try:
        return SendRequest(
            to=to,
            text=fields.SMS_CONTENT,
            sms_type=sms_type,
            channel=str(request.route_id),
            sender=fields.ORIGINAL_ADDR or None,
            signature=fields.SIGNATURE or None,
            reference=None,
        )
    except ValidationError as error:
        [first, *_] = error.errors()
        [detail] = validation.details([first])
        name = _FIELDS.get(detail["field"], detail["field"])
        raise Failure(400, INVALID_PARAMETER, f"{name}: {detail['reason']}") from error


def _detail(recipient: Recipient, result: dict[str, Any], route_id: str) -> dict[str, Any]:
    if result["status"] == "queued":
        code, desc, reason = OK, DESC_OK, None
    else:
        code, desc, reason = FAILED, _refusal(result["reason"], route_id), result["reason"]
    detail = {**recipient.given, "RESULT_CODE": code, "RESULT_DESC": desc, "SMS_UID": result["uid"]}
    if reason:
        detail["REASON"] = reason
    return detail


def _refusal(reason: str, route_id: str) -> str:
    if reason == sending.BLACKLISTED:
        return INTERCEPT
    if any(reason == sending.not_carried(route_id, d) for d in phone.Direction):
        return UNPRICED_AREA
    # A country the tenant may not send to is, to a CMI client, an area its account has
    # no price for, as a direction its channel does not carry is (INTERCEPT is a number
    # blacklisted).
    if reason.endswith(phone.NOT_ALLOWED):
        return UNPRICED_AREA
    return INVALID_PARAMETER


def results_view(results: list[RecipientResult]) -> list[dict[str, Any]]:
    """What `send_once` keeps of each recipient: its status, uid and reason."""
    return [{"status": r.status, "uid": r.uid, "reason": r.reason} for r in results]


# --- DR_QUERY ---------------------------------------------------------------------------


def _query(tenant: TenantModel, request: Request) -> list[dict[str, Any]]:
    uids = request.fields.SMS_UID
    if isinstance(uids, str):
        uids = [uids]
    if not uids:
        raise Failure(400, EMPTY_DATA, "SMS_UID names no message")
    if len(uids) > MAX_UIDS:
        raise Failure(400, QUEUE_TOO_LARGE, f"SMS_UID has {len(uids)} uids; at most {MAX_UIDS}")
    # Keyed by the caller's tenant: another tenant's uid is simply not found.
    keys = [(tenant.tenant_id, uid) for uid in {_uid(given) for given in uids} if uid]
    found = {m.uid: m for m in batches.get(MessageModel, keys)}
    zone = ZoneInfo(tenant.time_zone)
    return [_report(given, found.get(_uid(given) or ""), zone) for given in uids]


def _uid(given: str) -> str | None:
    """The uid `given` stands for, in any case; None for what cannot be one, which is
    never looked up: DynamoDB refuses a key over 1,024 bytes, or an empty one, with an
    error (a 502), and a client may well send its uids joined into one string."""
    uid = given.strip().upper()
    return uid if UID.fullmatch(uid) else None


def _report(uid: str, message: MessageModel | None, zone: ZoneInfo) -> dict[str, Any]:
    if message is None:
        return {
            "SMS_UID": uid,
            "RESULT_CODE": FAILED,
            "RESULT_DESC": EMPTY_DATA,
            "REASON": "no message of this tenant has this SMS_UID",
        }
    number = phonenumbers.parse(message.to)
    state = DrState(message.dr_state)
    return {
        "SMS_UID": uid,
        "RESULT_CODE": OK,
        "RESULT_DESC": DESC_OK,
        "DEST_MSISDN": phonenumbers.national_significant_number(number),
        "COUNTRY_CODE": number.country_code,
        "STATUS": outcome(state).value,
        "DR_STATE": state.value,
        "ERROR_CODE": message.error_code,
        "REASON": message.reason,
        "SUBMIT_TIME": _local(message.submitted_at, zone),
        "DONE_TIME": _local(message.receipt_at, zone),
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime(_TIME) if moment else None


# --- answers ----------------------------------------------------------------------------


def _desc(error: CloudSmsError) -> tuple[int, str]:
    """A refusal of the Web API's, in the CMI API's names."""
    if isinstance(error, NotFound):
        return 404, CHANNEL_NOT_EXIST  # the only thing a send looks up by name
    if isinstance(error, Forbidden):
        return 403, SEND_FAILED  # the product orders refused it
    if isinstance(error, KeyReused):
        return error.status, INVALID_PARAMETER  # BUSY would have the client send it again
    if isinstance(error, TooManyRequests | Conflict):
        return error.status, BUSY
    if error.status >= 500:
        return error.status, SEND_FAILED
    return error.status, INVALID_PARAMETER


def _answer(
    request: Request,
    now: datetime,
    zone: str,
    refusal: Failure | None = None,
    details: list[dict[str, Any]] | None = None,
) -> Answer:
    """The answer in the request's envelope: a refusal's, or a success's with `details`."""
    result: dict[str, Any]
    if refusal is None:
        result = {"RESULT_CODE": OK, "RESULT_DESC": DESC_OK, "DETAIL_LIST": details or []}
    else:
        logger.info("CMI request refused", extra={"result_desc": refusal.desc})
        result = {
            "RESULT_CODE": FAILED,
            "RESULT_DESC": refusal.desc,
            "REASON": refusal.reason,
            "DETAIL_LIST": refusal.details,
        }
    head = {
        "METHOD": request.method or None,
        "TYPE": "ANSWER",
        "SERIAL": request.serial,
        "TIME": now.astimezone(ZoneInfo(zone)).strftime(_TIME),
    }
    status = refusal.status if refusal else 200
    if request.uip:
        return Answer(status, {"uip_head": head, "uip_body": result, "uip_version": UIP_VERSION})
    return Answer(status, {**result, **head})
