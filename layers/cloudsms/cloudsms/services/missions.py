"""Missions: create from a number list (with the request, or uploaded to S3 after it),
preview one, read them. Dispatching them is services/dispatch.py.

A mission's recipients are validated, rendered and staged in S3 (services/staging.py)
before the mission is saved, so a mission either exists with all its valid recipients
staged, or not at all. Each staging has its own prefix, which the mission records when
it is saved: everything after (the claim, the dispatch, its resumption, the pages of
abnormal rows) reads the one the mission kept.
"""

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.update import Action

from cloudsms.adapters import storage
from cloudsms.clock import Clock
from cloudsms.domain import content, phone, text
from cloudsms.domain.mission import MissionFields, MissionStatus
from cloudsms.domain.numberlist import AbnormalRow, NumberListError
from cloudsms.domain.states import DrState, outcome
from cloudsms.errors import BadRequest, CloudSmsError, Conflict, Forbidden, PayloadTooLarge, shown
from cloudsms.ids import new_time_ordered_id
from cloudsms.observability import logger
from cloudsms.services import orders, scheduling, staging
from cloudsms.services.blacklist import checked as blacklist_check
from cloudsms.services.channels import check_channel
from cloudsms.services.dispatch import dispatch, dispatch_unscheduled
from cloudsms.services.pages import counted, decode_last_key, first_page, one_page
from cloudsms.services.templates import get_template
from cloudsms.services.tenants import check_enabled, check_sender
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.base import lost_a_race
from cloudsms.store.counters import WHOLE_LIFE, CounterModel, mission_scope
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel, fail_while, get_mission, name_matches, reloaded
from cloudsms.store.tenants import TenantModel

SAMPLE_SIZE = 5
PREVIEW_ABNORMAL_LIMIT = 100
# A failed mission's reason names this many of its abnormal rows.
REASON_ROWS = 3

# --- creating ---------------------------------------------------------------------------


def upload_key(tenant_id: str, mission_id: str) -> str:
    return f"uploads/{tenant_id}/{mission_id}/number-list"


def _content(tenant_id: str, fields: MissionFields) -> str:
    if fields.template_id:
        return get_template(tenant_id, fields.template_id).content
    assert fields.content is not None
    return fields.content


def create_mission(
    tenant: TenantModel,
    fields: MissionFields,
    number_list: bytes | None,
    now: datetime,
    mission_id: str | None = None,
) -> dict[str, Any]:
    """Creates a mission. With a number list it is staged and started at once (sent, or
    scheduled); without one the answer carries a presigned URL to upload it to.

    `mission_id`: an id the caller derived from its request (an operator's manifest),
    so that the same request delivered again creates nothing: Conflict."""
    check_enabled(tenant)  # a key the authorizer resolved a moment before it was cut off
    check_channel(tenant, fields.channel, fields.direction)
    check_sender(tenant, fields.sender)
    body = _content(tenant.tenant_id, fields)
    dispatch_at = scheduling.resolve_dispatch_at(fields.dispatch_at, tenant, now)
    mission = MissionModel(
        tenant_id=tenant.tenant_id,
        mission_id=mission_id or new_time_ordered_id(),
        name=fields.name,
        name_folded=fields.name.casefold(),
        direction=fields.direction.value,
        sms_type=fields.sms_type.value,
        content=body,
        variables=content.variables(body),
        template_id=fields.template_id,
        sender=fields.sender,
        signature=fields.signature,
        signature_position=fields.signature_position.value,
        allow_unsubscribe=fields.allow_unsubscribe,
        channel=fields.channel,
        dispatch_at=dispatch_at,
        recipient_quiet_hours=fields.recipient_quiet_hours,
        status=MissionStatus.UPLOADING.value,
        created_at=now,
        updated_at=now,
    )
    if number_list is None:
        mission.upload_key = upload_key(tenant.tenant_id, mission.mission_id)
        mission.save()
        view = mission_view(mission)
        view["upload_url"] = storage.presigned_put(
            mission.upload_key, get_settings().upload_url_seconds
        )
        return view

    # Refused now (403) rather than failed at dispatch when the orders cannot pay for it
    # then (an order that expires before a scheduled mission's time cannot, nor one the
    # missions scheduled before it will have spent); the SMS are taken when it is
    # dispatched.
    staged = _stage_or_refuse(
        mission,
        number_list,
        tenant.countries,
        accept=lambda found: orders.check_mission(
            tenant, mission.channel, found.messages, dispatch_at, now, mission.mission_id
        ),
    )
    _record_staged(mission, staged)
    schedule(mission)
    try:
        mission.save(condition=MissionModel.mission_id.does_not_exist())
    except PutError as error:
        if not lost_a_race(error):
            raise
        kept = _kept_or_discarded(mission, staged)
        if kept is None:
            raise Conflict(f"mission {mission.mission_id} exists already") from error
        mission = kept
    dispatch_unscheduled(mission, now)
    return mission_view(reloaded(mission))


