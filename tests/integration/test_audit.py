"""The audit trail: every configuration change through the API or the `cloudsms` command
is recorded (who, on which tenant, what, when), never a secret; sending is not."""

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import PutError

from cloudsms import clock
from cloudsms.observability import logger
from cloudsms.services import accounts, blacklist, tenants
from cloudsms.store.audit import AuditEntryModel
from functions.accounts import app as accounts_app
from functions.admin import app as admin_app
from functions.authorizer import app as authorizer_app
from functions.send import app as send_app
from tests.integration.conftest import EVENTS, api_event, run_cli, throttled

# The authorizer context and caller of api_event's requests (tests/events/api_request.json).
KEY_ID = "key_0123456789ab"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
SOURCE_IP = "203.0.113.7"
# What moto's STS answers GetCallerIdentity with.
CALLER_ARN = "arn:aws:sts::123456789012:user/moto"
PASSWORD = "gateway-pa55word"
CAPTCHA = "aqVj"
CHANNEL = {
    "route_id": "KAN_PH",
    "gateway_type": "kannel",
    "endpoint": "http://127.0.0.1:13013/",
    "username": "kuser",
    "password": PASSWORD,
    "receipt_secret": "a-receipt-secret-of-my-choosing",
}


def _call(
    context, app: Any, method: str, path: str, resource: str, role: str = "operator", **kw: Any
) -> dict[str, Any]:
    event = api_event(method, path, resource, **kw)
    event["requestContext"]["authorizer"]["role"] = role
    response = app.lambda_handler(event, context)
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def _pause_channel(context, route_id: str = "SIM") -> dict[str, Any]:
    return _call(
        context,
        admin_app,
        "PATCH",
        f"/v1/admin/channels/{route_id}",
        "/v1/admin/channels/{route_id}",
        body={"paused": True},
        path_parameters={"route_id": route_id},
    )


def _create_template(context, tenant_id: str) -> None:
    body = {"name": f"Hello {tenant_id}", "content": "Hello", "sms_type": "business"}
    response = _call(
        context,
        admin_app,
        "POST",
        "/v1/templates",
        "/v1/templates",
        "tenant",
        body=body,
        tenant_id=tenant_id,
    )
    assert response["statusCode"] == 201, response["body"]


def _audit(context, path: str = "/v1/admin/audit", role: str = "operator", **kw: Any) -> dict:
    response = _call(context, admin_app, "GET", path, path, role, **kw)
    assert response["statusCode"] == 200, response["body"]
    return response["json"]


def _stored() -> str:
    """Every stored entry as DynamoDB holds it, every attribute."""
    table = AuditEntryModel.Meta.table_name
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    return json.dumps(items)


def test_an_operators_change_is_recorded_with_who_what_and_where(aws, tenant, context):
    response = _pause_channel(context)

    assert response["statusCode"] == 200, response["body"]
    [entry] = _audit(context)["items"]
    assert entry["actor"] == KEY_ID
    assert entry["role"] == "operator"
    assert entry["tenant_id"] == "acme"
    assert entry["action"] == "PATCH /v1/admin/channels/{route_id}"
    assert entry["target"] == {"route_id": "SIM"}
    assert entry["request_id"] == REQUEST_ID
    assert entry["source_ip"] == SOURCE_IP


def test_a_change_of_one_tenant_is_recorded_as_that_tenants(aws, tenant, context):
    tenants.create_tenant("beta", "Beta", "Asia/Shanghai")

    response = _call(
        context,
        admin_app,
        "POST",
        "/v1/admin/tenants/beta/channels",
        "/v1/admin/tenants/{tenant_id}/channels",
        body={"route_id": "SIM"},
        path_parameters={"tenant_id": "beta"},
    )

    assert response["statusCode"] == 204, response["body"]
    [entry] = _audit(context, query={"tenant": "beta"})["items"]
    assert entry["action"] == "POST /v1/admin/tenants/{tenant_id}/channels"
    assert entry["target"] == {"tenant_id": "beta"}
    assert _audit(context, query={"tenant": "acme"})["items"] == []


def test_an_operators_change_of_a_tenants_account_is_recorded_as_that_tenants(aws, tenant, context):
    tenants.create_tenant("beta", "Beta", "Asia/Shanghai")
    accounts.create_account("beta_adm", "beta")

    response = _call(
        context,
        accounts_app,
        "POST",
        "/v1/admin/accounts/beta_adm/password-reset",
        "/v1/admin/accounts/{account_name}/password-reset",
        path_parameters={"account_name": "beta_adm"},
    )

    assert response["statusCode"] == 200, response["body"]
    [entry] = _audit(context, query={"tenant": "beta"})["items"]
    assert entry["action"] == "POST /v1/admin/accounts/{account_name}/password-reset"
    assert entry["tenant_id"] == "beta"


