"""The dispatching log and its export, and the account overview, through the reports
handler against moto.

Messages are stored as the send and submit steps store them, with uids made at the
times the tests need (a uid starts with its milliseconds, a mission message's with its
mission id), so that time ranges can be tried without waiting.
"""

import base64
import csv
import io
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.integration.conftest import api_event, count_changes, queue_sms

NOW = datetime.now(UTC)
HOUR = timedelta(hours=1)


def _ms(moment: datetime) -> str:
    return f"{int(moment.timestamp() * 1000):012X}"


def _one_off_uid(moment: datetime) -> str:
    return _ms(moment) + secrets.token_hex(9).upper()


def _store(
    uid: str,
    created_at: datetime,
    to: str = "+639215347566",
    dr_state: str = "DELIVRD",
    sms_type: str = "business",
    mission_id: str | None = None,
    tenant_id: str = "acme",
) -> str:
    from cloudsms.store.messages import MessageModel

    MessageModel(
        tenant_id=tenant_id,
        uid=uid,
        to=to,
        text="Hello Amy, your pin code is 123456",
        encoding="GSM-7",
        segments=1,
        sms_type=sms_type,
        channel="SIM",
        sender="CloudSMS",
        mission_id=mission_id,
        dispatch_day=created_at.date().isoformat(),
        dr_state=dr_state,
        created_at=created_at,
        submitted_at=created_at,
        receipt_at=created_at + timedelta(seconds=3) if dr_state == "DELIVRD" else None,
        expires_at=int(created_at.timestamp()) + 86400,
    ).save()
    return uid


def _mission(name: str, created_at: datetime, dispatched_at: datetime | None) -> str:
    from cloudsms.store.missions import MissionModel

    mission_id = _ms(created_at) + secrets.token_hex(3).upper()
    MissionModel(
        tenant_id="acme",
        mission_id=mission_id,
        name=name,
        name_folded=name.casefold(),
        direction="international",
        sms_type="business",
        content="Hello ${Name}",
        channel="SIM",
        status="Sent" if dispatched_at else "Scheduled",
        dispatch_at=dispatched_at,
        dispatching_date=dispatched_at,
        created_at=created_at,
        updated_at=created_at,
    ).save()
    return mission_id


def _mission_message(mission_id: str, row: int, created_at: datetime, **fields: Any) -> str:
    return _store(f"{mission_id}{row:012X}", created_at, mission_id=mission_id, **fields)


def _get(context, path: str, query: dict[str, str] | None = None, **kwargs: Any) -> dict:
    from functions.reports import app

    return app.lambda_handler(api_event("GET", path, path, query=query, **kwargs), context)


def _log(context, **query: str) -> dict[str, Any]:
    response = _get(context, "/v1/messages", {k: v for k, v in query.items() if v is not None})
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def _total(context, **query: str) -> dict[str, Any]:
    response = _get(context, "/v1/messages/total", query)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def _uids(page: dict[str, Any]) -> list[str]:
    return [item["uid"] for item in page["items"]]


def _range(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def test_the_log_lists_messages_newest_first_with_masked_numbers(tenant, context):
    older = _store(_one_off_uid(NOW - 2 * HOUR), NOW - 2 * HOUR)
    newer = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, to="+639215347561")

    page = _log(context)

    assert _uids(page) == [newer, older]
    assert _total(context) == {"total": 2, "total_exact": True}
    first = page["items"][0]
    assert (first["country_code"], first["phone_number"]) == (63, "921****561")
    assert "+639215347561" not in json.dumps(page)


def test_a_message_sent_through_the_api_is_in_the_log_as_pending(tenant, context):
    uid = queue_sms(context, "+639215347566")

    [item] = _log(context)["items"]

    assert (item["uid"], item["status"], item["dr_state"]) == (uid, "pending", "QUEUED")
    assert item["route_id"] == "SIM"