def _refusal(error: NumberListError, number_list: bytes) -> CloudSmsError:
    """A list that cannot be used: 413 when it is too large, else 400; the same for a
    preview as for a mission."""
    if len(number_list) > get_settings().number_list_max_bytes:
        return PayloadTooLarge(error.reason)
    return BadRequest(f"the number list cannot be used: {error.reason}")


def _stage_or_refuse(
    mission: MissionModel,
    number_list: bytes,
    countries: Collection[str] | None,
    accept: Callable[[staging.Staged], Any] | None = None,
) -> staging.Staged:
    try:
        staged = staging.stage(mission, number_list, countries, accept)
    except NumberListError as error:
        raise _refusal(error, number_list) from error
    if staged.recipients == 0:
        raise BadRequest(_nothing_to_send(staged), details=staged.first_abnormal)
    return staged


def _nothing_to_send(staged: staging.Staged) -> str:
    return (
        "no number in the list can be sent: "
        f"{staged.abnormal} abnormal row(s), {staged.blacklisted} blacklisted"
    )


def _record_staged(mission: MissionModel, staged: staging.Staged) -> None:
    mission.staged_prefix = staged.prefix
    mission.phone_number_amount = staged.recipients
    mission.failure_amount = staged.abnormal
    mission.blacklist_amount = staged.blacklisted
    mission.segments = staged.segments
    mission.status = (
        MissionStatus.SCHEDULED.value if mission.dispatch_at else MissionStatus.UNSENT.value
    )


def schedule(mission: MissionModel) -> None:
    """A staged mission to be Scheduled gets its schedule, before it is saved as such: a
    schedule that cannot be created (Scheduler throttles, fails) then fails the request
    or the upload's invocation while the mission is not yet Scheduled, and
    the request made again (or the invocation retried) schedules it. Saved first, it
    would stay Scheduled with no schedule to fire it, and a retry would find nothing to
    do. A schedule whose mission is then not saved fires for nothing (dispatch.fire_scheduled)."""
    if mission.status == MissionStatus.SCHEDULED.value:
        scheduling.schedule_mission(mission)


def _kept_or_discarded(mission: MissionModel, staged: staging.Staged) -> MissionModel | None:
    """After a save whose condition failed: the mission, if it kept this staging all the
    same (the save was written and its answer lost); else None, and this staging's files
    are deleted: the mission kept another one, or none."""
    current = reloaded(mission)
    if current.staged_prefix == staged.prefix:
        return current
    staging.delete(staged)
    return None


def preview(
    tenant: TenantModel, fields: MissionFields, number_list: bytes, now: datetime
) -> dict[str, Any]:
    """What creating the mission would find, without creating or storing anything; and
    why the tenant's product orders would refuse it, if they would."""
    check_channel(tenant, fields.channel, fields.direction)
    check_sender(tenant, fields.sender)
    body = _content(tenant.tenant_id, fields)
    # A dispatch time creating would refuse is refused here too, for the same reason.
    dispatch_at = scheduling.resolve_dispatch_at(fields.dispatch_at, tenant, now)
    probe = MissionModel(
        tenant_id=tenant.tenant_id,
        mission_id="preview",
        content=body,
        variables=content.variables(body),
        direction=fields.direction.value,
        signature=fields.signature,
        signature_position=fields.signature_position.value,
        allow_unsubscribe=fields.allow_unsubscribe,
    )
    try:
        number_rows = staging.number_list_rows(probe, number_list, tenant.countries)
        rows, blacklist = blacklist_check(tenant.tenant_id, number_rows, staging.recipient_number)
        samples: list[dict[str, Any]] = []
        abnormal: list[dict[str, Any]] = []
        counts = {"recipients": 0, "abnormal": 0, "blacklisted": 0, "segments": 0}
        messages: list[int] = []  # each recipient's SMS, for the orders' check
        encodings: dict[str, int] = {}
        for row in rows:
            if isinstance(row, AbnormalRow):
                counts["abnormal"] += 1
                if len(abnormal) < PREVIEW_ABNORMAL_LIMIT:
                    abnormal.append({"row": row.row, "raw": row.raw, "reason": row.reason})
            elif row.phone in blacklist:
                counts["blacklisted"] += 1
            else:
                counts["recipients"] += 1
                counts["segments"] += row.segments
                messages.append(row.segments)
                encodings[row.encoding] = encodings.get(row.encoding, 0) + 1
                if len(samples) < SAMPLE_SIZE:
                    samples.append(
                        {
                            "row": row.row,
                            "to": row.phone,
                            "text": row.text,
                            "encoding": row.encoding,
                            "segments": row.segments,
                            "ucs2_reason": text.analyse(row.text).ucs2_reason,
                        }
                    )
    except NumberListError as error:
        raise _refusal(error, number_list) from error
    return {
        "payment_refusal": _payment_refusal(tenant, fields.channel, messages, dispatch_at, now),
        "variables": content.variables(body),
        "columns_matched_by": "header" if number_rows.by_name else "position",
        "phone_number_amount": counts["recipients"],
        "failure_amount": counts["abnormal"],
        "blacklist_amount": counts["blacklisted"],
        "segments": counts["segments"],
        "encodings": encodings,
        "samples": samples,
        "abnormal": abnormal,
    }


