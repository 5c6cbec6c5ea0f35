"""Blacklists: numbers that are never sent to, kept per tenant and by the operator."""

import math
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from pynamodb.exceptions import DoesNotExist

from cloudsms.answers import CountedPage
from cloudsms.domain import phone
from cloudsms.domain.numberlist import AbnormalRow, NumberListError, read_phone_numbers
from cloudsms.errors import BadRequest, NotFound, cut, shown
from cloudsms.services.pages import counted, decode_last_key, first_page, one_page
from cloudsms.store import batches
from cloudsms.store.blacklist import PLATFORM, BlacklistModel

# Why a blacklisted number is not sent (a rejected recipient's or message's reason).
LISTED = "the number is on the blacklist"

MAX_NUMBERS_PER_REQUEST = 1000
# Characters of the reason kept with each number, however the numbers come.
MAX_REASON_LENGTH = 200
# Rows one import takes. Each number is read, looked up and written within the request,
# which API Gateway ends at 29 s: a 1 MB file (up to some 135,000 numbers) took 18 s of
# CPU on the machine measured, before DynamoDB's own time (README.md "Request time on
# Lambda"). 10,000 take about 10 s on AWS; a larger list is imported in parts.
MAX_IMPORT_ROWS = 10_000
# Keys one BatchGetItem looks up.
LOOKUPS_PER_REQUEST = 100
T = TypeVar("T")


def too_many_numbers(count: int) -> str:
    return (
        f"at most {MAX_NUMBERS_PER_REQUEST:,} numbers in one request (this has {count:,}); "
        "import a file for more"
    )


def add_numbers(owner: str, numbers: list[str], reason: str = "") -> dict[str, Any]:
    """Adds the valid numbers, each once however often it is given; each invalid one is
    answered with its reason, and each already listed keeps its reason and date."""
    if len(numbers) > MAX_NUMBERS_PER_REQUEST:
        raise BadRequest(too_many_numbers(len(numbers)))
    valid: list[str] = []
    invalid = []
    for raw in numbers:
        try:
            valid.append(phone.normalise_listed(raw))
        except phone.InvalidNumber as error:
            # Named by its start, as an error names a value: a request of megabytes of
            # non-numbers, sent back whole, could outgrow the 6 MB a Lambda may answer.
            invalid.append({"number": cut(raw), "reason": str(error)})
    added, listed = _save(owner, valid, reason)
    return {"added": added, "already_listed": listed, "invalid": invalid}


def import_file(owner: str, data: bytes, max_bytes: int, reason: str = "") -> dict[str, Any]:
    """Adds every number in the first column of an .xlsx or .csv file (after its header
    row); other columns are ignored, so a mission's number list imports as it is (but
    for the template's example row, if left in)."""
    if len(reason) > MAX_REASON_LENGTH:
        raise BadRequest(f"the reason has more than {MAX_REASON_LENGTH} characters")
    try:
        # One row more than an import takes is enough to refuse the file.
        cells = list(islice(read_phone_numbers(data, max_bytes=max_bytes), MAX_IMPORT_ROWS + 1))
    except NumberListError as error:
        raise BadRequest(f"the file cannot be imported: {error.reason}") from error
    if len(cells) > MAX_IMPORT_ROWS:
        raise BadRequest(
            f"the file has more than {MAX_IMPORT_ROWS:,} rows: an import takes at most "
            f"{MAX_IMPORT_ROWS:,}; split the file and import each part"
        )
    numbers = [cell for cell in cells if isinstance(cell, str)]
    invalid = [
        {"row": cell.row, "value": cut(cell.raw), "reason": cell.reason}
        for cell in cells
        if isinstance(cell, AbnormalRow)
    ]
    added, listed = _save(owner, numbers, reason)
    return {
        "added": len(added),
        "already_listed": len(listed),
        # rows whose number an earlier row of the file already has
        "repeated": len(numbers) - len(added) - len(listed),
        "invalid": invalid,
    }


