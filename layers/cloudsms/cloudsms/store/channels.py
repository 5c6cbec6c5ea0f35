"""Business channels: the carrier routes the operator has contracted.

Credentials never live here: `secret_name` points at Secrets Manager. Prices are integer
micro-dollars (1 USD = 1,000,000), so that sums of many small prices stay exact.
"""

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class ChannelModel(Model):
    Meta = table_meta(get_settings().channels_table)

    route_id = UnicodeAttribute(hash_key=True)
    gateway_type = UnicodeAttribute()  # simulator | kannel | jasmin | http_json
    endpoint = UnicodeAttribute()
    secret_name = UnicodeAttribute()
    default_sender = UnicodeAttribute(null=True)
    # Segments per second the route accepts; 0 means no limit.
    throughput = NumberAttribute(default=0)
    # "mainland_china" and/or "international"; absent on channels made before directions.
    directions = UnicodeSetAttribute(null=True)
    # Micro-USD per segment: by country calling code ("63"), else the default.
    price_default = NumberAttribute(default=0)
    prices: MapAttribute[str, int] = MapAttribute(null=True)
    # Whether the gateway sends one receipt per part of a long message.
    receipts_per_part = BooleanAttribute(null=True)
    # Paused by the operator (a gateway outage or maintenance): its messages wait on the
    # queue, unclaimed, until it is resumed. Absent on channels made before pausing.
    paused = BooleanAttribute(null=True)
    # The share of its final receipts of an hour DELIVRD under which the hourly sweep
    # reports the channel (services/receipt_silence.py); 0: never. Absent: the stack's
    # channel_delivery_floor.
    delivery_floor = NumberAttribute(null=True)
    # What the carrier's receipt error codes (`err`) mean: code as written -> reason.
    error_codes: MapAttribute[str, str] = MapAttribute(null=True)
    # The generic HTTP JSON adapter's request and receipt mapping (no secrets in it).
    http_json = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(null=True)
    # Counts changes to the credentials in Secrets Manager (services/channels.py).
    credentials_version = NumberAttribute(null=True)
    # Who is changing the credentials, and until when the claim holds: Secrets Manager
    # has no conditional write, so a change is made under this claim.
    credentials_claim = UnicodeAttribute(null=True)
    credentials_claimed_until = UTCDateTimeAttribute(null=True)
