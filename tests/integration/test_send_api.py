"""POST /v1/sms and GET /v1/sms/{uid} through the send function's handler."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from pynamodb.exceptions import PutError

from functions.missions import app as missions_app
from functions.send import app as send_app
from tests.integration.conftest import api_event, fail_the_second_batch_write


def _send(context, body, headers=None, tenant_id="acme"):
    event = api_event("POST", "/v1/sms", "/v1/sms", tenant_id=tenant_id, body=body, headers=headers)
    return send_app.lambda_handler(event, context)


def _queue_bodies(aws, logical):
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=aws.physical[logical], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_a_verify_code_is_accepted_and_queued_on_the_otp_queue(aws, tenant, context):
    response = _send(
        context,
        {
            "to": ["+639215347566"],
            "text": "Your code is 123456",
            "sms_type": "verify_code",
            "channel": "SIM",
        },
    )

    assert response["statusCode"] == 202
    [message] = json.loads(response["body"])["messages"]
    assert message["status"] == "queued"
    assert message["encoding"] == "GSM-7" and message["segments"] == 1
    assert _queue_bodies(aws, "OtpSubmitQueue") == [{"tenant_id": "acme", "uids": [message["uid"]]}]
    assert _queue_bodies(aws, "BulkSubmitQueue") == []


def test_marketing_goes_to_the_bulk_queue(aws, tenant, context):
    response = _send(
        context,
        {"to": ["+639215347566"], "text": "Sale today", "sms_type": "marketing", "channel": "SIM"},
    )

    assert response["statusCode"] == 202
    assert len(_queue_bodies(aws, "BulkSubmitQueue")) == 1
    assert _queue_bodies(aws, "OtpSubmitQueue") == []


def test_invalid_recipients_are_reported_each_with_a_reason_and_the_rest_sent(aws, tenant, context):
    response = _send(
        context,
        {
            "to": ["+639215347566", "12345", "+86 138 0013 8000"],
            "text": "你好",
            "sms_type": "business",
            "channel": "SIM",
        },
    )

    messages = json.loads(response["body"])["messages"]
    assert [m["status"] for m in messages] == ["queued", "rejected", "queued"]
    assert messages[1]["reason"] == "not a valid phone number"
    assert messages[2]["to"] == "+8613800138000"
    assert messages[0]["encoding"] == "UCS-2"


def test_blacklisted_numbers_are_rejected_and_the_rest_sent(aws, tenant, context):
    from cloudsms.services import blacklist
    from cloudsms.store.blacklist import PLATFORM

    blacklist.add_numbers("acme", ["+639215347561"], "asked to stop")
    blacklist.add_numbers(PLATFORM, ["+639215347562"], "operator's list")
    blacklist.add_numbers("other", ["+639215347566"], "another tenant's list")

    response = _send(
        context,
        {
            "to": ["+639215347561", "+639215347562", "+639215347566"],
            "text": "Your code is 123456",
            "sms_type": "verify_code",
            "channel": "SIM",
        },
    )

    messages = json.loads(response["body"])["messages"]
    assert [(m["status"], m["reason"]) for m in messages] == [
        ("rejected", "the number is on the blacklist"),
        ("rejected", "the number is on the blacklist"),
        ("queued", None),
    ]
    [queued] = _queue_bodies(aws, "OtpSubmitQueue")
    assert queued["uids"] == [messages[2]["uid"]]


def test_a_request_with_no_valid_recipient_is_refused_with_the_reasons(aws, tenant, context):
    response = _send(
        context, {"to": ["abc"], "text": "Hi", "sms_type": "business", "channel": "SIM"}
    )

    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert error["details"] == [{"to": "abc", "reason": "not a valid phone number"}]


def test_a_channel_not_assigned_to_the_tenant_is_forbidden(aws, tenant, context):
    response = _send(
        context, {"to": ["+639215347566"], "text": "Hi", "sms_type": "business", "channel": "OTHER"}
    )

    assert response["statusCode"] == 403
    error = json.loads(response["body"])["error"]
    assert (error["code"], error["message"]) == (
        "forbidden",
        "channel OTHER is not assigned to this tenant",
    )


def test_a_bad_body_names_each_problem(aws, tenant, context):
    response = _send(
        context,
        {
            "to": [],
            "text": "x" * 1501,
            "sms_type": "fax",
            "channel": "SIM",
            "sender": "MUCHTOOLONGSENDER",
        },
    )

    assert response["statusCode"] == 400
    fields = {d["field"] for d in json.loads(response["body"])["error"]["details"]}
    assert fields == {"to", "text", "sms_type", "sender"}


def test_a_text_with_a_nul_is_refused_and_nothing_is_queued(aws, tenant, context):
    response = _send(
        context,
        {
            "to": ["+639215347566"],
            "text": "Your code is\u0000 123456",
            "sms_type": "verify_code",
            "channel": "SIM",
        },
    )

    assert response["statusCode"] == 400
    assert "control character U+0000" in json.loads(response["body"])["error"]["message"]
    assert _queue_bodies(aws, "OtpSubmitQueue") == []


def test_a_text_of_only_a_zero_width_space_is_refused_as_empty_and_nothing_is_queued(
    aws, tenant, context
):
    response = _send(
        context,
        {"to": ["+639215347566"], "text": "\u200b", "sms_type": "verify_code", "channel": "SIM"},
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["message"] == "text: the content is empty"
    assert _queue_bodies(aws, "OtpSubmitQueue") == []


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_sends_once(
    aws, tenant, context
):
    body = {"to": ["+639215347566"], "text": "Code 1", "sms_type": "verify_code", "channel": "SIM"}
    first = _send(context, body, headers={"Idempotency-Key": "abc-1"})
    second = _send(context, body, headers={"Idempotency-Key": "abc-1"})

    assert json.loads(first["body"]) == json.loads(second["body"])
    assert len(_queue_bodies(aws, "OtpSubmitQueue")) == 1


def test_the_same_idempotency_key_with_another_body_is_a_conflict(aws, tenant, context):
    body = {"to": ["+639215347566"], "text": "Code 1", "sms_type": "verify_code", "channel": "SIM"}
    _send(context, body, headers={"Idempotency-Key": "abc-2"})
    response = _send(context, {**body, "text": "Code 2"}, headers={"Idempotency-Key": "abc-2"})

    assert response["statusCode"] == 409


def test_messages_stored_before_a_later_write_failed_are_refused_not_left_queued(
    aws, tenant, context, monkeypatch
):
    from cloudsms.services.sending import NOT_STORED, SendRequest, send_sms
    from cloudsms.services.tenants import get_tenant
    from cloudsms.store.messages import MessageModel

    fail_the_second_batch_write(monkeypatch)
    numbers = [f"+6391755501{n:02d}" for n in range(30)]  # 25 a request: two requests
    request = SendRequest(to=numbers, text="Hi", sms_type="business", channel="SIM")

    with pytest.raises(PutError):
        send_sms(get_tenant("acme"), request, datetime.now(UTC))

    stored = list(MessageModel.query("acme"))
    assert len(stored) == 25
    assert {(m.dr_state, m.reason) for m in stored} == {("LOCAL_REJECTED", NOT_STORED)}
    assert _queue_bodies(aws, "BulkSubmitQueue") == []


def test_a_message_reads_back_with_its_state(aws, tenant, context):
    sent = _send(
        context,
        {
            "to": ["+639215347566"],
            "text": "Hi",
            "sms_type": "business",
            "channel": "SIM",
            "sender": "ACME",
        },
    )
    uid = json.loads(sent["body"])["messages"][0]["uid"]

    event = api_event("GET", f"/v1/sms/{uid}", "/v1/sms/{uid}", path_parameters={"uid": uid})
    message = json.loads(send_app.lambda_handler(event, context)["body"])

    assert message["uid"] == uid
    assert message["dr_state"] == "QUEUED" and message["status"] == "pending"
    assert message["sender"] == "ACME" and message["route_id"] == "SIM"


def test_another_tenants_message_is_not_found(aws, tenant, context):
    sent = _send(
        context, {"to": ["+639215347566"], "text": "Hi", "sms_type": "business", "channel": "SIM"}
    )
    uid = json.loads(sent["body"])["messages"][0]["uid"]

    event = api_event(
        "GET", f"/v1/sms/{uid}", "/v1/sms/{uid}", tenant_id="other", path_parameters={"uid": uid}
    )
    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 404


def test_a_browser_on_the_portals_origin_may_read_the_answer(aws, tenant, context):
    event = api_event(
        "GET",
        "/v1/sms/NOPE",
        "/v1/sms/{uid}",
        path_parameters={"uid": "NOPE"},
        headers={"Origin": "https://portal.example.com"},
    )

    response = send_app.lambda_handler(event, context)

    headers = {
        **response.get("headers", {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    assert headers.get("Access-Control-Allow-Origin") == "*"


def test_a_body_that_is_not_json_is_refused_in_the_error_shape(aws, tenant, context):
    event = api_event(
        "POST",
        "/v1/sms",
        "/v1/sms",
        body={"to": ["+639215347566"], "text": "hi", "channel": "SIM"},
        headers={"Content-Type": "text/plain"},
    )

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 415
    error = json.loads(response["body"])["error"]
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"] and "text/plain" in error["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/sms", {"to": ["+639215347566"], "text": "hi", "channel": "SIM"}),
        ("/v1/missions", {"name": "m", "direction": "international", "content": "hi"}),
    ],
    ids=["validated-by-powertools", "read-by-the-handler"],
)
def test_a_json_body_sent_as_a_url_encoded_form_is_refused_without_echoing_it(
    aws, tenant, context, path, body
):
    # curl -d sends application/x-www-form-urlencoded unless told otherwise.
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    event = api_event("POST", path, path, body=body, headers=headers)

    response = (send_app if path == "/v1/sms" else missions_app).lambda_handler(event, context)

    assert response["statusCode"] == 415, response["body"]
    assert "application/json" in json.loads(response["body"])["error"]["message"]
    assert "639215347566" not in response["body"]


def test_a_body_that_does_not_parse_is_refused_naming_the_body(aws, tenant, context):
    event = api_event("POST", "/v1/sms", "/v1/sms")
    event["body"] = '{"to": ['

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["details"] == [
        {"field": "body", "reason": "not valid JSON"}
    ]


# A 2 KB body nested deeper than the JSON parser's recursion limit.
TOO_DEEP = "[" * 1000 + "]" * 1000


def test_a_body_nested_too_deeply_is_refused_as_invalid_json(aws, tenant, context):
    event = api_event("POST", "/v1/sms", "/v1/sms")
    event["body"] = TOO_DEEP

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert (error["code"], error["message"]) == ("invalid_request", "body: not valid JSON")


def test_a_number_too_long_to_read_is_refused_as_invalid_json(aws, tenant, context):
    # Python reads no integer over 4,300 digits: a 5 KB number in any field.
    event = api_event("POST", "/v1/sms", "/v1/sms")
    event["body"] = '{"to": ["+639215347566"], "text": ' + "1" * 5000 + "}"

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert (error["code"], error["message"]) == ("invalid_request", "body: not valid JSON")


def test_a_mission_body_nested_too_deeply_is_refused_as_invalid_json(aws, tenant, context):
    event = api_event("POST", "/v1/missions", "/v1/missions")
    event["body"] = TOO_DEEP

    response = missions_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["message"] == "the body is not valid JSON"


def test_a_multipart_body_without_its_boundary_is_refused_as_bad_not_a_crash(aws, tenant, context):
    event = api_event(
        "POST", "/v1/sms", "/v1/sms", body={}, headers={"Content-Type": "multipart/form-data"}
    )

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 400, response["body"]
    assert "boundary" in json.loads(response["body"])["error"]["message"]


def test_a_path_value_too_long_to_name_anything_is_not_found(aws, tenant, context, monkeypatch):
    from cloudsms.store.messages import MessageModel

    get = MessageModel.get.__func__  # type: ignore[attr-defined]

    def like_dynamodb(cls, tenant_id, uid, **kwargs):
        # moto reads any key; DynamoDB refuses a sort key over 1,024 bytes (a 500 here).
        if len(uid.encode()) > 1024:
            raise AssertionError("ValidationException: the sort key is too long")
        return get(cls, tenant_id, uid, **kwargs)

    monkeypatch.setattr(MessageModel, "get", classmethod(like_dynamodb))
    uid = "A" * 2000
    event = api_event("GET", f"/v1/sms/{uid}", "/v1/sms/{uid}", path_parameters={"uid": uid})

    response = send_app.lambda_handler(event, context)

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"
