"""Identifiers: message UIDs, API keys and secrets."""

import hashlib
import secrets
import time


def new_uid() -> str:
    """A 30-character message UID like the carrier portal's: time-ordered, then random.

    12 hex digits of milliseconds keep a tenant's messages in sending order in the
    table's sort key; 18 random hex digits make it unguessable.
    """
    return f"{int(time.time() * 1000):012X}{secrets.token_hex(9).upper()}"


def new_time_ordered_id() -> str:
    """18 hex digits: milliseconds, then random. Sorts by creation time."""
    return f"{int(time.time() * 1000):012X}{secrets.token_hex(3).upper()}"


def mission_message_uid(mission_id: str, row: int) -> str:
    """A mission message's UID: its mission and its row. Dispatching the same mission
    again makes the same UIDs, so a retried dispatch cannot send a row twice."""
    return f"{mission_id}{row:012X}"


def new_api_key() -> str:
    return "csk_" + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(6)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    # A fast hash is enough: the keys carry 256 random bits, so there is nothing to
    # brute-force, unlike a password.
    return hashlib.sha256(key.encode()).hexdigest()
