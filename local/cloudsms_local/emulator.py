"""The AWS emulator of the local stack: moto's server, in a process of its own or in this one.

In a process of its own (the default) it has a core to itself, as AWS's services are not
in the caller's process either. Every function of the local stack runs in the stack's
process under one interpreter lock, and the emulator's request handling is about half
of all the CPU time of the end-to-end benchmark (5.4 of 11.2 ms a message, from /proc):
sharing the lock with it would slow every function. In this process (`in_process=True`)
its state can be read directly, which the AWS cost benchmark does to size DynamoDB items.

Either way it serves one route of its own beside AWS's APIs: the records of a table's
stream shard as JSON (`GET /_local/stream-records?table=&start=&limit=`). The local
stream event source reads them there: moto's DynamoDB Streams API answers through its
generic serializer at milliseconds a record, and Lambda's own reading of a stream is
inside AWS, unbilled, so the emulation need not go through the API.

It serves AWS's requests one at a time, and a verify code's before any other waiting
(`Turns`; why: cloudsms_local/urgency.py). A long poll (SQS ReceiveMessage) waits
inside moto for a message, so it does not take a turn; once an urgent one has received a
verify code, the next turn is kept for the requests its invocation is about to make. It
is served by waitress, which keeps connections open (`_Server`). In a process of its own
it makes its full garbage collections while idle (cloudsms_local/collector.py), and its
interpreter hands the lock over every millisecond (Python's default is 5 ms): a thread
reading a verify code's request otherwise waited up to 5 ms at a time for the thread
serving a mission's.

Run alone: python -m cloudsms_local.emulator --port N
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cloudsms_local import collector
from cloudsms_local.urgency import URGENT_HEADER

STREAM_RECORDS_PATH = "/_local/stream-records"
_URGENT_ENVIRON_KEY = "HTTP_" + URGENT_HEADER.upper().replace("-", "_")
START_TIMEOUT = 30.0


def _stream_records(query: dict[str, list[str]]) -> tuple[str, bytes]:
    from moto.dynamodb.models import dynamodb_backends

    from cloudsms_local.template import ACCOUNT_ID, REGION

    table = dynamodb_backends[ACCOUNT_ID][REGION].tables.get(query["table"][0])
    if table is None or table.stream_shard is None:
        return "404 Not Found", b'{"error": "no such table, or it has no stream"}'
    start = int(query.get("start", ["0"])[0])
    limit = int(query.get("limit", ["1000"])[0])
    shard = table.stream_shard
    records = [r.record for r in shard.items[start : start + limit]]
    body = {"shard_id": shard.id, "stream_arn": table.table_arn, "records": records}
    return "200 OK", json.dumps(body, default=_epoch).encode()


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


class Turns:
    """moto serves one request at a time, urgent ones first (see urgency.py).

    Its request threads share one interpreter lock anyway; taking turns in order lets a
    verify code's request wait for at most the one being served, instead of sharing
    the lock with every request of a draining mission. After an urgent request the next
    turn is kept for `grace` seconds for the next urgent one: a verify code makes its
    requests one after another, a millisecond or two apart, and a mission's request
    served in each gap would add its time to the verify code's."""

    def __init__(self, grace: float = 0.0) -> None:
        self.grace = grace
        lock = threading.Lock()
        # One condition for each kind of waiter, so that a turn given up wakes only the
        # request that is to have it: waking every waiting request (notify_all) cost the
        # emulator about a tenth of its time under a mission's load (py-spy).
        self._urgent_turn = threading.Condition(lock)
        self._turn = threading.Condition(lock)
        self._serving = False
        self._urgent_waiting = 0
        self._kept_until = 0.0  # the monotonic time the kept turn is given up
        self.waiting = 0  # requests waiting for their turn, urgent or not

    def _free_for_others(self) -> bool:
        return not self._serving and not self._urgent_waiting

    @contextlib.contextmanager
    def turn(self, urgent: bool) -> Iterator[None]:
        with self._turn:
            self.waiting += 1
            if urgent:
                self._urgent_waiting += 1
                self._urgent_turn.wait_for(lambda: not self._serving)
                self._urgent_waiting -= 1
            else:
                while True:
                    self._turn.wait_for(self._free_for_others)
                    kept = self._kept_until - time.monotonic()
                    if kept <= 0:
                        break
                    self._turn.wait(kept)
            self.waiting -= 1
            self._serving = True
        try:
            yield
        finally:
            with self._turn:
                self._serving = False
                if urgent:
                    self._kept_until = time.monotonic() + self.grace
                if self._urgent_waiting:
                    self._urgent_turn.notify()
                else:
                    self._turn.notify()

    def keep(self, seconds: float) -> None:
        """Keeps the next turn for an urgent request that is about to come."""
        with self._turn:
            self._kept_until = max(self._kept_until, time.monotonic() + seconds)


# After a verify code's request, how long the emulator keeps the next turn for it.
URGENT_GRACE = 0.005

