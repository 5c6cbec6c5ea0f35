"""KannelGateway against a real Kannel (bearerbox + smsbox + fakesmsc) on loopback."""

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

import pytest

from cloudsms.carriers.base import Receipt, Submission
from cloudsms.carriers.kannel import KannelGateway
from cloudsms.carriers.receipts import receipt_from_kannel
from cloudsms.domain.states import DrState
from cloudsms.domain.text import analyse
from cloudsms_local.kannel import KannelHarness, kannel_installed

pytestmark = pytest.mark.kannel

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-kannel.sh"
RECEIPT_TIMEOUT = 20.0


@pytest.fixture(scope="session")
def kannel(tmp_path_factory) -> Iterator[KannelHarness]:
    if not kannel_installed():
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)
    harness = KannelHarness(workdir=tmp_path_factory.mktemp("kannel"))
    with harness:
        yield harness


class ReceiptServer:
    """Stands in for the dlr webhook: keeps every callback's query."""

    def __init__(self) -> None:
        self.callbacks: list[dict[str, str]] = []
        self._changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                with server._changed:
                    server.callbacks.append({k: v[0] for k, v in query.items()})
                    server._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1/receipts/kannel"

    def wait_for_state(self, uid: str, state: DrState) -> Receipt | None:
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        with self._changed:
            while time.monotonic() < deadline:
                for callback in self.callbacks:
                    receipt = receipt_from_kannel(callback)
                    if receipt.uid == uid and receipt.state == state:
                        return receipt
                self._changed.wait(deadline - time.monotonic())
        return None


@pytest.fixture(scope="module")
def receipts() -> Iterator[ReceiptServer]:
    server = ReceiptServer()
    thread = threading.Thread(target=server.http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.http.shutdown()
    server.http.server_close()


def message(uid: str, receipts: ReceiptServer, text: str = "Your code is 123456"):
    return Submission(
        uid=uid,
        tenant_id="t1",
        to="+639215347566",
        text=text,
        encoding="GSM-7",
        segments=1,
        sender="CloudSMS",
        # a percent-encoded secret: Kannel would expand %C3 and %A9 as its own escapes
        receipt_url=f"{receipts.url}?uid={uid}&tenant=t1&secret=s%2Bcr%C3%A9t",
    )


def test_real_kannel_reports_the_message_delivered_with_our_uid(kannel, receipts):
    gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)

    result = gateway.submit(message("e2e-delivered", receipts))

    assert result.accepted, result.reason
    receipt = receipts.wait_for_state("e2e-delivered", DrState.DELIVRD)
    assert receipt is not None, f"no DELIVRD receipt; Kannel logs in {kannel.workdir}"
    assert receipt.uid == "e2e-delivered"


def test_real_kannel_acknowledges_at_the_smsc_first(kannel, receipts):
    gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)

    gateway.submit(message("e2e-ack", receipts))

    assert receipts.wait_for_state("e2e-ack", DrState.ACCEPTD) is not None


def test_real_kannel_returns_our_receipt_query_unchanged(kannel, receipts):
    gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)

    gateway.submit(message("e2e-query", receipts))

    assert receipts.wait_for_state("e2e-query", DrState.DELIVRD) is not None
    callback = next(c for c in receipts.callbacks if c.get("uid") == "e2e-query")
    assert (callback["tenant"], callback["secret"]) == ("t1", "s+crét")


def test_real_kannel_accepts_ucs2_text(kannel, receipts):
    gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)
    ucs2 = replace(message("e2e-ucs2", receipts), text="你好, José", encoding="UCS-2")

    result = gateway.submit(ucs2)

    assert result.accepted, result.reason
    assert receipts.wait_for_state("e2e-ucs2", DrState.DELIVRD) is not None
    # fakesmsc shows UCS-2 as URL-encoded UTF-16BE, with "+" for a space
    ucs2_data = [line.split(" ", 3)[3] for line in kannel.smsc_received() if " ucs-2 " in line]
    texts = [unquote_to_bytes(d.replace("+", "%20")).decode("utf-16-be") for d in ucs2_data]
    assert "你好, José" in texts


def test_real_kannel_sends_as_many_parts_as_the_message_is_counted(kannel, receipts):
    # An emoji on UCS-2 units 67 and 68: Kannel cuts the first part at 67 units regardless,
    # so the message is two parts, and charged (and its delivered parts counted) as two.
    gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)
    text = "ж" * 66 + "😀" + "ж" * 66
    info = analyse(text)
    long_ucs2 = replace(
        message("e2e-parts", receipts, text),
        to="+639215347567",
        encoding=info.encoding,
        segments=info.segments,
    )

    result = gateway.submit(long_ucs2)

    assert result.accepted, result.reason
    assert receipts.wait_for_state("e2e-parts", DrState.DELIVRD) is not None
    parts = [line for line in kannel.smsc_received() if " +639215347567 udh " in line]
    assert len(parts) == info.segments == 2


def test_real_kannel_refuses_a_wrong_password_for_now(kannel, receipts):
    gateway = KannelGateway(kannel.endpoint, kannel.username, "not-the-password")

    result = gateway.submit(message("e2e-auth", receipts))

    # The channel's credentials, not the message: it waits on its queue until mended.
    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "the gateway refused the channel's credentials (HTTP 403)"
