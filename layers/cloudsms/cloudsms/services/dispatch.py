"""Dispatching a mission: claiming it (and taking its SMS from the prepaid orders that pay
for it), streaming its staged recipients onto the submit queue, recording what was sent;
and the scheduler's firing at a mission's dispatch time.
"""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from cloudsms.adapters import queues, storage
from cloudsms.domain import phone
from cloudsms.domain.mission import MissionStatus
from cloudsms.errors import CloudSmsError, Forbidden, NotFound
from cloudsms.ids import mission_message_uid
from cloudsms.observability import logger
from cloudsms.services import orders, scheduling, staging, throughput
from cloudsms.services.blacklist import checked as blacklist_check
from cloudsms.services.channels import check_channel, get_route
from cloudsms.services.tenants import check_enabled, check_sender
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, transaction
from cloudsms.store.missions import MissionModel, fail_while, get_mission, reloaded
from cloudsms.store.orders import OrderModel
from cloudsms.store.tenants import TenantModel

# A SendMessageBatch may carry 1 MiB in all (256 KiB before August 2025), so each of its
# ten messages stays under a tenth, with room for the envelope. 100 recipients of a
# 160-character message need about 28 KB.
QUEUE_MESSAGE_BYTES = 100_000


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

    Blacklists are checked again, so a number blacklisted since staging is not sent.
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
    bodies = _paced(
        (
            {**envelope, "order_number": order_number, "recipients": chunk}
            for order_number, chunk in _chunks(recipients())
        ),
        throughput.slot_interval(get_route(mission.channel)),
        now,
    )
    requests = queues.enqueue(
        queues.queue_for(mission.sms_type, mission.mission_id),
        bodies,
        lambda body: _delay_until_due(body, now),
    )
    _record_sent(mission, len(late), late_segments, now)
    logger.info(
        "mission dispatched",
        extra={"mission": mission_id, "sqs_requests": requests, "late_blacklisted": len(late)},
    )
    return True


def _paced(
    bodies: Iterator[dict[str, Any]], interval: float, now: datetime
) -> Iterator[dict[str, Any]]:
    """Each queue message with when it is due (`not_before`): after the segments of every
    recipient before it, at the channel's pace. Queued all at once and undelayed, the
    queue messages the channel's bucket cannot pay for yet would come back every second
    or so until their turn, each time a receipt, a read of their messages and a write on
    the bucket: millions of wasted cycles for a mission of a million. A channel without
    a limit (interval 0) is not paced. A dispatch run again paces from its own time."""
    segments_before = 0
    for body in bodies:
        if interval:
            due = now + timedelta(seconds=segments_before * interval)
            body["not_before"] = due.isoformat()
        segments_before += sum(int(r["segments"]) for r in body["recipients"])
        yield body


def _delay_until_due(body: dict[str, Any], now: datetime) -> int:
    """SQS's delay for a paced queue message: until it is due, at most 15 minutes (one
    due later comes early, and the submit consumer puts it back for the rest)."""
    if "not_before" not in body:
        return 0
    return queues.delay_for((datetime.fromisoformat(body["not_before"]) - now).total_seconds())


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
    staged, blacklist = blacklist_check(
        mission.tenant_id,
        storage.read_json_lines(mission.staged_prefix + staging.RECIPIENTS),
        lambda record: str(record["to"]),
    )
    late = storage.JsonLinesWriter(key)
    rows: set[int] = set()
    if blacklist:  # else none can be: an empty file keeps that decision
        for record in staged:
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
