"""Errors a caller can act on. Each maps to one HTTP status and a stable code."""

from typing import Any

# Characters of a refused value an error message repeats: enough to recognise it by.
SHOWN_LENGTH = 40


def cut(text: str) -> str:
    """`text` as an error message repeats it: its first SHOWN_LENGTH characters and "…"
    when longer. A message names what was refused; it need not send back (or log) the
    100 KB it may have been."""
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"


def shown(value: object) -> str:
    """`value` quoted (repr) for an error message, cut as cut() does."""
    return repr(cut(str(value)))


class CloudSmsError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the error body."""
        return {}


class BadRequest(CloudSmsError):
    pass


class Unauthorized(CloudSmsError):
    status = 401
    code = "unauthorized"


class Forbidden(CloudSmsError):
    status = 403
    code = "forbidden"


class NotFound(CloudSmsError):
    status = 404
    code = "not_found"


class Conflict(CloudSmsError):
    status = 409
    code = "conflict"


class InProgress(Conflict):
    """The same request (its Idempotency-Key) is still being carried out: a client
    waits for it rather than take this for a conflicting request (a 409 either way)."""

    code = "in_progress"


class KeyReused(Conflict):
    """An Idempotency-Key used before with another request: a client's bug, which sending
    the same again never mends (a 409, as any conflict)."""


class PayloadTooLarge(CloudSmsError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(CloudSmsError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the wait is known

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class Unavailable(CloudSmsError):
    status = 503
    code = "unavailable"
