"""Signatures on status callbacks: HMAC-SHA256 under the tenant's signing secret.

`X-CloudSMS-Signature: t=<unix seconds>,v1=<hex>` carries the moment of signing and the
HMAC-SHA256, keyed with the secret, of "<t>.<body>" (the raw body bytes). A receiver
recomputes it over the body exactly as received, compares in constant time, and refuses
a `t` far from its own clock, so that a captured callback cannot be replayed later.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-CloudSMS-Signature"
# How far a receiver should let `t` stray from its clock.
TOLERANCE_SECONDS = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` signed at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, body: bytes, header: str, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: True when `header` signs `body` with `secret`, recently."""
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    return hmac.compare_digest(expected, f"t={timestamp},v1={fields.get('v1', '')}")
