"""The countries a tenant may send to, against SMS pumping: set by the operator (the admin
API, `cloudsms tenant-countries`), they reject each recipient elsewhere, with the reason,
wherever a recipient is accepted: POST /v1/sms, the CMI API and a mission's number list.
A tenant without them sends to every country, as before."""

import json
from typing import Any

import boto3
import pytest

from cloudsms.services import tenants
from cloudsms.store.messages import MessageModel
from functions.admin import app as admin_app
from functions.missions import app as missions_app
from functions.reports import app as reports_app
from functions.send import app as send_app
from tests.integration import missions_api as api
from tests.integration.conftest import api_event, run_cli
from tests.integration.missions_api import GUIDE_FIELDS, call, numbers_list, queued_recipients

PH = "+639215347566"
JM = "+18762101234"  # +1, as the US's numbers: told apart by the number
GB = "+447400123456"
NOT_JM = "country JM is not allowed for this tenant"
NOT_GB = "country GB is not allowed for this tenant"


def _allow(countries: Any, role: str = "operator", tenant_id: str = "acme") -> tuple[int, Any]:
    path = f"/v1/admin/tenants/{tenant_id}/countries"
    resource = "/v1/admin/tenants/{tenant_id}/countries"
    return call(admin_app, "PUT", path, resource, {"countries": countries}, role=role)


def _send(context: Any, to: list[str]) -> tuple[int, Any]:
    body = {"to": to, "text": "Your code is 123456", "sms_type": "verify_code", "channel": "SIM"}
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def philippines_and_us(tenant) -> dict[str, str]:
    """acme, whose operator lets it send to the Philippines and the US only."""
    assert _allow(["PH", "US"])[0] == 200
    return tenant


# --- setting them ------------------------------------------------------------------------


def test_the_operator_sets_a_tenants_countries_and_the_tenant_sees_them(aws, tenant):
    status, answer = _allow(["ph", " cn "])
    _, overview = call(reports_app, "GET", "/v1/overview", "/v1/overview")

    assert (status, answer) == (200, {"tenant_id": "acme", "countries": ["CN", "PH"]})
    assert overview["countries"] == ["CN", "PH"]


def test_null_gives_the_tenant_every_country_again(aws, tenant):
    _allow(["PH"])

    assert _allow(None) == (200, {"tenant_id": "acme", "countries": None})
    assert tenants.get_tenant("acme").countries is None


@pytest.mark.parametrize(
    ("countries", "role", "tenant_id", "status", "message"),
    [
        (["PH", "XX"], "operator", "acme", 400, "unknown country 'XX'"),
        (["Philippines"], "operator", "acme", 400, "unknown country 'Philippines'"),
        ([], "operator", "acme", 400, "null is every country"),
        (["PH"], "tenant", "acme", 403, ""),
        (["PH"], "operator", "nobody", 404, "tenant nobody does not exist"),
    ],
)
def test_setting_countries_is_the_operators_and_each_must_be_a_known_code(
    aws, tenant, countries, role, tenant_id, status, message
):
    answered, answer = _allow(countries, role=role, tenant_id=tenant_id)

    assert answered == status
    assert message in answer["error"]["message"]
    assert tenants.get_tenant("acme").countries is None


def test_the_operator_lists_the_tenants_with_their_countries(aws, philippines_and_us):
    tenants.create_tenant("globex", "Globex", "UTC")

    _, answer = call(admin_app, "GET", "/v1/admin/tenants", "/v1/admin/tenants", role="operator")

    listed = {t["tenant_id"]: t["countries"] for t in answer["tenants"]}
    assert listed == {"acme": ["PH", "US"], "globex": None}


def test_the_command_sets_the_countries_and_all_gives_every_country_again(aws, tenant):
    shown = run_cli("tenant-countries", "acme", "ph", "JM")
    [listed] = run_cli("tenant-list")
    every = run_cli("tenant-countries", "acme", "all")

    assert shown["countries"] == listed["countries"] == ["JM", "PH"]
    assert every["countries"] is None


def test_the_command_refuses_an_unknown_code_naming_it(aws, tenant):
    with pytest.raises(SystemExit) as exited:
        run_cli("tenant-countries", "acme", "PH", "UK")

    assert str(exited.value.code).startswith("cloudsms: unknown country 'UK'")
    assert tenants.get_tenant("acme").countries is None


# --- POST /v1/sms ------------------------------------------------------------------------


