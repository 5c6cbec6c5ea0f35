"""Scheduled missions: the dispatch-time rules, one EventBridge Scheduler schedule per
mission, cancelling and rescheduling (the firing is dispatch.fire_scheduled).

A cancel and a firing race on the mission's status; each is one conditional write, so
exactly one of them wins.
"""

import hashlib
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from cloudsms.adapters.aws import client
from cloudsms.clock import check_year
from cloudsms.domain import phone
from cloudsms.domain.mission import MissionStatus
from cloudsms.errors import BadRequest, Conflict, shown
from cloudsms.observability import logger
from cloudsms.services import orders
from cloudsms.services.channels import check_channel
from cloudsms.services.tenants import check_enabled, check_sender, parse_window
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race
from cloudsms.store.missions import MissionModel, reloaded
from cloudsms.store.tenants import TenantModel


def sending_window(tenant: TenantModel) -> tuple[time, time]:
    text = tenant.sending_window or get_settings().default_sending_window
    return parse_window(text)


def in_window(moment: datetime, zone: str, window: tuple[time, time]) -> bool:
    # Through UTC: a time already in `zone` would come back as written, even one the
    # clocks skip, rather than as the moment it stands for.
    local = moment.astimezone(UTC).astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    return window[0] <= local <= window[1]


def window_open(tenant_id: str, now: datetime) -> bool:
    tenant = TenantModel.get(tenant_id)
    return in_window(now, tenant.time_zone, sending_window(tenant))


def resolve_dispatch_at(value: str | None, tenant: TenantModel, now: datetime) -> datetime | None:
    """The dispatch time as an aware UTC datetime, checked against every rule.

    A time without an offset is read in the tenant's time zone.
    """
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"dispatch_at {shown(value)} is not an ISO 8601 time") from error
    check_year(moment, "dispatch_at")
    zone = ZoneInfo(tenant.time_zone)
    if moment.tzinfo is None:
        written, moment = moment, moment.replace(tzinfo=zone)
        if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != written:
            raise BadRequest(
                f"the dispatch time {written:%Y-%m-%d %H:%M} does not exist in "
                f"{tenant.time_zone}: the clocks skip it; give another time or an offset"
            )
    # The scheduler's at() has whole seconds; a fraction would make it fire early.
    moment = moment.replace(microsecond=0)
    check_dispatch_at(moment, tenant, now)
    return moment.astimezone(ZoneInfo("UTC"))


def check_dispatch_at(moment: datetime, tenant: TenantModel, now: datetime) -> None:
    settings = get_settings()
    window = sending_window(tenant)
    if not in_window(moment, tenant.time_zone, window):
        local = moment.astimezone(ZoneInfo(tenant.time_zone))
        # 22:00:30 is past a window that ends at 22:00: its seconds say why.
        shown = f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"
        raise BadRequest(
            f"the dispatch time {shown} ({tenant.time_zone}) is outside the sending "
            f"window {window[0]:%H:%M}-{window[1]:%H:%M}"
        )
    if moment < now + timedelta(seconds=settings.min_lead_seconds):
        raise BadRequest(
            f"the dispatch time must be at least {settings.min_lead_seconds // 60} minutes ahead"
        )
    if moment > now + timedelta(days=settings.max_schedule_days):
        raise BadRequest(
            f"the dispatch time must be at most {settings.max_schedule_days} days ahead"
        )


MAX_SCHEDULE_NAME = 64  # EventBridge Scheduler's limit


def schedule_name(mission: MissionModel) -> str:
    """`mission-{tenant}-{mission}`, or, when that is too long for the Scheduler (tenant
    ids of 38 characters or more), the tenant id's digest in its place: cutting the name
    short would cut the mission id's random digits, and two missions created in the same
    millisecond could then share, and overwrite, one schedule. A schedule made under
    the old, cut name is not found by a cancel or a move (which makes one of the new
    name, `_follow`), but a firing checks its mission's status and time first
    (`dispatch.fire_scheduled`), so it does nothing unasked."""
    name = f"mission-{mission.tenant_id}-{mission.mission_id}"
    if len(name) <= MAX_SCHEDULE_NAME:
        return name
    digest = hashlib.sha256(mission.tenant_id.encode()).hexdigest()[:16]
    return f"mission-{digest}-{mission.mission_id}"