def _payment_refusal(
    tenant: TenantModel,
    route_id: str,
    messages: list[int],
    dispatch_at: datetime | None,
    now: datetime,
) -> str | None:
    if not messages:
        return None
    try:
        orders.check_mission(tenant, route_id, messages, dispatch_at, now)
    except Forbidden as refused:
        return refused.message
    return None


# --- uploads through S3 -------------------------------------------------------------------


LIST_TOO_LATE = (
    "the number list arrived after the dispatch time; create the mission again with a "
    "later time, or upload its list before that time"
)
# EventBridge Scheduler fires a one-time schedule within a minute of its time. A list
# staged with its dispatch time nearer than that (or past: staging a long list takes a
# while) is dispatched at once, as close to its time as Scheduler would send it, rather
# than given a schedule whose time may be past when Scheduler gets it.
SCHEDULER_PRECISION = timedelta(seconds=60)


def ingest_upload(tenant_id: str, mission_id: str, clock: Clock) -> None:
    """The number list of an Uploading mission has arrived: stage it and start it.

    A list that cannot be used leaves the mission Failed, with the reason on it. `clock`
    is read when the list arrives and again once it is staged.
    """
    now = clock()
    mission = get_mission(tenant_id, mission_id)
    if mission.status == MissionStatus.SENDING.value:
        # An invocation retried after it stopped during the dispatch: finish it. The
        # dispatch's claim decides if two runs race.
        dispatch(tenant_id, mission_id, now)
        return
    if mission.status == MissionStatus.UNSENT.value:
        # One that stopped between saving the staged mission and dispatching it.
        dispatch_unscheduled(mission, now)
        return
    if mission.status != MissionStatus.UPLOADING.value:
        # A list uploaded again to a mission staged from an earlier one, or one cancelled
        # or failed: never mixed in.
        logger.info("upload for a mission that is not uploading", extra={"mission": mission_id})
        return
    if mission.dispatch_at and mission.dispatch_at <= now:
        # Sent now it would go out late, perhaps outside the sending window.
        _fail(mission, LIST_TOO_LATE, now)
        return
    staged = _stage_upload(mission, now)
    if staged is None:
        return
    if staged.recipients == 0:
        _fail_with_nothing_to_send(mission, staged, now)
        return
    _record_staged(mission, staged)
    now = clock()
    if _due_while_staged(mission, now):
        mission.status = MissionStatus.UNSENT.value
    mission.updated_at = now
    schedule(mission)
    try:
        # The one write that decides which staging the mission keeps: the first ingest
        # to record its own wins (the mission read is versioned, too).
        mission.save(condition=MissionModel.status == MissionStatus.UPLOADING.value)
    except PutError as error:
        if not lost_a_race(error):
            # Raised, so that the upload's event is delivered again: the mission is
            # still Uploading (or this save was written), and staging it again makes a
            # staging of its own; this one's files expire with the bucket's rule.
            raise
        kept = _kept_or_discarded(mission, staged)
        if kept is None:
            # Another upload's staging was recorded first (or the same object's, its
            # event delivered twice), or the mission was cancelled meanwhile: a schedule
            # made for it finds it so and sends nothing.
            logger.info(
                "mission changed while its list was staged; this list is ignored",
                extra={"mission": mission_id},
            )
            return
        mission = kept
    dispatch_unscheduled(mission, now)


