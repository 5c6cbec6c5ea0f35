"""Tenant status callbacks: where a tenant wants its messages' state changes posted.

The signing secret never lives here: it is in Secrets Manager under a name that ends in
`secret_id`, a new name for every secret issued, so that two registrations racing can
never leave a tenant holding a secret other than the one its callbacks are signed with.
"""

from pynamodb.attributes import (
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class CallbackModel(Model):
    Meta = table_meta(get_settings().callbacks_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    url = UnicodeAttribute()
    secret_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    # Two registrations at once: one wins, the other is told to try again.
    version = VersionAttribute()


def secret_name(tenant_id: str, secret_id: str) -> str:
    return f"{get_settings().callback_secret_prefix}{tenant_id}/{secret_id}"
