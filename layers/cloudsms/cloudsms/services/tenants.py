"""Tenants and their API keys (and portal sessions, which are keys that expire)."""

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from cloudsms import clock
from cloudsms.domain import content
from cloudsms.errors import BadRequest, Conflict, Forbidden, NotFound, cut, shown
from cloudsms.ids import hash_key, new_api_key, new_key_id
from cloudsms.settings import get_settings
from cloudsms.store.accounts import AccountModel
from cloudsms.store.api_keys import KEY, SESSION, ApiKeyModel
from cloudsms.store.base import lost_a_race, utcnow
from cloudsms.store.tenants import TenantModel
from cloudsms.validation import validated

ROLES = ("tenant", "operator")
# A tenant id is part of S3 keys and of '#'-joined counter keys: no '/', '#' or spaces.
MAX_TENANT_ID = 40
TENANT_ID = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_TENANT_ID - 1}}}")
# The role of a portal session opened with a temporary password: it may change the
# password, read its account and log out, nothing else (services/accounts.py).
PASSWORD_CHANGE = "password_change"


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from an API key by the authorizer."""

    tenant_id: str
    role: str
    key_id: str
    account: str = ""  # a portal session's: the account that logged in


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key: str  # the only time the key itself exists outside the caller's hands


def parse_window(text: str) -> tuple[time, time]:
    """A sending window, "HH:MM-HH:MM" (both ends allowed), as its start and end."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise BadRequest(f"a sending window is written HH:MM-HH:MM, not {shown(text)}") from error
    if start >= end:
        raise BadRequest(f"the sending window {text} ends before it starts")
    return start, end


def _window_text(window: str) -> str:
    start, end = parse_window(window)
    return f"{start:%H:%M}-{end:%H:%M}"