def _stage_upload(mission: MissionModel, now: datetime) -> staging.Staged | None:
    """The uploaded list, staged; None when it cannot be used, and the mission is Failed
    with the reason."""
    tenant = TenantModel.get(mission.tenant_id)
    max_bytes = get_settings().number_list_max_bytes
    try:
        try:
            data = storage.get_bytes(upload_key(mission.tenant_id, mission.mission_id), max_bytes)
        except storage.TooLarge:
            raise NumberListError(f"the file is larger than {max_bytes:,} bytes") from None
        # As when the list comes with the request: a mission the orders cannot pay for
        # fails now, with the reason, rather than wait Scheduled until its time to fail.
        return staging.stage(
            mission,
            data,
            tenant.countries,
            accept=lambda found: orders.check_mission(
                tenant,
                mission.channel,
                found.messages,
                mission.dispatch_at,
                now,
                mission.mission_id,
            ),
            keep_unsendable=True,
        )
    except NumberListError as error:
        _fail(mission, error.reason, now)
    except Forbidden as refused:
        _fail(mission, refused.message, now)
    return None


def _fail_with_nothing_to_send(
    mission: MissionModel, staged: staging.Staged, now: datetime
) -> None:
    """Uploading → Failed for a list with no number to send. No answer carries the rows'
    details here, as a refused request's does: the mission's reason names the first few,
    its amounts count them, and its pages of abnormal rows and blacklisted numbers list
    them all."""
    rows = "; ".join(
        f"row {r['row']} ({shown(r['raw'])}): {r['reason']}"
        for r in staged.first_abnormal[:REASON_ROWS]
    )
    failed = _fail(
        mission,
        _nothing_to_send(staged) + (f"; {rows}" if rows else ""),
        now,
        MissionModel.failure_amount.set(staged.abnormal),
        MissionModel.blacklist_amount.set(staged.blacklisted),
        MissionModel.staged_prefix.set(staged.prefix),
    )
    if not failed:
        staging.delete(staged)


def _due_while_staged(mission: MissionModel, now: datetime) -> bool:
    """Whether the list arrived before its time, which came (or nearly) while it was
    staged: then it is sent at once, but never before the sending window opens (a time at
    its very start)."""
    return bool(
        mission.dispatch_at
        and mission.dispatch_at <= now + SCHEDULER_PRECISION
        and (mission.dispatch_at <= now or scheduling.window_open(mission.tenant_id, now))
    )


def _fail(mission: MissionModel, reason: str, now: datetime, *more: Action) -> bool:
    """Uploading → Failed, unless another upload's list was staged (or a cancel came)
    meanwhile: then this list is ignored, as one uploaded later would be (False)."""
    uploading = MissionModel.status == MissionStatus.UPLOADING.value
    if not fail_while(mission, uploading, reason, now, *more):
        logger.info(
            "mission changed while its list was read; this list is ignored",
            extra={"mission": mission.mission_id, "reason": reason},
        )
        return False
    return True


# --- reading --------------------------------------------------------------------------------


def _phone_number_amount(mission: MissionModel) -> int:
    """The numbers the mission sends to: those staged, less any blacklisted at dispatch."""
    return int(mission.phone_number_amount) - int(mission.blacklisted_at_dispatch or 0)


# A mission fails or is cancelled only before its dispatch: it never sends anything.
_NEVER_DISPATCHED = (MissionStatus.FAILED.value, MissionStatus.CANCELLED.value)


def _progress(mission: MissionModel, counter: CounterModel | None) -> dict[str, int]:
    delivered = int(counter.delivered) if counter else 0
    failed = int(counter.failed) if counter else 0
    no_notification = int(counter.no_notification) if counter else 0
    pending = max(_phone_number_amount(mission) - delivered - failed - no_notification, 0)
    return {
        "submitted": int(counter.submitted) if counter else 0,
        "delivered": delivered,
        "failed": failed,
        "no_notification": no_notification,
        "pending": 0 if mission.status in _NEVER_DISPATCHED else pending,
    }


def _counter_of(mission: MissionModel) -> CounterModel | None:
    try:
        return CounterModel.get(mission_scope(mission.tenant_id, mission.mission_id), WHOLE_LIFE)
    except DoesNotExist:
        return None


