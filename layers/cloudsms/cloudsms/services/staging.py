"""A mission's number list, staged in S3: each row validated and rendered once, into
files of recipients, abnormal rows and blacklisted numbers, which the claim, the dispatch
and the mission's pages read back.

Each staging writes under a prefix of its own, which the mission records when it is
saved (services/missions.py): two stagings of one mission (a list uploaded twice, an S3
event delivered twice) never mix, and everything after reads the one the mission kept.
"""

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from itertools import islice
from json.encoder import encode_basestring
from typing import Any

from cloudsms.adapters import storage
from cloudsms.domain import content, phone
from cloudsms.domain.numberlist import AbnormalRow, Recipient, read_number_list
from cloudsms.errors import BadRequest
from cloudsms.ids import new_time_ordered_id
from cloudsms.observability import logger
from cloudsms.services.blacklist import checked as blacklist_check
from cloudsms.services.pages import counted, first_page
from cloudsms.settings import get_settings
from cloudsms.store.missions import MissionModel

# Abnormal rows named in the answer that refuses a list with nothing to send.
REFUSAL_ABNORMAL_LIMIT = 20

# A staging's files, under its prefix. The dispatch writes the last: the numbers it found
# blacklisted since staging (services/dispatch.py).
RECIPIENTS = "recipients.jsonl.gz"
ABNORMAL = "abnormal.jsonl.gz"
BLACKLISTED = "blacklisted.jsonl.gz"
BLACKLISTED_AT_DISPATCH = "blacklisted-at-dispatch.jsonl.gz"


@dataclass
class Staged:
    """What staging a number list found."""

    prefix: str
    recipients: int = 0
    abnormal: int = 0
    blacklisted: int = 0
    segments: int = 0
    messages: list[int] = field(default_factory=list)  # each recipient's SMS, in order
    encodings: dict[str, int] = field(default_factory=dict)
    by_name: bool = False
    first_abnormal: list[dict[str, Any]] = field(default_factory=list)


def _renderer(mission: MissionModel) -> Any:
    return content.renderer(
        mission.content,
        mission.signature,
        mission.signature_position,
        phone.Direction(mission.direction),
        mission.allow_unsubscribe,
    )


def number_list_rows(
    mission: MissionModel, number_list: bytes, countries: Collection[str] | None
) -> Any:
    """The list's rows, each a Recipient with its text rendered or an AbnormalRow, read
    as they are staged (a preview reads them so too). `countries`: the tenant's, those
    it may send to (none: every country)."""
    direction = phone.Direction(mission.direction)
    return read_number_list(
        number_list,
        [str(name) for name in mission.variables or []],
        direction,
        _renderer(mission),
        added_length=content.added_length(
            mission.content,
            mission.signature,
            mission.signature_position,
            direction,
            mission.allow_unsubscribe,
        ),
        countries=countries,
        max_bytes=get_settings().number_list_max_bytes,
    )


def recipient_number(row: Recipient | AbnormalRow) -> str | None:
    """A row's number to check against the blacklists: a recipient's; none for an
    abnormal row."""
    return row.phone if isinstance(row, Recipient) else None


