"""Makes tests/events/upgrade/<commit>.json (tests/integration/test_upgrade_compatibility.py).

Run in a worktree of an earlier commit, with that commit's code and tests:

    git worktree add /tmp/earlier <commit>
    cp tests/events/upgrade/capture.py /tmp/earlier/tests/integration/test_zz_capture.py
    cd /tmp/earlier && CAPTURE_COMMIT=<commit> CAPTURE_OUT=$PWD/<commit>.json \
      PYTHONPATH=$PWD/layers/cloudsms:$PWD/local:$PWD \
      /path/to/this/.venv/bin/python -m pytest tests/integration/test_zz_capture.py -p no:randomly

It makes representative data with that code in the emulated account, then writes the
raw DynamoDB items, queue bodies, schedules, upload-bucket objects and secrets as JSON.
Not collected here: its name is no test's, and it calls that commit's functions, by the
names they had then (keep them when code moves: `missions.get_mission` is one)."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3

from cloudsms.domain.mission import MissionFields
from cloudsms.services import (
    accounts,
    blacklist,
    callbacks,
    missions,
    orders,
    prepared_exports,
    scheduling,
    templates,
    tenants,
)
from cloudsms.services.callbacks import CallbackRegistration
from cloudsms.services.dispatching_log import LogFilter
from cloudsms.services.exports import ExportFormat
from cloudsms.services.orders import PackageFields
from cloudsms.services.submission import submit_queue_message
from cloudsms.services.templates import TemplateFields
from cloudsms.services.tenants import get_tenant
from functions.dlr_webhook import app as dlr_app
from tests.integration import missions_api as api
from tests.integration.conftest import (
    FakeGateway,
    accepted,
    count_changes,
    function_url_event,
    queue_callback_events,
    queue_sms,
    submit_sms,
)
from tests.integration.missions_api import GUIDE_FIELDS, MORNING, NOON

NUMBERS = ["+639215347566", "+639215347567", "+639215347568"]
LISTED = "+639215347569"


def _fields(**more):
    return MissionFields.model_validate({**GUIDE_FIELDS, **more})


def test_capture(aws, tenant, context, monkeypatch):
    now = datetime.now(UTC)
    # The operator's tenant and key; a portal account with a session.
    tenants.create_tenant("ops", "Operator", "Asia/Shanghai")
    operator_key = tenants.issue_key("ops", role="operator").key
    accounts.create_account("acme_admin", "acme")
    monkeypatch.setattr(accounts, "_check_captcha", lambda *a: None)
    issued = accounts.reset_password("acme_admin", now)
    password = issued.password
    login_args = ["acme_admin", password, "c", "x", now]
    if "source_ip" in accounts.log_in.__code__.co_varnames:
        login_args.append("203.0.113.9")
    session = accounts.log_in(*login_args).token
    # A prepaid package and order on SIM: the missions are charged to it.
    package = orders.create_package(
        PackageFields(
            product_name="Acme 10k",
            channel="SIM",
            payment_type="prepaid",
            sms_amount=1000,
            validity_days=365,
        ),
        MORNING - timedelta(days=1),
    )
    orders.place_order("acme", package["package_id"], MORNING - timedelta(days=1))
    post = orders.create_package(
        PackageFields(
            product_name="Acme monthly",
            channel="SIM",
            payment_type="postpaid",
            warning_usd=Decimal("80"),
            prohibit_usd=Decimal("100"),
        ),
        MORNING - timedelta(days=1),
    )
    templates.create_template(
        "acme", TemplateFields(name="Pin", content="Your pin is ${Pin}", sms_type="verify_code")
    )
    templates.create_template(
        templates.COMMON,
        TemplateFields(name="Notice", content="Notice for ${Name}", sms_type="business"),
    )
    blacklist.add_numbers("acme", [LISTED], reason="asked")
    blacklist.add_numbers("#platform", ["+639215340000"], reason="fraud")
    callbacks.register(
        "acme", CallbackRegistration(url="http://127.0.0.1:9/cb"), allow_loopback=True
    )

    # One-off messages: queued (left on the queue), submitted, delivered.
    submit_sms(context, "+639215342222", carrier_message_id="carrier-2")
    delivered = submit_sms(context, "+639215343333", carrier_message_id="carrier-3")
    query = {
        "tenant": "acme",
        "uid": delivered,
        "smsc_msgid": "carrier-3",
        "ts": "1764135000",
        "status": "1",
        "answer": "id:carrier-3 sub:001 dlvrd:001 stat:DELIVRD err:000",
        "secret": __import__("cloudsms.services.channels")
        .services.channels.get_channel("SIM")
        .receipt_secret,
    }
    answer = dlr_app.lambda_handler(function_url_event("GET", "/dlr/SIM", query), context)
    assert answer["statusCode"] == 200, answer

    # Missions: sent at once (one consumed by the old submit, one left on the queue),
    # scheduled, scheduled then cancelled, uploading, failed.
    sent = missions.create_mission(
        get_tenant("acme"),
        _fields(name="Sent consumed"),
        api.numbers_list([*NUMBERS, LISTED]),
        MORNING,
    )
    bodies = api.queued_bodies(aws)
    gateway = FakeGateway(accepted("carrier-m1"), accepted("carrier-m2"), accepted("carrier-m3"))
    for body in bodies:
        submit_queue_message(json.dumps(body), 1, lambda: datetime.now(UTC), gateway.factory)
    # A one-off message still on the queue at the upgrade.
    queue_sms(context, "+639215341111")
    waiting = missions.create_mission(
        get_tenant("acme"), _fields(name="Sent waiting"), api.numbers_list(NUMBERS), MORNING
    )
    scheduled = missions.create_mission(
        get_tenant("acme"),
        _fields(name="Scheduled", dispatch_at=NOON),
        api.numbers_list([*NUMBERS, LISTED]),
        MORNING,
    )
    cancelled = missions.create_mission(
        get_tenant("acme"),
        _fields(name="Cancelled", dispatch_at=NOON),
        api.numbers_list(NUMBERS),
        MORNING,
    )
    scheduling.cancel(missions.get_mission("acme", cancelled["mission_id"]), MORNING)
    uploading = missions.create_mission(
        get_tenant("acme"), _fields(name="Uploading", dispatch_at=NOON), None, MORNING
    )
    failed = missions.create_mission(get_tenant("acme"), _fields(name="Failed"), None, MORNING)
    key = missions.upload_key("acme", failed["mission_id"])
    boto3.client("s3").put_object(Bucket=aws.environment["UPLOAD_BUCKET"], Key=key, Body=b"junk")
    api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)

    count_changes()
    queue_callback_events()
    prepared_exports.request_export(
        get_tenant("acme"),
        LogFilter(start=now - timedelta(days=1), end=now + timedelta(days=1)),
        ExportFormat("csv"),
        now,
    )

    dump = {
        "commit": os.environ["CAPTURE_COMMIT"],
        "now": now.isoformat(),
        "missions": {
            "sent": sent["mission_id"],
            "waiting": waiting["mission_id"],
            "scheduled": scheduled["mission_id"],
            "cancelled": cancelled["mission_id"],
            "uploading": uploading["mission_id"],
            "failed": failed["mission_id"],
        },
        "postpaid_package": post["package_id"],
        "keys": {"tenant": tenant["key"], "operator": operator_key, "session": session},
        "tables": {},
        "queues": {},
        "schedules": {},
        "objects": {},
    }
    dynamodb = boto3.client("dynamodb")
    for name, value in sorted(aws.environment.items()):
        if name.endswith("_TABLE"):
            items = dynamodb.scan(TableName=value)["Items"]
            if items:
                dump["tables"][name] = items
    sqs = boto3.client("sqs")
    for logical, url in sorted(aws.physical.items()):
        if not logical.endswith("Queue"):
            continue
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if found:
            dump["queues"][logical] = [m["Body"] for m in found]
    for name, schedule in api.schedules().items():
        dump["schedules"][name] = {
            "ScheduleExpression": schedule["ScheduleExpression"],
            "Input": schedule["Target"]["Input"],
        }
    sm = boto3.client("secretsmanager")
    dump["secrets"] = {
        item["Name"]: sm.get_secret_value(SecretId=item["Name"])["SecretString"]
        for item in sm.list_secrets()["SecretList"]
    }
    s3 = boto3.client("s3")
    bucket = aws.environment["UPLOAD_BUCKET"]
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        data = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        dump["objects"][item["Key"]] = base64.b64encode(data).decode()
    with open(os.environ["CAPTURE_OUT"], "w") as out:
        json.dump(dump, out, indent=1, sort_keys=True)
