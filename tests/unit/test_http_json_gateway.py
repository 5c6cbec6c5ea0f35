"""The generic HTTP JSON adapter and its receipt mapping, against a FAKE hub on loopback."""

import json
import socket
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from cloudsms.carriers.base import Submission
from cloudsms.carriers.http import OutcomeUnknown
from cloudsms.carriers.http_json import (
    HttpJsonConfig,
    HttpJsonGateway,
    ReceiptMapping,
    field_at,
    fill,
    receipt_from_json,
)
from cloudsms.domain.states import DrState
from tests.unit.gateway_fakes import FakeGateway, fake_gateway

TOKEN = "hub-token-0123456789"
RECEIPT_URL = "https://receipts.example.test/dlr/HUB?tenant=t1&uid=U1&secret=s3cret"

CONFIG = {
    "headers": {"Authorization": "Bearer {password}", "X-Account": "{username}"},
    "body": {
        "messages": [
            {
                "to": "{to_digits}",
                "from": "{sender}",
                "text": "{text}",
                "dcs": "{coding}",
                "parts": "{segments}",
                "callback": "{receipt_url}",
                "reference": "ref-{uid}",
            }
        ]
    },
    "message_id_field": "data.0.message_id",
    "success_field": "status",
    "success_values": ["ok"],
    "reason_field": "error.description",
    "receipt": {
        "id_field": "message_id",
        "status_field": "status",
        "status_map": {"delivered": "DELIVRD", "failed": "UNDELIV", "sent": "ENROUTE"},
        "error_field": "error_code",
    },
}


@pytest.fixture
def hub() -> Iterator[FakeGateway]:
    with fake_gateway() as fake:
        fake.reply = (200, json.dumps({"status": "ok", "data": [{"message_id": "M-9"}]}), "")
        yield fake


def _config(hub: FakeGateway, **changes) -> HttpJsonConfig:
    return HttpJsonConfig.model_validate({**CONFIG, "url": f"{hub.url}/api/sms", **changes})


def _gateway(hub: FakeGateway, timeout: float = 5.0, **changes) -> HttpJsonGateway:
    return HttpJsonGateway(
        "http://unused.test", "acct-7", TOKEN, _config(hub, **changes), timeout=timeout
    )


def _message(encoding: str = "GSM-7") -> Submission:
    return Submission(
        uid="U1",
        tenant_id="t1",
        to="+639215347566",
        text='Code "42"\nbye',
        encoding=encoding,
        segments=2,
        sender="CloudSMS",
        receipt_url=RECEIPT_URL,
    )


def test_the_body_template_is_filled_in_as_json_with_numbers_where_named(hub):
    _gateway(hub).submit(_message())

    request = hub.last
    assert (request.method, request.path) == ("POST", "/api/sms")
    assert json.loads(request.body) == {
        "messages": [
            {
                "to": "639215347566",
                "from": "CloudSMS",
                "text": 'Code "42"\nbye',
                "dcs": 0,
                "parts": 2,
                "callback": RECEIPT_URL,
                "reference": "ref-U1",
            }
        ]
    }


def test_headers_are_filled_in_from_the_channels_credentials(hub):
    _gateway(hub).submit(_message())

    assert hub.last.headers["Authorization"] == f"Bearer {TOKEN}"
    assert hub.last.headers["X-Account"] == "acct-7"


def test_values_filled_into_the_url_reach_the_hub_as_they_are(hub):
    # A base64 key has "+", "/" and "="; our receipt URL has "?" and "&" of its own.
    key = "k+y/Z=&more#frag"
    url = f"{hub.url}/api/{{tenant_id}}/sms?key={{password}}&callback={{receipt_url}}"
    gateway = HttpJsonGateway("http://unused.test", "acct-7", key, _config(hub, url=url))

    gateway.submit(_message())

    assert hub.last.path == "/api/t1/sms"
    assert hub.last.query == {"key": key, "callback": RECEIPT_URL}


def test_an_accepted_message_carries_the_id_found_at_the_configured_path(hub):
    result = _gateway(hub).submit(_message())

    assert (result.accepted, result.carrier_message_id) == (True, "M-9")


