"""Verify codes first, on one machine: the local stand-in for capacity of their own.

In AWS a verify code has capacity of its own all the way: the otp queue has its own
event source mapping, Lambda gives its invocations containers (and CPUs) of their own, and
DynamoDB and SQS do not slow one request down for another's load. Locally every function
shares two cores and one AWS emulator, so a 10,000-recipient mission draining would put
each verify code's requests in the same queue as the mission's, a local artefact AWS
does not have. So the local stack marks the work of the otp queue's pollers (receiving,
the Submit invocation, deleting) as *urgent*:

- every AWS request of those pollers' threads carries the `URGENT_HEADER`, and the
  emulator serves such requests before the others waiting (see emulator.py);
- while urgent work runs, other threads' AWS requests wait to be sent (`hold_back`), so
  the functions' shared interpreter lock is mostly the verify code's.

Nothing here changes what is sent or written, only in which order the local machine does
it. The mission is not throttled otherwise: it takes every cycle a verify code leaves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

URGENT_HEADER = "X-Cloudsms-Local-Urgent"
# How long another thread's request waits at most for urgent work to end: an urgent
# invocation takes milliseconds; if one ever hangs, the rest of the stack must not.
HOLD_BACK_LIMIT = 0.5

_local = threading.local()
_running = 0
_changed = threading.Condition()
_installed = False


def mark_urgent() -> None:
    """Marks every AWS request of this thread as urgent (an otp queue poller's)."""
    _local.urgent = True


def is_urgent() -> bool:
    return bool(getattr(_local, "urgent", False))


@contextmanager
def running() -> Iterator[None]:
    """Urgent work in progress (a verify code's invocation): others' requests wait."""
    global _running
    with _changed:
        _running += 1
    try:
        yield
    finally:
        with _changed:
            _running -= 1
            _changed.notify_all()


def hold_back() -> None:
    """Waits, in a thread doing other work, while urgent work runs (at most
    HOLD_BACK_LIMIT)."""
    if is_urgent():
        return
    with _changed:
        _changed.wait_for(lambda: _running == 0, timeout=HOLD_BACK_LIMIT)


def install() -> None:
    """Makes every AWS request of this process (botocore's, which PynamoDB uses too)
    carry its urgency, or hold back while urgent work runs."""
    global _installed
    if _installed:
        return
    _installed = True
    from botocore.endpoint import Endpoint

    send = Endpoint._send

    def _send(self: Endpoint, request: Any) -> Any:
        if is_urgent():
            request.headers[URGENT_HEADER] = "1"
        else:
            hold_back()
        return send(self, request)

    Endpoint._send = _send  # type: ignore[method-assign]
