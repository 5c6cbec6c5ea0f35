"""Recording delivery receipts: authenticate, parse, find the message, move it forward.

- A receipt is authenticated by its channel's receipt secret (in the receipt URL's query);
  a wrong or missing one is refused before anything is read or written.
- It is parsed the way its channel's gateway writes receipts: Kannel's dlr-url query (the
  simulator's too), Jasmin's form, the channel's JSON mapping, or raw SMPP receipt text.
- The message is found by our uid and tenant when the receipt URL carries them (it does
  for every message we send), else by the carrier's message id. A message sent through
  another channel is not found: one channel's secret cannot move another's messages.
- A receipt that matches no message is kept (see store/unmatched_receipts.py) and
  retried by the hourly sweep, since it may have overtaken the record of its submission.
- A state only moves forward, by a conditional write, so duplicated and reordered receipts
  change it once (and the counters, kept from the table's stream, count it once). The
  common receipt is that one write, without reading the message first.
- A receipt saying the SMSC itself refused the message when it was submitted (Kannel's
  `NACK/…`, Jasmin's level-1 `ESME_…` status) means it never reached the network. A
  refusal for a while (throttled, queue full) sends it back on its submit queue with the
  submit backoff, at most `smsc_refusal_resubmissions` times; not a long message, whose
  other parts may have reached the handset (sending it again would deliver them twice:
  the refusal stands, and its reason says so). A refusal that stands ends
  it SUBMIT_FAILED with the SMSC's reason, as a gateway's refusal of the submission does:
  no carrier took it, so it costs nothing and its prepaid SMS go back (the counters).
  A handset's failure (absent subscriber and the like) is final, and billed: the carrier
  took the message, and has retried already.
- A long message on a channel that reports each part (Kannel) is DELIVRD only when every
  part is: each part's id is added to a set on the message, and the move to DELIVRD is
  conditional on the set holding as many parts as the message has segments. A failed part
  fails the message at once.
"""

import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition, size

from cloudsms.adapters import queues
from cloudsms.answers import first_page_total, first_page_total_exact
from cloudsms.carriers.base import Receipt
from cloudsms.carriers.http_json import receipt_from_json
from cloudsms.carriers.receipts import (
    classify_error,
    receipt_from_jasmin,
    receipt_from_kannel,
    receipt_from_smpp_text,
)
from cloudsms.domain.states import DrState, can_move, is_final, states_below
from cloudsms.errors import BadRequest, NotFound, Unauthorized
from cloudsms.ids import new_time_ordered_id
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.channels import Channel, get_channel, get_channel_now
from cloudsms.services.pages import counted, decode_last_key, encode_cursor, first_page, one_page
from cloudsms.services.redelivery import backoff_seconds
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel, log_fields
from cloudsms.store.unmatched_receipts import UnmatchedReceiptModel

MOVED, PART, IGNORED, UNMATCHED = "moved", "part", "ignored", "unmatched"
RESUBMITTED = "resubmitted"
# Where a message may be when the SMSC's refusal sends it back to its queue: SUBMITTING
# too, as the refusal can overtake the record of the gateway's answer.
_HANDED_OVER = [
    DrState.SUBMITTING.value,
    DrState.SUBMITTED.value,
    DrState.ENROUTE.value,
    DrState.ACCEPTD.value,
]
# Jasmin sends a receipt again unless it is answered with exactly this.
JASMIN_ACK = "ACK/Jasmin"
# Names in the receipt URL's query that are ours, not the gateway's.
_OUR_QUERY = frozenset({"secret", "tenant", "uid", "try"})
_NOT_FINAL = [s.value for s in DrState if not is_final(s)]
_MAX_RAW = 4000


WRONG_SECRET = "the receipt secret is missing or wrong"


