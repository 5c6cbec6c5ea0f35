"""The operator's dead-letter queues: what waits in them, and sending it back once the
cause is fixed, without sending anything twice."""

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from cloudsms.errors import BadRequest
from cloudsms.services import dead_letters, dispatch, missions, scheduling
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import get_mission
from functions.send import submit as submit_app
from tests.integration.conftest import queue_sms
from tests.integration.missions_api import MORNING, NOON_UTC, create_scheduled, queued_recipients
from tests.integration.submit_records import event, queued_records

NUMBER = "+639215347566"  # the simulator accepts numbers ending in 6
BULK_RECEIVES = 10  # the bulk queue's maxReceiveCount (template.yaml)


def _exhaust_every_attempt(aws) -> None:
    """Receives the bulk queue's message as often as its redrive policy allows, as a
    consumer failing each time would; the next receive moves it to the dead-letter queue."""
    sqs = boto3.client("sqs")
    queue = aws.physical["BulkSubmitQueue"]
    for _ in range(BULK_RECEIVES):
        assert sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def _waiting(queue: str) -> int:
    return next(q["dead_letters"] for q in dead_letters.overview() if q["queue"] == queue)


def test_a_dead_lettered_message_is_sent_once_redriven(
    aws, live_channel, carrier_simulator, context
):
    uid = queue_sms(context, NUMBER, channel=live_channel)
    _exhaust_every_attempt(aws)
    assert _waiting("bulk") == 1
    assert MessageModel.get("acme", uid).dr_state == "QUEUED"

    moved = dead_letters.redrive("bulk")
    [record] = queued_records(aws)
    submit_app.lambda_handler(event(record), context)

    assert moved == {"queue": "bulk", "moved": 1}
    assert _waiting("bulk") == 0
    assert MessageModel.get("acme", uid).dr_state == "SUBMITTED"
    assert [s["to"] for s in carrier_simulator.submissions] == [NUMBER]


def test_the_operator_sees_what_waits_and_why_and_drops_only_the_poison(
    aws, live_channel, carrier_simulator, context
):
    # A gateway outage's queue message, whose message still waits, beside queue messages
    # that can never send anything: redriving those only brought them back, for good.
    uid = queue_sms(context, NUMBER, channel=live_channel)
    _exhaust_every_attempt(aws)
    dead = aws.physical["BulkSubmitDeadLetterQueue"]
    sqs = boto3.client("sqs")
    ghost = {"tenant_id": "ghost", "uids": ["u1", "u2"]}
    sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(ghost))
    sqs.send_message(QueueUrl=dead, MessageBody="not json")

    shown = dead_letters.contents("bulk")

    assert shown["waiting"] == 3
    seen = {(m["tenant_id"], m["messages"], m["waiting"], m["poison"]) for m in shown["shown"]}
    assert seen == {
        ("acme", 1, 1, None),
        ("ghost", 2, 0, "tenant ghost does not exist"),
        (None, 0, 0, "not a JSON object"),
    }
    assert _waiting("bulk") == 3  # looking leaves them there

    redriven = dead_letters.redrive("bulk", drop_poison=True)

    assert redriven == {"queue": "bulk", "moved": 1, "dropped": 2}
    assert _waiting("bulk") == 0
    [record] = queued_records(aws)
    submit_app.lambda_handler(event(record), context)
    assert MessageModel.get("acme", uid).dr_state == "SUBMITTED"


def test_a_one_off_queue_message_whose_messages_were_all_sent_is_poison(
    aws, live_channel, carrier_simulator, context
):
    uid = queue_sms(context, NUMBER, channel=live_channel)
    [record] = queued_records(aws)
    submit_app.lambda_handler(event(record), context)

    assert dead_letters.poison(json.dumps({"tenant_id": "acme", "uids": [uid]})) == (
        "none of its 1 message(s) waits to be sent"
    )


def test_only_a_submit_queues_poison_is_dropped(aws):
    with pytest.raises(BadRequest, match="--drop-poison is for otp and bulk only"):
        dead_letters.redrive("callback", drop_poison=True)


def _firing_failed(aws, mission_id: str) -> None:
    """The scheduler's dead letter: the schedule's input, as every retry failed."""
    body = json.dumps({"tenant_id": "acme", "mission_id": mission_id})
    boto3.client("sqs").send_message(
        QueueUrl=aws.physical["ScheduleDeadLetterQueue"], MessageBody=body
    )


