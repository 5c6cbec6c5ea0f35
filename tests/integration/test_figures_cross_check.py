"""One mixed day of a tenant far from UTC (Asia/Kolkata, UTC+05:30) sending across its
local midnight, and every figure the tenant and the operator read about it (statistics
by day and range, expenses, channel statistics, the mission's progress, the dispatching
log, its total and its export, tenant-usage, the overview, the order's balance) held
against what was sent."""

import base64
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from cloudsms import clock, ids
from cloudsms.carriers.base import SubmitResult
from cloudsms.services import channels, orders, receipt_sweep, receipts, tenants
from cloudsms.services.orders import PackageFields
from cloudsms.services.redelivery import RetryLater
from cloudsms.services.submission import submit_mission_recipients, submit_queued
from cloudsms.settings import get_settings
from cloudsms.store.messages import MessageModel
from functions.reports import app as reports_app
from functions.send import app as send_app
from tests.integration.conftest import (
    PRICED,
    FakeContext,
    FakeGateway,
    accepted,
    add_priced_channel,
    api_event,
    count_changes,
    run_cli,
)
from tests.integration.missions_api import (
    call,
    get_mission,
    list_missions,
    list_of,
    post_form,
    queued_bodies,
)
from tests.unit import numberlist_corpus as corpus

ZONE = "Asia/Kolkata"
# 23:50 on 30 November in Kolkata, and 00:10 on 1 December: either side of its midnight
# (18:30 UTC), on one UTC date.
BEFORE_MIDNIGHT = datetime(2026, 11, 30, 18, 20, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2026, 11, 30, 18, 40, tzinfo=UTC)
NOV30, DEC1 = "2026-11-30", "2026-12-01"
# PRICED (conftest's): post-paid, no package; 0.012 a segment to +63, 0.0035 elsewhere
CHEAP = "CHEAP"  # prepaid: 0.00075 to +91, 0.0105 to +63, 0.0021 elsewhere
LONG_GSM = "A notification long enough to take two segments of GSM-7. " * 3  # 177: 2 parts
# 100 characters of UCS-2, with the signature "[Shop]" 106: two parts of 67.
UCS2_CONTENT = "通知" * 50


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """The platform's clock, and the time its ids are made of, read `moment`."""
    monkeypatch.setattr(clock, "now", lambda: moment)
    monkeypatch.setattr(ids, "time", SimpleNamespace(time=moment.timestamp))


def _receipt(route: str, uid: str, stat: str) -> None:
    params = {
        "tenant": "acme",
        "uid": uid,
        "secret": channels.get_channel(route).receipt_secret,
        "status": "1" if stat == "DELIVRD" else "2",
        "answer": f"id:c-{uid} stat:{stat} err:000",
    }
    assert receipts.record_receipt(route, params, clock.now()) == "moved"


def _one_off(
    to: str, route: str, text: str, result: SubmitResult, sms_type: str = "business"
) -> str:
    """POST /v1/sms to one number, and its submission answered with `result`."""
    body = {"to": [to], "text": text, "sms_type": sms_type, "channel": route}
    status, answer = call(send_app, "POST", "/v1/sms", "/v1/sms", body=body)
    assert status == 202, answer
    uid = answer["messages"][0]["uid"]
    submit_queued("acme", [uid], clock.now, gateway_factory=FakeGateway(result).factory)
    return str(uid)


def _submit_recipient(body: dict[str, Any], recipient: dict[str, Any], result: Any) -> str:
    """Submits one mission recipient of a bulk queue message; `result` None: the gateway
    call dies (the outcome is unknown, the claim stays)."""

    class Dying:
        def submit(self, submission: Any) -> SubmitResult:
            raise TimeoutError("read timeout")

    gateway = FakeGateway(result) if result is not None else Dying()
    try:
        submit_mission_recipients(
            {**body, "recipients": [recipient]}, clock.now, lambda channel: gateway
        )
    except RetryLater:
        assert result is None
    return str(recipient["uid"])


def _reports(path: str, resource: str, query: dict[str, str], role: str = "tenant") -> Any:
    count_changes()
    status, body = call(reports_app, "GET", path, resource, query=query, role=role)
    assert status == 200, body
    return body


