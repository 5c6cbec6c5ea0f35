"""The operator's view of the dead-letter queues, and sending their messages back.

A queue message lands in its dead-letter queue after its last attempt: a mission's
recipients while a gateway was down longer than the bulk queue's retries, verify codes
after a minute, callback events after hours of a receiver failing, exports after three
attempts. Its messages keep their state (and a mission's recipients their charge) until
the operator sends it back to its queue, once the cause is fixed; the delivery guarantee
makes that safe, as nothing already handed to a gateway is sent again.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import DoesNotExist

from cloudsms import clock
from cloudsms.adapters import queues
from cloudsms.domain.states import DrState
from cloudsms.errors import BadRequest
from cloudsms.services import dispatch, submission, uploads
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.channels import ChannelModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.tenants import TenantModel

# The queues that have a dead-letter queue, by the name the operator gives them, and
# the setting that holds each one's URL.
QUEUES = {
    "otp": "otp_queue_url",
    "bulk": "bulk_queue_url",
    "callback": "callback_queue_url",
    "export": "export_queue_url",
}


# Dead-letter queues of asynchronous invocations, not of queues: each message is an
# event (a scheduled firing naming its mission, an upload's S3 event), and there is no
# queue to send it back to.
SCHEDULE = "schedule"
INGEST = "ingest"
EVENTS = {SCHEDULE: "schedule_dead_letter_arn", INGEST: "ingest_dead_letter_arn"}
# A firing is hidden this long while its mission is settled: dispatching a large mission
# takes minutes, as its firing may (the schedule function's timeout).
SETTLE_VISIBILITY_SECONDS = 900


def _url(queue: str) -> str:
    return str(getattr(get_settings(), QUEUES[queue]))


def overview() -> list[dict[str, Any]]:
    """How many messages wait in each queue's dead-letter queue, and in the scheduler's
    (firings of scheduled missions that failed every retry: no queue to send them back
    to; each names its mission, which the schedule function's log explains)."""
    counts = [
        {"queue": name, "dead_letters": queues.waiting(queues.dead_letter_queue_url(_url(name)))}
        for name in QUEUES
    ]
    for name in EVENTS:
        counts.append({"queue": name, "dead_letters": queues.waiting(_events_url(name))})
    return counts


def _events_url(name: str) -> str:
    return queues.url_of(str(getattr(get_settings(), EVENTS[name])))


def redrive(
    queue: str,
    limit: int | None = None,
    now: datetime | None = None,
    drop_poison: bool = False,
) -> dict[str, Any]:
    """Sends what waits in the queue's dead-letter queue back to the queue; for the
    scheduler's, settles each failed firing's mission (`settle_failed_firings`).
    `drop_poison`: a submit queue's messages that can never be sent (`poison`) are
    deleted rather than moved, to fail again."""
    if queue not in (*QUEUES, *EVENTS):
        raise BadRequest(f"no queue {queue!r}: one of {', '.join((*QUEUES, *EVENTS))}")
    if limit is not None and limit < 1:
        raise BadRequest("--max must be at least 1")
    if drop_poison and queue not in SUBMIT_QUEUES:
        raise BadRequest(f"--drop-poison is for {' and '.join(SUBMIT_QUEUES)} only")
    if queue == SCHEDULE:
        return settle_failed_firings(now or clock.now(), limit)
    if queue == INGEST:
        return ingest_failed_uploads(limit)
    url = _url(queue)
    drop = (lambda body: poison(body) is not None) if drop_poison else None
    moved, dropped = queues.move(queues.dead_letter_queue_url(url), url, limit, drop)
    return {"queue": queue, "moved": moved} | ({"dropped": dropped} if drop_poison else {})


# The submit queues: their messages are checked for what makes them poison.
SUBMIT_QUEUES = ("otp", "bulk")
# How many waiting messages `contents` shows by default.
SHOWN = 100


def contents(queue: str, limit: int | None = None) -> dict[str, Any]:
    """What waits in a queue's dead-letter queue, each message left there: its SQS id
    (the consumer's error log names it, with the reason it failed), when it was first
    queued, its tenant and mission, and for a submit queue how many messages it carries,
    how many of them still wait to be sent, and what makes it poison (None: it failed
    every attempt for a while, a gateway outage say, and a redrive sends them)."""
    if queue not in QUEUES:
        raise BadRequest(f"no queue {queue!r}: one of {', '.join(QUEUES)}")
    if limit is not None and limit < 1:
        raise BadRequest("--max must be at least 1")
    url = queues.dead_letter_queue_url(_url(queue))
    shown = []
    for message in queues.look(url, limit or SHOWN):
        body = _json_object(message["body"]) or {}
        entry = {
            "message_id": message["message_id"],
            "queued_at": datetime.fromtimestamp(message["sent_ms"] / 1000, UTC).isoformat(),
            "tenant_id": body.get("tenant_id"),
            "mission_id": body.get("mission_id"),
        }
        if queue in SUBMIT_QUEUES:
            entry |= _diagnosis(message["body"])
        shown.append(entry)
    return {"queue": queue, "waiting": queues.waiting(url), "shown": shown}


def _json_object(raw: str) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def poison(raw: str) -> str | None:
    """Why a submit-queue message can never send anything; None when it can."""
    return _diagnosis(raw)["poison"]


def _diagnosis(raw: str) -> dict[str, Any]:
    """A submit-queue message's messages, those of them that still wait to be sent (still
    QUEUED or claimed, or a mission recipient not written yet), and why it can never
    send anything, as the submit consumer would find (None when it can: whatever made it
    fail every attempt may be mended)."""
    body = _json_object(raw)
    if body is None:
        return {"messages": 0, "waiting": 0, "poison": "not a JSON object"}
    try:
        batch: submission.MissionBatch | submission.OneOffBatch
        if "recipients" in body:
            batch = submission.MissionBatch.model_validate(body)
            uids = [recipient.uid for recipient in batch.recipients]
        else:
            batch = submission.OneOffBatch.model_validate(body)
            uids = batch.uids
    except ValidationError as error:
        unreadable = f"not a submit message: {error.error_count()} problem(s)"
        return {"messages": 0, "waiting": 0, "poison": unreadable}
    keys = [(batch.tenant_id, uid) for uid in uids]
    stored = {m.uid: m.dr_state for m in batches.get(MessageModel, keys)}
    unsent = (DrState.QUEUED.value, DrState.SUBMITTING.value)
    # A mission's recipient is written when it is claimed; a one-off message when sent.
    mission = isinstance(batch, submission.MissionBatch)
    waiting = sum(1 for uid in uids if stored.get(uid) in unsent or (mission and uid not in stored))
    problem: str | None = None
    if not _exists(TenantModel, batch.tenant_id):
        problem = f"tenant {batch.tenant_id} does not exist"
    elif isinstance(batch, submission.MissionBatch) and not _exists(ChannelModel, batch.channel):
        problem = f"channel {batch.channel} does not exist"
    elif not waiting:
        problem = f"none of its {len(uids)} message(s) waits to be sent"
    return {"messages": len(uids), "waiting": waiting, "poison": problem}


def _exists(model: Any, key: str) -> bool:
    try:
        model.get(key)
    except DoesNotExist:
        return False
    return True


def _each_event(
    name: str, limit: int | None, handle: Callable[[dict[str, Any]], list[Any]]
) -> list[Any]:
    """What `handle` made of each event waiting in the dead-letter queue, each deleted
    once handled. One whose handling fails again stays for the next run and is answered
    as such (`_failed_again`); the others are handled all the same, rather than
    wait behind it (hidden meanwhile, so that `dead-letters` would count none)."""
    url = _events_url(name)
    outcomes: list[Any] = []
    for receipt, body in queues.take(url, limit or queues.waiting(url), SETTLE_VISIBILITY_SECONDS):
        event = json.loads(body)
        try:
            outcomes.extend(handle(event))
        except Exception as error:  # noqa: BLE001 - the answer names it; the event is kept
            outcomes.append(_failed_again(name, event, error))
            continue
        queues.delete(url, receipt)
    return outcomes


def _failed_again(name: str, event: dict[str, Any], error: Exception) -> Any:
    why = f"failed again, left in the dead-letter queue: {type(error).__name__}: {error}"
    if name == SCHEDULE:
        return {
            "tenant_id": event.get("tenant_id"),
            "mission_id": event.get("mission_id"),
            "outcome": why,
        }
    objects = [key for _, key in uploads.event_objects(event)]
    return f"{', '.join(objects)}: {why}"


def _firing(event: dict[str, Any]) -> dict[str, str]:
    return {"tenant_id": str(event["tenant_id"]), "mission_id": str(event["mission_id"])}


def settle_failed_firings(now: datetime, limit: int | None = None) -> dict[str, Any]:
    """Each firing in the scheduler's dead-letter queue (its mission's tenant and id, the
    schedule's input) settled as `dispatch.settle_failed_firing` says."""

    def settle(event: dict[str, Any]) -> list[dict[str, str]]:
        firing = _firing(event)
        outcome = dispatch.settle_failed_firing(firing["tenant_id"], firing["mission_id"], now)
        return [{**firing, "outcome": outcome}]

    return {"queue": SCHEDULE, "settled": _each_event(SCHEDULE, limit, settle)}


def ingest_failed_uploads(limit: int | None = None) -> dict[str, Any]:
    """Each upload in the ingest function's dead-letter queue ingested again, as if it had
    arrived now: a mission list starts its mission (one already failed, at its upload
    deadline or its time, stays so), a manifest creates its mission once."""

    def ingest(event: dict[str, Any]) -> list[str]:
        return uploads.ingest_event(event, clock.now)

    return {"queue": INGEST, "ingested": _each_event(INGEST, limit, ingest)}
