"""HTTP POSTs to tenants' own endpoints (status callbacks)."""

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

import certifi
import urllib3

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Connections are kept per destination, as a requests session keeps them; a few hundred
# destinations at most, the oldest closed first.
MAX_POOLS = 256
_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}


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
        else:
            pool = urllib3.HTTPConnectionPool(str(address), port)
        _pools[key] = pool
    return pool


def addresses(host: str) -> list[Address]:
    """What a host name resolves to now (empty when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0]) for info in found]
