"""URLs the platform is given to call: a channel's gateway endpoint (the operator's) and
a status callback URL (a tenant's). Each caller keeps its own rules on top (schemes,
credentials, which addresses); this is what every URL the platform calls must be."""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

# A host name's labels: letters, digits and hyphens, never a hyphen first or last.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_HOST_NAME_MAX = 253
_PORT_MAX = 65535
_NO_HOST = "must name its host by a host name (letters, digits, hyphens) or an IP address"


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as one stands for, in any form a resolver accepts:
    10.0.0.1, but also 10.1, 167772161, 0xa000001 or 012.0.0.1 (octal)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None  # a name


def _host_name(host: str) -> bool:
    labels = host.removesuffix(".").split(".")
    # A top-level domain is never all digits: 999.1.1.1 is neither a name nor an address.
    return (
        len(host) <= _HOST_NAME_MAX
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be called, or None: its host must be a host name or an IP
    address, its port (if given) 1 to 65535, and nothing in it a space or a control
    character.

    The characters are looked for in the URL as given: urlsplit quietly drops tabs and
    line breaks, but an HTTP client may not, and a line break in a request line starts
    a header of the caller's choosing."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must hold no spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:  # an IPv6 address whose [ is never closed
        return _NO_HOST
    host = parts.hostname or ""
    if not host or (literal_address(host) is None and not _host_name(host)):
        return _NO_HOST
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0:
        return f"must have a port from 1 to {_PORT_MAX}, if any"
    return None
