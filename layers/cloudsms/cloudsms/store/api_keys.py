"""API keys, stored only as a hash: the key itself is shown once, at creation.

A portal session is a key too, of kind "session": issued at log-in to an account, it
expires after `session_hours`.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow

KEY = "key"
SESSION = "session"
# What a session's token begins with, and no API key does.
SESSION_TOKEN_PREFIX = "css_"


class KeysByTenant(GlobalSecondaryIndex["ApiKeyModel"]):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyModel(Model):
    Meta = table_meta(get_settings().api_keys_table)

    # The authorizer knows only the key, so the hash is the key; the tenant is what it
    # resolves to, and the by-tenant index lists a tenant's keys.
    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()  # public, shown in listings and used to revoke
    tenant_id = UnicodeAttribute()
    # "tenant" or "operator"; a session's "tenant", or "password_change" while its
    # account has a temporary password (services/accounts.py).
    role = UnicodeAttribute()
    name = UnicodeAttribute(default="")  # a session's: the account that logged in
    kind = UnicodeAttribute(default=KEY)
    created_at = UTCDateTimeAttribute(default=utcnow)
    revoked_at = UTCDateTimeAttribute(null=True)
    # Sessions only: epoch seconds after which it is refused, and TTL removes it.
    expires_at = NumberAttribute(null=True)
    # Sessions only: its account's sessions_ended_at when it was opened (store/accounts.py).
    sessions_ended_at = UTCDateTimeAttribute(null=True)

    by_tenant = KeysByTenant()