def test_the_schedulers_dead_letters_are_counted_too(aws):
    _firing_failed(aws, "M1")

    assert _waiting("schedule") == 1


def test_a_failed_firing_settled_finishes_a_dispatch_that_stopped_halfway(aws, tenant, monkeypatch):
    mission = create_scheduled(["+639215347566", "+639175550123"])
    enqueue = dispatch.queues.enqueue

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(dispatch.queues, "enqueue", down)
    with pytest.raises(RuntimeError):  # and every retry after it
        dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)
    _firing_failed(aws, mission["mission_id"])
    monkeypatch.setattr(dispatch.queues, "enqueue", enqueue)

    settled = dead_letters.redrive("schedule", now=NOON_UTC + timedelta(hours=2))

    assert settled["settled"] == [
        {"tenant_id": "acme", "mission_id": mission["mission_id"], "outcome": "dispatched"}
    ]
    assert missions.read_mission("acme", mission["mission_id"])["status"] == "Sent"
    assert len(queued_recipients(aws)) == 2
    assert _waiting("schedule") == 0


def test_a_failed_firing_settled_fails_a_mission_never_dispatched_rather_than_send_it_late(
    aws, tenant
):
    never = create_scheduled(["+639215347566"])
    cancelled = create_scheduled(["+639215347566"])
    scheduling.cancel(get_mission("acme", cancelled["mission_id"]), MORNING)
    for mission in (never, cancelled):
        _firing_failed(aws, mission["mission_id"])

    settled = dead_letters.redrive("schedule", now=NOON_UTC + timedelta(hours=2))

    assert [s["outcome"] for s in settled["settled"]] == [
        "failed",
        "skipped: the mission is Cancelled",
    ]
    failed = missions.read_mission("acme", never["mission_id"])
    assert (failed["status"], failed["failure_reason"]) == ("Failed", dispatch.FIRING_FAILED)
    assert queued_recipients(aws) == []
    assert _waiting("schedule") == 0


def test_a_redrive_moves_at_most_what_it_is_told(aws):
    sqs = boto3.client("sqs")
    dead = aws.physical["CallbackDeadLetterQueue"]
    for i in range(13):
        sqs.send_message(QueueUrl=dead, MessageBody=f'{{"n": {i}}}')

    first = dead_letters.redrive("callback", limit=5)
    rest = dead_letters.redrive("callback")

    assert (first["moved"], rest["moved"]) == (5, 8)
    bodies = []
    while messages := sqs.receive_message(
        QueueUrl=aws.physical["CallbackQueue"], MaxNumberOfMessages=10
    ).get("Messages"):
        bodies += [m["Body"] for m in messages]
    assert sorted(bodies) == sorted(f'{{"n": {i}}}' for i in range(13))
    assert _waiting("callback") == 0


def test_a_move_takes_only_what_waits_when_it_starts_so_a_message_failing_again_ends_it(aws):
    from cloudsms.adapters import queues

    sqs = boto3.client("sqs")
    dead = aws.physical["BulkSubmitDeadLetterQueue"]
    for i in range(3):
        sqs.send_message(QueueUrl=dead, MessageBody=f'{{"tenant_id": "acme", "n": {i}}}')

    # Moved into the queue it comes from: as a poison message is back within seconds.
    moved, dropped = queues.move(dead, dead)

    assert (moved <= 3, dropped) == (True, 0)


