"""Business channels managed by the operator: /v1/admin/channels and tenant assignment,
and the channel rules a tenant's sends meet (assignment, directions, prices)."""

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import PutError, PynamoDBException, UpdateError

from cloudsms.errors import BadRequest, Conflict, NotFound
from cloudsms.services import channels
from cloudsms.store.channels import ChannelModel
from cloudsms.store.tenants import TenantModel
from functions.admin import app as admin_app
from functions.send import app as send_app
from tests.integration import missions_api
from tests.integration.conftest import api_event, run_cli, throttled
from tests.unit import numberlist_corpus

PASSWORD = "gateway-pa55word"
RECEIPT_SECRET = "a-receipt-secret-of-my-choosing"
NEW_CHANNEL = {
    "route_id": "KAN_PH",
    "gateway_type": "kannel",
    "endpoint": "http://127.0.0.1:13013/",
    "username": "kuser",
    "password": PASSWORD,
    "receipt_secret": RECEIPT_SECRET,
    "default_sender": "CloudSMS",
    "throughput": 50,
    "directions": ["international"],
    "prices_usd": {"default": "0.0035", "by_country": {"63": "0.012"}},
}


def _admin(
    context, method: str, path: str, resource: str, body: Any = None, role: str = "operator", **kw
) -> dict[str, Any]:
    event = api_event(method, path, resource, body=body, **kw)
    event["requestContext"]["authorizer"]["role"] = role
    return admin_app.lambda_handler(event, context)


def _create(context, body: dict[str, Any] = NEW_CHANNEL, role: str = "operator") -> dict:
    return _admin(context, "POST", "/v1/admin/channels", "/v1/admin/channels", body, role)


def _secret(route_id: str) -> dict[str, str]:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    name = ChannelModel.get(route_id).secret_name
    return json.loads(client.get_secret_value(SecretId=name)["SecretString"])


def _assign(context, tenant_id: str, route_id: str, role: str = "operator") -> dict:
    path = f"/v1/admin/tenants/{tenant_id}/channels"
    return _admin(
        context,
        "POST",
        path,
        "/v1/admin/tenants/{tenant_id}/channels",
        {"route_id": route_id},
        role,
        path_parameters={"tenant_id": tenant_id},
    )


def _send(context, to: list[str], channel: str = "KAN_PH") -> dict[str, Any]:
    body = {"to": to, "text": "Hello", "sms_type": "business", "channel": channel}
    return send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)


def test_a_created_channel_is_answered_without_its_credentials(aws, tenant, context):
    response = _create(context)

    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    assert body["has_credentials"] is True
    assert (body["route_id"], body["endpoint"], body["throughput"]) == (
        "KAN_PH",
        "http://127.0.0.1:13013",
        50,
    )
    assert body["prices_usd"] == {"default": "0.0035", "by_country": {"63": "0.012"}}
    for secret in (PASSWORD, RECEIPT_SECRET, "kuser"):
        assert secret not in response["body"]


def test_a_channels_credentials_are_in_secrets_manager_and_not_in_its_table(aws, tenant, context):
    _create(context)

    stored = json.dumps(ChannelModel.get("KAN_PH").serialize())
    assert PASSWORD not in stored and RECEIPT_SECRET not in stored
    assert _secret("KAN_PH") == {
        "username": "kuser",
        "password": PASSWORD,
        "receipt_secret": RECEIPT_SECRET,
    }


def test_prices_are_stored_as_integer_micro_dollars(aws, tenant, context):
    _create(context)

    item = ChannelModel.get("KAN_PH")
    assert (item.price_default, item.prices.as_dict()) == (3500, {"63": 12000})


def test_a_tenant_key_cannot_manage_channels(aws, tenant, context):
    response = _create(context, role="tenant")

    assert response["statusCode"] == 403
    with pytest.raises(ChannelModel.DoesNotExist):
        ChannelModel.get("KAN_PH")


