"""The Web API answers as web/openapi.json says: a call of each operation and its common
refusals, through the handlers, each answer checked against the operation's documented
responses (its status, its content type, and a JSON body against the schema); and the
status callback a tenant receives, against the document's webhook.

A generated client trusts that document: a status it does not list, or a file
documented as JSON, is an answer the client cannot read."""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cloudsms import clock
from cloudsms.services import accounts, callbacks, channels, receipts, tenants
from cloudsms.services.callbacks import CallbackRegistration
from cloudsms.services.submission import submit_queued
from functions.accounts import app as accounts_app
from functions.admin import app as admin_app
from functions.callbacks import app as callbacks_app
from functions.dlr_webhook import app as dlr_app
from functions.missions import app as missions_app
from functions.reports import app as reports_app
from functions.schedule import app as schedule_app
from functions.send import app as send_app
from tests.integration.callback_receiver import FakeCallbackReceiver
from tests.integration.conftest import (
    FakeGateway,
    accepted,
    api_event,
    function_url_event,
    queue_callback_events,
    queue_sms,
)
from tests.integration.missions_api import multipart
from tests.integration.submit_records import event, queued_records

DOCUMENT = json.loads((Path(__file__).parents[2] / "web" / "openapi.json").read_text())
NUMBER = "+639215347566"
CONTENT = "Hello ${Name}"
NUMBER_LIST = f"Phone Number,Name\n{NUMBER},Amy\n".encode()
WITH_ABNORMAL = NUMBER_LIST + b"12,Bob\n"  # a row that is not a number


