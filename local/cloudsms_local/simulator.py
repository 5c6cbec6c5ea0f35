"""The carrier simulator: a FAKE SMS gateway, the default channel when running locally.

It sends nothing anywhere. It answers Kannel's HTTP sendsms exactly as a Kannel would
(same path, parameters and answers), so the real `KannelGateway` adapter drives it, and
it calls the dlr-url back with Kannel's escapes filled in and an SMPP receipt text in
`%A`. The outcome is chosen by the last digit of the number:

    0  refused at submit (HTTP 400, as Kannel refuses a denied number)
    1  UNDELIV       2  EXPIRED       3  REJECTD
    4  accepted, but no receipt ever comes
    any other digit  DELIVRD

Run it alone with `python -m cloudsms_local.simulator --port 13013 --receipt-delay 1`.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

import requests

log = logging.getLogger(__name__)

SENDSMS_PATH = "/cgi-bin/sendsms"
DEFAULT_SENDER = "CloudSMS"  # what a Kannel with `default-sender` set would use
SMSC_ID = "simulator"

# Kannel's answers, word for word.
ACCEPTED = (202, "0: Accepted for delivery")
AUTH_FAILED = (403, "Authorization failed for sendsms")
MISSING_RECEIVER = (400, "Missing receiver number, rejected")
DENIED_NUMBER = (400, "Number(s) has/have been denied by white- and/or black-lists.")

# Waits between attempts to call a dlr-url that does not answer, as Kannel retries too.
RECEIPT_RETRY_DELAYS = (0.5, 1.0, 2.0)
RECEIPT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Outcome:
    stat: str  # the SMPP receipt's stat
    mask: int  # Kannel's %d report value
    err: str  # the SMPP receipt's err: a GSM error code


DELIVERED = Outcome("DELIVRD", 0x01, "000")
REFUSED_DIGIT = "0"
SILENT_DIGIT = "4"
FAILURES = {
    "1": Outcome("UNDELIV", 0x02, "001"),  # unknown subscriber
    # a real Kannel reported an EXPIRED receipt as 34: "not delivered" plus bit 0x20
    "2": Outcome("EXPIRED", 0x22, "027"),  # absent subscriber
    "3": Outcome("REJECTD", 0x02, "013"),  # call barred
}


def last_digit(number: str) -> str:
    """The number's last digit; a number without digits counts as refused."""
    return re.sub(r"\D", "", number)[-1:] or REFUSED_DIGIT


def outcome_for(number: str) -> Outcome | None:
    """The receipt a number gets; None when it gets none (or is refused at submit)."""
    last = last_digit(number)
    if last in (REFUSED_DIGIT, SILENT_DIGIT):
        return None
    return FAILURES.get(last, DELIVERED)


def smpp_receipt_text(msgid: str, outcome: Outcome, submitted: datetime, text: str) -> str:
    done = datetime.now(UTC)
    dlvrd = "001" if outcome is DELIVERED else "000"
    return (
        f"id:{msgid} sub:001 dlvrd:{dlvrd} submit date:{submitted:%y%m%d%H%M%S} "
        f"done date:{done:%y%m%d%H%M%S} stat:{outcome.stat} err:{outcome.err} "
        f"text:{text[:20]}"
    )


def fill_escapes(pattern: str, values: Mapping[str, str]) -> str:
    """Kannel's dlr-url expansion: a known `%x` becomes its URL-encoded value, `%%`
    a single `%`, and an unknown escape stays as it is."""

    def expand(match: re.Match[str]) -> str:
        code = match.group(1)
        if code == "%":
            return "%"
        if code in values:
            return quote(values[code], safe="")
        return match.group(0)

    return re.sub(r"%(.)", expand, pattern, flags=re.DOTALL)


@dataclass(frozen=True)
class _PendingReceipt:
    dlr_url: str
    escapes: dict[str, str]  # all but %T and %I, which are fresh on every callback
    attempt: int = 0


