"""The Kannel adapter against a throwaway HTTP server on loopback."""

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from cloudsms.carriers.base import Submission
from cloudsms.carriers.http import OutcomeUnknown
from cloudsms.carriers.kannel import KannelGateway, kannel_dlr_url

PASSWORD = "pa$$word-7"
RECEIPT_URL = "https://api.example.test/v1/receipts/kannel?uid=msg-1&tenant=t1&sig=a%2Bb%C3%A9"


class FakeKannel:
    """Answers every request with `reply` after `delay` seconds and keeps the queries."""

    def __init__(self) -> None:
        self.reply = (202, "0: Accepted for delivery")
        self.delay = 0.0
        self.queries: list[dict[str, list[str]]] = []
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.paths.append(parts.path)
                fake.queries.append(parse_qs(parts.query, keep_blank_values=True))
                time.sleep(fake.delay)
                status, body = fake.reply
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body.encode())))
                    self.end_headers()
                    self.wfile.write(body.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: what the timeout test wants

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def last(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.queries[-1].items()}


@pytest.fixture
def fake_kannel() -> Iterator[FakeKannel]:
    fake = FakeKannel()
    # a short poll interval makes shutdown() quick
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def submission(**changes: str) -> Submission:
    values = {
        "uid": "msg-1",
        "tenant_id": "t1",
        "to": "+639215347566",
        "text": "Your code is 123456",
        "encoding": "GSM-7",
        "segments": 1,
        "sender": "CloudSMS",
        "receipt_url": RECEIPT_URL,
        **changes,
    }
    return Submission(**values)  # type: ignore[arg-type]


def gateway(url: str, **options: object) -> KannelGateway:
    return KannelGateway(url, "cloudsms", PASSWORD, **options)  # type: ignore[arg-type]


def test_submit_sends_the_message_to_the_sendsms_path(fake_kannel):
    gateway(fake_kannel.url).submit(submission())

    assert fake_kannel.paths == ["/cgi-bin/sendsms"]
    assert fake_kannel.last == {
        "username": "cloudsms",
        "password": PASSWORD,
        "from": "CloudSMS",
        "to": "+639215347566",
        "text": "Your code is 123456",
        "coding": "0",
        "charset": "UTF-8",
        "dlr-mask": "31",
        "dlr-url": kannel_dlr_url(RECEIPT_URL),
    }


def test_ucs2_text_is_sent_as_utf8_with_coding_2(fake_kannel):
    gateway(fake_kannel.url).submit(submission(text="你好, José", encoding="UCS-2"))

    assert fake_kannel.last["text"] == "你好, José"
    assert fake_kannel.last["coding"] == "2"


def test_dlr_url_arrives_decoded_with_kannel_escapes_appended(fake_kannel):
    gateway(fake_kannel.url).submit(submission())

    assert fake_kannel.last["dlr-url"] == (
        "https://api.example.test/v1/receipts/kannel?uid=msg-1&tenant=t1&sig=a%%2Bb%%C3%%A9"
        "&status=%d&answer=%A&smsc_msgid=%F&ts=%T"
    )


def test_dlr_url_without_a_query_gets_one():
    assert kannel_dlr_url("http://h/r") == "http://h/r?status=%d&answer=%A&smsc_msgid=%F&ts=%T"


def test_no_sender_leaves_from_to_kannel(fake_kannel):
    gateway(fake_kannel.url).submit(submission(sender=None))

    assert "from" not in fake_kannel.last


def test_smsc_is_sent_when_the_channel_names_one(fake_kannel):
    gateway(fake_kannel.url, smsc="operator-a").submit(submission())

    assert fake_kannel.last["smsc"] == "operator-a"


def test_accepted_message_uses_our_uid_as_carrier_message_id(fake_kannel):
    result = gateway(fake_kannel.url).submit(submission())

    assert result.accepted
    assert result.carrier_message_id == "msg-1"


def test_queued_for_later_delivery_counts_as_accepted(fake_kannel):
    fake_kannel.reply = (202, "3: Queued for later delivery")

    assert gateway(fake_kannel.url).submit(submission()).accepted


def test_authorization_failure_is_a_temporary_failure_naming_the_credentials(fake_kannel):
    # The channel's log-in, not the message: it waits on its queue until it is mended.
    fake_kannel.reply = (403, "Authorization failed for sendsms")

    result = gateway(fake_kannel.url).submit(submission())

    assert not result.accepted
    assert result.temporary
    assert result.reason == "the gateway refused the channel's credentials (HTTP 403)"


def test_an_answer_echoing_the_request_shows_neither_the_receipt_secret_nor_the_number(
    fake_kannel,
):
    # A proxy in front of Kannel repeating what it was sent: the reason is shown to the
    # tenant and logged, and the secret would let anyone forge the channel's receipts.
    secret = "Rx-4f/9+q%wz&=long-enough"
    receipt_url = f"https://receipts.test/dlr/KAN?tenant=t1&uid=msg-1&secret={quote(secret)}"
    dlr_url = quote(receipt_url, safe="")
    fake_kannel.reply = (400, f"rejected to=639215347566, dlr-url was {dlr_url}")

    result = gateway(fake_kannel.url).submit(submission(receipt_url=receipt_url))

    assert (result.accepted, result.temporary) == (False, False)
    reason = result.reason or ""
    assert secret not in reason and quote(secret, safe="") not in reason
    assert "639215347566" not in reason and "secret%3D***" in reason


def test_denied_number_is_a_permanent_refusal(fake_kannel):
    fake_kannel.reply = (400, "Number(s) has/have been denied by white- and/or black-lists.")

    result = gateway(fake_kannel.url).submit(submission())

    assert (result.accepted, result.temporary) == (False, False)


def test_service_unavailable_is_temporary(fake_kannel):
    fake_kannel.reply = (503, "Sending failed.")

    result = gateway(fake_kannel.url).submit(submission())

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "Sending failed."


@pytest.mark.parametrize(
    ("status", "body"), [(200, "what?"), (500, "Internal error"), (502, "Bad Gateway")]
)
def test_an_answer_that_does_not_say_whether_kannel_took_it_is_an_unknown_outcome(
    fake_kannel, status, body
):
    # Calling it refused would refund a message Kannel may deliver; retrying could
    # deliver it twice.
    fake_kannel.reply = (status, body)

    with pytest.raises(OutcomeUnknown, match=body):
        gateway(fake_kannel.url).submit(submission())


def test_a_read_timeout_is_an_unknown_outcome_never_a_retry(fake_kannel):
    # Kannel may have taken the message: retrying could deliver it twice.
    fake_kannel.delay = 1.0

    with pytest.raises(OutcomeUnknown) as raised:
        gateway(fake_kannel.url, timeout=0.2).submit(submission())

    assert PASSWORD not in str(raised.value)


def test_connection_refused_is_temporary_and_keeps_the_password_out_of_the_reason():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    result = gateway(f"http://127.0.0.1:{closed_port}").submit(submission())

    assert (result.accepted, result.temporary) == (False, True)
    assert PASSWORD not in (result.reason or "")
    assert "pa%24%24word" not in (result.reason or "")


def test_an_unreachable_gateway_is_named_without_the_endpoints_user_info():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    result = gateway(f"http://admin:hunter2@127.0.0.1:{closed_port}").submit(submission())

    assert result.reason == ("Kannel unreachable: ConnectionError")


def test_password_echoed_in_a_refusal_is_redacted(fake_kannel):
    fake_kannel.reply = (400, f"bad request: password={PASSWORD}")

    result = gateway(fake_kannel.url).submit(submission())

    assert PASSWORD not in (result.reason or "")


def test_gateway_repr_hides_the_password():
    assert PASSWORD not in repr(gateway("http://127.0.0.1:1"))
    assert "hunter2" not in repr(gateway("http://admin:hunter2@127.0.0.1:1"))