def create_tenant(
    tenant_id: str, name: str, time_zone: str, sending_window: str | None = None
) -> TenantModel:
    if not TENANT_ID.fullmatch(tenant_id):
        raise BadRequest(
            "a tenant id has 1 to 40 lowercase letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    if not name.strip():
        raise BadRequest("a tenant needs a name")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {shown(time_zone)}") from exc
    window = _window_text(sending_window) if sending_window else None
    tenant = TenantModel(tenant_id=tenant_id, name=name, time_zone=time_zone, sending_window=window)
    try:
        tenant.save(condition=TenantModel.tenant_id.does_not_exist())
    except PutError as exc:
        if lost_a_race(exc):
            raise Conflict(f"tenant {tenant_id} already exists") from exc
        raise
    return tenant


def list_tenants() -> list[TenantModel]:
    """Every tenant: a platform has tens or hundreds, so one scan reads them."""
    return sorted(TenantModel.scan(), key=lambda tenant: tenant.tenant_id)


# --- the request limit (services/request_limit.py takes from its bucket) ------------------

# A tenant's bucket is one DynamoDB item, which takes about 1,000 writes a second: a
# higher limit could not be kept (0, not limited, is the way past it), and one tenant's
# messages fill their partition of the Messages table well before it anyway.
MAX_REQUEST_RATE = 1_000
MAX_REQUEST_BURST = 10 * MAX_REQUEST_RATE


@dataclass(frozen=True)
class RequestLimit:
    rate: int  # requests a second; 0: not limited
    burst: int  # requests at once, from a bucket that has rested


class RequestLimitFields(BaseModel):
    """PUT /v1/admin/tenants/{tenant_id}/request-limit; neither field given: the stack's."""

    model_config = ConfigDict(extra="forbid")

    requests_per_second: int | None = Field(
        None,
        ge=0,
        le=MAX_REQUEST_RATE,
        description="Requests that send messages, create or preview missions, a second on "
        "average; "
        "0: not limited; neither field given: the stack's default",
    )
    burst: int | None = Field(
        None,
        ge=1,
        le=MAX_REQUEST_BURST,
        description="Requests at once after a pause; default twice requests_per_second",
    )

    @model_validator(mode="after")
    def _burst_needs_a_rate(self) -> "RequestLimitFields":
        if self.burst is not None and not self.requests_per_second:
            raise ValueError("burst needs a requests_per_second above 0 (0: not limited)")
        return self


class RequestLimitView(BaseModel):
    """A tenant's request limit, as the operator sees it."""

    requests_per_second: int = Field(description="0: not limited")
    burst: int = Field(description="0 when not limited")
    default: bool = Field(description="Whether it is the stack's (TENANT_REQUEST_RATE, _BURST)")


class TenantRequestLimit(RequestLimitView):
    """PUT /v1/admin/tenants/{tenant_id}/request-limit"""

    tenant_id: str


def request_limit(tenant: TenantModel) -> RequestLimit:
    """The operator's limit for the tenant, or the stack's."""
    if tenant.request_rate is None:
        settings = get_settings()
        return RequestLimit(settings.tenant_request_rate, settings.tenant_request_burst)
    return RequestLimit(int(tenant.request_rate), int(tenant.request_burst or 0))


def request_limit_view(tenant: TenantModel) -> dict[str, Any]:
    limit = request_limit(tenant)
    return {
        "requests_per_second": limit.rate,
        "burst": limit.burst if limit.rate else 0,
        "default": tenant.request_rate is None,
    }


def set_request_limit(tenant_id: str, fields: dict[str, Any]) -> TenantModel:
    """The tenant's own request limit, or (neither field given) the stack's again. It
    holds from the tenant's next request on."""
    limit = validated(RequestLimitFields, fields)
    tenant = get_tenant(tenant_id)
    rate = limit.requests_per_second
    actions: list[Action]
    if rate is None:
        actions = [TenantModel.request_rate.remove(), TenantModel.request_burst.remove()]
    elif rate == 0:
        actions = [TenantModel.request_rate.set(0), TenantModel.request_burst.remove()]
    else:
        burst = limit.burst or min(2 * rate, MAX_REQUEST_BURST)
        actions = [TenantModel.request_rate.set(rate), TenantModel.request_burst.set(burst)]
    tenant.update(actions=actions, condition=TenantModel.tenant_id.exists())
    return tenant


class Tenant(BaseModel):
    """A tenant, as the operator sees it."""

    tenant_id: str
    name: str
    time_zone: str
    sending_window: str = Field(
        description="HH:MM-HH:MM in its time zone: when its missions may be scheduled"
    )
    channels: list[str] = Field(description="Route ids of the channels assigned to it")
    sender_ids: list[str] = Field(description="Its registered sender ids; empty: any")
    request_limit: RequestLimitView = Field(
        description="How fast its keys may send messages, create or preview missions"
    )
    countries: list[str] | None = Field(
        description="The countries (ISO 3166-1 alpha-2) it may send to; null: every country"
    )
    created_at: datetime
    disabled_at: datetime | None = Field(description="When the operator cut it off, if so")


class Tenants(BaseModel):
    """GET /v1/admin/tenants"""

    tenants: list[Tenant]


def tenant_view(tenant: TenantModel) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "sending_window": tenant.sending_window or get_settings().default_sending_window,
        "channels": sorted(tenant.channels or set()),
        "sender_ids": sorted(tenant.sender_ids or set()),
        "request_limit": request_limit_view(tenant),
        "countries": countries_view(tenant),
        "created_at": tenant.created_at.isoformat(),
        "disabled_at": tenant.disabled_at.isoformat() if tenant.disabled_at else None,
    }


def disable_tenant(tenant_id: str, now: datetime) -> TenantModel:
    """Cuts a tenant off: its keys and portal sessions stop working (within the
    authorizer's cache time), its accounts cannot log in, its scheduled missions end
    Failed at their time, and its messages not yet handed to a gateway are refused as
    they come to be (services/submission.py). Nothing is deleted, so `enable_tenant`
    undoes it (for what it sends next)."""
    return _set_disabled(tenant_id, now)