class CarrierSimulator:
    """A fake Kannel on loopback: see the module docstring for the outcomes."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        receipt_delay: float = 1.0,
        username: str = "sim",
        password: str = "sim",
    ) -> None:
        self._host = host
        self.receipt_delay = receipt_delay
        self.username = username
        self.password = password
        self._server = _Server((host, port), _SendsmsHandler, self)
        self._lock = threading.Lock()
        self._submissions: list[dict[str, Any]] = []
        # receipts wait in a heap ordered by due time; one thread hands them to a pool
        self._due: list[tuple[float, int, _PendingReceipt]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition(self._lock)
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._callers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sim-receipt")
        # One HTTP session per caller thread: receipts reuse connections, as Kannel does.
        self._sessions = threading.local()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def submissions(self) -> list[dict[str, Any]]:
        """What the carrier received: to, text, from, coding, time, accepted, ..."""
        with self._lock:
            return [dict(item) for item in self._submissions]

    def start(self) -> CarrierSimulator:
        self._threads = [
            # a short poll interval makes stop() quick
            threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="sim-http", daemon=True
            ),
            threading.Thread(target=self._run_receipts, name="sim-receipts", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._wakeup.notify_all()
        if self._threads:
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._callers.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> CarrierSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- sendsms ---------------------------------------------------------------------

    def handle_sendsms(self, params: Mapping[str, str]) -> tuple[int, str]:
        """Kannel's answer to one sendsms request."""
        username = params.get("username", params.get("user"))
        password = params.get("password", params.get("pass"))
        if username != self.username or password != self.password:
            return AUTH_FAILED
        to = params.get("to", "").strip()
        if not to:
            return MISSING_RECEIVER

        refused = last_digit(to) == REFUSED_DIGIT
        now = datetime.now(UTC)
        smsc_msgid = uuid.uuid4().hex
        text = params.get("text", "")
        sender = params.get("from") or None
        dlr_url = params.get("dlr-url", "")
        dlr_mask = _int(params.get("dlr-mask"))
        with self._lock:
            self._submissions.append(
                {
                    "to": to,
                    "text": text,
                    "from": sender,
                    "coding": _int(params.get("coding")),
                    "time": now,
                    "dlr_url": dlr_url,
                    "dlr_mask": dlr_mask,
                    "accepted": not refused,
                    "smsc_msgid": None if refused else smsc_msgid,
                }
            )
        if refused:
            return DENIED_NUMBER

        outcome = outcome_for(to)
        if outcome is not None and dlr_url and dlr_mask & outcome.mask:
            receipt = smpp_receipt_text(smsc_msgid, outcome, now, text)
            escapes = {
                "d": str(outcome.mask),
                "A": receipt,
                "F": smsc_msgid,
                "p": to,
                "P": sender or DEFAULT_SENDER,
                "i": SMSC_ID,
            }
            self._schedule(time.monotonic() + self.receipt_delay, _PendingReceipt(dlr_url, escapes))
        return ACCEPTED

    # --- receipts --------------------------------------------------------------------

    def _schedule(self, due: float, receipt: _PendingReceipt) -> None:
        with self._lock:
            heapq.heappush(self._due, (due, next(self._order), receipt))
            self._wakeup.notify()

    def _run_receipts(self) -> None:
        with self._lock:
            while not self._stopping:
                if not self._due:
                    self._wakeup.wait()
                    continue
                due, _, receipt = self._due[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wakeup.wait(timeout=wait)
                    continue
                heapq.heappop(self._due)
                self._callers.submit(self._send_receipt, receipt)

    def _send_receipt(self, receipt: _PendingReceipt) -> None:
        escapes = {**receipt.escapes, "T": str(int(time.time())), "I": str(uuid.uuid4())}
        url = fill_escapes(receipt.dlr_url, escapes)
        if not hasattr(self._sessions, "http"):
            self._sessions.http = requests.Session()
            # A dlr-url is the platform's own; no proxy of the environment stands between.
            # (requests also reads the environment for proxies on every call otherwise.)
            self._sessions.http.trust_env = False
        try:
            response = self._sessions.http.get(url, timeout=RECEIPT_TIMEOUT)
            if response.status_code < 500:
                return
            problem = f"HTTP {response.status_code}"
        except requests.RequestException as error:
            problem = type(error).__name__
        if receipt.attempt >= len(RECEIPT_RETRY_DELAYS):
            log.warning("simulator: gave up on receipt to %s (%s)", urlsplit(url).path, problem)
            return
        delay = RECEIPT_RETRY_DELAYS[receipt.attempt]
        retry = _PendingReceipt(receipt.dlr_url, receipt.escapes, receipt.attempt + 1)
        self._schedule(time.monotonic() + delay, retry)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        simulator: CarrierSimulator,
    ) -> None:
        super().__init__(address, handler)
        self.simulator = simulator


class _SendsmsHandler(BaseHTTPRequestHandler):
    server_version = "Kannel/1.4.5"  # what the real smsbox says
    # Kannel keeps HTTP/1.1 connections open; a client need not connect per message.
    protocol_version = "HTTP/1.1"
    # An answer goes out as two writes (head, body); on a kept-open connection Nagle's
    # algorithm would hold the body until the client's delayed ACK, 40 ms later.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != SENDSMS_PATH:
            self._answer(404, "Unknown request.")
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        params = {name: values[0] for name, values in query.items()}
        simulator = cast(_Server, self.server).simulator
        self._answer(*simulator.handle_sendsms(params))

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # the query holds the password; keep only the path
        log.debug("simulator: %s %s", self.command, urlsplit(self.path).path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=13013)
    parser.add_argument("--receipt-delay", type=float, default=1.0)
    parser.add_argument("--username", default="sim")
    parser.add_argument("--password", default="sim")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    simulator = CarrierSimulator(
        args.host, args.port, args.receipt_delay, args.username, args.password
    ).start()
    print(f"Carrier simulator (a fake Kannel) at {simulator.url}{SENDSMS_PATH}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
