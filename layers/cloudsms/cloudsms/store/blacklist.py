"""Blacklisted numbers: a tenant's own, and the operator's platform-wide list."""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow

# The owner of the operator's list: no tenant id can take this form.
PLATFORM = "#platform"


class BlacklistModel(Model):
    Meta = table_meta(get_settings().blacklist_table)

    owner = UnicodeAttribute(hash_key=True)  # a tenant id, or PLATFORM
    number = UnicodeAttribute(range_key=True)  # E.164
    reason = UnicodeAttribute(default="")
    added_at = UTCDateTimeAttribute(default=utcnow)
