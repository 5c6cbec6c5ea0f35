"""Handlers against moto, with every resource created from template.yaml."""

import base64
import contextlib
import copy
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.dynamodb.responses import DynamoHandler
from pynamodb.connection import TableConnection
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException

from cloudsms import cache, clock
from cloudsms.carriers.base import Submission, SubmitResult
from cloudsms_local.simulator import CarrierSimulator
from cloudsms_local.streams import StreamReader
from cloudsms_local.template import LocalResources, create_resources
from tests.integration.callback_receiver import FakeCallbackReceiver

EVENTS = Path(__file__).parent.parent / "events"


# One session makes every test's resources: a new one loads each service's model again,
# about a quarter of a second a test.
_SESSION = boto3.Session()

# The emulator's state just after the first `template_resources` of this process, and
# what that call returned (see `template_resources`): each backend's contents, with the
# backend they were copied from.
_Pristine = tuple[LocalResources, dict[tuple[BackendDict, str, str], tuple[Any, dict[str, Any]]]]
_pristine: _Pristine | None = None


def template_resources() -> LocalResources:
    """The template's resources, created in the emulated account `mock_aws` has opened
    (empty, as each `mock_aws` opens it).

    Creating them through the API takes a third of a second, which was most of the time
    of most tests. So the first call of a process creates them with `create_resources`
    and keeps a copy of what the emulator then holds; each later call puts a fresh copy
    of that into the new account: the same tables, queues, buckets and schedule groups,
    empty, in a few milliseconds."""
    global _pristine
    if _pristine is None:
        resources = create_resources(
            _SESSION, api_urls={"Api": "http://api.test"}, function_url_base="http://receipts.test"
        )
        _pristine = (
            copy.deepcopy(resources),
            {
                (backends, account, region): (backend, _copied(vars(backend), backend, backend))
                for backends in BackendDict._instances
                for account, region, backend in backends.iter_backends()
            },
        )
        return resources
    resources, state = _pristine
    for (backends, account, region), (original, held) in state.items():
        # A backend is made anew, as `mock_aws` makes it, then given the copy's contents.
        fresh = backends[account][region]
        fresh.__dict__ = _copied(held, original, fresh)
    return copy.deepcopy(resources)


def _copied(state: dict[str, Any], backend: Any, to: Any) -> dict[str, Any]:
    """A deep copy of an emulator backend's state, in which what refers to `backend`
    (an SNS topic names its backend) refers to `to`. An SQS queue's lock cannot be
    copied: each copy of a queue gets a new one."""
    memo: dict[int, Any] = {
        id(queue._messages_lock): threading.Condition()
        for queue in state.get("queues", {}).values()
        if hasattr(queue, "_messages_lock")
    }
    memo[id(backend)] = to
    return copy.deepcopy(state, memo)


@pytest.fixture
def aws() -> Iterator[LocalResources]:
    """A fresh emulated account holding the template's resources."""
    with mock_aws():
        cache.clear_all()
        yield template_resources()
    cache.clear_all()


@pytest.fixture
def clock_at_an_hours_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock goes on from a second after the start of the real clock's UTC hour.

    A test that sends and then asks for "today's" figures reads the clock twice; run
    across a midnight (Asia/Shanghai's is 16:00 UTC), an hour's, a minute's or a
    15-minute window's end, the two reads fell in different days or windows."""
    real = datetime.now(UTC)
    shift = real.replace(minute=0, second=1, microsecond=0) - real
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + shift)


@pytest.fixture
def receiver() -> Iterator[FakeCallbackReceiver]:
    """A tenant's callback receiver on loopback, recording what it is posted."""
    with FakeCallbackReceiver() as fake:
        yield fake


@pytest.fixture
def registered(tenant: dict[str, str], receiver: FakeCallbackReceiver) -> str:
    """acme's callback points at the fake receiver; returns the signing secret."""
    from cloudsms.services import callbacks
    from cloudsms.services.callbacks import CallbackRegistration

    view = callbacks.register("acme", CallbackRegistration(url=receiver.url), allow_loopback=True)
    return str(view["signing_secret"])


