"""Product Order Mgt: the operator's packages, the orders tenants hold, and charging
sending to them.

Charging, decided here because the portal guide shows the figures but not the rules:

- Only channels a tenant has ordered a package of are metered (the tenant's
  `metered_channels`); a channel assigned without a package sends as before.
- A prepaid order holds an amount of SMS, counted in billed segments as prices are, for
  its validity days. Sending takes the SMS from it when the platform accepts the
  messages (a one-off send) or dispatches them (a mission), with a conditional write,
  so two requests can never spend the same SMS and the remaining amount never goes below
  zero. A request that needs more than is left is refused whole: nothing is half-sent.
- SMS of messages that never reach a gateway (refused by the gateway, or by the
  platform) come back to their order, counted from the Messages stream exactly once.
  Delivery failures do not: the gateway took the message, as carriers bill it.
- Of several prepaid orders of a channel, the one that expires first is used first: a
  request's messages are walked in their order, each paid whole by the first order
  (the one expiring first first) that still holds it. A request may so be paid by
  several orders (their takes written in one transaction), each message by one, so
  that its refund has one place to go back to.
- A mission is checked ahead of its dispatch (created, its list ingested, previewed,
  moved) against what the orders will hold then: what the tenant's other Scheduled
  missions on the channel will take before it is counted, and one that would leave a
  later one unpaid is refused (`check_mission`). A check, not a reservation.
- Post-paid is billed afterwards. Its thresholds apply to the month's spending on the
  channel (the tenant's time zone, as every statistic): at the warning threshold the
  order shows a warning; at the prohibit threshold new sending on the channel is
  refused. What is already accepted still goes out, so spending can pass it by that.
- Prepaid orders are used first; post-paid takes what they cannot.
- The operator may cancel an order (one entered by mistake): from then on it pays for
  nothing, as if it had expired. Its channel stays metered, so a channel whose orders are
  all cancelled refuses sending until another package is ordered, rather than send
  unmetered. Every charge's conditional write requires the order not cancelled, so a
  charge racing a cancel either lands before it or is refused and looks again.
"""

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from cloudsms.domain import money
from cloudsms.domain.mission import MissionStatus
from cloudsms.errors import Conflict, Forbidden, NotFound, cut
from cloudsms.observability import logger
from cloudsms.services.channels import get_route
from cloudsms.services.tenants import get_tenant
from cloudsms.store.base import lost_a_race, transaction
from cloudsms.store.counters import (
    WHOLE_LIFE,
    CounterModel,
    channel_day,
    order_scope,
    tenant_channel_scope,
)
from cloudsms.store.missions import MissionModel
from cloudsms.store.orders import POSTPAID, PREPAID, OrderModel, PackageModel
from cloudsms.store.tenants import TenantModel
from cloudsms.validation import one_line_name

_ATTEMPTS = 5
# A charge is written in one transaction, with a mission's claim: DynamoDB writes at most
# 100 items in one, so a request or mission is paid from at most 99 prepaid orders.
MAX_PAYING_ORDERS = 99


PaymentType = Literal["prepaid", "postpaid"]


class PackageFields(BaseModel):
    """POST /v1/admin/packages."""

    model_config = ConfigDict(extra="forbid")

    product_name: str = Field(min_length=1, max_length=64)
    channel: str = Field(min_length=1, max_length=64, description="Route id it sells")
    payment_type: PaymentType
    # Strict: JSON's true is no amount (lax, pydantic reads it as 1).
    sms_amount: int | None = Field(None, ge=1, le=1_000_000_000, strict=True, description="Prepaid")
    validity_days: int | None = Field(None, ge=1, le=3660, strict=True, description="Prepaid")
    warning_usd: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=6)
    prohibit_usd: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=6)

    _product_name = field_validator("product_name", mode="before")(one_line_name("product name"))

    @model_validator(mode="after")
    def _terms(self) -> "PackageFields":
        prepaid = (self.sms_amount, self.validity_days)
        postpaid = (self.warning_usd, self.prohibit_usd)
        if self.payment_type == PREPAID:
            if None in prepaid:
                raise ValueError("a prepaid package needs sms_amount and validity_days")
            if postpaid != (None, None):
                raise ValueError("thresholds are for post-paid packages")
        else:
            if None in postpaid:
                raise ValueError("a post-paid package needs warning_usd and prohibit_usd")
            if prepaid != (None, None):
                raise ValueError("sms_amount and validity_days are for prepaid packages")
            assert self.warning_usd is not None and self.prohibit_usd is not None
            if self.warning_usd > self.prohibit_usd:
                raise ValueError("warning_usd must not be above prohibit_usd")
        return self