def _schedule_request(mission: MissionModel) -> dict[str, Any]:
    settings = get_settings()
    assert mission.dispatch_at is not None
    at = mission.dispatch_at.astimezone(ZoneInfo("UTC"))
    return {
        "Name": schedule_name(mission),
        "GroupName": settings.schedule_group,
        "ScheduleExpression": f"at({at:%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {
            "Arn": settings.schedule_function_arn,
            "RoleArn": settings.scheduler_role_arn,
            "Input": json.dumps({"tenant_id": mission.tenant_id, "mission_id": mission.mission_id}),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": settings.schedule_dead_letter_arn},
        },
    }


def schedule_mission(mission: MissionModel) -> None:
    """Creates the mission's schedule, or sets it to the mission's time when one exists:
    a firing that came early finds its own schedule still there (Scheduler deletes it
    once the firing is done)."""
    scheduler = client("scheduler")
    try:
        scheduler.create_schedule(**_schedule_request(mission))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        scheduler.update_schedule(**_schedule_request(mission))
    logger.info("mission scheduled", extra={"mission": mission.mission_id})


def delete_schedule(mission: MissionModel) -> None:
    try:
        client("scheduler").delete_schedule(
            Name=schedule_name(mission), GroupName=get_settings().schedule_group
        )
    except ClientError as error:
        # Already gone (it ran, or a retried cancel deleted it): nothing to do.
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def _cutoff(now: datetime) -> datetime:
    return now + timedelta(seconds=get_settings().cancel_cutoff_seconds)


