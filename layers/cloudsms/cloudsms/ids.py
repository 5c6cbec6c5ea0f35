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
