"""The dispatching log: a tenant's messages in a time range, newest first, filtered.

Messages are keyed (tenant, uid), and a uid starts with the milliseconds it was made at
(a one-off send) or with its mission's id, which is time-ordered by the mission's
creation. So a time range is a key range of the table, read backwards: never a scan.

Three kinds of message fall outside that range although they were dispatched inside the
time range: those of a mission created earlier and scheduled into it, those a mission
held back for its recipients' quiet hours, and those that went out days after their
mission's dispatch (a paused channel, a slow channel's long list, a redrive; their
mission's `sending_until` says so). Their missions are found in the
missions table (one small query) and each is read as a key range of its own. Ranges are
disjoint and read in descending key order, so "continue after this uid" is the whole
cursor. The dispatching time the range filters on is the message's `created_at`.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from cloudsms.answers import Page
from cloudsms.clock import check_year, id_prefix
from cloudsms.domain import phone
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import DrState, Outcome, outcome
from cloudsms.domain.text import Encoding
from cloudsms.errors import BadRequest, shown
from cloudsms.services.messages import DR_STATE, ENCODING, ERROR_CODE, REASON, ROUTE_ID, STATUS
from cloudsms.services.pages import MAX_COUNTED, decode_cursor, encode_cursor
from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.base import lost_a_race
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel, name_matches
from cloudsms.store.tenants import TenantModel

# Above every character of a uid: "<prefix>~" ends the key range of all uids so prefixed.
HIGHEST = "~"
# A uid takes its milliseconds a moment apart from the `created_at` the range filters on.
KEY_SLACK = timedelta(minutes=1)
# How long after its dispatch a mission's messages are looked for by its dispatch time: a
# recipient's quiet hours hold a message for up to a day, and SQS retries add minutes.
# One that goes out later still (a paused channel, a slow channel's long list, a redrive)
# moves its mission's `sending_until` on (`note_sending`), and is found by that.
LATEST_SUBMIT = timedelta(days=1, hours=1)
# Messages sent this long after their mission's dispatch are noted: an hour within
# LATEST_SUBMIT, for clocks a little apart.
NOTED_AFTER = LATEST_SUBMIT - timedelta(hours=1)
# One page may evaluate at most this many items; a page of a rarely matching filter
# then comes back short, with a cursor to continue, instead of reading without end.
READ_BUDGET = 2000
# Counting the log's matches for its total evaluates at most this many items (some 8 MB),
# this many a request.
COUNT_BUDGET = 20_000
COUNT_PAGE_ITEMS = 2_000
MAX_UID_LENGTH = 64


@dataclass(frozen=True)
class LogFilter:
    """What the log shows. A bound of None is open (only with a uid)."""

    start: datetime | None
    end: datetime | None
    phone_number: str | None = None  # E.164
    uid: str | None = None
    mission_name: str | None = None
    status: Outcome | None = None
    sms_type: SmsType | None = None


@dataclass(frozen=True)
class KeyRange:
    low: str
    high: str  # inclusive


def _moment(value: str, zone: ZoneInfo, name: str) -> datetime:
    """An ISO 8601 date or time; one without an offset is read in the tenant's zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"'{name}' {shown(value)} is not an ISO 8601 time") from error
    check_year(moment, f"'{name}'")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


# The time of day in an ISO 8601 value, to tell how much of the day a 'to' names.
_TIME_OF_DAY = re.compile(
    r"[T ]\d{2}(?P<minute>:?\d{2})?(?P<second>:?\d{2})?(?P<fraction>[.,]\d+)?"
)


