"""The operator's view of one tenant's usage: its statistics and expenses over the API
(GET /v1/admin/tenants/{tenant_id}/statistics and …/statistics/expenses), as the tenant
reads them, and `cloudsms tenant-usage`, what a post-paid month is billed from: the
post-paid share of the cost, apart from what prepaid orders paid for."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from cloudsms import clock
from cloudsms.services import channels, orders, receipts, tenants
from cloudsms.services.orders import PackageFields
from cloudsms.services.submission import submit_queued
from functions.reports import app as reports_app
from tests.integration.conftest import (
    PRICED,
    FakeGateway,
    accepted,
    add_priced_channel,
    count_changes,
    queue_sms,
    run_cli,
)
from tests.integration.missions_api import call

DELIVERED_NUMBER = "+639215347566"
FAILED_NUMBER = "+639215347561"
LONG_TEXT = "A notification long enough to take two segments of GSM-7. " * 3  # 177 chars
STATISTICS = "/v1/admin/tenants/{tenant_id}/statistics"
EXPENSES = "/v1/admin/tenants/{tenant_id}/statistics/expenses"


@pytest.fixture
def operator(aws, tenant) -> str:
    """The operator's own tenant, whose operator key reads the others'; acme may send on
    PRICED too."""
    tenants.create_tenant("ops", "Operator", "UTC")
    add_priced_channel()
    return "ops"


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def _sent(
    context, to: str, text: str = "Hello", tenant_id: str = "acme", channel: str = PRICED
) -> str:
    """One message on `channel` that a gateway accepted, at the clock's time."""
    uid = queue_sms(context, to, channel=channel, tenant_id=tenant_id, text=text)
    gateway = FakeGateway(accepted(f"c-{uid}"))
    submit_queued(tenant_id, [uid], clock.now, gateway_factory=gateway.factory)
    return uid


def _receipt(uid: str, stat: str, mask: str) -> None:
    params = {
        "tenant": "acme",
        "uid": uid,
        "secret": channels.get_channel(PRICED).receipt_secret,
        "status": mask,
        "answer": f"id:c-{uid} stat:{stat} err:000",
    }
    assert receipts.record_receipt(PRICED, params, clock.now()) == "moved"


def _operator_reads(
    resource: str, tenant_id: str, query: dict[str, str] | None = None, role: str = "operator"
) -> tuple[int, Any]:
    count_changes()  # what the Counters function does moments after each change
    path = resource.replace("{tenant_id}", tenant_id)
    return call(reports_app, "GET", path, resource, query=query, tenant_id="ops", role=role)


def _tenant_reads(path: str, query: dict[str, str]) -> tuple[int, Any]:
    count_changes()
    return call(reports_app, "GET", path, path, query=query)