def test_a_redriven_message_keeps_its_tenant_as_its_group(aws):
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=aws.physical["BulkSubmitDeadLetterQueue"], MessageBody='{"tenant_id": "acme"}'
    )

    dead_letters.redrive("bulk")

    [message] = sqs.receive_message(
        QueueUrl=aws.physical["BulkSubmitQueue"], AttributeNames=["All"]
    )["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "acme"


def test_a_redrive_of_fewer_than_one_is_refused(aws):
    with pytest.raises(BadRequest, match="at least 1"):
        dead_letters.redrive("bulk", limit=0)


def test_an_unknown_queue_is_named_in_the_refusal(aws):
    with pytest.raises(BadRequest, match="no queue 'sms': one of otp, bulk, callback, export"):
        dead_letters.redrive("sms")


def test_every_dead_letter_queue_has_an_alarm_for_the_operator():
    from cloudsms_local.template import load_template

    resources = load_template()["Resources"]
    dead_letter_queues = {
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::SQS::Queue" and name.endswith("DeadLetterQueue")
    }
    alarmed = {
        resource["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        # .get: a metric math alarm names its namespaces in its metrics.
        and resource["Properties"].get("Namespace") == "AWS/SQS"
        and resource["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    }

    assert dead_letter_queues and alarmed == dead_letter_queues


def test_an_upload_whose_ingest_failed_every_retry_is_ingested_again_when_redriven(
    aws, tenant, monkeypatch
):
    from functions.missions import app as missions_app
    from functions.send import ingest
    from tests.integration.conftest import FakeContext
    from tests.integration.missions_api import GUIDE_FIELDS, call, s3_put_event
    from tests.unit import numberlist_corpus as corpus

    _, mission = call(missions_app, "POST", "/v1/missions", "/v1/missions", body=GUIDE_FIELDS)
    bucket, key = (
        aws.environment["UPLOAD_BUCKET"],
        f"uploads/acme/{mission['mission_id']}/number-list",
    )
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=corpus.guide_xlsx())
    event = s3_put_event(bucket, key)

    def throttled(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(missions, "ingest_upload", throttled)
    with pytest.raises(RuntimeError):  # and Lambda's two retries: the event is dead-lettered
        ingest.lambda_handler(event, FakeContext())
    boto3.client("sqs").send_message(
        QueueUrl=aws.physical["IngestDeadLetterQueue"], MessageBody=json.dumps(event)
    )
    assert _waiting("ingest") == 1
    monkeypatch.undo()

    answer = dead_letters.redrive("ingest")

    assert answer == {"queue": "ingest", "ingested": ["mission list"]}
    assert missions.read_mission("acme", mission["mission_id"])["status"] == "Sent"
    assert len(queued_recipients(aws)) == 2
    assert _waiting("ingest") == 0


def test_an_upload_failing_again_when_redriven_is_named_and_the_others_are_ingested(aws, tenant):
    from functions.missions import app as missions_app
    from tests.integration.missions_api import GUIDE_FIELDS, call, s3_put_event
    from tests.unit import numberlist_corpus as corpus

    _, mission = call(missions_app, "POST", "/v1/missions", "/v1/missions", body=GUIDE_FIELDS)
    bucket = aws.environment["UPLOAD_BUCKET"]
    # A list for a mission there is none of fails every time it is ingested.
    lost, found = (
        "uploads/acme/0123456789ABCDEF01/number-list",
        f"uploads/acme/{mission['mission_id']}/number-list",
    )
    for key in (lost, found):
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=corpus.guide_xlsx())
        boto3.client("sqs").send_message(
            QueueUrl=aws.physical["IngestDeadLetterQueue"],
            MessageBody=json.dumps(s3_put_event(bucket, key)),
        )

    answer = dead_letters.redrive("ingest")

    ingested, failed = sorted(answer["ingested"])
    assert ingested == "mission list"
    assert failed.startswith(f"{lost}: failed again, left in the dead-letter queue: ")
    assert "not found" in failed
    assert missions.read_mission("acme", mission["mission_id"])["status"] == "Sent"


def test_a_firing_failing_again_when_settled_is_named_and_the_others_are_settled(
    aws, tenant, monkeypatch
):
    _firing_failed(aws, "M1")
    _firing_failed(aws, "M2")
    settle = dispatch.settle_failed_firing

    def broken_for_m1(tenant_id: str, mission_id: str, now: Any) -> str:
        if mission_id == "M1":
            raise RuntimeError("ProvisionedThroughputExceededException")
        return settle(tenant_id, mission_id, now)

    monkeypatch.setattr(dispatch, "settle_failed_firing", broken_for_m1)

    answer = dead_letters.redrive("schedule")

    assert sorted(answer["settled"], key=lambda s: s["mission_id"]) == [
        {
            "tenant_id": "acme",
            "mission_id": "M1",
            "outcome": "failed again, left in the dead-letter queue: "
            "RuntimeError: ProvisionedThroughputExceededException",
        },
        {"tenant_id": "acme", "mission_id": "M2", "outcome": "skipped: no such mission"},
    ]
