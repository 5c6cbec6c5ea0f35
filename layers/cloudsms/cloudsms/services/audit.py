"""The audit trail: who changed the platform's configuration, what, and when.

The API records every change a route makes (cloudsms.api), the console command every
change a command makes (cloudsms.cli); both through `record`. Sending is not recorded:
messages and missions are their own record (README.md "Audit trail").
"""

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from cloudsms.answers import Page
from cloudsms.errors import BadRequest
from cloudsms.observability import logger
from cloudsms.services.pages import decode_last_key, one_page
from cloudsms.settings import get_settings
from cloudsms.store.audit import PLATFORM, AuditEntryModel


@dataclass(frozen=True)
class Change:
    """A change made, as it is recorded: who, on which tenant, what, and what it named.
    Nothing here may be a secret: no body, no option's value, no key."""

    actor: str
    action: str
    tenant_id: str | None
    target: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    role: str | None = None
    key_id: str | None = None
    request_id: str | None = None
    source_ip: str | None = None


class AuditEntry(BaseModel):
    at: datetime
    actor: str = Field(
        description="An API key's id, a portal account's name, or the AWS caller (ARN) of "
        "a `cloudsms` command; in a tenant's own trail (GET /v1/audit) the operator's "
        "changes say `operator`, with no key id or source IP"
    )
    role: str | None = Field(description="The API key's role; null for a command")
    key_id: str | None
    tenant_id: str | None = Field(description="The tenant concerned; null for none")
    action: str = Field(
        description='The route ("PATCH /v1/admin/channels/{route_id}") or the command'
    )
    target: dict[str, str] = Field(description="What it named: path parameters or arguments")
    fields: list[str] = Field(
        description="What it changed: the names of the fields the request's body gave, or "
        "of the options the command was given; never their values"
    )
    request_id: str | None
    source_ip: str | None


# An entry's id: its UTC time to the microsecond, then random (store/audit.py).
ENTRY_ID = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{8}")


class AuditPage(Page[AuditEntry]):
    """GET /v1/audit and /v1/admin/audit: newest first."""


def record(change: Change, now: datetime) -> None:
    """Writes an entry for a change that has happened already. An entry that cannot be
    written is logged whole at ERROR instead (it holds no secret), to be found in the logs;
    the change itself stands, and so does its answer."""
    at = now.astimezone(UTC)
    entry = AuditEntryModel(
        tenant_id=change.tenant_id or PLATFORM,
        entry_id=f"{_time_key(at)}#{secrets.token_hex(4)}",
        month=at.strftime("%Y-%m"),
        at=at,
        actor=change.actor,
        role=change.role,
        key_id=change.key_id,
        action=change.action,
        target=change.target,
        fields=list(change.fields),
        request_id=change.request_id,
        source_ip=change.source_ip,
        expires_at=int((at + timedelta(days=get_settings().audit_retention_days)).timestamp()),
    )
    try:
        entry.save()
    except Exception:  # noqa: BLE001 - whatever failed, the change is made: keep its answer
        logger.exception("audit entry not written", extra={"audit_entry": entry_view(entry)})


def entry_view(item: AuditEntryModel) -> dict[str, Any]:
    return {
        "at": item.at.isoformat(),
        "actor": item.actor,
        "role": item.role,
        "key_id": item.key_id,
        "tenant_id": None if item.tenant_id == PLATFORM else item.tenant_id,
        "action": item.action,
        "target": item.target.as_dict() if item.target else {},
        "fields": list(item.fields or []),
        "request_id": item.request_id,
        "source_ip": item.source_ip,
    }


# Who a tenant is told made the operator's changes to it.
OPERATOR = "operator"
# The roles of the operator's changes: its keys', and a command's (none).
OPERATORS = frozenset({OPERATOR, None})


def as_the_tenant_sees_it(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as its tenant is shown it: one the operator made (an operator's key or
    account, or a command) says so, and not who at the operator nor from where. A
    command's actor is an AWS ARN, which names the operator's AWS account and IAM user;
    a key id, an account name and an address are the operator's own business too. Any
    other role is the tenant's own: its keys' and accounts' ("tenant", and a session that
    must change its temporary password first)."""
    if entry["role"] not in OPERATORS:
        return entry
    return {**entry, "actor": OPERATOR, "role": OPERATOR, "key_id": None, "source_ip": None}


def list_entries(
    tenant_id: str | None,
    start: datetime | None,
    end: datetime | None,
    size: int,
    cursor: str | None,
    now: datetime,
    seen_by_tenant: bool = False,
) -> dict[str, Any]:
    """A tenant's entries, or everyone's (tenant_id None), newest first, from `start` to
    `end` (both included; a time without an offset is UTC). Without `start`: as far back
    as entries are kept. `seen_by_tenant`: for the tenant's own eyes (as_the_tenant_sees_it)."""
    first = _utc(start) if start else now - timedelta(days=get_settings().audit_retention_days)
    last = _utc(end) if end else now
    if first > last:
        raise BadRequest("'from' is after 'to'")
    low = _time_key(first)
    # "$" sorts after the "#" that ends an entry's time: every entry of that microsecond.
    high = _time_key(last) + "$"
    last_key = decode_last_key(cursor, None, ("entry_id",))
    after = last_key["entry_id"]["S"] if last_key else None
    if after is not None:
        if not ENTRY_ID.fullmatch(after):
            raise BadRequest("the cursor is not one this API gave out")
        high = min(high, after)
    # Everyone's entries are read a month at a time: only the months an entry can be in
    # (kept, and not after now, give or take a day of clocks), or a `from` of the year
    # 1000 and a `to` of 9999 would read 100,000 empty months, long after the API's 29 s.
    months = (
        max(low[:7], _time_key(now - timedelta(days=get_settings().audit_retention_days + 1))[:7]),
        min(high[:7], _time_key(now + timedelta(days=1))[:7]),
    )
    found = _newest_first(tenant_id, low, high, size + 1, months)
    page, next_cursor = one_page(
        (item for item in found if item.entry_id != after), size, ("entry_id",)
    )
    items = [entry_view(item) for item in page]
    if seen_by_tenant:
        items = [as_the_tenant_sees_it(item) for item in items]
    return {"items": items, "next_cursor": next_cursor}


def _newest_first(
    tenant_id: str | None, low: str, high: str, page_size: int, months: tuple[str, str]
) -> Iterator[AuditEntryModel]:
    """The entries whose ids are between `low` and `high`, newest first, read a page at a
    time as they are taken: a tenant's from its partition, everyone's month by month
    (`months`: the oldest and the newest "YYYY-MM" to read)."""
    between = AuditEntryModel.entry_id.between(low, high)
    if tenant_id is not None:
        yield from AuditEntryModel.query(
            tenant_id, between, scan_index_forward=False, page_size=page_size
        )
        return
    oldest, newest = months
    for month in _months_back(newest, oldest):
        yield from AuditEntryModel.by_month.query(
            month, between, scan_index_forward=False, page_size=page_size
        )


def _months_back(newest: str, oldest: str) -> Iterator[str]:
    """Each "YYYY-MM" from `newest` back to `oldest`."""
    year, month = int(newest[:4]), int(newest[5:7])
    while f"{year:04d}-{month:02d}" >= oldest:
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def _time_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(value: datetime) -> datetime:
    if not value.tzinfo:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00: UTC has no year 0
        raise BadRequest(f"{value.isoformat()} is before or after any time in UTC") from None