# --- the operator's catalogue -----------------------------------------------------------


def create_package(fields: PackageFields, now: datetime) -> dict[str, Any]:
    get_route(fields.channel)  # 404 for a channel that does not exist
    for _ in range(_ATTEMPTS):
        package = PackageModel(
            package_id=f"{secrets.randbelow(10**12):012d}",
            product_name=fields.product_name,
            channel=fields.channel,
            payment_type=fields.payment_type,
            sms_amount=fields.sms_amount,
            validity_days=fields.validity_days,
            warning_cost=_micros(fields.warning_usd),
            prohibit_cost=_micros(fields.prohibit_usd),
            created_at=now,
        )
        try:
            package.save(condition=PackageModel.package_id.does_not_exist())
        except PutError as error:
            if not lost_a_race(error):
                raise
            continue  # the random id was taken: draw another
        logger.info("package created", extra={"package": package.package_id})
        return package_view(package)
    raise RuntimeError("no free package id after several draws")


def get_package(package_id: str) -> PackageModel:
    try:
        return PackageModel.get(package_id)
    except DoesNotExist as exc:
        raise NotFound(f"package {cut(package_id)} does not exist") from exc


class Package(BaseModel):
    """A product package (the operator's)."""

    package_id: str
    product_name: str
    channel: str = Field(description="Route id of the channel it pays for")
    payment_type: PaymentType
    sms_amount: int | None = Field(description="Prepaid only")
    validity_days: int | None = Field(description="Prepaid only")
    warning_usd: str | None = Field(description="Post-paid only: US dollars, a decimal string")
    prohibit_usd: str | None = Field(description="Post-paid only: US dollars, a decimal string")
    created_at: datetime


class Packages(BaseModel):
    """GET /v1/admin/packages: the newest first."""

    items: list[Package]


def list_packages() -> dict[str, Any]:
    packages = sorted(PackageModel.scan(), key=lambda p: p.created_at, reverse=True)
    return {"items": [package_view(p) for p in packages]}


def package_view(package: PackageModel) -> dict[str, Any]:
    return {
        "package_id": package.package_id,
        "product_name": package.product_name,
        "channel": package.channel,
        "payment_type": package.payment_type,
        "sms_amount": _int_or_none(package.sms_amount),
        "validity_days": _int_or_none(package.validity_days),
        "warning_usd": _usd(package.warning_cost),
        "prohibit_usd": _usd(package.prohibit_cost),
        "created_at": package.created_at.isoformat(),
    }


# --- orders ------------------------------------------------------------------------------