def test_messages_outside_the_time_range_are_not_listed(tenant, context):
    _store(_one_off_uid(NOW - 30 * HOUR), NOW - 30 * HOUR)
    inside = _store(_one_off_uid(NOW - 5 * HOUR), NOW - 5 * HOUR)
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    page = _log(context, **_range(NOW - 6 * HOUR, NOW - 4 * HOUR))

    assert _uids(page) == [inside]


def test_a_time_without_an_offset_is_read_in_the_tenants_time_zone(tenant, context):
    # 10:00 in Shanghai is 02:00 UTC.
    moment = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)
    uid = _store(_one_off_uid(moment), moment)

    page = _log(context, **{"from": "2030-01-02T09:59:00", "to": "2030-01-02T10:01:00"})

    assert _uids(page) == [uid]


def test_a_mission_scheduled_days_before_the_range_is_listed_when_dispatched_in_it(tenant, context):
    mission_id = _mission("Spring sale", NOW - 72 * HOUR, dispatched_at=NOW - 2 * HOUR)
    scheduled = _mission_message(mission_id, 2, NOW - 2 * HOUR)
    one_off = _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    page = _log(context, **_range(NOW - 3 * HOUR, NOW))

    assert _uids(page) == [one_off, scheduled]
    assert page["items"][1]["task_name"] == "Spring sale"


def test_a_mission_created_in_the_range_but_dispatched_after_it_is_not_listed(tenant, context):
    mission_id = _mission("Tomorrow", NOW - 2 * HOUR, dispatched_at=NOW + 20 * HOUR)
    _mission_message(mission_id, 2, NOW + 20 * HOUR)

    page = _log(context, **_range(NOW - 3 * HOUR, NOW))

    assert page["items"] == []


def test_the_uid_filter_finds_one_message_whatever_the_default_range(tenant, context):
    wanted = _store(_one_off_uid(NOW - 200 * HOUR), NOW - 200 * HOUR)
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    page = _log(context, uid=wanted.lower())

    assert _uids(page) == [wanted]


def test_the_phone_filter_takes_a_number_as_people_write_it(tenant, context):
    wanted = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, to="+639215347561")
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR, to="+639215347566")

    page = _log(context, phone="+63 921 534 7561")

    assert _uids(page) == [wanted]


def test_the_mission_filter_lists_only_the_named_missions_messages(tenant, context):
    sale = _mission("Spring sale", NOW - 3 * HOUR, dispatched_at=NOW - 3 * HOUR)
    other = _mission("Reminders", NOW - 2 * HOUR, dispatched_at=NOW - 2 * HOUR)
    wanted = [_mission_message(sale, row, NOW - 3 * HOUR) for row in (3, 2)]
    _mission_message(other, 2, NOW - 2 * HOUR)
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    page = _log(context, mission="sale")

    assert _uids(page) == wanted


def test_the_mission_filter_finds_a_name_in_any_case(tenant, context):
    sale = _mission("Spring Sale", NOW - 3 * HOUR, dispatched_at=NOW - 3 * HOUR)
    wanted = [_mission_message(sale, 2, NOW - 3 * HOUR)]

    page = _log(context, mission="spring sale")

    assert _uids(page) == wanted


def test_the_status_filter_lists_only_messages_with_that_outcome(tenant, context):
    failed = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, dr_state="UNDELIV")
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR, dr_state="DELIVRD")

    page = _log(context, status="failed")

    assert _uids(page) == [failed]


def test_the_sms_type_filter_lists_only_that_type(tenant, context):
    code = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, sms_type="verify_code")
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR, sms_type="marketing")

    page = _log(context, sms_type="verify_code")

    assert _uids(page) == [code]


