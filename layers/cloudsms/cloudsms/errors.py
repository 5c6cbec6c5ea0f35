"""Errors a caller can act on. Each maps to one HTTP status and a stable code."""

from typing import Any


class CloudSmsError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


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


class PayloadTooLarge(CloudSmsError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(CloudSmsError):
    status = 429
    code = "too_many_requests"


class Unavailable(CloudSmsError):
    status = 503
    code = "unavailable"
