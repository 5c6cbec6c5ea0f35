"""A FAKE tenant endpoint for status callbacks, on loopback: keeps what it is POSTed and
answers with whatever status the test sets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class FakeCallbackReceiver:
    def __init__(self) -> None:
        self.status = 200
        self.location: str | None = None  # a Location header to answer with (a redirect)
        # > 0: the answer's body trickles in over this many seconds, a byte at a time
        self.trickle_seconds = 0.0
        self.received: list[Received] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.received.append(Received(body, dict(self.headers.items())))
                    receiver._changed.notify_all()
                    status = receiver.status
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                body = b"ok" * 4 if receiver.trickle_seconds else b""
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for byte in body:
                        time.sleep(receiver.trickle_seconds / len(body))
                        self.wfile.write(bytes([byte]))
                except OSError:
                    pass  # the platform hung up on it

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/callbacks"

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [r.event for r in self.received]

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """What was received once it holds `count` callbacks (or at the timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def __enter__(self) -> FakeCallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
