"""The console command refuses what it cannot do in one line naming the reason, and exits
non-zero: never a traceback, whatever the arguments or however AWS answers."""

import io

import botocore.exceptions
import pytest

from cloudsms.services import channels
from tests.integration.conftest import run_cli


@pytest.fixture(autouse=True)
def emulated(aws, tenant):
    """Each test's emulated stack, with a tenant (run_cli targets it)."""


def _refusal(*words: str) -> str:
    with pytest.raises(SystemExit) as exited:
        run_cli(*words)
    message = exited.value.code
    assert isinstance(message, str)  # sys.exit with a message exits 1
    assert message.startswith("cloudsms: ")
    assert "\n" not in message
    return message


# Every command that names a stored item, with the argument that is empty or too long.
NAMING = [
    ("channel-revoke", "{}", "SIM"),
    ("channel-revoke", "acme", "{}"),
    ("channel-grant", "acme", "{}"),
    ("channel-show", "{}"),
    ("channel-pause", "{}"),
    ("channel-resume", "{}"),
    ("channel-update", "{}", "--throughput", "3"),
    ("channel-statistics", "{}"),
    ("key-revoke", "{}", "key_1"),
    ("key-revoke", "acme", "{}"),
    ("order-add", "acme", "{}"),
    ("order-cancel", "acme", "{}"),
    ("account-reset-password", "{}"),
    ("account-disable", "{}"),
    ("account-enable", "{}"),
    ("tenant-disable", "{}"),
    ("tenant-sending-window", "{}", "09:00-18:00"),
    ("account-list", "{}"),
]


@pytest.mark.parametrize("words", NAMING, ids=lambda words: " ".join(words))
def test_an_empty_name_is_refused_naming_the_argument(words):
    message = _refusal(*(word.format("") for word in words))

    assert message.endswith(" is empty")


@pytest.mark.parametrize("words", NAMING, ids=lambda words: " ".join(words))
def test_a_name_too_long_to_name_anything_is_refused(words):
    message = _refusal(*(word.format("x" * 300) for word in words))

    assert " is too long" in message


def test_a_stopped_local_stack_is_said_in_one_line(monkeypatch):
    def unreachable(self, operation, params):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", unreachable)

    assert "Could not connect to the endpoint URL" in _refusal("channel-list")
    assert "Could not connect to the endpoint URL" in _refusal("dead-letters")


def test_a_request_aws_refuses_is_said_in_one_line(monkeypatch):
    # Credentials that may not read the queues of a deployed stack, say.
    def denied(self, operation, params):
        error = {"Code": "AccessDenied", "Message": "not authorized to perform this action"}
        raise botocore.exceptions.ClientError({"Error": error}, operation)

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", denied)

    assert "not authorized to perform this action" in _refusal("dead-letters")
    assert "not authorized to perform this action" in _refusal("tenant-list")


@pytest.mark.parametrize(
    "words",
    [
        ("channel-add", "KAN2", "--type", "kannel", "--endpoint", "http://127.0.0.1:9"),
        ("channel-update", "SIM"),
    ],
    ids=["channel-add", "channel-update"],
)
@pytest.mark.parametrize("piped", ["", "\n"], ids=["nothing", "an empty line"])
def test_a_password_piped_empty_is_refused_not_stored(monkeypatch, words, piped):
    # What `echo "$UNSET" | cloudsms channel-add ... --password-stdin` pipes.
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    before = channels.read_channel("SIM")

    message = _refusal(*words, "--username", "kuser", "--password-stdin")

    assert message == "cloudsms: --password-stdin: standard input held no password"
    assert [c["route_id"] for c in channels.all_channels()] == ["SIM"]
    assert channels.read_channel("SIM") == before
