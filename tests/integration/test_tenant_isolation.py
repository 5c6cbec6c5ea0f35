"""One tenant's key reaches nothing of another's: for each family of tenant routes, what
tenant "globex" made is asked for, changed or cancelled with tenant "acme"'s key, by id in
the path, the query or the body, and is never read, listed or changed. And no route
under /v1/admin answers a tenant's key."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudsms.services import callbacks, channels, orders, tenants
from functions.accounts import app as accounts_app
from functions.admin import app as admin_app
from functions.missions import app as missions_app
from functions.reports import app as reports_app
from functions.schedule import app as schedule_app
from functions.send import app as send_app
from tests.integration.conftest import FakeContext, queue_sms
from tests.integration.missions_api import GUIDE_FIELDS, call, shared_account

OPENAPI = Path(__file__).parents[2] / "web" / "openapi.json"
NUMBER = "+639215347566"
BLOCKED = "+639215347567"
OTHER = "globex"


@pytest.fixture
def globex(aws, tenant) -> dict[str, Any]:
    """Tenant globex, on the same channel as acme, with one of everything a tenant owns."""
    return _make_globex()


@pytest.fixture(scope="module")
def globex_once() -> Iterator[dict[str, Any]]:
    """What `globex` makes, made once for all the cases of the operator routes' test
    (a second apiece otherwise): each case only asks, with acme's key, for what must be
    refused, and a route that answered would fail its own case."""
    with shared_account():
        yield _make_globex()


def _make_globex() -> dict[str, Any]:
    tenants.create_tenant(OTHER, "Globex", "Asia/Shanghai")
    channels.assign_channel(OTHER, "SIM")
    status, mission = call(
        missions_app, "POST", "/v1/missions", "/v1/missions", GUIDE_FIELDS, tenant_id=OTHER
    )
    assert status == 201, mission
    template = {"name": "Globex secret", "content": "Code ${code}", "sms_type": "business"}
    status, made = call(
        admin_app, "POST", "/v1/templates", "/v1/templates", template, tenant_id=OTHER
    )
    assert status == 201, made
    status, added = call(
        admin_app,
        "POST",
        "/v1/blacklist",
        "/v1/blacklist",
        {"numbers": [BLOCKED]},
        tenant_id=OTHER,
    )
    assert status == 200, added
    callbacks.register(
        OTHER, callbacks.CallbackRegistration(url="https://globex.example.com/cb"), False
    )
    status, export = call(
        reports_app, "POST", "/v1/messages/exports", "/v1/messages/exports", tenant_id=OTHER
    )
    assert status == 202, export
    return {
        "mission_id": mission["mission_id"],
        "template_id": made["template_id"],
        "uid": queue_sms(FakeContext(), NUMBER, tenant_id=OTHER),
        "export_id": export["export_id"],
    }


def _as_acme(app: Any, method: str, path: str, resource: str, **kwargs: Any) -> tuple[int, Any]:
    return call(app, method, path, resource, tenant_id="acme", **kwargs)


def test_another_tenants_mission_cannot_be_read_listed_or_changed(globex):
    mission_id = globex["mission_id"]
    path = f"/v1/missions/{mission_id}"
    for what in ("", "/messages", "/abnormal", "/blacklisted"):
        status, _ = _as_acme(send_app, "GET", path + what, "/v1/missions/{mission_id}" + what)
        assert status == 404, what
    status, _ = _as_acme(
        schedule_app,
        "PATCH",
        path,
        "/v1/missions/{mission_id}",
        body={"dispatch_at": "2099-01-01T12:00:00+08:00"},
    )
    assert status == 404
    status, _ = _as_acme(schedule_app, "POST", path + "/cancel", "/v1/missions/{mission_id}/cancel")
    assert status == 404
    status, listed = _as_acme(send_app, "GET", "/v1/missions", "/v1/missions")
    assert status == 200
    assert listed["items"] == []
    status, theirs = call(send_app, "GET", path, "/v1/missions/{mission_id}", tenant_id=OTHER)
    assert theirs["status"] == "Uploading"


def test_another_tenants_message_is_in_none_of_the_logs(globex):
    uid = globex["uid"]
    status, _ = _as_acme(send_app, "GET", f"/v1/sms/{uid}", "/v1/sms/{uid}")
    assert status == 404
    for path in ("/v1/messages", "/v1/messages/total"):
        status, found = _as_acme(reports_app, "GET", path, path, query={"uid": uid})
        assert status == 200, found
        assert found.get("items", []) == []
        assert found.get("total", 0) == 0
    status, exported = _as_acme(
        reports_app,
        "GET",
        "/v1/messages/export",
        "/v1/messages/export",
        query={"uid": uid, "format": "csv"},
    )
    assert status == 200
    assert uid.encode() not in exported
    # The same queries find it for its own tenant: the filters are not what hid it.
    status, theirs = call(
        reports_app, "GET", "/v1/messages", "/v1/messages", query={"uid": uid}, tenant_id=OTHER
    )
    assert [item["uid"] for item in theirs["items"]] == [uid]
    status, exported = call(
        reports_app,
        "GET",
        "/v1/messages/export",
        "/v1/messages/export",
        query={"uid": uid, "format": "csv"},
        tenant_id=OTHER,
    )
    assert uid.encode() in exported


def test_another_tenants_prepared_export_is_not_found(globex):
    export_id = globex["export_id"]
    status, answer = _as_acme(
        reports_app,
        "GET",
        f"/v1/messages/exports/{export_id}",
        "/v1/messages/exports/{export_id}",
    )
    assert status == 404, answer


def test_another_tenants_template_cannot_be_read_used_changed_or_deleted(globex):
    template_id = globex["template_id"]
    path = f"/v1/templates/{template_id}"
    resource = "/v1/templates/{template_id}"
    assert _as_acme(admin_app, "GET", path, resource)[0] == 404
    assert _as_acme(admin_app, "PATCH", path, resource, body={"name": "Mine now"})[0] == 404
    assert _as_acme(admin_app, "DELETE", path, resource)[0] == 404
    status, listed = _as_acme(admin_app, "GET", "/v1/templates", "/v1/templates")
    assert listed["items"] == []
    status, _ = _as_acme(
        admin_app,
        "GET",
        "/v1/templates/number-list",
        "/v1/templates/number-list",
        query={"template_id": template_id},
    )
    assert status == 404
    fields = {**GUIDE_FIELDS, "template_id": template_id}
    del fields["content"]
    status, _ = _as_acme(missions_app, "POST", "/v1/missions", "/v1/missions", body=fields)
    assert status == 404
    assert call(admin_app, "GET", path, resource, tenant_id=OTHER)[1]["name"] == "Globex secret"


def test_another_tenants_blacklist_cannot_be_read_or_changed(globex):
    status, listed = _as_acme(admin_app, "GET", "/v1/blacklist", "/v1/blacklist")
    assert status == 200
    assert listed["items"] == []
    _as_acme(admin_app, "DELETE", f"/v1/blacklist/{BLOCKED}", "/v1/blacklist/{number}")
    status, theirs = call(admin_app, "GET", "/v1/blacklist", "/v1/blacklist", tenant_id=OTHER)
    assert [item["number"] for item in theirs["items"]] == [BLOCKED]


def test_another_tenants_callback_cannot_be_read_or_removed(globex):
    assert _as_acme(admin_app, "GET", "/v1/callback", "/v1/callback")[0] == 404
    _as_acme(admin_app, "DELETE", "/v1/callback", "/v1/callback")
    status, theirs = call(admin_app, "GET", "/v1/callback", "/v1/callback", tenant_id=OTHER)
    assert status == 200
    assert theirs["url"] == "https://globex.example.com/cb"


def test_another_tenants_orders_are_not_listed(globex):
    from datetime import UTC, datetime

    package = orders.create_package(
        orders.PackageFields(
            product_name="SMM",
            channel="SIM",
            payment_type="prepaid",
            sms_amount=10,
            validity_days=30,
        ),
        datetime.now(UTC),
    )
    orders.place_order(OTHER, package["package_id"], datetime.now(UTC))

    status, listed = _as_acme(reports_app, "GET", "/v1/orders", "/v1/orders")

    assert status == 200, listed
    assert json.dumps(listed).count(package["package_id"]) == 0


def _operator_routes() -> list[tuple[str, str]]:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/admin/")
        for method in operations
    ]


@pytest.mark.parametrize(("method", "resource"), _operator_routes())
def test_no_operator_route_answers_a_tenants_key(globex_once, method, resource):
    """Past the authorizer (which denies /v1/admin/* to a tenant's key), each function
    checks the role again: a route the authorizer's policy missed would still refuse."""
    path = resource.format(
        tenant_id=OTHER,
        account_name="someone",
        route_id="SIM",
        order_number="1",
        template_id=globex_once["template_id"],
        number=NUMBER,
    )
    apps = (admin_app, accounts_app, reports_app)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    answers = [_as_acme(app, method, path, resource, body=body) for app in apps]
    statuses = [status for status, _ in answers]
    assert any(status != 404 for status in statuses), f"no function has {method} {resource}"
    # 400: the body was refused before the handler ran; 403: the handler refused the role.
    assert all(status in (400, 403, 404) for status in statuses), answers
