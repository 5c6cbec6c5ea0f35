"""Scheduled missions against moto: the schedule EventBridge Scheduler keeps, cancelling
until the cut-off, moving the dispatch time, firing, and recipient-local quiet hours.

Handlers read the real clock, so the times they are given lie tomorrow at noon in the
tenant's zone; the services take the time as an argument, so the cut-off is tried to
the second with an explicit `now`.
"""

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, UpdateError

from cloudsms import cache
from cloudsms.domain.mission import MissionFields
from cloudsms.errors import Conflict
from cloudsms.services import channels, dispatch, missions, scheduling, tenants
from cloudsms.services.submission import submit_mission_recipients
from cloudsms.services.tenants import get_tenant
from cloudsms.settings import get_settings
from cloudsms.store.missions import MissionModel, get_mission
from cloudsms_local.scheduler import SchedulerFirer
from functions.missions import app as missions_app
from functions.schedule import fire
from tests.integration import missions_api as api
from tests.integration.conftest import FakeContext, FakeGateway, accepted, run_cli, throttled
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    MORNING,
    NOON,
    NOON_UTC,
    create_scheduled,
    numbers_list,
    queued_bodies,
    queued_recipients,
    schedules,
)
from tests.unit import numberlist_corpus as corpus

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tomorrow_at(hour: int, minute: int = 0) -> str:
    """A local time (no offset) tomorrow in Shanghai, the tenant's zone."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute).isoformat()


def schedule_at(local: str) -> tuple[int, dict[str, Any]]:
    return api.create_with_list(corpus.guide_xlsx(), dispatch_at=local)


# --- scheduling through the API ----------------------------------------------------------


def test_a_mission_with_a_dispatch_time_is_scheduled_and_nothing_is_sent(aws, tenant):
    noon = tomorrow_at(12)  # read once: a second read may fall after midnight
    status, mission = schedule_at(noon)

    assert status == 201, mission
    assert mission["status"] == "Scheduled"
    local = datetime.fromisoformat(mission["dispatch_at"]).astimezone(SHANGHAI)
    assert local.replace(tzinfo=None).isoformat() == noon
    assert mission["dispatching_date"] is None
    assert queued_bodies(aws) == []


def test_a_scheduled_mission_has_one_one_time_schedule_that_deletes_itself(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))

    [schedule] = schedules().values()

    at = datetime.fromisoformat(mission["dispatch_at"]).astimezone(UTC)
    assert schedule["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == aws.environment["SCHEDULE_FUNCTION_ARN"]
    assert target["DeadLetterConfig"]["Arn"] == aws.environment["SCHEDULE_DEAD_LETTER_ARN"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert json.loads(target["Input"]) == {"tenant_id": "acme", "mission_id": mission["mission_id"]}


@pytest.mark.parametrize(("hour", "minute"), [(7, 59), (22, 1)])
def test_a_dispatch_time_outside_the_window_is_refused_and_no_mission_is_created(
    aws, tenant, hour, minute
):
    status, answer = schedule_at(tomorrow_at(hour, minute))

    assert status == 400
    assert "outside the sending window 08:00-22:00" in answer["error"]["message"]
    assert api.list_missions()["items"] == []
    assert schedules() == {}


def test_a_time_seconds_past_the_window_says_so_with_its_seconds(aws, tenant):
    status, answer = schedule_at(tomorrow_at(22, 0).replace("22:00:00", "22:00:30"))

    assert status == 400
    assert answer["error"]["message"].startswith("the dispatch time 22:00:30 (Asia/Shanghai)")


OUT_OF_RANGE_TIMES = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("dispatch_at", OUT_OF_RANGE_TIMES)
def test_a_dispatch_time_outside_the_years_is_refused_naming_it(aws, tenant, dispatch_at):
    status, answer = api.call(
        missions_app,
        "POST",
        "/v1/missions",
        "/v1/missions",
        body={**GUIDE_FIELDS, "dispatch_at": dispatch_at},
    )

    assert status == 400
    assert answer["error"]["message"] == "dispatch_at must fall in the years 2000 to 2100"
    assert api.list_missions()["items"] == []


def test_a_tenants_own_window_and_time_zone_are_used(aws, tenant):
    from cloudsms.store.tenants import TenantModel

    TenantModel("acme").update(
        actions=[
            TenantModel.time_zone.set("America/New_York"),
            TenantModel.sending_window.set("10:00-12:00"),
        ]
    )
    day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=1)

    status, answer = schedule_at(f"{day}T09:59:00")
    accepted_status, mission = schedule_at(f"{day}T10:00:00")

    assert status == 400
    assert "10:00-12:00" in answer["error"]["message"]
    assert "America/New_York" in answer["error"]["message"]
    assert accepted_status == 201
    local = datetime.fromisoformat(mission["dispatch_at"]).astimezone(ZoneInfo("America/New_York"))
    assert local.hour == 10


@pytest.fixture
def console(monkeypatch):
    """The console command, against this test's emulated stack (not a running one's)."""

    return run_cli


def test_the_operator_sets_a_tenants_window_with_the_console_command(aws, tenant, console):
    shown = console("tenant-sending-window", "acme", "09:00-18:30")

    refused, answer = schedule_at(tomorrow_at(18, 31))
    accepted_status, _ = schedule_at(tomorrow_at(18, 30))
    console("tenant-sending-window", "acme", "default")
    after_default, _ = schedule_at(tomorrow_at(21, 0))

    assert shown["sending_window"] == "09:00-18:30"
    assert refused == 400
    assert answer["error"]["message"] == (
        "the dispatch time 18:31 (Asia/Shanghai) is outside the sending window 09:00-18:30"
    )
    assert (accepted_status, after_default) == (201, 201)


def test_a_tenant_is_created_with_its_own_window_and_a_wrong_one_is_refused(aws, tenant, console):
    created = console("tenant-create", "beta", "--name", "Beta", "--sending-window", "07:00-23:00")

    with pytest.raises(SystemExit, match="a sending window is written HH:MM-HH:MM"):
        console("tenant-create", "gamma", "--name", "Gamma", "--sending-window", "late")

    assert created["sending_window"] == "07:00-23:00"
    assert tenants.get_tenant("beta").sending_window == "07:00-23:00"
    assert console("tenant-list")[-1]["tenant_id"] == "beta"  # gamma was not created


# --- cancelling ------------------------------------------------------------------------------


def test_cancelling_a_scheduled_mission_cancels_it_and_deletes_its_schedule(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))

    status, cancelled = api.cancel(mission["mission_id"])

    assert status == 200
    assert cancelled["status"] == "Cancelled"
    assert schedules() == {}


def test_two_missions_of_a_tenant_with_the_longest_id_keep_schedules_of_their_own(aws):
    # Given two missions whose ids differ only in their last random digits, of a tenant
    # whose id is as long as ids may be
    tenant_id = "t" * tenants.MAX_TENANT_ID
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    first, second = (
        MissionModel(tenant_id, mission_id, dispatch_at=at)
        for mission_id in ("019A3C0FFEE000ABC1", "019A3C0FFEE000ABC2")
    )

    # When both are scheduled and then the first is cancelled
    scheduling.schedule_mission(first)
    scheduling.schedule_mission(second)
    both = schedules()
    scheduling.delete_schedule(first)

    # Then each had a schedule that fires for it alone, and the second's is still there
    assert sorted(json.loads(s["Target"]["Input"])["mission_id"] for s in both.values()) == [
        first.mission_id,
        second.mission_id,
    ]
    assert all(len(name) <= 64 for name in both)
    [left] = schedules().values()
    assert json.loads(left["Target"]["Input"]) == {
        "tenant_id": tenant_id,
        "mission_id": second.mission_id,
    }


def test_a_schedule_name_that_fits_is_the_tenant_and_the_mission(aws):
    # Schedules made before long names were shortened another way keep their names.
    mission = MissionModel("acme", "019A3C0FFEE000ABC1")

    assert scheduling.schedule_name(mission) == "mission-acme-019A3C0FFEE000ABC1"


def test_a_mission_scheduled_under_the_old_cut_name_is_moved_to_its_new_time(aws, tenant):
    # Given a mission of a tenant with the longest id, scheduled before long names took
    # the tenant id's digest: its schedule has the old name, cut to 64 characters
    long_id = "t" * tenants.MAX_TENANT_ID
    tenants.create_tenant(long_id, "Long", "Asia/Shanghai")
    channels.assign_channel(long_id, "SIM")
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON})
    created = missions.create_mission(
        get_tenant(long_id), fields, numbers_list(["+639215347566"]), MORNING
    )
    mission = get_mission(long_id, created["mission_id"])
    scheduler, group = boto3.client("scheduler"), get_settings().schedule_group
    [(name, schedule)] = schedules().items()
    scheduler.delete_schedule(Name=name, GroupName=group)
    old_name = f"mission-{long_id}-{mission.mission_id}"[:64]
    kept = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target")
    scheduler.create_schedule(
        Name=old_name, GroupName=group, **{key: schedule[key] for key in kept}
    )

    # When it is moved an hour earlier
    scheduling.reschedule(mission, get_tenant(long_id), "2026-12-01T11:00:00", MORNING)

    # Then a schedule fires for it at its new time
    at = NOON_UTC - timedelta(hours=1)
    assert f"at({at:%Y-%m-%dT%H:%M:%S})" in [s["ScheduleExpression"] for s in schedules().values()]


def _reads_lag_behind_writes(monkeypatch: pytest.MonkeyPatch, mission_id: str) -> None:
    """An eventually consistent read of the mission answers it as it is now, as DynamoDB
    may a moment after a later write; a consistent read sees every write."""
    as_now = MissionModel.get("acme", mission_id)
    get = MissionModel.get

    def lagging(*key: Any, consistent_read: bool = False, **options: Any) -> MissionModel:
        if consistent_read:
            return get(*key, consistent_read=True, **options)
        return copy.deepcopy(as_now)  # a read of its own, which a write does not change

    monkeypatch.setattr(MissionModel, "get", lagging)


def test_a_cancel_answers_the_mission_cancelled_though_reads_lag_behind(aws, tenant, monkeypatch):
    _, mission = schedule_at(tomorrow_at(12))
    _reads_lag_behind_writes(monkeypatch, mission["mission_id"])

    status, cancelled = api.cancel(mission["mission_id"])

    assert (status, cancelled["status"]) == (200, "Cancelled")


def test_a_move_answers_the_new_time_though_reads_lag_behind(aws, tenant, monkeypatch):
    _, mission = schedule_at(tomorrow_at(12))
    _reads_lag_behind_writes(monkeypatch, mission["mission_id"])

    status, moved = api.reschedule(mission["mission_id"], tomorrow_at(15, 30))

    assert status == 200, moved
    local = datetime.fromisoformat(moved["dispatch_at"]).astimezone(SHANGHAI)
    assert local.replace(tzinfo=None).isoformat() == tomorrow_at(15, 30)


def test_a_cancelled_mission_has_nothing_pending(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))

    _, cancelled = api.cancel(mission["mission_id"])

    assert mission["progress"]["pending"] == mission["phone_number_amount"] > 0
    assert cancelled["progress"]["pending"] == 0


def test_cancelling_a_mission_twice_answers_409(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))
    api.cancel(mission["mission_id"])

    status, answer = api.cancel(mission["mission_id"])

    assert status == 409
    assert "Cancelled" in answer["error"]["message"]


def test_a_mission_sent_at_once_cannot_be_cancelled(aws, tenant):
    _, mission = api.create_with_list(corpus.guide_xlsx())

    status, _ = api.cancel(mission["mission_id"])

    assert status == 409


def test_another_tenant_cannot_cancel_a_mission(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))

    status, _ = api.call(
        api.schedule_app,
        "POST",
        f"/v1/missions/{mission['mission_id']}/cancel",
        "/v1/missions/{mission_id}/cancel",
        tenant_id="other",
    )

    assert status == 404
    assert len(schedules()) == 1


def test_a_cancel_one_second_before_the_cutoff_succeeds(aws, tenant):
    mission = get_mission("acme", create_scheduled(["+639215347566"])["mission_id"])
    cutoff = timedelta(seconds=get_settings().cancel_cutoff_seconds)

    scheduling.cancel(mission, NOON_UTC - cutoff - timedelta(seconds=1))

    assert get_mission("acme", mission.mission_id).status == "Cancelled"
    assert schedules() == {}


def test_a_cancel_one_second_after_the_cutoff_answers_409_with_the_rule(aws, tenant):
    mission = get_mission("acme", create_scheduled(["+639215347566"])["mission_id"])
    cutoff = timedelta(seconds=get_settings().cancel_cutoff_seconds)

    with pytest.raises(Conflict) as refused:
        scheduling.cancel(mission, NOON_UTC - cutoff + timedelta(seconds=1))

    assert refused.value.status == 409
    assert "until 5 minutes before its dispatch time" in refused.value.message
    assert get_mission("acme", mission.mission_id).status == "Scheduled"
    assert len(schedules()) == 1


@pytest.mark.parametrize("change", ["cancel", "cancel while uploading", "reschedule"])
def test_a_change_dynamodb_refuses_is_raised_not_answered_as_a_conflict(
    aws, tenant, monkeypatch, change
):
    acme = get_tenant("acme")
    if change == "cancel while uploading":
        fields = MissionFields.model_validate(GUIDE_FIELDS)
        created = missions.create_mission(acme, fields, None, MORNING)
    else:
        created = create_scheduled(["+639215347566"])
    mission = get_mission("acme", created["mission_id"])

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(UpdateError)

    monkeypatch.setattr(MissionModel, "update", refused)

    with pytest.raises(UpdateError):
        if change == "reschedule":
            scheduling.reschedule(mission, acme, "2026-12-01T15:00:00", MORNING)
        else:
            scheduling.cancel(mission, MORNING)


# --- rescheduling ----------------------------------------------------------------------------


def test_rescheduling_moves_the_dispatch_time_and_the_schedule(aws, tenant):
    afternoon = tomorrow_at(15, 30)  # read once: a second read may fall after midnight
    _, mission = schedule_at(tomorrow_at(12))

    status, moved = api.reschedule(mission["mission_id"], afternoon)

    assert status == 200, moved
    at = datetime.fromisoformat(moved["dispatch_at"]).astimezone(UTC)
    assert at.astimezone(SHANGHAI).replace(tzinfo=None).isoformat() == afternoon
    [schedule] = schedules().values()
    assert schedule["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ActionAfterCompletion"] == "DELETE"


def test_rescheduling_in_a_function_that_has_not_read_the_channel_yet_moves_it(aws, tenant):
    # A new Lambda container of the schedule API reads the mission's channel itself:
    # here the creation's process had it cached, and its policies were never asked.
    afternoon = tomorrow_at(15, 30)  # read once: a second read may fall after midnight
    _, mission = schedule_at(tomorrow_at(12))
    cache.clear_all()

    status, moved = api.reschedule(mission["mission_id"], afternoon)

    assert status == 200, moved
    moved_to = datetime.fromisoformat(moved["dispatch_at"])
    assert moved_to == datetime.fromisoformat(afternoon).replace(tzinfo=SHANGHAI)


def test_rescheduling_outside_the_window_is_refused_and_keeps_the_schedule(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))
    before = schedules()

    status, answer = api.reschedule(mission["mission_id"], tomorrow_at(23))

    _, unchanged = api.get_mission(mission["mission_id"])
    assert status == 400
    assert "outside the sending window" in answer["error"]["message"]
    assert unchanged["dispatch_at"] == mission["dispatch_at"]
    assert [s["ScheduleExpression"] for s in schedules().values()] == [
        s["ScheduleExpression"] for s in before.values()
    ]


@pytest.mark.parametrize(
    ("cut_off", "refusal"),
    [
        ("tenant disabled", "tenant acme is disabled"),
        ("channel taken away", "channel SIM is not assigned to this tenant"),
    ],
)
def test_a_move_after_the_operator_cut_the_tenant_off_is_refused_and_changes_nothing(
    aws, tenant, cut_off, refusal
):
    _, mission = schedule_at(tomorrow_at(12))
    before = schedules()
    if cut_off == "tenant disabled":
        tenants.disable_tenant("acme", datetime.now(UTC))
    else:
        channels.unassign_channel("acme", "SIM")

    status, answer = api.reschedule(mission["mission_id"], tomorrow_at(15, 30))

    _, unchanged = api.get_mission(mission["mission_id"])
    assert status == 403, answer
    assert answer["error"]["message"] == refusal
    assert unchanged["dispatch_at"] == mission["dispatch_at"]
    assert [s["ScheduleExpression"] for s in schedules().values()] == [
        s["ScheduleExpression"] for s in before.values()
    ]


@pytest.mark.parametrize("dispatch_at", OUT_OF_RANGE_TIMES)
def test_rescheduling_to_a_time_outside_the_years_is_refused_naming_it(aws, tenant, dispatch_at):
    _, mission = schedule_at(tomorrow_at(12))

    status, answer = api.reschedule(mission["mission_id"], dispatch_at)

    assert status == 400
    assert answer["error"]["message"] == "dispatch_at must fall in the years 2000 to 2100"


def test_rescheduling_to_an_empty_dispatch_time_is_refused_and_keeps_the_schedule(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))

    status, answer = api.reschedule(mission["mission_id"], "")

    _, unchanged = api.get_mission(mission["mission_id"])
    assert status == 400
    assert answer["error"]["message"] == "dispatch_at is required"
    assert unchanged["dispatch_at"] == mission["dispatch_at"]


def test_two_moves_at_once_leave_the_schedule_at_the_time_the_mission_keeps(
    aws, tenant, monkeypatch
):
    mission_id = create_scheduled(["+639215347566"])["mission_id"]
    acme = get_tenant("acme")
    build = scheduling._schedule_request
    others: list[str] = []

    def another_move_first(mission):
        # The second move is written, and writes the schedule, while the first one is
        # between its write of the mission and its write of the schedule.
        if not others:
            others.append("15:00")
            moving = get_mission("acme", mission_id)
            scheduling.reschedule(moving, acme, "2026-12-01T15:00:00+08:00", MORNING)
        return build(mission)

    monkeypatch.setattr(scheduling, "_schedule_request", another_move_first)
    scheduling.reschedule(
        get_mission("acme", mission_id), acme, "2026-12-01T14:00:00+08:00", MORNING
    )

    stored = get_mission("acme", mission_id).dispatch_at
    assert stored is not None and stored.astimezone(UTC).hour == 7  # 15:00 in Shanghai
    [schedule] = schedules().values()
    assert schedule["ScheduleExpression"] == "at(2026-12-01T07:00:00)"


def test_a_move_that_a_cancel_overtakes_answers_409_and_the_mission_stays_cancelled(
    aws, tenant, monkeypatch
):
    mission_id = create_scheduled(["+639215347566"])["mission_id"]
    build = scheduling._schedule_request

    def cancelled_first(mission):
        scheduling.cancel(get_mission("acme", mission_id), MORNING)
        return build(mission)

    monkeypatch.setattr(scheduling, "_schedule_request", cancelled_first)
    with pytest.raises(Conflict, match="cancelled meanwhile"):
        scheduling.reschedule(
            get_mission("acme", mission_id),
            get_tenant("acme"),
            "2026-12-01T14:00:00+08:00",
            MORNING,
        )

    assert get_mission("acme", mission_id).status == "Cancelled"
    assert schedules() == {}


def test_a_cancel_that_loses_to_another_says_the_mission_was_cancelled(aws, tenant):
    mission_id = create_scheduled(["+639215347566"])["mission_id"]
    read_before = get_mission("acme", mission_id)  # both read it Scheduled
    scheduling.cancel(get_mission("acme", mission_id), MORNING)

    with pytest.raises(Conflict, match="the mission was cancelled meanwhile"):
        scheduling.cancel(read_before, MORNING)


def test_a_cancelled_mission_cannot_be_rescheduled(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))
    api.cancel(mission["mission_id"])

    status, _ = api.reschedule(mission["mission_id"], tomorrow_at(15))

    assert status == 409
    assert schedules() == {}


# --- a schedule Scheduler fails to create ------------------------------------------------


def scheduler_fails_once(
    monkeypatch: pytest.MonkeyPatch, operation: str = "CreateSchedule"
) -> None:
    """The next `operation` request is refused, as Scheduler refuses one when it
    throttles; the requests after it go through."""
    make_api_call = BaseClient._make_api_call
    refused: list[str] = []

    def once(self: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == operation and not refused:
            refused.append(name)
            error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, name)
        return make_api_call(self, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", once)


def test_a_mission_whose_schedule_failed_is_not_left_scheduled_and_the_retry_schedules_it(
    aws, tenant, monkeypatch
):
    scheduler_fails_once(monkeypatch)

    # Raised: API Gateway answers it as a 5xx, and the client makes the request again.
    with pytest.raises(ClientError):
        schedule_at(tomorrow_at(12))

    # Nothing left Scheduled that no schedule would ever fire.
    assert api.list_missions()["items"] == []
    status, mission = schedule_at(tomorrow_at(12))
    assert (status, mission["status"]) == (201, "Scheduled")
    [schedule] = schedules().values()
    assert json.loads(schedule["Target"]["Input"])["mission_id"] == mission["mission_id"]


def _upload_scheduled(aws: Any) -> tuple[str, str]:
    """A mission with a dispatch time created without its list, and the list put in the
    upload bucket: (mission id, upload key)."""
    body = {**GUIDE_FIELDS, "dispatch_at": tomorrow_at(12)}
    status, mission = api.call(missions_app, "POST", "/v1/missions", "/v1/missions", body=body)
    assert status == 201, mission
    key = f"uploads/acme/{mission['mission_id']}/number-list"
    boto3.client("s3").put_object(
        Bucket=aws.environment["UPLOAD_BUCKET"], Key=key, Body=corpus.guide_xlsx()
    )
    return mission["mission_id"], key


def test_an_upload_whose_schedule_failed_is_scheduled_when_its_event_is_retried(
    aws, tenant, monkeypatch
):
    mission_id, key = _upload_scheduled(aws)
    scheduler_fails_once(monkeypatch)

    # Raised, so that Lambda runs the upload's event again.
    with pytest.raises(ClientError):
        api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)
    assert api.get_mission(mission_id)[1]["status"] == "Uploading"
    api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)

    _, mission = api.get_mission(mission_id)
    assert (mission["status"], mission["phone_number_amount"]) == ("Scheduled", 2)
    [schedule] = schedules().values()
    assert json.loads(schedule["Target"]["Input"])["mission_id"] == mission_id
    assert queued_bodies(aws) == []


def test_an_upload_whose_mission_was_not_saved_after_its_schedule_is_scheduled_once(
    aws, tenant, monkeypatch
):
    # The retried event finds the schedule the first run made: it is moved to the
    # mission's time (UpdateSchedule, which the ingest function's policies must allow).
    mission_id, key = _upload_scheduled(aws)

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(PutError)

    monkeypatch.setattr(MissionModel, "save", refused)
    with pytest.raises(PutError):
        api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)
    monkeypatch.undo()
    assert len(schedules()) == 1
    api.ingest_object(aws.environment["UPLOAD_BUCKET"], key)

    assert api.get_mission(mission_id)[1]["status"] == "Scheduled"
    [schedule] = schedules().values()
    assert json.loads(schedule["Target"]["Input"])["mission_id"] == mission_id


def test_a_schedule_whose_mission_was_never_saved_fires_for_nothing(aws, tenant):
    answer = fire.lambda_handler({"tenant_id": "acme", "mission_id": "0" * 18}, FakeContext())

    assert answer == {"outcome": "skipped: no such mission"}
    assert queued_bodies(aws) == []


# --- firing ----------------------------------------------------------------------------------


def test_firing_at_the_dispatch_time_sends_the_mission(aws, tenant):
    mission = create_scheduled(["+639215347566", "+639175550123"])

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    assert outcome == "dispatched"
    assert get_mission("acme", mission["mission_id"]).status == "Sent"
    assert len(queued_recipients(aws)) == 2


def test_a_mission_whose_channel_was_taken_away_fails_at_its_time_and_sends_nothing(aws, tenant):
    from cloudsms.services import channels

    mission = create_scheduled(["+639215347566"])
    channels.unassign_channel("acme", "SIM")

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    failed = get_mission("acme", mission["mission_id"])
    assert outcome.startswith("skipped")
    assert (failed.status, failed.failure_reason) == (
        "Failed",
        "channel SIM is not assigned to this tenant",
    )
    assert queued_bodies(aws) == []


def test_a_failure_dynamodb_refuses_to_record_is_raised_for_the_firing_to_come_back(
    aws, tenant, monkeypatch
):
    from cloudsms.services import channels

    mission = create_scheduled(["+639215347566"])
    channels.unassign_channel("acme", "SIM")

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(UpdateError)

    monkeypatch.setattr(MissionModel, "update", refused)

    with pytest.raises(UpdateError):
        dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)


def test_firing_a_cancelled_mission_sends_nothing(aws, tenant):
    mission = create_scheduled(["+639215347566"])
    scheduling.cancel(get_mission("acme", mission["mission_id"]), MORNING)

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    assert outcome.startswith("skipped")
    assert get_mission("acme", mission["mission_id"]).status == "Cancelled"
    assert queued_bodies(aws) == []


def test_an_early_firing_of_a_moved_mission_sends_nothing_and_schedules_it_again(aws, tenant):
    # The scheduler ran the old schedule (and deleted it) as the mission was moved later.
    _, mission = schedule_at(tomorrow_at(12))
    scheduling.delete_schedule(get_mission("acme", mission["mission_id"]))

    answer = fire.lambda_handler(
        {"tenant_id": "acme", "mission_id": mission["mission_id"]}, FakeContext()
    )

    assert answer == {"outcome": "rescheduled"}
    assert queued_bodies(aws) == []
    assert len(schedules()) == 1


def test_the_schedule_function_may_move_the_schedule_it_fired_from(aws, tenant):
    # Scheduler may still hold the schedule while its firing runs: the early firing's
    # create is refused as a conflict and the schedule is moved instead, which the
    # function's own policies must allow (UpdateSchedule, not only CreateSchedule).
    _, mission = schedule_at(tomorrow_at(12))

    answer = fire.lambda_handler(
        {"tenant_id": "acme", "mission_id": mission["mission_id"]}, FakeContext()
    )

    assert answer == {"outcome": "rescheduled"}
    [schedule] = schedules().values()
    assert schedule["Target"]["Input"] == json.dumps(
        {"tenant_id": "acme", "mission_id": mission["mission_id"]}
    )


def test_an_early_firing_whose_schedule_is_still_there_moves_that_schedule(aws, tenant):
    # The scheduler deletes a schedule only once its firing is done.
    mission = create_scheduled(["+639215347566"])
    later = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    stored = get_mission("acme", mission["mission_id"])
    stored.update(actions=[MissionModel.dispatch_at.set(later)])

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    assert outcome == "rescheduled"
    [schedule] = schedules().values()
    assert schedule["ScheduleExpression"] == "at(2026-12-01T06:00:00)"
    assert queued_bodies(aws) == []


class FailingFunctions:
    """Stands in for Lambda: every invocation fails (a throttled table, say)."""

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        raise RuntimeError("the function failed")


def test_a_firing_the_function_fails_waits_in_the_schedule_dead_letter_queue(aws, tenant):
    # Scheduler invokes the function asynchronously: its own retries and dead-letter
    # queue end once Lambda has the event, and a firing that fails in the function would
    # be dropped silently, its mission Scheduled forever, but for the function's own.
    mission = create_scheduled(["+639215347566"])
    firer = SchedulerFirer(
        boto3.Session(),
        None,
        FailingFunctions(),  # type: ignore[arg-type]
        aws,
        group=get_settings().schedule_group,
        now=lambda: NOON_UTC + timedelta(minutes=1),
        stop=threading.Event(),
    )

    assert firer.fire_due() == 1

    [waiting] = boto3.client("sqs").receive_message(
        QueueUrl=aws.physical["ScheduleDeadLetterQueue"]
    )["Messages"]
    assert json.loads(waiting["Body"]) == {"tenant_id": "acme", "mission_id": mission["mission_id"]}


def test_a_firing_that_comes_late_outside_the_window_fails_the_mission_and_sends_nothing(
    aws, tenant
):
    mission = create_scheduled(["+639215347566"])  # noon in Shanghai
    half_past_ten_at_night = NOON_UTC + timedelta(hours=10, minutes=30)

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], half_past_ten_at_night)

    failed = get_mission("acme", mission["mission_id"])
    assert outcome.startswith("skipped")
    assert failed.status == "Failed"
    assert "fired late, at 22:30 (Asia/Shanghai), outside the sending window" in (
        failed.failure_reason
    )
    assert queued_bodies(aws) == []


def test_a_firing_that_comes_late_inside_the_window_still_sends(aws, tenant):
    mission = create_scheduled(["+639215347566"])

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC + timedelta(hours=1))

    assert outcome == "dispatched"
    assert len(queued_recipients(aws)) == 1


def test_the_scheduler_target_dispatches_with_the_schedules_input(aws, tenant):
    _, mission = schedule_at(tomorrow_at(12))
    from cloudsms.store.missions import MissionModel

    # As if its time had come: the dispatch time is now.
    MissionModel.get("acme", mission["mission_id"]).update(
        actions=[MissionModel.dispatch_at.set(datetime.now(UTC))]
    )
    [schedule] = schedules().values()

    answer = fire.lambda_handler(json.loads(schedule["Target"]["Input"]), FakeContext())

    assert answer == {"outcome": "dispatched"}
    assert len(queued_recipients(aws)) == 2


# --- recipient-local quiet hours --------------------------------------------------------------


def test_quiet_hours_are_for_marketing_missions_only(aws, tenant):
    status, answer = api.create_with_list(corpus.guide_xlsx(), recipient_quiet_hours="true")

    assert status == 400
    assert "marketing" in answer["error"]["message"]


def test_a_marketing_mission_with_quiet_hours_tells_the_submit_step_to_hold(aws, tenant):
    status, _ = api.create_with_list(
        corpus.guide_xlsx(), sms_type="marketing", recipient_quiet_hours="true"
    )

    [body] = queued_bodies(aws)
    assert status == 201
    assert body["quiet_hours"] is True


def test_a_recipient_outside_their_local_window_is_held_and_the_others_are_sent(aws, tenant):
    # 19:00 UTC: 03:00 in Manila, 15:00 in New York.
    night_in_manila = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "sms_type": "marketing", "recipient_quiet_hours": True}
    )
    data = corpus.xlsx(
        [corpus.GUIDE_ROWS[0], ["+639215347566", "Amy", "a.com"], ["+12125550123", "Bob", "b.com"]]
    )
    missions.create_mission(get_tenant("acme"), fields, data, night_in_manila)
    [body] = queued_bodies(aws)
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, lambda: night_in_manila, gateway.factory)

    assert [s.to for s in gateway.submissions] == ["+12125550123"]
    held = _held_on_the_bulk_queue(aws)
    assert held == "1"
    assert queued_bodies(aws) == []  # still delayed: nothing to take yet


def _held_on_the_bulk_queue(aws: Any) -> str:
    answer = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws.physical["BulkSubmitQueue"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed"],
    )
    return answer["Attributes"]["ApproximateNumberOfMessagesDelayed"]  # type: ignore[no-any-return]


def test_without_quiet_hours_every_recipient_is_sent_at_any_hour(aws, tenant):
    night_in_manila = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "sms_type": "marketing"})
    missions.create_mission(get_tenant("acme"), fields, corpus.guide_xlsx(), night_in_manila)
    [body] = queued_bodies(aws)
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, lambda: night_in_manila, gateway.factory)

    assert len(gateway.submissions) == 2
    assert _held_on_the_bulk_queue(aws) == "0"