def record_receipt(
    route_id: str, params: Mapping[str, str], now: datetime, body: Any = None
) -> str:
    """Applies one receipt; returns what happened: "moved", "part" (a part of a long
    message was delivered, not yet all), "ignored" or "unmatched".

    `params` are the query and any form fields; `body` a JSON document or raw text.
    """
    channel = authenticated_channel(route_id, params.get("secret"), now)
    receipt = _parse(channel, params, body)
    tenant_id = params.get("tenant") or None
    # The common receipt in one write; an SMSC's refusal reads the message first.
    if (
        tenant_id
        and receipt.uid
        and not smsc_refused(receipt)
        and _moved_at_once(channel, tenant_id, receipt, now)
    ):
        return MOVED
    message = _find(channel, tenant_id, receipt)
    if message is None:
        _keep_unmatched(channel, tenant_id, receipt, now)
        return UNMATCHED
    given = params.get("try", "")
    # ASCII digits, and a few: "²" is a digit to isdigit() yet no number to int(), nor
    # are 5,000 digits; either raised, and the gateway got a 502 for its receipt.
    hand_over = int(given) if given.isascii() and given.isdigit() and len(given) < 10 else 0
    return apply_receipt(channel, message, receipt, now, hand_over=hand_over)


def authenticated_channel(route_id: str, secret: str | None, now: datetime) -> Channel:
    """The channel whose receipt secret the caller of its receipt URL (or reply URL)
    gave; Unauthorized for a wrong or missing secret, or a route that does not exist."""
    try:
        channel = get_channel(route_id)
    except NotFound:
        # The same answer as a wrong secret: the receipt URL is public, and must not tell
        # anyone which route ids exist.
        raise Unauthorized(WRONG_SECRET) from None
    if not channel.accepts_receipt_secret(secret, now):
        # The secret may have changed within the channel cache's seconds, and a submit
        # function that read the new one may have sent the message with it already, and a
        # gateway tries a receipt a few times at most: the channel is read again first.
        channel = get_channel_now(route_id)
        if not channel.accepts_receipt_secret(secret, now):
            raise Unauthorized(WRONG_SECRET)
    return channel


def _moved_at_once(channel: Channel, tenant_id: str, receipt: Receipt, now: datetime) -> bool:
    """The common receipt in one conditional write, without reading the message first:
    its URL names our uid, the message went through this channel, and the receipt moves
    it forward (the parts of a long message are counted on the way that reads it).

    False, and nothing changed, when any of that does not hold: the receipt then takes
    the way that reads the message and tells why.
    """
    condition = MessageModel.channel == channel.route_id
    if receipt.state == DrState.DELIVRD and channel.receipts_per_part:
        condition &= MessageModel.segments == 1
    return _apply(channel, MessageModel(tenant_id, receipt.uid), receipt, now, also=condition)


def acknowledgement(route_id: str, outcome: str) -> str:
    """What the webhook answers the gateway: Jasmin needs its own words."""
    return JASMIN_ACK if get_channel(route_id).gateway_type == "jasmin" else outcome


def apply_receipt(
    channel: Channel,
    message: MessageModel,
    receipt: Receipt,
    now: datetime,
    resubmit: bool = True,
    hand_over: int | None = None,
) -> str:
    """Moves the message as the receipt says. `resubmit`: whether an SMSC's passing
    refusal sends the message back to its queue (not for receipts reconciled later);
    `hand_over`: which hand-over of the message the receipt is about, when it says."""
    if message.dr_state == DrState.QUEUED.value:
        # On its queue, waiting for a hand-over of its own: the receipt is about an earlier
        # one, which the SMSC refused (a receipt of it reordered behind the refusal).
        logger.debug("receipt for a message on its queue", extra={"uid": message.uid})
        return IGNORED
    if not can_move(DrState(message.dr_state), receipt.state):
        # Routine (duplicates, and Kannel's SMSC acknowledgement arriving after the
        # handset's receipt): not worth a log line a message.
        logger.debug(
            "receipt does not move the message",
            extra={"uid": message.uid, "current": message.dr_state, "receipt": receipt.state},
        )
        return IGNORED
    if smsc_refused_for_a_while(receipt):
        if _refusal_acted_on(message, hand_over):
            return IGNORED
        if message.segments > 1:
            # Which parts the SMSC took is not known (Kannel reports one refusal for the
            # whole message): at most once to the handset outweighs one more try.
            code = receipt.error_code or ""
            reason = (
                f"the SMSC refused part of it ({code}); not sent again, "
                "as its other parts may have been delivered"
            )
            return MOVED if _refuse(message, receipt, now, reason) else IGNORED
        if resubmit:
            outcome = _resubmit(message, receipt)
            if outcome is not None:
                return outcome
    if smsc_refused(receipt):
        # The refusal stands: the message will not be tried again.
        return MOVED if _refuse(message, receipt, now) else IGNORED
    if receipt.state == DrState.DELIVRD and channel.receipts_per_part and message.segments > 1:
        return _deliver_part(channel, message, receipt, now)
    return MOVED if _apply(channel, message, receipt, now) else IGNORED


