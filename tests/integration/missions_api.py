"""Calling the mission handlers as API Gateway and S3 would, and reading back what they
left in the emulated account, for the mission and scheduling tests."""

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import boto3
from moto import mock_aws

from cloudsms import cache
from cloudsms.domain.mission import MissionFields
from cloudsms.services import missions
from cloudsms.services.tenants import get_tenant
from cloudsms.settings import get_settings
from cloudsms_local.template import LocalResources
from functions.admin import app as admin_app
from functions.missions import app as missions_app
from functions.schedule import app as schedule_app
from functions.send import app as send_app
from functions.send import ingest
from tests.integration.conftest import FakeContext, api_event, template_resources
from tests.unit import numberlist_corpus as corpus
from tests.unit.numberlist_corpus import GUIDE_CONTENT

HEADER = corpus.GUIDE_ROWS[0]
# 10:00 in Shanghai, the tenant's zone: a dispatch at 12:00 the same day is in the window.
MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
NOON = "2026-12-01T12:00:00+08:00"
NOON_UTC = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
GUIDE_FIELDS = {
    "name": "Guide example",
    "direction": "international",
    "sms_type": "business",
    "channel": "SIM",
    "content": GUIDE_CONTENT,
    "signature": "CloudSMS",
}


@contextmanager
def shared_account() -> Iterator[LocalResources]:
    """What the `aws` and `tenant` fixtures make (acme, granted channel SIM), once for a
    whole module whose tests can share it: each fixture setup costs half a second."""
    from cloudsms.services import channels, tenants

    with mock_aws():
        cache.clear_all()
        resources = template_resources()
        tenants.create_tenant("acme", "Acme", "Asia/Shanghai")
        channels.add_channel("SIM", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
        channels.assign_channel("acme", "SIM")
        yield resources
    cache.clear_all()


def multipart(fields: dict[str, str], data: bytes, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body holding the form fields and the file `number_list`."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="number_list"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _answer(response: dict[str, Any]) -> tuple[int, Any]:
    body = response.get("body")
    if response.get("isBase64Encoded"):
        return response["statusCode"], base64.b64decode(body or "")
    kinds = (response.get("multiValueHeaders") or {}).get("Content-Type") or [""]
    if body and kinds[0].startswith("application/json"):
        return response["statusCode"], json.loads(body)
    return response["statusCode"], body


def _path_parameters(path: str, resource: str) -> dict[str, str] | None:
    names = [part[1:-1] for part in resource.split("/") if part.startswith("{")]
    if not names:
        return None
    values = dict(zip(resource.split("/"), path.split("/"), strict=True))
    return {name: values["{" + name + "}"] for name in names}


def call(
    app: Any,
    method: str,
    path: str,
    resource: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    tenant_id: str = "acme",
    role: str = "tenant",
) -> tuple[int, Any]:
    """One JSON request through a function's handler: (status, decoded body)."""
    event = api_event(
        method,
        path,
        resource,
        tenant_id=tenant_id,
        body=body,
        path_parameters=_path_parameters(path, resource),
        query=query,
    )
    event["requestContext"]["authorizer"]["role"] = role
    return _answer(app.lambda_handler(event, FakeContext()))


def post_form(
    path: str,
    fields: dict[str, str],
    data: bytes,
    filename: str = "numbers.xlsx",
    headers: dict[str, str] | None = None,
    role: str = "tenant",
) -> tuple[int, Any]:
    """A multipart request (as API Gateway passes a binary media type: base64)."""
    body, content_type = multipart(fields, data, filename)
    event = api_event("POST", path, path, headers={"Content-Type": content_type, **(headers or {})})
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    event["requestContext"]["authorizer"]["role"] = role
    blacklists = ("/v1/blacklist", "/v1/admin/blacklist")
    app = admin_app if path.startswith(blacklists) else missions_app
    return _answer(app.lambda_handler(event, FakeContext()))


def create_with_list(
    data: bytes, filename: str = "numbers.xlsx", **fields: str
) -> tuple[int, dict[str, Any]]:
    """POST /v1/missions with the guide's fields (overridden by `fields`) and a list."""
    return post_form("/v1/missions", {**GUIDE_FIELDS, **fields}, data, filename)


def get_mission(mission_id: str, tenant_id: str = "acme") -> tuple[int, dict[str, Any]]:
    return call(
        send_app,
        "GET",
        f"/v1/missions/{mission_id}",
        "/v1/missions/{mission_id}",
        tenant_id=tenant_id,
    )


def list_of(mission_id: str, what: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """GET /v1/missions/{id}/abnormal, /blacklisted or /messages."""
    status, body = call(
        send_app,
        "GET",
        f"/v1/missions/{mission_id}/{what}",
        f"/v1/missions/{{mission_id}}/{what}",
        query=query,
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def list_missions(query: dict[str, str] | None = None) -> dict[str, Any]:
    status, body = call(send_app, "GET", "/v1/missions", "/v1/missions", query=query)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def cancel(mission_id: str) -> tuple[int, dict[str, Any]]:
    return call(
        schedule_app,
        "POST",
        f"/v1/missions/{mission_id}/cancel",
        "/v1/missions/{mission_id}/cancel",
    )


def reschedule(mission_id: str, dispatch_at: str) -> tuple[int, dict[str, Any]]:
    return call(
        schedule_app,
        "PATCH",
        f"/v1/missions/{mission_id}",
        "/v1/missions/{mission_id}",
        body={"dispatch_at": dispatch_at},
    )


def blacklist(numbers: list[str], platform: bool = False, reason: str = "") -> dict[str, Any]:
    """Adds numbers to acme's blacklist, or (with an operator key) the platform's."""
    path = "/v1/admin/blacklist" if platform else "/v1/blacklist"
    status, body = call(
        admin_app,
        "POST",
        path,
        path,
        body={"numbers": numbers, "reason": reason},
        role="operator" if platform else "tenant",
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def s3_put_event(bucket: str, key: str) -> dict[str, Any]:
    """An ObjectCreated event as S3 sends it: the key URL-encoded, "/" and spaces too."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-01-01T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe=""), "size": 1},
                },
            }
        ]
    }


def ingest_object(bucket: str, key: str) -> None:
    """What S3's notification does once an object arrives: the ingest function runs."""
    ingest.lambda_handler(s3_put_event(bucket, key), FakeContext())


# --- making missions ---------------------------------------------------------------


def numbers_list(numbers: list[Any]) -> bytes:
    return corpus.xlsx([HEADER, *([n, f"Name {i}", f"site{i}.com"] for i, n in enumerate(numbers))])


def create_scheduled(numbers: list[str]) -> dict[str, Any]:
    """A mission scheduled for NOON, created at MORNING (the service takes the time)."""
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON})
    return missions.create_mission(get_tenant("acme"), fields, numbers_list(numbers), MORNING)


# --- what the platform left in the emulated account -------------------------------


def queued_bodies(aws: Any, logical: str = "BulkSubmitQueue") -> list[dict[str, Any]]:
    """Every message waiting on a submit queue, taken off it."""
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        answer = sqs.receive_message(QueueUrl=aws.physical[logical], MaxNumberOfMessages=10)
        if not answer.get("Messages"):
            return bodies
        bodies += [json.loads(m["Body"]) for m in answer["Messages"]]


def queued_recipients(aws: Any, logical: str = "BulkSubmitQueue") -> list[dict[str, Any]]:
    return [r for body in queued_bodies(aws, logical) for r in body["recipients"]]


def staged_keys(aws: Any) -> list[str]:
    answer = boto3.client("s3").list_objects_v2(
        Bucket=aws.environment["UPLOAD_BUCKET"], Prefix="staged/"
    )
    return [item["Key"] for item in answer.get("Contents", [])]


def schedules() -> dict[str, dict[str, Any]]:
    """The schedules in the mission schedule group, by name, as the Scheduler keeps them."""
    scheduler = boto3.client("scheduler")
    group = get_settings().schedule_group
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return {name: scheduler.get_schedule(Name=name, GroupName=group) for name in names}
