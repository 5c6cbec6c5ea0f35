"""Cursors for paginated listings: DynamoDB's last evaluated key, made opaque."""

import base64
import json
from typing import Any

from cloudsms.errors import BadRequest

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


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
