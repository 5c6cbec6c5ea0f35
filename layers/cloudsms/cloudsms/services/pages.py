"""Cursors for paginated listings: DynamoDB's last evaluated key, made opaque."""

import base64
import json
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, TypeVar

from cloudsms.errors import BadRequest
from cloudsms.validation import loads_json

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# A list's total is counted up to this many: past it a page says "at least" (the
# portal's "Total 10,000+"), as counting a tenant's whole log would read all of it.
MAX_COUNTED = 10_000
# DynamoDB refuses a sort key longer than this (a partition key, twice as long): no key
# a list gives out comes near it.
MAX_KEY_BYTES = 1024

T = TypeVar("T")


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Any JSON object: a list with a cursor of its own (the dispatching log's) checks
    it; a list that hands DynamoDB its cursor uses decode_last_key."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = loads_json(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError) as error:
        raise BadRequest("the cursor is not one this API gave out") from error
    if not isinstance(value, dict):
        raise BadRequest("the cursor is not one this API gave out")
    return value


def decode_last_key(
    cursor: str | None,
    partition: tuple[str, str] | None,
    keys: tuple[str, ...],
    starts_with: str = "",
) -> dict[str, Any] | None:
    """The last evaluated key a list's cursor was given out with. It must hold exactly the
    key attributes the list's read produces: `partition`, the attribute and the value the
    list queries (None for a scan), and `keys`, each a string starting with `starts_with`
    (a query's key condition). Every key these lists read is a string.

    A crafted cursor would otherwise reach DynamoDB, which refuses a key that does not
    fit the table or the query (a 500, not a 400), or read another tenant's partition."""
    last_key = decode_cursor(cursor)
    if last_key is None:
        return None
    if not _fits(last_key, partition, keys, starts_with):
        raise BadRequest("the cursor is not one this API gave out")
    return last_key


def _fits(
    last_key: dict[str, Any],
    partition: tuple[str, str] | None,
    keys: tuple[str, ...],
    starts_with: str,
) -> bool:
    names = set(keys) | ({partition[0]} if partition else set())
    if set(last_key) != names:
        return False
    if partition and _string(last_key[partition[0]]) != partition[1]:
        return False
    for name in keys:
        text = _string(last_key[name])
        if text is None or not text.startswith(starts_with):
            return False
    return True


def _string(attribute: Any) -> str | None:
    """The value of a key attribute {"S": value}, if it is one DynamoDB takes as a key."""
    if not isinstance(attribute, dict) or list(attribute) != ["S"]:
        return None
    text = attribute["S"]
    if not isinstance(text, str) or not 0 < len(text.encode()) <= MAX_KEY_BYTES:
        return None
    return text


def one_page(results: Iterable[T], limit: int, keys: tuple[str, ...]) -> tuple[list[T], str | None]:
    """A page of `limit` items from a read of `limit` + 1 (the one more says whether there
    is a next page), and the cursor to that page: the key (`keys`, string attributes) of
    the page's last item, as DynamoDB's last evaluated key would be. DynamoDB gives a last
    evaluated key whenever it stops at its limit, without looking further, so a page that
    exactly fills the last one would send a client on to an empty page."""
    items = list(islice(results, limit + 1))
    if len(items) <= limit:
        return items, None
    page = items[:limit]
    return page, encode_cursor({name: {"S": getattr(page[-1], name)} for name in keys})


def page_size(value: int | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise BadRequest(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return value


def counted(everything: Iterable[Any]) -> tuple[int, bool]:
    """How many items there are, counted up to MAX_COUNTED, and whether that is exact."""
    found = sum(1 for _ in islice(everything, MAX_COUNTED + 1))
    return min(found, MAX_COUNTED), found <= MAX_COUNTED


def first_page(
    page: dict[str, Any], cursor: str | None, count: Callable[[], tuple[int, bool]]
) -> dict[str, Any]:
    """The first page (no cursor) of a list also says how many items the list holds:
    `total`, exact when `total_exact`, else at least that many. Only the first, as
    counting reads the list; the portal keeps it while paging on."""
    if cursor:
        return page
    total, exact = count()
    return {**page, "total": total, "total_exact": exact}
