"""Handing queued messages to their carrier gateways, at most once each.

Two kinds of submit-queue message: one-off sends carry the UIDs of messages stored when
they were accepted; missions carry their rendered recipients, and each message is
stored as it is claimed. Either way:

- a message is claimed (QUEUED → SUBMITTING, or written as SUBMITTING) by a conditional
  write just before its gateway is called, and the gateway's answer is recorded just
  after; a redelivered queue message skips every message claimed before;
- a claim whose answer was never recorded (its consumer stopped in between) is left
  alone until its lease ends, so that a receipt may still settle it, then becomes
  UNKNOWN: whether the gateway has it cannot be known, and it is never sent again;
- before the first claim of a batch, one receipt watch lists the messages it may claim,
  so the receipt-timeout sweep finds every submitted message (store/receipt_watch.py);
  for a mission that offers to unsubscribe, each recipient's reply route is written
  then too, so a reply always finds whose message it answers (store/reply_routes.py);
- a number blacklisted since its message was queued (its recipient replied TD to
  another message meanwhile, say) is not sent: the message ends LOCAL_REJECTED, and its
  SMS go back to their order. A queue message may wait hours (the channel's pace, the
  recipient's quiet hours, a paused channel), and an opt-out must hold from when it is made;
- a message its tenant may no longer send is not sent either: the operator disabled the
  tenant (a fraud, an unpaid bill) or took the recipient's country off its list (SMS
  pumping) since it was queued. It ends LOCAL_REJECTED with the reason its acceptance
  would now be refused with, and its SMS go back to their order;
- a channel the operator paused gets nothing: its messages go back on the queue,
  unclaimed, for a while (`paused_channel_retry_seconds`), so that however long the pause
  lasts none counts as a failed attempt or reaches the dead-letter queue;
- a mission's queue message is due at its turn in the channel's pace (`not_before`,
  set at dispatch): one that comes sooner goes back whole, unread, for the rest;
- the channel's token bucket is asked for the leading messages of the batch at once;
  those it cannot pay for now go back on the queue, delayed until it can, and longer
  (1, 2, 4 … 32 s) each hop in a row it pays for none of them: other queue messages
  keep the channel busy meanwhile, and coming back every second would cost a receipt, a
  read and a write on the bucket each time for nothing. Once throttled, its first
  message goes at the channel's next free slot, as a verify code does: a mission's
  consumer takes each token the moment it is back, and another tenant's message on the
  channel must not wait for the mission's end;
- a temporary gateway failure releases the message and has SQS deliver the whole
  queue message again after a backoff; the gateway is not called again for the rest
  of the batch, which comes back with it;
- a message is handed over only while the invocation has time left for it (`time_left`):
  the rest of a batch a slow gateway could not take in time goes back on the queue at
  once, unclaimed, so that Lambda's timeout never cuts a message off mid-hand-over;
- a queue message that can never be processed is poison: it fails at once, every time,
  and SQS moves it to the dead-letter queue after its last receipt.
"""

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pynamodb.exceptions import DoesNotExist

from cloudsms.adapters import queues
from cloudsms.cache import ttl_cache
from cloudsms.carriers.base import Gateway, Submission, SubmitResult
from cloudsms.carriers.registry import gateway_for, receipt_url
from cloudsms.clock import TimeLeft, no_deadline
from cloudsms.domain import phone
from cloudsms.domain.states import DrState
from cloudsms.errors import NotFound
from cloudsms.observability import logger, metrics
from cloudsms.services import blacklist, dispatching_log, throughput, transitions
from cloudsms.services.channels import Channel, get_channel, message_cost
from cloudsms.services.counters import local_day
from cloudsms.services.quiet_hours import seconds_until_open
from cloudsms.services.redelivery import Poison, RetryLater, backoff_seconds
from cloudsms.services.scheduling import sending_window
from cloudsms.services.tenants import disabled
from cloudsms.settings import get_settings
from cloudsms.store import batches, receipt_watch, reply_routes
from cloudsms.store.messages import MessageModel, log_fields
from cloudsms.store.tenants import TenantModel

