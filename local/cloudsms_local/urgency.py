"""Verify codes first, on one machine: the local stand-in for capacity of their own.

In AWS a verify code has capacity of its own all the way: the otp queue has its own
event source mapping, Lambda gives its invocations containers (and CPUs) of their own, and
DynamoDB and SQS do not slow one request down for another's load. Locally every function
shares two cores and one AWS emulator, so a 10,000-recipient mission draining would put
each verify code's requests in the same queue as the mission's, a local artefact AWS
does not have. So the local stack marks as *urgent* the work of the otp queue's pollers
(receiving, the Submit invocation, deleting) and of API requests (someone is waiting for
the answer; a verify code's `POST /v1/sms` is one):

- every AWS request of an urgent thread carries the `URGENT_HEADER`; the emulator serves
  it before the others waiting, and keeps the next turn a few milliseconds for the next
  urgent request, as it does once an otp poller's long poll has received a verify code
  (see `Turns` and `_Front` in emulator.py);
- while an otp queue batch is worked (`running`), other threads' AWS requests wait to be
  sent, and the answers to those already sent wait to be read (`hold_back`), so the
  functions' shared interpreter lock is mostly the verify code's;
- the interpreter hands its lock over every millisecond instead of every five, so that a
  thread computing does not keep an urgent one waiting long.

Nothing here changes what is sent or written, only in which order the local machine does
it. The mission is not throttled otherwise: it takes every cycle a verify code leaves.
The cost benchmark runs without it (see stack.py).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

URGENT_HEADER = "X-Cloudsms-Local-Urgent"
# How long another thread's request waits at most for urgent work to end: an urgent
# invocation takes milliseconds; if one ever hangs, the rest of the stack must not.
HOLD_BACK_LIMIT = 0.5

SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005

_local = threading.local()
_running = 0
_changed = threading.Condition()
_installed = False


@contextmanager
def marked() -> Iterator[None]:
    """Marks this thread's AWS requests as urgent while the block runs (an otp queue
    poller's, or an API request's: someone is waiting for its answer)."""
    before = is_urgent()
    _local.urgent = True
    try:
        yield
    finally:
        _local.urgent = before


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
    # A thread computing (counting a batch of stream records, say) keeps the interpreter
    # lock for up to the switch interval each time an urgent thread wants it back.
    sys.setswitchinterval(SWITCH_INTERVAL)
    from botocore.endpoint import Endpoint

    send = Endpoint._send

    def _send(self: Endpoint, request: Any) -> Any:
        if is_urgent():
            request.headers[URGENT_HEADER] = "1"
            return send(self, request)
        hold_back()
        response = send(self, request)
        hold_back()
        return response

    Endpoint._send = _send  # type: ignore[method-assign]