def test_following_the_cursor_lists_every_message_once(tenant, context):
    mission_id = _mission("Early", NOW - 48 * HOUR, dispatched_at=NOW - 5 * HOUR)
    stored = [_mission_message(mission_id, row, NOW - 5 * HOUR) for row in (2, 3)]
    stored += [_store(_one_off_uid(NOW - n * HOUR), NOW - n * HOUR) for n in (1, 2, 3)]
    query = {**_range(NOW - 6 * HOUR, NOW), "page_size": "2"}

    seen, pages, cursor = [], 0, None
    while True:
        page = _log(context, **query, cursor=cursor)
        seen += _uids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(stored)
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_a_rarely_matching_filter_comes_back_short_with_a_cursor_to_continue(
    tenant, context, monkeypatch
):
    from cloudsms.services import dispatching_log

    monkeypatch.setattr(dispatching_log, "READ_BUDGET", 3)
    wanted = _store(_one_off_uid(NOW - 5 * HOUR), NOW - 5 * HOUR, dr_state="UNDELIV")
    for n in range(1, 5):
        _store(_one_off_uid(NOW - n * HOUR), NOW - n * HOUR)

    first = _log(context, status="failed")
    second = _log(context, status="failed", cursor=first["next_cursor"])

    assert first["items"] == [] and first["next_cursor"]
    assert _uids(second) == [wanted]
    # The total counts the whole log, past the page's short read.
    assert _total(context, status="failed") == {"total": 1, "total_exact": True}


def test_counting_a_rarely_matching_filter_stops_at_its_budget_and_says_so(
    tenant, context, monkeypatch
):
    from cloudsms.services import dispatching_log

    monkeypatch.setattr(dispatching_log, "COUNT_BUDGET", 3)
    monkeypatch.setattr(dispatching_log, "COUNT_PAGE_ITEMS", 2)
    for n in range(1, 6):
        _store(_one_off_uid(NOW - n * HOUR), NOW - n * HOUR, dr_state="UNDELIV")

    whole = _log(context, status="failed")

    assert len(whole["items"]) == 5
    # Two reads of two items passed the budget of three: "at least 4".
    assert _total(context, status="failed") == {"total": 4, "total_exact": False}


def test_another_tenants_messages_are_never_listed(tenant, context):
    from cloudsms.services import tenants

    tenants.create_tenant("other", "Other", "Asia/Shanghai")
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR, tenant_id="other")

    assert _log(context)["items"] == []


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"phone": "12"}, "phone number"),
        ({"from": "2030-01-02T10:00:00", "to": "2030-01-01T10:00:00"}, "after"),
        ({"from": "yesterday"}, "ISO 8601"),
        ({"from": "0001-01-01T00:00:00"}, "'from' must fall in the years 2000 to 2100"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "'to' must fall in the years 2000 to 2100"),
        ({"cursor": "bm90IGpzb24"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"[" * 1000 + b"]" * 1000).decode()}, "cursor"),
        ({"status": "lost"}, "status"),
    ],
)
def test_a_bad_filter_is_refused_with_its_reason(tenant, context, query, words):
    response = _get(context, "/v1/messages", query)

    assert response["statusCode"] == 400
    assert words in json.loads(response["body"])["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/messages/total", "/v1/messages/export"])
@pytest.mark.parametrize("query", [{"from": "0001-01-01T00:00:00"}, {"to": "9999-12-31T23:59:59"}])
def test_the_total_and_the_export_refuse_a_time_outside_the_years(tenant, context, path, query):
    response = _get(context, path, query)

    assert response["statusCode"] == 400
    assert "must fall in the years 2000 to 2100" in json.loads(response["body"])["error"]["message"]


# --- export ------------------------------------------------------------------------------


def _export(context, **query: str) -> dict[str, Any]:
    response = _get(context, "/v1/messages/export", query)
    assert response["statusCode"] == 200, response["body"]
    return response


def _header(response: dict[str, Any], name: str) -> str:
    return ", ".join(response["multiValueHeaders"][name])


def _body(response: dict[str, Any]) -> bytes:
    assert response["isBase64Encoded"]
    return base64.b64decode(response["body"])