def mission_view(mission: MissionModel, counter: CounterModel | None = None) -> dict[str, Any]:
    return {
        "mission_id": mission.mission_id,
        "name": mission.name,
        "direction": mission.direction,
        "sms_type": mission.sms_type,
        "content": mission.content,
        "variables": list(mission.variables or []),
        "template_id": mission.template_id,
        "sender": mission.sender,
        "signature": mission.signature,
        "signature_position": mission.signature_position,
        "allow_unsubscribe": mission.allow_unsubscribe,
        "recipient_quiet_hours": mission.recipient_quiet_hours,
        "channel": mission.channel,
        "status": mission.status,
        "failure_reason": mission.failure_reason,
        "dispatch_at": mission.dispatch_at.isoformat() if mission.dispatch_at else None,
        "dispatching_date": (
            mission.dispatching_date.isoformat() if mission.dispatching_date else None
        ),
        "phone_number_amount": _phone_number_amount(mission),
        "failure_amount": int(mission.failure_amount),
        "blacklist_amount": int(mission.blacklist_amount)
        + int(mission.blacklisted_at_dispatch or 0),
        # What it is charged as: those blacklisted at dispatch were given back.
        "segments": int(mission.segments) - int(mission.blacklisted_segments_at_dispatch or 0),
        "progress": _progress(mission, counter),
        "created_at": mission.created_at.isoformat(),
        "updated_at": mission.updated_at.isoformat(),
    }


def read_mission(tenant_id: str, mission_id: str, consistent: bool = False) -> dict[str, Any]:
    """The mission's view; `consistent` to answer a change with the mission as changed."""
    mission = get_mission(tenant_id, mission_id, consistent)
    return mission_view(mission, _counter_of(mission))


def list_missions(
    tenant_id: str,
    limit: int,
    cursor: str | None,
    name: str | None = None,
    direction: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Newest first, filtered; `next_cursor` continues after the last mission shown."""
    condition = None
    for part in (
        name_matches(name) if name else None,
        MissionModel.direction == direction if direction else None,
        MissionModel.status == status if status else None,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    results = MissionModel.query(
        tenant_id,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=decode_last_key(cursor, ("tenant_id", tenant_id), ("mission_id",)),
        page_size=max(limit, 25),
    )
    every = MissionModel.query(
        tenant_id, filter_condition=condition, attributes_to_get=["tenant_id", "mission_id"]
    )
    missions, next_cursor = one_page(results, limit, ("tenant_id", "mission_id"))
    found = {}
    if missions:
        keys = [(mission_scope(tenant_id, m.mission_id), WHOLE_LIFE) for m in missions]
        found = {c.scope: c for c in batches.get(CounterModel, keys)}
    items = [mission_view(m, found.get(mission_scope(tenant_id, m.mission_id))) for m in missions]
    return first_page({"items": items, "next_cursor": next_cursor}, cursor, lambda: counted(every))


def list_mission_messages(
    tenant_id: str, mission_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    get_mission(tenant_id, mission_id)
    # A mission message's uid is its mission id and row, so they sort together, in rows.
    result = MessageModel.query(
        tenant_id,
        MessageModel.uid.startswith(mission_id),
        filter_condition=MessageModel.mission_id == mission_id,
        limit=limit + 1,
        last_evaluated_key=decode_last_key(
            cursor, ("tenant_id", tenant_id), ("uid",), starts_with=mission_id
        ),
    )
    every = MessageModel.query(
        tenant_id,
        MessageModel.uid.startswith(mission_id),
        filter_condition=MessageModel.mission_id == mission_id,
        attributes_to_get=["tenant_id", "uid"],
    )
    found, next_cursor = one_page(result, limit, ("tenant_id", "uid"))
    items = [
        {
            "uid": m.uid,
            "country_code": phone.country_code(m.to),
            "phone_number": phone.mask(m.to),
            "text": m.text,
            "segments": int(m.segments),
            "status": outcome(DrState(m.dr_state)).value,
            "dr_state": m.dr_state,
            "error_code": m.error_code,
            "reason": m.reason,
            "submitted_at": m.submitted_at.isoformat() if m.submitted_at else None,
            "receipt_at": m.receipt_at.isoformat() if m.receipt_at else None,
        }
        for m in found
    ]
    page = {"items": items, "next_cursor": next_cursor}
    return first_page(page, cursor, lambda: counted(every))


def list_abnormal(
    tenant_id: str, mission_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    mission = get_mission(tenant_id, mission_id)
    return staging.page_of(staging.file_keys(mission, staging.ABNORMAL), limit, cursor)


def list_blacklisted(
    tenant_id: str, mission_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    mission = get_mission(tenant_id, mission_id)
    page = staging.page_of(
        staging.file_keys(mission, staging.BLACKLISTED, staging.BLACKLISTED_AT_DISPATCH),
        limit,
        cursor,
    )
    page["items"] = [
        {
            "row": r["row"],
            "country_code": phone.country_code(r["to"]),
            "phone_number": phone.mask(r["to"]),
        }
        for r in page["items"]
    ]
    return page
