"""A limit on failed log-ins per source address, beside the lock of each account.

The account lock alone lets whoever knows an account name keep it locked, and lets a
password spray try one password on many accounts for the price of one verify code each.
So every log-in refused from an address (a wrong, used or expired verify code, a wrong
name or password, a locked or disabled account) is counted in a fixed window; once an
address reaches `max_failed_logins_per_address`, its log-ins and verify-code images are
refused (429) until the window ends, before any password is checked, so that a spraying
address locks no more accounts. A log-in is counted before it is tried, and the count of
one that is not refused is taken back; a right password resets nothing else: a spray
that finds one account must not earn more tries.

An IPv6 address is counted by its /64, which a single host commonly holds whole.
"""

import ipaddress
import math
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from cloudsms.errors import TooManyRequests
from cloudsms.observability import logger
from cloudsms.settings import get_settings
from cloudsms.store.accounts import LoginFailuresModel
from cloudsms.store.base import lost_a_race


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
    start, _ = _window(now)
    try:
        counted = LoginFailuresModel.get(_address(source_ip), start, consistent_read=True)
    except DoesNotExist:
        return
    if counted.failures >= get_settings().max_failed_logins_per_address:
        raise _refusal(now)


def take_try(source_ip: str, now: datetime) -> None:
    """Counts a log-in as failed before it is tried, on condition that the address has
    failures left (else TooManyRequests): counted only after the try, log-ins sent at
    once would all pass a limit each read before any was counted, however many they
    were. A log-in that is not refused gives its count back (`give_back`)."""
    start, end = _window(now)
    item = LoginFailuresModel(_address(source_ip), start)
    limit = get_settings().max_failed_logins_per_address
    try:
        item.update(
            actions=[
                LoginFailuresModel.failures.add(1),
                LoginFailuresModel.expires_at.set(end),
            ],
            condition=LoginFailuresModel.failures.does_not_exist()
            | (LoginFailuresModel.failures < limit),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        raise _refusal(now) from error
    if item.failures == limit:
        logger.warning(
            "log-in tries from an address reached the limit of failures",
            source_ip=source_ip,
            until=datetime.fromtimestamp(end, UTC).isoformat(),
        )


def give_back(source_ip: str, now: datetime) -> None:
    """Takes back the count of a try (`take_try`) that was not refused. An atomic add, as
    the other tries of the address count meanwhile."""
    start, _ = _window(now)
    try:
        LoginFailuresModel(_address(source_ip), start).update(
            actions=[LoginFailuresModel.failures.add(-1)],
            # Not a count of -1 where time to live removed the window's item.
            condition=LoginFailuresModel.failures.exists(),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise


def _refusal(now: datetime) -> TooManyRequests:
    _, end = _window(now)
    wait = max(1, math.ceil(end - now.timestamp()))
    until = datetime.fromtimestamp(end, UTC).isoformat()
    return TooManyRequests(
        f"too many failed log-ins from this address ({rule()}): try again after {until} "
        f"(in {math.ceil(wait / 60)} minutes)",
        retry_after=wait,
    )