def _sheet_rows(response: dict[str, Any]) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def test_the_xlsx_export_holds_the_log_with_masked_numbers(tenant, context):
    uid = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, to="+639215347561")

    response = _export(context, format="xlsx")

    assert _header(response, "Content-Type").startswith("application/vnd.openxmlformats")
    assert "attachment" in _header(response, "Content-Disposition")
    assert (_header(response, "X-Export-Rows"), _header(response, "X-Export-Truncated")) == (
        "1",
        "false",
    )
    header, row = _sheet_rows(response)
    assert header[:3] == ("Seq No.", "Country Code", "Phone Number")
    assert (header[11], header[13]) == ("P2P SMS Business", "SMS Status")
    assert (row[0], row[1], row[2], row[7]) == (1, 63, "921****561", uid)
    assert (row[11], row[13]) == ("MT", "Delivered")


def test_the_export_says_why_a_message_failed(tenant, context):
    from cloudsms.store.messages import MessageModel

    uid = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, dr_state="UNDELIV")
    MessageModel("acme", uid).update(
        actions=[
            MessageModel.error_code.set("001"),
            MessageModel.reason.set("Unknown subscriber (error 001)"),
        ]
    )
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    header, *rows = _sheet_rows(_export(context, format="xlsx"))

    assert header[-2:] == ("Error Code", "Reason")
    by_state = {row[14]: row[-2:] for row in rows}
    assert by_state == {
        "UNDELIV": ("001", "Unknown subscriber (error 001)"),
        "DELIVRD": (None, None),  # empty cells: nothing to say
    }


def test_the_csv_export_is_utf8_with_a_byte_order_mark(tenant, context):
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    body = _body(_export(context, format="csv"))

    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Seq No." and rows[1][2] == "921****566"


def test_the_export_uses_the_same_filters_as_the_log(tenant, context):
    failed = _store(_one_off_uid(NOW - HOUR), NOW - HOUR, dr_state="UNDELIV")
    _store(_one_off_uid(NOW - HOUR), NOW - HOUR)

    rows = _sheet_rows(_export(context, status="failed"))

    assert [row[7] for row in rows[1:]] == [failed]


def test_an_export_stops_at_its_row_limit_and_says_so(tenant, context, monkeypatch):
    from cloudsms.services import exports

    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    for n in (1, 2, 3):
        _store(_one_off_uid(NOW - n * HOUR), NOW - n * HOUR)

    response = _export(context)

    assert (_header(response, "X-Export-Rows"), _header(response, "X-Export-Truncated")) == (
        "2",
        "true",
    )
    assert len(_sheet_rows(response)) == 3


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_stops_at_its_size_limit_and_says_so(tenant, context, monkeypatch, file_format):
    from cloudsms.services import exports
    from cloudsms.store.messages import MessageModel

    with MessageModel.batch_write() as batch:
        for n in range(400):
            moment = NOW - timedelta(seconds=n + 1)
            batch.save(
                MessageModel(
                    tenant_id="acme",
                    uid=_one_off_uid(moment),
                    to="+639215347566",
                    text=secrets.token_hex(60),
                    encoding="GSM-7",
                    segments=1,
                    sms_type="business",
                    channel="SIM",
                    dispatch_day=moment.date().isoformat(),
                    dr_state="DELIVRD",
                    created_at=moment,
                    expires_at=int(moment.timestamp()) + 86400,
                )
            )
    monkeypatch.setattr(exports, "MAX_FILE_BYTES", 20_000)

    response = _export(context, format=file_format)

    assert len(_body(response)) <= 20_000
    assert _header(response, "X-Export-Truncated") == "true"
    assert 0 < int(_header(response, "X-Export-Rows")) < 400


# --- overview ------------------------------------------------------------------------------


def test_the_overview_names_the_route_ids_and_never_the_key(tenant, context):
    response = _get(context, "/v1/overview")

    assert response["statusCode"] == 200
    overview = json.loads(response["body"])
    assert overview["route_ids"] == ["SIM"]
    assert overview["time_zone"] == "Asia/Shanghai"
    assert tenant["key"] not in response["body"]


def test_the_overview_counts_todays_messages(tenant, context, clock_at_an_hours_start):
    queue_sms(context, "+639215347566")
    count_changes()

    overview = json.loads(_get(context, "/v1/overview")["body"])

    assert overview["today"]["total"] == 1