def test_sending_is_not_recorded(aws, tenant, context):
    body = {"to": ["+639215347566"], "text": "Hello", "sms_type": "business", "channel": "SIM"}
    response = _call(context, send_app, "POST", "/v1/sms", "/v1/sms", "tenant", body=body)

    assert response["statusCode"] == 202, response["body"]
    assert _audit(context)["items"] == []


def test_a_refused_change_is_not_recorded(aws, tenant, context):
    response = _pause_channel(context, "NO_SUCH_ROUTE")

    assert response["statusCode"] == 404
    assert _audit(context)["items"] == []


def test_a_channels_credentials_are_not_in_its_entry(aws, tenant, context):
    response = _call(
        context, admin_app, "POST", "/v1/admin/channels", "/v1/admin/channels", body=CHANNEL
    )

    assert response["statusCode"] == 201, response["body"]
    [entry] = _audit(context)["items"]
    assert entry["action"] == "POST /v1/admin/channels"
    stored = _stored()
    assert PASSWORD not in stored
    assert CHANNEL["receipt_secret"] not in stored
    assert "kuser" not in stored


def test_a_number_taken_off_the_blacklist_is_recorded_masked(aws, tenant, context):
    blacklist.add_numbers("acme", ["+639171234567"])

    response = _call(
        context,
        admin_app,
        "DELETE",
        "/v1/blacklist/%2B639171234567",
        "/v1/blacklist/{number}",
        "tenant",
        path_parameters={"number": "%2B639171234567"},
    )

    assert response["statusCode"] == 204, response["body"]
    [entry] = _audit(context)["items"]
    assert entry["target"] == {"number": "+63917****567"}
    assert "9171234567" not in _stored()


def test_an_entry_names_the_fields_a_change_gave_never_their_values(aws, tenant, context):
    _call(context, admin_app, "POST", "/v1/admin/channels", "/v1/admin/channels", body=CHANNEL)
    rotated = "a-new-gateway-pa55word"

    response = _call(
        context,
        admin_app,
        "PATCH",
        "/v1/admin/channels/KAN_PH",
        "/v1/admin/channels/{route_id}",
        body={"password": rotated, "throughput": 20},
        path_parameters={"route_id": "KAN_PH"},
    )

    assert response["statusCode"] == 200, response["body"]
    rotation = _audit(context)["items"][0]
    assert rotation["action"] == "PATCH /v1/admin/channels/{route_id}"
    assert rotation["fields"] == ["password", "throughput"]
    assert rotated not in _stored()


def test_a_change_of_a_channels_delivery_floor_is_recorded_by_its_field_name(aws, tenant, context):
    response = _call(
        context,
        admin_app,
        "PATCH",
        "/v1/admin/channels/SIM",
        "/v1/admin/channels/{route_id}",
        body={"delivery_floor": 0.95},
        path_parameters={"route_id": "SIM"},
    )

    assert response["statusCode"] == 200, response["body"]
    [entry] = _audit(context)["items"]
    assert entry["action"] == "PATCH /v1/admin/channels/{route_id}"
    assert (entry["target"], entry["fields"]) == ({"route_id": "SIM"}, ["delivery_floor"])


def test_a_tenant_sees_only_its_own_entries(aws, tenant, context):
    tenants.create_tenant("beta", "Beta", "Asia/Shanghai")
    _create_template(context, "acme")
    _create_template(context, "beta")

    seen = _audit(context, "/v1/audit", "tenant", tenant_id="beta")["items"]

    assert [(e["tenant_id"], e["action"]) for e in seen] == [("beta", "POST /v1/templates")]
    assert len(_audit(context)["items"]) == 2  # the operator sees both