def _export_rows(query: dict[str, str]) -> list[dict[str, str]]:
    event = api_event(
        "GET", "/v1/messages/export", "/v1/messages/export", query={**query, "format": "csv"}
    )
    response = reports_app.lambda_handler(event, FakeContext())
    assert response["statusCode"] == 200, response["body"]
    body = response["body"]
    text = base64.b64decode(body).decode("utf-8-sig") if response.get("isBase64Encoded") else body
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def day(aws, monkeypatch) -> Iterator[dict[str, Any]]:
    """The day: what was sent, and what came of each message."""
    tenants.create_tenant("acme", "Acme", ZONE, "00:00-23:59")
    tenants.create_tenant("ops", "Operator", "UTC")
    add_priced_channel()  # granted to acme
    channels.add_channel(
        CHEAP,
        "simulator",
        "http://127.0.0.1:9",
        "sim",
        "sim",
        "CloudSMS",
        prices_usd={"default": "0.0021", "by_country": {"91": "0.00075", "63": "0.0105"}},
    )
    _at(monkeypatch, BEFORE_MIDNIGHT - timedelta(days=1))
    package = orders.create_package(
        PackageFields(
            product_name="IN100",
            channel=CHEAP,
            payment_type="prepaid",
            sms_amount=100,
            validity_days=30,
        ),
        clock.now(),
    )
    order = orders.place_order("acme", package["package_id"], clock.now())

    # 23:50, 30 November in Kolkata.
    _at(monkeypatch, BEFORE_MIDNIGHT)
    code = _one_off("+639215347561", PRICED, "Your code is 123456", accepted(), "verify_code")
    _receipt(PRICED, code, "DELIVRD")
    undelivered = _one_off("+85291234568", PRICED, LONG_GSM, accepted())
    _receipt(PRICED, undelivered, "UNDELIV")
    refused = SubmitResult(accepted=False, reason="invalid destination")
    nacked = _one_off("+919876543214", CHEAP, "Your parcel is out", refused)

    rows = [
        ["Phone Number"],
        ["+919876543210"],
        ["+639215347566"],
        ["+85291234567"],
        ["+919876543211"],
        ["+919876543212"],
        ["+919876543213"],
        ["12345"],  # abnormal: never sent nor charged
    ]
    fields = {
        "name": "Diwali",
        "direction": "international",
        "sms_type": "marketing",
        "channel": CHEAP,
        "content": UCS2_CONTENT,
        "signature": "Shop",
    }
    status, mission = post_form("/v1/missions", fields, corpus.xlsx(rows))
    assert status in (200, 201, 202), mission
    bodies = [b for b in queued_bodies(aws) if "recipients" in b]
    body = {k: v for k, v in bodies[0].items() if k != "recipients"}
    recipients = {r["to"]: r for b in bodies for r in b["recipients"]}
    m_delivered = _submit_recipient(body, recipients["+919876543210"], accepted())
    m_rejected = _submit_recipient(body, recipients["+639215347566"], accepted())
    m_nacked = _submit_recipient(body, recipients["+85291234567"], refused)
    _receipt(CHEAP, m_delivered, "DELIVRD")
    _receipt(CHEAP, m_rejected, "REJECTD")

    # 00:10, 1 December in Kolkata: the rest of the mission, at the channel's pace.
    _at(monkeypatch, AFTER_MIDNIGHT)
    m_expired = _submit_recipient(body, recipients["+919876543211"], accepted())
    m_lost = _submit_recipient(body, recipients["+919876543212"], None)
    m_silent = _submit_recipient(body, recipients["+919876543213"], accepted())
    _receipt(CHEAP, m_expired, "EXPIRED")
    code2 = _one_off("+919876543215", CHEAP, "Your code is 654321", accepted(), "verify_code")
    _receipt(CHEAP, code2, "DELIVRD")
    silent = _one_off("+85291234569", CHEAP, "您好", accepted(), "marketing")
    yield {
        "order": order["order_number"],
        "mission": mission["mission_id"],
        "uids": [code, undelivered, nacked, m_delivered, m_rejected, m_nacked, m_expired]
        + [m_lost, m_silent, code2, silent],
    }


def _then_the_sweep(monkeypatch) -> None:
    later = AFTER_MIDNIGHT + timedelta(hours=get_settings().receipt_timeout_hours + 2)
    _at(monkeypatch, later)
    receipt_sweep.sweep(clock.now(), lambda: 1e9)


