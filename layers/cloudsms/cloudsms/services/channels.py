"""Business channels: the operator's carrier routes and how to reach their gateways.

A channel's credentials (gateway username and password, and the secret that
authenticates its receipts) live only in Secrets Manager: they are never stored in a
table, returned by the API or logged; a channel's view says `has_credentials` at most.

Prices are kept as integer micro-dollars per segment (domain/money.py), so
that counters can add them atomically and exactly; the API reads and writes them as
decimal strings of US dollars ("0.0035").
"""

import contextlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from cloudsms.adapters.secrets import get_secret, put_secret, read_secret
from cloudsms.answers import first_page_total, first_page_total_exact
from cloudsms.cache import ttl_cache
from cloudsms.carriers.http_json import HttpJsonConfig
from cloudsms.carriers.receipts import error_code_key
from cloudsms.domain import content, money, phone, urls
from cloudsms.errors import BadRequest, Conflict, Forbidden, NotFound, cut, shown
from cloudsms.ids import new_secret
from cloudsms.services.pages import counted, decode_last_key, first_page, one_page
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, utcnow
from cloudsms.store.channels import ChannelModel
from cloudsms.store.tenants import TenantModel
from cloudsms.validation import validated

GATEWAY_TYPES = ("simulator", "kannel", "jasmin", "http_json")
# Kannel hands each part of a long message to the SMSC as a message of its own, and an
# SMPP SMSC reports each part; the others report a long message once.
_RECEIPTS_PER_PART = {"kannel": True}
# How long a change of credentials may hold them: a read and two writes take well under
# a second, so this only matters after a crash midway.
CREDENTIALS_CLAIM = timedelta(seconds=30)
# Gateways whose every request logs in with the channel's username (the simulator speaks
# Kannel's dialect); an http_json hub's mapping uses it only if it names {username}.
_LOGS_IN = frozenset({"simulator", "kannel", "jasmin"})
ALL_DIRECTIONS = frozenset(d.value for d in phone.Direction)
MAX_ROUTE_ID = 64
_ROUTE_ID = rf"^[A-Za-z0-9_-]{{1,{MAX_ROUTE_ID}}}$"


@dataclass(frozen=True, kw_only=True)
class ChannelRoute:
    """What a channel is, without its credentials: enough to choose and price a route.
    Read from the channel's item alone, so the functions that only check a route (the
    send API, a mission's ingest and dispatch) need no access to its secret."""

    route_id: str
    gateway_type: str
    endpoint: str
    default_sender: str | None
    throughput: int
    directions: frozenset[str] = ALL_DIRECTIONS
    price_default: int = 0  # micro-USD per segment
    prices: dict[str, int] = field(default_factory=dict)  # country calling code -> micro-USD
    receipts_per_part: bool = False
    http_json: HttpJsonConfig | None = None
    # Paused by the operator: its messages wait on the queue until it is resumed.
    paused: bool = False
    # What the carrier's receipt error codes mean, keyed by error_code_key.
    error_reasons: dict[str, str] = field(default_factory=dict)
    # The share of its final receipts DELIVRD under which the hourly sweep reports it;
    # None: the stack's channel_delivery_floor.
    delivery_floor: float | None = None

    def carries(self, direction: phone.Direction) -> bool:
        return direction.value in self.directions

    def error_reason(self, code: str | None) -> str | None:
        """What the carrier says a receipt's error code means, if the operator wrote it."""
        return self.error_reasons.get(error_code_key(code)) if code else None

    def segment_price(self, e164: str) -> int:
        """Micro-USD per segment to this number: its country's price, else the default."""
        return _segment_price(self.price_default, self.prices, e164)


@dataclass(frozen=True, kw_only=True)
class Channel(ChannelRoute):
    """A channel with its gateway credentials, for the functions that call its gateway
    or check its receipts."""

    username: str
    password: str = field(repr=False)
    receipt_secret: str = field(repr=False)
    # The receipt secret before the last rotation, and until when it still counts.
    previous_receipt_secret: str | None = field(default=None, repr=False)
    previous_receipt_secret_until: datetime | None = None

    def accepts_receipt_secret(self, secret: str | None, now: datetime) -> bool:
        """Whether a receipt's secret is the channel's, or the one it had before the last
        rotation while messages sent with that one may still get receipts."""
        if not secret:
            return False
        if hmac.compare_digest(secret.encode(), self.receipt_secret.encode()):
            return True
        previous, until = self.previous_receipt_secret, self.previous_receipt_secret_until
        return bool(
            previous
            and until
            and now < until
            and hmac.compare_digest(secret.encode(), previous.encode())
        )