def smsc_refused(receipt: Receipt) -> bool:
    """Whether the SMSC itself refused the message when it was submitted (Kannel's
    `NACK/<status>/<text>`, Jasmin's level-1 `ESME_…`): it never reached the network."""
    code = (receipt.error_code or "").strip()
    return receipt.state in (DrState.REJECTD, DrState.UNDELIV) and code.upper().startswith(
        ("NACK/", "ESME_")
    )


def smsc_refused_for_a_while(receipt: Receipt) -> bool:
    """Whether the SMSC itself refused the message with a status that passes: throttled,
    queue full, system error."""
    return smsc_refused(receipt) and classify_error(receipt.error_code) == "temporary"


def _refuse(
    message: MessageModel, receipt: Receipt, now: datetime, reason: str | None = None
) -> bool:
    """Ends a message the SMSC refused for good SUBMIT_FAILED, as a gateway's refusal of
    the submission ends it: the refusal only came later, in a receipt. No carrier took
    it, so it costs nothing; the counters take its submission back and give its prepaid
    SMS back, once, since only one write can move it out of a state that is not final."""
    code = receipt.error_code or ""
    reason = reason or f"the SMSC refused it ({code})"
    refused = transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.SUBMIT_FAILED.value),
            MessageModel.receipt_at.set(now),
            MessageModel.error_code.set(code),
            MessageModel.reason.set(reason),
            MessageModel.cost.set(0),
        ],
        MessageModel.dr_state.is_in(*_NOT_FINAL),
    )
    if refused:
        # Counted with the gateways' refusals: a Kannel answers 202 to nearly anything, and
        # its SMSC refusing every message (a sender withdrawn, an account out of credit)
        # shows only here, for SubmissionsRefusedAlarm to see.
        metrics.add_metric(name=f"Messages{DrState.SUBMIT_FAILED.value}", unit="Count", value=1)
        logger.warning(
            "the SMSC refused the message",
            extra={**log_fields(message), "reason": reason},
        )
    return refused


def _refusal_acted_on(message: MessageModel, hand_over: int | None) -> bool:
    """Whether a passing refusal is one the platform has acted on already: the message is
    on its way again, or the refusal is about an earlier hand-over (a late duplicate).

    A message claimed again (SUBMITTING) after a resubmission names its new hand-over in
    its receipt URL, so a refusal naming the current one while it is SUBMITTING came
    before the gateway's answer was recorded (Kannel answers before the SMSC refuses, and
    a fast SMSC's refusal can overtake the write): ignoring it would leave the message
    SUBMITTED, billed and never sent."""
    if message.dr_state == DrState.QUEUED.value:
        return True
    if hand_over is None:
        return message.dr_state == DrState.SUBMITTING.value
    return hand_over != int(message.resubmissions or 0)