def _through(value: str, zone: ZoneInfo) -> datetime:
    """A 'to' takes in the whole of what it names, as the statistics' dates do: a date its
    whole day, a time without seconds its whole minute, one without a fraction its whole
    second (a message stamped 23:59:59.4 is in a log that runs to 23:59:59)."""
    moment = _moment(value, zone, "to")
    written = _TIME_OF_DAY.search(value)
    if written is None:
        unit = timedelta(days=1)
    elif written["fraction"]:
        return moment
    elif written["second"]:
        unit = timedelta(seconds=1)
    elif written["minute"]:
        unit = timedelta(minutes=1)
    else:
        unit = timedelta(hours=1)
    return moment + unit - timedelta(microseconds=1)


def log_filter(
    tenant: TenantModel,
    now: datetime,
    start: str | None = None,
    end: str | None = None,
    phone_number: str | None = None,
    uid: str | None = None,
    mission_name: str | None = None,
    status: Outcome | None = None,
    sms_type: SmsType | None = None,
) -> LogFilter:
    """The filter from the query's words. Without a time range the log covers yesterday
    and today in the tenant's zone, as the portal opens it; a uid alone needs none."""
    zone = ZoneInfo(tenant.time_zone)
    uid = (uid or "").strip().upper() or None
    if uid and len(uid) > MAX_UID_LENGTH:
        raise BadRequest("that is not a message uid")
    first = _moment(start, zone, "from") if start else None
    last = _through(end, zone) if end else None
    if not uid:
        if last is None:
            last = now
        if first is None:
            yesterday = last.astimezone(zone).date() - timedelta(days=1)
            first = datetime.combine(yesterday, time(0), tzinfo=zone)
    if first and last and first > last:
        raise BadRequest("'from' is after 'to'")
    number = None
    if phone_number and phone_number.strip():
        try:
            number = phone.normalise(phone_number.strip())
        except phone.InvalidNumber as error:
            raise BadRequest(f"phone number: {error.reason}") from error
    return LogFilter(
        start=first,
        end=last,
        phone_number=number,
        uid=uid,
        mission_name=(mission_name or "").strip() or None,
        status=status,
        sms_type=sms_type,
    )


def _mission_ranges(missions: Iterator[MissionModel]) -> Iterator[KeyRange]:
    for mission in missions:
        yield KeyRange(mission.mission_id, mission.mission_id + HIGHEST)


def _missions(tenant_id: str, low: str, high: str, condition: Condition) -> Iterator[MissionModel]:
    return MissionModel.query(
        tenant_id,
        MissionModel.mission_id.between(low, high),
        filter_condition=condition,
        scan_index_forward=False,
    )


def _earliest_mission_key(start: datetime) -> str:
    """Missions created before this cannot have dispatched a message at `start`."""
    horizon = timedelta(days=get_settings().max_schedule_days) + LATEST_SUBMIT + KEY_SLACK
    return id_prefix(start - horizon)


def key_ranges(tenant_id: str, log: LogFilter) -> Iterator[KeyRange]:
    """The key ranges that hold the log's messages, in descending key order, disjoint.
    Missions are looked up only when the ranges before them have been read."""
    if log.uid:
        yield KeyRange(log.uid, log.uid)
        return
    assert log.start is not None and log.end is not None
    dispatched = MissionModel.dispatching_date <= log.end
    if log.mission_name:
        yield from _mission_ranges(
            _missions(
                tenant_id,
                _earliest_mission_key(log.start),
                id_prefix(log.end + KEY_SLACK) + HIGHEST,
                dispatched & name_matches(log.mission_name),
            )
        )
        return
    main = KeyRange(id_prefix(log.start - KEY_SLACK), id_prefix(log.end + KEY_SLACK) + HIGHEST)
    yield main
    # Mission ids sort below `main.low` exactly when their messages' uids do.
    yield from _mission_ranges(
        _missions(
            tenant_id,
            _earliest_mission_key(log.start),
            main.low,
            dispatched
            & (
                (MissionModel.dispatching_date >= log.start - LATEST_SUBMIT)
                | (MissionModel.sending_until >= log.start)
            ),
        )
    )