# What was sent, message by message, on Kolkata's dates:
# 30 Nov: code (PRICED +63, 1 seg, 0.012, delivered), undelivered (PRICED +852, 2 seg,
#   0.007, failed), nacked (CHEAP, refused at submit: 0, failed, its SMS back), mission
#   recipients +91 (2 seg, 0.0015, delivered), +63 (2 seg, 0.021, REJECTD: failed),
#   +852 (refused at submit: 0, failed, its 2 SMS back).
# 1 Dec: mission +91 EXPIRED (2 seg, 0.0015), +91 lost mid-call (UNKNOWN, not billed),
#   +91 silent (UNKNOWN by the sweep, 2 seg, 0.0015), code2 (CHEAP +91, 1 seg, 0.00075,
#   delivered), silent one-off (CHEAP +852, 1 seg UCS-2, 0.0021, UNKNOWN).
NOV30_ROW = {
    "date": NOV30,
    "total": 6,
    "submitted": 4,
    "delivered": 2,
    "failed": 4,
    "no_notification": 0,
    "pending": 0,
    "segments": 7,
    "cost_usd": "0.0415",
    "success_rate": round(2 / 6, 4),
}
DEC1_ROW = {
    "date": DEC1,
    "total": 5,
    "submitted": 4,
    "delivered": 1,
    "failed": 1,
    "no_notification": 3,
    "pending": 0,
    "segments": 6,
    "cost_usd": "0.00585",
    "success_rate": round(1 / 5, 4),
}
RANGE = {"from": NOV30, "to": DEC1}
# The log lists every message: 30 Nov 1 + 2 + 1 + 3 × 2, 1 Dec 1 + 1 + 3 × 2.
LOGGED_SEGMENTS = {NOV30: 10, DEC1: 8}


def test_statistics_by_day_and_range_hold_what_was_sent(day, monkeypatch):
    _then_the_sweep(monkeypatch)

    stats = _reports("/v1/statistics", "/v1/statistics", RANGE)
    assert stats["time_zone"] == ZONE
    assert stats["days"] == [NOV30_ROW, DEC1_ROW]
    for one in (NOV30, DEC1):
        alone = _reports("/v1/statistics", "/v1/statistics", {"from": one, "to": one})
        assert alone["days"] == [r for r in stats["days"] if r["date"] == one]
    operator = "/v1/admin/tenants/acme/statistics"
    assert (
        _reports(operator, "/v1/admin/tenants/{tenant_id}/statistics", RANGE, role="operator")
        == stats
    )


def test_expenses_and_tenant_usage_hold_the_cost(day, monkeypatch):
    _then_the_sweep(monkeypatch)

    expenses = _reports("/v1/statistics/expenses", "/v1/statistics/expenses", RANGE)
    assert expenses["rows"] == [
        {"date": DEC1, "route_id": CHEAP, "submitted": 4, "segments": 6}
        | {"cost_usd": "0.00585", "postpaid_cost_usd": "0"},
        {"date": NOV30, "route_id": PRICED, "submitted": 2, "segments": 3}
        | {"cost_usd": "0.019", "postpaid_cost_usd": "0.019"},
        {"date": NOV30, "route_id": CHEAP, "submitted": 2, "segments": 4}
        | {"cost_usd": "0.0225", "postpaid_cost_usd": "0"},
    ]
    assert expenses["total"] == {
        "submitted": 8,
        "segments": 13,
        "cost_usd": "0.04735",
        "postpaid_cost_usd": "0.019",
    }
    usage = run_cli("tenant-usage", "acme", "--from", NOV30, "--to", DEC1)
    assert [{k: v for k, v in d.items() if k != "postpaid_cost_usd"} for d in usage["days"]] == [
        NOV30_ROW,
        DEC1_ROW,
    ]
    assert usage["total"]["cost_usd"] == expenses["total"]["cost_usd"]
    assert usage["total"]["postpaid_cost_usd"] == expenses["total"]["postpaid_cost_usd"]
    assert usage["total"]["segments"] == expenses["total"]["segments"]
    assert usage["total"]["total"] == 11


def test_channel_statistics_hold_each_channels_messages(day, monkeypatch):
    _then_the_sweep(monkeypatch)

    def channel(route: str) -> list[dict[str, Any]]:
        path = f"/v1/admin/channels/{route}/statistics"
        body = _reports(path, "/v1/admin/channels/{route_id}/statistics", RANGE, role="operator")
        return [
            (d["date"], d["total"], d["submitted"], d["segments"], d["cost_usd"])
            for d in body["days"]
        ]

    assert channel(PRICED) == [(NOV30, 2, 2, 3, "0.019"), (DEC1, 0, 0, 0, "0")]
    assert channel(CHEAP) == [(NOV30, 4, 2, 4, "0.0225"), (DEC1, 5, 4, 6, "0.00585")]