def test_a_second_channel_with_the_same_route_id_is_a_conflict(aws, tenant, context):
    _create(context)

    response = _create(context, {**NEW_CHANNEL, "password": "another"})

    assert response["statusCode"] == 409
    assert _secret("KAN_PH")["password"] == PASSWORD


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gateway_type": "smpp"}, "gateway_type"),
        ({"endpoint": "ftp://gateway"}, "endpoint"),
        ({"route_id": "A#B"}, "route_id"),
        ({"directions": []}, "directions"),
        ({"prices_usd": {"by_country": {"999": "0.01"}}}, "prices_usd.by_country"),
        # A price under "063" would never apply: a number's code is looked up as "63".
        ({"prices_usd": {"by_country": {"063": "0.01"}}}, "prices_usd.by_country"),
        ({"prices_usd": {"default": "0.0000001"}}, "prices_usd.default"),
        # Beyond any number DynamoDB stores once written in micros.
        ({"prices_usd": {"by_country": {"63": 1e300}}}, "prices_usd.by_country"),
        ({"prices_usd": {"by_country": {"63": "1e40"}}}, "prices_usd.by_country"),
        ({"default_sender": "ABCDEFGHIJKLM"}, "default_sender"),
        ({"default_sender": "<img src=x>"}, "default_sender"),
        ({"throughput": True}, "throughput"),  # not 1
        ({"error_codes": {"001": "Unknown subscriber", "1": "Absent"}}, "error_codes"),
        ({"error_codes": {"001": ""}}, "error_codes"),
        ({"error_codes": {"001": "two\nlines"}}, "error_codes"),
        ({"error_codes": {"": "Unknown subscriber"}}, "error_codes"),
        ({"error_codes": {str(n): "Some error" for n in range(1001)}}, "error_codes"),
        ({"delivery_floor": 1.5}, "delivery_floor"),
        ({"delivery_floor": -0.1}, "delivery_floor"),
        ({"delivery_floor": "0.9"}, "delivery_floor"),  # a share is a number
        ({"delivery_floor": True}, "delivery_floor"),  # not 1
    ],
)
def test_an_invalid_channel_is_refused_naming_the_field(aws, tenant, context, change, field):
    response = _create(context, {**NEW_CHANNEL, **change})

    assert response["statusCode"] == 400
    details = json.loads(response["body"])["error"]["details"]
    assert any(detail["field"] == field for detail in details), details


@pytest.mark.parametrize(
    ("code", "named"), [("\u00b2", "'\u00b2'"), ("6" * 5000, repr("6" * 40 + "\u2026"))]
)
def test_a_price_under_a_code_no_int_reads_names_the_code(aws, tenant, context, code, named):
    response = _create(context, {**NEW_CHANNEL, "prices_usd": {"by_country": {code: "0.01"}}})

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail == {
        "field": "prices_usd.by_country",
        "reason": f"{named} is not a country calling code",
    }


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://admin:hunter2@kannel.local:13013",
        "http://kannel.local:13013/?password=hunter2",
        "http://kannel.local:13013/#hunter2",
    ],
)
def test_an_endpoint_that_could_hold_credentials_is_refused(aws, tenant, context, endpoint):
    response = _create(context, {**NEW_CHANNEL, "endpoint": endpoint})

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail["field"] == "endpoint"
    assert "username and password" in detail["reason"]
    assert "hunter2" not in response["body"]
    with pytest.raises(ChannelModel.DoesNotExist):
        ChannelModel.get("KAN_PH")


UNCALLABLE_ENDPOINTS = [
    "http://a b",
    "http://127.0.0.1:99999",
    "http://x.com:0",
    "http://-/",
    "http://x.com/\r\nX: y",
    "http://x.com/\u0000",
]


@pytest.mark.parametrize("endpoint", UNCALLABLE_ENDPOINTS)
def test_an_endpoint_that_cannot_be_called_is_refused(aws, tenant, context, endpoint):
    response = _create(context, {**NEW_CHANNEL, "endpoint": endpoint})

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail["field"] == "endpoint"
    with pytest.raises(ChannelModel.DoesNotExist):
        ChannelModel.get("KAN_PH")


@pytest.mark.parametrize("endpoint", UNCALLABLE_ENDPOINTS)
def test_the_console_command_refuses_an_endpoint_that_cannot_be_called(aws, tenant, endpoint):
    with pytest.raises(BadRequest, match="^endpoint: "):
        channels.add_channel("B3", "kannel", endpoint, "kuser", "")


@pytest.mark.parametrize("gateway_type", ["kannel", "jasmin", "simulator"])
@pytest.mark.parametrize("username", ["", "  "])
def test_a_channel_whose_gateway_logs_in_needs_a_username(
    aws, tenant, context, gateway_type, username
):
    body = {**NEW_CHANNEL, "gateway_type": gateway_type, "username": username}

    response = _create(context, body)

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail["field"] == "username"