def _save(owner: str, numbers: list[str], reason: str) -> tuple[list[str], list[str]]:
    """Saves each number not yet listed, once (a batch write refuses the same key twice);
    answers those added and those already listed. A listed number keeps the reason and
    date it was listed with: importing a list again must not rewrite its history."""
    unique = list(dict.fromkeys(numbers))
    listed = {item.number for item in batches.get(BlacklistModel, [(owner, n) for n in unique])}
    added = [number for number in unique if number not in listed]
    batches.put(
        BlacklistModel,
        [BlacklistModel(owner=owner, number=number, reason=reason) for number in added],
    )
    return added, [number for number in unique if number in listed]


def remove_number(owner: str, raw: str) -> None:
    try:
        number = phone.normalise_listed(raw)
    except phone.InvalidNumber as error:
        raise BadRequest(f"{shown(raw)}: {error}") from error
    try:
        BlacklistModel.get(owner, number).delete()
    except DoesNotExist as error:
        raise NotFound(f"{cut(number)} is not on the blacklist") from error


class BlacklistEntry(BaseModel):
    number: str = Field(description="E.164")
    reason: str = Field(description="As given when it was added; may be empty")
    added_at: datetime


class BlacklistPage(CountedPage[BlacklistEntry]):
    """GET /v1/blacklist: by number."""


class InvalidNumber(BaseModel):
    number: str = Field(description="As given (one over 40 characters: its start and '…')")
    reason: str


class BlacklistAdded(BaseModel):
    """POST /v1/blacklist: each number given, in E.164, once."""

    added: list[str]
    already_listed: list[str] = Field(description="Kept with their own reason and date")
    invalid: list[InvalidNumber]


class InvalidRow(BaseModel):
    row: int = Field(description="Its row in the file, counting the header row")
    value: str = Field(description="The cell as written (over 40 characters: its start and '…')")
    reason: str


class BlacklistImported(BaseModel):
    """POST /v1/blacklist/import: how many of the file's numbers were added."""

    added: int
    already_listed: int = Field(description="Kept with their own reason and date")
    repeated: int = Field(description="Rows whose number an earlier row already has")
    invalid: list[InvalidRow]


def number_start(raw: str | None) -> str:
    """The start of the numbers a blacklist search finds, as they are kept ("+" then
    digits): a whole number or its first digits, country code first, "+" optional, spaces
    and dashes ignored. Blank searches nothing out."""
    if raw is None or not raw.strip():
        return ""
    wanted = (
        "'number' is searched from its country code: the first digits of a number, or all "
        'of them, with or without "+"'
    )
    try:
        _, digits = phone.written_digits(raw)
    except phone.InvalidNumber as error:
        raise BadRequest(wanted) from error
    if digits.startswith("0") or len(digits) > phone.MAX_DIGITS:
        # No E.164 number starts with 0 (a national form) or is longer: the search
        # would find nothing and say nothing of why.
        raise BadRequest(wanted)
    return "+" + digits


def list_numbers(owner: str, limit: int, cursor: str | None, start: str = "") -> dict[str, Any]:
    """A page of `owner`'s blacklist by number; with `start` (number_start's), only the
    numbers that start so: a range of the table's sort key, so a search reads only what
    it finds."""
    condition = BlacklistModel.number.startswith(start) if start else None
    last_key = decode_last_key(cursor, ("owner", owner), ("number",), starts_with=start)
    result = BlacklistModel.query(owner, condition, limit=limit + 1, last_evaluated_key=last_key)
    found, next_cursor = one_page(result, limit, ("owner", "number"))
    items = [
        {"number": item.number, "reason": item.reason, "added_at": item.added_at.isoformat()}
        for item in found
    ]
    page = {"items": items, "next_cursor": next_cursor}
    keys = ["owner", "number"]
    return first_page(
        page,
        cursor,
        lambda: counted(BlacklistModel.query(owner, condition, attributes_to_get=keys)),
    )


def listed(tenant_id: str, numbers: list[str]) -> set[str]:
    """Which of a few numbers (one request's) are on the tenant's or the platform's
    blacklist: looked up by key, as reading a whole blacklist per request would cost
    more than the request."""
    unique = set(numbers)
    if not unique:
        return set()
    return _looked_up((tenant_id, PLATFORM), unique)


