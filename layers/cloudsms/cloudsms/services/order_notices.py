"""Order notices: the operator is told, on the notice topic (the template's NoticeTopic),
when a tenant's order reaches a threshold. The order's status shows it already, but only
to whoever reads the order; a tenant whose sending starts failing with 403 should not be
how the operator learns of it.

- Post-paid: the month's spending on the channel, as the order's status counts it,
  reached the order's warning threshold (`warning`) or its prohibit threshold
  (`prohibited`: new sending on the channel is refused). Once per order, state and month:
  each month starts from no spending.
- Prepaid, valid and not cancelled: its `remaining` SMS fell to RUNNING_LOW_PERCENT of its
  amount or less (`running_low`), or to none (`used_up`). Once per order and state.
- A cancelled order, or an expired one, is noticed no more.

Each notice is claimed first, by adding it to the order's `notices` with a conditional
write, and then published: two runs at once never send one twice. A publish that fails
takes its claim back, so that the next run sends it. A run that dies between the two
loses that notice (the order's status still shows it): once at most, never twice.
A state left and reached again (a refund raising `remaining`, spending falling back
below a threshold) is not noticed again: once a prepaid order's life, once a post-paid
order's month.

Run hourly (functions/dlr_webhook/sweep.py): the thresholds are enforced when sending,
so a notice an hour late refuses nothing later. Each run reads every order (a Scan of
the orders table) and, for each, its channel's month of counters (post-paid) or its
refund counter (prepaid): a few thousand reads at the orders' scale (hundreds to
thousands), a few seconds of an hourly run. Far more orders would want the counters'
stream to tell of a crossing instead.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pynamodb.exceptions import UpdateError

from cloudsms.adapters import topics
from cloudsms.domain import money
from cloudsms.observability import logger, metrics
from cloudsms.services.orders import (
    month_cost,
    postpaid_status,
    prepaid_status,
    remaining,
    spending_month,
)
from cloudsms.services.tenants import get_tenant
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race
from cloudsms.store.orders import PREPAID, OrderModel
from cloudsms.store.tenants import TenantModel

# A prepaid order is running low with a tenth of its SMS left or less: at the pace that
# spent the other nine tenths, time to order another package before the last goes (an
# order spent over weeks has days left; one spent within hours is gone at any share an
# hourly look could catch). A fixed share, not a setting: the notice asks the operator
# to look, not to act at an exact figure.
RUNNING_LOW_PERCENT = 10

_MEANING = {
    "warning": (
        "Sending goes on. At the prohibit threshold new sending on channel {channel} is"
        " refused (403) until the month ends."
    ),
    "prohibited": (
        "New sending on channel {channel} is refused (403) until the month ends; what was"
        " accepted already still goes out."
    ),
    "running_low": (
        "At 0 this order pays for nothing more: sending on channel {channel} then needs"
        " another valid package of it, or is refused (403)."
    ),
    "used_up": (
        "This order pays for nothing more: sending on channel {channel} needs another"
        " valid package of it, or is refused (403)."
    ),
}


@dataclass(frozen=True)
class Notice:
    """What to tell of one order: its state, the claim it is sent under, and the figures."""

    tenant: TenantModel
    order: OrderModel
    state: str
    claim: str
    figures: str

    def subject(self) -> str:
        # ASCII, under SNS's 100 characters: the tenant's name may be neither.
        return f"CloudSMS order {self.state}: {self.order.order_number}"

    def message(self) -> str:
        order = self.order
        return "\n".join(
            [
                f"Order {order.order_number} of tenant {self.tenant.name} is {self.state}.",
                "",
                f"Tenant: {self.tenant.name} ({order.tenant_id})",
                f"Order: {order.order_number}",
                f"Product: {order.product_name} (package {order.package_id})",
                f"Channel: {order.channel}",
                f"State: {self.state}",
                self.figures,
                "",
                _MEANING[self.state].format(channel=order.channel),
                "The platform does not tell the tenant: forward this to them if fitting."
                " Their portal's order list shows the order's status.",
            ]
        )


@dataclass(frozen=True)
class Noticed:
    """A run's outcome: the notices sent, and why some order could not be looked at (the
    function it runs in does its other work first, then fails the run with it)."""

    sent: int
    failure: Exception | None = None


def notice_orders(now: datetime) -> Noticed:
    """Sends the notices due for every order. One order's failure leaves the others
    looked at; a failure is returned, and logged, not raised."""
    sent = 0
    failure: Exception | None = None
    tenants: dict[str, TenantModel] = {}
    try:
        for order in OrderModel.scan():
            try:
                notice = _due(order, tenants, now)
                if notice is not None:
                    sent += _send(notice)
            except Exception as error:
                logger.error(
                    "looking at an order for notices failed; the next run looks again",
                    extra={"tenant": order.tenant_id, "order": order.order_number},
                    exc_info=error,
                )
                failure = failure or error
    except Exception as error:
        logger.error(
            "looking at orders for notices failed; the next run looks again", exc_info=error
        )
        failure = failure or error
    if sent:
        metrics.add_metric(name="OrderNotices", unit="Count", value=sent)
    return Noticed(sent, failure)


def _due(order: OrderModel, tenants: dict[str, TenantModel], now: datetime) -> Notice | None:
    """The notice an order is due and was not sent yet, if any."""
    if order.cancelled_at is not None:
        return None
    if order.tenant_id not in tenants:
        tenants[order.tenant_id] = get_tenant(order.tenant_id)
    tenant = tenants[order.tenant_id]
    if order.payment_type == PREPAID:
        notice = _prepaid(tenant, order, now)
    else:
        notice = _postpaid(tenant, order, now)
    if notice is None or notice.claim in (order.notices or set()):
        return None
    return notice


def _prepaid(tenant: TenantModel, order: OrderModel, now: datetime) -> Notice | None:
    left = remaining(order)
    amount = int(order.sms_amount or 0)
    status = prepaid_status(order, left, now)
    if status == "expired":
        return None
    if status == "used_up":
        state = "used_up"
    elif left * 100 <= amount * RUNNING_LOW_PERCENT:
        state = "running_low"
    else:
        return None
    assert order.expires_at is not None  # a prepaid order has a validity
    until = order.expires_at.astimezone(ZoneInfo(tenant.time_zone))
    figures = (
        f"Remaining: {left} of {amount} SMS, valid until {until:%Y-%m-%d %H:%M}"
        f" ({tenant.time_zone})"
    )
    return Notice(tenant, order, state, state, figures)


def _postpaid(tenant: TenantModel, order: OrderModel, now: datetime) -> Notice | None:
    spent = month_cost(tenant, order.channel, now)
    state = postpaid_status(order, spent)
    if state == "ordered":
        return None
    month = spending_month(tenant, now)
    figures = (
        f"This month ({month}, {tenant.time_zone}): USD {money.usd(spent)} spent;"
        f" warning at USD {money.usd(int(order.warning_cost or 0))},"
        f" prohibited at USD {money.usd(int(order.prohibit_cost or 0))}"
    )
    return Notice(tenant, order, state, f"{state} {month}", figures)


def _send(notice: Notice) -> int:
    """Claims the notice on its order, then publishes it; 0 when another run claimed it."""
    order = notice.order
    try:
        order.update(
            actions=[OrderModel.notices.add({notice.claim})],
            condition=OrderModel.order_number.exists() & ~OrderModel.notices.contains(notice.claim),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        return 0
    try:
        topics.publish(
            get_settings().notice_topic_arn,
            notice.subject(),
            notice.message(),
            {
                "tenant_id": order.tenant_id,
                "order_number": order.order_number,
                "state": notice.state,
            },
        )
    except Exception:
        order.update(actions=[OrderModel.notices.delete({notice.claim})])
        raise
    logger.warning(
        f"order {notice.state}: the operator is told on the notice topic",
        extra={
            "tenant": order.tenant_id,
            "order": order.order_number,
            "channel": order.channel,
            "state": notice.state,
        },
    )
    return 1
