"""A tenant's request limit: the decision to take or refuse a request, against the
channels' bucket store FAKE and a clock the tests set."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from cloudsms.errors import BadRequest, TooManyRequests
from cloudsms.services import request_limit, tenants
from cloudsms.services.throughput import TokenBuckets
from cloudsms.store.tenants import TenantModel
from cloudsms.validation import validated
from tests.unit.test_token_bucket import FakeBucketStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(monkeypatch) -> FakeBucketStore:
    fake = FakeBucketStore()
    monkeypatch.setattr(request_limit, "_buckets", TokenBuckets(fake, burst_seconds=1.0))
    return fake


def _tenant(rate: int | None = 2, burst: int | None = 3, tenant_id: str = "acme") -> TenantModel:
    return TenantModel(
        tenant_id=tenant_id,
        name="Acme",
        time_zone="Asia/Shanghai",
        request_rate=rate,
        request_burst=burst,
    )


def _taken(tenant: TenantModel, count: int, now: datetime = NOW) -> int:
    """How many of `count` requests at `now` the limit takes before the first refusal."""
    for taken in range(count):
        try:
            request_limit.take_request(tenant, now)
        except TooManyRequests:
            return taken
    return count


def test_a_tenant_may_make_its_burst_of_requests_at_once_and_no_more(store):
    assert _taken(_tenant(rate=2, burst=3), 10) == 3


def test_the_request_past_the_burst_is_told_the_whole_seconds_to_wait(store):
    tenant = _tenant(rate=2, burst=3)
    _taken(tenant, 3)

    with pytest.raises(TooManyRequests) as refused:
        request_limit.take_request(tenant, NOW)

    # One request comes back every half second: a whole second, rounded up.
    assert refused.value.retry_after == 1
    assert refused.value.headers() == {"Retry-After": "1"}
    assert "2 requests a second, in bursts of up to 3" in refused.value.message


def test_requests_come_back_at_the_tenants_rate(store):
    tenant = _tenant(rate=2, burst=3)
    _taken(tenant, 3)

    assert _taken(tenant, 10, NOW + timedelta(seconds=1)) == 2


def test_a_request_waited_for_as_retry_after_said_is_taken(store):
    tenant = _tenant(rate=2, burst=3)
    _taken(tenant, 3)
    with pytest.raises(TooManyRequests) as refused:
        request_limit.take_request(tenant, NOW)

    later = NOW + timedelta(seconds=refused.value.retry_after or 0)

    request_limit.take_request(tenant, later)


def test_one_tenants_burst_leaves_another_tenants_bucket_full(store):
    _taken(_tenant(tenant_id="acme"), 3)

    assert _taken(_tenant(tenant_id="beta"), 10) == 3


def test_a_tenant_whose_limit_is_zero_is_never_refused_and_takes_no_bucket(store):
    assert _taken(_tenant(rate=0, burst=None), 500) == 500
    assert store.requests == 0


def test_a_tenant_without_a_limit_of_its_own_has_the_stacks(store):
    # TENANT_REQUEST_RATE and TENANT_REQUEST_BURST's defaults: 50 a second, bursts of 100.
    assert _taken(_tenant(rate=None, burst=None), 150) == 100


def test_a_tenants_bucket_is_keyed_apart_from_every_channels_route_id(store):
    request_limit.take_request(_tenant(), NOW)

    # A route id is letters, digits, '_' and '-': "acme" could be one, "tenant#acme" not.
    assert list(store.full_at) == ["tenant#acme"]


def _throttled(*args, **kwargs):
    code = {"Code": "ProvisionedThroughputExceededException", "Message": "rate exceeded"}
    raise UpdateError("throttled", cause=ClientError({"Error": code}, "UpdateItem"))


def test_a_throttled_bucket_refuses_the_request_rather_than_let_it_through(store, monkeypatch):
    monkeypatch.setattr(store, "refill", _throttled)

    with pytest.raises(TooManyRequests) as refused:
        request_limit.take_request(_tenant(), NOW)

    assert refused.value.retry_after == 1


def test_a_bucket_write_failing_for_another_reason_is_not_taken_for_the_limit(store, monkeypatch):
    def denied(*args, **kwargs):
        code = {"Code": "AccessDeniedException", "Message": "no"}
        raise UpdateError("denied", cause=ClientError({"Error": code}, "UpdateItem"))

    monkeypatch.setattr(store, "refill", denied)

    with pytest.raises(UpdateError):
        request_limit.take_request(_tenant(), NOW)


# --- the operator's values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"requests_per_second": -1}, "requests_per_second"),
        ({"requests_per_second": 1_001}, "requests_per_second"),
        ({"requests_per_second": "fast"}, "requests_per_second"),
        ({"requests_per_second": 5, "burst": 0}, "burst"),
        ({"requests_per_second": 5, "burst": 10_001}, "burst"),
        ({"burst": 5}, "burst"),
        ({"requests_per_second": 0, "burst": 5}, "burst"),
        ({"rate": 5}, "rate"),
    ],
)
def test_a_limit_out_of_bounds_is_refused_naming_the_field(fields, named):
    with pytest.raises(BadRequest, match=named):
        validated(tenants.RequestLimitFields, fields)


@pytest.mark.parametrize(
    ("rate", "burst", "view"),
    [
        (None, None, {"requests_per_second": 50, "burst": 100, "default": True}),
        (0, None, {"requests_per_second": 0, "burst": 0, "default": False}),
        (5, 12, {"requests_per_second": 5, "burst": 12, "default": False}),
    ],
)
def test_the_operator_sees_the_limit_that_holds(rate, burst, view):
    assert tenants.request_limit_view(_tenant(rate, burst)) == view
