"""A small time-bounded memo for lookups a warm Lambda repeats (keys, channels)."""

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_all_caches: list[dict[Any, Any]] = []


def ttl_cache(seconds: float) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Remembers results for `seconds`; exceptions are not remembered."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        entries: dict[Any, tuple[float, Any]] = {}
        lock = threading.Lock()
        _all_caches.append(entries)

        @wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (args, tuple(sorted(kwargs.items())))
            now = time.monotonic()
            with lock:
                hit = entries.get(key)
            if hit and hit[0] > now:
                return hit[1]  # type: ignore[no-any-return]
            value = function(*args, **kwargs)
            with lock:
                entries[key] = (now + seconds, value)
            return value

        return wrapper

    return decorate


def clear_all() -> None:
    """Forgets every remembered lookup (tests start each case from a clean slate)."""
    for entries in _all_caches:
        entries.clear()