# A blacklist of at most this many pages (1 MB, some 10,000 numbers each) is read whole
# before a mission's number list is, so that the list is staged as it is read.
SHORT_LIST_PAGES = 10


def short_blacklists(tenant_id: str) -> set[str] | None:
    """The tenant's and the platform's blacklisted numbers, when both lists are short (at
    most SHORT_LIST_PAGES pages each; most are one): a number list is then checked as it
    is read, never held whole. None when either is longer: the list's numbers are then
    collected and checked at once (`blacklisted_among`)."""
    tenants = _read_whole(tenant_id, SHORT_LIST_PAGES)
    platforms = _read_whole(PLATFORM, SHORT_LIST_PAGES) if tenants is not None else None
    if tenants is None or platforms is None:
        return None
    return tenants | platforms


def checked(
    tenant_id: str, items: Iterable[T], number_of: Callable[[T], str | None]
) -> tuple[Iterable[T], set[str]]:
    """The items (a number list's rows, a mission's staged recipients), and the
    blacklisted numbers to check them against (`number_of` an item: None for one with
    no number). With the tenant's and the platform's blacklists short (most are), those
    are read whole and the items stay a stream, read as they are used. With a long one
    (an operator's do-not-call list of millions), the items are held whole to look
    their numbers up at once: for the largest list a mission takes (1 MB: some 75,000
    rows whose 1,400-character texts differ by a variable) about 120 MB more at the peak
    here, 220 MB for Chinese texts, within the 1,024 MB and more of the functions that
    stage or preview a list; a larger NUMBER_LIST_MAX_BYTES takes more."""
    blacklist = short_blacklists(tenant_id)
    if blacklist is not None:
        return items, blacklist
    held = list(items)
    numbers = [number for number in map(number_of, held) if number is not None]
    return held, blacklisted_among(tenant_id, numbers)


def blacklisted_among(tenant_id: str, numbers: Collection[str]) -> set[str]:
    """Which of `numbers` (a mission's) are on the tenant's or the platform's blacklist.

    Each list is read whole only while that costs no more requests than looking the
    numbers up by key would: a Query page of 1 MB holds about 10,000 numbers, a
    BatchGetItem looks up 100. A list that ends within that many pages is read whole
    (one page for most tenants, whatever the mission); one that does not (an operator's
    national do-not-call list of millions) is read no further, and the numbers are
    looked up instead. Either way a check costs at most about twice the cheaper of the
    two, however long the list: a mission of 10 numbers makes a few requests, not the
    hundreds of pages of a list of millions.
    """
    unique = set(numbers)
    if not unique:
        return set()
    pages = math.ceil(len(unique) / LOOKUPS_PER_REQUEST) + 1
    return _listed_among(tenant_id, unique, pages) | _listed_among(PLATFORM, unique, pages)


def _listed_among(owner: str, numbers: set[str], pages: int) -> set[str]:
    """Which of `numbers` are on `owner`'s list: read whole if it ends within `pages`
    pages, else looked up by key."""
    whole = _read_whole(owner, pages)
    return whole & numbers if whole is not None else _looked_up((owner,), numbers)


def _read_whole(owner: str, pages: int) -> set[str] | None:
    """`owner`'s blacklisted numbers if the list ends within `pages` pages; else None."""
    read = BlacklistModel.query(owner, attributes_to_get=["owner", "number"]).page_iter
    found: set[str] = set()
    for page in islice(read, pages):
        # Read raw: a list read whole may be millions of items, too many to make models of.
        found.update(item["number"]["S"] for item in page.get("Items", []))
    return found if read.last_evaluated_key is None else None


def _looked_up(owners: tuple[str, ...], numbers: set[str]) -> set[str]:
    """Which of `numbers` are on the owners' lists, looked up by key (BatchGetItem takes
    100 keys a request; `batches.get` splits them so, and asks again, after a wait, for
    the keys a request leaves unprocessed)."""
    keys = [(owner, number) for owner in owners for number in numbers]
    return {
        item.number
        for item in batches.get(BlacklistModel, keys, attributes_to_get=["owner", "number"])
    }