def _two_days_of_sending(context, monkeypatch) -> None:
    """acme (Shanghai) sends on 30 October: one delivered, one failed; and on 31 October
    a two-segment message with no receipt yet."""
    _at(monkeypatch, datetime(2026, 10, 30, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    _receipt(_sent(context, DELIVERED_NUMBER), "DELIVRD", "1")
    _receipt(_sent(context, FAILED_NUMBER), "UNDELIV", "2")
    _at(monkeypatch, datetime(2026, 10, 31, 2, 0, tzinfo=UTC))
    _sent(context, DELIVERED_NUMBER, text=LONG_TEXT)
    _at(monkeypatch, datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # read in November


OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


def test_the_operator_reads_what_the_tenant_reads_for_the_same_range(
    operator, context, monkeypatch
):
    _two_days_of_sending(context, monkeypatch)

    statistics_status, statistics = _operator_reads(STATISTICS, "acme", OCTOBER)
    expenses_status, expenses = _operator_reads(EXPENSES, "acme", OCTOBER)

    assert (statistics_status, expenses_status) == (200, 200), (statistics, expenses)
    assert statistics == _tenant_reads("/v1/statistics", OCTOBER)[1]
    assert expenses == _tenant_reads("/v1/statistics/expenses", OCTOBER)[1]
    # Not the operator's own tenant's (ops, which sent nothing, in UTC).
    assert statistics["time_zone"] == "Asia/Shanghai"
    assert [row["total"] for row in statistics["days"][-2:]] == [2, 1]
    assert expenses["total"] == {
        "submitted": 3,
        "segments": 4,
        "cost_usd": "0.048",
        "postpaid_cost_usd": "0.048",  # no prepaid order paid for any of it
    }


def test_a_tenants_key_may_not_read_another_tenants_usage(operator, context):
    statistics_status, _ = _operator_reads(STATISTICS, "acme", role="tenant")
    expenses_status, _ = _operator_reads(EXPENSES, "acme", role="tenant")

    assert (statistics_status, expenses_status) == (403, 403)


def test_a_tenant_that_does_not_exist_is_not_found_by_name(operator, context):
    statistics_status, statistics = _operator_reads(STATISTICS, "acmee")
    expenses_status, expenses = _operator_reads(EXPENSES, "acmee")

    assert (statistics_status, expenses_status) == (404, 404)
    assert statistics["error"]["message"] == "tenant acmee does not exist"
    assert expenses["error"]["message"] == "tenant acmee does not exist"


def test_the_days_are_the_tenants_own(operator, context, monkeypatch):
    """Tonga is at UTC+13: a message at 23:30 on 31 October there is 10:30 UTC that day,
    and an hour later Tonga is already in November while UTC is not."""
    tenants.create_tenant("tonga", "Tonga", "Pacific/Tongatapu")
    channels.assign_channel("tonga", PRICED)
    _at(monkeypatch, datetime(2026, 10, 31, 10, 30, tzinfo=UTC))
    _sent(context, DELIVERED_NUMBER, tenant_id="tonga")
    _at(monkeypatch, datetime(2026, 10, 31, 11, 30, tzinfo=UTC))  # 00:30 on 1 November

    _, last_seven = _operator_reads(STATISTICS, "tonga")
    _, october = _operator_reads(EXPENSES, "tonga", OCTOBER)
    _, november = _operator_reads(EXPENSES, "tonga", {"from": "2026-11-01", "to": "2026-11-30"})

    assert last_seven["time_zone"] == "Pacific/Tongatapu"
    assert [(row["date"], row["total"]) for row in last_seven["days"][-2:]] == [
        ("2026-10-31", 1),
        ("2026-11-01", 0),
    ]
    assert [(row["date"], row["submitted"]) for row in october["rows"]] == [("2026-10-31", 1)]
    assert november["total"]["submitted"] == 0


def test_the_console_command_prints_a_tenants_days_and_their_total(operator, context, monkeypatch):

    _two_days_of_sending(context, monkeypatch)
    count_changes()

    usage = run_cli("tenant-usage", "acme", "--from", "2026-10-30", "--to", "2026-11-01")

    assert (usage["tenant_id"], usage["time_zone"]) == ("acme", "Asia/Shanghai")
    assert (usage["from"], usage["to"]) == ("2026-10-30", "2026-11-01")
    assert [(row["date"], row["total"]) for row in usage["days"]] == [
        ("2026-10-30", 2),
        ("2026-10-31", 1),
        ("2026-11-01", 0),
    ]
    assert usage["total"] == {
        "total": 3,
        "submitted": 3,
        "delivered": 1,
        "failed": 1,
        "no_notification": 0,
        "pending": 1,
        "segments": 4,
        "cost_usd": "0.048",
        "success_rate": 0.5,
        "postpaid_cost_usd": "0.048",
    }


def test_the_console_command_refuses_a_tenant_that_does_not_exist(aws, monkeypatch):

    with pytest.raises(SystemExit, match="cloudsms: tenant acmee does not exist"):
        run_cli("tenant-usage", "acmee")


# --- a tenant that pays for some of its messages in advance -----------------------------

POSTPAID_ONLY = "PH_POST"  # 0.01 USD a segment; a post-paid package only


def _order(channel: str, **terms: Any) -> dict[str, Any]:
    fields = PackageFields.model_validate({"product_name": "SMM", "channel": channel, **terms})
    package = orders.create_package(fields, clock.now())
    return orders.place_order("acme", package["package_id"], clock.now())


def _prepaid_and_postpaid_sending(context, monkeypatch) -> dict[str, Any]:
    """acme orders 3 prepaid SMS and a post-paid package of PRICED, and a post-paid
    package of POSTPAID_ONLY, then sends on both over 30 and 31 October; read on 31
    October. Returns the post-paid orders by channel."""
    channels.add_channel(
        POSTPAID_ONLY,
        "simulator",
        "http://127.0.0.1:9",
        "sim",
        "sim",
        "CloudSMS",
        prices_usd={"default": "0.01", "by_country": {}},
    )
    _at(monkeypatch, datetime(2026, 10, 29, 2, 0, tzinfo=UTC))
    _order(PRICED, payment_type="prepaid", sms_amount=3, validity_days=30)
    postpaid = {
        channel: _order(channel, payment_type="postpaid", warning_usd="5", prohibit_usd="10")
        for channel in (PRICED, POSTPAID_ONLY)
    }
    _at(monkeypatch, datetime(2026, 10, 30, 2, 0, tzinfo=UTC))
    _sent(context, DELIVERED_NUMBER)  # prepaid: 0.012
    _sent(context, DELIVERED_NUMBER, channel=POSTPAID_ONLY)  # post-paid: 0.01
    _at(monkeypatch, datetime(2026, 10, 31, 2, 0, tzinfo=UTC))
    _sent(context, DELIVERED_NUMBER, text=LONG_TEXT)  # the last 2 prepaid SMS: 0.024
    _sent(context, DELIVERED_NUMBER)  # prepaid used up, so post-paid: 0.012
    _sent(context, DELIVERED_NUMBER, text=LONG_TEXT, channel=POSTPAID_ONLY)  # post-paid: 0.02
    return postpaid


def test_the_expenses_show_the_postpaid_share_the_postpaid_orders_spent(
    operator, context, monkeypatch
):
    postpaid = _prepaid_and_postpaid_sending(context, monkeypatch)

    status, expenses = _operator_reads(EXPENSES, "acme", OCTOBER)

    assert status == 200, expenses
    assert expenses == _tenant_reads("/v1/statistics/expenses", OCTOBER)[1]
    figures = ("date", "route_id", "submitted", "cost_usd", "postpaid_cost_usd")
    assert [tuple(row[name] for name in figures) for row in expenses["rows"]] == [
        ("2026-10-31", PRICED, 2, "0.036", "0.012"),
        ("2026-10-31", POSTPAID_ONLY, 1, "0.02", "0.02"),
        ("2026-10-30", PRICED, 1, "0.012", "0"),
        ("2026-10-30", POSTPAID_ONLY, 1, "0.01", "0.01"),
    ]
    assert expenses["total"] == {
        "submitted": 5,
        "segments": 7,
        "cost_usd": "0.078",
        "postpaid_cost_usd": "0.042",
    }
    # Channel by channel, what the post-paid orders show they spent this month (October).
    shares: dict[str, Decimal] = {}
    for row in expenses["rows"]:
        shares[row["route_id"]] = shares.get(row["route_id"], 0) + Decimal(row["postpaid_cost_usd"])
    numbers = {order["order_number"] for order in postpaid.values()}
    spent = {
        order["channel"]: Decimal(order["month_cost_usd"])
        for order in orders.list_orders("acme", clock.now())["items"]
        if order["order_number"] in numbers
    }
    assert spent == shares == {PRICED: Decimal("0.012"), POSTPAID_ONLY: Decimal("0.03")}


def test_the_console_command_prints_the_postpaid_share_per_day_and_in_total(
    operator, context, monkeypatch
):

    _prepaid_and_postpaid_sending(context, monkeypatch)
    count_changes()

    usage = run_cli("tenant-usage", "acme", "--from", "2026-10-30", "--to", "2026-10-31")

    assert [(row["date"], row["cost_usd"], row["postpaid_cost_usd"]) for row in usage["days"]] == [
        ("2026-10-30", "0.022", "0.01"),
        ("2026-10-31", "0.056", "0.032"),
    ]
    assert (usage["total"]["cost_usd"], usage["total"]["postpaid_cost_usd"]) == ("0.078", "0.042")
