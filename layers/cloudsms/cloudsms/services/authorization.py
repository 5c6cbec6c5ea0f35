"""Finding the API key in a request and resolving it, with a short in-memory cache."""

from collections.abc import Mapping

from cloudsms.cache import ttl_cache
from cloudsms.services.tenants import Principal, resolve_key
from cloudsms.settings import get_settings


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The key from "Authorization: Bearer <key>" or "X-API-Key: <key>"."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    authorization = lowered.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = lowered.get("x-api-key", "").strip()
    return key or None


@ttl_cache(get_settings().auth_cache_seconds)
def resolve_cached(key: str) -> Principal | None:
    return resolve_key(key)
