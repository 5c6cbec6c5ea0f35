"""The audit trail: one entry per configuration change, who made it and when.

An entry is kept in its tenant's partition (the tenant's entries, newest first) and, by
the by-month index, in its UTC month's (everyone's, newest first, a month at a time).
Configuration changes are rare, a few a minute on a busy day: a month's partition is far
from DynamoDB's write limit of one partition. TTL removes an entry after the retention.
"""

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta

# The partition of a change that concerns no one tenant (a channel added with the
# command, a dead-letter queue redriven).
PLATFORM = "#platform"


class EntriesByMonth(GlobalSecondaryIndex["AuditEntryModel"]):
    class Meta:
        index_name = "by-month"
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class AuditEntryModel(Model):
    Meta = table_meta(get_settings().audit_table)

    tenant_id = UnicodeAttribute(hash_key=True)  # the tenant concerned, or PLATFORM
    # The UTC time to the microsecond, then random: sorts by time, unique.
    entry_id = UnicodeAttribute(range_key=True)
    month = UnicodeAttribute()  # "YYYY-MM", UTC
    at = UTCDateTimeAttribute()
    # Who: an API key's id, a portal account's name, or the command's AWS caller ARN;
    # never a key, a password or a token.
    actor = UnicodeAttribute()
    role = UnicodeAttribute(null=True)  # the key's role (API calls)
    key_id = UnicodeAttribute(null=True)
    # What: the route template ("PATCH /v1/admin/channels/{route_id}") or the command's
    # name, and what it named (path parameters, the command's positional arguments).
    # Never a body, nor an option's value: they may carry credentials.
    action = UnicodeAttribute()
    target: MapAttribute[str, str] = MapAttribute(default=dict)
    # Which fields a change gave (a PATCH's body's, a command's options): "password" says
    # the credentials were changed, "prices_usd" the prices. Names only, never values.
    fields = ListAttribute(of=UnicodeAttribute, default=list)
    request_id = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    by_month = EntriesByMonth()
