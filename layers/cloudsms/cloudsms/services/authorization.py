"""Finding the API key in a request and resolving it, with a short in-memory cache."""

from collections.abc import Mapping

from cloudsms.cache import ttl_cache
from cloudsms.services.tenants import Principal, resolve_key
from cloudsms.settings import get_settings


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The key from "Authorization: Bearer <key>" or "X-API-Key: <key>"; none when the
    two headers name different keys, as it cannot be told which one the caller meant."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    scheme, _, value = lowered.get("authorization", "").partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else ""
    given = {key for key in (bearer, lowered.get("x-api-key", "").strip()) if key}
    return given.pop() if len(given) == 1 else None


@ttl_cache(get_settings().auth_cache_seconds)
def resolve_cached(key: str) -> Principal | None:
    return resolve_key(key)
