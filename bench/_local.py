"""What the benchmarks that drive the local stack share (not a benchmark itself).

`LocalRun` starts the local stack (`cloudsms_local.stack.LocalStack`: the moto server,
the API Gateway emulation, the pollers and the carrier simulator) in this process, and
drives it over HTTP as a tenant would: a mission from a number list, single verify
codes. It keeps what the benchmarks time and count:

- every function invocation, with the function, its trigger, duration and end time, and
  the outcome of each delivery receipt;
- what the functions write to stdout (their log lines and EMF metrics), counted as
  CloudWatch Logs would ingest it, not printed;
- every AWS request made in this process, with the caller: a function (during its
  invocation), the SQS event source mapping (a poller, between invocations), or the
  local emulation itself (schedule and S3-notification polling that AWS does not bill).

The carrier simulator answers every number by its last digit (see
cloudsms_local/simulator.py); the lists made here use only digits that get exactly one
final receipt, so "every message has its final receipt" is a state the run reaches.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bench import CONTENT, FAKE_CREDENTIALS

RECEIPT_DELAY = 0.2  # seconds the simulator waits before calling a receipt back
HTTP_TIMEOUT = 120.0
SIM_CHANNEL = "SIM"
# One in ten messages fails (UNDELIV, EXPIRED, REJECTD), the rest are delivered: all
# get one final receipt. 0 (refused at submit) and 4 (no receipt) are left out.
DELIVERED_DIGITS = "56789"
FAILED_DIGITS = "123"
VERIFY_TEXT = "Your verification code is 482913. It expires in 5 minutes."


def mission_number(i: int) -> str:
    digit = FAILED_DIGITS[i // 10 % 3] if i % 10 == 9 else DELIVERED_DIGITS[i % 5]
    return f"+63917{i:06d}{digit}"


def verify_number(i: int) -> str:
    return f"+63918{i:06d}5"


def number_list_csv(rows: int) -> bytes:
    """A mission's number list with the benchmarks' content variables, as CSV."""
    lines = ["Phone Number,Name,website"]
    lines += [f"{mission_number(i)},Customer {i},https://example.com/{i}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


_invocation = threading.local()
BENCH_THREAD = "bench-"  # the prefix of the benchmarks' own threads' names


def current_function() -> str | None:
    """The function whose invocation this thread is running, if any."""
    return getattr(_invocation, "function", None)


def caller() -> str:
    """Who makes an AWS request on this thread: a function, the event source mapping
    (a queue poller between invocations), the emulation, the benchmark itself, or a
    thread of a function's own (named by none of the others)."""
    function = current_function()
    if function:
        return function
    thread = threading.current_thread()
    if thread is threading.main_thread() or thread.name.startswith(BENCH_THREAD):
        return "benchmark"
    if thread.name.startswith("poll-"):
        return "sqs-event-source"
    if thread.name.startswith(("scheduler", "s3-notifications", "rate-")):
        return "local-emulation"
    # a thread a function started, such as boto3's upload_fileobj workers
    return "function-helper"


class FunctionOutput(io.TextIOBase):
    """sys.stdout while the stack runs: what a function writes during its invocation is
    counted (CloudWatch Logs bills it by the byte) and dropped; anything else passes."""

    def __init__(self, passthrough: Any) -> None:
        self.passthrough = passthrough
        self.bytes_by_function: dict[str, int] = {}
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        function = current_function()
        if function is None:
            return int(self.passthrough.write(text))
        size = len(text.encode())
        with self._lock:
            self.bytes_by_function[function] = self.bytes_by_function.get(function, 0) + size
        return len(text)

    def flush(self) -> None:
        self.passthrough.flush()


@dataclass(frozen=True)
class Run:
    """One invocation."""

    function: str
    trigger: str  # "api", "url" (a function URL), "sqs" or "other"
    duration_ms: float
    ended: float  # time.perf_counter()
    receipt_uid: str | None = None  # a delivery receipt's message
    receipt_outcome: str | None = None  # "moved", "ignored", ...


# Called before each AWS request with (caller, client, operation, params); may return a
# function that is then called with the response (None when the request failed).
AwsListener = Callable[[str, Any, str, dict[str, Any]], Callable[[Any], None] | None]
_aws_listeners: list[AwsListener] = []


def listen_to_aws(listener: AwsListener) -> None:
    """Calls `listener` around every AWS request made in this process, by any client
    (boto3's, PynamoDB's, the stack's): botocore sends every one through
    `BaseClient._make_api_call`."""
    _aws_listeners.append(listener)
    if len(_aws_listeners) > 1:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def listened(self: Any, operation: str, params: dict[str, Any]) -> Any:
        who = caller()
        afters = [listener(who, self, operation, params) for listener in _aws_listeners]
        response = None
        try:
            response = original(self, operation, params)
            return response
        finally:
            for after in afters:
                if after is not None:
                    after(response)

    BaseClient._make_api_call = listened  # type: ignore[method-assign]


