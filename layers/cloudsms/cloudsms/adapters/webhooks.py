"""HTTP POSTs to tenants' own endpoints (status callbacks)."""

import ipaddress
import socket

import requests

_session = requests.Session()


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str | None:
    """POSTs `body`; None when the receiver took it (2xx), else what went wrong.

    Redirects are not followed: a receiver moves by registering its new URL.
    """
    try:
        response = _session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as error:
        # the exception text holds the URL, which may carry the tenant's own token
        return f"unreachable: {type(error).__name__}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """What a host name resolves to now (empty when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0]) for info in found]
