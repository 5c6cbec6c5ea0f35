"""Upgrading a deployed stack: what earlier code wrote, read and carried on by this code.

tests/events/upgrade/<commit>.json holds what the code of an earlier commit of main left
in an emulated account (raw DynamoDB items, queue bodies, schedules, staged files and
secrets) after making tenants, keys, a portal session, a channel, orders, templates,
blacklists, a callback, one-off messages queued, submitted and delivered, and missions
Sent, Sent with their messages still queued, Scheduled, Cancelled, Uploading and Failed.
Each test puts that into a fresh account made from today's template and checks that
today's functions read it and finish what was left waiting, as they would after a
`sam deploy` over the older stack.

The files were made by tests/events/upgrade/capture.py run in a worktree of each commit.
"""

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cloudsms import clock
from cloudsms.settings import get_settings
from cloudsms.store.api_keys import ApiKeyModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel
from functions.admin import app as admin_app
from functions.authorizer import app as authorizer_app
from functions.reports import app as reports_app
from tests.integration import missions_api as api
from tests.integration.conftest import (
    EVENTS,
    FakeContext,
    FakeGateway,
    accepted,
    counters_of,
    function_url_event,
)
from tests.integration.missions_api import NOON_UTC
from tests.integration.submit_records import queued_records

UPGRADES = EVENTS / "upgrade"
# Two days before this test was written, and about two hundred commits before that.
COMMITS = ["53c8d44", "4aae51e"]
# In each file's missions and lists: LISTED is on acme's blacklist.
NUMBERS = ["+639215347566", "+639215347567", "+639215347568"]
LISTED = "+639215347569"


def _earlier(commit: str) -> dict[str, Any]:
    return json.loads((UPGRADES / f"{commit}.json").read_text())  # type: ignore[no-any-return]


def _put_in_place(aws: Any, earlier: dict[str, Any]) -> None:
    """What the earlier code left, put into today's resources of the same names."""
    dynamodb = boto3.client("dynamodb")
    for variable, items in earlier["tables"].items():
        for item in items:
            if variable == "COUNTERS_TABLE":
                # The last stream change each counter counted: the emulator's new stream
                # has the same shard id and starts its sequence numbers again, where the
                # deployed table's stream goes on after them.
                item = {name: value for name, value in item.items() if name != "applied"}
            dynamodb.put_item(TableName=os.environ[variable], Item=item)
    secrets = boto3.client("secretsmanager")
    for name, value in earlier["secrets"].items():
        secrets.create_secret(Name=name, SecretString=value)
    s3 = boto3.client("s3")
    for key, data in earlier["objects"].items():
        s3.put_object(Bucket=aws.environment["UPLOAD_BUCKET"], Key=key, Body=base64.b64decode(data))
    sqs = boto3.client("sqs")
    for logical, bodies in earlier["queues"].items():
        for body in bodies:
            sqs.send_message(QueueUrl=aws.physical[logical], MessageBody=body)
    settings = get_settings()
    scheduler = boto3.client("scheduler")
    for name, schedule in earlier["schedules"].items():
        scheduler.create_schedule(
            Name=name,
            GroupName=settings.schedule_group,
            ScheduleExpression=schedule["ScheduleExpression"],
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": settings.schedule_function_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": schedule["Input"],
            },
        )