def test_a_tenant_is_told_the_operator_changed_it_not_who_at_the_operator_nor_from_where(
    aws, tenant, context
):
    # Given the operator's changes to acme: one with its key, one with the command (whose
    # actor, an AWS ARN, names the operator's AWS account and IAM user)
    response = _call(
        context,
        admin_app,
        "PUT",
        "/v1/admin/tenants/acme/countries",
        "/v1/admin/tenants/{tenant_id}/countries",
        body={"countries": ["PH"]},
        path_parameters={"tenant_id": "acme"},
    )
    assert response["statusCode"] == 200, response["body"]
    run_cli("tenant-countries", "acme", "all")
    _create_template(context, "acme")

    seen = _audit(context, "/v1/audit", "tenant", tenant_id="acme")["items"]

    # Then acme's own trail says the operator made them, and nothing of who or where
    who = [(e["action"], e["actor"], e["role"], e["key_id"], e["source_ip"]) for e in seen]
    assert who == [
        ("POST /v1/templates", KEY_ID, "tenant", KEY_ID, SOURCE_IP),
        ("tenant-countries", "operator", "operator", None, None),
        ("PUT /v1/admin/tenants/{tenant_id}/countries", "operator", "operator", None, None),
    ]
    # and the operator's trail still names them
    operators = _audit(context, query={"tenant": "acme"})["items"]
    assert [e["actor"] for e in operators] == [KEY_ID, CALLER_ARN, KEY_ID]


def test_a_tenant_cannot_read_the_platform_trail(aws, tenant, context):
    response = _call(context, admin_app, "GET", "/v1/admin/audit", "/v1/admin/audit", "tenant")

    assert response["statusCode"] == 403


def test_an_entry_not_written_leaves_the_answer_and_is_logged_at_error(
    aws, tenant, context, monkeypatch
):
    def refused(self: AuditEntryModel, *args: Any, **kwargs: Any) -> None:
        raise throttled(PutError)

    monkeypatch.setattr(AuditEntryModel, "save", refused)
    written = io.StringIO()
    before = logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
    try:
        response = _pause_channel(context)
    finally:
        logger.registered_handler.setStream(before)  # type: ignore[attr-defined]

    assert response["statusCode"] == 200
    assert response["json"]["paused"] is True
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    [line] = [line for line in lines if line["message"] == "audit entry not written"]
    assert line["level"] == "ERROR"
    assert line["audit_entry"]["action"] == "PATCH /v1/admin/channels/{route_id}"
    assert line["audit_entry"]["actor"] == KEY_ID


def _temporary_password_changed(context, monkeypatch) -> tuple[str, str]:
    """acme's new account logs in with its temporary password (a session that may only
    change it) and changes it to Spring2026; returns the password and the session's token."""
    monkeypatch.setattr(accounts, "_captcha_text", lambda: CAPTCHA)
    issued = accounts.create_account("CNX01_Adm", "acme")
    token = _session_token(issued.password)
    event = api_event(
        "POST",
        "/v1/account/password",
        "/v1/account/password",
        body={"current_password": issued.password, "new_password": "Spring2026"},
    )
    event["requestContext"]["authorizer"] = _authorize(context, token)["context"]
    response = accounts_app.lambda_handler(event, context)
    assert response["statusCode"] == 200, response["body"]
    return issued.password, token


def test_a_portal_sessions_change_names_its_account_and_no_password(
    aws, tenant, context, monkeypatch
):
    password, token = _temporary_password_changed(context, monkeypatch)

    [entry] = _audit(context)["items"]
    assert entry["actor"] == "cnx01_adm"  # account names are kept in lower case
    assert entry["action"] == "POST /v1/account/password"
    stored = _stored()
    assert password not in stored
    assert "Spring2026" not in stored
    assert token not in stored


def test_a_tenants_own_account_changing_its_temporary_password_is_not_shown_as_the_operator(
    aws, tenant, context, monkeypatch
):
    # Given an account of acme that changed its temporary password
    _temporary_password_changed(context, monkeypatch)

    # When acme reads its own trail
    seen = _audit(context, "/v1/audit", "tenant", tenant_id="acme")["items"]

    # Then the change is its account's, not the operator's
    [entry] = [e for e in seen if e["action"] == "POST /v1/account/password"]
    assert (entry["actor"], entry["source_ip"]) == ("cnx01_adm", SOURCE_IP)


def _session_token(password: str) -> str:
    captcha_id = accounts.new_captcha(clock.now(), SOURCE_IP)["captcha_id"]
    return accounts.log_in("CNX01_Adm", password, captcha_id, CAPTCHA, clock.now(), SOURCE_IP).token