def cancel(mission: MissionModel, now: datetime) -> None:
    """Scheduled → Cancelled, until the cut-off before the dispatch time; and Uploading →
    Cancelled at any time, as nothing of it is staged or scheduled yet (a list arriving
    afterwards finds it cancelled and is ignored)."""
    if mission.status == MissionStatus.UPLOADING.value:
        try:
            mission.update(
                actions=[
                    MissionModel.status.set(MissionStatus.CANCELLED.value),
                    MissionModel.updated_at.set(now),
                ],
                condition=MissionModel.status == MissionStatus.UPLOADING.value,
            )
        except UpdateError as error:
            if not lost_a_race(error):
                raise
            # Another cancel (a second click) or the list's arrival: say which.
            if reloaded(mission).status == MissionStatus.CANCELLED.value:
                raise Conflict("the mission was cancelled meanwhile") from error
            raise Conflict("the mission's list arrived meanwhile; look at it again") from error
        return
    if mission.status != MissionStatus.SCHEDULED.value:
        raise Conflict(
            "only a scheduled (or still uploading) mission can be cancelled;"
            f" this one is {mission.status}"
        )
    _before_cutoff(mission, now, "cancelled")
    try:
        mission.update(
            actions=[
                MissionModel.status.set(MissionStatus.CANCELLED.value),
                MissionModel.updated_at.set(now),
            ],
            condition=(MissionModel.status == MissionStatus.SCHEDULED.value)
            & (MissionModel.dispatch_at >= _cutoff(now)),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        raise Conflict(_why_not_cancelled(reloaded(mission))) from error
    delete_schedule(mission)


def _why_not_cancelled(mission: MissionModel) -> str:
    if mission.status == MissionStatus.CANCELLED.value:
        return "the mission was cancelled meanwhile"
    if mission.status != MissionStatus.SCHEDULED.value:
        return f"the mission is {mission.status}: it has started"
    minutes = get_settings().cancel_cutoff_seconds // 60
    return f"a mission can be cancelled only until {minutes} minutes before its dispatch time"


def _before_cutoff(mission: MissionModel, now: datetime, verb: str) -> None:
    assert mission.dispatch_at is not None
    if mission.dispatch_at < _cutoff(now):
        minutes = get_settings().cancel_cutoff_seconds // 60
        raise Conflict(
            f"a mission can be {verb} only until {minutes} minutes before its dispatch time"
        )


def reschedule(mission: MissionModel, tenant: TenantModel, value: str, now: datetime) -> None:
    """Moves a scheduled mission's dispatch time, under the same rules as scheduling, the
    tenant enabled, its channel assigned and its product orders' included."""
    if mission.status == MissionStatus.UPLOADING.value:
        # Its list could arrive while it moves, and be dispatched at the old time.
        raise Conflict(
            "a mission still waiting for its number list cannot be moved:"
            " cancel it and create it again with the new time"
        )
    if mission.status != MissionStatus.SCHEDULED.value:
        raise Conflict(f"only a scheduled mission can be rescheduled; this one is {mission.status}")
    _before_cutoff(mission, now, "rescheduled")
    # As when it was created: refused now (403) rather than moved and then failed at its
    # time, which checks both again, when the operator has since disabled the tenant or
    # taken the mission's channel away.
    check_enabled(tenant)
    check_channel(tenant, mission.channel, phone.Direction(mission.direction))
    check_sender(tenant, mission.sender)
    new_time = resolve_dispatch_at(value, tenant, now)
    if new_time is None:
        # "" reads as "not given", which means "send at once" when creating a mission; a
        # move needs a time to move to.
        raise BadRequest("dispatch_at is required")
    # As when it was created: refused now (403, with the reason) rather than failed at
    # its new time when the orders cannot pay for it then (its only order expires
    # before, or the missions scheduled before it will have spent them), or when it would
    # leave a later mission unpaid. Only a check: the SMS are taken at dispatch, so none
    # are held to move; it is not counted at its old time.
    # Its messages are not read for a move: counted as so many one-SMS messages.
    orders.check_mission(
        tenant, mission.channel, [1] * int(mission.segments), new_time, now, mission.mission_id
    )
    old_time = mission.dispatch_at
    try:
        mission.update(
            actions=[
                MissionModel.dispatch_at.set(new_time),
                MissionModel.updated_at.set(now),
            ],
            condition=(MissionModel.status == MissionStatus.SCHEDULED.value)
            & (MissionModel.dispatch_at == old_time),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        raise Conflict("the mission changed meanwhile; read it and try again") from error
    _follow(mission)


# Each round re-reads the mission; two moves at once settle within a round or two.
_FOLLOW_ROUNDS = 5


def _follow(mission: MissionModel) -> None:
    """Sets the schedule to the mission's time as stored. Two moves at once each write the
    schedule after their own write of the mission, in either order; each then reads the
    mission again and puts the schedule right, so the one that writes it last leaves the
    stored time, not its own."""
    for _ in range(_FOLLOW_ROUNDS):
        try:
            client("scheduler").update_schedule(**_schedule_request(mission))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            if reloaded(mission).status != MissionStatus.SCHEDULED.value:
                # A cancel deleted it after this move was written: the mission is cancelled.
                raise Conflict(_why_not_cancelled(reloaded(mission))) from error
            # Still scheduled: its schedule was made under the old, cut name of a long
            # tenant id (`schedule_name`). One of the new name fires at the new time; the
            # old one's firing finds the mission moved or dispatched, as any early or
            # repeated firing does (`dispatch.fire_scheduled`).
            schedule_mission(mission)
        stored = reloaded(mission)
        if (
            stored.status != MissionStatus.SCHEDULED.value
            or stored.dispatch_at == mission.dispatch_at
        ):
            return
        mission = stored
    raise Conflict("the mission keeps being moved; read it and try again")
