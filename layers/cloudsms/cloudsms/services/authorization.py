"""Finding the API key in a request and resolving it, keys with a short in-memory cache."""

from collections.abc import Mapping

from cloudsms.cache import ttl_cache
from cloudsms.services.tenants import Principal, resolve_key
from cloudsms.settings import get_settings
from cloudsms.store.api_keys import SESSION_TOKEN_PREFIX


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The key from "Authorization: Bearer <key>" or "X-API-Key: <key>"; none when the
    two headers name different keys, as it cannot be told which one the caller meant."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    scheme, _, value = lowered.get("authorization", "").partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else ""
    given = {key for key in (bearer, lowered.get("x-api-key", "").strip()) if key}
    return given.pop() if len(given) == 1 else None


def resolve(key: str) -> Principal | None:
    """The principal a key or a portal session's token stands for (None: none).

    An API key is remembered for `auth_cache_seconds`: a system sends with it all the
    time, and the operator revokes one rarely. A session is looked up each time (a few
    reads per portal request, at a person's pace), so that logging out, a password
    change or reset, or disabling ends it at once, as a person expects of them."""
    if key.startswith(SESSION_TOKEN_PREFIX):
        return resolve_key(key)
    return _resolve_cached(key)


@ttl_cache(get_settings().auth_cache_seconds)
def _resolve_cached(key: str) -> Principal | None:
    return resolve_key(key)