@pytest.mark.parametrize("gateway_type", ["kannel", "jasmin", "simulator"])
@pytest.mark.parametrize("given", [{"password": ""}, {}], ids=["empty", "absent"])
def test_a_channel_whose_gateway_logs_in_needs_a_password(
    aws, tenant, context, gateway_type, given
):
    body = {k: v for k, v in NEW_CHANNEL.items() if k != "password"}
    body = {**body, "gateway_type": gateway_type, **given}

    response = _create(context, body)

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail == {"field": "password", "reason": f"{gateway_type} gateways need a password"}
    with pytest.raises(ChannelModel.DoesNotExist):
        ChannelModel.get("KAN_PH")


def test_a_password_changed_to_nothing_is_refused_and_the_old_one_kept(aws, tenant, context):
    _create(context)

    response = _patch(context, {"password": ""})

    assert response["statusCode"] == 400
    [detail] = json.loads(response["body"])["error"]["details"]
    assert detail == {"field": "password", "reason": "kannel gateways need a password"}
    assert _secret("KAN_PH")["password"] == PASSWORD


def test_the_console_command_refuses_credentials_in_the_endpoint_too(aws, tenant):
    with pytest.raises(BadRequest, match="username and password") as refused:
        channels.add_channel("B3", "kannel", "http://admin:hunter2@kannel.local:13013", "", "")

    # The refusal names the field, never the value given.
    assert refused.value.message.startswith("endpoint: ")
    assert "hunter2" not in refused.value.message


def test_an_http_json_channel_needs_its_mapping(aws, tenant, context):
    response = _create(context, {**NEW_CHANNEL, "gateway_type": "http_json"})

    assert response["statusCode"] == 400


def test_channels_are_listed_and_read_one_by_one(aws, tenant, context):
    _create(context)

    listed = _admin(context, "GET", "/v1/admin/channels", "/v1/admin/channels")
    one = _admin(
        context,
        "GET",
        "/v1/admin/channels/KAN_PH",
        "/v1/admin/channels/{route_id}",
        path_parameters={"route_id": "KAN_PH"},
    )

    assert sorted(c["route_id"] for c in json.loads(listed["body"])["channels"]) == [
        "KAN_PH",
        "SIM",
    ]
    assert json.loads(one["body"])["directions"] == ["international"]


def test_channels_page_on_with_their_cursor(aws, tenant, context):
    _create(context)
    path = "/v1/admin/channels"

    first = json.loads(_admin(context, "GET", path, path, query={"page_size": "1"})["body"])
    cursor = {"page_size": "1", "cursor": first["next_cursor"]}
    second = json.loads(_admin(context, "GET", path, path, query=cursor)["body"])

    assert sorted(c["route_id"] for c in first["channels"] + second["channels"]) == [
        "KAN_PH",
        "SIM",
    ]
    # the first page says how many there are, as every paged list does
    assert (first["total"], first["total_exact"], len(first["channels"])) == (2, True, 1)
    assert "total" not in second
    # the second page ends the list: no cursor to an empty third
    assert second["next_cursor"] is None


def test_a_channels_cursor_holding_more_than_its_key_is_refused(aws, tenant, context):
    last_key = {"route_id": {"S": "SIM"}, "secret_name": {"S": "x"}}
    cursor = base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()
    path = "/v1/admin/channels"

    response = _admin(context, "GET", path, path, query={"cursor": cursor})

    assert response["statusCode"] == 400
    assert "the cursor is not one this API gave out" in response["body"]


def test_reading_a_channel_that_does_not_exist_is_not_found(aws, tenant, context):
    response = _admin(
        context,
        "GET",
        "/v1/admin/channels/NOPE",
        "/v1/admin/channels/{route_id}",
        path_parameters={"route_id": "NOPE"},
    )

    assert response["statusCode"] == 404


def _patch(context, changes: dict[str, Any], route_id: str = "KAN_PH") -> dict[str, Any]:
    return _admin(
        context,
        "PATCH",
        f"/v1/admin/channels/{route_id}",
        "/v1/admin/channels/{route_id}",
        changes,
        path_parameters={"route_id": route_id},
    )


def test_a_patch_changes_only_what_it_names(aws, tenant, context):
    _create(context)

    response = _patch(context, {"throughput": 5, "prices_usd": {"default": "0.01"}})

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert (body["throughput"], body["prices_usd"], body["default_sender"]) == (
        5,
        {"default": "0.01", "by_country": {}},
        "CloudSMS",
    )