# --- what the operator writes -------------------------------------------------------------


MAX_PRICE_USD = Decimal(1_000_000)  # 12 digits, 6 of them decimals


class Pricing(BaseModel):
    """Price per segment in US dollars, by country calling code, with a default."""

    model_config = ConfigDict(extra="forbid")

    default: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=6)
    by_country: dict[str, Decimal] = Field(
        default_factory=dict, description='country calling code -> USD, e.g. {"63": "0.012"}'
    )

    @field_validator("by_country")
    @classmethod
    def _countries(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, price in value.items():
            # isdecimal, not isdigit: "²" is a digit no int() reads. And a few digits
            # (a code has 1 to 3): past 4,300 int() refuses to read them either.
            known = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
            if not code.isdecimal() or len(code) > 9 or int(code) not in known:
                raise ValueError(f"{shown(code)} is not a country calling code")
            if str(int(code)) != code:
                # A number's code is looked up as "63": a price under "063" never applies.
                raise ValueError(
                    f"write the country calling code {shown(code)} as {str(int(code))!r}"
                )
            # The default's bounds: a price in micros must fit the number DynamoDB stores
            # (1e300 would be refused on write, a 500).
            if not 0 <= price < MAX_PRICE_USD or price.as_tuple().exponent < -6:  # type: ignore[operator]
                raise ValueError(
                    f"the price for {code} must be ≥ 0 and under 1,000,000 with at most 6 decimals"
                )
        return value


def _valid_receipt_secret(value: SecretStr | None) -> SecretStr | None:
    """A secret a receipt URL carries in its query: long enough not to be guessed, and
    nothing a URL or a gateway's configuration would mangle."""
    if value is None:
        return None
    secret = value.get_secret_value()
    if not 16 <= len(secret) <= 200:
        raise ValueError(f"must be 16 to 200 characters long, not {len(secret)}")
    if any(character.isspace() or not character.isprintable() for character in secret):
        raise ValueError("must hold no spaces or control characters")
    return value


def _valid_endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    # The endpoint is stored, answered and shown in errors: credentials in it would be too.
    if "@" in parts.netloc:
        raise ValueError(
            "must not hold credentials (user:password@): give them as username and password"
        )
    if "?" in value or "#" in value:
        raise ValueError(
            "must not have a query or a fragment, which could hold secrets: give credentials "
            "as username and password"
        )
    problem = urls.url_problem(value)
    if problem:
        raise ValueError(problem)
    return value.rstrip("/")


def _login_missing(gateway_type: str | None, field: str, value: str) -> str | None:
    """Why a channel cannot have this username or password (None: it can). A gateway that
    logs in refuses every message without one; an empty password is also what a script
    piping an unset variable gives."""
    if gateway_type in _LOGS_IN and not value.strip():
        return f"{gateway_type} gateways need a {field}"
    return None


def _valid_sender(value: str | None) -> str | None:
    """The rules of a message's own sender id: a channel's default stands in for it."""
    reason = content.validate_sender(value)
    if reason:
        raise ValueError(reason)
    return value


MAX_ERROR_CODES = 1000
ERROR_CODES = (
    "what the carrier's receipt error codes (err) mean, as its documentation says: "
    '{"001": "Unknown subscriber"}; shown as a failed message\'s reason'
)


DELIVERY_FLOOR = (
    "the share of the channel's final receipts of an hour (20 at least) that must be "
    "DELIVRD, under which the hourly sweep reports it (ChannelsDeliveringPoorlyAlarm); "
    "0: never; null: the stack's ChannelDeliveryFloor"
)


def _delivery_floor_field() -> Any:
    # Strict: JSON's true is no share (lax, pydantic reads it as 1), nor is "0.9"; and
    # NaN, which Python's JSON reads, passes no comparison and would judge nothing.
    return Field(None, ge=0, le=1, strict=True, allow_inf_nan=False, description=DELIVERY_FLOOR)


def _valid_error_codes(codes: dict[str, str] | None) -> dict[str, str] | None:
    if codes is None:
        return None
    if len(codes) > MAX_ERROR_CODES:
        raise ValueError(f"at most {MAX_ERROR_CODES} codes, not {len(codes)}")
    seen: dict[str, str] = {}
    for code, reason in codes.items():
        if not code.strip() or len(code) > 32:
            raise ValueError(f"an error code has 1 to 32 characters: {shown(code)}")
        if not reason.strip() or len(reason) > 100 or not reason.isprintable():
            raise ValueError(f"the meaning of {code} is one line of 1 to 100 characters")
        key = error_code_key(code)
        if key in seen:
            raise ValueError(f"{seen[key]!r} and {code!r} are the same code")
        seen[key] = code
    return {code.strip(): reason.strip() for code, reason in codes.items()}


class ChannelFields(BaseModel):
    """POST /v1/admin/channels."""

    model_config = ConfigDict(extra="forbid")

    route_id: str = Field(pattern=_ROUTE_ID, description="the channel's route id")
    gateway_type: str = Field(description=" | ".join(GATEWAY_TYPES))
    endpoint: str = Field(description="the gateway's base URL")
    # Checked when absent too: a gateway that logs in refuses every message without one.
    username: str = Field("", max_length=200, validate_default=True)
    password: SecretStr = Field(
        SecretStr(""), validate_default=True, description="kept in Secrets Manager"
    )
    receipt_secret: SecretStr | None = Field(
        None, description="authenticates receipts (16-200 characters); generated when absent"
    )
    default_sender: str | None = Field(None, max_length=15)
    # Strict: JSON's true is no rate (lax, pydantic reads it as 1).
    throughput: int = Field(
        0, ge=0, le=100_000, strict=True, description="segments per second; 0: none"
    )
    directions: list[phone.Direction] = Field(
        default_factory=lambda: list(phone.Direction), min_length=1
    )
    prices_usd: Pricing = Pricing()
    receipts_per_part: bool | None = Field(
        None, description="one receipt per part of a long message (default: Kannel only)"
    )
    error_codes: dict[str, str] = Field(default_factory=dict, description=ERROR_CODES)
    http_json: HttpJsonConfig | None = None
    delivery_floor: float | None = _delivery_floor_field()

    _error_codes = field_validator("error_codes")(_valid_error_codes)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _valid_endpoint(value)

    @field_validator("username", "password")
    @classmethod
    def _login(cls, value: str | SecretStr, info: ValidationInfo) -> str | SecretStr:
        # gateway_type is checked before (fields are checked in order); absent if refused.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        reason = _login_missing(info.data.get("gateway_type"), str(info.field_name), text)
        if reason:
            raise ValueError(reason)
        return value

    _receipt_secret = field_validator("receipt_secret")(_valid_receipt_secret)

    @field_validator("default_sender")
    @classmethod
    def _default_sender(cls, value: str | None) -> str | None:
        return _valid_sender(value)

    @field_validator("gateway_type")
    @classmethod
    def _gateway_type(cls, value: str) -> str:
        if value not in GATEWAY_TYPES:
            raise ValueError(f"must be one of {', '.join(GATEWAY_TYPES)}")
        return value


def _boolean_only(schema: dict[str, Any]) -> None:
    schema.pop("anyOf", None)
    schema["type"] = "boolean"


class ChannelChanges(BaseModel):
    """PATCH /v1/admin/channels/{route_id}: only what is given changes."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = None
    username: str | None = Field(None, max_length=200)
    password: SecretStr | None = None
    default_sender: str | None = Field(None, max_length=15)
    throughput: int | None = Field(None, ge=0, le=100_000, strict=True)
    directions: list[phone.Direction] | None = Field(None, min_length=1)
    prices_usd: Pricing | None = None
    receipts_per_part: bool | None = None
    error_codes: dict[str, str] | None = Field(
        None, description=ERROR_CODES + "; replaces every meaning the channel had"
    )
    http_json: HttpJsonConfig | None = None
    delivery_floor: float | None = _delivery_floor_field()
    # Strict: only JSON's true and false, not "no" (which lax pydantic reads as false);
    # null is refused too (_paused), so the document says boolean.
    paused: bool | None = Field(
        None,
        strict=True,
        description="true: hold the channel's messages on the queue (none are sent, none "
        "fail) until it is set back to false; takes effect within seconds",
        json_schema_extra=_boolean_only,
    )
    receipt_secret: SecretStr | None = Field(
        None, description="a receipt secret of your own (replaces the current)"
    )
    new_receipt_secret: bool = Field(
        False, strict=True, description="true: generate a new receipt secret"
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return None if value is None else _valid_endpoint(value)

    _error_codes = field_validator("error_codes")(_valid_error_codes)
    _receipt_secret = field_validator("receipt_secret")(_valid_receipt_secret)

    @field_validator("default_sender")
    @classmethod
    def _default_sender(cls, value: str | None) -> str | None:
        return _valid_sender(value)

    @field_validator("paused")
    @classmethod
    def _paused(cls, value: bool | None) -> bool | None:
        # Checked only when given: a null would read as a resume to one and as no change
        # to another.
        if value is None:
            raise ValueError("must be true or false")
        return value

    @model_validator(mode="after")
    def _one_receipt_secret(self) -> "ChannelChanges":
        if self.receipt_secret is not None and self.new_receipt_secret:
            raise ValueError("give receipt_secret or new_receipt_secret, not both")
        return self


# --- creating and changing ----------------------------------------------------------------


def create_channel(fields: ChannelFields) -> dict[str, Any]:
    if (fields.gateway_type == "http_json") != (fields.http_json is not None):
        raise BadRequest("http_json is required for, and only for, gateway type http_json")
    model = ChannelModel(
        route_id=fields.route_id,
        gateway_type=fields.gateway_type,
        endpoint=fields.endpoint,
        secret_name=get_settings().channel_secret_prefix + fields.route_id,
        default_sender=fields.default_sender,
        throughput=fields.throughput,
        directions={d.value for d in fields.directions},
        price_default=money.micros(fields.prices_usd.default),
        prices={code: money.micros(p) for code, p in fields.prices_usd.by_country.items()},
        receipts_per_part=fields.receipts_per_part,
        error_codes=fields.error_codes or None,
        http_json=fields.http_json.model_dump(mode="json") if fields.http_json else None,
        delivery_floor=fields.delivery_floor,
    )
    try:
        model.save(condition=ChannelModel.route_id.does_not_exist())
    except PutError as exc:
        if not lost_a_race(exc):
            raise
        raise Conflict(f"channel {fields.route_id} already exists") from exc
    receipt_secret = fields.receipt_secret.get_secret_value() if fields.receipt_secret else None
    credentials = {
        "username": fields.username,
        "password": fields.password.get_secret_value(),
        # Authenticates the gateway's receipts: it travels in the receipt URL's query.
        "receipt_secret": receipt_secret or new_secret(),
    }
    try:
        put_secret(model.secret_name, credentials)
    except Exception:
        # A channel without credentials could send nothing: take it back.
        _delete_quietly(model)
        raise
    return channel_view(model)


def add_channel(
    route_id: str,
    gateway_type: str,
    endpoint: str,
    username: str,
    password: str,
    default_sender: str | None = None,
    throughput: int = 0,
    **more: Any,
) -> dict[str, Any]:
    """`create_channel` from plain values (the console command, the local stack, tests)."""
    fields = validated(
        ChannelFields,
        {
            "route_id": route_id,
            "gateway_type": gateway_type,
            "endpoint": endpoint,
            "username": username,
            "password": password,
            "default_sender": default_sender,
            "throughput": throughput,
            **more,
        },
    )
    return create_channel(fields)


def change_channel(route_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """`update_channel` from plain values (the console command)."""
    return update_channel(route_id, validated(ChannelChanges, changes))


def update_channel(route_id: str, changes: ChannelChanges) -> dict[str, Any]:
    item = _fresh_item(route_id)
    given = changes.model_fields_set
    mapped = changes.http_json is not None
    if "http_json" in given and (item.gateway_type == "http_json") != mapped:
        raise BadRequest("http_json is required for, and only for, gateway type http_json")
    password = None if changes.password is None else changes.password.get_secret_value()
    for name, value in (("username", changes.username), ("password", password)):
        reason = None if value is None else _login_missing(item.gateway_type, name, value)
        if reason:
            raise BadRequest(f"{name}: {reason}", details=[{"field": name, "reason": reason}])
    actions: list[Action] = [ChannelModel.updated_at.set(utcnow())]
    if changes.endpoint is not None:
        actions.append(ChannelModel.endpoint.set(changes.endpoint))
    if "default_sender" in given:
        actions.append(_set_or_remove(ChannelModel.default_sender, changes.default_sender))
    if changes.throughput is not None:
        actions.append(ChannelModel.throughput.set(changes.throughput))
    if changes.directions is not None:
        actions.append(ChannelModel.directions.set({d.value for d in changes.directions}))
    if changes.prices_usd is not None:
        by_country = {code: money.micros(p) for code, p in changes.prices_usd.by_country.items()}
        actions.append(ChannelModel.price_default.set(money.micros(changes.prices_usd.default)))
        actions.append(ChannelModel.prices.set(by_country))  # type: ignore[arg-type]
    if "receipts_per_part" in given:
        # null: back to the gateway type's default
        per_part = changes.receipts_per_part
        actions.append(_set_or_remove(ChannelModel.receipts_per_part, per_part))
    if changes.error_codes is not None:
        actions.append(_set_or_remove(ChannelModel.error_codes, changes.error_codes or None))
    if changes.http_json is not None:
        actions.append(ChannelModel.http_json.set(changes.http_json.model_dump(mode="json")))
    if "delivery_floor" in given:
        # null: back to the stack's
        actions.append(_set_or_remove(ChannelModel.delivery_floor, changes.delivery_floor))
    if changes.paused is not None:
        actions.append(ChannelModel.paused.set(changes.paused))
    rotating = changes.receipt_secret is not None or changes.new_receipt_secret
    condition = ChannelModel.route_id.exists()
    if changes.username is not None or changes.password is not None or rotating:
        # A read, change and write of the secret: two at once would each write back
        # what they read and lose the other's change, so it is made under a claim.
        claim = _claim_credentials(item)
        # The secret first, then the version that makes functions read it again: a
        # function never pairs a new endpoint with an old password for longer than the
        # channel's cache time.
        credentials = read_secret(item.secret_name)
        if changes.username is not None:
            credentials["username"] = changes.username
        if changes.password is not None:
            credentials["password"] = changes.password.get_secret_value()
        if rotating:
            _rotate_receipt_secret(credentials, changes.receipt_secret)
        put_secret(item.secret_name, credentials)
        actions.append(ChannelModel.credentials_version.add(1))
        actions.append(ChannelModel.credentials_claim.remove())
        actions.append(ChannelModel.credentials_claimed_until.remove())
        condition &= ChannelModel.credentials_claim == claim
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        _fresh_item(route_id)  # NotFound when it is gone
        raise Conflict(
            f"channel {route_id}'s credentials were changed by another request meanwhile: "
            "read the channel and try again"
        ) from exc
    return channel_view(item)


def _claim_credentials(item: ChannelModel) -> str:
    """Claims the right to change a channel's credentials for a while (a change that
    crashes midway must not hold them for ever); 409 while another change holds it."""
    claim = new_secret()
    now = utcnow()
    try:
        item.update(
            actions=[
                ChannelModel.credentials_claim.set(claim),
                ChannelModel.credentials_claimed_until.set(now + CREDENTIALS_CLAIM),
            ],
            condition=ChannelModel.route_id.exists()
            & (
                ChannelModel.credentials_claim.does_not_exist()
                | (ChannelModel.credentials_claimed_until < now)
            ),
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        _fresh_item(item.route_id)  # NotFound when it is gone
        raise Conflict(
            f"channel {item.route_id}'s credentials are being changed by another request: "
            "try again in a moment"
        ) from exc
    return claim


def _rotate_receipt_secret(credentials: dict[str, Any], given: SecretStr | None) -> None:
    """A new receipt secret. Messages already handed over carry the old one in their
    receipt URL, so it is still accepted for as long as their receipts may come (the
    receipt timeout)."""
    hours = get_settings().receipt_timeout_hours
    credentials["previous_receipt_secret"] = credentials["receipt_secret"]
    credentials["previous_receipt_secret_until"] = (utcnow() + timedelta(hours=hours)).isoformat()
    credentials["receipt_secret"] = given.get_secret_value() if given else new_secret()


def assign_channel(tenant_id: str, route_id: str) -> None:
    """Lets a tenant send through a channel."""
    _fresh_item(route_id)
    try:
        TenantModel(tenant_id).update(
            actions=[TenantModel.channels.add({route_id})],
            condition=TenantModel.tenant_id.exists(),
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        raise NotFound(f"tenant {cut(tenant_id)} does not exist") from exc


def unassign_channel(tenant_id: str, route_id: str) -> None:
    """Takes a channel away from a tenant: a 404 for one the tenant does not have, so a
    mistyped route id is not taken for done. Whether the channel itself exists is not
    asked first: one assigned can always be taken away."""
    try:
        TenantModel(tenant_id).update(
            actions=[TenantModel.channels.delete({route_id})],
            condition=TenantModel.tenant_id.exists() & TenantModel.channels.contains(route_id),
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        try:
            TenantModel.get(tenant_id)
        except DoesNotExist:
            raise NotFound(f"tenant {cut(tenant_id)} does not exist") from exc
        _fresh_item(route_id)  # 404 for a channel that does not exist
        raise NotFound(
            f"channel {cut(route_id)} is not assigned to tenant {cut(tenant_id)}"
        ) from exc


# --- reading ------------------------------------------------------------------------------


# --- what the operator reads ----------------------------------------------------------------


class Prices(BaseModel):
    """Price per segment, US dollars as decimal strings (exact)."""

    default: str
    by_country: dict[str, str] = Field(description="country calling code -> USD")


class BusinessChannel(BaseModel):
    """A business channel (the operator's); its credentials never leave Secrets Manager."""

    route_id: str
    gateway_type: str = Field(json_schema_extra={"enum": list(GATEWAY_TYPES)})
    endpoint: str
    default_sender: str | None
    throughput: int = Field(description="Segments per second; 0: none")
    directions: list[phone.Direction]
    prices_usd: Prices
    receipts_per_part: bool = Field(description="Whether the gateway sends a receipt per part")
    error_codes: dict[str, str] = Field(description=ERROR_CODES)
    http_json: HttpJsonConfig | None = Field(description="Only for gateway type http_json")
    paused: bool = Field(
        description="Whether its messages are held on the queue, none sent, until resumed"
    )
    delivery_floor: float | None = Field(description=DELIVERY_FLOOR)
    has_credentials: bool
    created_at: datetime
    updated_at: datetime | None


class BusinessChannels(BaseModel):
    """GET /v1/admin/channels"""

    channels: list[BusinessChannel]
    next_cursor: str | None
    total: int = first_page_total()
    total_exact: bool = first_page_total_exact()


def channel_view(item: ChannelModel) -> dict[str, Any]:
    prices = item.prices.as_dict() if item.prices else {}
    return {
        "route_id": item.route_id,
        "gateway_type": item.gateway_type,
        "endpoint": item.endpoint,
        "default_sender": item.default_sender,
        "throughput": int(item.throughput),
        "directions": sorted(item.directions or ALL_DIRECTIONS),
        "prices_usd": {
            "default": money.usd(int(item.price_default)),
            "by_country": {code: money.usd(int(p)) for code, p in sorted(prices.items())},
        },
        "receipts_per_part": _receipts_per_part(item),
        "error_codes": _error_codes(item),
        "http_json": item.http_json,
        "paused": bool(item.paused),
        "delivery_floor": _delivery_floor(item),
        # the credentials themselves never leave Secrets Manager
        "has_credentials": True,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
    }


def read_channel(route_id: str) -> dict[str, Any]:
    return channel_view(_fresh_item(route_id))


def all_channels() -> list[dict[str, Any]]:
    """Every channel (the console command): an operator's handful of routes, so a scan."""
    return [channel_view(item) for item in ChannelModel.scan()]


def list_channels(size: int, cursor: str | None) -> dict[str, Any]:
    """Every channel, a page at a time: an operator's handful of routes, so a scan."""
    start = decode_last_key(cursor, None, ("route_id",))
    found, next_cursor = one_page(
        ChannelModel.scan(limit=size + 1, last_evaluated_key=start), size, ("route_id",)
    )
    answer = {"channels": [channel_view(item) for item in found], "next_cursor": next_cursor}
    every = ChannelModel.scan(attributes_to_get=["route_id"])
    return first_page(answer, cursor, lambda: counted(every))


# A warm function picks up a changed channel (its limit, prices, endpoint, credentials,
# whether it is paused) within this many seconds; reading it costs one GetItem per
# function copy this often, looked up ahead in the background, so that no message waits
# for it.
CHANNEL_CACHE_SECONDS = 5


@ttl_cache(CHANNEL_CACHE_SECONDS, refresh_ahead=2.0)
def _channel_item(route_id: str) -> ChannelModel:
    return _fresh_item(route_id)


def check_channel(tenant: TenantModel, route_id: str, direction: phone.Direction) -> None:
    """Whether the tenant may send `direction` messages through the channel: assigned to
    it (else 403), and carrying that direction (else 400)."""
    check_assigned(tenant, route_id)
    if not get_route(route_id).carries(direction):
        raise BadRequest(f"channel {route_id} does not carry {direction.value} messages")


def check_assigned(tenant: TenantModel, route_id: str) -> None:
    """Whether the channel is assigned to the tenant (else 403)."""
    if route_id not in (tenant.channels or set()):
        raise Forbidden(f"channel {route_id} is not assigned to this tenant")


def get_route(route_id: str) -> ChannelRoute:
    """The channel without its credentials."""
    return _route(_channel_item(route_id))


def get_route_now(route_id: str) -> ChannelRoute:
    """The channel without its credentials, read now rather than through the cache: for
    a reader that reads it once in a long run (the hourly sweep), to which a change made
    a second before applies."""
    return _route(_fresh_item(route_id))


def get_channel(route_id: str) -> Channel:
    """The channel with its credentials. A secret is cached by its version, which the
    channel item names, so new credentials are read as soon as the item is."""
    return _with_credentials(_channel_item(route_id))


def get_channel_now(route_id: str) -> Channel:
    """The channel with its credentials as they are now, not as a function read them
    within the cache's seconds (a receipt secret changed meanwhile)."""
    try:
        item = ChannelModel.get(route_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"channel {cut(route_id)} does not exist") from exc
    return _with_credentials(item)


def _with_credentials(item: ChannelModel) -> Channel:
    secret = get_secret(item.secret_name, int(item.credentials_version or 0))
    return Channel(
        **vars(_route(item)),
        username=secret["username"],
        password=secret["password"],
        receipt_secret=secret["receipt_secret"],
        previous_receipt_secret=secret.get("previous_receipt_secret"),
        previous_receipt_secret_until=_moment(secret.get("previous_receipt_secret_until")),
    )


def _route(item: ChannelModel) -> ChannelRoute:
    prices = item.prices.as_dict() if item.prices else {}
    return ChannelRoute(
        route_id=item.route_id,
        gateway_type=item.gateway_type,
        endpoint=item.endpoint,
        default_sender=item.default_sender,
        throughput=int(item.throughput),
        directions=frozenset(item.directions or ALL_DIRECTIONS),
        price_default=int(item.price_default),
        prices={code: int(p) for code, p in prices.items()},
        receipts_per_part=_receipts_per_part(item),
        http_json=HttpJsonConfig.model_validate(item.http_json) if item.http_json else None,
        paused=bool(item.paused),
        error_reasons={error_code_key(code): r for code, r in _error_codes(item).items()},
        delivery_floor=_delivery_floor(item),
    )


def _delivery_floor(item: ChannelModel) -> float | None:
    return None if item.delivery_floor is None else float(item.delivery_floor)


def _error_codes(item: ChannelModel) -> dict[str, str]:
    return dict(sorted(item.error_codes.as_dict().items())) if item.error_codes else {}


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def message_cost(route_id: str, to: str, segments: int) -> int:
    """What a message costs in micro-USD: its segments at its country's price. Read
    from the channel's item alone: the counters need no gateway credentials."""
    return get_route(route_id).segment_price(to) * int(segments)


def _segment_price(default: int, prices: Mapping[str, Any], e164: str) -> int:
    """Micro-USD per segment to this number: its country's price, else the default."""
    try:
        country = str(phone.country_code(e164))
    except phone.InvalidNumber:
        return default
    return int(prices.get(country, default))


def _fresh_item(route_id: str) -> ChannelModel:
    # A route id no channel can have (a query's, a body's: empty, or 100 KB) is not looked
    # up: DynamoDB refuses an empty key or one that long with an error (a 500).
    if not 0 < len(route_id) <= MAX_ROUTE_ID:
        raise NotFound(f"channel {cut(route_id)} does not exist")
    try:
        return ChannelModel.get(route_id)
    except DoesNotExist as exc:
        raise NotFound(f"channel {cut(route_id)} does not exist") from exc


def _receipts_per_part(item: ChannelModel) -> bool:
    if item.receipts_per_part is not None:
        return bool(item.receipts_per_part)
    return _RECEIPTS_PER_PART.get(item.gateway_type, False)


def _set_or_remove(attribute: Any, value: Any) -> Action:
    return attribute.remove() if value is None or value == "" else attribute.set(value)


def _delete_quietly(model: ChannelModel) -> None:
    with contextlib.suppress(DeleteError):
        model.delete()
