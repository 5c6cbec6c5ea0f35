"""Handlers run under their template policies: a request the policies do not allow is
refused as IAM would refuse it (moto alone checks none)."""

import json

import pytest
from pynamodb.exceptions import GetError

from cloudsms.services import tenants
from cloudsms_local import iam
from functions.authorizer import app as authorizer_app
from tests.integration.conftest import EVENTS


@pytest.fixture
def authorizer_without_tenants(aws):
    """The authorizer's policies as they were before it was given the tenants table."""
    tenants_table = aws.physical["TenantsTable"]
    policies = {
        **aws.policies,
        "AuthorizerFunction": [
            s for s in aws.policies["AuthorizerFunction"] if tenants_table not in str(s["Resource"])
        ],
    }
    iam.enforce(aws.functions, policies)
    yield
    iam.enforce(aws.functions, aws.policies)


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
