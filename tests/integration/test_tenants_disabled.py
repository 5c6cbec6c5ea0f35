"""The operator cuts a tenant off (tenant-disable) and lets it back (tenant-enable)."""

import json
from datetime import UTC, datetime

import pytest

from cloudsms import cache
from cloudsms.services import accounts, dispatch, missions, tenants
from cloudsms.store.missions import get_mission
from functions.authorizer import app as authorizer_app
from tests.integration.conftest import EVENTS
from tests.integration.missions_api import NOON_UTC, create_scheduled

NOW = datetime.now(UTC)


def _authorize(context, key: str) -> dict:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"] = {"Authorization": f"Bearer {key}"}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return authorizer_app.lambda_handler(event, context)


def test_a_disabled_tenants_keys_stop_working_and_work_again_once_enabled(aws, tenant, context):
    tenants.disable_tenant("acme", NOW)
    cache.clear_all()  # a warm authorizer remembers a key for a minute

    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, tenant["key"])

    tenants.enable_tenant("acme")
    cache.clear_all()
    assert _authorize(context, tenant["key"])["context"]["tenant_id"] == "acme"


def test_a_key_the_authorizer_still_remembers_sends_nothing_once_its_tenant_is_disabled(
    aws, tenant, context
):
    from functions.send import app as send_app
    from tests.integration.conftest import api_event
    from tests.integration.missions_api import GUIDE_FIELDS, post_form

    tenants.disable_tenant("acme", NOW)  # the authorizer's cache still lets the key in
    body = {"to": ["+639215347566"], "text": "Hi", "sms_type": "business", "channel": "SIM"}
    sent = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    numbers = b"Phone Number\n+639215347566\n"
    created = post_form("/v1/missions", {**GUIDE_FIELDS, "content": "Hi"}, numbers, "n.csv")

    assert sent["statusCode"] == 403
    assert json.loads(sent["body"])["error"]["message"] == "tenant acme is disabled"
    assert created[0] == 403 and created[1]["error"]["message"] == "tenant acme is disabled"
    assert missions.list_missions("acme", 10, None)["items"] == []


def test_a_disabled_tenants_scheduled_mission_fails_at_its_time(aws, tenant):
    mission = create_scheduled(["+639215347566"])
    tenants.disable_tenant("acme", NOW)

    dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    failed = get_mission("acme", mission["mission_id"])
    assert (failed.status, failed.failure_reason) == ("Failed", "tenant acme is disabled")


def test_a_disabled_tenants_account_cannot_log_in(aws, tenant, monkeypatch):
    from cloudsms.errors import Unauthorized

    created = accounts.create_account("acme_admin", "acme")
    monkeypatch.setattr(accounts, "_check_captcha", lambda *_: None)
    tenants.disable_tenant("acme", NOW)

    with pytest.raises(Unauthorized) as refused:
        accounts.log_in("acme_admin", created.password, "c", "x", NOW, "203.0.113.7")
    assert refused.value.message == accounts.wrong_credentials()


def test_the_tenant_list_says_which_are_disabled(aws, tenant):
    tenants.create_tenant("beta", "Beta", "UTC")
    tenants.disable_tenant("beta", NOW)

    listed = {t["tenant_id"]: t for t in map(tenants.tenant_view, tenants.list_tenants())}

    assert listed["acme"]["disabled_at"] is None
    assert listed["beta"]["disabled_at"] == NOW.isoformat()
    assert listed["acme"]["channels"] == ["SIM"]
