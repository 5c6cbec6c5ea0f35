"""The Jasmin adapter against a FAKE Jasmin: a throwaway HTTP server on loopback.

There is no real Jasmin in these tests: Jasmin needs RabbitMQ and Redis running beside
it. The fake answers as Jasmin's HTTP API documents (`Success "<uuid>"`, or
`Error "<why>"` with 400, 403, 412 or 500).
"""

import socket
from collections.abc import Iterator

import pytest

from cloudsms.carriers.base import Submission
from cloudsms.carriers.http import OutcomeUnknown
from cloudsms.carriers.jasmin import JasminGateway
from tests.unit.gateway_fakes import FakeGateway, fake_gateway

PASSWORD = "jasmin-pa$$"
RECEIPT_URL = "https://receipts.example.test/dlr/JAS?tenant=t1&uid=U1&secret=s3cret"
MESSAGE_ID = "2a8f7b43-6e0c-4e7f-9a0e-1c9d4c2b8e11"


@pytest.fixture
def jasmin() -> Iterator[FakeGateway]:
    with fake_gateway() as fake:
        fake.reply = (200, f'Success "{MESSAGE_ID}"', "text/plain")
        yield fake


def _message(text: str = "Your code is 123456", encoding: str = "GSM-7") -> Submission:
    return Submission(
        uid="U1",
        tenant_id="t1",
        to="+639215347566",
        text=text,
        encoding=encoding,
        segments=1,
        sender="CloudSMS",
        receipt_url=RECEIPT_URL,
    )


def _gateway(jasmin: FakeGateway, timeout: float = 5.0) -> JasminGateway:
    return JasminGateway(jasmin.url, "cloudsms", PASSWORD, timeout=timeout)


def test_an_accepted_message_carries_jasmins_message_id(jasmin):
    result = _gateway(jasmin).submit(_message())

    assert (result.accepted, result.carrier_message_id) == (True, MESSAGE_ID)


def test_the_message_is_posted_as_a_form_to_send_with_receipts_at_both_levels(jasmin):
    _gateway(jasmin).submit(_message())

    request = jasmin.last
    assert (request.method, request.path, request.query) == ("POST", "/send", {})
    assert request.form == {
        "username": "cloudsms",
        "password": PASSWORD,
        "to": "+639215347566",
        "from": "CloudSMS",
        "coding": "0",
        "content": "Your code is 123456",
        "dlr": "yes",
        "dlr-url": RECEIPT_URL,
        "dlr-level": "3",
        "dlr-method": "POST",
    }


def test_ucs2_text_goes_as_utf16_hex_content_with_coding_8(jasmin):
    _gateway(jasmin).submit(_message("你好 José", encoding="UCS-2"))

    form = jasmin.last.form
    assert (form["coding"], "content" in form) == ("8", False)
    assert bytes.fromhex(form["hex-content"]).decode("utf-16-be") == "你好 José"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, 'Error "Mandatory argument [to] is not found."'),
        (403, 'Error "Authorization failed for username:cloudsms (Cannot set priority)"'),
        (412, 'Error "Cannot route message"'),
    ],
)
def test_a_refusal_is_final_and_carries_jasmins_reason(jasmin, status, body):
    jasmin.reply = (status, body, "text/plain")

    result = _gateway(jasmin).submit(_message())

    assert (result.accepted, result.temporary) == (False, False)
    assert result.reason == f"HTTP {status}: {body[7:-1]}"


def test_a_refused_log_in_is_temporary_and_does_not_name_the_user(jasmin):
    # Not the message's fault: it waits on its queue until the credentials are mended.
    jasmin.reply = (403, 'Error "Authentication failure for username:cloudsms"', "text/plain")

    result = _gateway(jasmin).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "the gateway refused the channel's credentials (HTTP 403)"


@pytest.mark.parametrize("status", [500, 503])
def test_jasmins_own_server_error_is_temporary(jasmin, status):
    jasmin.reply = (status, 'Error "Cannot charge submit_sm"', "text/plain")

    result = _gateway(jasmin).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)


@pytest.mark.parametrize(
    ("status", "body"), [(502, "<html>Bad Gateway</html>"), (200, "Queued, maybe")]
)
def test_an_answer_not_in_jasmins_words_is_an_unknown_outcome(jasmin, status, body):
    # A proxy's 502, or a 200 without Jasmin's Success: Jasmin may have the message.
    jasmin.reply = (status, body, "text/html")

    with pytest.raises(OutcomeUnknown):
        _gateway(jasmin).submit(_message())


def test_a_read_timeout_is_an_unknown_outcome_and_names_no_credentials(jasmin):
    jasmin.delay = 0.5

    with pytest.raises(OutcomeUnknown) as raised:
        _gateway(jasmin, timeout=0.05).submit(_message())

    assert PASSWORD not in str(raised.value)


def test_an_unreachable_gateway_is_named_without_the_endpoints_user_info():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    endpoint = f"http://admin:hunter2@127.0.0.1:{closed_port}"

    result = JasminGateway(endpoint, "cloudsms", PASSWORD).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == ("Jasmin unreachable: ConnectionError")


def test_an_answer_echoing_the_password_is_redacted(jasmin):
    jasmin.reply = (403, f'Error "bad password {PASSWORD}"', "text/plain")

    result = _gateway(jasmin).submit(_message())

    assert PASSWORD not in (result.reason or "")


def test_the_gateway_never_shows_its_password(jasmin):
    assert PASSWORD not in repr(_gateway(jasmin))