def stage(
    mission: MissionModel,
    number_list: bytes,
    countries: Collection[str] | None,
    accept: Callable[[Staged], Any] | None = None,
    keep_unsendable: bool = False,
) -> Staged:
    """Validates and renders every row, and stages three files in S3: the recipients,
    the abnormal rows (row, raw value, reason) and the blacklisted numbers.

    A list with no recipient stages nothing: it is refused, and a refused list must not
    leave files behind for a mission that will never exist. Nor does one that `accept`
    (given what was found) refuses by raising. With `keep_unsendable` (an uploaded list,
    whose mission exists and fails) such a list stages its abnormal rows and blacklisted
    numbers, so that the failed mission lists them.
    """
    number_rows = number_list_rows(mission, number_list, countries)
    rows, blacklist = blacklist_check(mission.tenant_id, number_rows, recipient_number)
    staged = Staged(prefix=_new_staged_prefix(mission), by_name=number_rows.by_name)
    recipients = storage.JsonLinesWriter(staged.prefix + RECIPIENTS)
    abnormal = storage.JsonLinesWriter(staged.prefix + ABNORMAL)
    blacklisted = storage.JsonLinesWriter(staged.prefix + BLACKLISTED)
    writers = (recipients, abnormal, blacklisted)
    try:
        for row in rows:
            if isinstance(row, AbnormalRow):
                record = {"row": row.row, "raw": row.raw, "reason": row.reason}
                abnormal.write(record)
                if len(staged.first_abnormal) < REFUSAL_ABNORMAL_LIMIT:
                    staged.first_abnormal.append(record)
            elif row.phone in blacklist:
                blacklisted.write({"row": row.row, "to": row.phone})
            else:
                recipients.write_line(_recipient_line(row))
                staged.segments += row.segments
                staged.messages.append(row.segments)
                staged.encodings[row.encoding] = staged.encodings.get(row.encoding, 0) + 1
        staged.recipients, staged.abnormal, staged.blacklisted = (
            recipients.count,
            abnormal.count,
            blacklisted.count,
        )
        if accept is not None and staged.recipients:
            accept(staged)
    except Exception:
        for writer in writers:
            writer.discard()
        raise
    for writer in writers:
        if staged.recipients or (keep_unsendable and writer is not recipients):
            writer.upload()
        else:
            writer.discard()
    return staged


def _new_staged_prefix(mission: MissionModel) -> str:
    """A prefix of this staging's own. Missions staged before stagings had one recorded
    `staged/{tenant}/{mission}/`, and are read there."""
    return f"staged/{mission.tenant_id}/{mission.mission_id}/{new_time_ordered_id()}/"


def _recipient_line(row: Recipient) -> str:
    """A staged recipient as a JSON line, written directly: this runs for every row of a
    list, five times faster than encoding a dict. The number is E.164 and the encoding a
    fixed name, so only the text needs escaping."""
    return (
        f'{{"row": {row.row}, "to": "{row.phone}", "text": {encode_basestring(row.text)}, '
        f'"encoding": "{row.encoding}", "segments": {row.segments}}}'
    )


def delete(staged: Staged) -> None:
    """The files of a staging no mission kept."""
    left = storage.delete([staged.prefix + name for name in (RECIPIENTS, ABNORMAL, BLACKLISTED)])
    if left:
        # Read by nothing, and expired with the bucket's rule.
        logger.warning("staged files not deleted", extra={"keys": left})


class StagedSegments:
    """Each staged recipient's SMS, in their order: what the claim charges. The staged
    list is read when first walked, and kept for the walks after (about 1 s to read for
    100,000 recipients; their sizes are 100,000 ints)."""

    def __init__(self, mission: MissionModel):
        self._key = mission.staged_prefix + RECIPIENTS
        self._sizes: list[int] | None = None

    def __iter__(self) -> Iterator[int]:
        if self._sizes is None:
            self._sizes = [int(r["segments"]) for r in storage.read_json_lines(self._key)]
        return iter(self._sizes)


# A staged list has at most a few hundred thousand rows.
MAX_OFFSET_DIGITS = 9


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    # ASCII digits only ("²".isdigit() is true), and no more than a list holds.
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > MAX_OFFSET_DIGITS:
        raise BadRequest("the cursor is not one this API gave out")
    return int(cursor)


def page_of(keys: list[str], limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the records in the staged files `keys`, one after the other; the cursor
    is the offset of the page's first."""
    start_at = _offset(cursor)

    def records() -> Iterator[dict[str, Any]]:
        for key in keys:
            if storage.exists(key):
                yield from storage.read_json_lines(key)

    page = list(islice(records(), start_at, start_at + limit + 1))
    more = len(page) > limit
    shown = {"items": page[:limit], "next_cursor": str(start_at + limit) if more else None}
    return first_page(shown, cursor, lambda: counted(records()))


def file_keys(mission: MissionModel, *names: str) -> list[str]:
    """The keys of the mission's staged files of those names: none before it is staged
    (its list still uploading, or refused), whose pages are then empty, of total 0."""
    if not mission.staged_prefix:
        return []
    return [mission.staged_prefix + name for name in names]
