"""KannelGateway -> CarrierSimulator -> a receipt server: the local default channel."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from cloudsms.carriers.base import Submission
from cloudsms.carriers.kannel import KannelGateway
from cloudsms.carriers.receipts import receipt_from_kannel
from cloudsms.domain.states import DrState
from cloudsms_local.simulator import CarrierSimulator

RECEIPT_DELAY = 0.2
SECRET = "s+cr/t é"  # percent-encoded in the receipt URL; must come back unchanged


class ReceiptServer:
    """Stands in for the dlr webhook: keeps every callback's query."""

    def __init__(self) -> None:
        self.callbacks: list[dict[str, str]] = []
        self.failures_left = 0  # answer this many callbacks with 503 first
        self._changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                with server._changed:
                    failing = server.failures_left > 0
                    server.failures_left -= failing
                    server.callbacks.append({k: v[0] for k, v in query.items()})
                    server._changed.notify_all()
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1/receipts/kannel"

    def receipt_url(self, uid: str) -> str:
        return f"{self.url}?uid={uid}&tenant=t1&secret=s%2Bcr%2Ft%20%C3%A9"

    def wait_for(self, uid: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.callbacks if c.get("uid") == uid]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._changed.wait(left)


@pytest.fixture
def receipts() -> Iterator[ReceiptServer]:
    server = ReceiptServer()
    thread = threading.Thread(target=server.http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.http.shutdown()
    server.http.server_close()


@pytest.fixture
def simulator() -> Iterator[CarrierSimulator]:
    with CarrierSimulator(receipt_delay=RECEIPT_DELAY) as running:
        yield running


@pytest.fixture
def gateway(simulator) -> KannelGateway:
    return KannelGateway(simulator.url, "sim", "sim")


def message(uid: str, to: str, receipts: ReceiptServer, text: str = "Hello from CloudSMS"):
    return Submission(
        uid=uid,
        tenant_id="t1",
        to=to,
        text=text,
        encoding="GSM-7",
        segments=1,
        sender="CloudSMS",
        receipt_url=receipts.receipt_url(uid),
    )


@pytest.mark.parametrize(
    ("to", "state"),
    [
        ("+639215347561", DrState.UNDELIV),
        ("+639215347562", DrState.EXPIRED),
        ("+639215347563", DrState.REJECTD),
        ("+639215347565", DrState.DELIVRD),
        ("+639215347569", DrState.DELIVRD),
    ],
)
def test_last_digit_chooses_the_receipt_state(gateway, receipts, to, state):
    result = gateway.submit(message("m1", to, receipts))

    [callback] = receipts.wait_for("m1")
    assert result.accepted
    assert receipt_from_kannel(callback).state == state


def test_expired_arrives_with_kannels_34_bit_mask(gateway, receipts):
    gateway.submit(message("m1", "+639215347562", receipts))

    [callback] = receipts.wait_for("m1")
    assert callback["status"] == "34"


def test_receipt_names_our_uid_and_the_simulators_message_id(gateway, simulator, receipts):
    gateway.submit(message("m1", "+639215347565", receipts))

    [callback] = receipts.wait_for("m1")
    receipt = receipt_from_kannel(callback)
    assert receipt.uid == "m1"
    assert receipt.carrier_message_id == simulator.submissions[0]["smsc_msgid"]
    assert receipt.extra["id"] == receipt.carrier_message_id
    assert receipt.done_at is not None


def test_receipt_url_query_comes_back_unchanged(gateway, receipts):
    gateway.submit(message("m1", "+639215347565", receipts))

    [callback] = receipts.wait_for("m1")
    assert callback["tenant"] == "t1"
    assert callback["secret"] == SECRET


def test_receipt_waits_for_the_receipt_delay(gateway, receipts):
    started = time.monotonic()
    gateway.submit(message("m1", "+639215347565", receipts))

    receipts.wait_for("m1")
    assert time.monotonic() - started >= RECEIPT_DELAY


def test_last_digit_4_gets_no_receipt_at_all(gateway, receipts):
    result = gateway.submit(message("m1", "+639215347564", receipts))

    assert result.accepted
    assert receipts.wait_for("m1", timeout=RECEIPT_DELAY * 3) == []


def test_last_digit_0_is_a_permanent_submit_failure(gateway, receipts):
    result = gateway.submit(message("m1", "+639215347560", receipts))

    assert (result.accepted, result.temporary) == (False, False)
    assert "denied" in (result.reason or "")
    assert receipts.wait_for("m1", timeout=RECEIPT_DELAY * 3) == []


def test_simulator_records_what_the_carrier_received(gateway, simulator, receipts):
    gateway.submit(message("m1", "+639215347565", receipts, text="你好 José"))

    [received] = simulator.submissions
    assert received["to"] == "+639215347565"
    assert received["text"] == "你好 José"
    assert received["from"] == "CloudSMS"
    assert received["coding"] == 0
    assert received["accepted"] is True


def test_wrong_password_is_refused_like_kannel(simulator, receipts):
    gateway = KannelGateway(simulator.url, "sim", "wrong")

    result = gateway.submit(message("m1", "+639215347565", receipts))

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "the gateway refused the channel's credentials (HTTP 403)"
    assert simulator.submissions == []


def test_receipt_is_retried_when_the_webhook_fails(gateway, receipts):
    receipts.failures_left = 1

    gateway.submit(message("m1", "+639215347565", receipts))

    first, second = receipts.wait_for("m1", count=2)
    assert receipt_from_kannel(second).state == DrState.DELIVRD
    assert first["answer"] == second["answer"]
