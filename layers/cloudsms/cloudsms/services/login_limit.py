"""A limit on failed log-ins per source address, beside the lock of each account.

The account lock alone lets whoever knows an account name keep it locked, and lets a
password spray try one password on many accounts for the price of one verify code each.
So every log-in refused from an address (a wrong, used or expired verify code, a wrong
name or password, a locked or disabled account) is counted in a fixed window; once an
address reaches `max_failed_logins_per_address`, its log-ins and verify-code images are
refused (429) until the window ends, before any password is checked, so that a spraying
address locks no more accounts. A right password resets nothing: a spray that finds one
account must not earn more tries.

An IPv6 address is counted by its /64, which a single host commonly holds whole.
"""

import ipaddress
import math
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from cloudsms.errors import TooManyRequests
from cloudsms.observability import logger
from cloudsms.settings import get_settings
from cloudsms.store.accounts import LoginFailuresModel


def rule() -> str:
    settings = get_settings()
    return (
        f"{settings.max_failed_logins_per_address} failed log-ins from one address in a "
        f"{settings.address_window_minutes}-minute window refuse its log-ins until the "
        "window ends"
    )


def _address(source_ip: str) -> str:
    try:
        ip = ipaddress.ip_address(source_ip)
    except ValueError:
        return source_ip or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _window(now: datetime) -> tuple[int, int]:
    """The fixed window `now` falls in: (start, end) in epoch seconds."""
    seconds = get_settings().address_window_minutes * 60
    start = int(now.timestamp()) // seconds * seconds
    return start, start + seconds


def refuse_if_over(source_ip: str, now: datetime) -> None:
    """Raises TooManyRequests when the address has used up its failures for the window."""
    start, end = _window(now)
    try:
        counted = LoginFailuresModel.get(_address(source_ip), start, consistent_read=True)
    except DoesNotExist:
        return
    if counted.failures < get_settings().max_failed_logins_per_address:
        return
    wait = max(1, math.ceil(end - now.timestamp()))
    until = datetime.fromtimestamp(end, UTC).isoformat()
    raise TooManyRequests(
        f"too many failed log-ins from this address ({rule()}): try again after {until} "
        f"(in {math.ceil(wait / 60)} minutes)",
        retry_after=wait,
    )


def count_failure(source_ip: str, now: datetime) -> None:
    """One more refused log-in from the address. An atomic add: concurrent failures are
    all counted, and the first one of a window creates its item."""
    start, end = _window(now)
    item = LoginFailuresModel(_address(source_ip), start)
    item.update(
        actions=[
            LoginFailuresModel.failures.add(1),
            LoginFailuresModel.expires_at.set(end),
        ]
    )
    if item.failures == get_settings().max_failed_logins_per_address:
        logger.warning(
            "log-ins refused from an address after failed log-ins",
            source_ip=source_ip,
            until=datetime.fromtimestamp(end, UTC).isoformat(),
        )