@pytest.fixture(params=COMMITS)
def earlier(
    request: pytest.FixtureRequest, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Today's stack holding what the code of an earlier commit left in it, just after it
    was left: the clock goes on from a minute after the file's `now` (making the data took
    seconds). On the real clock the file's times would age with each day the tests run
    later (an export asked for is given up on within the hour, a mission's dispatch time
    passes), and the tests would fail for it."""
    data = _earlier(request.param)
    left_at = datetime.fromisoformat(data["now"]) + timedelta(minutes=1)
    shift = left_at - datetime.now(UTC)
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + shift)
    _put_in_place(aws, data)
    return data


def _mission(earlier: dict[str, Any], which: str) -> str:
    return earlier["missions"][which]  # type: ignore[no-any-return]


def _get(app: Any, path: str, resource: str, **kwargs: Any) -> tuple[int, Any]:
    return api.call(app, "GET", path, resource, **kwargs)


# --- reading what is there ----------------------------------------------------------


def test_every_mission_written_before_is_listed_with_its_status(earlier):
    listed = api.list_missions()

    statuses = {m["name"]: m["status"] for m in listed["items"]}
    assert statuses == {
        "Sent consumed": "Sent",
        "Sent waiting": "Sent",
        "Scheduled": "Scheduled",
        "Cancelled": "Cancelled",
        "Uploading": "Uploading",
        "Failed": "Failed",
    }
    assert listed["total"] == 6


def test_every_mission_written_before_is_shown_with_its_pages(earlier):
    for mission_id in earlier["missions"].values():
        status, mission = api.get_mission(mission_id)
        assert status == 200, mission
        for page in ("messages", "abnormal", "blacklisted"):
            api.list_of(mission_id, page)


def test_a_mission_sent_before_shows_its_counts_and_its_blacklisted_number(earlier):
    mission_id = _mission(earlier, "sent")

    _, mission = api.get_mission(mission_id)
    blacklisted = api.list_of(mission_id, "blacklisted")

    assert (mission["phone_number_amount"], mission["blacklist_amount"]) == (3, 1)
    assert blacklisted["total"] == 1
    assert api.list_of(mission_id, "messages")["total"] == 3


def test_the_settings_made_before_are_listed(earlier):
    for app, path, role in [
        (admin_app, "/v1/templates", "tenant"),
        (admin_app, "/v1/blacklist", "tenant"),
        (admin_app, "/v1/callback", "tenant"),
        (admin_app, "/v1/admin/channels", "operator"),
        (admin_app, "/v1/admin/channels/SIM", "operator"),
        (admin_app, "/v1/admin/packages", "operator"),
        (admin_app, "/v1/admin/tenants", "operator"),
        (admin_app, "/v1/admin/tenants/acme/orders", "operator"),
        (admin_app, "/v1/admin/blacklist", "operator"),
        (reports_app, "/v1/orders", "tenant"),
        (reports_app, "/v1/overview", "tenant"),
    ]:
        status, body = _get(app, path, path, role=role)
        assert status == 200, (path, body)


def test_the_statistics_and_the_log_read_what_was_counted_before(earlier):
    day = datetime.fromisoformat(earlier["now"]).date().isoformat()
    query = {"start": day, "end": day}

    status, statistics = _get(reports_app, "/v1/statistics", "/v1/statistics", query=query)
    log_status, log = _get(reports_app, "/v1/messages", "/v1/messages", query=query)

    assert (status, log_status) == (200, 200), (statistics, log)
    assert {m["dr_state"] for m in log["items"]} >= {"DELIVRD", "SUBMITTED"}


# --- keys and sessions --------------------------------------------------------------


def _authorize(token: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"] = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return authorizer_app.lambda_handler(event, FakeContext())  # type: ignore[no-any-return]


def test_keys_issued_before_are_accepted_with_their_role(earlier):
    tenant = _authorize(earlier["keys"]["tenant"])
    operator = _authorize(earlier["keys"]["operator"])

    assert (tenant["context"]["tenant_id"], tenant["context"]["role"]) == ("acme", "tenant")
    assert (operator["context"]["tenant_id"], operator["context"]["role"]) == ("ops", "operator")


def test_a_portal_session_opened_before_is_still_accepted(earlier):
    # Still within its hours when the new code arrives.
    for item in ApiKeyModel.scan(ApiKeyModel.kind == "session"):
        item.update(actions=[ApiKeyModel.expires_at.set(int(datetime.now(UTC).timestamp()) + 600)])

    answer = _authorize(earlier["keys"]["session"])

    assert answer["context"]["tenant_id"] == "acme"


# --- finishing what was left waiting ------------------------------------------------


def _submit_waiting(aws: Any, queue: str) -> FakeGateway:
    from cloudsms.services.submission import submit_queue_message

    gateway = FakeGateway(accepted("carrier-new"))
    for record in queued_records(aws, queue):
        submit_queue_message(record["body"], 1, clock.now, gateway.factory)
    return gateway


def test_a_missions_queue_message_queued_before_is_sent(aws, earlier):
    waiting = _mission(earlier, "waiting")

    gateway = _submit_waiting(aws, "BulkSubmitQueue")

    assert set(NUMBERS) <= {s.to for s in gateway.submissions}
    messages = MessageModel.query("acme", MessageModel.uid.startswith(waiting))
    assert {m.to: m.dr_state for m in messages} == dict.fromkeys(NUMBERS, "SUBMITTED")


def test_a_message_queued_before_is_sent(aws, earlier):
    gateway = _submit_waiting(aws, "BulkSubmitQueue")

    assert "+639215341111" in {s.to for s in gateway.submissions}
    [message] = MessageModel.scan(MessageModel.to == "+639215341111")
    assert message.dr_state == "SUBMITTED"


def test_a_receipt_for_a_message_submitted_before_is_applied_and_counted(earlier):
    from cloudsms.services import channels
    from functions.dlr_webhook import app as dlr_app

    [message] = MessageModel.scan(MessageModel.to == "+639215342222")
    before = counters_of("tenant#acme", message.dispatch_day)
    query = {
        "tenant": "acme",
        "uid": message.uid,
        "smsc_msgid": "carrier-2",
        "status": "1",
        "answer": "id:carrier-2 sub:001 dlvrd:001 stat:DELIVRD err:000",
        "secret": channels.get_channel("SIM").receipt_secret,
    }

    answer = dlr_app.lambda_handler(function_url_event("GET", "/dlr/SIM", query), FakeContext())

    assert answer["statusCode"] == 200, answer
    assert MessageModel.get("acme", message.uid).dr_state == "DELIVRD"
    after = counters_of("tenant#acme", message.dispatch_day)
    assert after["delivered"] - before["delivered"] == 1


def test_a_mission_scheduled_before_is_sent_when_its_schedule_fires(aws, earlier):
    from cloudsms.services import dispatch

    [schedule] = earlier["schedules"].values()
    fired = json.loads(schedule["Input"])

    # At its time (the schedule function's handler would read the clock).
    outcome = dispatch.fire_scheduled(fired["tenant_id"], fired["mission_id"], NOON_UTC)

    assert outcome == "dispatched"
    assert fired["mission_id"] == _mission(earlier, "scheduled")
    assert MissionModel.get("acme", fired["mission_id"]).status == "Sent"
    queued = [
        recipient["to"]
        for body in api.queued_bodies(aws)
        if body.get("mission_id") == fired["mission_id"]
        for recipient in body["recipients"]
    ]
    assert sorted(queued) == NUMBERS


def test_a_mission_scheduled_before_can_be_moved_and_cancelled(earlier):
    mission_id = _mission(earlier, "scheduled")

    moved, _ = api.reschedule(mission_id, "2026-12-01T13:00:00+08:00")
    cancelled, _ = api.cancel(mission_id)

    assert (moved, cancelled) == (200, 200)


def test_a_list_arriving_for_a_mission_created_before_schedules_it(aws, earlier):
    mission_id = _mission(earlier, "uploading")
    key = f"uploads/acme/{mission_id}/number-list"
    boto3.client("s3").put_object(
        Bucket=aws.environment["UPLOAD_BUCKET"], Key=key, Body=api.numbers_list(NUMBERS)
    )

    api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)

    assert MissionModel.get("acme", mission_id).status == "Scheduled"


def test_an_export_asked_for_before_is_prepared(aws, earlier):
    from functions.reports import export

    [export_id] = [
        item["export_id"]["S"]
        for item in earlier["tables"]["EXPORTS_TABLE"]
        if not item["export_id"]["S"].startswith("slot#")
    ]

    answer = export.lambda_handler({"Records": queued_records(aws, "ExportQueue")}, FakeContext())

    assert answer["batchItemFailures"] == []
    path = f"/v1/messages/exports/{export_id}"
    status, view = _get(reports_app, path, "/v1/messages/exports/{export_id}")
    assert (status, view["status"]) == (200, "ready"), view


def test_a_status_callback_queued_before_is_delivered(aws, earlier):
    from cloudsms.services import callbacks
    from tests.integration.callback_receiver import FakeCallbackReceiver

    with FakeCallbackReceiver() as receiver:
        _redirect_callback(receiver.url)
        for body in earlier["queues"]["CallbackQueue"]:
            callbacks.deliver(body, 1)

    assert len(receiver.received) == len(earlier["queues"]["CallbackQueue"])


def _redirect_callback(url: str) -> None:
    from cloudsms.store.callbacks import CallbackModel

    for item in CallbackModel.scan():
        item.update(actions=[CallbackModel.url.set(url)])