def note_sending(tenant_id: str, mission_id: str, dispatched_at: datetime, now: datetime) -> None:
    """Records on the mission that it sends messages now, when that is so long after its
    dispatch that the log would not look for them by its dispatch time. A write of the
    mission per queue message of such late ones, none otherwise; only ever forward."""
    if now - dispatched_at <= NOTED_AFTER:
        return
    # Not the model's versioned update: this attribute is the consumers' alone, and many
    # of them write it at once.
    try:
        MissionModel._get_connection().update_item(
            tenant_id,
            mission_id,
            actions=[MissionModel.sending_until.set(now)],
            condition=MissionModel.mission_id.exists()
            & (MissionModel.sending_until.does_not_exist() | (MissionModel.sending_until < now)),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise


def _condition(log: LogFilter) -> Condition | None:
    parts: list[Condition] = []
    if log.start:
        parts.append(MessageModel.created_at >= log.start)
    if log.end:
        parts.append(MessageModel.created_at <= log.end)
    if log.phone_number:
        parts.append(MessageModel.to == log.phone_number)
    if log.status:
        states = [s.value for s in DrState if outcome(s) == log.status]
        parts.append(MessageModel.dr_state.is_in(*states))
    if log.sms_type:
        parts.append(MessageModel.sms_type == log.sms_type.value)
    condition = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def _after(cursor: str | None) -> str | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    after = position.get("after")
    if not isinstance(after, str) or not 0 < len(after) <= MAX_UID_LENGTH:
        raise BadRequest("the cursor is not one this API gave out")
    return after


def _pages(
    tenant_id: str, log: LogFilter, after: str | None, first_size: int | None, max_size: int
) -> Iterator[tuple[list[MessageModel], int, str]]:
    """The log below `after`, one DynamoDB page at a time: the page's matching messages,
    how many items it evaluated, and the uid reading would continue below.

    Pages start at `first_size` items and double up to `max_size`, so that a filter
    matching rarely costs a few requests rather than many; None asks for DynamoDB's
    own pages of 1 MB.
    """
    condition = _condition(log)
    size = first_size
    for key_range in key_ranges(tenant_id, log):
        if after is not None and key_range.low >= after:
            continue  # read whole by an earlier page
        start_key = None
        if after is not None and after <= key_range.high:
            start_key = {"tenant_id": {"S": tenant_id}, "uid": {"S": after}}
        pages = MessageModel.query(
            tenant_id,
            MessageModel.uid.between(key_range.low, key_range.high),
            filter_condition=condition,
            scan_index_forward=False,
            last_evaluated_key=start_key,
            page_size=size,
        ).page_iter
        for raw_page in pages:
            last = raw_page.get("LastEvaluatedKey")
            yield (
                [MessageModel.from_raw_data(raw) for raw in raw_page.get("Items", [])],
                int(raw_page.get("ScannedCount", 0)),
                last["uid"]["S"] if last else key_range.low,
            )
            if size is not None:
                size = min(2 * size, max_size)
                pages.page_size = size


class LogEntry(BaseModel):
    """A line of the dispatching log. The number is masked: the log is read by many."""

    uid: str
    country_code: int
    phone_number: str = Field(description="The national number, its middle starred")
    dispatch_time: datetime = Field(description="When it was accepted")
    submitted_at: datetime | None = Field(description="When the gateway accepted it")
    receive_time: datetime | None = Field(description="When its last receipt came")
    text: str
    encoding: Encoding = Field(description=ENCODING)
    segments: int
    sender: str | None = Field(description="Sender id (OA)")
    route_id: str = Field(description=ROUTE_ID)
    mission_id: str | None = Field(description="null for a message sent by POST /v1/sms")
    task_name: str | None = Field(description="The mission's name")
    sms_type: SmsType
    status: Outcome = Field(description=STATUS)
    dr_state: DrState = Field(description=DR_STATE)
    error_code: str | None = Field(description=ERROR_CODE)
    reason: str | None = Field(description=REASON)


class LogPage(Page[LogEntry]):
    """GET /v1/messages: newest first. A page may be short, or empty, when the filters
    match rarely: follow next_cursor until it is null. The count is GET /v1/messages/total."""


class LogTotal(BaseModel):
    """GET /v1/messages/total"""

    total: int = Field(description="Counted up to 10,000")
    total_exact: bool = Field(description="false: there are at least `total`")


def page(tenant_id: str, log: LogFilter, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the log, newest first. A page may come back short when the filters
    match rarely; `next_cursor` is None only when nothing is left."""
    found: list[MessageModel] = []
    budget = READ_BUDGET
    next_after = None
    # A few more than a page at first, as filters drop some; more while they keep doing so.
    first_size = min(max(4 * (limit + 1), 25), READ_BUDGET)
    for items, scanned, position in _pages(
        tenant_id, log, _after(cursor), first_size, max(READ_BUDGET // 4, first_size)
    ):
        found.extend(items)
        if len(found) > limit:
            next_after = found[limit - 1].uid
            break
        budget -= max(scanned, 1)
        if budget <= 0:
            next_after = position
            break
    shown = found[:limit]
    names = mission_names(tenant_id, shown)
    return {
        "items": [entry(m, names) for m in shown],
        "next_cursor": encode_cursor({"after": next_after}) if next_after else None,
    }


def total(tenant_id: str, log: LogFilter) -> dict[str, Any]:
    """How many messages the log holds (`total`), and whether that is exact: counting
    stops at MAX_COUNTED matches, or once COUNT_BUDGET items are evaluated, as a rarely
    matching filter over a month of messages would otherwise read them all. Apart from
    the page, which stays within its read budget; the portal asks for both at once."""
    found = evaluated = 0
    for items, scanned, _ in _pages(tenant_id, log, None, COUNT_PAGE_ITEMS, COUNT_PAGE_ITEMS):
        if found > MAX_COUNTED or evaluated >= COUNT_BUDGET:
            # and there is more to read
            return {"total": min(found, MAX_COUNTED), "total_exact": False}
        found += len(items)
        evaluated += scanned
    return {"total": min(found, MAX_COUNTED), "total_exact": found <= MAX_COUNTED}


def messages(tenant_id: str, log: LogFilter, limit: int) -> Iterator[MessageModel]:
    """The log's messages, newest first, at most `limit` (for exports)."""
    count = 0
    for items, _, _ in _pages(tenant_id, log, None, None, 0):
        for message in items:
            yield message
            count += 1
            if count == limit:
                return


def mission_names(tenant_id: str, messages: list[MessageModel]) -> dict[str, str]:
    """The names of the missions the messages belong to: the log's "Task Name"."""
    ids = {m.mission_id for m in messages if m.mission_id}
    if not ids:
        return {}
    found = batches.get(
        MissionModel,
        [(tenant_id, mission_id) for mission_id in ids],
        attributes_to_get=["mission_id", "name"],
    )
    return {mission.mission_id: mission.name for mission in found}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry(message: MessageModel, names: dict[str, str]) -> dict[str, Any]:
    """One line of the log. The number is masked: the log is read by many people."""
    return {
        "uid": message.uid,
        "country_code": phone.country_code(message.to),
        "phone_number": phone.mask(message.to),
        "dispatch_time": _time(message.created_at),
        "submitted_at": _time(message.submitted_at),
        "receive_time": _time(message.receipt_at),
        "text": message.text,
        "encoding": message.encoding,
        "segments": int(message.segments),
        "sender": message.sender,
        "route_id": message.channel,
        "mission_id": message.mission_id,
        "task_name": names.get(message.mission_id or ""),
        "sms_type": message.sms_type,
        "status": outcome(DrState(message.dr_state)).value,
        "dr_state": message.dr_state,
        "error_code": message.error_code,
        "reason": message.reason,
    }