def test_ucs2_is_sent_with_data_coding_8(hub):
    _gateway(hub).submit(_message(encoding="UCS-2"))

    assert json.loads(hub.last.body)["messages"][0]["dcs"] == 8


def test_a_success_status_that_is_not_success_is_a_final_refusal_with_the_hubs_reason(hub):
    answer = {"status": "error", "error": {"description": "insufficient balance"}}
    hub.reply = (200, json.dumps(answer), "application/json")

    result = _gateway(hub).submit(_message())

    assert (result.accepted, result.temporary, result.reason) == (
        False,
        False,
        "insufficient balance",
    )


def test_an_accepting_answer_without_a_message_id_is_an_unknown_outcome(hub):
    # The hub may well have the message: calling it refused would refund a message
    # that is delivered, and sending it again could deliver it twice.
    hub.reply = (200, json.dumps({"status": "ok", "data": []}), "application/json")

    with pytest.raises(OutcomeUnknown, match="data.0.message_id"):
        _gateway(hub).submit(_message())


def test_an_answer_that_cannot_be_read_is_an_unknown_outcome(hub):
    hub.reply = (200, "<html>ok</html>", "text/html")

    with pytest.raises(OutcomeUnknown):
        _gateway(hub).submit(_message())


def test_a_client_error_is_final(hub):
    hub.reply = (422, json.dumps({"error": {"description": "bad number"}}), "application/json")

    result = _gateway(hub).submit(_message())

    assert (result.accepted, result.temporary, result.reason) == (False, False, "bad number")


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_and_unavailable_are_temporary(hub, status):
    hub.reply = (status, "busy", "text/plain")

    result = _gateway(hub).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_another_server_error_is_an_unknown_outcome_never_a_retry(hub, status):
    # The hub (or the one behind a proxy) may have taken the message before failing.
    hub.reply = (status, "upstream trouble", "text/plain")

    with pytest.raises(OutcomeUnknown, match="upstream trouble"):
        _gateway(hub).submit(_message())


def test_a_read_timeout_is_an_unknown_outcome(hub):
    hub.delay = 0.5

    with pytest.raises(OutcomeUnknown):
        _gateway(hub, timeout=0.05).submit(_message())


def test_a_hub_that_cannot_be_reached_is_a_temporary_failure_named_by_its_error_only():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    config = HttpJsonConfig.model_validate(
        {**CONFIG, "url": f"http://127.0.0.1:{closed_port}/api/sms?token={TOKEN}"}
    )

    result = HttpJsonGateway("http://unused.test", "acct-7", TOKEN, config).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "hub unreachable: ConnectionError"


def test_a_hub_answer_echoing_the_token_is_redacted(hub):
    hub.reply = (401, f"token {TOKEN} refused", "text/plain")

    result = _gateway(hub).submit(_message())

    assert TOKEN not in (result.reason or "")


def test_a_hub_answer_echoing_the_callback_shows_neither_its_secret_nor_the_number(hub):
    hub.reply = (400, f"bad request: to=639215347566 callback={RECEIPT_URL}", "text/plain")

    result = _gateway(hub).submit(_message())

    assert "s3cret" not in (result.reason or "")
    assert "639215347566" not in (result.reason or "")


def test_a_hub_answer_echoing_a_header_is_redacted(hub):
    hub.reply = (400, "key hub-key-written-in-the-mapping refused", "text/plain")
    headers = {"X-Api-Key": "hub-key-written-in-the-mapping"}

    result = _gateway(hub, headers=headers).submit(_message())

    assert result.reason == "key *** refused"


def test_a_hub_refusing_its_credentials_is_a_temporary_failure_without_its_words(hub):
    # The channel's token was wrong, or changed on one side before the other: the
    # message waits on its queue rather than fail for good.
    hub.reply = (401, "token for user acct refused", "text/plain")

    result = _gateway(hub).submit(_message())

    assert (result.accepted, result.temporary) == (False, True)
    assert result.reason == "the gateway refused the channel's credentials (HTTP 401)"


