"""A small time-bounded memo for lookups a warm Lambda repeats (keys, channels)."""

import threading
import time
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_all_caches: list[dict[Any, Any]] = []

# Entries one cache holds at most. The authorizer's is keyed by whatever key a request
# shows, a stranger's made-up ones too: without a bound, a flood of them would fill the
# function's memory within the cache time.
MAX_ENTRIES = 10_000


def _one_container() -> Hashable:
    return None


# The container a lookup is remembered in (see `remember_per`): deployed, a process is
# one function's container, and every lookup it remembers is its own.
_container: Callable[[], Hashable] = _one_container


def remember_per(container: Callable[[], Hashable]) -> None:
    """Remembers each lookup only for the container `container()` names when it is made.

    The local stack and the tests run every function in one process. Sharing one memo,
    a function would be served what another function, or the tests' set-up, looked up:
    a read its own policies may not allow would never be made, and fail only deployed,
    in a new container (the schedule API's channel read did)."""
    global _container
    _container = container


def ttl_cache(
    seconds: float, refresh_ahead: float = 0.0, max_entries: int = MAX_ENTRIES
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Remembers results for `seconds`, at most `max_entries` of them (the oldest are
    forgotten first); exceptions are not remembered.

    `refresh_ahead`: a read this close to an entry's end returns it and looks it up again
    in a background thread, so that a lookup read all the time is never waited for (a
    verify code would wait for it, a few milliseconds, every time it expired).
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        entries: dict[Any, tuple[float, Any]] = {}
        refreshing: set[Any] = set()
        lock = threading.Lock()
        _all_caches.append(entries)

        def remember(key: Any, until: float, value: Any) -> None:
            """Stores an entry (under the lock) and forgets those that are over or too
            many. Stored last, as every entry lives as long, the dict stays in the order
            the entries end in: the oldest are at its front."""
            entries.pop(key, None)
            entries[key] = (until, value)
            now = time.monotonic()
            while entries and (
                len(entries) > max_entries or entries[next(iter(entries))][0] <= now
            ):
                del entries[next(iter(entries))]

        def refresh(key: Any, args: Any, kwargs: Any) -> None:
            try:
                value = function(*args, **kwargs)
                with lock:
                    remember(key, time.monotonic() + seconds, value)
            except Exception:  # noqa: BLE001, S110 - a read past the end looks it up again
                pass
            finally:
                with lock:
                    refreshing.discard(key)

        @wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (_container(), args, tuple(sorted(kwargs.items())))
            now = time.monotonic()
            ahead = False
            with lock:
                hit = entries.get(key)
                if hit is not None and hit[0] <= now:
                    hit = None  # over: looked up now, and waited for
                if hit is not None and hit[0] - now < refresh_ahead and key not in refreshing:
                    ahead = True
                    refreshing.add(key)
            if hit is not None:
                if ahead:
                    threading.Thread(target=refresh, args=(key, args, kwargs), daemon=True).start()
                return hit[1]  # type: ignore[no-any-return]
            value = function(*args, **kwargs)
            with lock:
                remember(key, now + seconds, value)
            return value

        return wrapper

    return decorate


def clear_all() -> None:
    """Forgets every remembered lookup (tests start each case from a clean slate)."""
    for entries in _all_caches:
        entries.clear()
