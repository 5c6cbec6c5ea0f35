"""Handlers run under their template policies: a request the policies do not allow is
refused as IAM would refuse it (moto alone checks none)."""

import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pynamodb.exceptions import GetError

from cloudsms.services import authorization, tenants
from cloudsms_local import iam
from functions.authorizer import app as authorizer_app
from tests.integration import missions_api as api
from tests.integration.conftest import EVENTS
from tests.unit import numberlist_corpus as corpus


@contextmanager
def enforced_without(aws, function: str, table: str):
    """The function's policies without those naming the table, for as long as it runs."""
    physical = aws.physical[table]
    policies = {
        **aws.policies,
        function: [s for s in aws.policies[function] if physical not in str(s["Resource"])],
    }
    iam.enforce(aws.functions, policies)
    try:
        yield
    finally:
        iam.enforce(aws.functions, aws.policies)


@pytest.fixture
def authorizer_without_tenants(aws):
    """The authorizer's policies as they were before it was given the tenants table."""
    with enforced_without(aws, "AuthorizerFunction", "TenantsTable"):
        yield


@pytest.fixture
def schedule_api_without_channels(aws):
    """The schedule API's policies as they were before it was given the channels table."""
    with enforced_without(aws, "ScheduleApiFunction", "ChannelsTable"):
        yield


def _authorize(context, key: str) -> dict:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"] = {"Authorization": f"Bearer {key}"}
    event["multiValueHeaders"] = {"Authorization": [f"Bearer {key}"]}
    return authorizer_app.lambda_handler(event, context)


def test_a_handler_is_refused_what_its_policies_do_not_allow(
    aws, tenant, context, authorizer_without_tenants
):
    with pytest.raises(GetError) as refused:  # PynamoDB's wrapping of AWS's refusal
        _authorize(context, tenant["key"])

    assert refused.value.cause_response_code == "AccessDeniedException"
    assert "not authorized to perform: dynamodb:GetItem" in str(refused.value)
    assert aws.physical["TenantsTable"] in str(refused.value)


def test_what_runs_outside_any_handler_is_not_checked(aws, tenant, authorizer_without_tenants):
    # The tests' own set-up and the operator's command act with the operator's rights.
    assert tenants.get_tenant("acme").tenant_id == "acme"


def test_the_authorizer_may_read_the_tenant_of_a_key(aws, tenant, context):
    assert _authorize(context, tenant["key"])["context"]["tenant_id"] == "acme"


# A function's cached lookups (cloudsms/cache.py) are its own, as in AWS, where a new
# container has none: one made outside it would spare it a request its policies do not
# allow, which fails only deployed.


def test_a_lookup_the_tests_set_up_made_is_made_again_under_a_handler(
    aws, tenant, context, authorizer_without_tenants
):
    assert authorization.resolve(tenant["key"]) is not None  # remembered, as the operator

    with pytest.raises(GetError) as refused:
        _authorize(context, tenant["key"])

    assert refused.value.cause_response_code == "AccessDeniedException"


def test_a_lookup_one_function_made_is_made_again_by_another(
    aws, tenant, schedule_api_without_channels
):
    # Given a mission scheduled through the missions API, which read its channel
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    status, mission = api.create_with_list(
        corpus.guide_xlsx(), dispatch_at=f"{tomorrow.isoformat()}T12:00:00"
    )
    assert status == 201, mission

    # When the schedule API, not allowed the channels table, moves it
    with pytest.raises(GetError) as refused:
        api.reschedule(mission["mission_id"], f"{tomorrow.isoformat()}T15:30:00")

    # Then it is refused the read of the channel
    assert refused.value.cause_response_code == "AccessDeniedException"
    assert aws.physical["ChannelsTable"] in str(refused.value)