def enable_tenant(tenant_id: str) -> TenantModel:
    return _set_disabled(tenant_id, None)


def _set_disabled(tenant_id: str, when: datetime | None) -> TenantModel:
    tenant = get_tenant(tenant_id)
    action = TenantModel.disabled_at.set(when) if when else TenantModel.disabled_at.remove()
    tenant.update(actions=[action], condition=TenantModel.tenant_id.exists())
    return tenant


MAX_SENDER_IDS = 100


def set_sender_ids(tenant_id: str, sender_ids: list[str]) -> TenantModel:
    """Registers the sender ids the tenant may send as (replacing those it had); none:
    any sender id. Carriers refuse, or regulators fine, an alphanumeric sender that is
    not registered to the enterprise using it: one tenant must not send as another
    ("BANK")."""
    if len(sender_ids) > MAX_SENDER_IDS:
        raise BadRequest(f"at most {MAX_SENDER_IDS} sender ids, not {len(sender_ids)}")
    for sender in sender_ids:
        reason = content.validate_sender(sender) if sender else "it is empty"
        if reason:
            raise BadRequest(f"sender id {shown(sender)}: {reason}")
    tenant = get_tenant(tenant_id)
    action = (
        TenantModel.sender_ids.set(set(sender_ids))
        if sender_ids
        else TenantModel.sender_ids.remove()
    )
    tenant.update(actions=[action], condition=TenantModel.tenant_id.exists())
    return tenant


# More than the 245 regions phonenumbers knows, so a list that names each one fits.
MAX_COUNTRIES = 300


class CountryFields(BaseModel):
    """PUT /v1/admin/tenants/{tenant_id}/countries"""

    model_config = ConfigDict(extra="forbid")

    countries: list[str] | None = Field(
        max_length=MAX_COUNTRIES,
        description="The countries the tenant may send to, as ISO 3166-1 alpha-2 codes "
        '(["PH", "CN"], any case); null: every country. Required',
    )


class TenantCountries(BaseModel):
    """PUT /v1/admin/tenants/{tenant_id}/countries"""

    tenant_id: str
    countries: list[str] | None = Field(description="null: every country")


def set_countries(tenant_id: str, countries: list[str] | None) -> TenantModel:
    """The countries the tenant may send to (replacing those it had), as ISO 3166-1
    alpha-2 region codes; None: every country. Set by the operator: a tenant's contract
    says where it sends, and a tenant that widened its own list would undo it. It holds
    from the tenant's next request and number list on, and for its queued messages as
    they come to be handed over (services/submission.py)."""
    if countries is not None and not countries:
        raise BadRequest("an empty list would let the tenant send nowhere: null is every country")
    codes = set()
    for given in countries or []:
        code = given.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise BadRequest(
                f"unknown country {shown(given)}: an ISO 3166-1 alpha-2 code, as PH or CN"
            )
        codes.add(code)
    tenant = get_tenant(tenant_id)
    action = TenantModel.countries.set(codes) if codes else TenantModel.countries.remove()
    tenant.update(actions=[action], condition=TenantModel.tenant_id.exists())
    return tenant


def countries_view(tenant: TenantModel) -> list[str] | None:
    return sorted(tenant.countries) if tenant.countries else None


def set_sending_window(tenant_id: str, window: str) -> TenantModel:
    """The hours of its day (in its time zone) the tenant's missions may be scheduled in,
    and its marketing held for quiet hours sent in; "default": the stack's own. Missions
    scheduled already keep their times."""
    tenant = get_tenant(tenant_id)
    action = (
        TenantModel.sending_window.remove()
        if window == "default"
        else TenantModel.sending_window.set(_window_text(window))
    )
    tenant.update(actions=[action], condition=TenantModel.tenant_id.exists())
    return tenant


def check_sender(tenant: TenantModel, sender: str | None) -> None:
    """Whether the tenant may send as `sender`: any, unless sender ids are registered
    for it. No sender means the channel's default sender, the operator's own."""
    registered = tenant.sender_ids or set()
    if sender and registered and sender not in registered:
        raise Forbidden(
            f"sender id {sender} is not registered for this tenant (registered: "
            f"{', '.join(sorted(registered))}): ask the operator to register it"
        )