def _resubmit(message: MessageModel, receipt: Receipt) -> str | None:
    """Puts a message the SMSC refused for a while back on its submit queue: RESUBMITTED,
    or IGNORED when a concurrent receipt moved it first; None when it has been handed
    over again often enough (the refusal then stands)."""
    settings = get_settings()
    done = int(message.resubmissions or 0)
    if done >= settings.smsc_refusal_resubmissions:
        return None
    delay = backoff_seconds(
        done + 1, settings.submit_retry_base_seconds, settings.submit_retry_max_seconds
    )
    # Queued before it is moved: a queue message that finds it not QUEUED skips it, and
    # a receipt answered with an error comes again and does both again.
    queues.enqueue(
        queues.queue_for(message.sms_type, message.mission_id),
        [{"tenant_id": message.tenant_id, "uids": [message.uid]}],
        delay_seconds=delay,
    )
    code = receipt.error_code or ""
    moved = transitions.write(
        message,
        [
            MessageModel.dr_state.set(DrState.QUEUED.value),
            MessageModel.resubmissions.set(done + 1),
            MessageModel.error_code.set(code),
            MessageModel.reason.set(f"the SMSC refused it for a while ({code}): sent again"),
        ],
        MessageModel.dr_state.is_in(*_HANDED_OVER),
    )
    if moved:
        logger.info(
            "SMSC refused the message for a while; it goes back on its queue",
            extra={"uid": message.uid, "error_code": code, "delay": delay},
        )
        metrics.add_metric(name="MessagesResubmitted", unit="Count", value=1)
        return RESUBMITTED
    # A concurrent receipt moved it first (the same refusal again, or a later state).
    return IGNORED


def _parse(channel: Channel, params: Mapping[str, str], body: Any) -> Receipt:
    uid = params.get("uid") or None
    try:
        if isinstance(body, str):
            return replace(receipt_from_smpp_text(body), uid=uid)
        if channel.gateway_type == "jasmin":
            return receipt_from_jasmin(params)
        if channel.gateway_type == "http_json" and channel.http_json is not None:
            # a hub may post its receipt as JSON, or as a form or query like Kannel's
            document = body if body is not None else _theirs(params)
            return receipt_from_json(document, channel.http_json.receipt, uid)
        return receipt_from_kannel(params)
    except ValueError as error:
        raise BadRequest(f"unreadable receipt: {error}") from error


def _theirs(params: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in params.items() if name not in _OUR_QUERY}


def _find(channel: Channel, tenant_id: str | None, receipt: Receipt) -> MessageModel | None:
    message = None
    if tenant_id and receipt.uid:
        try:
            message = MessageModel.get(tenant_id, receipt.uid)
        except DoesNotExist:
            message = None
    if message is None and receipt.carrier_message_id:
        message = _by_carrier_ref(channel.route_id, receipt.carrier_message_id)
    if message is not None and message.channel != channel.route_id:
        logger.warning(
            "receipt names a message of another channel",
            extra={"route": channel.route_id, "uid": message.uid},
        )
        return None
    return message


def _by_carrier_ref(route_id: str, carrier_message_id: str) -> MessageModel | None:
    for hit in MessageModel.by_carrier_ref.query(f"{route_id}#{carrier_message_id}", limit=1):
        try:
            return MessageModel.get(hit.tenant_id, hit.uid)
        except DoesNotExist:
            return None
    return None


def _apply(
    channel: Channel,
    message: MessageModel,
    receipt: Receipt,
    now: datetime,
    also: Condition | None = None,
) -> bool:
    actions = [
        MessageModel.dr_state.set(receipt.state.value),
        MessageModel.receipt_at.set(now),
    ]
    if receipt.error_code:
        actions.append(MessageModel.error_code.set(receipt.error_code))
        # The raw code is kept; what it means, when the operator wrote it down for the
        # channel, is the failed message's reason.
        meaning = channel.error_reason(receipt.error_code)
        if meaning and is_final(receipt.state) and receipt.state != DrState.DELIVRD:
            actions.append(MessageModel.reason.set(f"{meaning} (error {receipt.error_code})"))
    # The condition is on where the message may come from, not on what we read, so
    # a concurrent forward move only loses when it already went at least as far. Never
    # from QUEUED: a message on its queue has not been handed over since the receipt's
    # hand-over was refused, and moving it would have its queue message skip it.
    handed_over = [s.value for s in states_below(receipt.state) if s != DrState.QUEUED]
    condition = MessageModel.dr_state.is_in(*handed_over)
    if also is not None:
        condition &= also
    # Delivery metrics come from the counters, summed per batch of changes.
    return transitions.write(message, actions, condition)


