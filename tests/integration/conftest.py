"""Handlers against moto, with every resource created from template.yaml."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cloudsms import cache
from cloudsms_local.template import LocalResources, create_resources

EVENTS = Path(__file__).parent.parent / "events"


@pytest.fixture
def aws() -> Iterator[LocalResources]:
    """A fresh emulated account holding the template's resources."""
    with mock_aws():
        cache.clear_all()
        yield create_resources(
            boto3.Session(),
            api_urls={"Api": "http://api.test", "ReceiptApi": "http://receipts.test"},
        )
    cache.clear_all()


@pytest.fixture
def tenant(aws: LocalResources) -> dict[str, str]:
    """A tenant granted the channel "SIM", which points at a gateway nothing listens on."""
    from cloudsms.services import channels, tenants

    tenants.create_tenant("acme", "Acme", "Asia/Shanghai")
    channels.add_channel("SIM", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
    tenants.grant_channel("acme", "SIM")
    key = tenants.issue_key("acme")
    return {"tenant_id": "acme", "channel": "SIM", "key": key.key, "key_id": key.key_id}


class FakeContext:
    """The Lambda context a handler may read (a stand-in: no Lambda runs in tests)."""

    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_event(
    method: str,
    path: str,
    resource: str,
    tenant_id: str | None = "acme",
    body: Any = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the authorizer leaves it (from tests/events)."""
    event = json.loads((EVENTS / "api_request.json").read_text())
    event.update(
        {
            "httpMethod": method,
            "path": path,
            "resource": resource,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "pathParameters": path_parameters,
            "queryStringParameters": query,
            "body": None if body is None else json.dumps(body),
        }
    )
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["resourcePath"] = resource
    if tenant_id is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"]["tenant_id"] = tenant_id
    return event


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()
