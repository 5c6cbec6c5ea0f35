"""Sender ids registered per tenant: a tenant with a list sends only as one of them."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cloudsms.services import dispatch, missions, tenants
from cloudsms.store.missions import get_mission
from functions.admin import app as admin_app
from functions.reports import app as reports_app
from functions.send import app as send_app
from tests.integration.conftest import api_event, run_cli
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    call,
    create_with_list,
    post_form,
    queued_bodies,
    reschedule,
)

NUMBERS = b"Phone Number\n+639215347566\n"
REFUSAL = (
    "sender id SHOP is not registered for this tenant (registered: ACME, ACME Care): "
    "ask the operator to register it"
)


def _register(sender_ids: list[str], role: str = "operator", tenant_id: str = "acme"):
    path = f"/v1/admin/tenants/{tenant_id}/sender-ids"
    resource = "/v1/admin/tenants/{tenant_id}/sender-ids"
    return call(admin_app, "PUT", path, resource, {"sender_ids": sender_ids}, role=role)


def _send(context: Any, sender: str | None) -> tuple[int, Any]:
    body = {"to": ["+639215347566"], "text": "Hello", "sms_type": "business", "channel": "SIM"}
    if sender is not None:
        body["sender"] = sender
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    return response["statusCode"], json.loads(response["body"])


def test_the_operator_registers_a_tenants_sender_ids_and_the_tenant_sees_them(aws, tenant):
    status, answer = _register(["ACME Care", "ACME"])
    _, overview = call(reports_app, "GET", "/v1/overview", "/v1/overview")

    assert (status, answer) == (200, {"tenant_id": "acme", "sender_ids": ["ACME", "ACME Care"]})
    assert overview["sender_ids"] == ["ACME", "ACME Care"]
    assert _register([]) == (200, {"tenant_id": "acme", "sender_ids": []})
    assert tenants.get_tenant("acme").sender_ids is None


@pytest.mark.parametrize(
    ("sender_ids", "role", "tenant_id", "status"),
    [
        (["ACME"], "tenant", "acme", 403),
        (["<script>"], "operator", "acme", 400),
        ([""], "operator", "acme", 400),
        (["ACME"] * 101, "operator", "acme", 400),
        (["ACME"], "operator", "nobody", 404),
    ],
)
def test_registering_sender_ids_is_the_operators_and_each_must_be_a_sender_id(
    aws, tenant, sender_ids, role, tenant_id, status
):
    answered, _ = _register(sender_ids, role=role, tenant_id=tenant_id)

    assert answered == status
    assert tenants.get_tenant("acme").sender_ids is None


def test_the_operator_lists_the_tenants_with_their_sender_ids(aws, tenant):
    _register(["ACME"])
    tenants.create_tenant("globex", "Globex", "UTC")

    status, answer = call(
        admin_app, "GET", "/v1/admin/tenants", "/v1/admin/tenants", role="operator"
    )
    refused, _ = call(admin_app, "GET", "/v1/admin/tenants", "/v1/admin/tenants")

    assert status == 200 and refused == 403
    listed = {
        t["tenant_id"]: (t["name"], t["channels"], t["sender_ids"]) for t in answer["tenants"]
    }
    assert listed == {"acme": ("Acme", ["SIM"], ["ACME"]), "globex": ("Globex", [], [])}


def test_a_tenant_with_sender_ids_sends_only_as_one_of_them(aws, tenant, context):
    _register(["ACME", "ACME Care"])

    refused = _send(context, "SHOP")
    registered = _send(context, "ACME Care")
    channels_own = _send(context, None)

    assert refused == (403, refused[1])
    assert refused[1]["error"]["message"] == REFUSAL
    assert registered[0] == channels_own[0] == 202


def test_a_tenant_without_sender_ids_sends_as_any(aws, tenant, context):
    assert _send(context, "SHOP")[0] == 202


def test_a_mission_as_an_unregistered_sender_is_refused_created_and_previewed(aws, tenant):
    _register(["ACME", "ACME Care"])

    created = create_with_list(NUMBERS, "numbers.csv", content="Hello", sender="SHOP")
    fields = {**GUIDE_FIELDS, "content": "Hello", "sender": "SHOP"}
    previewed = post_form("/v1/missions/preview", fields, NUMBERS, "numbers.csv")

    assert created == (403, {"error": {"code": "forbidden", "message": REFUSAL, "details": []}})
    assert previewed[0] == 403 and previewed[1]["error"]["message"] == REFUSAL
    assert missions.list_missions("acme", 10, None)["items"] == []


def test_a_scheduled_mission_whose_sender_was_unregistered_fails_at_its_time(aws, tenant):
    # Tomorrow in the tenant's zone: the handlers read the real clock.
    noon = datetime.combine(date.today() + timedelta(days=1), time(12), ZoneInfo("Asia/Shanghai"))
    _register(["SHOP"])
    status, mission = create_with_list(
        NUMBERS, "numbers.csv", content="Hello", sender="SHOP", dispatch_at=noon.isoformat()
    )
    assert status == 201, mission
    _register(["ACME", "ACME Care"])

    moved = reschedule(mission["mission_id"], (noon + timedelta(hours=1)).isoformat())
    dispatch.fire_scheduled("acme", mission["mission_id"], noon.astimezone(UTC))

    assert moved[0] == 403 and moved[1]["error"]["message"] == REFUSAL
    failed = get_mission("acme", mission["mission_id"])
    assert (failed.status, failed.failure_reason) == ("Failed", REFUSAL)
    assert queued_bodies(aws) == []


def test_the_console_command_registers_sender_ids(aws, tenant, monkeypatch):

    registered = run_cli("tenant-sender-ids", "acme", "ACME", "ACME Care")
    cleared = run_cli("tenant-sender-ids", "acme")

    assert (registered["sender_ids"], cleared["sender_ids"]) == (["ACME", "ACME Care"], [])