# A long poll waits inside moto for a message to come: it must not hold the turn.
_WAITS_INSIDE = "AmazonSQS.ReceiveMessage"
# Once an urgent long poll has received a verify code, how long the emulator keeps the
# next turn for the requests its invocation will make (the first comes a few
# milliseconds later, once the poller has built the event and started the function).
RECEIVED_GRACE = 0.010


_FORM = "application/x-www-form-urlencoded"


class _Front:
    """moto's WSGI application, taken in turns, with the stream-records route beside it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.turns = Turns(URGENT_GRACE)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "PUT" and environ.get("CONTENT_TYPE", "").startswith(
            _FORM
        ):
            # An object PUT as a form (curl --data-binary's default type): S3 stores the
            # body as it is, but moto's web framework would read it as form fields and
            # store an empty object. No AWS API PUTs a form, so this is only ever an object.
            environ["CONTENT_TYPE"] = "application/octet-stream"
        if environ.get("HTTP_X_AMZ_TARGET") == _WAITS_INSIDE:
            return self._long_poll(environ, start_response)
        reading_stream = environ.get("PATH_INFO") == STREAM_RECORDS_PATH
        if not reading_stream:
            # The stream event sources ask five times a second, with or without changes
            # to read: counted as work, that would keep the process from ever being idle.
            collector.busy()
        with self.turns.turn(urgent=_URGENT_ENVIRON_KEY in environ):
            if not reading_stream:
                return self.app(environ, start_response)
            status, body = _stream_records(parse_qs(environ.get("QUERY_STRING", "")))
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    def _long_poll(self, environ: dict[str, Any], start_response: Any) -> Any:
        result = self.app(environ, start_response)
        if _URGENT_ENVIRON_KEY not in environ:
            return result
        try:
            body = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        # An urgent poller that received messages is about to work them: a request of a
        # mission served meanwhile would make its first request wait.
        if any(b'"MessageId"' in chunk for chunk in body):
            self.turns.keep(RECEIVED_GRACE)
        return body


# Seconds a thread may keep the interpreter lock while another waits (see the top).
SWITCH_INTERVAL = 0.001

# Threads serving requests: SQS long polls (the queue pollers', four a queue) hold one each
# while they wait, and the rest take turns anyway.
THREADS = 64
# Every function container's clients keep their own connections open.
CONNECTION_LIMIT = 2000


def _dispatcher(base: type, create_app: Any) -> Any:
    """moto's dispatcher to each service's application, remembering which service a
    host name is. moto works it out afresh for every request, listing its own package
    directory and trying some 400 URL patterns (twice for a request to 127.0.0.1):
    about a tenth of the emulator's time serving a mission, measured with py-spy."""

    class Dispatcher(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__(create_app)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backends:
                self._backends[host] = super().get_backend_for_host(host)
            return self._backends[host]

    return Dispatcher()


class _Server:
    """moto's application served by waitress rather than moto's own werkzeug server.

    Werkzeug's development server closes the connection after every response, so each
    AWS request paid for a new connection and a new thread on both sides, and under load
    a verify code's request waited several milliseconds just to be accepted and parsed
    (measured: 3-8 ms of its 18 ms p95). waitress keeps connections open, as AWS does
    for the SDKs, and serves them from a pool of threads."""

    def __init__(self, port: int) -> None:
        import waitress
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from cloudsms_local import moto_patches

        moto_patches.apply()
        # Its log would print every request's query string, which can hold numbers.
        logging.getLogger("waitress").setLevel(logging.ERROR)
        app = _Front(_dispatcher(DomainDispatcherApplication, create_backend_app))
        self._server = waitress.create_server(
            app,
            host="127.0.0.1",
            port=port,
            threads=THREADS,
            connection_limit=CONNECTION_LIMIT,
            asyncore_use_poll=True,  # select() stops at 1,024 file descriptors
            ident="moto",
        )

    def serve_forever(self) -> None:
        self._server.run()

    def shutdown(self) -> None:
        self._server.task_dispatcher.shutdown(timeout=1)
        self._server.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the AWS emulator exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the AWS emulator did not listen on port {port}")


class Emulator:
    def __init__(self, port: int, in_process: bool = False) -> None:
        self.port = port
        self.in_process = in_process
        self.url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        if self.in_process:
            self._server = _Server(self.port)
            self._thread = threading.Thread(
                target=self._server.serve_forever, daemon=True, name="aws-emulator"
            )
            self._thread.start()
        else:
            self._process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "cloudsms_local.emulator", "--port", str(self.port)]
            )
        _wait_for_port(self.port, self._process)
        return self

    def cpu_seconds(self) -> float:
        """CPU time the emulator's own process has used (0 in this process: it is in
        this process's time then). Linux only, from /proc."""
        if self._process is None:
            return 0.0
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])  # utime and stime, in clock ticks
        return (user + system) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Its garbage collections are its own to schedule: it is a process of its own.
    collector.install()
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = _Server(args.port)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches us with the stack
        server.serve_forever()


def _exit_with_parent() -> None:
    """Ends this process once the stack that started us is gone, however it ended."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)  # nothing here outlives the run: the emulator's state is in memory


if __name__ == "__main__":
    main()
