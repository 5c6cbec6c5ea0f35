"""Missions: create from a number list, dispatch the recipients, read them.

A mission's recipients are validated, rendered and staged in S3 (services/staging.py)
before the mission is saved, so a mission either exists with all its valid recipients
staged, or not at all. Each staging has its own prefix, which the mission records when
it is saved: everything after (the claim, the dispatch, its resumption, the pages of
abnormal rows) reads the one the mission kept.
"""

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from cloudsms.adapters import queues, storage
from cloudsms.clock import Clock
from cloudsms.domain import content, phone, text
from cloudsms.domain.mission import MissionFields, MissionStatus
from cloudsms.domain.numberlist import AbnormalRow, NumberListError
from cloudsms.domain.states import DrState, outcome
from cloudsms.errors import (
    BadRequest,
    CloudSmsError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    shown,
)
from cloudsms.ids import mission_message_uid, new_time_ordered_id
from cloudsms.observability import logger
from cloudsms.services import orders, scheduling, staging
from cloudsms.services.blacklist import blacklisted_numbers
from cloudsms.services.channels import check_channel, get_route
from cloudsms.services.pages import counted, decode_last_key, first_page, one_page
from cloudsms.services.templates import get_template
from cloudsms.services.tenants import check_enabled, check_sender
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, transaction
from cloudsms.store.counters import WHOLE_LIFE, CounterModel, mission_scope
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import (
    MissionModel,
    fail_while,
    get_mission,
    name_matches,
    reloaded,
)
from cloudsms.store.orders import OrderModel
from cloudsms.store.tenants import TenantModel