def test_the_gateway_shows_neither_user_info_nor_query_of_its_url(hub):
    gateway = _gateway(hub, url="https://acct:hunter2@hub.test/send?key=hunter2")

    assert "hunter2" not in repr(gateway)


def test_the_channels_endpoint_is_the_url_when_the_mapping_names_none(hub):
    config = HttpJsonConfig.model_validate(CONFIG)

    HttpJsonGateway(f"{hub.url}/v2/send", "acct", TOKEN, config).submit(_message())

    assert hub.last.path == "/v2/send"


# --- the mapping ---------------------------------------------------------------------------


def test_a_mapping_with_an_unknown_placeholder_is_refused():
    with pytest.raises(ValidationError, match="unknown placeholders: recipient"):
        HttpJsonConfig.model_validate({**CONFIG, "body": {"to": "{recipient}"}})


def test_a_status_map_naming_a_state_no_receipt_can_report_is_refused():
    receipt = {**CONFIG["receipt"], "status_map": {"x": "QUEUED"}}

    with pytest.raises(ValidationError, match="cannot report QUEUED"):
        HttpJsonConfig.model_validate({**CONFIG, "receipt": receipt})


def test_a_receipt_mapping_needs_a_status_or_a_receipt_text():
    with pytest.raises(ValidationError, match="status_field with status_map, or text_field"):
        ReceiptMapping.model_validate({"id_field": "id"})


def test_fill_leaves_text_that_names_no_placeholder_alone():
    assert fill({"a": ["{x} {uid}", 3, None]}, {"uid": "U1"}) == {"a": ["{x} U1", 3, None]}


def test_field_at_follows_dots_through_objects_and_lists():
    document = {"data": [{"id": 7}], "ok": True}

    assert (field_at(document, "data.0.id"), field_at(document, "data.1.id")) == (7, None)


# --- receipts ------------------------------------------------------------------------------

MAPPING = ReceiptMapping.model_validate(CONFIG["receipt"])


def test_a_json_receipt_is_read_through_the_status_map():
    receipt = receipt_from_json(
        {"message_id": "M-9", "status": "failed", "error_code": 1}, MAPPING, uid="U1"
    )

    assert (receipt.state, receipt.carrier_message_id, receipt.error_code, receipt.uid) == (
        DrState.UNDELIV,
        "M-9",
        "1",
        "U1",
    )


def test_a_status_outside_the_map_is_unreadable_not_unknown():
    with pytest.raises(ValueError, match="not in the channel's status map"):
        receipt_from_json({"message_id": "M-9", "status": "weird"}, MAPPING)


def test_a_receipt_text_field_is_read_as_smpp_receipt_text():
    mapping = ReceiptMapping.model_validate({"id_field": "msgid", "text_field": "dlr"})
    document = {"msgid": "M-9", "dlr": "id:M-9 sub:001 dlvrd:000 stat:EXPIRED err:027 text:x"}

    receipt = receipt_from_json(document, mapping)

    assert (receipt.state, receipt.error_code) == (DrState.EXPIRED, "027")


def test_the_hubs_echoed_reference_finds_our_uid_when_the_url_did_not_carry_it():
    mapping = ReceiptMapping.model_validate({**CONFIG["receipt"], "uid_field": "reference"})

    receipt = receipt_from_json({"status": "delivered", "reference": "U7"}, mapping)

    assert receipt.uid == "U7"


@pytest.mark.parametrize(
    "url",
    [
        "http://exa mple.com/x",
        "http://hub.test:0/send",
        "http://hub.test/x\r\nX-Evil: 1",
        "ftp://hub.test/send",
    ],
)
def test_a_mapping_url_that_cannot_be_called_is_refused(url):
    with pytest.raises(ValidationError):
        HttpJsonConfig.model_validate({**CONFIG, "url": url})


def test_a_mapping_url_is_checked_with_its_placeholders_filled():
    url = "https://hub.test/{tenant_id}/send?user={username}&key={password}"

    assert HttpJsonConfig.model_validate({**CONFIG, "url": url}).url == url