@pytest.fixture
def tenant(aws: LocalResources) -> dict[str, str]:
    """A tenant granted the channel "SIM", which points at a gateway nothing listens on."""
    from cloudsms.services import channels, tenants

    tenants.create_tenant("acme", "Acme", "Asia/Shanghai")
    channels.add_channel("SIM", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
    channels.assign_channel("acme", "SIM")
    key = tenants.issue_key("acme")
    return {"tenant_id": "acme", "channel": "SIM", "key": key.key, "key_id": key.key_id}


# A channel with prices, for packages and orders (tests of orders and their notices).
METERED = "PH_PACK"


@pytest.fixture
def metered(tenant: dict[str, str]) -> str:
    """Channel PH_PACK, priced 0.01 USD a segment, not assigned to anyone yet."""
    from cloudsms.services import channels

    channels.add_channel(
        METERED,
        "simulator",
        "http://127.0.0.1:9",
        "sim",
        "sim",
        "CloudSMS",
        prices_usd={"default": "0.01", "by_country": {}},
    )
    return METERED


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB applies each request atomically; moto in-process checks a condition and
    writes without a lock, so two threads could both pass one condition. Serialising the
    emulator's requests gives the tests DynamoDB's guarantee, no more."""
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic)
    yield


def fail_the_second_batch_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second BatchWriteItem request fails, as DynamoDB's may once its retries are
    spent; the first is written."""
    write = TableConnection.batch_write_item
    requests: list[TableConnection] = []

    def second_fails(self: TableConnection, *args: Any, **kwargs: Any) -> dict:
        requests.append(self)
        if len(requests) == 2:
            raise PutError("Failed to batch write items: max_retry_attempts exceeded")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(TableConnection, "batch_write_item", second_fails)


class FakeContext:
    """The Lambda context a handler may read (a stand-in: no Lambda runs in tests)."""

    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_event(
    method: str,
    path: str,
    resource: str,
    tenant_id: str | None = "acme",
    body: Any = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the authorizer leaves it (from tests/events)."""
    event = json.loads((EVENTS / "api_request.json").read_text())
    event.update(
        {
            "httpMethod": method,
            "path": path,
            "resource": resource,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "pathParameters": path_parameters,
            "queryStringParameters": query,
            "body": None if body is None else json.dumps(body),
        }
    )
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["resourcePath"] = resource
    if tenant_id is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"]["tenant_id"] = tenant_id
    return event


def function_url_event(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A call to a Lambda function URL (payload format 2.0, from tests/events). Lambda
    hands a body over as text only when its type is text or JSON; anything else, a form
    too, arrives base64-encoded."""
    event = json.loads((EVENTS / "function_url_request.json").read_text())
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    text = content_type.startswith("text/") or "json" in content_type
    event.update(
        {
            "rawPath": path,
            "rawQueryString": urlencode(query or {}),
            "headers": {**event["headers"], **headers},
        }
    )
    event["requestContext"]["http"].update({"method": method, "path": path})
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body if text else base64.b64encode(body.encode()).decode()
        event["isBase64Encoded"] = not text
    return event


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


class FakeGateway:
    """A fake carrier gateway: answers each submission with the next of `results` (the last
    one repeats) and keeps every submission it was given."""

    def __init__(self, *results: SubmitResult) -> None:
        self.results = list(results)
        self.submissions: list[Submission] = []

    def submit(self, submission: Submission) -> SubmitResult:
        self.submissions.append(submission)
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]

    def factory(self, channel: Any) -> "FakeGateway":
        return self


def throttled(error: type[PynamoDBException]) -> PynamoDBException:
    """What PynamoDB raises for a write DynamoDB refused for another reason than its
    condition: no lost race, and nothing to answer the caller as one."""
    code = {"Code": "ProvisionedThroughputExceededException", "Message": "rate exceeded"}
    return error("DynamoDB refused the write", cause=ClientError({"Error": code}, "Write"))


def accepted(carrier_message_id: str = "carrier-1") -> SubmitResult:
    return SubmitResult(accepted=True, carrier_message_id=carrier_message_id)


def queue_sms(
    context: Any, to: str, channel: str = "SIM", tenant_id: str = "acme", text: str = "Hello"
) -> str:
    """Sends one business SMS through the send API and returns its uid (it is QUEUED)."""
    from functions.send import app as send_app

    body = {"to": [to], "text": text, "sms_type": "business", "channel": channel}
    event = api_event("POST", "/v1/sms", "/v1/sms", tenant_id=tenant_id, body=body)
    response = send_app.lambda_handler(event, context)
    assert response["statusCode"] == 202, response["body"]
    return json.loads(response["body"])["messages"][0]["uid"]


def submit_sms(context: Any, to: str, carrier_message_id: str = "carrier-1") -> str:
    """Sends one SMS on channel SIM and has a fake gateway accept it: it is SUBMITTED."""
    from cloudsms.services.submission import submit_queued

    uid = queue_sms(context, to)
    gateway = FakeGateway(accepted(carrier_message_id))
    submit_queued("acme", [uid], lambda: clock.now(), gateway_factory=gateway.factory)
    return uid


def message_stream() -> StreamReader:
    """A reader of the Messages table's stream from its start, as the Counters function's
    event source reads it."""
    import os

    table = boto3.client("dynamodb", region_name="us-east-1").describe_table(
        TableName=os.environ["MESSAGES_TABLE"]
    )["Table"]
    # botocore would name an account-specific streams endpoint the emulator does not know
    streams = boto3.client(
        "dynamodbstreams",
        region_name="us-east-1",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    return StreamReader(streams, table["LatestStreamArn"], batch_size=1000)


def count_changes() -> int:
    """Hands what the Messages stream holds to the Counters function, as its event source
    does in AWS moments after each change; returns how many records it handed on.

    It reads the stream from its start every time: what was counted before is delivered
    again, and the counters must not count it twice.
    """
    from functions.reports import count

    return message_stream().drain(lambda event: count.lambda_handler(event, FakeContext()))


def queue_callback_events() -> int:
    """Hands what the Messages stream holds to the CallbackEvents function, as its event
    source does in AWS moments after each change; returns how many records it handed on.
    Read from the stream's start, as count_changes is."""
    from functions.callbacks import events

    return message_stream().drain(lambda event: events.lambda_handler(event, FakeContext()))


def counters_of(scope: str, day: str) -> dict[str, int]:
    """The statistics counters of one scope and day, once every change so far is counted;
    all zero when none was ever counted."""
    from cloudsms.store.counters import COUNTER_NAMES, CounterModel

    count_changes()
    try:
        item = CounterModel.get(scope, day)
    except DoesNotExist:
        return dict.fromkeys(COUNTER_NAMES, 0)
    return {name: int(getattr(item, name)) for name in COUNTER_NAMES}


@pytest.fixture
def carrier_simulator() -> Iterator[CarrierSimulator]:
    """The carrier simulator on a free port. Its receipts are put off past the test: the
    receipt URL names a host that does not exist."""
    with CarrierSimulator(receipt_delay=3600) as simulator:
        yield simulator


@pytest.fixture
def live_channel(tenant: dict[str, str], carrier_simulator: CarrierSimulator) -> str:
    """Channel "LIVE", granted to acme, whose gateway is the running carrier simulator."""
    from cloudsms.services import channels

    channels.add_channel(
        "LIVE",
        "simulator",
        carrier_simulator.url,
        carrier_simulator.username,
        carrier_simulator.password,
        "CloudSMS",
    )
    channels.assign_channel("acme", "LIVE")
    return "LIVE"


def run_cli(*words: str) -> Any:
    """Runs the console command against this test's emulated stack; its printed answer.
    Never against a stack `make run` keeps running: the command would read its state file
    and write to its emulator."""
    from cloudsms import cli
    from cloudsms.observability import logger

    handler = logger.registered_handler
    stream = handler.stream  # type: ignore[attr-defined]  # the command moves it to stderr
    output = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(output),
            mock.patch.object(cli, "_target_local", lambda state_file: None),
        ):
            cli.main(list(words))
    finally:
        handler.setStream(stream)  # type: ignore[attr-defined]
    return json.loads(output.getvalue())


PRICED = "PH_ROUTE"  # a channel priced by country (add_priced_channel)


def add_priced_channel(*tenant_ids: str) -> None:
    """A second channel, priced by country: 0.012 USD a segment to +63, 0.0035 elsewhere,
    granted to acme and to `tenant_ids`."""
    from cloudsms.services import channels

    channels.add_channel(
        PRICED,
        "simulator",
        "http://127.0.0.1:9",
        "sim",
        "sim",
        "CloudSMS",
        prices_usd={"default": "0.0035", "by_country": {"63": "0.012"}},
    )
    for tenant_id in ("acme", *tenant_ids):
        channels.assign_channel(tenant_id, PRICED)