def place_order(tenant_id: str, package_id: str, now: datetime) -> dict[str, Any]:
    """Orders a package for a tenant: the order is recorded with the package's terms, and
    the tenant may send on the package's channel, charged to its orders from now on."""
    tenant = get_tenant(tenant_id)
    package = get_package(package_id)
    get_route(package.channel)  # the channel may have been revoked since
    order = _new_order(tenant, package, now)
    try:
        TenantModel(tenant_id).update(
            actions=[
                TenantModel.channels.add({package.channel}),
                TenantModel.metered_channels.add({package.channel}),
            ],
            condition=TenantModel.tenant_id.exists(),
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        raise NotFound(f"tenant {cut(tenant_id)} does not exist") from exc
    logger.info(
        "package ordered",
        extra={"tenant": tenant_id, "order": order.order_number, "package": package_id},
    )
    return order_view(order, tenant, now)


def cancel_order(tenant_id: str, order_number: str, now: datetime) -> dict[str, Any]:
    """Cancels an order: it pays for nothing from now on (a prepaid order's SMS left, and
    those refunded to it later, are no longer taken; a post-paid order no longer lets its
    channel send). One conditional write: an order cancelled already is a 409."""
    tenant = get_tenant(tenant_id)
    order = OrderModel(tenant_id, order_number)
    try:
        order.update(
            actions=[OrderModel.cancelled_at.set(now)],
            condition=OrderModel.order_number.exists() & OrderModel.cancelled_at.does_not_exist(),
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        cancelled = get_order(tenant_id, order_number).cancelled_at
        assert cancelled is not None  # orders are never deleted: the condition failed on it
        raise Conflict(
            f"order {order_number} was cancelled already, at {cancelled.isoformat()}"
        ) from exc
    logger.info("order cancelled", extra={"tenant": tenant_id, "order": order_number})
    return order_view(order, tenant, now)


def get_order(tenant_id: str, order_number: str) -> OrderModel:
    try:
        return OrderModel.get(tenant_id, order_number, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"order {cut(order_number)} of tenant {cut(tenant_id)} does not exist"
        ) from exc


def _new_order(tenant: TenantModel, package: PackageModel, now: datetime) -> OrderModel:
    # The number holds the order time as the tenant's order list shows it, in its zone
    # (the guide's CloudSMS_20211117141632 was ordered at 14:16:32).
    local = now.astimezone(ZoneInfo(tenant.time_zone))
    for _ in range(_ATTEMPTS):
        validity = _int_or_none(package.validity_days)
        order = OrderModel(
            tenant_id=tenant.tenant_id,
            order_number=f"CloudSMS_{local:%Y%m%d%H%M%S}{secrets.randbelow(10**4):04d}",
            package_id=package.package_id,
            product_name=package.product_name,
            channel=package.channel,
            payment_type=package.payment_type,
            sms_amount=package.sms_amount,
            validity_days=package.validity_days,
            warning_cost=package.warning_cost,
            prohibit_cost=package.prohibit_cost,
            ordered_at=now,
            expires_at=now + timedelta(days=validity) if validity else None,
            reserved=0,
        )
        try:
            order.save(condition=OrderModel.order_number.does_not_exist())
        except PutError as error:
            if not lost_a_race(error):
                raise
            continue  # two orders in the same second drew the same digits
        return order
    raise RuntimeError("no free order number after several draws")


def list_orders(tenant_id: str, now: datetime) -> dict[str, Any]:
    """A tenant's orders, the latest first, with what is left of each."""
    tenant = get_tenant(tenant_id)
    # By time, as the order number's last digits are random: two orders placed in the
    # same second would otherwise come in either order.
    orders = sorted(
        OrderModel.query(tenant_id),
        key=lambda o: (o.ordered_at, o.order_number),
        reverse=True,
    )
    return {"items": [order_view(o, tenant, now) for o in orders]}


OrderStatus = Literal[
    "activated", "used_up", "expired", "ordered", "warning", "prohibited", "cancelled"
]
USD = "US dollars, as a decimal string (exact)"


class Order(BaseModel):
    """A tenant's order of a package, with what is left of it."""

    order_number: str
    package_id: str
    product_name: str
    tenant_id: str
    tenant_name: str
    channel: str = Field(description="Route id of the channel it pays for")
    payment_type: PaymentType
    ordered_at: datetime
    validity_days: int | None = Field(description="Prepaid only")
    expires_at: datetime | None = Field(description="Prepaid only")
    sms_amount: int | None = Field(description="Prepaid only: SMS bought")
    remaining: int | None = Field(description="Prepaid only: SMS left")
    warning_usd: str | None = Field(description=f"Post-paid only: {USD}")
    prohibit_usd: str | None = Field(description=f"Post-paid only: {USD}")
    month_cost_usd: str | None = Field(description=f"Post-paid only, this month: {USD}")
    cancelled_at: datetime | None = Field(description="When the operator cancelled it")
    status: OrderStatus = Field(
        description="Prepaid: activated, used_up or expired; post-paid: ordered, warning "
        "(past warning_usd this month) or prohibited (past prohibit_usd); either: cancelled "
        "(by the operator: it pays for nothing since)"
    )


class Orders(BaseModel):
    """GET /v1/orders: the latest first."""

    items: list[Order]


def order_view(order: OrderModel, tenant: TenantModel, now: datetime) -> dict[str, Any]:
    view: dict[str, Any] = {
        "order_number": order.order_number,
        "package_id": order.package_id,
        "product_name": order.product_name,
        "tenant_id": order.tenant_id,
        "tenant_name": tenant.name,
        "channel": order.channel,
        "payment_type": order.payment_type,
        "ordered_at": order.ordered_at.isoformat(),
        "validity_days": _int_or_none(order.validity_days),
        "expires_at": order.expires_at.isoformat() if order.expires_at else None,
        "sms_amount": _int_or_none(order.sms_amount),
        "remaining": None,
        "warning_usd": _usd(order.warning_cost),
        "prohibit_usd": _usd(order.prohibit_cost),
        "month_cost_usd": None,
        "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
    }
    # A cancelled order keeps its figures (what was left unused, what the channel spent
    # this month), which the operator may need to settle it with the tenant.
    if order.payment_type == PREPAID:
        left = remaining(order)
        view["remaining"] = left
        view["status"] = prepaid_status(order, left, now)
    else:
        spent = month_cost(tenant, order.channel, now)
        view["month_cost_usd"] = _usd(spent)
        view["status"] = postpaid_status(order, spent)
    if order.cancelled_at:
        view["status"] = "cancelled"
    return view


def remaining(order: OrderModel) -> int:
    """The SMS a prepaid order has left: its amount, less what sending took, plus what
    came back to it."""
    return _remaining(order, _refunded(order))


def prepaid_status(order: OrderModel, left: int, now: datetime) -> OrderStatus:
    """A prepaid order's status with `left` SMS `remaining`."""
    if order.expires_at and order.expires_at <= now:
        return "expired"
    return "activated" if left > 0 else "used_up"


def postpaid_status(order: OrderModel, spent: int) -> OrderStatus:
    """A post-paid order's status by `spent`, its channel's `month_cost`."""
    if spent >= int(order.prohibit_cost or 0):
        return "prohibited"
    return "warning" if spent >= int(order.warning_cost or 0) else "ordered"


# --- charging -------------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    """SMS to take from one prepaid order, and the write that takes them: conditional on
    the order still holding them, on its validity, and on its not being cancelled."""

    order_number: str
    segments: int
    actions: list[Action]
    condition: Condition


@dataclass(frozen=True)
class Charge:
    """What a request's messages cost the tenant's prepaid orders: the SMS to take from
    each order, and which order pays each message, as runs in the messages' order
    (`(order_number, count)`; None: post-paid carries them). A message is paid by one
    order, so that its refund has one place to go back to."""

    tenant_id: str
    takes: list[Take]
    runs: list[tuple[str | None, int]]

    def payers(self) -> list[str | None]:
        """The order paying each message, in the messages' order."""
        return [order_number for order_number, count in self.runs for _ in range(count)]


def charge_for(
    tenant: TenantModel, route_id: str, segments: Iterable[int], now: datetime
) -> Charge | None:
    """What sending messages of `segments` SMS each on a channel costs the tenant's
    orders, or None when nothing is to be taken (the channel is not metered, or
    post-paid carries it all). Refuses (403, with the reason) what the orders do not
    allow: a request is paid whole or refused whole. The charge is made by writing it:
    `take`, or in a transaction.

    The messages are walked in their order, each paid by the first of the valid prepaid
    orders (in the order they expire) that still holds the whole message. What they
    cannot pay, a post-paid order takes."""
    if route_id not in (tenant.metered_channels or set()):
        return None
    orders = _channel_orders(tenant.tenant_id, route_id)
    held = [o for o in orders if o.cancelled_at is None]
    prepaid = sorted(
        (o for o in held if o.payment_type == PREPAID and _valid(o, now)),
        key=lambda o: (o.expires_at, o.order_number),
    )
    refunded = [_refunded(o) for o in prepaid]
    left = [max(_remaining(o, r), 0) for o, r in zip(prepaid, refunded, strict=True)]
    taken = [0] * len(prepaid)
    runs: list[tuple[str | None, int]] = []
    needed = 0
    for size in segments:
        needed += size
        # The first order that holds the whole message, not the one at hand only: one
        # passed over by a long message still pays the shorter ones after it (else they
        # would be refused, or go post-paid, with its SMS unused). An order is passed
        # over only when it holds less than a message, and each return to it takes at
        # least 1 SMS of that, so the runs (kept on a mission) stay few.
        at = next((i for i, n in enumerate(left) if n - taken[i] >= size), None)
        payer = None if at is None else prepaid[at].order_number
        if at is not None:
            taken[at] += size
        if runs and runs[-1][0] == payer:
            runs[-1] = (payer, runs[-1][1] + 1)
        else:
            runs.append((payer, 1))
    if any(payer is None for payer, _ in runs):
        _refuse_unpaid(tenant, route_id, orders, sum(left), needed, now)
    takes = [
        _take(order, r, n, now) for order, r, n in zip(prepaid, refunded, taken, strict=True) if n
    ]
    if len(takes) > MAX_PAYING_ORDERS:
        raise Forbidden(
            f"this would be paid from {len(takes)} prepaid packages of channel {route_id};"
            f" at most {MAX_PAYING_ORDERS} pay one request: send it in smaller ones"
        )
    if not takes:
        return None
    return Charge(tenant_id=tenant.tenant_id, takes=takes, runs=runs)


def _refuse_unpaid(
    tenant: TenantModel,
    route_id: str,
    orders: list[OrderModel],
    left: int,
    needed: int,
    now: datetime,
) -> None:
    """Lets a post-paid order take what the prepaid ones cannot pay (within its
    thresholds); refuses (403) the request when there is none."""
    held = [o for o in orders if o.cancelled_at is None]
    postpaid = [o for o in held if o.payment_type == POSTPAID]
    if postpaid:
        _check_thresholds(tenant, route_id, postpaid, now)
        return
    if not any(o.payment_type == PREPAID and _valid(o, now) for o in held):
        raise Forbidden(f"no valid package of channel {route_id}: {_why_none(tenant, orders, now)}")
    if left >= needed:
        # The SMS are there, but split so that some message fits in no one order.
        raise Forbidden(
            f"the prepaid packages of channel {route_id} have {left} SMS left, but each"
            f" message is paid by one package and they do not hold whole messages for the"
            f" {needed} this needs"
        )
    raise Forbidden(
        f"the prepaid packages of channel {route_id} have {left} SMS left; this needs {needed}"
    )


def _channel_orders(tenant_id: str, route_id: str) -> list[OrderModel]:
    # Read as last written, so that an order just spent (or cancelled) is not picked again.
    return [o for o in OrderModel.query(tenant_id, consistent_read=True) if o.channel == route_id]


@dataclass(frozen=True)
class _Claim:
    """What a mission will take at its dispatch: `mission_id` None is the one checked."""

    mission_id: str | None
    at: datetime
    segments: int


def check_mission(
    tenant: TenantModel,
    route_id: str,
    messages: Sequence[int],
    dispatch_at: datetime | None,
    now: datetime,
    mission_id: str | None = None,
) -> None:
    """Checks, ahead of its dispatch, that the tenant's orders will pay for a mission then;
    refuses (403, with the reason) one they will not. `messages` are the SMS of each of
    its messages, in the list's order. `mission_id` is the mission's own when it exists
    already (a move, an upload), so that it is not counted twice.

    One to be sent now is checked as a one-off send is. A scheduled one (`dispatch_at`)
    is judged by the prepaid orders valid at its time, less what the tenant's other
    Scheduled missions on the channel will take from them first: walked in dispatch-time
    order, each takes from the orders valid at its time, the one expiring first first,
    as its dispatch will. It is refused when it cannot be paid then, naming what those
    missions take, and also when it would leave a later one, paid without it, unpaid.
    The other missions are counted in SMS, not messages (theirs are not read here): a
    dispatch pays each message whole from one order, so orders left with a few SMS each
    may still fall short of a message at a later dispatch. A post-paid
    order of the channel changes nothing (it takes what prepaid cannot), and missions
    still Uploading have no segments yet (their own ingest runs this check).

    A check, not a reservation: nothing is held. Two missions checked at the same moment
    can both pass, a mission scheduled a moment ago may not be counted yet (the Scheduled
    ones are read from an index, eventually consistent), and a one-off send can spend the
    SMS meanwhile; the dispatch's conditional write takes them, and fails the mission that
    finds them gone."""
    segments = sum(messages)
    paid_now = charge_for(tenant, route_id, messages, dispatch_at or now)
    if paid_now is None or dispatch_at is None:
        return  # not metered, post-paid carries it, or it is sent now
    held = [o for o in _channel_orders(tenant.tenant_id, route_id) if o.cancelled_at is None]
    if any(o.payment_type == POSTPAID for o in held):
        return
    prepaid = sorted(
        (o for o in held if o.payment_type == PREPAID and o.expires_at is not None),
        key=lambda o: (o.expires_at, o.order_number),
    )
    left = {o.order_number: max(_remaining(o, _refunded(o)), 0) for o in prepaid}
    others = [
        _Claim(m.mission_id, m.dispatch_at, int(m.segments))
        # From the index of the tenant's missions by status: the Scheduled ones only, not
        # every mission it ever sent. Eventually consistent (a global index cannot be read
        # otherwise), so one scheduled a moment ago may not be counted yet: a check.
        for m in MissionModel.by_status.query(
            tenant.tenant_id,
            MissionModel.status == MissionStatus.SCHEDULED.value,
            filter_condition=MissionModel.channel == route_id,
            attributes_to_get=["mission_id", "dispatch_at", "segments"],
        )
        if m.mission_id != mission_id and m.dispatch_at is not None and m.segments
    ]
    this = _Claim(None, dispatch_at, segments)
    without = _payers(prepaid, left, others)
    payers = _payers(prepaid, left, [*others, this])
    valid_then = [o.order_number for o in prepaid if _valid(o, dispatch_at)]
    total = sum(left[n] for n in valid_then)
    if payers[this] is None:
        walked = list(payers)  # in dispatch order
        before = [
            c for c in walked[: walked.index(this)] if any(n in valid_then for n in payers[c] or {})
        ]
        taken = sum(sum(n for o, n in (payers[c] or {}).items() if o in valid_then) for c in before)
        noun = "mission" if len(before) == 1 else "missions"
        raise Forbidden(
            f"the prepaid packages of channel {route_id} have {total} SMS left, {taken} of"
            f" them for {len(before)} {noun} scheduled before this one; this needs {segments}"
        )
    starved = [c for c in others if payers[c] is None and without[c] is not None]
    if starved:
        first = min(starved, key=lambda c: c.at)
        zone = ZoneInfo(tenant.time_zone)
        raise Forbidden(
            f"the prepaid packages of channel {route_id} have {total} SMS left; this needs"
            f" {segments}, and would leave mission {first.mission_id}, scheduled for"
            f" {first.at.astimezone(zone):%Y-%m-%d %H:%M} ({tenant.time_zone}), without the"
            f" {first.segments} it needs"
        )


def _payers(
    prepaid: list[OrderModel], left: dict[str, int], claims: list[_Claim]
) -> dict[_Claim, dict[str, int] | None]:
    """The SMS each claim will take from each prepaid order (None: the orders valid at
    its time cannot pay it, and it takes nothing), in the order of the claims' dispatch
    (`prepaid` sorted as charge_for walks them). Of two at the same time, the one checked
    goes last: the ones scheduled already were accepted first."""
    left = dict(left)
    payers: dict[_Claim, dict[str, int] | None] = {}
    for claim in sorted(claims, key=lambda c: (c.at, c.mission_id is None, c.mission_id or "")):
        valid = [o.order_number for o in prepaid if _valid(o, claim.at)]
        if sum(left[n] for n in valid) < claim.segments:
            payers[claim] = None
            continue
        takes: dict[str, int] = {}
        due = claim.segments
        for number in valid:
            took = min(left[number], due)
            if took:
                takes[number] = took
                left[number] -= took
                due -= took
        payers[claim] = takes
    return payers


def _why_none(tenant: TenantModel, orders: list[OrderModel], now: datetime) -> str:
    """Why a metered channel has no order to pay with at `now`: what is not cancelled of
    its orders is prepaid and valid only until before then. `now` may be to come (a
    scheduled mission's time), when those orders have not expired yet and the tenant sees
    them activated, so the reason names when the last one ends rather than "expired"."""
    ends = [o.expires_at for o in orders if not o.cancelled_at and o.expires_at]
    if not ends:
        return "its orders were cancelled"
    zone = ZoneInfo(tenant.time_zone)
    until = (
        f"valid only until {max(ends).astimezone(zone):%Y-%m-%d %H:%M}, "
        f"not at {now.astimezone(zone):%Y-%m-%d %H:%M} ({tenant.time_zone})"
    )
    if any(o.cancelled_at for o in orders):
        return f"its orders were cancelled or are {until}"
    return f"its prepaid orders are {until}"


def _take(order: OrderModel, refunded: int, segments: int, now: datetime) -> Take:
    # reserved + segments <= amount + refunded, with `refunded` as read: refunds only
    # grow, so an older figure can refuse a send that would fit, never allow an overdraw.
    ceiling = int(order.sms_amount or 0) + refunded - segments
    return Take(
        order_number=order.order_number,
        segments=segments,
        actions=[OrderModel.reserved.add(segments)],
        condition=(OrderModel.reserved <= ceiling)
        & (OrderModel.expires_at > now)
        & OrderModel.cancelled_at.does_not_exist(),
    )


def take(charge: Charge | None) -> bool:
    """Writes a charge on its own, every order's take or none (one transaction); False
    when an order changed meanwhile."""
    if charge is None:
        return True
    try:
        if len(charge.takes) == 1:  # the usual case, at half a transaction's cost
            (one,) = charge.takes
            OrderModel(charge.tenant_id, one.order_number).update(
                actions=one.actions, condition=one.condition
            )
            return True
        with transaction() as writes:
            for one in charge.takes:
                writes.update(
                    OrderModel(charge.tenant_id, one.order_number),
                    actions=one.actions,
                    condition=one.condition,
                )
    except (UpdateError, TransactWriteError) as error:
        if not lost_a_race(error):
            raise
        return False
    return True


def charge(
    tenant: TenantModel, route_id: str, segments: list[int], now: datetime
) -> list[str | None]:
    """Takes the SMS of messages of `segments` SMS each, for a send, from the tenant's
    orders; returns the prepaid order that pays each message (None: nothing was taken for
    it). Concurrent sends that spent an order meanwhile make it look again; refuses (403)
    what cannot be paid, and answers 409 when the orders kept changing under it."""
    for _ in range(_ATTEMPTS):
        found = charge_for(tenant, route_id, segments, now)
        if take(found):
            return found.payers() if found else [None] * len(segments)
    # Only under a burst of sends on one order: the caller may simply send again.
    raise Conflict(f"the prepaid packages of channel {route_id} are being spent; try again")


def give_back(tenant_id: str, order_number: str | None, segments: int) -> None:
    """Returns SMS taken for a send that was then not stored. Best effort: it runs where
    the request already failed, so its own failure is logged, not raised."""
    if not order_number or not segments:
        return
    try:
        OrderModel(tenant_id, order_number).update(actions=[OrderModel.reserved.add(-segments)])
    except Exception:
        logger.exception("SMS could not be given back", extra={"order": order_number})


def _check_thresholds(
    tenant: TenantModel, route_id: str, postpaid: list[OrderModel], now: datetime
) -> None:
    spent = month_cost(tenant, route_id, now)
    prohibit = min(int(o.prohibit_cost or 0) for o in postpaid)
    if spent >= prohibit:
        raise Forbidden(
            f"this month's spending on channel {route_id} (USD {_usd(spent)}) has reached"
            f" the prohibit threshold (USD {_usd(prohibit)})"
        )


def month_cost(tenant: TenantModel, route_id: str, now: datetime) -> int:
    """Micro-USD spent this month (in the tenant's time zone) on a channel's messages that
    no prepaid order paid for: a post-paid order's spending."""
    month = spending_month(tenant, now)
    suffix = f"#{route_id}"
    rows = CounterModel.query(
        tenant_channel_scope(tenant.tenant_id),
        CounterModel.period.between(channel_day(f"{month}-01", ""), f"{month}-31#~"),
    )
    return sum(int(r.postpaid_cost or 0) for r in rows if r.period.endswith(suffix))


def spending_month(tenant: TenantModel, now: datetime) -> str:
    """The month ("2026-11") whose spending counts against post-paid thresholds at `now`:
    the tenant's, in its time zone."""
    return now.astimezone(ZoneInfo(tenant.time_zone)).strftime("%Y-%m")


def _valid(order: OrderModel, now: datetime) -> bool:
    return order.expires_at is not None and order.expires_at > now


def _refunded(order: OrderModel) -> int:
    try:
        counter = CounterModel.get(
            order_scope(order.tenant_id, order.order_number), WHOLE_LIFE, consistent_read=True
        )
    except DoesNotExist:
        return 0
    return int(counter.refunded or 0)


def _remaining(order: OrderModel, refunded: int) -> int:
    return int(order.sms_amount or 0) - int(order.reserved or 0) + refunded


def _micros(amount: Decimal | None) -> int | None:
    return None if amount is None else money.micros(amount)


def _usd(amount_micros: Any) -> str | None:
    return None if amount_micros is None else money.usd(int(amount_micros))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
