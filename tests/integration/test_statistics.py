"""GET /v1/statistics: SMS delivery statistics per dispatching date, from the counters."""

import json
from datetime import date, timedelta

from cloudsms.services import channels, receipts, tenants
from cloudsms.store.base import utcnow
from cloudsms.store.messages import MessageModel
from functions.reports import app as reports_app
from tests.integration.conftest import api_event, count_changes, queue_sms, submit_sms


def _statistics(context, query: dict[str, str] | None = None, tenant_id: str = "acme") -> dict:
    count_changes()  # what the Counters function does moments after each change
    event = api_event("GET", "/v1/statistics", "/v1/statistics", tenant_id=tenant_id, query=query)
    return reports_app.lambda_handler(event, context)


def _receipt(uid: str, stat: str, mask: str) -> None:
    params = {
        "tenant": "acme",
        "uid": uid,
        "secret": channels.get_channel("SIM").receipt_secret,
        "status": mask,
        "answer": f"id:c-1 stat:{stat} err:000",
    }
    assert receipts.record_receipt("SIM", params, utcnow()) == "moved"


def test_the_days_row_totals_what_was_sent_and_what_the_receipts_said(
    aws, tenant, context, clock_at_an_hours_start
):
    delivered = submit_sms(context, "+639215347566")
    failed = submit_sms(context, "+639215347561")
    submit_sms(context, "+639215347565")  # no receipt yet
    queue_sms(context, "+639215347567")  # not even submitted yet
    _receipt(delivered, "DELIVRD", "1")
    _receipt(failed, "UNDELIV", "2")
    day = MessageModel.get("acme", delivered).dispatch_day

    response = _statistics(context, {"from": day, "to": day})

    assert response["statusCode"] == 200
    [row] = json.loads(response["body"])["days"]
    assert row == {
        "date": day,
        "total": 4,
        "submitted": 3,
        "delivered": 1,
        "failed": 1,
        "no_notification": 0,
        "pending": 2,
        "segments": 3,
        "cost_usd": "0",
        "success_rate": 0.5,
    }


def test_there_is_a_row_for_every_day_of_the_range_with_zeros_where_nothing_was_sent(
    aws, tenant, context
):
    uid = submit_sms(context, "+639215347566")
    day = date.fromisoformat(MessageModel.get("acme", uid).dispatch_day)
    first = day - timedelta(days=2)

    response = _statistics(context, {"from": first.isoformat(), "to": day.isoformat()})

    days = json.loads(response["body"])["days"]
    assert [row["date"] for row in days] == [
        (first + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert [row["total"] for row in days] == [0, 0, 1]
    assert days[0]["success_rate"] is None


def test_the_last_seven_days_are_shown_by_default_in_the_tenants_time_zone(
    aws, tenant, context, clock_at_an_hours_start
):
    uid = submit_sms(context, "+639215347566")
    today = MessageModel.get("acme", uid).dispatch_day

    body = json.loads(_statistics(context)["body"])

    assert body["time_zone"] == "Asia/Shanghai"
    assert len(body["days"]) == 7
    assert body["days"][-1]["date"] == today
    assert body["days"][-1]["total"] == 1


def test_another_tenants_sends_are_not_in_the_statistics(aws, tenant, context):
    tenants.create_tenant("globex", "Globex", "Asia/Shanghai")
    uid = submit_sms(context, "+639215347566")
    day = MessageModel.get("acme", uid).dispatch_day

    response = _statistics(context, {"from": day, "to": day}, tenant_id="globex")

    assert json.loads(response["body"])["days"][0]["total"] == 0


def test_from_after_to_is_a_bad_request(aws, tenant, context):
    response = _statistics(context, {"from": "2025-03-02", "to": "2025-03-01"})

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "bad_request"


def test_a_range_of_more_than_a_year_is_a_bad_request(aws, tenant, context):
    response = _statistics(context, {"from": "2024-01-01", "to": "2025-01-01"})

    assert response["statusCode"] == 400


def test_a_date_that_is_not_a_date_is_a_bad_request(aws, tenant, context):
    response = _statistics(context, {"from": "2025-02-30"})

    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert error["code"] == "invalid_request"
    assert [detail["field"] for detail in error["details"]] == ["query.from"]


def test_a_date_outside_the_years_is_a_bad_request_naming_it(aws, tenant, context):
    response = _statistics(context, {"from": "2025-01-01", "to": "9999-12-31"})

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["message"] == (
        "'to' must fall in the years 2000 to 2100"
    )


def test_a_channels_statistics_refuse_a_date_outside_the_years(aws, tenant, context):
    path = "/v1/admin/channels/SIM/statistics"
    event = api_event(
        "GET",
        path,
        "/v1/admin/channels/{route_id}/statistics",
        path_parameters={"route_id": "SIM"},
        query={"from": "9999-12-31", "to": "9999-12-31"},
    )
    event["requestContext"]["authorizer"]["role"] = "operator"

    response = reports_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    assert "'to' must fall in the years" in json.loads(response["body"])["error"]["message"]


def test_a_mission_message_sent_after_midnight_counts_on_the_day_the_log_shows_it(
    aws, tenant, context
):
    """A big mission at a channel's pace, or a recipient held for their quiet hours, goes
    out after midnight although its mission was dispatched the day before: the day's
    statistics and the dispatching log of that day must count the same messages."""
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from cloudsms.domain.mission import MissionFields
    from cloudsms.services import dispatch, dispatching_log, missions
    from cloudsms.services.submission import submit_mission_recipients
    from cloudsms.services.tenants import get_tenant
    from tests.integration.conftest import FakeGateway, accepted
    from tests.integration.missions_api import GUIDE_FIELDS, numbers_list, queued_bodies

    # Days from today's: ids take the real time, and a mission made for a fixed date the
    # real clock has passed sorts where no log of that date looks (the test failed so).
    shanghai = ZoneInfo("Asia/Shanghai")
    today = datetime.now(shanghai).date()
    noon = datetime.combine(today + timedelta(days=1), time(12), shanghai)
    after_midnight = datetime.combine(today + timedelta(days=2), time(0, 0, 10), shanghai)
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": noon.isoformat()})
    acme = get_tenant("acme")
    created = missions.create_mission(
        acme, fields, numbers_list(["+639215347566"]), datetime.now(UTC)
    )
    assert dispatch.fire_scheduled("acme", created["mission_id"], noon) == "dispatched"
    (body,) = queued_bodies(aws)
    submit_mission_recipients(body, lambda: after_midnight, FakeGateway(accepted()).factory)

    days = [noon.date().isoformat(), after_midnight.date().isoformat()]
    query = {"from": days[0], "to": days[1]}
    statistics = json.loads(_statistics(context, query)["body"])["days"]
    logged = [
        dispatching_log.total("acme", dispatching_log.log_filter(acme, after_midnight, day, day))[
            "total"
        ]
        for day in days
    ]
    assert logged == [0, 1]
    assert [row["total"] for row in statistics] == logged
