"""HTTP POSTs to tenants' own endpoints (status callbacks)."""

import contextlib
import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import SplitResult, urlsplit

import certifi
import urllib3

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Connections are kept per destination, as a requests session keeps them; a few hundred
# destinations at most, the oldest closed first.
MAX_POOLS = 256
_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}


class _AnswerDeadline:
    """A connection that gives the receiver its timeout for the whole answer.

    urllib3's read timeout bounds each read from the socket, not the answer: a receiver
    sending a byte every few seconds would hold the POST for as long as it liked, past
    Lambda's timeout, which then fails the whole batch of events (each posted again after
    the queue's visibility timeout, the rest tried only then). When the answer is not in
    by the timeout, the connection is shut, and the read in progress ends at once.
    """

    sock: socket.socket | None
    timeout: Any  # the read timeout, which urllib3 sets just before this is called

    def getresponse(self) -> Any:
        if not isinstance(self.timeout, int | float):
            return super().getresponse()  # type: ignore[misc]
        # Held here: http.client lets go of it when the answer says it closes the connection.
        sock = self.sock
        lock = threading.Lock()
        answered = False

        def cut_off() -> None:
            with lock:
                if not answered and sock is not None:
                    with contextlib.suppress(OSError):  # closed meanwhile: nothing to cut
                        sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(self.timeout, cut_off)
        watchdog.daemon = True
        watchdog.start()
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            with lock:
                answered = True
            watchdog.cancel()


class _HTTPConnection(_AnswerDeadline, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_AnswerDeadline, urllib3.connection.HTTPSConnection):
    pass


def post(
    url: str, address: Address, body: bytes, headers: dict[str, str], timeout: float
) -> str | None:
    """POSTs `body` to the URL's host at `address`; None when the receiver took it (2xx),
    else what went wrong.

    The connection goes to the address the caller checked, not to the host name resolved
    again: a name can be made to resolve to a public address for the check and to a
    private one a moment later (DNS rebinding). The Host header and TLS (the server's
    name and its certificate) still use the host name. Redirects are not followed: a
    receiver moves by registering its new URL.
    """
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = _pool(parts, address).urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(timeout),
        )
    except urllib3.exceptions.HTTPError as error:
        # the exception text holds the URL, which may carry the tenant's own token
        return f"unreachable: {type(error).__name__}"
    if 200 <= response.status < 300:
        return None
    return f"HTTP {response.status}"


def _pool(parts: SplitResult, address: Address) -> urllib3.HTTPConnectionPool:
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    key = (parts.scheme, str(address), port, host)
    pool = _pools.get(key)
    if pool is None:
        if len(_pools) >= MAX_POOLS:
            _pools.pop(next(iter(_pools))).close()
        if https:
            pool = urllib3.HTTPSConnectionPool(
                str(address),
                port,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )
            pool.ConnectionCls = _HTTPSConnection
        else:
            pool = urllib3.HTTPConnectionPool(str(address), port)
            pool.ConnectionCls = _HTTPConnection
        _pools[key] = pool
    return pool


def addresses(host: str) -> list[Address]:
    """What a host name resolves to now (empty when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0]) for info in found]