def test_a_channels_error_codes_are_kept_as_written_and_replaced_by_a_patch(aws, tenant, context):
    codes = {"001": "Unknown subscriber", "0x1B": "Absent subscriber", "E_BARRED": "Barred"}
    from cloudsms import cache

    created = json.loads(_create(context, {**NEW_CHANNEL, "error_codes": codes})["body"])
    kept = json.loads(_patch(context, {"throughput": 5})["body"])
    route = channels.get_route("KAN_PH")
    replaced = json.loads(_patch(context, {"error_codes": {"2": "Unknown"}})["body"])
    cleared = json.loads(_patch(context, {"error_codes": {}})["body"])

    assert created["error_codes"] == kept["error_codes"] == codes
    # Looked up however the carrier writes the code.
    assert route.error_reason("27") == route.error_reason("0027") == "Absent subscriber"
    assert route.error_reason("e_barred") == "Barred" and route.error_reason("2") is None
    assert replaced["error_codes"] == {"2": "Unknown"}
    assert cleared["error_codes"] == {}
    cache.clear_all()
    assert channels.get_route("KAN_PH").error_reason("001") is None


def test_the_console_command_sets_a_channels_error_codes_from_a_file(
    aws, tenant, tmp_path, monkeypatch
):

    codes = tmp_path / "codes.json"
    codes.write_text('{"001": "Unknown subscriber"}')
    broken = tmp_path / "broken.json"
    broken.write_text("{001: Unknown}")

    answer = run_cli("channel-update", "SIM", "--error-codes", str(codes))
    with pytest.raises(SystemExit, match="--error-codes: .* is not valid JSON"):
        run_cli("channel-update", "SIM", "--error-codes", str(broken))

    assert answer["error_codes"] == {"001": "Unknown subscriber"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"default_sender": "<img src=x>"}, "default_sender"),
        ({"default_sender": "ABCDEFGHIJKLM"}, "default_sender"),
        ({"endpoint": "http://admin:hunter2@kannel.local:13013"}, "endpoint"),
        ({"throughput": True}, "throughput"),
    ],
)
def test_an_invalid_patch_is_refused_and_changes_nothing(aws, tenant, context, change, field):
    _create(context)

    response = _patch(context, change)

    assert response["statusCode"] == 400
    details = json.loads(response["body"])["error"]["details"]
    assert [detail["field"] for detail in details] == [field]
    item = ChannelModel.get("KAN_PH")
    assert (item.default_sender, item.endpoint) == ("CloudSMS", "http://127.0.0.1:13013")


@pytest.mark.parametrize("endpoint", UNCALLABLE_ENDPOINTS)
def test_a_patch_to_an_endpoint_that_cannot_be_called_is_refused(aws, tenant, context, endpoint):
    _create(context)

    response = _patch(context, {"endpoint": endpoint})

    assert response["statusCode"] == 400
    assert ChannelModel.get("KAN_PH").endpoint == "http://127.0.0.1:13013"


def test_the_console_command_checks_a_changed_endpoint(aws, tenant, context):
    _create(context)

    with pytest.raises(BadRequest, match="^endpoint: "):
        channels.change_channel("KAN_PH", {"endpoint": "http://x.com:0"})


def test_the_console_command_checks_a_changed_default_sender(aws, tenant, context):
    _create(context)

    with pytest.raises(BadRequest, match="default_sender"):
        channels.change_channel("KAN_PH", {"default_sender": "ABCDEFGHIJKLM"})


def test_a_new_password_replaces_the_old_and_keeps_the_receipt_secret(aws, tenant, context):
    _create(context)

    response = _patch(context, {"password": "rotated-password"})

    assert "rotated-password" not in response["body"]
    assert _secret("KAN_PH") == {
        "username": "kuser",
        "password": "rotated-password",
        "receipt_secret": RECEIPT_SECRET,
    }


@pytest.mark.parametrize("username", ["", "  "])
def test_a_username_cannot_be_changed_to_a_blank_one(aws, tenant, context, username):
    _create(context)

    response = _patch(context, {"username": username})

    assert response["statusCode"] == 400, response["body"]
    assert json.loads(response["body"])["error"]["details"][0]["field"] == "username"
    assert _secret("KAN_PH")["username"] == "kuser"