GatewayFactory = Callable[[Channel], Gateway]
Now = Callable[[], datetime]
M = TypeVar("M", bound=BaseModel)


def _handover_seconds() -> float:
    """The time one more message may need: its claim, a gateway call that may take the
    gateway timeout twice (requests applies it to connecting and to reading), and its
    record."""
    return 2 * get_settings().gateway_timeout_seconds + 5


class OneOffBatch(BaseModel):
    """A submit-queue message of one-off sends: the UIDs of stored, QUEUED messages."""

    tenant_id: str = Field(min_length=1)
    uids: list[str] = Field(min_length=1)
    throttled: int = 0  # hops in a row the channel's bucket paid for none of them


class MissionRecipient(BaseModel):
    uid: str = Field(min_length=1)
    to: str
    text: str
    encoding: str
    segments: int = Field(ge=1)


class MissionBatch(BaseModel):
    """A submit-queue message of a mission: its rendered recipients."""

    tenant_id: str = Field(min_length=1)
    mission_id: str = Field(min_length=1)
    channel: str
    sms_type: str
    sender: str | None = None
    quiet_hours: bool = False
    order_number: str | None = None  # the prepaid order the mission's SMS came from
    # Whether its messages offer to unsubscribe by reply (absent from queue messages
    # written before replies were taken: those go without reply routes, as they did).
    allow_unsubscribe: bool = False
    # When the mission was dispatched (absent from queue messages written before it was
    # carried: those tell the dispatching log nothing, as before).
    dispatched_at: datetime | None = None
    # When its turn in the channel's pace comes (absent from queue messages of a channel
    # without a limit, and from those written before missions were paced: those go at once).
    not_before: datetime | None = None
    throttled: int = 0  # hops in a row the channel's bucket paid for none of them
    recipients: list[MissionRecipient] = Field(min_length=1)


def submit_queue_message(
    raw: str,
    receive_count: int,
    now: Now,
    gateway_factory: GatewayFactory = gateway_for,
    time_left: TimeLeft = no_deadline,
) -> None:
    """Submits what one submit-queue message carries.

    Raises RetryLater when the queue message must come back (a temporary failure, or a
    claim still within its lease) and Poison when it can never be processed.
    """
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise Poison("the queue message is not JSON") from error
    if not isinstance(body, dict):
        raise Poison("the queue message is not a JSON object")
    if "recipients" in body:
        submit_mission_recipients(body, now, gateway_factory, receive_count, time_left)
        return
    batch = _validated(OneOffBatch, body)
    submit_queued(
        batch.tenant_id,
        batch.uids,
        now,
        gateway_factory,
        receive_count,
        time_left,
        batch.throttled,
    )