def _deliver_part(channel: Channel, message: MessageModel, receipt: Receipt, now: datetime) -> str:
    """Counts one delivered part of a long message; the last part delivers the message.

    Parts are told apart by the gateway's id of each part (Kannel's %F): a duplicated
    receipt adds the same id again, which changes nothing.
    """
    part = receipt.carrier_message_id or receipt.extra.get("id")
    if not part:
        # nothing tells this part from another: read it as the whole message's receipt
        return MOVED if _apply(channel, message, receipt, now) else IGNORED
    try:
        message.update(
            actions=[MessageModel.delivered_parts.add({part})],
            condition=MessageModel.dr_state.is_in(*_NOT_FINAL),
        )
    except UpdateError as error:
        if lost_a_race(error):
            return IGNORED  # the message became final meanwhile
        raise
    if len(message.delivered_parts or ()) < message.segments:
        logger.debug("a part of a long message delivered", extra={"uid": message.uid})
        return PART
    every_part = size(MessageModel.delivered_parts) >= int(message.segments)
    return MOVED if _apply(channel, message, receipt, now, also=every_part) else IGNORED


def _keep_unmatched(
    channel: Channel, tenant_id: str | None, receipt: Receipt, now: datetime
) -> None:
    retention = get_settings().unmatched_receipt_retention_days * 86400
    UnmatchedReceiptModel(
        route_id=channel.route_id,
        receipt_id=new_time_ordered_id(),
        carrier_message_id=receipt.carrier_message_id,
        uid=receipt.uid,
        tenant_id=tenant_id,
        state=receipt.state.value,
        error_code=receipt.error_code,
        raw=receipt.raw[:_MAX_RAW] or None,
        received_at=now,
        expires_at=int(time.time()) + retention,
    ).save()
    logger.warning("receipt for an unknown message kept", extra={"route": channel.route_id})
    metrics.add_metric(name="ReceiptsUnmatched", unit="Count", value=1)


# --- reading and reconciling unmatched receipts --------------------------------------------


class UnmatchedReceipt(BaseModel):
    """A receipt that matched no message when it came (the operator's)."""

    route_id: str
    receipt_id: str
    carrier_message_id: str | None
    uid: str | None = Field(description="The uid the receipt named, if any")
    tenant_id: str | None
    dr_state: DrState
    error_code: str | None
    raw: str | None = Field(description="The receipt as the gateway sent it")
    received_at: datetime
    reconciled_at: datetime | None = Field(description="When its message was found later")
    reconciled_uid: str | None


class UnmatchedReceipts(BaseModel):
    """GET /v1/admin/receipts/unmatched"""

    receipts: list[UnmatchedReceipt]
    next_cursor: str | None
    total: int = first_page_total()
    total_exact: bool = first_page_total_exact()


def unmatched_view(item: UnmatchedReceiptModel) -> dict[str, Any]:
    return {
        "route_id": item.route_id,
        "receipt_id": item.receipt_id,
        "carrier_message_id": item.carrier_message_id,
        "uid": item.uid,
        "tenant_id": item.tenant_id,
        "dr_state": item.state,
        "error_code": item.error_code,
        "raw": item.raw,
        "received_at": item.received_at.isoformat(),
        "reconciled_at": item.reconciled_at.isoformat() if item.reconciled_at else None,
        "reconciled_uid": item.reconciled_uid,
    }


