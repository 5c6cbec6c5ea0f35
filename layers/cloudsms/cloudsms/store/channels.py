"""Business channels: the carrier routes the operator has contracted.

Credentials never live here: `secret_name` points at Secrets Manager.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class ChannelModel(Model):
    Meta = table_meta(get_settings().channels_table)

    route_id = UnicodeAttribute(hash_key=True)
    gateway_type = UnicodeAttribute()  # simulator | kannel
    endpoint = UnicodeAttribute()
    secret_name = UnicodeAttribute()
    default_sender = UnicodeAttribute(null=True)
    # Segments per second the route accepts; 0 means no limit.
    throughput = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(default=utcnow)