def test_the_missions_progress_is_the_sum_of_its_messages(day, monkeypatch):
    _then_the_sweep(monkeypatch)
    count_changes()

    status, mission = get_mission(day["mission"])
    assert status == 200
    assert mission["phone_number_amount"] == 6
    assert mission["failure_amount"] == 1
    assert mission["progress"] == {
        "submitted": 4,
        "delivered": 1,
        "failed": 3,
        "no_notification": 2,
        "pending": 0,
    }
    messages = [
        MessageModel.get("acme", uid) for uid in day["uids"] if uid.startswith(day["mission"])
    ]
    assert len(messages) == 6
    assert {int(m.segments) for m in messages} == {2}
    # What its messages were charged as: the refused one's 2 came back to the order.
    assert mission["segments"] == 12
    # Its messages' list and the missions' list say the same.
    listed = list_of(day["mission"], "messages", {"page_size": "100"})
    statuses = [item["status"] for item in listed["items"]]
    assert listed["total"] == len(statuses) == 6
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "delivered": 1,
        "failed": 3,
        "no_notification": 2,
    }
    [in_list] = list_missions()["items"]
    assert in_list["progress"] == mission["progress"]


def test_the_dispatching_log_its_total_and_export_count_each_day(day, monkeypatch):
    _then_the_sweep(monkeypatch)
    for one, row in ((NOV30, NOV30_ROW), (DEC1, DEC1_ROW)):
        query = {"from": one, "to": one}
        total = _reports("/v1/messages/total", "/v1/messages/total", query)
        page = _reports("/v1/messages", "/v1/messages", {**query, "page_size": "100"})
        exported = _export_rows(query)
        assert total == {"total": row["total"], "total_exact": True}
        assert len(page["items"]) == row["total"]
        assert len(exported) == row["total"]
        for status in ("delivered", "failed", "no_notification"):
            counted = _reports(
                "/v1/messages/total", "/v1/messages/total", {**query, "status": status}
            )
            assert counted["total"] == row[status], (one, status)
        exported_statuses = {
            status: sum(r["SMS Status"] == label for r in exported)
            for status, label in (
                ("delivered", "Delivered"),
                ("failed", "Failed"),
                ("no_notification", "No Delivery Notification"),
            )
        }
        assert exported_statuses == {s: row[s] for s in exported_statuses}
        # Every message's segments, those no gateway took too (statistics: submitted ones).
        assert sum(int(r["Segment Quantity"]) for r in exported) == LOGGED_SEGMENTS[one]


def test_the_overview_and_the_order_balance(day):
    count_changes()
    status, overview = call(reports_app, "GET", "/v1/overview", "/v1/overview", query={})
    assert status == 200, overview
    # 00:10 in Kolkata, before the sweep: today is 1 December, as its statistics say.
    [today] = _reports("/v1/statistics", "/v1/statistics", {"from": DEC1, "to": DEC1})["days"]
    assert overview["today"] == today
    assert (today["total"], today["submitted"], today["pending"]) == (5, 4, 3)
    # CHEAP: 6 mission recipients of 2 SMS and 3 one-offs of 1 taken: 15; the refused
    # one-off (1) and mission recipient (2) came back.
    status, listed = call(reports_app, "GET", "/v1/orders", "/v1/orders", query={})
    assert status == 200, listed
    [order] = [o for o in listed["items"] if o["order_number"] == day["order"]]
    assert order["remaining"] == 100 - 15 + 3


def test_a_mission_message_sent_days_after_its_dispatch_is_in_that_days_log(aws, monkeypatch):
    """A paused channel holds a mission's messages on the queue as long as the pause
    lasts (and a redrive sends a dead-lettered one days later): the statistics count such
    a message on the day it went out, and so must the log, its total and its export."""
    tenants.create_tenant("acme", "Acme", ZONE, "00:00-23:59")
    channels.add_channel(PRICED, "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
    channels.assign_channel("acme", PRICED)
    _at(monkeypatch, BEFORE_MIDNIGHT)
    fields = {
        "name": "Held",
        "direction": "international",
        "sms_type": "business",
        "channel": PRICED,
        "content": "Hello",
    }
    status, mission = post_form(
        "/v1/missions", fields, corpus.xlsx([["Phone Number"], ["+919876543210"]])
    )
    assert status in (200, 201, 202), mission
    [body] = [b for b in queued_bodies(aws) if "recipients" in b]
    three_days_later = BEFORE_MIDNIGHT + timedelta(days=3)
    _at(monkeypatch, three_days_later)
    _submit_recipient(body, body["recipients"][0], accepted())
    that_day = {"from": "2026-12-03", "to": "2026-12-03"}

    [row] = _reports("/v1/statistics", "/v1/statistics", that_day)["days"]
    total = _reports("/v1/messages/total", "/v1/messages/total", that_day)
    page = _reports("/v1/messages", "/v1/messages", that_day)

    assert row["total"] == 1
    assert total == {"total": 1, "total_exact": True}
    assert [item["mission_id"] for item in page["items"]] == [mission["mission_id"]]
    assert len(_export_rows(that_day)) == 1
