"""POST /v1/cmi: the CMI CloudSMS Web API's JSON, as clients written for it send it."""

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from cloudsms.services import blacklist, channels, orders, tenants
from cloudsms.services.orders import PackageFields
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from functions.send import app as send_app
from tests.integration.conftest import api_event, submit_sms

NUMBER = {"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63}


def _post(context: Any, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    # No authorizer runs for this route: the event carries no authorizer context.
    event = api_event("POST", "/v1/cmi", "/v1/cmi", tenant_id=None, headers=headers)
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    response = send_app.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def _send_request(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "METHOD": "SMS_SEND_REQUEST",
        "TYPE": "REQUEST",
        "SERIAL": 7,
        "TIME": "2026-11-27 10:00:00",
        "AUTH_KEY": key,
        "ROUTE_ID": "SIM",
        "PRIORITY": 0,
        "VERSION": "2021-01-01",
        "SMS_CONTENT": "Your parcel arrives today",
        "ORIGINAL_ADDR": "ACME",
        "MULTI_MSISDN_LIST": [NUMBER],
        **fields,
    }


def _queued(aws: Any, logical: str) -> list[str]:
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=aws.physical[logical], MaxNumberOfMessages=10)
    return [uid for m in answer.get("Messages", []) for uid in json.loads(m["Body"])["uids"]]


def test_a_send_request_is_answered_in_the_cmi_shape_and_the_message_queued(aws, tenant, context):
    status, answer = _post(context, _send_request(tenant["key"]))

    assert status == 200
    [detail] = answer["DETAIL_LIST"]
    assert answer["RESULT_CODE"] == 1 and answer["RESULT_DESC"] == "OK"
    assert (answer["METHOD"], answer["TYPE"], answer["SERIAL"]) == ("SMS_SEND_REQUEST", "ANSWER", 7)
    assert datetime.strptime(answer["TIME"], "%Y-%m-%d %H:%M:%S")
    assert detail["RESULT_CODE"] == 1 and detail["RESULT_DESC"] == "OK"
    assert (detail["DEST_MSISDN"], detail["COUNTRY_CODE"]) == ("9215347566", 63)
    assert len(detail["SMS_UID"]) == 30
    message = MessageModel.get("acme", detail["SMS_UID"])
    assert (message.to, message.text, message.sender) == (
        "+639215347566",
        "Your parcel arrives today",
        "ACME",
    )
    assert (message.sms_type, message.channel) == ("business", "SIM")
    assert _queued(aws, "BulkSubmitQueue") == [detail["SMS_UID"]]


def test_numbers_written_with_a_trunk_zero_or_their_country_code_are_read(aws, tenant, context):
    numbers = [
        {"DEST_MSISDN": "09215347566", "COUNTRY_CODE": "63"},
        {"DEST_MSISDN": "639215347567", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": 13800138000, "COUNTRY_CODE": 86},
        # As people and address books write them.
        {"DEST_MSISDN": "+639215347568", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": "0921 534-7569", "COUNTRY_CODE": "+63"},
        {"DEST_MSISDN": "(0921) 534 7570", "COUNTRY_CODE": " 63 "},
    ]
    status, answer = _post(context, _send_request(tenant["key"], MULTI_MSISDN_LIST=numbers))

    assert status == 200
    uids = [d["SMS_UID"] for d in answer["DETAIL_LIST"]]
    assert [MessageModel.get("acme", uid).to for uid in uids] == [
        "+639215347566",
        "+639215347567",
        "+8613800138000",
        "+639215347568",
        "+639215347569",
        "+639215347570",
    ]
    # Each detail repeats the number as the client wrote it.
    assert [d["DEST_MSISDN"] for d in answer["DETAIL_LIST"]] == [n["DEST_MSISDN"] for n in numbers]


def test_a_number_that_is_none_is_refused_alone_and_the_others_sent(aws, tenant, context):
    numbers = [
        {"DEST_MSISDN": "92153x", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": "9215347566", "COUNTRY_CODE": "\u00b2"},  # isdigit(), yet no digit
        {"DEST_MSISDN": "+8613800138000", "COUNTRY_CODE": 63},  # which country is meant?
        # More digits than Python reads as one integer (4,300).
        {"DEST_MSISDN": "9215347567", "COUNTRY_CODE": "6" * 5000},
        NUMBER,
    ]
    status, answer = _post(context, _send_request(tenant["key"], MULTI_MSISDN_LIST=numbers))

    assert (status, answer["RESULT_CODE"]) == (200, 1)
    *refused, sent = answer["DETAIL_LIST"]
    assert [(d["RESULT_CODE"], d["RESULT_DESC"], d["REASON"]) for d in refused] == [
        (0, "INVALIDE_PARAMETER", "not a valid phone number"),
        (0, "INVALIDE_PARAMETER", "COUNTRY_CODE is not a country code"),
        (0, "INVALIDE_PARAMETER", "DEST_MSISDN has another country code than COUNTRY_CODE"),
        (0, "INVALIDE_PARAMETER", "COUNTRY_CODE is not a country code"),
    ]
    assert [d["DEST_MSISDN"] for d in refused] == [
        "92153x",
        "9215347566",
        "+8613800138000",
        "9215347567",
    ]
    assert _queued(aws, "BulkSubmitQueue") == [sent["SMS_UID"]]


def test_a_priority_above_zero_is_a_verify_code_unless_sms_type_says_otherwise(
    aws, tenant, context
):
    _, urgent = _post(context, _send_request(tenant["key"], PRIORITY=1))
    _, marketing = _post(context, _send_request(tenant["key"], PRIORITY=1, SMS_TYPE="MARKETING"))

    assert _queued(aws, "OtpSubmitQueue") == [urgent["DETAIL_LIST"][0]["SMS_UID"]]
    assert _queued(aws, "BulkSubmitQueue") == [marketing["DETAIL_LIST"][0]["SMS_UID"]]
    assert MessageModel.get("acme", marketing["DETAIL_LIST"][0]["SMS_UID"]).sms_type == "marketing"


def test_the_uip_envelope_is_read_and_answered_in_the_same_envelope(aws, tenant, context):
    request = {
        "uip_head": {
            "METHOD": "SMS_SEND_REQUEST",
            "SERIAL": "42",
            "TIME": "2026-11-27 10:00:00",
            "CHANNEL": "SIM",
            "AUTH_KEY": tenant["key"],
        },
        "uip_body": {
            "SMS_CONTENT": "Hello",
            "SIGNATURE": "Acme",
            "DESTINATION_ADDR": ["639215347566", "+8613800138000", "0063 921 534-7567"],
        },
        "uip_version": 2,
    }
    status, answer = _post(context, request)

    assert status == 200
    assert answer["uip_version"] == 2
    assert answer["uip_head"]["TYPE"] == "ANSWER" and answer["uip_head"]["SERIAL"] == "42"
    body = answer["uip_body"]
    assert body["RESULT_CODE"] == 1
    assert [d["DESTINATION_ADDR"] for d in body["DETAIL_LIST"]] == [
        "639215347566",
        "+8613800138000",
        "0063 921 534-7567",
    ]
    message = MessageModel.get("acme", body["DETAIL_LIST"][0]["SMS_UID"])
    assert message.to == "+639215347566" and message.text == "[Acme] Hello"
    assert MessageModel.get("acme", body["DETAIL_LIST"][2]["SMS_UID"]).to == "+639215347567"


@pytest.mark.parametrize(
    ("change", "status", "desc", "reason"),
    [
        (
            {"VERSION": "2019-01-01"},
            400,
            "INVALID_VERSION",
            "VERSION: Input should be '2021-01-01'",
        ),
        ({"METHOD": "SMS_PULL"}, 400, "INVALID_CONTEXT", "METHOD: Input should be"),
        ({"ROUTE_ID": ""}, 400, "INVALIDE_PARAMETER", "ROUTE_ID is missing"),
        (
            {"MULTI_MSISDN_LIST": [{"COUNTRY_CODE": 63}]},
            400,
            "INVALIDE_PARAMETER",
            "MULTI_MSISDN_LIST.0.DEST_MSISDN: Field required",
        ),
        ({"ROUTE_ID": "OTHER"}, 403, "CHANNEL_NOT_EXIST", "ROUTE_ID OTHER is not a channel"),
        ({"SMS_CONTENT": ""}, 400, "EMPTY_DATA", "SMS_CONTENT is empty"),
        ({"MULTI_MSISDN_LIST": []}, 400, "EMPTY_DATA", "MULTI_MSISDN_LIST has no number"),
        ({"MULTI_MSISDN_LIST": [NUMBER] * 101}, 400, "QUEUE_TO_LARGE", "at most 100"),
        (
            {"MULTI_MSISDN_LIST": [{"DEST_MSISDN": "92153x", "COUNTRY_CODE": 63}]},
            400,
            "INVALIDE_PARAMETER",
            "no number can be sent to",
        ),
        ({"ORIGINAL_ADDR": "A" * 16}, 400, "INVALIDE_PARAMETER", "ORIGINAL_ADDR: "),
        ({"SMS_TYPE": "promo"}, 400, "INVALIDE_PARAMETER", "SMS_TYPE: Input should be"),
        (
            {"PRIORITY": "high"},
            400,
            "INVALIDE_PARAMETER",
            "PRIORITY: Input should be a valid integer",
        ),
        ({"PRIORITY": -1}, 400, "INVALIDE_PARAMETER", "PRIORITY: Input should be greater than"),
        ({"AUTH_KEY": "csk_not-a-key"}, 401, "INVALID_AUTH_KEY", "AUTH_KEY is not a valid"),
        # JSON's escape of half a surrogate pair: no text, which no key is.
        ({"AUTH_KEY": "csk_\ud800"}, 400, "INVALIDE_PARAMETER", "AUTH_KEY: Input should be"),
        ({"AUTH_KEY": None}, 400, "INVALIDE_PARAMETER", "AUTH_KEY: Input should be a valid string"),
    ],
)
def test_a_refused_request_names_the_problem_and_sends_nothing(
    aws, tenant, context, change, status, desc, reason
):
    answered, answer = _post(context, _send_request(tenant["key"], **change))

    assert answered == status
    assert (answer["RESULT_CODE"], answer["RESULT_DESC"]) == (0, desc)
    assert reason in answer["REASON"]
    assert answer["SERIAL"] == 7  # the client can match the answer to its request
    assert _queued(aws, "BulkSubmitQueue") == [] and _queued(aws, "OtpSubmitQueue") == []


def test_a_request_refused_before_it_is_read_answers_the_tenants_time_too(aws, tenant, context):
    # The tenant's zone is Asia/Shanghai, 8 hours ahead of UTC: a refusal's TIME was UTC
    # when the request could not be read, though its key names the tenant.
    before = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    _, sent = _post(context, _send_request(tenant["key"]))
    _, refused = _post(context, _send_request(tenant["key"], PRIORITY=-1))
    after = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)

    assert refused["RESULT_DESC"] == "INVALIDE_PARAMETER"
    for answer in (sent, refused):
        assert before <= datetime.strptime(answer["TIME"], "%Y-%m-%d %H:%M:%S") <= after


def test_a_body_that_is_not_json_is_refused_in_the_cmi_shape(aws, tenant, context):
    status, answer = _post(context, "METHOD=SMS_SEND_REQUEST")

    assert status == 400
    assert answer["RESULT_DESC"] == "INVALIDE_PARAMETER"
    assert answer["REASON"] == "the body is not valid JSON"


def test_json_sent_under_a_form_content_type_is_read(aws, tenant, context):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, answer = _post(context, _send_request(tenant["key"]), headers)

    assert status == 200 and answer["RESULT_CODE"] == 1


def test_a_revoked_key_and_a_disabled_tenant_are_refused(aws, tenant, context):
    from cloudsms import cache

    tenants.revoke_key("acme", tenant["key_id"])
    cache.clear_all()
    assert _post(context, _send_request(tenant["key"]))[0] == 401

    fresh = tenants.issue_key("acme").key
    tenants.disable_tenant("acme", datetime.now(UTC))
    cache.clear_all()
    status, answer = _post(context, _send_request(fresh))
    assert (status, answer["RESULT_DESC"]) == (401, "INVALID_AUTH_KEY")


def test_each_number_is_answered_and_the_sendable_ones_sent(aws, tenant, context):
    blacklist.add_numbers("acme", ["+639215347561"], "asked to stop")
    numbers = [
        {"DEST_MSISDN": "9215347561", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": "12345", "COUNTRY_CODE": 63},
        NUMBER,
    ]
    status, answer = _post(context, _send_request(tenant["key"], MULTI_MSISDN_LIST=numbers))

    assert status == 200 and answer["RESULT_CODE"] == 1
    first, second, third = answer["DETAIL_LIST"]
    assert (first["RESULT_CODE"], first["RESULT_DESC"], first["SMS_UID"]) == (0, "INTERCEPT", None)
    assert (second["RESULT_DESC"], second["REASON"]) == (
        "INVALIDE_PARAMETER",
        "not a valid phone number",
    )
    assert third["RESULT_CODE"] == 1
    assert _queued(aws, "BulkSubmitQueue") == [third["SMS_UID"]]


def test_a_number_the_route_does_not_carry_is_an_unpriced_area(aws, tenant, context):
    channels.add_channel(
        "INTL",
        "simulator",
        "http://127.0.0.1:9",
        "sim",
        "sim",
        "CloudSMS",
        directions=["international"],
    )
    channels.assign_channel("acme", "INTL")
    numbers = [{"DEST_MSISDN": "13800138000", "COUNTRY_CODE": 86}]
    status, answer = _post(
        context, _send_request(tenant["key"], ROUTE_ID="INTL", MULTI_MSISDN_LIST=numbers)
    )

    assert status == 400
    assert (answer["RESULT_CODE"], answer["RESULT_DESC"]) == (0, "UNPRICED_AREA")
    [detail] = answer["DETAIL_LIST"]
    assert detail["REASON"] == "channel INTL does not carry mainland_china messages"


def test_sending_the_orders_cannot_pay_for_is_send_failed_with_the_reason(aws, tenant, context):
    fields = PackageFields(
        product_name="SMM", channel="SIM", payment_type="prepaid", sms_amount=1, validity_days=30
    )
    package = orders.create_package(fields, datetime.now(UTC))
    orders.place_order("acme", package["package_id"], datetime.now(UTC))
    two = [NUMBER, {"DEST_MSISDN": "9215347567", "COUNTRY_CODE": 63}]

    status, answer = _post(context, _send_request(tenant["key"], MULTI_MSISDN_LIST=two))

    assert (status, answer["RESULT_DESC"]) == (403, "SEND_FAILED")
    assert "have 1 SMS left; this needs 2" in answer["REASON"]


def test_a_retry_with_the_same_idempotency_key_sends_once(aws, tenant, context):
    headers = {"Idempotency-Key": "order-1234"}
    _, first = _post(context, _send_request(tenant["key"]), headers)
    _, again = _post(context, _send_request(tenant["key"]), headers)

    assert again["DETAIL_LIST"] == first["DETAIL_LIST"]
    assert _queued(aws, "BulkSubmitQueue") == [first["DETAIL_LIST"][0]["SMS_UID"]]


def _query(key: str, uids: Any) -> dict[str, Any]:
    return {
        "METHOD": "DR_QUERY",
        "TYPE": "REQUEST",
        "SERIAL": 8,
        "TIME": "2026-11-27 10:00:00",
        "AUTH_KEY": key,
        "VERSION": "2021-01-01",
        "SMS_UID": uids,
    }


def test_dr_query_reports_each_message_and_names_those_not_found(aws, tenant, context):
    submitted = submit_sms(context, "+639215347566")
    tenants.create_tenant("other", "Other", "UTC")
    channels.assign_channel("other", "SIM")
    others = tenants.issue_key("other").key
    _, theirs = _post(context, _send_request(others))
    their_uid = theirs["DETAIL_LIST"][0]["SMS_UID"]

    status, answer = _post(context, _query(tenant["key"], [submitted, "0" * 30, their_uid]))

    assert status == 200 and answer["RESULT_CODE"] == 1
    mine, unknown, not_mine = answer["DETAIL_LIST"]
    assert (mine["SMS_UID"], mine["RESULT_CODE"], mine["DR_STATE"]) == (submitted, 1, "SUBMITTED")
    assert (mine["DEST_MSISDN"], mine["COUNTRY_CODE"], mine["STATUS"]) == ("9215347566", 63, "sent")
    assert datetime.strptime(mine["SUBMIT_TIME"], "%Y-%m-%d %H:%M:%S")
    assert mine["DONE_TIME"] is None
    assert (unknown["RESULT_CODE"], unknown["RESULT_DESC"]) == (0, "EMPTY_DATA")
    assert (not_mine["RESULT_CODE"], not_mine["RESULT_DESC"]) == (0, "EMPTY_DATA")


def test_dr_query_without_uids_is_empty_data(aws, tenant, context):
    status, answer = _post(context, _query(tenant["key"], []))

    assert (status, answer["RESULT_DESC"], answer["METHOD"]) == (400, "EMPTY_DATA", "DR_QUERY")


def test_a_refused_uip_request_is_answered_in_the_uip_envelope(aws, tenant, context):
    request = {
        "uip_head": {"METHOD": "SMS_SEND_REQUEST", "SERIAL": 9, "AUTH_KEY": tenant["key"]},
        "uip_body": {"SMS_CONTENT": "Hello", "DESTINATION_ADDR": ["639215347566"]},
        "uip_version": 1,
    }
    status, answer = _post(context, request)

    assert status == 400
    assert answer["uip_head"]["SERIAL"] == 9 and answer["uip_head"]["TYPE"] == "ANSWER"
    assert answer["uip_body"]["RESULT_DESC"] == "INVALID_VERSION"
    assert answer["uip_body"]["REASON"] == "uip_version: Input should be 2"


def test_an_unregistered_sender_id_is_send_failed_with_the_reason(aws, tenant, context):
    tenants.set_sender_ids("acme", ["ACME Care"])

    status, answer = _post(context, _send_request(tenant["key"], ORIGINAL_ADDR="SHOP"))

    assert (status, answer["RESULT_DESC"]) == (403, "SEND_FAILED")
    assert answer["REASON"].startswith("sender id SHOP is not registered for this tenant")


def test_a_session_that_must_change_its_password_cannot_send(aws, tenant, context):
    from cloudsms.services import accounts
    from cloudsms.store.accounts import AccountModel

    accounts.create_account("acme_admin", "acme")  # with a temporary password
    # What logging in with it opens (log_in would ask for the image's verify code too).
    session = accounts._open_session(AccountModel.get("acme_admin"), datetime.now(UTC))

    status, answer = _post(context, _send_request(session.token))

    assert (status, answer["RESULT_CODE"], answer["RESULT_DESC"]) == (403, 0, "INVALID_AUTH_KEY")
    assert "temporary password" in answer["REASON"]
    assert _queued(aws, "BulkSubmitQueue") == []


def test_a_serial_that_is_not_one_is_refused_and_not_repeated(aws, tenant, context):
    # Nested deep enough that serialising it back would fail the answer (a 502).
    nested = json.dumps(_send_request(tenant["key"])).replace(
        '"SERIAL": 7', '"SERIAL": ' + "[" * 900 + "]" * 900
    )

    status, answer = _post(context, nested)

    assert (status, answer["RESULT_DESC"]) == (400, "INVALIDE_PARAMETER")
    assert answer["REASON"].startswith("SERIAL")
    assert answer["SERIAL"] is None


def test_fields_a_client_sends_as_null_or_in_its_own_form_are_read(aws, tenant, context):
    # A Java client's request object, serialised by Jackson: unset fields are null, and
    # TIME is whatever the client keeps, epoch milliseconds here.
    nulls = {"PRIORITY": None, "SIGNATURE": None, "SMS_TYPE": None, "TIME": 1795797265947}
    status, answer = _post(context, _send_request(tenant["key"], **nulls))

    assert (status, answer["RESULT_CODE"]) == (200, 1)
    assert _queued(aws, "BulkSubmitQueue") == [answer["DETAIL_LIST"][0]["SMS_UID"]]

    uid = answer["DETAIL_LIST"][0]["SMS_UID"]
    query = {**_query(tenant["key"], [uid]), "PRIORITY": None, "ROUTE_ID": None, "TIME": None}
    status, answer = _post(context, query)
    assert (status, answer["RESULT_CODE"]) == (200, 1)


def test_dr_query_answers_what_cannot_be_a_uid_without_looking_it_up(
    aws, tenant, context, monkeypatch
):
    submitted = submit_sms(context, "+639215347566")
    batch_get = batches.get

    def like_dynamodb(model: Any, keys: Any, **kwargs: Any) -> Any:
        # moto reads any key; DynamoDB refuses a sort key over 1,024 bytes, or an empty one.
        keys = list(keys)
        if any(not 0 < len(uid.encode()) <= 1024 for _, uid in keys):
            raise AssertionError("ValidationException: a key DynamoDB refuses")
        return batch_get(model, keys, **kwargs)

    monkeypatch.setattr(batches, "get", like_dynamodb)
    joined = ",".join([submitted] * 40)  # a client that joined its uids into one string
    asked = [joined, " ", submitted.lower()]

    status, answer = _post(context, _query(tenant["key"], asked))

    assert (status, answer["RESULT_CODE"]) == (200, 1)
    assert [(d["SMS_UID"], d["RESULT_DESC"]) for d in answer["DETAIL_LIST"]] == [
        (joined, "EMPTY_DATA"),
        (" ", "EMPTY_DATA"),
        (submitted.lower(), "OK"),  # a uid in lower case is the same uid
    ]


def test_an_idempotency_key_reused_for_another_request_is_not_busy(aws, tenant, context):
    headers = {"Idempotency-Key": "order-1234"}
    _post(context, _send_request(tenant["key"]), headers)

    status, answer = _post(context, _send_request(tenant["key"], SMS_CONTENT="Other"), headers)

    # BUSY tells a CMI client to send the same again, which would be refused forever.
    assert (status, answer["RESULT_CODE"], answer["RESULT_DESC"]) == (409, 0, "INVALIDE_PARAMETER")
    assert "Idempotency-Key was used before" in answer["REASON"]