def _authorize(context, key: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"] = {"Authorization": f"Bearer {key}"}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return authorizer_app.lambda_handler(event, context)


def test_entries_are_listed_newest_first_a_page_at_a_time_across_months(
    aws, tenant, context, monkeypatch
):
    now = datetime.now(UTC)
    for days_ago in (70, 35, 0):
        monkeypatch.setattr(clock, "now", lambda at=now - timedelta(days=days_ago): at)
        _pause_channel(context)
    monkeypatch.setattr(clock, "now", lambda: now)

    first = _audit(context, query={"page_size": "2"})
    second = _audit(context, query={"page_size": "2", "cursor": first["next_cursor"]})

    times = [e["at"] for e in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    assert len(times) == 3
    assert second["next_cursor"] is None
    since = (now - timedelta(days=40)).isoformat()
    assert len(_audit(context, query={"from": since})["items"]) == 2


def test_everyones_entries_of_an_open_ended_range_read_only_the_months_entries_are_kept(
    aws, tenant, context, monkeypatch
):
    _pause_channel(context)
    months = []
    query = AuditEntryModel.by_month.query

    def counted(month: str, *args: Any, **kwargs: Any) -> Any:
        months.append(month)
        return query(month, *args, **kwargs)

    monkeypatch.setattr(AuditEntryModel.by_month, "query", counted)

    found = _audit(context, query={"from": "1000-01-01T00:00:00", "to": "9999-12-31T00:00:00"})

    assert len(found["items"]) == 1
    # The retention (400 days) spans 14 months at most, and a month either side.
    assert len(months) <= 16


def test_a_cursor_this_api_never_gave_out_is_refused(aws, tenant, context):
    response = _call(
        context,
        admin_app,
        "GET",
        "/v1/admin/audit",
        "/v1/admin/audit",
        query={"cursor": "eyJlbnRyeV9pZCI6IHsiUyI6ICJ6enoifX0"},
    )

    assert response["statusCode"] == 400


def test_a_time_that_is_no_utc_time_is_refused(aws, tenant, context):
    response = _call(
        context,
        admin_app,
        "GET",
        "/v1/audit",
        "/v1/audit",
        "tenant",
        query={"from": "0001-01-01T00:00:00+01:00"},
    )

    assert response["statusCode"] == 400, response["body"]


def test_an_empty_tenant_is_refused(aws, tenant, context):
    response = _call(
        context, admin_app, "GET", "/v1/admin/audit", "/v1/admin/audit", query={"tenant": ""}
    )

    assert response["statusCode"] == 400, response["body"]


def test_a_commands_change_is_recorded_with_the_aws_caller(aws, tenant):
    run_cli("channel-pause", "SIM")

    [entry] = run_cli("audit-list")
    assert entry["actor"] == CALLER_ARN
    assert entry["action"] == "channel-pause"
    assert entry["target"] == {"route_id": "SIM"}
    assert entry["tenant_id"] is None


def test_a_commands_entry_names_the_options_it_was_given_never_their_values(aws, tenant, tmp_path):
    secret = tmp_path / "receipt-secret"
    secret.write_text("a-receipt-secret-from-a-file")

    run_cli("channel-update", "SIM", "--throughput", "30", "--receipt-secret-file", str(secret))

    [entry] = run_cli("audit-list")
    assert entry["action"] == "channel-update"
    assert entry["fields"] == ["receipt_secret_file", "throughput"]
    assert "a-receipt-secret-from-a-file" not in _stored()
    assert str(secret) not in _stored()


def test_a_commands_reset_of_a_channels_delivery_floor_is_recorded(aws, tenant):
    run_cli("channel-update", "SIM", "--delivery-floor", "0.9")
    run_cli("channel-update", "SIM", "--delivery-floor", "default")

    entries = run_cli("audit-list")
    assert [(e["action"], e["fields"]) for e in entries] == 2 * [
        ("channel-update", ["delivery_floor"])
    ]


def test_an_issued_key_is_not_in_its_entry(aws, tenant):
    issued = run_cli("key-issue", "acme", "--name", "billing")

    [entry] = run_cli("audit-list", "--tenant", "acme")
    assert entry["action"] == "key-issue"
    assert entry["target"] == {"tenant_id": "acme"}
    assert issued["key"] not in _stored()


def test_a_commands_change_of_an_account_is_recorded_as_its_tenants(aws, tenant):
    accounts.create_account("CNX01_Adm", "acme")

    run_cli("account-disable", "CNX01_Adm")

    [entry] = run_cli("audit-list", "--tenant", "acme")
    assert entry["action"] == "account-disable"
    assert entry["target"] == {"account_name": "CNX01_Adm"}


def test_a_command_that_only_reads_is_not_recorded(aws, tenant):
    run_cli("channel-list")

    assert run_cli("audit-list") == []


def test_a_since_that_is_no_time_is_refused(aws, tenant):
    with pytest.raises(SystemExit, match="is not an ISO 8601 time"):
        run_cli("audit-list", "--since", "yesterday")
