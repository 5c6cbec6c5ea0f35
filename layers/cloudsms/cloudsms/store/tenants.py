"""Tenants: the enterprises that send through the platform."""

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class TenantModel(Model):
    Meta = table_meta(get_settings().tenants_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    # "HH:MM-HH:MM" in the tenant's time zone; absent: the platform's default.
    sending_window = UnicodeAttribute(null=True)
    # The business channels (route ids) this tenant's packages grant it.
    channels = UnicodeSetAttribute(default=set)
    # The channels it has ordered packages of: sending on them is charged to those
    # orders (prepaid amounts, post-paid thresholds). A channel assigned without a
    # package is not metered here.
    metered_channels = UnicodeSetAttribute(null=True)
    # The sender ids (OA) registered for it with the carriers: it may send only as one of
    # them (or as a channel's default sender). Absent: any sender id.
    sender_ids = UnicodeSetAttribute(null=True)
    # The countries (ISO 3166-1 alpha-2 region codes) the operator lets it send to, against
    # SMS pumping: bots that fill its sign-up form with premium numbers of countries it
    # has no customers in. Absent: every country.
    countries = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    # Set by the operator to cut the tenant off (services/tenants.disable_tenant).
    disabled_at = UTCDateTimeAttribute(null=True)
    # The operator's request limit for it (services/request_limit.py): requests a second
    # (0: not limited) and the burst. Absent: the stack's (TENANT_REQUEST_RATE, _BURST).
    request_rate = NumberAttribute(null=True)
    request_burst = NumberAttribute(null=True)