def test_a_credentials_change_made_while_another_is_under_way_is_refused_not_lost(
    aws, tenant, context, monkeypatch
):
    _create(context)
    read_secret = channels.read_secret
    refused: list[Conflict] = []

    def read_while_another_changes(name: str) -> dict[str, Any]:
        # The second change runs between the first's read and its write of the secret.
        read = read_secret(name)
        monkeypatch.setattr(channels, "read_secret", read_secret)
        try:
            channels.change_channel("KAN_PH", {"username": "second-user"})
        except Conflict as exc:
            refused.append(exc)
        return read

    monkeypatch.setattr(channels, "read_secret", read_while_another_changes)

    channels.change_channel("KAN_PH", {"password": "first-password"})

    assert len(refused) == 1 and "being changed" in str(refused[0])
    assert _secret("KAN_PH")["password"] == "first-password"
    # Once the first is done, the second goes through and keeps the first's change.
    channels.change_channel("KAN_PH", {"username": "second-user"})
    assert _secret("KAN_PH") == {
        "username": "second-user",
        "password": "first-password",
        "receipt_secret": RECEIPT_SECRET,
    }


def test_a_credentials_change_that_stopped_midway_does_not_hold_them_for_ever(aws, tenant, context):
    _create(context)
    ChannelModel("KAN_PH").update(
        actions=[
            ChannelModel.credentials_claim.set("a change that crashed"),
            ChannelModel.credentials_claimed_until.set(datetime.now(UTC) - timedelta(seconds=1)),
        ]
    )

    response = _patch(context, {"password": "after-the-crash"})

    assert response["statusCode"] == 200, response["body"]
    assert _secret("KAN_PH")["password"] == "after-the-crash"
    item = ChannelModel.get("KAN_PH")
    assert item.credentials_claim is None and item.credentials_claimed_until is None


def test_a_credentials_change_is_refused_with_409_while_another_holds_them(aws, tenant, context):
    _create(context)
    ChannelModel("KAN_PH").update(
        actions=[
            ChannelModel.credentials_claim.set("a change under way"),
            ChannelModel.credentials_claimed_until.set(datetime.now(UTC) + timedelta(seconds=20)),
        ]
    )

    response = _patch(context, {"password": "too-soon"})
    unrelated = _patch(context, {"throughput": 7})

    assert response["statusCode"] == 409, response["body"]
    assert "try again" in json.loads(response["body"])["error"]["message"]
    assert _secret("KAN_PH")["password"] != "too-soon"
    assert unrelated["statusCode"] == 200, unrelated["body"]


def test_a_new_receipt_secret_is_generated_and_the_old_one_counts_for_the_receipt_timeout(
    aws, tenant, context
):
    from cloudsms import cache
    from cloudsms.services.channels import get_channel
    from cloudsms.settings import get_settings

    _create(context)

    response = _patch(context, {"new_receipt_secret": True})
    cache.clear_all()
    channel, now = get_channel("KAN_PH"), datetime.now(UTC)
    timeout = timedelta(hours=get_settings().receipt_timeout_hours)

    assert response["statusCode"] == 200, response["body"]
    assert channel.receipt_secret not in response["body"]
    assert len(channel.receipt_secret) >= 16 and channel.receipt_secret != RECEIPT_SECRET
    assert channel.accepts_receipt_secret(channel.receipt_secret, now + 2 * timeout)
    assert channel.accepts_receipt_secret(RECEIPT_SECRET, now + timeout - timedelta(minutes=1))
    assert not channel.accepts_receipt_secret(RECEIPT_SECRET, now + timeout + timedelta(minutes=1))
    assert not channel.accepts_receipt_secret("", now)


def test_a_receipt_secret_of_ones_own_replaces_the_current_one(aws, tenant, context):
    _create(context)

    response = _patch(context, {"receipt_secret": "the-hubs-fixed-callback-secret"})

    assert "the-hubs-fixed-callback-secret" not in response["body"]
    stored = _secret("KAN_PH")
    assert stored["receipt_secret"] == "the-hubs-fixed-callback-secret"
    assert stored["previous_receipt_secret"] == RECEIPT_SECRET
    assert stored["password"] == PASSWORD


@pytest.mark.parametrize(
    "change",
    [
        {"receipt_secret": "short"},
        {"receipt_secret": " " * 20},
        {"receipt_secret": "the-hubs-fixed-callback-secret", "new_receipt_secret": True},
        {"new_receipt_secret": "yes"},
    ],
    ids=["too-short", "spaces", "both", "not-a-boolean"],
)
def test_a_receipt_secret_change_that_cannot_be_used_is_refused(aws, tenant, context, change):
    _create(context)

    response = _patch(context, change)

    assert response["statusCode"] == 400
    assert "receipt_secret" in response["body"]
    assert "the-hubs-fixed-callback-secret" not in response["body"]
    assert "items" not in response["body"]  # pydantic's word for a list, not a secret
    assert _secret("KAN_PH")["receipt_secret"] == RECEIPT_SECRET