def disabled(tenant: TenantModel) -> str | None:
    """Why the tenant may send nothing (the operator disabled it), or None when it may."""
    return f"tenant {tenant.tenant_id} is disabled" if tenant.disabled_at is not None else None


def check_enabled(tenant: TenantModel) -> None:
    reason = disabled(tenant)
    if reason:
        raise Forbidden(reason)


def get_tenant(tenant_id: str) -> TenantModel:
    if not tenant_id:
        # DynamoDB refuses an empty key with an error (a 500), not "no such item": an
        # operator's request or command that names no tenant is told so.
        raise BadRequest("the tenant id is empty")
    if len(tenant_id) > MAX_TENANT_ID:
        # No tenant has so long an id (create_tenant), and DynamoDB refuses a key over
        # 2,048 bytes with an error (a 500): the id a body gives is not looked up.
        raise NotFound(f"tenant {cut(tenant_id)} does not exist")
    try:
        return TenantModel.get(tenant_id)
    except DoesNotExist as exc:
        raise NotFound(f"tenant {cut(tenant_id)} does not exist") from exc


def issue_key(tenant_id: str, role: str = "tenant", name: str = "") -> IssuedKey:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    get_tenant(tenant_id)
    key = new_api_key()
    key_id = new_key_id()
    ApiKeyModel(
        key_hash=hash_key(key), key_id=key_id, tenant_id=tenant_id, role=role, name=name
    ).save()
    return IssuedKey(key_id=key_id, key=key)


def revoke_key(tenant_id: str, key_id: str) -> None:
    for item in ApiKeyModel.by_tenant.query(tenant_id, ApiKeyModel.key_id == key_id):
        try:
            # The index lags the table: a session may have expired and been removed since
            # (an update would write a stray item holding only its revocation), or the
            # key been revoked already (the first time is the one kept).
            item.update(
                actions=[ApiKeyModel.revoked_at.set(utcnow())],
                condition=ApiKeyModel.key_hash.exists() & ApiKeyModel.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if not lost_a_race(error):
                raise
        return
    raise NotFound(f"tenant {cut(tenant_id)} has no key {cut(key_id)}")


def list_keys(tenant_id: str) -> list[ApiKeyModel]:
    return [key for key in ApiKeyModel.by_tenant.query(tenant_id) if key.kind == KEY]


def _account_keeps(session: ApiKeyModel) -> bool:
    """Whether a session's account still has it: not disabled, and its sessions not ended
    since it was opened (by a reset or a password change the tenant index, which revokes
    them, did not show it to)."""
    try:
        account = AccountModel.get(session.name)
    except DoesNotExist:
        return False
    return account.disabled_at is None and account.sessions_ended_at == session.sessions_ended_at


def resolve_key(key: str) -> Principal | None:
    """The principal a key stands for, or None for an unknown or revoked key."""
    if not key.isascii():
        # Every key given out is URL-safe ASCII. Another names none, and may not even
        # hash: a CMI refusal looks up the AUTH_KEY it could not read (for its TIME's
        # zone), which JSON's escape of half a surrogate pair makes no text at all.
        return None
    try:
        item = ApiKeyModel.get(hash_key(key))
    except DoesNotExist:
        return None
    if item.revoked_at is not None:
        return None
    if item.expires_at is not None and item.expires_at <= clock.now().timestamp():
        return None  # a session that has ended
    if item.kind == SESSION and not _account_keeps(item):
        return None
    try:
        tenant = TenantModel.get(item.tenant_id)
    except DoesNotExist:
        return None
    if tenant.disabled_at is not None:
        return None  # the operator cut the tenant off
    account = item.name if item.kind == SESSION else ""
    return Principal(tenant_id=item.tenant_id, role=item.role, key_id=item.key_id, account=account)
