"""The Lambda REQUEST authorizer: an API key in, the caller's tenant and role out."""

import json

import pytest

from cloudsms import cache
from cloudsms.services import tenants
from cloudsms.store.api_keys import ApiKeyModel
from functions.authorizer import app as authorizer_app
from tests.integration.conftest import EVENTS


def _authorize(context, headers: dict[str, str]) -> dict:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"] = {"Content-Type": "application/json", **headers}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return authorizer_app.lambda_handler(event, context)


def _effects(policy: dict) -> list[str]:
    return [statement["Effect"] for statement in policy["policyDocument"]["Statement"]]


def test_a_valid_bearer_key_is_allowed_with_its_tenant_and_role(aws, tenant, context):
    policy = _authorize(context, {"Authorization": f"Bearer {tenant['key']}"})

    assert _effects(policy) == ["Allow", "Deny"]  # the operator routes
    assert policy["principalId"] == tenant["key_id"]
    assert policy["context"]["tenant_id"] == "acme"
    assert policy["context"]["role"] == "tenant"


def test_an_operator_key_carries_the_operator_role(aws, tenant, context):
    key = tenants.issue_key("acme", role="operator")

    policy = _authorize(context, {"Authorization": f"Bearer {key.key}"})

    assert policy["context"]["role"] == "operator"
    assert _effects(policy) == ["Allow"]


def test_a_tenant_key_is_denied_the_operator_routes(aws, tenant, context):
    policy = _authorize(context, {"Authorization": f"Bearer {tenant['key']}"})

    [denied] = [s for s in policy["policyDocument"]["Statement"] if s["Effect"] == "Deny"]
    # after the API and stage: any method, any path under /v1/admin/
    assert [arn.split("/", 2)[2] for arn in denied["Resource"]] == ["*/v1/admin/*"]


def test_two_different_keys_in_the_two_headers_are_unauthorized(aws, tenant, context):
    other = tenants.issue_key("acme", role="operator")
    both = {"Authorization": f"Bearer {tenant['key']}", "X-API-Key": other.key}

    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, both)
    same = _authorize(context, {**both, "X-API-Key": tenant["key"]})
    assert same["context"]["key_id"] == tenant["key_id"]


def test_a_key_in_the_x_api_key_header_is_allowed(aws, tenant, context):
    policy = _authorize(context, {"X-API-Key": tenant["key"]})

    assert _effects(policy)[0] == "Allow"
    assert policy["context"]["tenant_id"] == "acme"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer csk_not-a-key-anyone-was-given"},
        {"X-API-Key": "csk_not-a-key-anyone-was-given"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["no-key", "wrong-bearer-key", "wrong-x-api-key", "not-a-bearer-scheme"],
)
def test_a_request_without_a_valid_key_is_unauthorized(aws, tenant, context, headers):
    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, headers)


def test_a_revoked_key_is_unauthorized(aws, tenant, context):
    _authorize(context, {"Authorization": f"Bearer {tenant['key']}"})
    tenants.revoke_key("acme", tenant["key_id"])
    # A warm authorizer remembers keys for a while (see the next test).
    cache.clear_all()

    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, {"Authorization": f"Bearer {tenant['key']}"})


def test_a_revoked_key_still_resolves_from_the_cache_until_it_expires(aws, tenant, context):
    headers = {"Authorization": f"Bearer {tenant['key']}"}
    _authorize(context, headers)

    tenants.revoke_key("acme", tenant["key_id"])

    assert _effects(_authorize(context, headers))[0] == "Allow"
    cache.clear_all()
    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, headers)


def test_revoking_a_key_removed_meanwhile_writes_no_stray_item(aws, tenant, monkeypatch):
    # A session that expired: time to live removed it from the table, and the tenant
    # index, which lags, still shows it to the revocation.
    key_hash = tenants.hash_key(tenant["key"])
    [shown] = list(ApiKeyModel.by_tenant.query("acme", ApiKeyModel.key_id == tenant["key_id"]))
    ApiKeyModel.get(key_hash).delete()
    monkeypatch.setattr(ApiKeyModel.by_tenant, "query", lambda *args, **kwargs: iter([shown]))

    tenants.revoke_key("acme", tenant["key_id"])

    with pytest.raises(ApiKeyModel.DoesNotExist):
        ApiKeyModel.get(key_hash)


def test_a_key_revoked_twice_keeps_its_first_revocation_time(aws, tenant):
    tenants.revoke_key("acme", tenant["key_id"])
    first = ApiKeyModel.get(tenants.hash_key(tenant["key"])).revoked_at

    tenants.revoke_key("acme", tenant["key_id"])

    assert ApiKeyModel.get(tenants.hash_key(tenant["key"])).revoked_at == first


def test_a_key_of_one_tenant_never_resolves_to_another(aws, tenant, context):
    tenants.create_tenant("globex", "Globex", "Asia/Shanghai")
    other = tenants.issue_key("globex")

    policy = _authorize(context, {"Authorization": f"Bearer {other.key}"})

    assert policy["context"]["tenant_id"] == "globex"