def test_a_changed_channel_is_used_within_seconds_credentials_and_all(
    aws, tenant, context, monkeypatch
):
    from cloudsms import cache
    from cloudsms.services.channels import CHANNEL_CACHE_SECONDS, get_channel

    _create(context)
    before = get_channel("KAN_PH")  # what a warm function has cached

    _patch(context, {"throughput": 1, "endpoint": "http://gateway.test:13013", "password": "p2"})
    later = cache.time.monotonic() + CHANNEL_CACHE_SECONDS + 0.1
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    after = get_channel("KAN_PH")

    assert (before.throughput, before.password) != (1, "p2")
    # The secret's own cache (minutes) does not hold back the new password.
    assert (after.throughput, after.endpoint, after.password) == (
        1,
        "http://gateway.test:13013",
        "p2",
    )


def test_patching_a_channel_that_does_not_exist_is_not_found(aws, tenant, context):
    assert _patch(context, {"throughput": 5}, route_id="NOPE")["statusCode"] == 404


def test_an_assigned_channel_can_be_used_by_the_tenant(aws, tenant, context):
    _create(context)
    assert _send(context, ["+639215347566"])["statusCode"] == 403

    response = _assign(context, "acme", "KAN_PH")

    assert response["statusCode"] == 204
    assert _send(context, ["+639215347566"])["statusCode"] == 202


def test_an_unassigned_channel_answers_403_to_the_tenant(aws, tenant, context):
    _create(context)
    _assign(context, "acme", "KAN_PH")

    response = _admin(
        context,
        "DELETE",
        "/v1/admin/tenants/acme/channels/KAN_PH",
        "/v1/admin/tenants/{tenant_id}/channels/{route_id}",
        path_parameters={"tenant_id": "acme", "route_id": "KAN_PH"},
    )

    assert response["statusCode"] == 204
    assert "KAN_PH" not in (TenantModel.get("acme").channels or set())
    assert _send(context, ["+639215347566"])["statusCode"] == 403


def _unassign(context, tenant_id: str, route_id: str) -> dict:
    return _admin(
        context,
        "DELETE",
        f"/v1/admin/tenants/{tenant_id}/channels/{route_id}",
        "/v1/admin/tenants/{tenant_id}/channels/{route_id}",
        path_parameters={"tenant_id": tenant_id, "route_id": route_id},
    )


@pytest.mark.parametrize(
    ("tenant_id", "route_id", "message"),
    [
        ("acme", "NOPE", "channel NOPE does not exist"),
        ("acme", "KAN_PH", "channel KAN_PH is not assigned to tenant acme"),
        ("nobody", "KAN_PH", "tenant nobody does not exist"),
        # Named as the client meant it: a REST API hands over the path escaped.
        ("a%2Fb", "KAN_PH", "tenant a/b does not exist"),
        ("acme", "NO%25PE", "channel NO%PE does not exist"),
    ],
)
def test_unassigning_a_channel_the_tenant_does_not_have_is_not_found_naming_it(
    aws, tenant, context, tenant_id, route_id, message
):
    _create(context)

    response = _unassign(context, tenant_id, route_id)

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["message"] == message


def test_the_console_command_refuses_to_revoke_a_channel_that_does_not_exist(aws, tenant):
    with pytest.raises(NotFound, match="channel NOPE does not exist"):
        channels.unassign_channel("acme", "NOPE")


def test_a_channel_assigned_is_unassigned_even_if_it_no_longer_exists(aws, tenant, context):
    TenantModel("acme").update(actions=[TenantModel.channels.add({"GONE"})])

    assert _unassign(context, "acme", "GONE")["statusCode"] == 204
    assert "GONE" not in (TenantModel.get("acme").channels or set())


@pytest.mark.parametrize(("tenant_id", "route_id"), [("nobody", "KAN_PH"), ("acme", "NOPE")])
def test_assigning_to_a_missing_tenant_or_a_missing_channel_is_not_found(
    aws, tenant, context, tenant_id, route_id
):
    _create(context)

    assert _assign(context, tenant_id, route_id)["statusCode"] == 404