def list_unmatched(route_id: str | None, size: int, cursor: str | None) -> dict[str, Any]:
    """A route's unmatched receipts, or every route's, newest first."""
    keys = ["route_id", "receipt_id"]
    if route_id:
        start = decode_last_key(cursor, ("route_id", route_id), ("receipt_id",))
        query = UnmatchedReceiptModel.query(
            route_id, scan_index_forward=False, limit=size + 1, last_evaluated_key=start
        )
        page, next_cursor = one_page(query, size, ("route_id", "receipt_id"))
        every = UnmatchedReceiptModel.query(route_id, attributes_to_get=keys)
    else:
        page, last_key = _every_route_newest_first(size, cursor)
        next_cursor = encode_cursor(last_key)
        # Counted by a scan of a table that TTL keeps small.
        every = UnmatchedReceiptModel.scan(attributes_to_get=keys)
    receipts = [unmatched_view(item) for item in page]
    answer = {"receipts": receipts, "next_cursor": next_cursor}
    return first_page(answer, cursor, lambda: counted(every))


def _every_route_newest_first(
    size: int, cursor: str | None
) -> tuple[list[UnmatchedReceiptModel], dict[str, Any] | None]:
    """A page of every route's unmatched receipts, newest first, and the key of its last.

    A scan would give them in no order; instead each route's newest after the last page's
    end are read and merged (a platform has a few routes; receipt ids are time-ordered
    across them). Two routes' receipts of the same id are ordered by route, so none is
    skipped or shown twice."""
    last = decode_last_key(cursor, None, ("route_id", "receipt_id"))
    end = (last["receipt_id"]["S"], last["route_id"]["S"]) if last else None
    found: list[UnmatchedReceiptModel] = []
    for channel in ChannelModel.scan(attributes_to_get=["route_id"]):
        condition = UnmatchedReceiptModel.receipt_id <= end[0] if end else None
        # A page and one more tells whether there is more; and one more again, as the
        # receipt the last page ended at is read too (its id is the condition's bound).
        newest = UnmatchedReceiptModel.query(
            channel.route_id, condition, scan_index_forward=False, limit=size + 2
        )
        found.extend(item for item in newest if end is None or _order(item) < end)
    found.sort(key=_order, reverse=True)
    page = found[:size]
    if len(found) <= size:
        return page, None
    return page, {"route_id": {"S": page[-1].route_id}, "receipt_id": {"S": page[-1].receipt_id}}


def _order(item: UnmatchedReceiptModel) -> tuple[str, str]:
    return item.receipt_id, item.route_id


def reconcile_unmatched(route_id: str, now: datetime, since: datetime) -> int:
    """Applies a route's unmatched receipts since `since` whose message can now be
    found; returns how many were reconciled."""
    channel = get_channel(route_id)
    lower = f"{int(since.timestamp() * 1000):012X}"
    reconciled = 0
    for item in UnmatchedReceiptModel.query(
        route_id,
        UnmatchedReceiptModel.receipt_id > lower,
        filter_condition=UnmatchedReceiptModel.reconciled_at.does_not_exist(),
    ):
        receipt = Receipt(
            state=DrState(item.state),
            uid=item.uid,
            carrier_message_id=item.carrier_message_id,
            error_code=item.error_code,
            raw=item.raw or "",
        )
        message = _find(channel, item.tenant_id, receipt)
        if message is None:
            continue
        # Hours late, a passing refusal is not worth sending again for: it stands.
        apply_receipt(channel, message, receipt, item.received_at, resubmit=False)
        try:
            item.update(
                actions=[
                    UnmatchedReceiptModel.reconciled_at.set(now),
                    UnmatchedReceiptModel.reconciled_uid.set(message.uid),
                ],
                condition=UnmatchedReceiptModel.reconciled_at.does_not_exist(),
            )
        except UpdateError as error:
            if not lost_a_race(error):
                raise
            continue  # another sweep reconciled it first; applying twice changed nothing
        reconciled += 1
    return reconciled


def receipt_window(now: datetime) -> datetime:
    """How far back a receipt may still find its message: the receipt timeout."""
    return now - timedelta(hours=get_settings().receipt_timeout_hours)