def _validated(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise Poison(f"unreadable {model.__name__}: {error.error_count()} problem(s)") from error


@dataclass
class _Pending:
    """A message that may be handed to its gateway, and what carries it on the queue."""

    message: MessageModel
    stored: bool  # False: a mission recipient, written by its claim
    entry: Any  # its UID (one-off) or its recipient (mission)
    # When its number was checked against the blacklists: its acceptance (a one-off), its
    # mission's dispatch; None when not known (queue messages written before it was kept).
    checked_at: datetime | None = None


@dataclass
class _Later:
    """Entries put back on the queue together, after `wait` seconds."""

    wait: float
    entries: list[Any]
    throttled: int = 0  # hops in a row the channel's bucket paid for none of them


@dataclass
class _Progress:
    """What is left of a queue message once every message that could go has gone."""

    receive_count: int
    throttled: int = 0  # as the queue message came
    # > 0: the whole queue message must come back after this many seconds
    retry_after: int = 0
    reasons: list[str] = field(default_factory=list)
    later: list[_Later] = field(default_factory=list)

    def retry(self, seconds: int, reason: str) -> None:
        self.retry_after = max(self.retry_after, seconds)
        self.reasons.append(reason)


def submit_queued(
    tenant_id: str,
    uids: list[str],
    now: Now,
    gateway_factory: GatewayFactory = gateway_for,
    receive_count: int = 1,
    time_left: TimeLeft = no_deadline,
    throttled: int = 0,
) -> None:
    """Submits each still-queued message of a one-off send once."""
    found = {m.uid: m for m in batches.get(MessageModel, [(tenant_id, uid) for uid in uids])}
    progress = _Progress(receive_count, throttled)
    pending = [
        _Pending(found[uid], stored=True, entry=uid, checked_at=found[uid].created_at)
        for uid in uids
        if uid in found and _may_send(found[uid], now(), progress)
    ]
    by_channel: dict[str, list[_Pending]] = {}
    for item in pending:
        by_channel.setdefault(item.message.channel, []).append(item)
    if pending:
        tenant = _tenant_of(tenant_id)  # once for the queue message, its channels alike
        for route_id, items in by_channel.items():
            _send(route_id, items, tenant, now, gateway_factory, progress, time_left=time_left)
    first = next(iter(found.values()), None)
    queue_url = queues.queue_for(first.sms_type, first.mission_id) if first else ""
    _finish(
        progress,
        lambda entries, delay, throttled: queues.enqueue(
            queue_url,
            [_counted({"tenant_id": tenant_id, "uids": entries}, throttled)],
            delay_seconds=delay,
        ),
    )
    missing = len(uids) - len(found)
    if missing:
        raise Poison(f"{missing} message(s) of the queue message do not exist")


# How long a consumer trusts the tenant it read: an operator who disables a tenant (a
# fraud) wants its queued messages stopped within seconds, not the minute a mission at
# 300 a second would send 18,000 more in. One read a consumer and tenant per this long.
TENANT_CACHE_SECONDS = 10


@ttl_cache(TENANT_CACHE_SECONDS)
def _tenant(tenant_id: str) -> TenantModel:
    return TenantModel.get(tenant_id)


def _tenant_of(tenant_id: str) -> TenantModel:
    try:
        return _tenant(tenant_id)
    except DoesNotExist as error:
        raise Poison(f"tenant {tenant_id} does not exist") from error


def submit_mission_recipients(
    body: dict[str, Any],
    now: Now,
    gateway_factory: GatewayFactory = gateway_for,
    receive_count: int = 1,
    time_left: TimeLeft = no_deadline,
) -> None:
    """Writes and submits each recipient of a mission's queue message once."""
    batch = _validated(MissionBatch, body)
    queue_url = queues.queue_for(batch.sms_type, batch.mission_id)
    tenant = _tenant_of(batch.tenant_id)
    # A disabled tenant's messages are refused now (_send), not kept waiting for their
    # turn in the channel's pace, a token or their quiet hours only to be refused then:
    # meanwhile they would hold its order's SMS and its mission would look unfinished.
    stopped = disabled(tenant) is not None
    if not stopped and _not_yet_due(batch, body, queue_url, now()):
        return
    window = sending_window(tenant) if batch.quiet_hours and not stopped else None
    if not stopped and _still_throttled(batch, body, queue_url, now(), window):
        return
    keys = [(batch.tenant_id, r.uid) for r in batch.recipients]
    found = {m.uid: m for m in batches.get(MessageModel, keys)}
    progress = _Progress(receive_count, batch.throttled)
    held: list[tuple[float, MissionRecipient]] = []
    pending = []
    for recipient in batch.recipients:
        message = found.get(recipient.uid)
        if message is not None and not _may_send(message, now(), progress):
            continue
        wait = seconds_until_open(recipient.to, now(), window) if window else 0.0
        if wait > 0:
            held.append((wait, recipient))
        elif message is not None:
            pending.append(_Pending(message, True, recipient, batch.dispatched_at))
        else:
            message = _new_message(batch, recipient, tenant.time_zone, now())
            pending.append(_Pending(message, False, recipient, batch.dispatched_at))
    if held:
        # One hop at a time: whoever is still outside their window is held again.
        progress.later.append(_Later(min(wait for wait, _ in held), [r for _, r in held]))
        logger.info("recipients held for their quiet hours", extra={"count": len(held)})
    if pending:
        new = [p.message.to for p in pending if not p.stored]
        # A paused channel writes only those its tenant may no longer send (_still_allowed,
        # refused before the pause is looked at): it holds the rest.
        writes = not _channel(batch.channel).paused or any(_why_not(tenant, to) for to in new)
        if batch.dispatched_at and new and writes:
            # Before any message is written, so that none is where the log does not look.
            dispatching_log.note_sending(
                batch.tenant_id, batch.mission_id, batch.dispatched_at, now()
            )
        _send(
            batch.channel,
            pending,
            # As read above, not again: a queue message whose tenant was read disabled
            # skipped its waits (the pace, quiet hours) and must not then be sent.
            tenant,
            now,
            gateway_factory,
            progress,
            batch.allow_unsubscribe,
            time_left,
        )
    _finish(
        progress,
        lambda entries, delay, throttled: queues.enqueue(
            queue_url,
            [_counted({**body, "recipients": [r.model_dump() for r in entries]}, throttled)],
            delay_seconds=delay,
        ),
    )


# A mission's queue message this close to its turn goes now: the channel's bucket books
# slots a second ahead, and SQS delays come in whole seconds.
DUE_EARLY_SECONDS = 1.0


def _not_yet_due(batch: MissionBatch, body: dict[str, Any], queue_url: str, now: datetime) -> bool:
    """Puts a queue message that came before its turn in the channel's pace back on the
    queue whole, for the rest of its wait (at most 15 minutes a hop), before anything is
    read, written or taken from the bucket; returns whether it did. A new queue message
    each hop, as a paused channel's, so that a long mission on a slow channel never
    uses up the queue's receive count or retention period. A channel whose limit the
    operator lifted since (throughput 0, read through the channel's cache) paces nothing:
    its mission goes at once."""
    if batch.not_before is None:
        return False
    early = (batch.not_before - now).total_seconds()
    if early <= DUE_EARLY_SECONDS or _channel(batch.channel).throughput <= 0:
        return False
    queues.enqueue(queue_url, [body], delay_seconds=queues.delay_for(early))
    # DEBUG: a large mission on a slow channel hops every 15 minutes for days.
    logger.debug(
        "queue message not yet due: put back on the queue",
        extra={"mission": batch.mission_id, "seconds": round(early)},
    )
    return True


def _still_throttled(
    batch: MissionBatch,
    body: dict[str, Any],
    queue_url: str,
    now: datetime,
    window: tuple[time_of_day, time_of_day] | None,
) -> bool:
    """A mission's queue message on a channel with a limit looks at the channel's bucket
    before reading anything: while the bucket cannot pay for its first message, it goes
    back whole, unread, waiting longer each hop in a row as a throttled one does; returns
    whether it did. Two missions on one channel are each paced at the channel's whole
    rate, so half their queue messages are throttled, hop after hop until their turn, and
    each hop read its hundred messages from the tenant's partition (shared by all the
    tenant's sending) only to find the bucket empty; now such a hop costs one read of the
    bucket's item, as does each queue message that finds tokens (one read a hundred
    messages). One with recipients outside their quiet hours (`window`) is read: they
    are held until their window opens (15-minute hops), not throttled every few seconds
    meanwhile."""
    channel = _channel(batch.channel)
    if channel.paused:
        return False  # held by _send, before the bucket, as any paused channel's messages
    if window and any(seconds_until_open(r.to, now, window) > 0 for r in batch.recipients):
        return False
    urgent = _throttled_at_next_free_slot(batch.throttled)
    wait = throughput.seconds_until_tokens(
        channel, batch.recipients[0].segments, now, urgent=urgent
    )
    if wait <= 0:
        return False
    throttled = batch.throttled + 1
    delay = max(wait, _throttled_backoff(throttled))
    queues.enqueue(queue_url, [_counted(body, throttled)], delay_seconds=queues.delay_for(delay))
    metrics.add_metric(name="MessagesThrottled", unit="Count", value=len(batch.recipients))
    logger.debug(
        "queue message still throttled: put back on the queue unread",
        extra={"mission": batch.mission_id, "seconds": round(delay)},
    )
    return True


def _counted(body: dict[str, Any], throttled: int) -> dict[str, Any]:
    """The body with how many hops in a row the bucket paid for none of its messages."""
    rest = {key: value for key, value in body.items() if key != "throttled"}
    return {**rest, "throttled": throttled} if throttled else rest


def _new_message(
    batch: MissionBatch, recipient: MissionRecipient, time_zone: str, now: datetime
) -> MessageModel:
    expires_at = int(time.time()) + get_settings().message_retention_days * 86400
    return MessageModel(
        tenant_id=batch.tenant_id,
        uid=recipient.uid,
        to=recipient.to,
        text=recipient.text,
        encoding=recipient.encoding,
        segments=recipient.segments,
        sms_type=batch.sms_type,
        channel=batch.channel,
        sender=batch.sender,
        mission_id=batch.mission_id,
        order_number=batch.order_number,
        # The day it goes out, as the dispatching log shows it: the channel's pace or the
        # recipient's quiet hours may take it past midnight after its mission's dispatch.
        dispatch_day=local_day(now, time_zone),
        dr_state=DrState.SUBMITTING.value,
        created_at=now,
        submitted_at=now,
        expires_at=expires_at,
    )


def _may_send(message: MessageModel, now: datetime, progress: _Progress) -> bool:
    """Whether a stored message still waits to be sent. A claim whose lease is over is
    settled as UNKNOWN; one still within it makes the queue message come back after it."""
    if message.dr_state == DrState.QUEUED.value:
        return True
    if message.dr_state != DrState.SUBMITTING.value:
        return False
    lease = timedelta(seconds=get_settings().submit_lease_seconds)
    lease_ends = (message.submitted_at or message.created_at) + lease
    if now < lease_ends:
        progress.retry(
            math.ceil((lease_ends - now).total_seconds()) + 1, "a claim is within its lease"
        )
    elif transitions.settle_unknown(message, now - lease):
        metrics.add_metric(name=f"Messages{DrState.UNKNOWN.value}", unit="Count", value=1)
        logger.warning(
            "claim outlived its lease: submission outcome unknown", extra=log_fields(message)
        )
    return False


def _channel(route_id: str) -> Channel:
    try:
        return get_channel(route_id)
    except NotFound as error:
        raise Poison(f"channel {route_id} does not exist") from error


def _send(
    route_id: str,
    pending: list[_Pending],
    tenant: TenantModel,
    now: Now,
    gateway_factory: GatewayFactory,
    progress: _Progress,
    reply_routes_needed: bool = False,
    time_left: TimeLeft = no_deadline,
) -> None:
    """Hands the messages the channel's bucket pays for to the gateway, in order, while
    the invocation has time for them. `reply_routes_needed`: the messages offer to
    unsubscribe by reply."""
    pending = _still_allowed(pending, tenant)
    if not pending:
        return
    channel = _channel(route_id)
    if channel.paused:
        # Before the bucket and any claim: nothing is spent, watched or written, and each
        # hop is a new queue message, so neither the queue's receive count nor its
        # retention period runs out however long the pause lasts.
        held = [p.entry for p in pending]
        progress.later.append(_Later(float(get_settings().paused_channel_retry_seconds), held))
        metrics.add_metric(name="MessagesPaused", unit="Count", value=len(held))
        logger.info(
            "channel paused: messages held on the queue",
            extra={"channel": route_id, "count": len(held)},
        )
        return
    pending = _not_blacklisted(pending, now())
    if not pending:
        return
    granted_at = now()
    # Single verify codes (the otp queue's; a mission's codes go on the bulk queue) are
    # not held back by a mission's messages taking each token of the channel, nor is a
    # queue message throttled before (_throttled_at_next_free_slot).
    leading = pending[0].message
    code = leading.sms_type == "verify_code" and not leading.mission_id
    urgent = code or _throttled_at_next_free_slot(progress.throttled)
    grant = throughput.take_tokens(
        channel, [int(p.message.segments) for p in pending], granted_at, urgent=urgent
    )
    if grant.messages < len(pending):
        # Put back at the end, so that the wait is counted from when the granted messages
        # were handed over, not before: the channel's next slots are not left idle.
        # A queue message the bucket paid for none of waits longer each hop in a row
        # (verify codes excepted: a code goes at the channel's next free slot, and its
        # user waits for it); one that sent some goes on at the channel's pace.
        throttled = 0 if grant.messages or code else progress.throttled + 1
        wait = max(grant.wait_seconds, _throttled_backoff(throttled))
        try_again_at = granted_at + timedelta(seconds=wait)
        later = [p.entry for p in pending[grant.messages :]]
        metrics.add_metric(name="MessagesThrottled", unit="Count", value=len(later))
    claimable = pending[: grant.messages]
    if claimable:
        # Before any claim: a crash can leave a message watched, never submitted unwatched.
        first = claimable[0].message
        uids = [item.message.uid for item in claimable]
        receipt_watch.watch(first.tenant_id, route_id, uids, now())
        if reply_routes_needed:
            # Before any claim too: a message sent without its route could not be
            # unsubscribed from by reply.
            numbers = [item.message.to for item in claimable]
            reply_routes.record(
                route_id, first.tenant_id, first.mission_id, first.sender, numbers, now()
            )
    gateway = gateway_factory(channel)
    segments_before = 0
    handed_over, previous = 0.0, 0  # the last call to the gateway (epoch s), its segments
    for index, item in enumerate(claimable):
        if time_left() < _handover_seconds():
            # Lambda's timeout would end the invocation mid-message, leaving one claimed
            # and never answered (UNKNOWN) and the rest waiting out the queue's visibility
            # timeout as a failed attempt: they go back on the queue now, unclaimed.
            rest = [p.entry for p in claimable[index:]]
            progress.later.append(_Later(0.0, rest))
            logger.info("out of time: messages put back on the queue", extra={"count": len(rest)})
            break
        # Its slot, and never sooner than one interval per segment after the message before:
        # that one may have gone late (its claim's write took a while), and this one must
        # not crowd into its second.
        slot = max(grant.slot(segments_before), handed_over + previous * grant.interval)
        segments_before += int(item.message.segments)
        previous = int(item.message.segments)
        # Claimed before its slot rather than at it, so that the claim's write does not
        # make the hand-over late.
        if not _claim(item, now()):
            # Claimed by another consumer since it was read, or by this one in a write
            # whose answer was lost. Either way the queue message comes back after the
            # lease, to find the message settled or settle it (_may_send), rather than
            # leave it SUBMITTING until the receipt sweep days later.
            logger.info("message already claimed; skipped", extra={"uid": item.message.uid})
            progress.retry(get_settings().submit_lease_seconds + 1, "a message was claimed")
            continue
        _wait_until(slot, now)
        handed_over = now().timestamp()
        if not _submit(item.message, channel, gateway, now, progress):
            # The gateway is in trouble: the rest wait for the queue message to come back.
            return
    if grant.messages < len(pending):
        wait = max(0.0, (try_again_at - now()).total_seconds())
        progress.later.append(_Later(wait, later, throttled))


# The longest a throttled queue message waits: the channel may be left idle this long
# once the queue messages that kept it busy are done.
THROTTLED_BACKOFF_MAX_SECONDS = 32
# Where a throttled queue message's wait is drawn from; tests put a fixed one here.
spread = random.random


# Hops in a row a queue message may find no token for before its first message goes at
# the channel's next free slot, beyond the bucket's depth, as a verify code's does.
THROTTLED_HOPS_BEFORE_NEXT_FREE_SLOT = 1


def _throttled_at_next_free_slot(throttled: int) -> bool:
    """Whether a queue message throttled `throttled` hops in a row asks the bucket for
    the channel's next free slot rather than a token. A mission's consumer takes each
    token the moment it is back (its queue message comes back at once), so a message
    that comes back for one after whole seconds (another tenant's notice, a smaller
    mission's) found the bucket empty nearly every time, for as long as the mission
    lasted: behind a mission at 2 a second, minutes, or all of it. With the next free
    slot it waits one throttled hop (1 s) and that slot (about a second), and missions
    on one channel take turns. The slot is a real one, one interval after the last
    booked: the channel still gets no more than its throughput in any second, and the
    booking is the take's own write, no request more."""
    return throttled >= THROTTLED_HOPS_BEFORE_NEXT_FREE_SLOT


def _throttled_backoff(throttled: int) -> float:
    """How long a queue message waits after `throttled` hops in a row that the channel's
    bucket paid for none of its messages: about 1, 2, 4 … 32 s. Each wait is drawn
    between half and all of that, so that queue messages throttled together (hundreds,
    when a second mission starts on a busy channel) do not all come back in the same
    second to be throttled together again; never less than half, so that the count
    keeps a queue message from coming back as soon as it went (as a wait drawn from
    zero up could)."""
    if throttled <= 0:
        return 0.0
    longest = backoff_seconds(throttled, 1, THROTTLED_BACKOFF_MAX_SECONDS)
    return longest * (1 + spread()) / 2


def _not_blacklisted(pending: list[_Pending], now: datetime) -> list[_Pending]:
    """The messages whose numbers are still not blacklisted; the others end LOCAL_REJECTED.

    The blacklists were read when the messages were accepted or dispatched, which may be
    hours ago (a channel's pace, quiet hours, a paused channel): the numbers of those
    checked `blacklist_recheck_seconds` ago or more are looked up again, by key for the
    batch, as a one-off send's acceptance does. Those checked moments ago are not: two
    reads a message (half of what the rest of a mission message's handling reads) would
    tell nothing a number blacklisted a moment after its message went would not."""
    cutoff = now - timedelta(seconds=get_settings().blacklist_recheck_seconds)
    stale = [item for item in pending if item.checked_at is None or item.checked_at <= cutoff]
    if not stale:
        return pending
    tenant_id = pending[0].message.tenant_id
    listed = blacklist.listed(tenant_id, [item.message.to for item in stale])
    if not listed:
        return pending
    refused = sum(_refuse(item, blacklist.LISTED) for item in pending if item.message.to in listed)
    logger.info("numbers blacklisted since queued: not sent", extra={"count": refused})
    return [item for item in pending if item.message.to not in listed]


def _still_allowed(pending: list[_Pending], tenant: TenantModel) -> list[_Pending]:
    """The messages their tenant may still send; the others end LOCAL_REJECTED with the
    reason their acceptance would have been refused with, and their SMS go back to their
    order.

    The tenant was looked at when the messages were accepted or their mission dispatched,
    which may be hours ago (a channel's pace, quiet hours, a paused channel): an operator
    who disables a tenant (a fraud, an unpaid bill) or takes a country off its list (SMS
    pumping) means it to stop now, not once the queue has drained. The tenant is read
    once a queue message, through its cache (TENANT_CACHE_SECONDS), which sending a
    mission's messages reads already: it holds within seconds, for no request per
    message."""
    refused: dict[str, int] = {}
    allowed = []
    for item in pending:
        reason = _why_not(tenant, item.message.to)
        if reason is None:
            allowed.append(item)
        elif _refuse(item, reason):
            refused[reason] = refused.get(reason, 0) + 1
    for reason, count in refused.items():
        logger.info(
            "messages the tenant may no longer send: not sent",
            extra={"reason": reason, "count": count},
        )
    return allowed


def _why_not(tenant: TenantModel, to: str) -> str | None:
    """Why the tenant may no longer send to the number, or None when it may."""
    return disabled(tenant) or phone.not_allowed(to, tenant.countries)


def _refuse(item: _Pending, reason: str) -> bool:
    """Ends a message LOCAL_REJECTED, never sent; False when another consumer took it."""
    if item.stored:
        return transitions.refuse_queued(item.message, reason)
    return transitions.create_refused(item.message, reason)


# How a consumer waits for a message's sending slot; tests put a fake clock's here.
pause = time.sleep


def _wait_until(slot: float, now: Now) -> None:
    """Waits for a sending slot (at most the bucket's burst setting, a second)."""
    delay = slot - now().timestamp()
    if delay > 0:
        pause(delay)


def _claim(item: _Pending, now: datetime) -> bool:
    if item.stored:
        return transitions.claim(item.message, now)
    item.message.submitted_at = now
    return transitions.create_claimed(item.message)


def _submit(
    message: MessageModel, channel: Channel, gateway: Gateway, now: Now, progress: _Progress
) -> bool:
    """Submits a claimed message; False when the gateway should not be called again now."""
    settings = get_settings()
    try:
        result = gateway.submit(_submission(message, channel))
    except Exception:
        # The request may have reached the gateway: the claim stays, and its lease decides.
        logger.exception("gateway call failed; outcome unknown", extra=log_fields(message))
        progress.retry(settings.submit_lease_seconds + 1, "a gateway call failed")
        return False
    if result.accepted:
        _record_submitted(message, result)
    elif result.temporary:
        transitions.release(message, result.reason or "temporary failure")
        # The operator's to mend (an outage, the channel's credentials): the queue
        # message's own retry line names neither the channel nor the message.
        logger.warning(
            "gateway could not take the message; it is tried again",
            extra={**log_fields(message), "reason": result.reason},
        )
        wait = backoff_seconds(
            progress.receive_count,
            settings.submit_retry_base_seconds,
            settings.submit_retry_max_seconds,
        )
        progress.retry(wait, result.reason or "temporary gateway failure")
        return False
    else:
        _record_refused(message, result)
    return True


def _finish(progress: _Progress, carry: Callable[[list[Any], int, int], Any]) -> None:
    """Either the queue message comes back whole, or what waits goes back on the queue."""
    if progress.retry_after:
        raise RetryLater(progress.retry_after, "; ".join(progress.reasons))
    for later in progress.later:
        carry(later.entries, queues.delay_for(later.wait), later.throttled)


def _submission(message: MessageModel, channel: Channel) -> Submission:
    return Submission(
        uid=message.uid,
        tenant_id=message.tenant_id,
        to=message.to,
        text=message.text,
        encoding=message.encoding,
        segments=int(message.segments),
        sender=message.sender or channel.default_sender,
        receipt_url=receipt_url(
            channel, message.tenant_id, message.uid, int(message.resubmissions or 0)
        ),
    )


def _record_submitted(message: MessageModel, result: SubmitResult) -> None:
    # An accepting gateway always names its message id (ours, for Kannel).
    carrier_id = result.carrier_message_id
    assert carrier_id is not None
    carrier_fields = [
        # submitted_at stays the claim's: the moment the gateway was called.
        MessageModel.carrier_message_id.set(carrier_id),
    ]
    if carrier_id != message.uid:
        # Only a receipt naming the gateway's own id needs the index to find the message.
        carrier_fields.append(MessageModel.carrier_ref.set(f"{message.channel}#{carrier_id}"))
    price = MessageModel.cost.set(message_cost(message.channel, message.to, int(message.segments)))
    moved = transitions.write(
        message,
        [*carrier_fields, price, MessageModel.dr_state.set(DrState.SUBMITTED.value)],
        MessageModel.dr_state == DrState.SUBMITTING.value,
    )
    if not moved:
        # A fast receipt already moved the message on: keep its state, record the submit,
        # and its price unless the receipt said the SMSC refused it (that costs nothing).
        not_refused = MessageModel.dr_state != DrState.SUBMIT_FAILED.value
        if not transitions.write(message, [*carrier_fields, price], not_refused):
            transitions.write(message, carrier_fields, None)
    logger.debug("submitted", extra={**log_fields(message), "to": phone.mask(message.to)})


def _record_refused(message: MessageModel, result: SubmitResult) -> None:
    transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.SUBMIT_FAILED.value),
            MessageModel.reason.set(result.reason or "refused by the gateway"),
        ],
        MessageModel.dr_state == DrState.SUBMITTING.value,
    )
    metrics.add_metric(name=f"Messages{DrState.SUBMIT_FAILED.value}", unit="Count", value=1)
    logger.warning(
        "gateway refused the message", extra={**log_fields(message), "reason": result.reason}
    )
