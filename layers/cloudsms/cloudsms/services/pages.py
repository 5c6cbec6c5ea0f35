"""Cursors for paginated listings: DynamoDB's last evaluated key, made opaque."""

import base64
import json
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from cloudsms.errors import BadRequest

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# A list's total is counted up to this many: past it a page says "at least" (the
# portal's "Total 10,000+"), as counting a tenant's whole log would read all of it.
MAX_COUNTED = 10_000


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError) as error:
        raise BadRequest("the cursor is not one this API gave out") from error
    if not isinstance(value, dict):
        raise BadRequest("the cursor is not one this API gave out")
    return value


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