@pytest.mark.parametrize(
    ("model", "write", "change"),
    [
        (
            ChannelModel,
            "save",
            lambda: channels.create_channel(
                channels.ChannelFields.model_validate({**NEW_CHANNEL, "route_id": "KAN_2"})
            ),
        ),
        (ChannelModel, "update", lambda: channels.change_channel("KAN_PH", {"throughput": 9})),
        (ChannelModel, "update", lambda: channels.change_channel("KAN_PH", {"password": "n3w"})),
        (TenantModel, "update", lambda: channels.assign_channel("acme", "KAN_PH")),
        (TenantModel, "update", lambda: channels.unassign_channel("acme", "KAN_PH")),
    ],
    ids=["create", "change", "change credentials", "assign", "unassign"],
)
def test_a_write_dynamodb_refuses_is_raised_not_answered_as_a_conflict_or_not_found(
    aws, tenant, context, monkeypatch, model, write, change
):
    _create(context)
    _assign(context, "acme", "KAN_PH")

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(PutError if write == "save" else UpdateError)

    monkeypatch.setattr(model, write, refused)

    with pytest.raises(PynamoDBException):
        change()


def test_a_tenant_key_cannot_assign_channels(aws, tenant, context):
    _create(context)

    assert _assign(context, "acme", "KAN_PH", role="tenant")["statusCode"] == 403


def test_a_recipient_in_a_direction_the_channel_does_not_carry_is_rejected(aws, tenant, context):
    _create(context)
    _assign(context, "acme", "KAN_PH")

    response = _send(context, ["+8613800138000", "+639215347566"])

    assert response["statusCode"] == 202
    china, philippines = json.loads(response["body"])["messages"]
    assert (china["status"], philippines["status"]) == ("rejected", "queued")
    assert "mainland_china" in china["reason"]


def test_the_price_of_a_segment_is_its_countrys_else_the_default(aws, tenant, context):
    _create(context)
    channel = channels.get_channel("KAN_PH")

    assert (channel.segment_price("+639215347566"), channel.segment_price("+6591234567")) == (
        12000,
        3500,
    )


def test_a_mission_in_a_direction_the_channel_does_not_carry_is_refused(aws, tenant, context):
    _create(context)
    _assign(context, "acme", "KAN_PH")

    status, body = missions_api.create_with_list(
        numberlist_corpus.xlsx([["Phone Number"], ["13800138000"]]),
        channel="KAN_PH",
        direction="mainland_china",
        content="Your code is 1234",
    )

    assert status == 400, body
    assert "mainland_china" in body["error"]["message"]


def test_a_mission_in_a_direction_the_channel_carries_is_accepted(aws, tenant, context):
    _create(context)
    _assign(context, "acme", "KAN_PH")

    status, body = missions_api.create_with_list(numberlist_corpus.guide_xlsx(), channel="KAN_PH")

    assert status in (200, 201, 202), body


def test_a_patch_to_null_clears_the_default_sender(aws, tenant, context):
    _create(context)

    response = _patch(context, {"default_sender": None})

    assert json.loads(response["body"])["default_sender"] is None
    assert channels.get_channel("KAN_PH").default_sender is None


def test_a_channel_is_paused_and_resumed_by_a_patch_and_says_so(aws, tenant, context):
    created = json.loads(_create(context)["body"])

    paused = _patch(context, {"paused": True})
    listed = _admin(context, "GET", "/v1/admin/channels", "/v1/admin/channels")
    resumed = _patch(context, {"paused": False})

    assert created["paused"] is False
    assert paused["statusCode"] == 200
    assert json.loads(paused["body"])["paused"] is True
    by_route = {c["route_id"]: c["paused"] for c in json.loads(listed["body"])["channels"]}
    assert by_route == {"KAN_PH": True, "SIM": False}
    assert json.loads(resumed["body"])["paused"] is False
    assert channels.get_route("KAN_PH").paused is False


def test_a_patch_that_names_nothing_else_leaves_a_pause_as_it_was(aws, tenant, context):
    _create(context)
    _patch(context, {"paused": True})

    body = json.loads(_patch(context, {"throughput": 7})["body"])

    assert (body["throughput"], body["paused"]) == (7, True)


@pytest.mark.parametrize("paused", ["yes", 1, None])
def test_a_pause_that_is_not_true_or_false_is_refused(aws, tenant, context, paused):
    _create(context)

    response = _patch(context, {"paused": paused})

    assert response["statusCode"] == 400
    assert "paused" in response["body"]
    assert not ChannelModel.get("KAN_PH").paused


