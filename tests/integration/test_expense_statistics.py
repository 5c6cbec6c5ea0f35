"""Expense Statistics (GET /v1/statistics/expenses, the tenant's cost per dispatching date
and channel) and a channel's statistics per day (GET /v1/admin/channels/{route}/statistics,
the operator's), both from the counters the Messages stream keeps."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cloudsms import clock
from cloudsms.services import tenants
from cloudsms.services.submission import submit_queued
from cloudsms.store.messages import MessageModel
from functions.reports import app as reports_app
from tests.integration.conftest import (
    PRICED,
    FakeGateway,
    accepted,
    add_priced_channel,
    count_changes,
    queue_sms,
)
from tests.integration.missions_api import call

PH_NUMBER = "+639215347566"
HK_NUMBER = "+85291234567"
LONG_TEXT = "A notification long enough to take two segments of GSM-7. " * 3  # 177 chars


def _submitted(context, to: str, channel: str, text: str = "Hello", tenant_id: str = "acme") -> str:
    uid = queue_sms(context, to, channel=channel, tenant_id=tenant_id, text=text)
    gateway = FakeGateway(accepted(f"c-{uid}"))
    submit_queued(tenant_id, [uid], lambda: clock.now(), gateway_factory=gateway.factory)
    return uid


def _expenses(query: dict[str, str] | None = None, tenant_id: str = "acme") -> tuple[int, Any]:
    count_changes()  # what the Counters function does moments after each change
    path = "/v1/statistics/expenses"
    return call(reports_app, "GET", path, path, query=query, tenant_id=tenant_id)


def _channel_days(route: str, query: dict[str, str] | None = None, role: str = "operator"):
    count_changes()
    path = f"/v1/admin/channels/{route}/statistics"
    resource = "/v1/admin/channels/{route_id}/statistics"
    return call(reports_app, "GET", path, resource, query=query, role=role)


def test_each_channel_of_a_day_has_its_row_with_segments_and_cost(
    aws, tenant, context, clock_at_an_hours_start
):
    add_priced_channel()
    uid = _submitted(context, PH_NUMBER, PRICED)  # 1 segment at 0.012
    _submitted(context, PH_NUMBER, PRICED, text=LONG_TEXT)  # 2 segments at 0.012
    _submitted(context, HK_NUMBER, PRICED)  # 1 segment at the default 0.0035
    _submitted(context, PH_NUMBER, "SIM")  # free
    queue_sms(context, PH_NUMBER, channel="SIM")  # not submitted: costs nothing yet
    day = MessageModel.get("acme", uid).dispatch_day

    status, body = _expenses({"from": day, "to": day})

    assert status == 200, body
    assert body["time_zone"] == "Asia/Shanghai"
    # No prepaid order paid for any of it: all of its cost is post-paid.
    free = {"cost_usd": "0", "postpaid_cost_usd": "0"}
    priced = {"cost_usd": "0.0395", "postpaid_cost_usd": "0.0395"}
    assert body["rows"] == [
        {"date": day, "route_id": "SIM", "submitted": 1, "segments": 1, **free},
        {"date": day, "route_id": PRICED, "submitted": 3, "segments": 4, **priced},
    ]
    assert body["total"] == {"submitted": 4, "segments": 5, **priced}


def test_a_channel_that_submitted_nothing_has_no_row(aws, tenant, context):
    add_priced_channel()
    uid = queue_sms(context, PH_NUMBER, channel=PRICED)  # never reaches a gateway
    day = MessageModel.get("acme", uid).dispatch_day

    status, body = _expenses({"from": day, "to": day})

    assert status == 200
    assert body["rows"] == []
    assert body["total"] == {
        "submitted": 0,
        "segments": 0,
        "cost_usd": "0",
        "postpaid_cost_usd": "0",
    }


def test_days_outside_the_range_and_other_tenants_are_left_out(
    aws, tenant, context, clock_at_an_hours_start
):
    tenants.create_tenant("globex", "Globex", "Asia/Shanghai")
    add_priced_channel("globex")
    uid = _submitted(context, PH_NUMBER, PRICED)
    _submitted(context, PH_NUMBER, PRICED, tenant_id="globex")
    day = date.fromisoformat(MessageModel.get("acme", uid).dispatch_day)
    before = (day - timedelta(days=3)).isoformat(), (day - timedelta(days=1)).isoformat()

    _, earlier = _expenses({"from": before[0], "to": before[1]})
    _, globex = _expenses({"from": day.isoformat(), "to": day.isoformat()}, tenant_id="globex")

    assert earlier["rows"] == []
    assert [(row["route_id"], row["submitted"]) for row in globex["rows"]] == [(PRICED, 1)]


def test_the_last_seven_days_are_the_default_and_a_bad_range_is_refused(aws, tenant, context):
    uid = _submitted(context, PH_NUMBER, "SIM")
    today = MessageModel.get("acme", uid).dispatch_day

    _, default = _expenses()
    bad_status, bad = _expenses({"from": "2025-03-02", "to": "2025-03-01"})

    assert [row["date"] for row in default["rows"]] == [today]
    assert bad_status == 400 and "'from' is after 'to'" in bad["error"]["message"]


def test_a_channel_day_counts_every_tenant_and_every_outcome(
    aws, tenant, context, clock_at_an_hours_start
):
    tenants.create_tenant("globex", "Globex", "Asia/Shanghai")
    add_priced_channel("globex")
    uid = _submitted(context, PH_NUMBER, PRICED)
    _submitted(context, HK_NUMBER, PRICED, tenant_id="globex")
    queue_sms(context, PH_NUMBER, channel=PRICED)
    day = MessageModel.get("acme", uid).dispatch_day

    status, body = _channel_days(PRICED, {"from": day, "to": day})

    assert status == 200, body
    [row] = body["days"]
    assert body["route_id"] == PRICED
    assert (row["date"], row["total"], row["submitted"], row["pending"]) == (day, 3, 2, 3)
    assert (row["segments"], row["cost_usd"]) == (2, "0.0155")


def test_a_channels_statistics_by_default_take_in_today_of_a_tenant_ahead_of_utc(
    aws, tenant, context, monkeypatch
):
    from cloudsms import clock

    uid = _submitted(context, PH_NUMBER, "SIM")
    day = date.fromisoformat(MessageModel.get("acme", uid).dispatch_day)
    # The operator looks at 20:00 UTC the day before: already `day` in Shanghai
    monkeypatch.setattr(
        clock, "now", lambda: datetime.combine(day - timedelta(days=1), time(20), UTC)
    )

    status, body = _channel_days("SIM")

    assert status == 200, body
    assert body["days"][-1]["date"] == day.isoformat()
    assert body["days"][-1]["total"] == 1


def test_a_channels_statistics_are_the_operators_only_and_name_an_existing_channel(
    aws, tenant, context
):
    tenant_status, _ = _channel_days("SIM", role="tenant")
    missing_status, missing = _channel_days("NO_SUCH_ROUTE")

    assert tenant_status == 403
    assert missing_status == 404, missing