def test_a_recipient_in_a_country_not_allowed_is_rejected_and_the_rest_sent(
    aws, philippines_and_us, context
):
    status, answer = _send(context, [PH, JM, GB])

    assert status == 202
    assert [(m["to"], m["status"], m["reason"]) for m in answer["messages"]] == [
        (PH, "queued", None),
        (JM, "rejected", NOT_JM),
        (GB, "rejected", NOT_GB),
    ]
    assert [m.to for m in MessageModel.query("acme")] == [PH]


def test_a_request_with_every_recipient_in_countries_not_allowed_is_refused(
    aws, philippines_and_us, context
):
    status, answer = _send(context, [JM, GB])

    assert status == 400
    assert answer["error"]["message"] == "no recipient is valid"
    assert answer["error"]["details"] == [
        {"to": JM, "reason": NOT_JM},
        {"to": GB, "reason": NOT_GB},
    ]
    assert MessageModel.count("acme") == 0


def test_a_tenant_without_countries_sends_to_every_country(aws, tenant, context):
    status, answer = _send(context, [PH, JM, GB, "+8823421234"])

    assert status == 202
    assert {m["status"] for m in answer["messages"]} == {"queued"}


# --- the CMI API -------------------------------------------------------------------------


def test_a_cmi_number_in_a_country_not_allowed_is_an_unpriced_area(
    aws, philippines_and_us, context
):
    numbers = [
        {"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": "7400123456", "COUNTRY_CODE": 44},
    ]
    body = {
        "METHOD": "SMS_SEND_REQUEST",
        "TYPE": "REQUEST",
        "SERIAL": 7,
        "TIME": "2026-11-27 10:00:00",
        "AUTH_KEY": philippines_and_us["key"],
        "ROUTE_ID": "SIM",
        "VERSION": "2021-01-01",
        "SMS_CONTENT": "Your parcel arrives today",
        "MULTI_MSISDN_LIST": numbers,
    }
    event = api_event("POST", "/v1/cmi", "/v1/cmi", tenant_id=None)
    event["body"] = json.dumps(body)

    answer = json.loads(send_app.lambda_handler(event, context)["body"])

    sent, refused = answer["DETAIL_LIST"]
    assert (sent["RESULT_CODE"], sent["RESULT_DESC"]) == (1, "OK")
    assert (refused["RESULT_CODE"], refused["RESULT_DESC"]) == (0, "UNPRICED_AREA")
    assert refused["REASON"] == NOT_GB


# --- a mission's number list -------------------------------------------------------------


def test_a_missions_rows_in_countries_not_allowed_are_abnormal_with_their_row_and_reason(
    aws, philippines_and_us
):
    status, mission = api.create_with_list(numbers_list([PH, JM, GB]))

    assert status == 201, mission
    assert (mission["phone_number_amount"], mission["failure_amount"]) == (1, 2)
    assert api.list_of(mission["mission_id"], "abnormal")["items"] == [
        {"row": 3, "raw": JM, "reason": NOT_JM},
        {"row": 4, "raw": GB, "reason": NOT_GB},
    ]
    assert [r["to"] for r in queued_recipients(aws)] == [PH]


def test_a_mission_with_no_row_in_an_allowed_country_is_refused_naming_the_rows(
    aws, philippines_and_us
):
    status, refused = api.create_with_list(numbers_list([GB]))

    assert status == 400
    assert refused["error"]["details"] == [{"row": 2, "raw": GB, "reason": NOT_GB}]


def test_a_preview_counts_the_rows_in_countries_not_allowed_as_abnormal(aws, philippines_and_us):
    status, preview = api.post_form("/v1/missions/preview", GUIDE_FIELDS, numbers_list([PH, JM]))

    assert status == 200, preview
    assert (preview["phone_number_amount"], preview["failure_amount"]) == (1, 1)
    assert preview["abnormal"] == [{"row": 3, "raw": JM, "reason": NOT_JM}]


def test_an_uploaded_lists_rows_in_countries_not_allowed_are_abnormal(aws, philippines_and_us):
    status, mission = call(missions_app, "POST", "/v1/missions", "/v1/missions", GUIDE_FIELDS)
    assert status == 201, mission
    key = f"uploads/acme/{mission['mission_id']}/number-list"
    bucket = aws.environment["UPLOAD_BUCKET"]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=numbers_list([PH, GB]))

    api.ingest_object(bucket, key)

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"], sent["failure_amount"]) == ("Sent", 1, 1)
    assert api.list_of(mission["mission_id"], "abnormal")["items"] == [
        {"row": 3, "raw": GB, "reason": NOT_GB}
    ]
