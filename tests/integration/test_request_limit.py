"""A tenant's request limit through the handlers: the request past the tenant's burst is
refused (429, Retry-After) and sends or creates nothing, another tenant is not held
back, an idempotent retry is neither refused nor counted, and the operator's limit (the
admin API, `cloudsms tenant-request-limit`) holds from the next request. The clock
stands still unless a test moves it."""

import json
from typing import Any

import pytest

from cloudsms import clock
from cloudsms.services import channels, missions, tenants
from cloudsms.store.messages import MessageModel
from cloudsms.store.throughput import DynamoBucketStore
from functions.admin import app as admin_app
from functions.missions import app as missions_app
from functions.send import app as send_app
from tests.integration.conftest import api_event, run_cli, throttled
from tests.integration.missions_api import post_form, queued_bodies
from tests.integration.submit_records import FakeClock

NUMBER = "+639215347566"
SMS = {"to": [NUMBER], "text": "Your code is 123456", "sms_type": "verify_code", "channel": "SIM"}
MISSION = {
    "name": "Limited",
    "direction": "international",
    "sms_type": "business",
    "channel": "SIM",
    "content": "Hello ${Name}",
}
BURST = 3  # the limit the operator gives acme in these tests: 2 a second, bursts of 3


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


def _header(response: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[0]
    return headers.get(name.lower())


def _set_limit(context, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /v1/admin/tenants/{tenant_id}/request-limit with an operator's key."""
    path = f"/v1/admin/tenants/{tenant_id}/request-limit"
    event = api_event(
        "PUT",
        path,
        "/v1/admin/tenants/{tenant_id}/request-limit",
        body=body,
        path_parameters={"tenant_id": tenant_id},
    )
    event["requestContext"]["authorizer"]["role"] = "operator"
    return admin_app.lambda_handler(event, context)  # type: ignore[no-any-return]


def _send(context, tenant_id: str = "acme", headers: dict[str, str] | None = None) -> dict:
    event = api_event("POST", "/v1/sms", "/v1/sms", tenant_id=tenant_id, body=SMS, headers=headers)
    return send_app.lambda_handler(event, context)  # type: ignore[no-any-return]


def _statuses(context, count: int, tenant_id: str = "acme") -> list[int]:
    return [_send(context, tenant_id)["statusCode"] for _ in range(count)]


@pytest.fixture
def limited(tenant, context, fake_clock) -> dict[str, str]:
    """acme, whose operator set its limit to 2 requests a second in bursts of 3."""
    response = _set_limit(context, "acme", {"requests_per_second": 2, "burst": BURST})
    assert response["statusCode"] == 200, response["body"]
    return tenant


def test_the_request_past_the_burst_is_refused_with_retry_after(limited, context):
    assert _statuses(context, BURST) == [202] * BURST

    refused = _send(context)

    assert refused["statusCode"] == 429
    assert _header(refused, "Retry-After") == "1"
    error = json.loads(refused["body"])["error"]
    assert error["code"] == "too_many_requests"
    assert "2 requests a second, in bursts of up to 3" in error["message"]


def test_the_refused_request_stores_and_queues_nothing(limited, context, aws):
    _statuses(context, BURST)

    _send(context)

    assert MessageModel.count("acme") == BURST
    assert len(queued_bodies(aws, "OtpSubmitQueue")) == BURST


def test_the_refused_request_is_taken_once_retry_after_has_passed(limited, context, fake_clock):
    _statuses(context, BURST)
    refused = _send(context)
    assert refused["statusCode"] == 429

    fake_clock.advance(int(_header(refused, "Retry-After") or 0))

    assert _send(context)["statusCode"] == 202


def test_another_tenant_is_not_held_back_by_one_at_its_limit(limited, context):
    tenants.create_tenant("beta", "Beta", "Asia/Shanghai")
    channels.assign_channel("beta", "SIM")
    assert _statuses(context, BURST + 1)[-1] == 429

    assert _statuses(context, BURST, tenant_id="beta") == [202] * BURST


def test_reading_is_not_limited(limited, context):
    sent = _send(context)
    uid = json.loads(sent["body"])["messages"][0]["uid"]
    assert _statuses(context, BURST)[-1] == 429
    event = api_event("GET", f"/v1/sms/{uid}", "/v1/sms/{uid}", path_parameters={"uid": uid})

    assert send_app.lambda_handler(event, context)["statusCode"] == 200


def test_an_idempotent_retry_is_answered_even_when_the_limit_is_reached(limited, context):
    key = {"Idempotency-Key": "retry-1"}
    first = _send(context, headers=key)
    assert _statuses(context, BURST)[-1] == 429

    again = _send(context, headers=key)

    assert again["statusCode"] == 202
    assert json.loads(again["body"]) == json.loads(first["body"])


def test_an_idempotent_retry_takes_nothing_from_the_limit(limited, context):
    key = {"Idempotency-Key": "retry-1"}
    _send(context, headers=key)
    _send(context, headers=key)

    # The first took one request; the retry none.
    assert _statuses(context, BURST) == [202] * (BURST - 1) + [429]


def test_a_request_refused_by_the_limit_can_be_sent_again_with_its_key(
    limited, context, fake_clock
):
    # The refusal is not kept as the key's answer: once the wait is over, the same
    # request with the same Idempotency-Key is carried out.
    _statuses(context, BURST)
    key = {"Idempotency-Key": "late-1"}
    assert _send(context, headers=key)["statusCode"] == 429

    fake_clock.advance(1)

    assert _send(context, headers=key)["statusCode"] == 202


def test_creating_a_mission_is_limited_and_creates_nothing_past_the_limit(limited, context):
    _statuses(context, BURST)
    event = api_event("POST", "/v1/missions", "/v1/missions", body=MISSION)

    refused = missions_app.lambda_handler(event, context)

    assert refused["statusCode"] == 429
    assert _header(refused, "Retry-After") == "1"
    assert missions.list_missions("acme", 10, None)["items"] == []


def test_previewing_a_mission_is_limited_as_creating_one_is(limited, context):
    # Given a tenant that used its burst
    _statuses(context, BURST)

    # When it previews a mission and its list (the API's heaviest request)
    numbers = f"Phone Number\n{NUMBER}\n".encode()
    status, body = post_form("/v1/missions/preview", MISSION, numbers, "numbers.csv")

    # Then the preview is refused as a send would be, before the list is read
    assert status == 429, body
    assert body["error"]["code"] == "too_many_requests"


def test_the_cmi_apis_sends_are_limited_in_its_own_answer(limited, context):
    _statuses(context, BURST)
    send = {
        "METHOD": "SMS_SEND_REQUEST",
        "SERIAL": 7,
        "TIME": "2026-11-28 10:00:00",
        "AUTH_KEY": limited["key"],
        "ROUTE_ID": "SIM",
        "VERSION": "2021-01-01",
        "SMS_CONTENT": "Hello",
        "MULTI_MSISDN_LIST": [{"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63}],
    }
    event = api_event("POST", "/v1/cmi", "/v1/cmi", tenant_id=None, body=send)

    refused = send_app.lambda_handler(event, context)

    assert refused["statusCode"] == 429
    assert _header(refused, "Retry-After") == "1"
    assert json.loads(refused["body"])["RESULT_DESC"] == "BUSY"
    assert MessageModel.count("acme") == BURST


def test_a_throttled_bucket_refuses_the_request_and_sends_nothing(tenant, context, monkeypatch):
    # Fails closed (services/request_limit.py says why).
    def refill(*args, **kwargs):
        from pynamodb.exceptions import UpdateError

        raise throttled(UpdateError)

    monkeypatch.setattr(DynamoBucketStore, "refill", refill)

    refused = _send(context)

    assert refused["statusCode"] == 429
    assert _header(refused, "Retry-After") == "1"
    assert MessageModel.count("acme") == 0


# --- the operator's limit ---------------------------------------------------------------


def test_a_tenant_without_a_limit_of_its_own_has_the_stacks(tenant, context, fake_clock):
    # TENANT_REQUEST_BURST: 100 at once.
    assert _statuses(context, 101) == [202] * 100 + [429]


def test_the_operators_zero_lifts_the_tenants_limit(limited, context):
    assert _statuses(context, BURST + 1)[-1] == 429

    lifted = _set_limit(context, "acme", {"requests_per_second": 0})

    assert json.loads(lifted["body"]) == {
        "tenant_id": "acme",
        "requests_per_second": 0,
        "burst": 0,
        "default": False,
    }
    assert _statuses(context, 2 * BURST) == [202] * (2 * BURST)


def test_the_operator_can_give_the_tenant_the_stacks_limit_again(limited, context):
    back = _set_limit(context, "acme", {})

    assert json.loads(back["body"])["default"] is True
    assert tenants.request_limit(tenants.get_tenant("acme")) == tenants.RequestLimit(50, 100)


def test_the_operators_limit_without_a_burst_allows_twice_the_rate_at_once(tenant, context):
    set_ = _set_limit(context, "acme", {"requests_per_second": 3})

    assert json.loads(set_["body"])["burst"] == 6


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requests_per_second": -1}, "requests_per_second"),
        ({"requests_per_second": 1_000_000}, "requests_per_second"),
        ({"requests_per_second": "lots"}, "requests_per_second"),
        ({"requests_per_second": 5, "burst": 0}, "burst"),
        ({"requests_per_second": 5, "burst": 10**9}, "burst"),
        ({"burst": 5}, "burst"),
    ],
)
def test_a_limit_out_of_bounds_is_refused_naming_the_field(tenant, context, body, field):
    refused = _set_limit(context, "acme", body)

    assert refused["statusCode"] == 400
    assert field in json.loads(refused["body"])["error"]["message"]
    assert tenants.get_tenant("acme").request_rate is None


def test_a_tenants_key_may_not_set_a_limit(tenant, context):
    event = api_event(
        "PUT",
        "/v1/admin/tenants/acme/request-limit",
        "/v1/admin/tenants/{tenant_id}/request-limit",
        body={"requests_per_second": 0},
        path_parameters={"tenant_id": "acme"},
    )

    assert admin_app.lambda_handler(event, context)["statusCode"] == 403


def test_the_limit_of_a_tenant_that_does_not_exist_is_not_found(tenant, context):
    refused = _set_limit(context, "nobody", {"requests_per_second": 5})

    assert refused["statusCode"] == 404
    assert json.loads(refused["body"])["error"]["message"] == "tenant nobody does not exist"


def test_the_command_sets_the_limit_and_the_tenant_list_shows_it(tenant):
    shown = run_cli("tenant-request-limit", "acme", "5", "--burst", "9")

    assert shown["request_limit"] == {"requests_per_second": 5, "burst": 9, "default": False}
    [listed] = run_cli("tenant-list")
    assert listed["request_limit"] == shown["request_limit"]


def test_the_command_gives_the_stacks_limit_back_with_default(tenant):
    run_cli("tenant-request-limit", "acme", "0")

    shown = run_cli("tenant-request-limit", "acme", "default")

    assert shown["request_limit"] == {"requests_per_second": 50, "burst": 100, "default": True}


@pytest.mark.parametrize(
    ("words", "field"),
    [
        (("-1",), "requests_per_second"),
        (("x",), "requests_per_second"),
        (("5", "--burst", "0"), "burst"),
    ],
)
def test_the_command_refuses_a_limit_out_of_bounds_naming_the_field(tenant, words, field):
    with pytest.raises(SystemExit) as exited:
        run_cli("tenant-request-limit", "acme", *words)

    assert str(exited.value.code).startswith("cloudsms: ")
    assert field in str(exited.value.code)
