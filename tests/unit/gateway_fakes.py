"""A throwaway HTTP server on loopback that plays a gateway in unit tests (a FAKE)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class FakeGateway:
    """Answers every request with `reply` (status, body, content type) after `delay`
    seconds, and keeps every request it was sent."""

    url: str = ""
    reply: tuple[int, str, str] = (200, "", "text/plain")
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    connections: int = 0  # TCP connections accepted

    @property
    def last(self) -> Request:
        return self.requests[-1]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # a client that gave up (a timeout under test) is expected, not an error
        pass


@contextmanager
def fake_gateway(keep_alive: bool = False) -> Iterator[FakeGateway]:
    """The fake, serving; with `keep_alive`, over HTTP/1.1 connections kept open, as
    Kannel's and most gateways' are."""
    fake = FakeGateway()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def setup(self) -> None:
            super().setup()
            fake.connections += 1

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            fake.requests.append(
                Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length),
                )
            )
            time.sleep(fake.delay)
            status, body, content_type = fake.reply
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
