"""The local stack's verify-code priority (cloudsms_local/urgency.py): urgent requests
are marked and served first, other requests wait while urgent work runs."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from cloudsms_local import emulator, urgency
from cloudsms_local.emulator import Turns, _Front


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(dict(self.headers))
        body = json.dumps({"TableNames": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def dynamodb() -> Iterator[object]:
    """A DynamoDB client whose requests reach a server that keeps their headers."""
    urgency.install()
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server.shutdown()


def _in_thread(target, urgent: bool = False) -> threading.Thread:
    def run() -> None:
        with urgency.marked() if urgent else contextlib.nullcontext():
            target()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_only_the_requests_of_urgent_threads_say_so(dynamodb):
    _in_thread(dynamodb.list_tables, urgent=True).join()
    _in_thread(dynamodb.list_tables).join()

    marked = [urgency.URGENT_HEADER in headers for headers in _Recorder.seen]
    assert marked == [True, False]


def test_other_requests_wait_while_urgent_work_runs(dynamodb, monkeypatch):
    # A hold-back far longer than the wait below, so that a busy machine cannot let the
    # other request through before the check.
    monkeypatch.setattr(urgency, "HOLD_BACK_LIMIT", 5.0)
    with urgency.running():
        other = _in_thread(dynamodb.list_tables)
        time.sleep(0.2)
        assert _Recorder.seen == []
    other.join()
    assert len(_Recorder.seen) == 1


def test_an_urgent_thread_does_not_wait_for_urgent_work(dynamodb, monkeypatch):
    # Waiting, it would be held until the urgent work ends, after the check: the request
    # may take its time on a busy machine, well under the hold-back.
    monkeypatch.setattr(urgency, "HOLD_BACK_LIMIT", 10.0)
    with urgency.running():
        _in_thread(dynamodb.list_tables, urgent=True).join(timeout=5.0)
        assert len(_Recorder.seen) == 1


def _wait_until(condition) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_the_emulator_serves_a_waiting_urgent_request_before_earlier_ones():
    turns = Turns()
    served: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def request(name: str, urgent: bool, hold: threading.Event | None = None) -> None:
        with turns.turn(urgent):
            served.append(name)
            if hold is not None:
                first_in.set()
                hold.wait()

    threads = [threading.Thread(target=request, args=("first", False, release))]
    threads[0].start()
    first_in.wait()
    for name, urgent in [("mission 1", False), ("mission 2", False), ("verify code", True)]:
        thread = threading.Thread(target=request, args=(name, urgent))
        thread.start()
        threads.append(thread)
        waiting = len(threads) - 1
        _wait_until(lambda: turns.waiting == waiting)  # noqa: B023 - read at once
    release.set()
    for thread in threads:
        thread.join()

    assert served[:2] == ["first", "verify code"]
    assert sorted(served[2:]) == ["mission 1", "mission 2"]


def test_after_an_urgent_request_the_next_turn_is_kept_for_the_next_one():
    turns = Turns(grace=0.3)
    served: list[str] = []

    with turns.turn(urgent=True):
        pass
    other = threading.Thread(target=lambda: _serve(turns, served, "mission", urgent=False))
    other.start()
    _wait_until(lambda: turns.waiting == 1)
    _serve(turns, served, "verify code", urgent=True)  # within the grace: before the mission
    other.join()

    assert served == ["verify code", "mission"]


def test_a_kept_turn_is_given_up_when_no_urgent_request_comes():
    turns = Turns(grace=0.05)
    served: list[str] = []

    with turns.turn(urgent=True):
        pass
    _serve(turns, served, "mission", urgent=False)

    assert served == ["mission"]


def _serve(turns: Turns, served: list[str], name: str, urgent: bool) -> None:
    with turns.turn(urgent):
        served.append(name)


def test_an_api_request_is_urgent_only_while_it_is_served():
    assert not urgency.is_urgent()
    with urgency.marked():
        assert urgency.is_urgent()
    assert not urgency.is_urgent()


def _long_poll(front: _Front, urgent: bool, messages: bool) -> None:
    environ = {"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}
    if urgent:
        environ[emulator._URGENT_ENVIRON_KEY] = "1"
    body = b'{"Messages": [{"MessageId": "m-1", "Body": "{}"}]}' if messages else b"{}"
    front.app = lambda environ, start_response: [body]
    assert list(front(environ, lambda *args: None)) == [body]


@pytest.mark.parametrize(
    ("urgent", "messages", "kept"),
    [(True, True, True), (True, False, False), (False, True, False)],
    ids=["urgent-received", "urgent-empty", "mission-received"],
)
def test_an_urgent_poller_that_received_keeps_the_next_turn(
    monkeypatch: pytest.MonkeyPatch, urgent: bool, messages: bool, kept: bool
) -> None:
    # A grace far longer than the wait below: a machine busy for a moment between the
    # poll and the check must not make the kept turn look given up (it did, once, with
    # a grace of 0.5 s checked at 0.25 s).
    monkeypatch.setattr(emulator, "RECEIVED_GRACE", 3.0)
    front = _Front(app=None)
    served: list[str] = []

    _long_poll(front, urgent, messages)
    other = threading.Thread(target=lambda: _serve(front.turns, served, "mission", urgent=False))
    other.start()
    other.join(timeout=0.5)  # a sixth of the grace; ample for a turn not kept

    assert served == ([] if kept else ["mission"])
    other.join()
    assert served == ["mission"]


def test_every_waiting_request_is_served_one_at_a_time():
    # A turn given up wakes one waiter: none may be left waiting, urgent or not,
    # whether or not the turn was kept for an urgent request meanwhile.
    turns = Turns(grace=0.002)
    inside = 0
    most_inside = 0
    served: list[int] = []
    lock = threading.Lock()

    def request(number: int) -> None:
        nonlocal inside, most_inside
        with turns.turn(urgent=number % 3 == 0):
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.001)
            with lock:
                inside -= 1
                served.append(number)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(served) == list(range(40))
    assert most_inside == 1