def _content_type(response: dict[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {
        name: [value] for name, value in (response.get("headers") or {}).items()
    }
    kinds = next((v for k, v in headers.items() if k.lower() == "content-type"), [""])
    return kinds[0].split(";")[0].strip()


def _strict(schema: Any) -> Any:
    """The schema, with every object it describes field by field closed to other fields:
    the document leaves answers open (a client should take a field added later), but a
    field the code answers and the document does not name is the document drifting."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {k: _strict(v) for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


STRICT_COMPONENTS = _strict(DOCUMENT["components"])


def schema_problems(schema: dict[str, Any], body: Any) -> list[str]:
    """Where the body breaks the schema, closed (see _strict); date-times checked too."""
    validator = jsonschema.Draft202012Validator(
        {**_strict(schema), "components": STRICT_COMPONENTS},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    errors = validator.iter_errors(body)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def contract_problems(method: str, path: str, response: dict[str, Any]) -> list[str]:
    """How the answer differs from what the document says `method path` answers."""
    operation = DOCUMENT["paths"][path][method.lower()]
    status = str(response["statusCode"])
    where = f"{method} {path} {status}"
    documented = operation["responses"].get(status)
    if documented is None:
        return [f"{where}: status not documented (only {sorted(operation['responses'])})"]
    content = documented.get("content")
    body = response.get("body")
    if not content:
        return [f"{where}: a body, documented without one"] if body else []
    kind = _content_type(response)
    if kind not in content:
        return [f"{where}: answered {kind or 'no content type'}, documented {sorted(content)}"]
    if kind != "application/json":
        return []
    problems = schema_problems(content[kind].get("schema", {}), json.loads(body))
    return [f"{where}: {problem}" for problem in problems]


class Api:
    """Calls handlers as API Gateway would and keeps every difference from the document."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.problems: list[str] = []

    def call(
        self,
        app: Any,
        method: str,
        path: str,
        status: int,
        *,
        at: str | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        role: str = "tenant",
        principal: Any = None,
        form: tuple[dict[str, str], bytes] | None = None,
    ) -> dict[str, Any]:
        """`path` as the document names it, `at` the path called (default: `path`)."""
        event = api_event(method, at or path, path, body=body, query=query, headers=headers)
        event["requestContext"]["authorizer"]["role"] = role
        if principal is not None:
            event["requestContext"]["authorizer"].update(
                tenant_id=principal.tenant_id, role=principal.role, key_id=principal.key_id
            )
        if form is not None:
            data, content_type = multipart(*form, "numbers.csv")
            event["headers"]["Content-Type"] = content_type
            event["multiValueHeaders"]["Content-Type"] = [content_type]
            event["body"] = base64.b64encode(data).decode()
            event["isBase64Encoded"] = True
        return self._checked(method, path, status, app.lambda_handler(event, self.context))

    def receipt(self, method: str, path: str, at: str, status: int, query: dict) -> dict:
        response = dlr_app.lambda_handler(function_url_event(method, at, query), self.context)
        return self._checked(method, path, status, response)

    def _checked(self, method: str, path: str, status: int, response: dict) -> dict[str, Any]:
        assert response["statusCode"] == status, (method, path, response.get("body"))
        self.problems += contract_problems(method, path, response)
        kind = _content_type(response)
        response["json"] = json.loads(response["body"]) if kind == "application/json" else None
        return response


@pytest.fixture
def api(context) -> Api:
    return Api(context)


SMS = {"to": [NUMBER], "text": "Your code is 123456", "sms_type": "verify_code", "channel": "SIM"}
MISSION = {
    "name": "Contract",
    "direction": "international",
    "sms_type": "business",
    "channel": "SIM",
    "content": CONTENT,
}


def test_sending_answers_as_documented(tenant, api):
    sent = api.call(send_app, "POST", "/v1/sms", 202, body={**SMS, "to": [NUMBER, "12"]})
    uid = sent["json"]["messages"][0]["uid"]
    assert [m["status"] for m in sent["json"]["messages"]] == ["queued", "rejected"]
    api.call(send_app, "GET", "/v1/sms/{uid}", 200, at=f"/v1/sms/{uid}")
    api.call(send_app, "GET", "/v1/sms/{uid}", 404, at="/v1/sms/nope")
    api.call(send_app, "POST", "/v1/sms", 400, body={**SMS, "to": []})
    api.call(send_app, "POST", "/v1/sms", 403, body={**SMS, "channel": "OTHER"})
    key = {"Idempotency-Key": "k-1"}
    api.call(send_app, "POST", "/v1/sms", 202, body=SMS, headers=key)
    api.call(send_app, "POST", "/v1/sms", 409, body={**SMS, "text": "Another"}, headers=key)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    api.call(send_app, "POST", "/v1/sms", 415, body=SMS, headers=form)

    assert api.problems == []


CMI_SEND = {
    "METHOD": "SMS_SEND_REQUEST",
    "SERIAL": 1,
    "TIME": "2026-11-27 10:00:00",
    "ROUTE_ID": "SIM",
    "VERSION": "2021-01-01",
    "SMS_CONTENT": "Hello",
    "MULTI_MSISDN_LIST": [
        {"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63},
        {"DEST_MSISDN": "12", "COUNTRY_CODE": 63},
    ],
}


def test_the_cmi_api_answers_as_documented(tenant, api):
    send = {**CMI_SEND, "AUTH_KEY": tenant["key"]}
    sent = api.call(send_app, "POST", "/v1/cmi", 200, body=send)
    uid = sent["json"]["DETAIL_LIST"][0]["SMS_UID"]
    query = {"METHOD": "DR_QUERY", "AUTH_KEY": tenant["key"], "VERSION": "2021-01-01"}
    api.call(send_app, "POST", "/v1/cmi", 200, body={**query, "SMS_UID": [uid, "nope"]})
    uip = {
        "uip_head": {
            "METHOD": "SMS_SEND_REQUEST",
            "SERIAL": 2,
            "CHANNEL": "SIM",
            "AUTH_KEY": tenant["key"],
        },
        "uip_body": {"SMS_CONTENT": "Hello", "DESTINATION_ADDR": ["639215347566"]},
        "uip_version": 2,
    }
    api.call(send_app, "POST", "/v1/cmi", 200, body=uip)
    api.call(send_app, "POST", "/v1/cmi", 400, body={**send, "VERSION": "1"})
    api.call(send_app, "POST", "/v1/cmi", 400, body={**uip, "uip_version": 1})
    api.call(send_app, "POST", "/v1/cmi", 401, body={**send, "AUTH_KEY": "csk_nope"})
    api.call(send_app, "POST", "/v1/cmi", 403, body={**send, "ROUTE_ID": "OTHER"})
    key = {"Idempotency-Key": "k-1"}
    api.call(send_app, "POST", "/v1/cmi", 200, body=send, headers=key)
    api.call(send_app, "POST", "/v1/cmi", 409, body={**send, "SMS_CONTENT": "Bye"}, headers=key)

    assert api.problems == []


def test_missions_answer_as_documented(tenant, api):
    created = api.call(missions_app, "POST", "/v1/missions", 201, body=MISSION)
    mission_id = created["json"]["mission_id"]
    staged = api.call(missions_app, "POST", "/v1/missions", 201, form=(MISSION, WITH_ABNORMAL))
    api.call(missions_app, "POST", "/v1/missions/preview", 200, form=(MISSION, WITH_ABNORMAL))
    by_template = {**MISSION, "content": None, "template_id": "000000000000"}
    api.call(missions_app, "POST", "/v1/missions", 404, body=by_template)
    key = {"Idempotency-Key": "m-1"}
    api.call(missions_app, "POST", "/v1/missions", 201, body=MISSION, headers=key)
    api.call(missions_app, "POST", "/v1/missions", 409, body={**MISSION, "name": "B"}, headers=key)
    api.call(send_app, "GET", "/v1/missions", 200, query={"status": "uploading"})
    api.call(send_app, "GET", "/v1/missions", 400, query={"page_size": "101"})
    one = f"/v1/missions/{mission_id}"
    api.call(send_app, "GET", "/v1/missions/{mission_id}", 200, at=one)
    api.call(send_app, "GET", "/v1/missions/{mission_id}", 404, at="/v1/missions/nope")
    for part in ("messages", "abnormal", "blacklisted"):
        path = "/v1/missions/{mission_id}/" + part
        api.call(send_app, "GET", path, 200, at=f"{one}/{part}")
        at = f"/v1/missions/{staged['json']['mission_id']}/{part}"
        listed = api.call(send_app, "GET", path, 200, at=at)
        # Its messages are written as the submit queue is read, which is not here.
        assert listed["json"]["items"] or part != "abnormal"
    changes = {"dispatch_at": "2099-12-01T12:00:00+08:00"}
    api.call(schedule_app, "PATCH", "/v1/missions/{mission_id}", 409, at=one, body=changes)
    api.call(schedule_app, "POST", "/v1/missions/{mission_id}/cancel", 200, at=f"{one}/cancel")
    api.call(schedule_app, "POST", "/v1/missions/{mission_id}/cancel", 409, at=f"{one}/cancel")

    assert api.problems == []


def test_the_request_limit_answers_as_documented(tenant, api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 28, 4, 0, tzinfo=UTC))
    operator = {"role": "operator"}
    limit = "/v1/admin/tenants/{tenant_id}/request-limit"
    at = limit.format(tenant_id="acme")
    one = {"requests_per_second": 1, "burst": 1}
    api.call(admin_app, "PUT", limit, 200, at=at, body=one, **operator)
    api.call(admin_app, "PUT", limit, 400, at=at, body={"requests_per_second": -1}, **operator)
    api.call(admin_app, "PUT", limit, 404, at=limit.format(tenant_id="nope"), body=one, **operator)
    api.call(send_app, "POST", "/v1/sms", 202, body=SMS)
    refused = [
        api.call(send_app, "POST", "/v1/sms", 429, body=SMS),
        api.call(missions_app, "POST", "/v1/missions", 429, body=MISSION),
        api.call(send_app, "POST", "/v1/cmi", 429, body=CMI_SEND | {"AUTH_KEY": tenant["key"]}),
    ]
    api.call(admin_app, "GET", "/v1/admin/tenants", 200, **operator)

    assert api.problems == []
    assert all(r["multiValueHeaders"]["Retry-After"] == ["1"] for r in refused)


def test_templates_and_blacklists_answer_as_documented(tenant, api):
    template = {"name": "Welcome", "content": CONTENT, "sms_type": "business"}
    created = api.call(admin_app, "POST", "/v1/templates", 201, body=template)
    api.call(admin_app, "POST", "/v1/templates", 409, body=template)
    one = f"/v1/templates/{created['json']['template_id']}"
    api.call(admin_app, "GET", "/v1/templates", 200)
    api.call(admin_app, "GET", "/v1/templates/{template_id}", 200, at=one)
    api.call(admin_app, "GET", "/v1/templates/{template_id}", 404, at="/v1/templates/nope")
    api.call(admin_app, "PATCH", "/v1/templates/{template_id}", 200, at=one, body={"name": "Hi"})
    for file_format in ("xlsx", "csv"):
        query = {"content": CONTENT, "format": file_format}
        api.call(admin_app, "GET", "/v1/templates/number-list", 200, query=query)
    api.call(admin_app, "DELETE", "/v1/templates/{template_id}", 204, at=one)
    api.call(admin_app, "GET", "/v1/templates/common", 200)
    common = api.call(admin_app, "POST", "/v1/admin/templates", 201, body=template, role="operator")
    api.call(admin_app, "POST", "/v1/admin/templates", 403, body=template)
    at = f"/v1/admin/templates/{common['json']['template_id']}"
    path = "/v1/admin/templates/{template_id}"
    api.call(admin_app, "PATCH", path, 200, at=at, body={"name": "Hi"}, role="operator")
    api.call(admin_app, "DELETE", path, 204, at=at, role="operator")

    api.call(admin_app, "POST", "/v1/blacklist", 200, body={"numbers": [NUMBER, "12"]})
    api.call(admin_app, "POST", "/v1/blacklist/import", 200, form=({}, WITH_ABNORMAL))
    api.call(admin_app, "GET", "/v1/blacklist", 200)
    api.call(admin_app, "DELETE", "/v1/blacklist/{number}", 204, at=f"/v1/blacklist/{NUMBER}")
    api.call(admin_app, "DELETE", "/v1/blacklist/{number}", 404, at=f"/v1/blacklist/{NUMBER}")
    platform = {"role": "operator"}
    api.call(admin_app, "POST", "/v1/admin/blacklist", 200, body={"numbers": [NUMBER]}, **platform)
    api.call(admin_app, "GET", "/v1/admin/blacklist", 200, **platform)
    at = f"/v1/admin/blacklist/{NUMBER}"
    api.call(admin_app, "DELETE", "/v1/admin/blacklist/{number}", 204, at=at, **platform)

    assert api.problems == []


def test_the_operators_channels_packages_and_orders_answer_as_documented(tenant, api):
    operator = {"role": "operator"}
    channel = {
        "route_id": "KAN_PH",
        "gateway_type": "kannel",
        "endpoint": "http://127.0.0.1:13013/",
        "username": "kuser",
        "password": "gateway-pa55word",
        "default_sender": "CloudSMS",
    }
    api.call(admin_app, "POST", "/v1/admin/channels", 201, body=channel, **operator)
    api.call(admin_app, "POST", "/v1/admin/channels", 409, body=channel, **operator)
    api.call(admin_app, "GET", "/v1/admin/channels", 200, **operator)
    api.call(admin_app, "GET", "/v1/admin/tenants", 200, **operator)
    senders = "/v1/admin/tenants/{tenant_id}/sender-ids"
    registered = {"sender_ids": ["ACME"]}
    api.call(
        admin_app,
        "PUT",
        senders,
        200,
        at=senders.format(tenant_id="acme"),
        body=registered,
        **operator,
    )
    api.call(
        admin_app,
        "PUT",
        senders,
        404,
        at=senders.format(tenant_id="nope"),
        body=registered,
        **operator,
    )
    one = "/v1/admin/channels/KAN_PH"
    api.call(admin_app, "GET", "/v1/admin/channels/{route_id}", 200, at=one, **operator)
    api.call(admin_app, "GET", "/v1/admin/channels/{route_id}", 404, at=one + "X", **operator)
    path, changes = "/v1/admin/channels/{route_id}", {"throughput": 20}
    api.call(admin_app, "PATCH", path, 200, at=one, body=changes, **operator)
    paused = api.call(admin_app, "PATCH", path, 200, at=one, body={"paused": True}, **operator)
    assert paused["json"]["paused"] is True
    api.call(admin_app, "PATCH", path, 404, at=one + "X", body={"paused": True}, **operator)
    path = "/v1/admin/channels/{route_id}/statistics"
    api.call(reports_app, "GET", path, 200, at=f"{one}/statistics", **operator)
    for part in ("statistics", "statistics/expenses"):
        path = "/v1/admin/tenants/{tenant_id}/" + part
        api.call(reports_app, "GET", path, 200, at=f"/v1/admin/tenants/acme/{part}", **operator)
        api.call(reports_app, "GET", path, 404, at=f"/v1/admin/tenants/nope/{part}", **operator)
    path, at = "/v1/admin/tenants/{tenant_id}/channels", "/v1/admin/tenants/acme/channels"
    api.call(admin_app, "POST", path, 204, at=at, body={"route_id": "KAN_PH"}, **operator)
    path = "/v1/admin/tenants/{tenant_id}/channels/{route_id}"
    api.call(admin_app, "DELETE", path, 204, at=f"{at}/KAN_PH", **operator)

    package = {
        "product_name": "SMM",
        "channel": "SIM",
        "payment_type": "prepaid",
        "sms_amount": 10,
        "validity_days": 30,
    }
    created = api.call(admin_app, "POST", "/v1/admin/packages", 201, body=package, **operator)
    api.call(admin_app, "GET", "/v1/admin/packages", 200, **operator)
    path, at = "/v1/admin/tenants/{tenant_id}/orders", "/v1/admin/tenants/acme/orders"
    order = {"package_id": created["json"]["package_id"]}
    api.call(admin_app, "POST", path, 201, at=at, body=order, **operator)
    api.call(admin_app, "GET", path, 200, at=at, **operator)
    api.call(admin_app, "GET", path, 404, at="/v1/admin/tenants/nope/orders", **operator)
    secret = channels.get_channel("SIM").receipt_secret
    receipt = {"tenant": "acme", "uid": "nope", "secret": secret, "status": "1"}
    api.receipt("GET", "/dlr/{channel}", "/dlr/SIM", 200, receipt)  # matches no message
    unmatched = api.call(admin_app, "GET", "/v1/admin/receipts/unmatched", 200, **operator)
    assert unmatched["json"]["receipts"]

    assert api.problems == []


def test_the_status_callback_answers_as_documented(tenant, api):
    api.call(admin_app, "GET", "/v1/callback", 404)
    registration = {"url": "https://hooks.example.com/cloudsms"}
    api.call(admin_app, "PUT", "/v1/callback", 200, body=registration)
    api.call(admin_app, "GET", "/v1/callback", 200)
    api.call(admin_app, "DELETE", "/v1/callback", 204)
    api.call(admin_app, "DELETE", "/v1/callback", 204)  # none left: nothing to do

    assert api.problems == []


def test_reports_answer_as_documented(tenant, api):
    api.call(send_app, "POST", "/v1/sms", 202, body=SMS)
    for path in ("/v1/overview", "/v1/statistics", "/v1/statistics/expenses", "/v1/orders"):
        api.call(reports_app, "GET", path, 200)
    api.call(reports_app, "GET", "/v1/messages", 200)
    api.call(reports_app, "GET", "/v1/messages", 400, query={"phone": "921****566"})
    api.call(reports_app, "GET", "/v1/messages/total", 200)
    for file_format in ("xlsx", "csv"):
        api.call(reports_app, "GET", "/v1/messages/export", 200, query={"format": file_format})
    for _ in range(3):
        requested = api.call(reports_app, "POST", "/v1/messages/exports", 202)
    api.call(reports_app, "POST", "/v1/messages/exports", 429)
    at = f"/v1/messages/exports/{requested['json']['export_id']}"
    api.call(reports_app, "GET", "/v1/messages/exports/{export_id}", 200, at=at)
    api.call(reports_app, "GET", "/v1/messages/exports/{export_id}", 404, at=at + "0")

    assert api.problems == []


def test_portal_accounts_answer_as_documented(tenant, api, monkeypatch):
    monkeypatch.setattr(accounts, "_captcha_text", lambda: "AQVJ")
    fields = {"account_name": "CNX01_Adm", "tenant_id": "acme"}
    issued = api.call(accounts_app, "POST", "/v1/admin/accounts", 201, body=fields, role="operator")
    api.call(accounts_app, "POST", "/v1/admin/accounts", 409, body=fields, role="operator")
    path = "/v1/admin/tenants/{tenant_id}/accounts"
    api.call(accounts_app, "GET", path, 200, at="/v1/admin/tenants/acme/accounts", role="operator")
    captcha = api.call(accounts_app, "POST", "/v1/captchas", 201)
    log_in = {"account_name": "CNX01_Adm", "captcha_id": captcha["json"]["captcha_id"]}
    log_in |= {"password": issued["json"]["password"], "captcha": "aqvj"}
    api.call(accounts_app, "POST", "/v1/sessions", 401, body={**log_in, "password": "wrong"})
    captcha = api.call(accounts_app, "POST", "/v1/captchas", 201)
    log_in["captcha_id"] = captcha["json"]["captcha_id"]
    session = api.call(accounts_app, "POST", "/v1/sessions", 201, body=log_in)
    temporary = tenants.resolve_key(session["json"]["token"])
    api.call(send_app, "GET", "/v1/missions", 403, principal=temporary)
    change = {"current_password": log_in["password"], "new_password": "a-new-pa55word!"}
    changed = api.call(
        accounts_app, "POST", "/v1/account/password", 200, body=change, principal=temporary
    )
    session = tenants.resolve_key(changed["json"]["token"])
    api.call(accounts_app, "GET", "/v1/account", 200, principal=session)
    api.call(accounts_app, "GET", "/v1/account", 403)  # an API key, not a session
    api.call(accounts_app, "DELETE", "/v1/sessions/current", 204, principal=session)
    operator = {"role": "operator"}
    at = "/v1/admin/accounts/CNX01_Adm"
    for action in ("password-reset", "disable", "enable"):
        path = "/v1/admin/accounts/{account_name}/" + action
        api.call(accounts_app, "POST", path, 200, at=f"{at}/{action}", **operator)
    path = "/v1/admin/accounts/{account_name}/disable"
    api.call(accounts_app, "POST", path, 404, at="/v1/admin/accounts/nobody/disable", **operator)

    assert api.problems == []


def test_receipts_and_replies_answer_as_documented(tenant, api):
    secret = channels.get_channel("SIM").receipt_secret
    receipt = {"tenant": "acme", "uid": "nope", "secret": secret, "status": "1"}
    api.receipt("GET", "/dlr/{channel}", "/dlr/SIM", 200, receipt)
    api.receipt("GET", "/dlr/{channel}", "/dlr/SIM", 401, {**receipt, "secret": "wrong"})
    reply = {"from": NUMBER, "to": "10086", "text": "hello", "secret": secret}
    api.receipt("GET", "/mo/{channel}", "/mo/SIM", 200, reply)

    assert api.problems == []


def _bounds(method: str, path: str, name: str) -> tuple[Any, Any]:
    """The documented minimum and maximum of a query parameter."""
    operation = DOCUMENT["paths"][path][method.lower()]
    [parameter] = [p for p in operation["parameters"] if p["name"] == name]
    [schema] = [s for s in parameter["schema"]["anyOf"] if s.get("type") == "integer"]
    return schema.get("minimum"), schema.get("maximum")


@pytest.mark.parametrize(
    ("app", "path"),
    [
        (send_app, "/v1/missions"),
        (admin_app, "/v1/templates"),
        (admin_app, "/v1/blacklist"),
        (reports_app, "/v1/messages"),
    ],
)
def test_a_list_takes_exactly_the_page_sizes_documented(tenant, api, app, path):
    smallest, largest = _bounds("GET", path, "page_size")

    for size, status in ((smallest, 200), (largest, 200), (smallest - 1, 400), (largest + 1, 400)):
        api.call(app, "GET", path, status, query={"page_size": str(int(size))})

    assert api.problems == []


def _request_problems(method: str, path: str, body: Any) -> list[str]:
    """Where the body breaks the operation's documented JSON request schema."""
    content = DOCUMENT["paths"][path][method.lower()]["requestBody"]["content"]
    schema = {**content["application/json"]["schema"], "components": DOCUMENT["components"]}
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(body)]


ACCOUNT = {"account_name": "CNX01_Adm", "tenant_id": "acme"}


@pytest.mark.parametrize(
    ("app", "path", "valid", "changes", "role"),
    [
        (accounts_app, "/v1/admin/accounts", ACCOUNT, {"account_name": "a b"}, "operator"),
        (accounts_app, "/v1/admin/accounts", ACCOUNT, {"role": "king"}, "operator"),
        (accounts_app, "/v1/admin/accounts", ACCOUNT, {"account_type": "x"}, "operator"),
        (missions_app, "/v1/missions", MISSION, {"content": "x" * 1501}, "tenant"),
        (missions_app, "/v1/missions", MISSION, {"sender": "1" * 16}, "tenant"),
        (send_app, "/v1/sms", SMS, {"sender": "1" * 16}, "tenant"),
    ],
)
def test_the_document_refuses_a_body_the_api_refuses(tenant, api, app, path, valid, changes, role):
    refused = {**valid, **changes}

    api.call(app, "POST", path, 400, body=refused, role=role)

    assert _request_problems("POST", path, valid) == []
    assert _request_problems("POST", path, refused) != []


def test_the_status_callback_posts_as_documented(aws, tenant, context):
    webhook = DOCUMENT["webhooks"]["messageStatus"]["post"]
    body_schema = webhook["requestBody"]["content"]["application/json"]["schema"]
    headers = {p["name"] for p in webhook["parameters"] if p["in"] == "header"}
    with FakeCallbackReceiver() as receiver:
        callbacks.register("acme", CallbackRegistration(url=receiver.url), allow_loopback=True)
        uid = queue_sms(context, NUMBER)
        submit_queued("acme", [uid], lambda: datetime.now(UTC), FakeGateway(accepted(uid)).factory)
        secret = channels.get_channel("SIM").receipt_secret
        receipt = {"tenant": "acme", "uid": uid, "secret": secret, "status": "1"}
        answer = "id:x stat:DELIVRD err:000"
        receipts.record_receipt("SIM", {**receipt, "answer": answer}, datetime.now(UTC))
        queue_callback_events()
        callbacks_app.lambda_handler(event(*queued_records(aws, "CallbackQueue")), context)

        received = receiver.received

    assert sorted(r.event["dr_state"] for r in received) == ["DELIVRD", "SUBMITTED"]
    assert [schema_problems(body_schema, r.event) for r in received] == [[], []]
    assert all(headers <= set(r.headers) for r in received)