class LocalRun:
    """The local stack in this process, and a tenant's HTTP client for it."""

    def __init__(
        self,
        receipt_delay: float = RECEIPT_DELAY,
        emulator_in_process: bool = False,
        one_at_a_time: bool = False,
    ):
        self.receipt_delay = receipt_delay
        self.emulator_in_process = emulator_in_process
        self.one_at_a_time = one_at_a_time
        self.runs: list[Run] = []
        self._runs_lock = threading.Lock()
        self.output = FunctionOutput(sys.stdout)
        self.http = requests.Session()

    def __enter__(self) -> LocalRun:
        assert not any(name.startswith("cloudsms.") for name in sys.modules), "imported too early"
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        # The Powertools logger keeps the stream it was made with: swap it in first.
        sys.stdout = self.output
        from cloudsms_local.stack import LocalStack

        self.stack = LocalStack(
            port=0,
            receipt_delay=self.receipt_delay,
            quiet=True,
            emulator_in_process=self.emulator_in_process,
            one_at_a_time=self.one_at_a_time,
        ).start()
        self.api_url = self.stack.state["api_url"]
        self.http.headers["Authorization"] = f"Bearer {self.stack.state['api_key']}"
        self._watch_invocations()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stack.stop()
        sys.stdout = self.output.passthrough

    def _watch_invocations(self) -> None:
        from cloudsms_local.lambda_runtime import last_duration_ms

        lambdas = self.stack.lambdas
        invoke = lambdas.invoke
        triggers = {route.function: "api" for route in self.stack.resources.routes}
        triggers.update({f: "url" for f in self.stack.resources.function_urls.values()})
        triggers.update({s.function: "sqs" for s in self.stack.resources.queue_sources})
        triggers.update({f: "api" for f in self.stack.resources.authorizers.values()})

        def watched(function: str, event: dict[str, Any]) -> Any:
            _invocation.function = function
            result = None
            try:
                result = invoke(function, event)
                return result
            finally:
                _invocation.function = None
                ended = time.perf_counter()
                # The handler's own run: waiting for a container or a turn is not billed.
                duration_ms = last_duration_ms()
                uid = outcome = None
                if function == "DlrWebhookFunction":
                    uid = (event.get("queryStringParameters") or {}).get("uid")
                    outcome = result.get("body") if isinstance(result, dict) else "failed"
                run = Run(
                    function,
                    triggers.get(function, "other"),
                    duration_ms,
                    ended,
                    uid,
                    outcome,
                )
                with self._runs_lock:
                    self.runs.append(run)

        lambdas.invoke = watched  # type: ignore[method-assign]

    # --- a tenant's calls -------------------------------------------------------------

    def create_mission(self, rows: int, name: str = "bench") -> dict[str, Any]:
        """A mission from a number list of `rows` rows, sent on submit (201 expected)."""
        response = self.http.post(
            f"{self.api_url}/v1/missions",
            data={
                "name": name,
                "direction": "international",
                "sms_type": "business",
                "channel": SIM_CHANNEL,
                "content": CONTENT,
            },
            files={"number_list": ("numbers.csv", number_list_csv(rows), "text/csv")},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code != 201:
            raise RuntimeError(f"mission refused: {response.status_code} {response.text[:500]}")
        return dict(response.json())

    def mission(self, mission_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.api_url}/v1/missions/{mission_id}", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return dict(response.json())

    def send_verify_code(self, to: str) -> float:
        """POST /v1/sms with one verify code; returns the time.time() it was accepted."""
        response = self.http.post(
            f"{self.api_url}/v1/sms",
            json={"to": [to], "text": VERIFY_TEXT, "sms_type": "verify_code", "channel": "SIM"},
            timeout=HTTP_TIMEOUT,
        )
        accepted = time.time()
        if response.status_code != 202:
            raise RuntimeError(f"verify code refused: {response.status_code} {response.text}")
        return accepted

    # --- what happened ------------------------------------------------------------------

    def wait_for_receipts(self, uid_prefix: str, count: int, timeout: float) -> float:
        """Waits until `count` messages whose UID starts with the prefix (a mission's: its
        id) have their final receipt; returns the time.perf_counter() at which the last
        one was recorded. It reads only the invocations recorded since its last look:
        it runs in the stack's process, and rereading every one each time took a few
        per cent of that process's time by the end of a mission."""
        deadline = time.monotonic() + timeout
        done: list[Run] = []
        read = 0
        while True:
            with self._runs_lock:
                new, read = self.runs[read:], len(self.runs)
            done += [
                r
                for r in new
                if r.receipt_outcome == "moved" and (r.receipt_uid or "").startswith(uid_prefix)
            ]
            if len(done) >= count:
                return max(r.ended for r in done)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)} of {count} final receipts in {timeout:.0f} s")
            time.sleep(0.2)

    def wait_until_counted(self, mission_id: str, count: int, timeout: float) -> float:
        """Waits until the mission's statistics (kept from the Messages stream, moments
        behind the receipts) show `count` final messages; returns the time.perf_counter()
        at which they first did."""
        deadline = time.monotonic() + timeout
        while True:
            progress = self.mission(mission_id)["progress"]
            if progress["delivered"] + progress["failed"] + progress["no_notification"] >= count:
                return time.perf_counter()
            if time.monotonic() > deadline:
                raise TimeoutError(f"statistics still show {progress} after {timeout:.0f} s")
            time.sleep(0.25)

    def submissions(self) -> list[dict[str, Any]]:
        """What the carrier simulator was handed: to, time, ..."""
        return self.stack.simulator.submissions