def test_pausing_a_channel_that_does_not_exist_is_not_found(aws, tenant, context):
    response = _patch(context, {"paused": True}, route_id="NOPE")

    assert response["statusCode"] == 404
    assert "channel NOPE does not exist" in response["body"]


def test_the_console_command_pauses_and_resumes_a_channel(aws, tenant, context, monkeypatch):

    _create(context)

    paused = run_cli("channel-pause", "KAN_PH")
    shown = run_cli("channel-show", "KAN_PH")
    resumed = run_cli("channel-resume", "KAN_PH")

    assert (paused["paused"], shown["paused"], resumed["paused"]) == (True, True, False)
    assert not ChannelModel.get("KAN_PH").paused


def test_the_console_command_refuses_to_pause_a_channel_that_does_not_exist(
    aws, tenant, monkeypatch
):

    with pytest.raises(SystemExit, match="cloudsms: channel NOPE does not exist"):
        run_cli("channel-pause", "NOPE")


def test_a_channels_own_delivery_floor_is_answered_listed_and_reset_to_the_stacks_by_null(
    aws, tenant, context
):
    created = json.loads(_create(context, {**NEW_CHANNEL, "delivery_floor": 0.95})["body"])

    listed = _admin(context, "GET", "/v1/admin/channels", "/v1/admin/channels")
    lowered = json.loads(_patch(context, {"delivery_floor": 0.7})["body"])
    reset = json.loads(_patch(context, {"delivery_floor": None})["body"])

    assert created["delivery_floor"] == 0.95
    # A channel without its own floor (SIM) says null: the stack's ChannelDeliveryFloor.
    by_route = {c["route_id"]: c["delivery_floor"] for c in json.loads(listed["body"])["channels"]}
    assert by_route == {"KAN_PH": 0.95, "SIM": None}
    assert lowered["delivery_floor"] == 0.7
    assert reset["delivery_floor"] is None
    assert ChannelModel.get("KAN_PH").delivery_floor is None


@pytest.mark.parametrize("floor", [1.01, -1, "0.5", True, float("nan")])
def test_a_delivery_floor_that_is_no_share_from_0_to_1_is_refused_and_changes_nothing(
    aws, tenant, context, floor
):
    _create(context, {**NEW_CHANNEL, "delivery_floor": 0.9})

    response = _patch(context, {"delivery_floor": floor})

    assert response["statusCode"] == 400
    details = json.loads(response["body"])["error"]["details"]
    assert [detail["field"] for detail in details] == ["delivery_floor"]
    assert ChannelModel.get("KAN_PH").delivery_floor == 0.9


def test_the_console_command_sets_lists_and_resets_a_channels_delivery_floor(aws, tenant):
    set_ = run_cli("channel-update", "SIM", "--delivery-floor", "0.95")
    listed = run_cli("channel-list")
    reset = run_cli("channel-update", "SIM", "--delivery-floor", "default")

    assert set_["delivery_floor"] == 0.95
    assert [c["delivery_floor"] for c in listed] == [0.95]
    assert reset["delivery_floor"] is None
    assert ChannelModel.get("SIM").delivery_floor is None


@pytest.mark.parametrize("floor", ["1.5", "-0.1", "nan"])
def test_the_console_command_refuses_a_delivery_floor_out_of_range_naming_the_field(
    aws, tenant, floor
):
    with pytest.raises(SystemExit, match="^cloudsms: delivery_floor: "):
        run_cli("channel-update", "SIM", "--delivery-floor", floor)

    assert ChannelModel.get("SIM").delivery_floor is None


def test_the_console_command_refuses_a_delivery_floor_that_is_no_number(aws, tenant, capsys):
    with pytest.raises(SystemExit) as exited:
        run_cli("channel-update", "SIM", "--delivery-floor", "high")

    assert exited.value.code == 2
    assert "--delivery-floor" in capsys.readouterr().err


def test_a_channel_added_by_the_console_command_takes_its_own_delivery_floor(
    aws, tenant, monkeypatch
):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))

    added = run_cli(
        "channel-add",
        "KAN_PH",
        "--type",
        "kannel",
        "--endpoint",
        "http://127.0.0.1:13013",
        "--username",
        "kuser",
        "--password-stdin",
        "--delivery-floor",
        "0.8",
    )

    assert added["delivery_floor"] == 0.8