SAMPLE_SIZE = 5
PREVIEW_ABNORMAL_LIMIT = 100
# A failed mission's reason names this many of its abnormal rows.
REASON_ROWS = 3
# A SendMessageBatch may carry 1 MiB in all (256 KiB before August 2025), so each of its
# ten messages stays under a tenth, with room for the envelope. 100 recipients of a
# 160-character message need about 28 KB.
QUEUE_MESSAGE_BYTES = 100_000

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
    mission: MissionModel, number_list: bytes, accept: Callable[[staging.Staged], Any] | None = None
) -> staging.Staged:
    try:
        staged = staging.stage(mission, number_list, accept)
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
    do. A schedule whose mission is then not saved fires for nothing (fire_scheduled)."""
    if mission.status == MissionStatus.SCHEDULED.value:
        scheduling.schedule_mission(mission)


def dispatch_unscheduled(mission: MissionModel, now: datetime) -> None:
    """A saved Unsent mission is dispatched now: one without a dispatch time, or one whose
    time came while its list was staged (then, as for a firing that came late, not
    outside the sending window)."""
    if mission.status != MissionStatus.UNSENT.value:
        return
    if mission.dispatch_at:
        late = _late_outside_window(mission, now, "its number list was staged")
        if late:
            _fail_unsent(mission, late, now)
            return
    dispatch(mission.tenant_id, mission.mission_id, now)


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
        rows = staging.number_list_rows(probe, number_list)
        blacklist = blacklisted_numbers(tenant.tenant_id)
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
        "columns_matched_by": "header" if rows.by_name else "position",
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


# --- dispatching ----------------------------------------------------------------------------


def _claim_for_dispatch(mission: MissionModel, now: datetime) -> bool:
    """Unsent/Scheduled → Sending. The one conditional change that decides between a
    dispatch and a cancel: whichever writes first wins, the other finds the status moved.

    A mission on a prepaid package takes its SMS in the same transaction, so it is
    dispatched and charged, or neither, and records which order pays each recipient
    (their staged order decides, so a dispatch that runs again sends each with the
    same one). One the orders cannot pay for ends Failed with the reason."""
    # As last written: a mission dispatched a moment after its tenant was disabled must
    # not send (one read a mission, not a message).
    tenant = TenantModel.get(mission.tenant_id, consistent_read=True)
    try:
        # Checked again: the operator may have disabled the tenant or taken the channel
        # away since the mission was created, and a scheduled mission must not send then.
        check_enabled(tenant)
        check_channel(tenant, mission.channel, phone.Direction(mission.direction))
        check_sender(tenant, mission.sender)
    except CloudSmsError as refused:
        _fail_unsent(mission, refused.message, now)
        return False
    # Read once for every attempt (the list of a mission not yet claimed is not staged
    # again), and only if charge_for walks it: it does not for an unmetered channel.
    segments = staging.StagedSegments(mission)
    for _ in range(CLAIM_ATTEMPTS):
        try:
            charge = orders.charge_for(tenant, mission.channel, segments, now)
        except Forbidden as refused:
            _fail_unsent(mission, refused.message, now)
            return False
        try:
            _write_claim(mission, charge, now)
            return True
        except (UpdateError, TransactWriteError) as error:
            if not lost_a_race(error):
                raise
        mission = reloaded(mission)
        if mission.status == MissionStatus.SENDING.value and mission.dispatching_date == now:
            return True  # this claim was written, though its answer was lost
        if mission.status not in _UNSENT_STATUSES:
            return False
        # The order was spent, or the mission changed, meanwhile: look again.
    _fail_unsent(mission, "its prepaid package kept changing; dispatch it again", now)
    return False


def _write_claim(mission: MissionModel, charge: orders.Charge | None, now: datetime) -> None:
    actions: list[Action] = [
        MissionModel.status.set(MissionStatus.SENDING.value),
        MissionModel.dispatching_date.set(now),
        MissionModel.updated_at.set(now),
    ]
    if charge is None:
        mission.update(actions=actions, condition=_UNSENT)
        return
    actions.append(MissionModel.order_number.set(charge.takes[0].order_number))
    actions.append(MissionModel.order_runs.set([[n, count] for n, count in charge.runs]))
    with transaction() as writes:
        writes.update(mission, actions=actions, condition=_UNSENT)
        for take in charge.takes:
            writes.update(
                OrderModel(charge.tenant_id, take.order_number),
                actions=take.actions,
                condition=take.condition,
            )


def _payers(mission: MissionModel) -> Iterator[str | None]:
    """The order paying each staged recipient, in their order, as the claim recorded."""
    if mission.order_runs is None:
        yield from repeat(mission.order_number)  # claimed before runs were kept
        return
    for order_number, count in mission.order_runs:
        yield from repeat(order_number, int(count))
    # The staged list never changes once claimed: never send a recipient nothing paid for.
    raise RuntimeError(f"mission {mission.mission_id} has more recipients than it was charged")


CLAIM_ATTEMPTS = 5
_UNSENT_STATUSES = (MissionStatus.UNSENT.value, MissionStatus.SCHEDULED.value)
_UNSENT = MissionModel.status.is_in(*_UNSENT_STATUSES)


def _fail_unsent(mission: MissionModel, reason: str, now: datetime) -> None:
    """Fails a mission that was not dispatched, unless it was cancelled meanwhile."""
    if fail_while(mission, _UNSENT, reason, now):
        logger.info(
            "mission not dispatched", extra={"mission": mission.mission_id, "reason": reason}
        )


def dispatch(tenant_id: str, mission_id: str, now: datetime) -> bool:
    """Streams the staged recipients onto the submit queue; returns whether it did.

    Blacklists are read again, so a number blacklisted since staging is not sent.
    Running it again on a mission that is already Sending (a retried invocation) enqueues
    the same UIDs again, and the submit step sends each UID once; it skips the numbers
    the first run found blacklisted, no others (`_blacklisted_at_dispatch`).
    """
    # Consistent: a mission created or staged a moment ago is dispatched at once.
    mission = get_mission(tenant_id, mission_id, consistent=True)
    if mission.status == MissionStatus.SENDING.value:
        logger.info("resuming the dispatch of a mission", extra={"mission": mission_id})
    elif not _claim_for_dispatch(mission, now):
        logger.info("mission not dispatched: its status moved", extra={"mission": mission_id})
        return False
    mission = reloaded(mission)  # with the orders its claim took SMS from
    late = _blacklisted_at_dispatch(mission)
    late_segments: dict[str | None, int] = {}  # by the order that paid them

    def recipients() -> Iterator[tuple[str | None, dict[str, Any]]]:
        staged = storage.read_json_lines(mission.staged_prefix + staging.RECIPIENTS)
        # Not strict: a mission claimed before runs were kept has its one order, repeated.
        for record, order_number in zip(staged, _payers(mission), strict=False):
            if int(record["row"]) in late:
                segments = late_segments.get(order_number, 0) + int(record["segments"])
                late_segments[order_number] = segments
                continue
            yield (
                order_number,
                {
                    "uid": mission_message_uid(mission.mission_id, record["row"]),
                    "to": record["to"],
                    "text": record["text"],
                    "encoding": record["encoding"],
                    "segments": record["segments"],
                },
            )

    envelope = {
        "tenant_id": tenant_id,
        "mission_id": mission.mission_id,
        "channel": mission.channel,
        "sms_type": mission.sms_type,
        # Stored on each message, so the dispatching log shows the sender id used.
        "sender": mission.sender or get_route(mission.channel).default_sender,
        "quiet_hours": bool(mission.recipient_quiet_hours),
        "allow_unsubscribe": bool(mission.allow_unsubscribe),
        # So that a message going out days later can tell the dispatching log so.
        "dispatched_at": mission.dispatching_date.isoformat() if mission.dispatching_date else None,
    }
    bodies = (
        {**envelope, "order_number": order_number, "recipients": chunk}
        for order_number, chunk in _chunks(recipients())
    )
    requests = queues.enqueue(queues.queue_for(mission.sms_type, mission.mission_id), bodies)
    _record_sent(mission, len(late), late_segments, now)
    logger.info(
        "mission dispatched",
        extra={"mission": mission_id, "sqs_requests": requests, "late_blacklisted": len(late)},
    )
    return True


def _blacklisted_at_dispatch(mission: MissionModel) -> set[int]:
    """The rows of the staged recipients blacklisted since staging: not sent, their SMS
    given back. Decided once, by the dispatch's first run, and kept before any recipient
    is queued, so that a run resumed after a stop skips the same ones: a number
    blacklisted in between (one that replied TD to the message, say) may have been
    queued and sent by the first run, and giving its SMS back would charge nothing for
    it (or give them back twice, should its gateway refuse it)."""
    key = mission.staged_prefix + staging.BLACKLISTED_AT_DISPATCH
    if storage.exists(key):
        return {int(record["row"]) for record in storage.read_json_lines(key)}
    blacklist = blacklisted_numbers(mission.tenant_id)
    late = storage.JsonLinesWriter(key)
    rows: set[int] = set()
    if blacklist:  # else none can be: an empty file keeps that decision
        for record in storage.read_json_lines(mission.staged_prefix + staging.RECIPIENTS):
            if record["to"] in blacklist:
                late.write({"row": record["row"], "to": record["to"]})
                rows.add(int(record["row"]))
    late.upload()
    return rows


def _record_sent(
    mission: MissionModel, late_count: int, late_segments: dict[str | None, int], now: datetime
) -> None:
    """Sending → Sent. The SMS of numbers blacklisted since staging go back to the prepaid
    orders that paid them in the same transaction, so a dispatch run again cannot give
    them twice. A mission none of whose numbers can be sent any more ends Failed, as one
    whose list had none at staging does: "Sent" would say something went out."""
    actions: list[Action] = [
        MissionModel.status.set(MissionStatus.SENT.value),
        MissionModel.blacklisted_at_dispatch.set(late_count),
        MissionModel.blacklisted_segments_at_dispatch.set(sum(late_segments.values())),
        MissionModel.updated_at.set(now),
    ]
    if late_count and late_count >= int(mission.phone_number_amount):
        actions[0] = MissionModel.status.set(MissionStatus.FAILED.value)
        actions.append(
            MissionModel.failure_reason.set(
                f"no number can be sent: all {late_count} were blacklisted after the list "
                "was uploaded"
            )
        )
    given_back = {n: segments for n, segments in late_segments.items() if n and segments}
    if not given_back:
        mission.update(actions=actions)
        return
    sending = MissionModel.status == MissionStatus.SENDING.value
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with transaction() as writes:
                writes.update(mission, actions=list(actions), condition=sending)
                for order_number, segments in given_back.items():
                    writes.update(
                        OrderModel(mission.tenant_id, order_number),
                        actions=[OrderModel.reserved.add(-segments)],
                    )
            return
        except TransactWriteError as error:
            if not lost_a_race(error):
                raise
        mission = reloaded(mission)
        if mission.status != MissionStatus.SENDING.value:
            return  # recorded (and the SMS given back) by this run or another one
    raise RuntimeError(f"mission {mission.mission_id} kept changing; its dispatch comes back")


# A firing this much before the dispatch time is early: the mission was rescheduled.
EARLY_FIRING_SECONDS = 60


def fire_scheduled(tenant_id: str, mission_id: str, now: datetime) -> str:
    """The scheduler's call at a mission's dispatch time: dispatch it, unless it was
    cancelled (then nothing is sent) or moved to a later time (then it waits for that)."""
    try:
        mission = get_mission(tenant_id, mission_id)
    except NotFound:
        # A schedule is made before its mission is saved (`schedule`): a save that failed
        # after it leaves a schedule with no mission, and nothing to send.
        logger.warning("firing for a mission that was never saved", extra={"mission": mission_id})
        return "skipped: no such mission"
    if mission.status == MissionStatus.SENDING.value:
        # A firing retried after its dispatch stopped halfway: finish it.
        return "dispatched" if dispatch(tenant_id, mission_id, now) else "skipped"
    if mission.status != MissionStatus.SCHEDULED.value:
        logger.info("firing skipped", extra={"mission": mission_id, "status": mission.status})
        return f"skipped: the mission is {mission.status}"
    if mission.dispatch_at and mission.dispatch_at > now + timedelta(seconds=EARLY_FIRING_SECONDS):
        scheduling.schedule_mission(mission)
        return "rescheduled"
    late = _late_outside_window(mission, now, "the schedule fired")
    if late:
        _fail_unsent(mission, late, now)
        return f"skipped: {late}"
    if dispatch(tenant_id, mission_id, now):
        return "dispatched"
    return f"skipped: the mission is {reloaded(mission).status}"


FIRING_FAILED = (
    "its schedule fired but the dispatch failed every retry; nothing was sent: schedule it again"
)


def settle_failed_firing(tenant_id: str, mission_id: str, now: datetime) -> str:
    """A firing that failed every retry (the scheduler's dead-letter queue), once the
    operator has fixed the cause: a dispatch that stopped halfway is finished (its
    recipients are charged, some already sent); one that never started ends Failed with
    the reason rather than go out hours late, unasked; anything else is left as it is."""
    try:
        mission = get_mission(tenant_id, mission_id, consistent=True)
    except NotFound:
        return "skipped: no such mission"
    if mission.status == MissionStatus.SENDING.value:
        return "dispatched" if dispatch(tenant_id, mission_id, now) else "skipped"
    if mission.status == MissionStatus.SCHEDULED.value:
        _fail_unsent(mission, FIRING_FAILED, now)
        mission = reloaded(mission)  # cancelled meanwhile, it stays so
    if mission.failure_reason == FIRING_FAILED:
        return "failed"
    return f"skipped: the mission is {mission.status}"


def _late_outside_window(mission: MissionModel, now: datetime, event: str) -> str | None:
    """Why a dispatch that comes late must not send, if it must not: the scheduler retries
    a firing for up to an hour (and a long list may be staged past its time), and a
    mission never goes out outside its sending window. A firing within a minute of a
    22:00 dispatch time is on time, not late."""
    assert mission.dispatch_at is not None
    if now <= mission.dispatch_at + timedelta(seconds=EARLY_FIRING_SECONDS):
        return None
    if scheduling.window_open(mission.tenant_id, now):
        return None
    tenant = TenantModel.get(mission.tenant_id)
    window = scheduling.sending_window(tenant)
    local = now.astimezone(ZoneInfo(tenant.time_zone))
    return (
        f"{event} late, at {local:%H:%M} ({tenant.time_zone}), outside the sending "
        f"window {window[0]:%H:%M}-{window[1]:%H:%M}; nothing was sent: schedule it again"
    )


def _chunks(
    records: Iterator[tuple[str | None, dict[str, Any]]],
) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
    """Many recipients per SQS message: up to the configured count or the byte budget, all
    paid by one order (the message carries it), so a new one starts where the order does."""
    limit = get_settings().recipients_per_queue_message
    chunk: list[dict[str, Any]] = []
    chunk_order: str | None = None
    size = 0
    for order_number, record in records:
        # Its size as the queue message carries it (about 2 µs): a guessed bound must allow
        # for escaped non-ASCII text and so fills messages with ASCII text only halfway.
        record_size = len(json.dumps(record)) + 2
        if chunk and (
            len(chunk) >= limit
            or size + record_size > QUEUE_MESSAGE_BYTES
            or order_number != chunk_order
        ):
            yield chunk_order, chunk
            chunk, size = [], 0
        chunk.append(record)
        chunk_order = order_number
        size += record_size
    if chunk:
        yield chunk_order, chunk


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
        found = {c.scope: c for c in CounterModel.batch_get(keys)}
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
